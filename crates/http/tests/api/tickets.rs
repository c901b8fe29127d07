//! Creating and reading tickets: `POST /api/tickets`, `GET /api/tickets/{id}`.

use actix_web::http::StatusCode;
use chrono::TimeDelta;
use serde_json::json;

use crate::helpers::TestApp;

#[actix_web::test]
async fn creating_a_ticket_answers_201_the_ticket_and_its_location() {
    let app = TestApp::new();
    let answer = app
        .create(&json!({"event_name": "Opening Night", "seat": "A-12"}))
        .await;
    let ticket = answer.ticket(StatusCode::CREATED);
    assert_eq!(
        ticket,
        json!({
            "id": 1,
            "event_name": "Opening Night",
            "seat": "A-12",
            "reservation_status": null,
            "reservation_created_at": null,
            "reservation_expires_at": null,
            "reservation_confirmed_at": null,
        })
    );
    assert_eq!(answer.header("location"), Some("/api/tickets/1"));

    let second = app.create(&json!({"event_name": "Matinee"})).await;
    assert_eq!(second.header("location"), Some("/api/tickets/2"));
    assert_eq!(second.ticket(StatusCode::CREATED)["id"], 2);
}

#[actix_web::test]
async fn the_location_of_a_new_ticket_serves_it() {
    let app = TestApp::new();
    let created = app
        .create(&json!({"event_name": "Opening Night", "seat": "A-12"}))
        .await;
    let location = created.header("location").unwrap().to_owned();
    let found = app.get(&location).await.ticket(StatusCode::OK);
    assert_eq!(found, created.json());
}

#[actix_web::test]
async fn a_seat_may_be_null_or_left_out() {
    let app = TestApp::new();
    for body in [
        json!({"event_name": "Gala", "seat": null}),
        json!({"event_name": "Gala"}),
    ] {
        let ticket = app.create(&body).await.ticket(StatusCode::CREATED);
        assert_eq!(ticket["seat"], json!(null), "{body}");
        assert_eq!(ticket["event_name"], "Gala");
    }
}

#[actix_web::test]
async fn names_are_stored_as_sent_and_limits_count_characters() {
    let app = TestApp::new();
    let name = format!(" {} ", "é".repeat(198));
    let seat = "ü".repeat(50);
    let ticket = app
        .create(&json!({"event_name": name, "seat": seat}))
        .await
        .ticket(StatusCode::CREATED);
    assert_eq!(ticket["event_name"], name.as_str());
    assert_eq!(ticket["seat"], seat.as_str());
}

#[actix_web::test]
async fn an_unknown_ticket_is_not_found() {
    let app = TestApp::new();
    let answer = app.get("/api/tickets/999").await;
    let details = answer.error(StatusCode::NOT_FOUND, "TICKET_NOT_FOUND");
    assert_eq!(details, json!({"ticket_id": 999}));
    let largest = app.get(&format!("/api/tickets/{}", i64::MAX)).await;
    largest.error(StatusCode::NOT_FOUND, "TICKET_NOT_FOUND");
}

#[actix_web::test]
async fn timestamps_are_rfc3339_utc_with_six_fractional_digits() {
    let app = TestApp::new();
    let id = app.ticket().await;
    app.clock.advance(TimeDelta::microseconds(123_456));
    let (held, hold) = app
        .post(&format!("/api/tickets/{id}/reservation"))
        .await
        .reserved(StatusCode::CREATED);
    assert_eq!(hold["expires_at"], "2026-11-26T12:01:00.123456Z");
    assert_eq!(
        held["reservation_created_at"],
        "2026-11-26T12:00:00.123456Z"
    );
    assert_eq!(
        held["reservation_expires_at"],
        "2026-11-26T12:01:00.123456Z"
    );

    app.clock.advance(TimeDelta::nanoseconds(7_000));
    let token = hold["hold_token"].as_str().unwrap();
    let sold = app
        .post_with_token(&format!("/api/tickets/{id}/confirm"), token)
        .await
        .ticket(StatusCode::OK);
    assert_eq!(
        sold["reservation_confirmed_at"],
        "2026-11-26T12:00:00.123463Z"
    );
}
