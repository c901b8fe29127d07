//! The assembled service over HTTP on a real PostgreSQL database: the wiring works end
//! to end, and start-up brings an empty database to the current schema.

// Tests panic on purpose when something is wrong.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use common::TestApp;
use serde_json::{json, Value};
use ticketing_postgres::test_db::TestDatabase;

async fn spawn_app(database: TestDatabase, ttl_seconds: u32) -> TestApp {
    TestApp::spawn(
        database,
        &[("RESERVATION_TTL_SECONDS", &ttl_seconds.to_string())],
    )
    .await
}

/// Places a hold on ticket `id` and checks it was answered 201 TENTATIVE.
async fn hold(app: &TestApp, id: i64) -> Value {
    let (status, held) = app
        .post(&format!("/api/tickets/{id}/reservation"), None)
        .await;
    assert_eq!(
        (status, held["reservation_status"].as_str()),
        (201, Some("TENTATIVE")),
        "{held}"
    );
    held
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

    let held = hold(&app, id).await;
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
    hold(&app, id).await;

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
    hold(&app, id).await;
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
