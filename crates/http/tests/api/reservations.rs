//! Reserving, confirming and releasing: every row of the contract, and expiry driven by
//! the manual clock.

use actix_web::http::StatusCode;
use chrono::TimeDelta;
use serde_json::json;
use ticketing_domain::{Reservation, TicketId};
use ticketing_ports::TicketRepository;

use crate::helpers::{at, TestApp, TTL_SECONDS};

fn reservation(id: i64) -> String {
    format!("/api/tickets/{id}/reservation")
}

fn confirmation(id: i64) -> String {
    format!("/api/tickets/{id}/confirm")
}

#[actix_web::test]
async fn reserving_places_a_tentative_hold_for_the_ttl() {
    let app = TestApp::new();
    let id = app.ticket().await;
    let held = app.post(&reservation(id)).await.ticket(StatusCode::CREATED);
    assert_eq!(
        held,
        json!({
            "id": id,
            "event_name": "Opening Night",
            "seat": "A-12",
            "reservation_status": "TENTATIVE",
            "reservation_created_at": at(0),
            "reservation_expires_at": at(TTL_SECONDS),
            "reservation_confirmed_at": null,
        })
    );
    let found = app
        .get(&format!("/api/tickets/{id}"))
        .await
        .ticket(StatusCode::OK);
    assert_eq!(found, held);
}

#[actix_web::test]
async fn an_active_hold_refuses_a_second_reservation() {
    let app = TestApp::new();
    let id = app.ticket().await;
    app.post(&reservation(id)).await.ticket(StatusCode::CREATED);
    app.clock.advance(TimeDelta::seconds(TTL_SECONDS - 1));
    let details = app
        .post(&reservation(id))
        .await
        .error(StatusCode::CONFLICT, "RESERVATION_ALREADY_ACTIVE");
    assert_eq!(
        details,
        json!({"ticket_id": id, "expires_at": at(TTL_SECONDS)})
    );
}

#[actix_web::test]
async fn a_lapsed_hold_reads_expired_before_anything_records_it() {
    let app = TestApp::new();
    let id = app.ticket().await;
    app.post(&reservation(id)).await.ticket(StatusCode::CREATED);
    app.clock.advance(TimeDelta::seconds(TTL_SECONDS));
    let seen = app
        .get(&format!("/api/tickets/{id}"))
        .await
        .ticket(StatusCode::OK);
    assert_eq!(seen["reservation_status"], "EXPIRED");
    assert_eq!(seen["reservation_created_at"], at(0));
    assert_eq!(seen["reservation_expires_at"], at(TTL_SECONDS));
    assert_eq!(seen["reservation_confirmed_at"], json!(null));
    let stored = app.repository.find(TicketId::new(id).unwrap()).unwrap();
    assert!(
        matches!(stored.reservation, Reservation::Tentative(_)),
        "reading does not write: {stored:?}"
    );
}

#[actix_web::test]
async fn a_lapsed_or_expired_hold_can_be_reserved_again() {
    let app = TestApp::new();
    let id = app.ticket().await;
    app.post(&reservation(id)).await.ticket(StatusCode::CREATED);

    // Lapsed (still stored as TENTATIVE): a new hold starts now.
    app.clock.advance(TimeDelta::seconds(TTL_SECONDS + 5));
    let again = app.post(&reservation(id)).await.ticket(StatusCode::CREATED);
    assert_eq!(again["reservation_status"], "TENTATIVE");
    assert_eq!(again["reservation_created_at"], at(TTL_SECONDS + 5));
    assert_eq!(again["reservation_expires_at"], at(2 * TTL_SECONDS + 5));

    // Expired and recorded so by a failed confirm: a new hold too.
    app.clock.advance(TimeDelta::seconds(TTL_SECONDS));
    app.post(&confirmation(id))
        .await
        .error(StatusCode::CONFLICT, "RESERVATION_EXPIRED");
    let stored = app.repository.find(TicketId::new(id).unwrap()).unwrap();
    assert!(matches!(stored.reservation, Reservation::Expired(_)));
    let third = app.post(&reservation(id)).await.ticket(StatusCode::CREATED);
    assert_eq!(third["reservation_status"], "TENTATIVE");
    assert_eq!(third["reservation_created_at"], at(2 * TTL_SECONDS + 5));
}

#[actix_web::test]
async fn confirming_sells_the_held_ticket_and_is_idempotent() {
    let app = TestApp::new();
    let id = app.ticket().await;
    app.post(&reservation(id)).await.ticket(StatusCode::CREATED);
    app.clock.advance(TimeDelta::seconds(10));
    let sold = app.post(&confirmation(id)).await.ticket(StatusCode::OK);
    assert_eq!(sold["reservation_status"], "CONFIRMED");
    assert_eq!(sold["reservation_created_at"], at(0));
    assert_eq!(sold["reservation_expires_at"], at(TTL_SECONDS));
    assert_eq!(sold["reservation_confirmed_at"], at(10));

    // Long after the hold would have lapsed, confirming again answers the same sale.
    app.clock.advance(TimeDelta::seconds(10 * TTL_SECONDS));
    let again = app.post(&confirmation(id)).await.ticket(StatusCode::OK);
    assert_eq!(again, sold);
    let found = app
        .get(&format!("/api/tickets/{id}"))
        .await
        .ticket(StatusCode::OK);
    assert_eq!(found, sold);
}

#[actix_web::test]
async fn a_sold_ticket_cannot_be_reserved_again() {
    let app = TestApp::new();
    let id = app.ticket().await;
    app.post(&reservation(id)).await.ticket(StatusCode::CREATED);
    app.clock.advance(TimeDelta::seconds(3));
    app.post(&confirmation(id)).await.ticket(StatusCode::OK);
    let details = app
        .post(&reservation(id))
        .await
        .error(StatusCode::CONFLICT, "TICKET_ALREADY_CONFIRMED");
    assert_eq!(details, json!({"ticket_id": id, "confirmed_at": at(3)}));
}

#[actix_web::test]
async fn confirming_without_a_hold_is_refused() {
    let app = TestApp::new();
    let id = app.ticket().await;
    let details = app
        .post(&confirmation(id))
        .await
        .error(StatusCode::CONFLICT, "NO_ACTIVE_RESERVATION");
    assert_eq!(details, json!({"ticket_id": id}));
}

#[actix_web::test]
async fn confirming_a_lapsed_hold_records_its_expiry_and_is_refused() {
    let app = TestApp::new();
    let id = app.ticket().await;
    app.post(&reservation(id)).await.ticket(StatusCode::CREATED);
    app.clock.advance(TimeDelta::seconds(TTL_SECONDS));
    let details = app
        .post(&confirmation(id))
        .await
        .error(StatusCode::CONFLICT, "RESERVATION_EXPIRED");
    assert_eq!(
        details,
        json!({"ticket_id": id, "expired_at": at(TTL_SECONDS)})
    );
    let stored = app.repository.find(TicketId::new(id).unwrap()).unwrap();
    assert!(
        matches!(stored.reservation, Reservation::Expired(_)),
        "the lapse is written in the same step: {stored:?}"
    );

    // Once recorded, confirming is still refused the same way.
    let again = app
        .post(&confirmation(id))
        .await
        .error(StatusCode::CONFLICT, "RESERVATION_EXPIRED");
    assert_eq!(again, details);
    let seen = app
        .get(&format!("/api/tickets/{id}"))
        .await
        .ticket(StatusCode::OK);
    assert_eq!(seen["reservation_status"], "EXPIRED");
}

#[actix_web::test]
async fn releasing_gives_up_the_hold() {
    let app = TestApp::new();
    let id = app.ticket().await;
    app.post(&reservation(id)).await.ticket(StatusCode::CREATED);
    let released = app.delete(&reservation(id)).await.ticket(StatusCode::OK);
    assert_eq!(released["reservation_status"], json!(null));
    assert_eq!(released["reservation_created_at"], json!(null));
    assert_eq!(released["reservation_expires_at"], json!(null));
    assert_eq!(released["reservation_confirmed_at"], json!(null));
    // The ticket is free again.
    app.post(&reservation(id)).await.ticket(StatusCode::CREATED);
}

#[actix_web::test]
async fn releasing_without_an_active_hold_is_refused() {
    let app = TestApp::new();
    let id = app.ticket().await;
    let details = app
        .delete(&reservation(id))
        .await
        .error(StatusCode::CONFLICT, "NO_ACTIVE_RESERVATION");
    assert_eq!(details, json!({"ticket_id": id}));

    app.post(&reservation(id)).await.ticket(StatusCode::CREATED);
    app.clock.advance(TimeDelta::seconds(TTL_SECONDS));
    app.delete(&reservation(id))
        .await
        .error(StatusCode::CONFLICT, "NO_ACTIVE_RESERVATION");
}

#[actix_web::test]
async fn releasing_a_sold_ticket_is_refused() {
    let app = TestApp::new();
    let id = app.ticket().await;
    app.post(&reservation(id)).await.ticket(StatusCode::CREATED);
    app.post(&confirmation(id)).await.ticket(StatusCode::OK);
    let details = app
        .delete(&reservation(id))
        .await
        .error(StatusCode::CONFLICT, "TICKET_ALREADY_CONFIRMED");
    assert_eq!(details, json!({"ticket_id": id, "confirmed_at": at(0)}));
}
