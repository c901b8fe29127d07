//! Reserving, confirming and releasing one ticket: every row of the contract, the hold's
//! token that confirming and releasing need, and expiry driven by the manual clock.

use actix_web::http::header::HeaderValue;
use actix_web::http::StatusCode;
use actix_web::test::TestRequest;
use chrono::TimeDelta;
use serde_json::json;
use ticketing_domain::{Reservation, TicketId};
use ticketing_ports::TicketRepository;

use crate::helpers::{at, TestApp, HOLD_TOKEN, TTL_SECONDS};

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
    let (held, hold) = app
        .post(&reservation(id))
        .await
        .reserved(StatusCode::CREATED);
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
    let hold_id = hold["hold_id"].as_str().unwrap();
    assert!(hold_id.parse::<uuid::Uuid>().is_ok(), "{hold}");
    let token = hold["hold_token"].as_str().unwrap();
    assert_eq!(token.len(), 43, "256 bits, URL-safe base64");
    assert!(token
        .bytes()
        .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_'));
    assert_eq!(hold["expires_at"], at(TTL_SECONDS));
    assert_eq!(hold["expires_in_seconds"], TTL_SECONDS);
    // Reading the ticket shows neither the hold id nor the token.
    let found = app.get(&format!("/api/tickets/{id}")).await;
    assert_eq!(found.ticket(StatusCode::OK), held);
    let text = String::from_utf8_lossy(&found.body);
    assert!(!text.contains(token) && !text.contains(hold_id), "{text}");

    // The hold is one ticket's: it reads as a hold too.
    let seen = app
        .get_with_token(&format!("/api/holds/{hold_id}"), token)
        .await
        .hold(StatusCode::OK);
    assert_eq!(seen["tickets"], json!([held]));
}

#[actix_web::test]
async fn each_reservation_is_a_new_hold_with_its_own_token() {
    let app = TestApp::new();
    let (first, second) = (app.ticket().await, app.ticket().await);
    let (_, one) = app
        .post(&reservation(first))
        .await
        .reserved(StatusCode::CREATED);
    let (_, two) = app
        .post(&reservation(second))
        .await
        .reserved(StatusCode::CREATED);
    assert_ne!(one["hold_id"], two["hold_id"]);
    assert_ne!(one["hold_token"], two["hold_token"]);
}

#[actix_web::test]
async fn an_active_hold_refuses_a_second_reservation() {
    let app = TestApp::new();
    let id = app.ticket().await;
    app.post(&reservation(id))
        .await
        .reserved(StatusCode::CREATED);
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
    app.post(&reservation(id))
        .await
        .reserved(StatusCode::CREATED);
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
    app.post(&reservation(id))
        .await
        .reserved(StatusCode::CREATED);

    // Lapsed (still stored as TENTATIVE): a new hold starts now.
    app.clock.advance(TimeDelta::seconds(TTL_SECONDS + 5));
    let (again, hold) = app
        .post(&reservation(id))
        .await
        .reserved(StatusCode::CREATED);
    assert_eq!(again["reservation_status"], "TENTATIVE");
    assert_eq!(again["reservation_created_at"], at(TTL_SECONDS + 5));
    assert_eq!(again["reservation_expires_at"], at(2 * TTL_SECONDS + 5));

    // Expired and recorded so by its owner's failed confirm: a new hold too.
    app.clock.advance(TimeDelta::seconds(TTL_SECONDS));
    app.post_with_token(&confirmation(id), hold["hold_token"].as_str().unwrap())
        .await
        .error(StatusCode::CONFLICT, "RESERVATION_EXPIRED");
    let stored = app.repository.find(TicketId::new(id).unwrap()).unwrap();
    assert!(matches!(stored.reservation, Reservation::Expired(_)));
    let (third, _) = app
        .post(&reservation(id))
        .await
        .reserved(StatusCode::CREATED);
    assert_eq!(third["reservation_status"], "TENTATIVE");
    assert_eq!(third["reservation_created_at"], at(2 * TTL_SECONDS + 5));
}

#[actix_web::test]
async fn confirming_sells_the_held_ticket_and_is_idempotent() {
    let app = TestApp::new();
    let id = app.ticket().await;
    let token = app.reserve(id).await;
    app.clock.advance(TimeDelta::seconds(10));
    let sold = app
        .post_with_token(&confirmation(id), &token)
        .await
        .ticket(StatusCode::OK);
    assert_eq!(sold["reservation_status"], "CONFIRMED");
    assert_eq!(sold["reservation_created_at"], at(0));
    assert_eq!(sold["reservation_expires_at"], at(TTL_SECONDS));
    assert_eq!(sold["reservation_confirmed_at"], at(10));

    // Long after the hold would have lapsed, confirming again answers the same sale.
    app.clock.advance(TimeDelta::seconds(10 * TTL_SECONDS));
    let again = app
        .post_with_token(&confirmation(id), &token)
        .await
        .ticket(StatusCode::OK);
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
    let token = app.reserve(id).await;
    app.clock.advance(TimeDelta::seconds(3));
    app.post_with_token(&confirmation(id), &token)
        .await
        .ticket(StatusCode::OK);
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
    let token = app.reserve(id).await;
    app.clock.advance(TimeDelta::seconds(TTL_SECONDS));
    // Anyone learns what a read shows, but only the owner's confirm records the lapse.
    let details = app
        .post(&confirmation(id))
        .await
        .error(StatusCode::CONFLICT, "RESERVATION_EXPIRED");
    assert_eq!(
        details,
        json!({"ticket_id": id, "expired_at": at(TTL_SECONDS)})
    );
    let stored = app.repository.find(TicketId::new(id).unwrap()).unwrap();
    assert!(matches!(stored.reservation, Reservation::Tentative(_)));
    let details = app
        .post_with_token(&confirmation(id), &token)
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
        .post_with_token(&confirmation(id), &token)
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
    let token = app.reserve(id).await;
    let released = app
        .delete_with_token(&reservation(id), &token)
        .await
        .ticket(StatusCode::OK);
    assert_eq!(released["reservation_status"], json!(null));
    assert_eq!(released["reservation_created_at"], json!(null));
    assert_eq!(released["reservation_expires_at"], json!(null));
    assert_eq!(released["reservation_confirmed_at"], json!(null));
    // The ticket is free again, and the old token is no one's.
    app.reserve(id).await;
    app.delete_with_token(&reservation(id), &token)
        .await
        .error(StatusCode::FORBIDDEN, "HOLD_TOKEN_INVALID");
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

    let token = app.reserve(id).await;
    app.clock.advance(TimeDelta::seconds(TTL_SECONDS));
    // A lapse any read shows: refused before the token is looked at.
    app.delete(&reservation(id))
        .await
        .error(StatusCode::CONFLICT, "NO_ACTIVE_RESERVATION");
    app.delete_with_token(&reservation(id), &token)
        .await
        .error(StatusCode::CONFLICT, "NO_ACTIVE_RESERVATION");
}

#[actix_web::test]
async fn releasing_a_sold_ticket_is_refused() {
    let app = TestApp::new();
    let id = app.ticket().await;
    let token = app.reserve(id).await;
    app.post_with_token(&confirmation(id), &token)
        .await
        .ticket(StatusCode::OK);
    let details = app
        .delete_with_token(&reservation(id), &token)
        .await
        .error(StatusCode::CONFLICT, "TICKET_ALREADY_CONFIRMED");
    assert_eq!(details, json!({"ticket_id": id, "confirmed_at": at(0)}));
    // A sale any read shows: refused alike without the token.
    let anonymous = app
        .delete(&reservation(id))
        .await
        .error(StatusCode::CONFLICT, "TICKET_ALREADY_CONFIRMED");
    assert_eq!(anonymous, details);
}

/// The ticket's stored reservation.
fn stored(app: &TestApp, id: i64) -> Reservation {
    app.repository
        .find(TicketId::new(id).unwrap())
        .unwrap()
        .reservation
}

#[actix_web::test]
async fn confirming_or_releasing_a_held_ticket_needs_its_token() {
    let app = TestApp::new();
    let id = app.ticket().await;
    let token = app.reserve(id).await;
    let other = app.ticket().await;
    let stranger = app.reserve(other).await;
    let before = stored(&app, id);

    for (uri, confirm) in [(confirmation(id), true), (reservation(id), false)] {
        let request = || {
            if confirm {
                TestRequest::post().uri(&uri)
            } else {
                TestRequest::delete().uri(&uri)
            }
        };
        let details = app
            .send(request())
            .await
            .error(StatusCode::UNAUTHORIZED, "HOLD_TOKEN_REQUIRED");
        assert_eq!(details, json!({"ticket_id": id}), "{uri}");
        let answer = app.send_with_token(request(), &stranger).await;
        let details = answer.error(StatusCode::FORBIDDEN, "HOLD_TOKEN_INVALID");
        assert_eq!(details, json!({"ticket_id": id}), "{uri}");
        for secret in [&token, &stranger] {
            assert!(!String::from_utf8_lossy(&answer.body).contains(secret.as_str()));
        }
        // A header that cannot be a token at all is a wrong token, never a 500.
        for bad in [&b""[..], b"has space", "caf\u{e9}".as_bytes(), b"tab\tin"] {
            let value = HeaderValue::from_bytes(bad).unwrap();
            app.send(request().insert_header((HOLD_TOKEN, value)))
                .await
                .error(StatusCode::FORBIDDEN, "HOLD_TOKEN_INVALID");
        }
        assert_eq!(stored(&app, id), before, "refusals change nothing: {uri}");
    }
    app.post_with_token(&confirmation(id), &token)
        .await
        .ticket(StatusCode::OK);
}

#[actix_web::test]
async fn confirming_a_sold_ticket_again_is_for_its_own_token_only() {
    let app = TestApp::new();
    let id = app.ticket().await;
    let token = app.reserve(id).await;
    let other = app.ticket().await;
    let stranger = app.reserve(other).await;
    let sold = app
        .post_with_token(&confirmation(id), &token)
        .await
        .ticket(StatusCode::OK);
    app.post(&confirmation(id))
        .await
        .error(StatusCode::UNAUTHORIZED, "HOLD_TOKEN_REQUIRED");
    app.post_with_token(&confirmation(id), &stranger)
        .await
        .error(StatusCode::FORBIDDEN, "HOLD_TOKEN_INVALID");
    let again = app
        .post_with_token(&confirmation(id), &token)
        .await
        .ticket(StatusCode::OK);
    assert_eq!(again, sold);
}

#[actix_web::test]
async fn without_required_tokens_the_anonymous_contract_is_restored() {
    let app = TestApp::anonymous();
    let id = app.ticket().await;
    let (_, hold) = app
        .post(&reservation(id))
        .await
        .reserved(StatusCode::CREATED);
    let sold = app.post(&confirmation(id)).await.ticket(StatusCode::OK);
    assert_eq!(sold["reservation_status"], "CONFIRMED");
    app.post(&confirmation(id)).await.ticket(StatusCode::OK);

    let other = app.ticket().await;
    app.post(&reservation(other))
        .await
        .reserved(StatusCode::CREATED);
    // A token, when sent, must still match.
    app.post_with_token(&confirmation(other), hold["hold_token"].as_str().unwrap())
        .await
        .error(StatusCode::FORBIDDEN, "HOLD_TOKEN_INVALID");
    app.delete_with_token(&reservation(other), "not-a-token")
        .await
        .error(StatusCode::FORBIDDEN, "HOLD_TOKEN_INVALID");
    let released = app.delete(&reservation(other)).await.ticket(StatusCode::OK);
    assert_eq!(released["reservation_status"], json!(null));
}
