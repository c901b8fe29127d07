//! `GET /metrics` of the assembled service over a real database. This test binary is its
//! own process, so the process-wide recorder holds exactly what these requests did.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::time::Duration;

use common::{sample, TestApp};
use serde_json::json;
use ticketing_postgres::test_db::TestDatabase;

async fn spawn_app(ttl_seconds: u32, sweep_interval_seconds: u32) -> TestApp {
    TestApp::spawn(
        TestDatabase::new(),
        &[
            ("RESERVATION_TTL_SECONDS", &ttl_seconds.to_string()),
            (
                "APP__RESERVATION__SWEEP_INTERVAL_SECONDS",
                &sweep_interval_seconds.to_string(),
            ),
            ("APP__DATABASE__POOL_MAX_SIZE", "7"),
        ],
    )
    .await
}

/// Creates a ticket for the gala; answers the status.
async fn create_ticket(app: &TestApp) -> u16 {
    app.post("/api/tickets", Some(json!({"event_name": "Gala"})))
        .await
        .0
}

/// POSTs `path` without a body; answers the status.
async fn post(app: &TestApp, path: &str) -> u16 {
    app.post(path, None).await.0
}

/// `GET /metrics`: answered 200 with a request id; the rendering.
async fn metrics(app: &TestApp) -> String {
    let mut response = awc::Client::default()
        .get(format!("{}/metrics", app.address()))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status().as_u16(), 200);
    assert!(response.headers().contains_key("x-request-id"));
    String::from_utf8(response.body().await.unwrap().to_vec()).unwrap()
}

#[actix_web::test]
async fn metrics_count_reservations_requests_sweeps_and_show_the_pool() {
    // Sweeper off: only requests change reservations.
    let app = spawn_app(1, 0).await;
    assert_eq!(create_ticket(&app).await, 201);
    assert_eq!(post(&app, "/api/tickets/1/reservation").await, 201);
    assert_eq!(post(&app, "/api/tickets/1/confirm").await, 200);
    assert_eq!(post(&app, "/api/tickets/1/confirm").await, 200);
    let rendered = metrics(&app).await;
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
    assert_eq!(create_ticket(&app).await, 201);
    assert_eq!(post(&app, "/api/tickets/2/reservation").await, 201);
    actix_web::rt::time::sleep(Duration::from_millis(1_100)).await;
    assert_eq!(post(&app, "/api/tickets/2/confirm").await, 409);
    assert_eq!(post(&app, "/api/tickets/2/confirm").await, 409);
    let rendered = metrics(&app).await;
    assert_eq!(
        sample(&rendered, r#"reservations_expired_total{by="confirm"}"#),
        Some(1.0),
        "{rendered}"
    );
    app.stop().await;

    // The sweeper counts its runs and what it expired.
    let app = spawn_app(1, 1).await;
    assert_eq!(create_ticket(&app).await, 201);
    assert_eq!(post(&app, "/api/tickets/1/reservation").await, 201);
    let deadline = std::time::Instant::now() + Duration::from_secs(10);
    loop {
        let rendered = metrics(&app).await;
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
