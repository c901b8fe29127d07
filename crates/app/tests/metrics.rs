//! `GET /metrics` of the assembled service over a real database. This test binary is its
//! own process, so the process-wide recorder holds exactly what these requests did.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::collections::HashMap;
use std::path::PathBuf;
use std::time::Duration;

use serde_json::json;
use ticketing_app::settings::{Settings, SettingsSource};
use ticketing_app::startup::Application;
use ticketing_postgres::test_db::TestDatabase;

struct TestApp {
    address: String,
    client: awc::Client,
    server: actix_web::dev::ServerHandle,
    _database: TestDatabase,
}

async fn spawn_app(ttl_seconds: u32, sweep_interval_seconds: u32) -> TestApp {
    let database = TestDatabase::new();
    let env = HashMap::from([
        ("DATABASE_URL".to_owned(), database.url().to_owned()),
        ("PORT".to_owned(), "0".to_owned()),
        (
            "RESERVATION_TTL_SECONDS".to_owned(),
            ttl_seconds.to_string(),
        ),
        (
            "APP__RESERVATION__SWEEP_INTERVAL_SECONDS".to_owned(),
            sweep_interval_seconds.to_string(),
        ),
        ("APP__SERVER__WORKERS".to_owned(), "2".to_owned()),
        ("APP__DATABASE__POOL_MAX_SIZE".to_owned(), "7".to_owned()),
    ]);
    let settings = Settings::load(&SettingsSource {
        config_dir: PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../config"),
        env,
    })
    .unwrap();
    let application = Application::build(&settings).await.unwrap();
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
    async fn post(&self, path: &str) -> u16 {
        let mut request = self.client.post(format!("{}{path}", self.address));
        if path == "/api/tickets" {
            request = request.content_type("application/json");
            let response = request
                .send_body(json!({"event_name": "Gala"}).to_string())
                .await
                .unwrap();
            return response.status().as_u16();
        }
        request.send().await.unwrap().status().as_u16()
    }

    async fn metrics(&self) -> String {
        let mut response = self
            .client
            .get(format!("{}/metrics", self.address))
            .send()
            .await
            .unwrap();
        assert_eq!(response.status().as_u16(), 200);
        assert!(response.headers().contains_key("x-request-id"));
        String::from_utf8(response.body().await.unwrap().to_vec()).unwrap()
    }

    async fn stop(self) {
        self.server.stop(true).await;
    }
}

fn sample(rendered: &str, series: &str) -> Option<f64> {
    rendered.lines().find_map(|line| {
        let (name, value) = line.rsplit_once(' ')?;
        (name == series).then(|| value.parse().unwrap())
    })
}

#[actix_web::test]
async fn metrics_count_reservations_requests_sweeps_and_show_the_pool() {
    // Sweeper off: only requests change reservations.
    let app = spawn_app(1, 0).await;
    assert_eq!(app.post("/api/tickets").await, 201);
    assert_eq!(app.post("/api/tickets/1/reservation").await, 201);
    assert_eq!(app.post("/api/tickets/1/confirm").await, 200);
    assert_eq!(app.post("/api/tickets/1/confirm").await, 200);
    let rendered = app.metrics().await;
    assert_eq!(
        sample(&rendered, "reservations_created_total"),
        Some(1.0),
        "{rendered}"
    );
    assert_eq!(
        sample(&rendered, "reservations_confirmed_total"),
        Some(1.0),
        "{rendered}"
    );
    assert_eq!(
        sample(
            &rendered,
            r#"http_requests_total{method="POST",route="/api/tickets/{id}/confirm",status="200"}"#
        ),
        Some(2.0),
        "{rendered}"
    );
    assert!(
        rendered.contains("# TYPE http_request_duration_seconds histogram"),
        "{rendered}"
    );
    assert!(
        rendered.contains(
            r#"http_request_duration_seconds_bucket{method="POST",route="/api/tickets/{id}/confirm",le="0.005"}"#
        ),
        "{rendered}"
    );
    assert_eq!(
        sample(&rendered, "db_pool_max_connections"),
        Some(7.0),
        "{rendered}"
    );
    let in_use = sample(&rendered, r#"db_pool_connections{state="in_use"}"#).unwrap();
    let idle = sample(&rendered, r#"db_pool_connections{state="idle"}"#).unwrap();
    assert!(in_use + idle >= 1.0 && in_use + idle <= 7.0, "{rendered}");

    // A confirm that finds the hold lapsed records the expiry and counts it.
    assert_eq!(app.post("/api/tickets").await, 201);
    assert_eq!(app.post("/api/tickets/2/reservation").await, 201);
    actix_web::rt::time::sleep(Duration::from_millis(1_100)).await;
    assert_eq!(app.post("/api/tickets/2/confirm").await, 409);
    assert_eq!(app.post("/api/tickets/2/confirm").await, 409);
    let rendered = app.metrics().await;
    assert_eq!(
        sample(&rendered, r#"reservations_expired_total{by="confirm"}"#),
        Some(1.0),
        "{rendered}"
    );
    app.stop().await;

    // The sweeper counts its runs and what it expired.
    let app = spawn_app(1, 1).await;
    assert_eq!(app.post("/api/tickets").await, 201);
    assert_eq!(app.post("/api/tickets/1/reservation").await, 201);
    let deadline = std::time::Instant::now() + Duration::from_secs(10);
    loop {
        let rendered = app.metrics().await;
        let swept = sample(&rendered, r#"reservations_expired_total{by="sweeper"}"#);
        if swept == Some(1.0) {
            assert!(
                sample(&rendered, r#"sweeper_runs_total{outcome="ok"}"#).unwrap() >= 1.0,
                "{rendered}"
            );
            break;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "no sweep counted: {rendered}"
        );
        actix_web::rt::time::sleep(Duration::from_millis(200)).await;
    }
    app.stop().await;
}
