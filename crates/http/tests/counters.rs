//! The reservation counters through the whole application. The use cases count them on
//! the blocking threads they run on, which a thread-local recorder does not see, so this
//! binary is its own process with the process-wide recorder, and one test.

#![allow(clippy::unwrap_used, clippy::expect_used)]

#[path = "api/helpers.rs"]
#[allow(dead_code)]
mod helpers;

use std::sync::Arc;

use actix_web::http::StatusCode;
use metrics_exporter_prometheus::PrometheusBuilder;
use serde_json::json;

use helpers::{TestApp, TTL_SECONDS};

/// The value of the series `name` (exactly as rendered), if present.
fn sample(rendered: &str, series: &str) -> Option<f64> {
    rendered.lines().find_map(|line| {
        let (name, value) = line.rsplit_once(' ')?;
        (name == series).then(|| value.parse().unwrap())
    })
}

#[actix_web::test]
async fn holds_sales_and_releases_are_counted_once_each_and_served() {
    let handle = PrometheusBuilder::new().install_recorder().unwrap();
    let mut app = TestApp::new();
    let render = handle.clone();
    app.render_metrics = Arc::new(move || render.render());
    let count = |name: &str| sample(&handle.render(), name);

    // Reserve, confirm, confirm: one hold and one sale. Refusals count nothing.
    let id = app.ticket().await;
    let token = app.reserve(id).await;
    app.post_with_token(&format!("/api/tickets/{id}/confirm"), &token)
        .await
        .assert_status(StatusCode::OK);
    app.post_with_token(&format!("/api/tickets/{id}/confirm"), &token)
        .await
        .assert_status(StatusCode::OK);
    app.post(&format!("/api/tickets/{id}/reservation"))
        .await
        .assert_status(StatusCode::CONFLICT);
    app.delete(&format!("/api/tickets/{id}/reservation"))
        .await
        .assert_status(StatusCode::CONFLICT);
    assert_eq!(count("reservations_created_total"), Some(1.0));
    assert_eq!(count("reservations_confirmed_total"), Some(1.0));
    assert_eq!(count("reservations_released_total"), None);

    let other = app.ticket().await;
    let token = app.reserve(other).await;
    // Without the token, nothing is released.
    app.delete(&format!("/api/tickets/{other}/reservation"))
        .await
        .assert_status(StatusCode::UNAUTHORIZED);
    assert_eq!(count("reservations_released_total"), None);
    app.delete_with_token(&format!("/api/tickets/{other}/reservation"), &token)
        .await
        .assert_status(StatusCode::OK);
    assert_eq!(count("reservations_created_total"), Some(2.0));
    assert_eq!(count("reservations_released_total"), Some(1.0));

    // Confirming a lapsed hold sells nothing.
    let lapsed = app.ticket().await;
    let token = app.reserve(lapsed).await;
    app.clock
        .advance(chrono::TimeDelta::seconds(TTL_SECONDS + 1));
    app.post_with_token(&format!("/api/tickets/{lapsed}/confirm"), &token)
        .await
        .error(StatusCode::CONFLICT, "RESERVATION_EXPIRED");
    assert_eq!(count("reservations_confirmed_total"), Some(1.0));

    // A hold of two tickets is one hold, two reservations, two sales.
    let pair = [app.ticket().await, app.ticket().await];
    let (hold, token) = app
        .place_hold(&json!({"ticket_ids": pair}))
        .await
        .issued_hold(StatusCode::CREATED);
    let hold_id = hold["hold_id"].as_str().unwrap();
    app.post_with_token(&format!("/api/holds/{hold_id}/confirm"), &token)
        .await
        .assert_status(StatusCode::OK);
    assert_eq!(count(r#"holds_created_total{kind="ticket"}"#), Some(3.0));
    assert_eq!(count(r#"holds_created_total{kind="tickets"}"#), Some(1.0));
    assert_eq!(count("reservations_created_total"), Some(5.0));
    assert_eq!(count("reservations_confirmed_total"), Some(3.0));

    let answer = app.get("/metrics").await;
    answer.assert_status(StatusCode::OK);
    assert_eq!(
        answer.header("content-type"),
        Some("text/plain; version=0.0.4; charset=utf-8")
    );
    let text = String::from_utf8(answer.body.clone()).unwrap();
    assert_eq!(
        sample(&text, "reservations_created_total"),
        Some(5.0),
        "{text}"
    );
}
