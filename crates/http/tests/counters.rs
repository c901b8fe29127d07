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
use ticketing_domain::{Hold, Reservation, ReservationPolicy, TicketId};

use helpers::{start, TestApp, TTL_SECONDS};

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
    app.post(&format!("/api/tickets/{id}/reservation"))
        .await
        .assert_status(StatusCode::CREATED);
    app.post(&format!("/api/tickets/{id}/confirm"))
        .await
        .assert_status(StatusCode::OK);
    app.post(&format!("/api/tickets/{id}/confirm"))
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
    app.post(&format!("/api/tickets/{other}/reservation")).await;
    app.delete(&format!("/api/tickets/{other}/reservation"))
        .await
        .assert_status(StatusCode::OK);
    assert_eq!(count("reservations_created_total"), Some(2.0));
    assert_eq!(count("reservations_released_total"), Some(1.0));

    // Confirming a lapsed hold sells nothing.
    let lapsed = app.ticket().await;
    let policy = ReservationPolicy::from_ttl_seconds(TTL_SECONDS).unwrap();
    app.repository.force_reservation(
        TicketId::new(lapsed).unwrap(),
        Reservation::Tentative(Hold::starting(start(), &policy)),
    );
    app.clock
        .advance(chrono::TimeDelta::seconds(TTL_SECONDS + 1));
    app.post(&format!("/api/tickets/{lapsed}/confirm"))
        .await
        .error(StatusCode::CONFLICT, "RESERVATION_EXPIRED");
    assert_eq!(count("reservations_confirmed_total"), Some(1.0));

    let answer = app.get("/metrics").await;
    answer.assert_status(StatusCode::OK);
    assert_eq!(
        answer.header("content-type"),
        Some("text/plain; version=0.0.4; charset=utf-8")
    );
    let text = String::from_utf8(answer.body.clone()).unwrap();
    assert_eq!(
        sample(&text, "reservations_created_total"),
        Some(2.0),
        "{text}"
    );
}
