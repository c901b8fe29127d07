//! The assembled service over HTTP on a real PostgreSQL database: the wiring works end
//! to end, and start-up brings an empty database to the current schema.

// Tests panic on purpose when something is wrong.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::collections::HashMap;
use std::path::PathBuf;

use serde_json::{json, Value};
use ticketing_app::settings::{Settings, SettingsSource};
use ticketing_app::startup::Application;
use ticketing_postgres::test_db::TestDatabase;

/// A running application on a free port, over its own database.
struct TestApp {
    address: String,
    client: awc::Client,
    server: actix_web::dev::ServerHandle,
    _database: TestDatabase,
}

fn settings(database_url: &str, ttl_seconds: u32) -> Settings {
    let env = HashMap::from([
        ("DATABASE_URL".to_owned(), database_url.to_owned()),
        ("PORT".to_owned(), "0".to_owned()),
        (
            "RESERVATION_TTL_SECONDS".to_owned(),
            ttl_seconds.to_string(),
        ),
        ("APP__SERVER__WORKERS".to_owned(), "2".to_owned()),
    ]);
    Settings::load(&SettingsSource {
        config_dir: PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../config"),
        env,
    })
    .unwrap()
}

async fn spawn_app(database: TestDatabase, ttl_seconds: u32) -> TestApp {
    let application = Application::build(&settings(database.url(), ttl_seconds))
        .await
        .unwrap();
    let address = format!("http://127.0.0.1:{}", application.port());
    let server = application.handle();
    actix_web::rt::spawn(application.run_until_stopped());
    TestApp {
        address,
        client: awc::Client::default(),
        server,
        _database: database,
    }
}

impl TestApp {
    /// Stops the server and closes its connections. A server left running when the test
    /// process exits races libpq's (OpenSSL's) exit-time cleanup and can crash it.
    async fn stop(self) {
        self.server.stop(true).await;
    }

    async fn post(&self, path: &str, body: Option<Value>) -> (u16, Value) {
        let request = self.client.post(format!("{}{path}", self.address));
        let mut response = match body {
            Some(body) => request.send_json(&body).await.unwrap(),
            None => request.send().await.unwrap(),
        };
        let json = response.json::<Value>().await.unwrap();
        (response.status().as_u16(), json)
    }

    async fn get(&self, path: &str) -> (u16, Value) {
        let mut response = self
            .client
            .get(format!("{}{path}", self.address))
            .send()
            .await
            .unwrap();
        let json = response.json::<Value>().await.unwrap();
        (response.status().as_u16(), json)
    }
}

#[actix_web::test]
async fn a_ticket_is_created_held_and_sold_over_http() {
    let app = spawn_app(TestDatabase::new(), 60).await;

    let (status, body) = app.get("/api/health").await;
    assert_eq!((status, body["status"].as_str()), (200, Some("ok")));

    let (status, ticket) = app
        .post(
            "/api/tickets",
            Some(json!({"event_name": "Opening Night", "seat": "A-12"})),
        )
        .await;
    assert_eq!(status, 201, "{ticket}");
    let id = ticket["id"].as_i64().unwrap();

    let (status, held) = app
        .post(&format!("/api/tickets/{id}/reservation"), None)
        .await;
    assert_eq!(
        (status, held["reservation_status"].as_str()),
        (201, Some("TENTATIVE"))
    );
    let (status, refused) = app
        .post(&format!("/api/tickets/{id}/reservation"), None)
        .await;
    assert_eq!(status, 409);
    assert_eq!(refused["error_code"], "RESERVATION_ALREADY_ACTIVE");
    assert_eq!(
        refused["details"]["expires_at"],
        held["reservation_expires_at"]
    );

    let (status, sold) = app.post(&format!("/api/tickets/{id}/confirm"), None).await;
    assert_eq!(
        (status, sold["reservation_status"].as_str()),
        (200, Some("CONFIRMED"))
    );
    let (status, again) = app.post(&format!("/api/tickets/{id}/confirm"), None).await;
    assert_eq!(status, 200);
    assert_eq!(
        again["reservation_confirmed_at"],
        sold["reservation_confirmed_at"]
    );

    let (status, stored) = app.get(&format!("/api/tickets/{id}")).await;
    assert_eq!(status, 200);
    assert_eq!(stored, sold);
    app.stop().await;
}

#[actix_web::test]
async fn a_lapsed_hold_is_refused_at_confirm_and_can_be_held_again() {
    let app = spawn_app(TestDatabase::new(), 1).await;
    let (_, ticket) = app
        .post("/api/tickets", Some(json!({"event_name": "Matinee"})))
        .await;
    let id = ticket["id"].as_i64().unwrap();
    app.post(&format!("/api/tickets/{id}/reservation"), None)
        .await;

    actix_web::rt::time::sleep(std::time::Duration::from_millis(1_100)).await;
    let (status, seen) = app.get(&format!("/api/tickets/{id}")).await;
    assert_eq!(
        (status, seen["reservation_status"].as_str()),
        (200, Some("EXPIRED"))
    );
    let (status, refused) = app.post(&format!("/api/tickets/{id}/confirm"), None).await;
    assert_eq!(
        (status, refused["error_code"].as_str()),
        (409, Some("RESERVATION_EXPIRED"))
    );
    let (status, held) = app
        .post(&format!("/api/tickets/{id}/reservation"), None)
        .await;
    assert_eq!(
        (status, held["reservation_status"].as_str()),
        (201, Some("TENTATIVE"))
    );
    app.stop().await;
}

#[actix_web::test]
async fn start_up_migrates_an_empty_database() {
    let database = TestDatabase::empty();
    let pool = database.pool();
    let app = spawn_app(database, 60).await;
    let (status, _) = app
        .post("/api/tickets", Some(json!({"event_name": "Fresh"})))
        .await;
    assert_eq!(status, 201);
    // Applying them again finds nothing to do.
    assert_eq!(
        ticketing_postgres::run_migrations(&pool).unwrap(),
        Vec::<String>::new()
    );
    app.stop().await;
}
