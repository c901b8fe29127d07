//! `GET /metrics` of the assembled service over a real database. This test binary is its
//! own process, so the process-wide recorder holds exactly what these requests did.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::sync::{Mutex, MutexGuard};
use std::time::Duration;

use common::{sample, token_of, TestApp};
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

/// Places a hold on ticket `id` (answered 201); answers its token.
async fn reserve(app: &TestApp, id: i64) -> String {
    let (status, held) = app
        .post(&format!("/api/tickets/{id}/reservation"), None)
        .await;
    assert_eq!(status, 201, "{held}");
    token_of(&held)
}

/// Confirms ticket `id` with `token`; answers the status.
async fn confirm(app: &TestApp, id: i64, token: &str) -> u16 {
    app.send(
        "POST",
        &format!("/api/tickets/{id}/confirm"),
        None,
        Some(token),
    )
    .await
    .0
}

/// The tests of this binary share one recorder: one at a time, each counting what it
/// adds to what was there. Each `actix_web::test` runs its own runtime on its own
/// thread, so holding the guard across awaits blocks only the test waiting for it.
fn one_at_a_time() -> MutexGuard<'static, ()> {
    static LOCK: Mutex<()> = Mutex::new(());
    LOCK.lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner)
}

/// `series`, 0 when it is not rendered yet.
fn count(rendered: &str, series: &str) -> f64 {
    sample(rendered, series).unwrap_or(0.0)
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
#[allow(clippy::await_holding_lock)]
async fn metrics_count_reservations_requests_sweeps_and_show_the_pool() {
    let _serial = one_at_a_time();
    // Sweeper off: only requests change reservations.
    let app = spawn_app(1, 0).await;
    let created_before = count(&metrics(&app).await, "reservations_created_total");
    assert_eq!(create_ticket(&app).await, 201);
    let token = reserve(&app, 1).await;
    assert_eq!(post(&app, "/api/tickets/1/confirm").await, 401);
    assert_eq!(confirm(&app, 1, &token).await, 200);
    assert_eq!(confirm(&app, 1, &token).await, 200);
    let rendered = metrics(&app).await;
    assert_eq!(
        count(&rendered, "reservations_created_total") - created_before,
        1.0,
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
    let token = reserve(&app, 2).await;
    actix_web::rt::time::sleep(Duration::from_millis(1_100)).await;
    assert_eq!(confirm(&app, 2, &token).await, 409);
    assert_eq!(confirm(&app, 2, &token).await, 409);
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
    reserve(&app, 1).await;
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

#[actix_web::test]
#[allow(clippy::await_holding_lock)]
async fn metrics_count_holds_by_kind_and_their_tickets() {
    let _serial = one_at_a_time();
    let app = spawn_app(60, 0).await;
    for _ in 0..5 {
        assert_eq!(create_ticket(&app).await, 201);
    }
    let series = [
        r#"holds_created_total{kind="tickets"}"#,
        r#"holds_created_total{kind="best_available"}"#,
        r#"holds_created_total{kind="ticket"}"#,
        r#"hold_tickets_bucket{le="1"}"#,
        r#"hold_tickets_bucket{le="2"}"#,
        r#"hold_tickets_bucket{le="3"}"#,
        r#"hold_tickets_bucket{le="4"}"#,
        r#"hold_tickets_bucket{le="+Inf"}"#,
        "hold_tickets_count",
        "hold_tickets_sum",
        "reservations_created_total",
    ];
    let before = metrics(&app).await;

    let (status, three) = app
        .post("/api/holds", Some(json!({"ticket_ids": [1, 2, 3]})))
        .await;
    assert_eq!(status, 201, "{three}");
    let (status, two) = app
        .post(
            "/api/holds",
            Some(json!({"event_name": "Gala", "quantity": 2})),
        )
        .await;
    assert_eq!(status, 201, "{two}");
    assert_eq!(two["tickets"].as_array().unwrap().len(), 2, "{two}");
    // Refused holds place nothing and count nothing.
    let (status, refused) = app
        .post(
            "/api/holds",
            Some(json!({"event_name": "Gala", "quantity": 1})),
        )
        .await;
    assert_eq!(status, 409, "{refused}");

    let after = metrics(&app).await;
    assert!(
        after.contains("# TYPE holds_created_total counter"),
        "{after}"
    );
    assert!(after.contains("# TYPE hold_tickets histogram"), "{after}");
    let added: Vec<f64> = series
        .iter()
        .map(|series| count(&after, series) - count(&before, series))
        .collect();
    // One hold of 3 by id, one of 2 best available: none in the bucket of 1, one up to
    // 2, both up to 3; 5 tickets in all.
    assert_eq!(
        added,
        [1.0, 1.0, 0.0, 0.0, 1.0, 2.0, 2.0, 2.0, 2.0, 5.0, 5.0],
        "{series:?}\n{after}"
    );
    app.stop().await;
}
