//! Holds of several tickets: placing them by id (all or nothing) or best available,
//! reading, confirming, releasing and extending them with their `Hold-Token`; every row
//! of the contract, every refusal, and the token answered only by the 201 that creates it.

use actix_web::http::header::HeaderValue;
use actix_web::http::{header, StatusCode};
use actix_web::test::TestRequest;
use chrono::TimeDelta;
use serde_json::{json, Value};
use ticketing_domain::{Reservation, TicketId};
use ticketing_ports::TicketRepository;

use crate::helpers::{
    at, Answer, TestApp, HOLD_TOKEN, MAX_HOLD_SECONDS, MAX_TICKETS_PER_HOLD, TTL_SECONDS,
};

/// A hold id no ticket carries.
const UNKNOWN_HOLD: &str = "67e55044-10b1-426f-9247-bb680e5fe0c8";

fn hold_uri(id: &str) -> String {
    format!("/api/holds/{id}")
}

fn confirm_uri(id: &str) -> String {
    format!("/api/holds/{id}/confirm")
}

fn extend_uri(id: &str) -> String {
    format!("/api/holds/{id}/extend")
}

impl TestApp {
    /// `count` tickets of `event`, answered by id.
    async fn tickets_at(&self, event: &str, count: usize) -> Vec<i64> {
        let mut ids = Vec::with_capacity(count);
        for _ in 0..count {
            let answer = self.create(&json!({"event_name": event})).await;
            ids.push(answer.ticket(StatusCode::CREATED)["id"].as_i64().unwrap());
        }
        ids
    }

    /// Holds `ids` (which must succeed): the hold's id and token.
    async fn hold_of(&self, ids: &[i64]) -> (String, String) {
        let (hold, token) = self
            .place_hold(&json!({ "ticket_ids": ids }))
            .await
            .issued_hold(StatusCode::CREATED);
        (hold["hold_id"].as_str().unwrap().to_owned(), token)
    }

    /// Every ticket's stored reservation, by id.
    fn stored_all(&self, ids: &[i64]) -> Vec<Reservation> {
        ids.iter()
            .map(|id| {
                self.repository
                    .find(TicketId::new(*id).unwrap())
                    .unwrap()
                    .reservation
            })
            .collect()
    }

    async fn extend(&self, hold_id: &str, token: Option<&str>, body: Value) -> Answer {
        let mut request = TestRequest::post().uri(&extend_uri(hold_id)).set_json(body);
        if let Some(token) = token {
            request = request.insert_header((HOLD_TOKEN, token));
        }
        self.send(request).await
    }
}

/// The ids of a hold's tickets.
fn ticket_ids(hold: &Value) -> Vec<i64> {
    hold["tickets"]
        .as_array()
        .unwrap()
        .iter()
        .map(|ticket| ticket["id"].as_i64().unwrap())
        .collect()
}

/// Each ticket of a hold's `field`.
fn each<'a>(hold: &'a Value, field: &str) -> Vec<&'a Value> {
    hold["tickets"]
        .as_array()
        .unwrap()
        .iter()
        .map(|ticket| &ticket[field])
        .collect()
}

#[actix_web::test]
async fn holding_tickets_by_id_holds_them_all_under_one_hold() {
    let app = TestApp::new();
    let ids = app.tickets_at("Opening Night", 3).await;
    let answer = app
        .place_hold(&json!({"ticket_ids": [ids[2], ids[0]]}))
        .await;
    let (hold, token) = answer.issued_hold(StatusCode::CREATED);
    let hold_id = hold["hold_id"].as_str().unwrap();
    assert_eq!(answer.header("location"), Some(hold_uri(hold_id).as_str()));
    assert_eq!(token.len(), 43);
    assert_eq!(hold["created_at"], at(0));
    assert_eq!(hold["expires_at"], at(TTL_SECONDS));
    assert_eq!(hold["expires_in_seconds"], TTL_SECONDS);
    assert_eq!(ticket_ids(&hold), [ids[0], ids[2]], "ascending by id");
    for ticket in hold["tickets"].as_array().unwrap() {
        assert_eq!(ticket["reservation_status"], "TENTATIVE");
        assert_eq!(ticket["reservation_created_at"], at(0));
        assert_eq!(ticket["reservation_expires_at"], at(TTL_SECONDS));
    }

    // The Location serves the same hold to its owner, without the token.
    let read = app
        .get_with_token(answer.header("location").unwrap(), &token)
        .await;
    assert_eq!(read.hold(StatusCode::OK), hold);
    assert!(!String::from_utf8_lossy(&read.body).contains(&token));
    let untouched = app
        .get(&format!("/api/tickets/{}", ids[1]))
        .await
        .ticket(StatusCode::OK);
    assert_eq!(untouched["reservation_status"], json!(null));

    // A hold as large as the policy allows.
    let many = app.tickets_at("Opening Night", MAX_TICKETS_PER_HOLD).await;
    let (largest, _) = app
        .place_hold(&json!({ "ticket_ids": many }))
        .await
        .issued_hold(StatusCode::CREATED);
    assert_eq!(ticket_ids(&largest), many);
}

#[actix_web::test]
async fn tickets_and_listings_show_neither_hold_ids_nor_tokens() {
    let app = TestApp::new();
    let ids = app.tickets_at("Gala", 2).await;
    let (hold_id, token) = app.hold_of(&ids).await;
    for uri in [
        format!("/api/tickets/{}", ids[0]),
        "/api/tickets".to_owned(),
        "/api/tickets?status=tentative".to_owned(),
    ] {
        let answer = app.get(&uri).await;
        answer.assert_status(StatusCode::OK);
        let text = String::from_utf8_lossy(&answer.body);
        assert!(!text.contains(&token), "{uri}: {text}");
        assert!(!text.contains(&hold_id), "{uri}: {text}");
    }
}

#[actix_web::test]
async fn a_hold_of_listed_tickets_is_all_or_nothing() {
    let app = TestApp::new();
    let ids = app.tickets_at("Gala", 4).await;
    app.reserve(ids[1]).await;
    let sold = app.reserve(ids[3]).await;
    app.post_with_token(&format!("/api/tickets/{}/confirm", ids[3]), &sold)
        .await
        .ticket(StatusCode::OK);
    let before = app.stored_all(&ids);

    let details = app
        .place_hold(&json!({"ticket_ids": [ids[3], ids[0], ids[1], ids[2]]}))
        .await
        .error(StatusCode::CONFLICT, "TICKETS_UNAVAILABLE");
    assert_eq!(
        details,
        json!({"tickets": [
            {"ticket_id": ids[1], "error_code": "RESERVATION_ALREADY_ACTIVE"},
            {"ticket_id": ids[3], "error_code": "TICKET_ALREADY_CONFIRMED"},
        ]})
    );
    assert_eq!(app.stored_all(&ids), before, "none of them is held");

    // The free ones can still be held together.
    app.hold_of(&[ids[0], ids[2]]).await;
}

#[actix_web::test]
async fn a_hold_naming_missing_tickets_names_them_and_holds_nothing() {
    let app = TestApp::new();
    let ids = app.tickets_at("Gala", 2).await;
    let details = app
        .place_hold(&json!({"ticket_ids": [999, ids[0], 77, ids[1]]}))
        .await
        .error(StatusCode::NOT_FOUND, "TICKET_NOT_FOUND");
    assert_eq!(details, json!({"ticket_ids": [77, 999]}));
    assert_eq!(app.stored_all(&ids), [Reservation::Unreserved; 2]);
}

#[actix_web::test]
async fn best_available_holds_the_lowest_reservable_tickets_of_the_event() {
    let app = TestApp::new();
    let mut gala = Vec::new();
    for _ in 0..3 {
        gala.extend(app.tickets_at("Gala", 2).await);
        app.tickets_at("Matinee", 1).await;
    }
    // gala: six tickets; the lowest one is taken.
    app.reserve(gala[0]).await;
    let answer = app
        .place_hold(&json!({"event_name": "Gala", "quantity": 2}))
        .await;
    let (hold, token) = answer.issued_hold(StatusCode::CREATED);
    assert_eq!(ticket_ids(&hold), [gala[1], gala[2]]);
    assert_eq!(
        answer.header("location"),
        Some(hold_uri(hold["hold_id"].as_str().unwrap()).as_str())
    );
    assert_eq!(hold["expires_at"], at(TTL_SECONDS));
    assert!(!token.is_empty());
    assert!(each(&hold, "event_name").iter().all(|name| *name == "Gala"));

    // Three are left: four is too many, and nothing is held.
    let before = app.stored_all(&gala);
    let details = app
        .place_hold(&json!({"event_name": "Gala", "quantity": 4}))
        .await
        .error(StatusCode::CONFLICT, "TICKETS_UNAVAILABLE");
    assert_eq!(details, json!({"requested": 4, "available": 3}));
    assert_eq!(app.stored_all(&gala), before);
    let details = app
        .place_hold(&json!({"event_name": "No Such Event", "quantity": 1}))
        .await
        .error(StatusCode::CONFLICT, "TICKETS_UNAVAILABLE");
    assert_eq!(details, json!({"requested": 1, "available": 0}));

    // Lapsed holds are reservable again: the lowest tickets come first.
    app.clock.advance(TimeDelta::seconds(TTL_SECONDS));
    let (again, _) = app
        .place_hold(&json!({"event_name": "Gala", "quantity": 6}))
        .await
        .issued_hold(StatusCode::CREATED);
    assert_eq!(ticket_ids(&again), gala);
}

/// Every body `POST /api/holds` refuses, with the field it names.
fn refused_hold_bodies() -> Vec<(Value, &'static str)> {
    let too_many: Vec<usize> = (1..=MAX_TICKETS_PER_HOLD + 1).collect();
    vec![
        (json!({"ticket_ids": []}), "ticket_ids"),
        (json!({"ticket_ids": [1, 2, 1]}), "ticket_ids"),
        (json!({ "ticket_ids": too_many }), "ticket_ids"),
        (json!({"ticket_ids": [1, "2"]}), "ticket_ids"),
        (json!({"ticket_ids": [1.5]}), "ticket_ids"),
        (json!({"ticket_ids": [1.0]}), "ticket_ids"),
        (json!({"ticket_ids": [0]}), "ticket_ids"),
        (json!({"ticket_ids": [-1]}), "ticket_ids"),
        (json!({"ticket_ids": [u64::MAX]}), "ticket_ids"),
        (json!({"ticket_ids": [null]}), "ticket_ids"),
        (json!({"ticket_ids": [[1]]}), "ticket_ids"),
        (json!({"ticket_ids": 1}), "ticket_ids"),
        (json!({"ticket_ids": null}), "ticket_ids"),
        (json!({"ticket_ids": [1], "quantity": 1}), "body"),
        (json!({"ticket_ids": [1], "event_name": "Gala"}), "body"),
        (
            json!({"ticket_ids": [1], "event_name": "Gala", "quantity": 1}),
            "body",
        ),
        (json!({}), "body"),
        (json!({"event_name": "Gala"}), "quantity"),
        (json!({"quantity": 2}), "event_name"),
        (json!({"event_name": "Gala", "quantity": 0}), "quantity"),
        (
            json!({"event_name": "Gala", "quantity": MAX_TICKETS_PER_HOLD + 1}),
            "quantity",
        ),
        (
            json!({"event_name": "Gala", "quantity": u64::MAX}),
            "quantity",
        ),
        (json!({"event_name": "Gala", "quantity": -1}), "quantity"),
        (json!({"event_name": "Gala", "quantity": 1.5}), "quantity"),
        (json!({"event_name": "Gala", "quantity": "2"}), "quantity"),
        (json!({"event_name": "Gala", "quantity": null}), "quantity"),
        (json!({"event_name": "", "quantity": 1}), "event_name"),
        (json!({"event_name": "  ", "quantity": 1}), "event_name"),
        (
            json!({"event_name": "Gala\u{0}", "quantity": 1}),
            "event_name",
        ),
        (json!({"event_name": 5, "quantity": 1}), "event_name"),
        (
            json!({"event_name": "Gala", "quantity": 1, "seat": "A"}),
            "seat",
        ),
        (json!({"ticket_ids": [1], "hold_token": "x"}), "hold_token"),
        (json!([1, 2]), "body"),
        (json!("Gala"), "body"),
    ]
}

#[actix_web::test]
async fn bad_hold_bodies_are_refused_and_change_nothing() {
    let app = TestApp::new();
    let ids = app.tickets_at("Gala", 2).await;
    for (body, field) in refused_hold_bodies() {
        let details = app
            .place_hold(&body)
            .await
            .error(StatusCode::BAD_REQUEST, "VALIDATION_ERROR");
        assert_eq!(details["field"], field, "{body}: {details}");
        assert!(details["reason"].as_str().is_some_and(|r| !r.is_empty()));
        assert_eq!(details.as_object().unwrap().len(), 2, "{details}");
    }
    let details = app
        .place_hold(&json!({"ticket_ids": [ids[0], ids[1], ids[0]]}))
        .await
        .error(StatusCode::BAD_REQUEST, "VALIDATION_ERROR");
    assert_eq!(
        details["reason"],
        format!("ticket {} is listed more than once", ids[0])
    );
    let details = app
        .place_hold(&json!({"event_name": "Gala", "quantity": 0}))
        .await
        .error(StatusCode::BAD_REQUEST, "VALIDATION_ERROR");
    assert_eq!(details["reason"], "a hold needs at least one ticket");
    assert_eq!(app.stored_all(&ids), [Reservation::Unreserved; 2]);
}

#[actix_web::test]
async fn hold_bodies_follow_the_rules_of_every_body() {
    let app = TestApp::new();
    let ids = app.tickets_at("Gala", 1).await;
    let raw = |content_type: Option<&'static str>, body: Vec<u8>| {
        let mut request = TestRequest::post().uri("/api/holds").set_payload(body);
        if let Some(content_type) = content_type {
            request = request.insert_header((header::CONTENT_TYPE, content_type));
        }
        request
    };
    let body = format!("{{\"ticket_ids\": [{}]}}", ids[0]).into_bytes();
    app.send(raw(Some("text/plain"), body.clone()))
        .await
        .error(StatusCode::UNSUPPORTED_MEDIA_TYPE, "UNSUPPORTED_MEDIA_TYPE");
    let mut huge = b"{\"ticket_ids\": [".to_vec();
    huge.extend(std::iter::repeat_n(b' ', 65_536));
    huge.extend(b"1]}");
    app.send(raw(Some("application/json"), huge))
        .await
        .error(StatusCode::PAYLOAD_TOO_LARGE, "PAYLOAD_TOO_LARGE");
    app.send(raw(
        Some("application/json"),
        b"{\"ticket_ids\": [1".to_vec(),
    ))
    .await
    .error(StatusCode::BAD_REQUEST, "VALIDATION_ERROR");
    assert_eq!(app.stored_all(&ids), [Reservation::Unreserved]);
    // No content type at all is read as JSON, as for tickets.
    app.send(raw(None, body))
        .await
        .issued_hold(StatusCode::CREATED);
}

#[actix_web::test]
async fn reading_a_hold_needs_its_token() {
    let app = TestApp::new();
    let ids = app.tickets_at("Gala", 2).await;
    let (hold_id, token) = app.hold_of(&ids).await;
    let (_, stranger) = app.hold_of(&app.tickets_at("Gala", 1).await).await;

    let details = app
        .get(&hold_uri(&hold_id))
        .await
        .error(StatusCode::UNAUTHORIZED, "HOLD_TOKEN_REQUIRED");
    assert_eq!(details, json!({"hold_id": hold_id}));
    assert_eq!(
        app.get(&hold_uri(&hold_id))
            .await
            .header("www-authenticate"),
        None
    );
    let answer = app.get_with_token(&hold_uri(&hold_id), &stranger).await;
    let details = answer.error(StatusCode::FORBIDDEN, "HOLD_TOKEN_INVALID");
    assert_eq!(details, json!({"hold_id": hold_id}));
    let text = String::from_utf8_lossy(&answer.body);
    assert!(
        !text.contains(&stranger) && !text.contains(&token),
        "{text}"
    );
    for bad in [&b""[..], b"has space", "caf\u{e9}".as_bytes(), b"\xff\xfe"] {
        let request = TestRequest::get()
            .uri(&hold_uri(&hold_id))
            .insert_header((HOLD_TOKEN, HeaderValue::from_bytes(bad).unwrap()));
        app.send(request)
            .await
            .error(StatusCode::FORBIDDEN, "HOLD_TOKEN_INVALID");
    }
    let details = app
        .get_with_token(&hold_uri(UNKNOWN_HOLD), &token)
        .await
        .error(StatusCode::NOT_FOUND, "HOLD_NOT_FOUND");
    assert_eq!(details, json!({"hold_id": UNKNOWN_HOLD}));

    // Upper-case hex names the same hold.
    app.get_with_token(&hold_uri(&hold_id.to_uppercase()), &token)
        .await
        .hold(StatusCode::OK);
}

#[actix_web::test]
async fn a_hold_counts_down_its_whole_seconds_and_reads_expired_once_lapsed() {
    let app = TestApp::new();
    let ids = app.tickets_at("Gala", 2).await;
    let (hold_id, token) = app.hold_of(&ids).await;
    app.clock.advance(TimeDelta::milliseconds(10_500));
    let hold = app
        .get_with_token(&hold_uri(&hold_id), &token)
        .await
        .hold(StatusCode::OK);
    assert_eq!(hold["expires_in_seconds"], 49);
    app.clock
        .advance(TimeDelta::seconds(TTL_SECONDS) - TimeDelta::milliseconds(10_500));
    let hold = app
        .get_with_token(&hold_uri(&hold_id), &token)
        .await
        .hold(StatusCode::OK);
    assert_eq!(hold["expires_in_seconds"], 0);
    assert_eq!(hold["expires_at"], at(TTL_SECONDS));
    assert_eq!(each(&hold, "reservation_status"), [&json!("EXPIRED"); 2]);
    app.clock.advance(TimeDelta::seconds(1_000));
    let hold = app
        .get_with_token(&hold_uri(&hold_id), &token)
        .await
        .hold(StatusCode::OK);
    assert_eq!(hold["expires_in_seconds"], 0, "never negative");
}

#[actix_web::test]
async fn confirming_a_hold_sells_every_ticket_at_once_and_is_idempotent() {
    let app = TestApp::new();
    let ids = app.tickets_at("Gala", 3).await;
    let (hold_id, token) = app.hold_of(&ids).await;
    let (_, stranger) = app.hold_of(&app.tickets_at("Gala", 1).await).await;
    app.clock.advance(TimeDelta::seconds(10));

    // Without the hold's token, a live hold is never confirmed.
    let before = app.stored_all(&ids);
    let details = app
        .post(&confirm_uri(&hold_id))
        .await
        .error(StatusCode::UNAUTHORIZED, "HOLD_TOKEN_REQUIRED");
    assert_eq!(details, json!({"hold_id": hold_id}));
    app.post_with_token(&confirm_uri(&hold_id), &stranger)
        .await
        .error(StatusCode::FORBIDDEN, "HOLD_TOKEN_INVALID");
    assert_eq!(app.stored_all(&ids), before);

    let sold = app
        .post_with_token(&confirm_uri(&hold_id), &token)
        .await
        .hold(StatusCode::OK);
    assert_eq!(ticket_ids(&sold), ids);
    assert_eq!(each(&sold, "reservation_status"), [&json!("CONFIRMED"); 3]);
    assert_eq!(each(&sold, "reservation_confirmed_at"), [&json!(at(10)); 3]);
    assert_eq!(sold["created_at"], at(0));
    assert_eq!(sold["expires_at"], at(TTL_SECONDS));

    // Again, long after the hold would have lapsed: the same sale, for its token only.
    app.clock.advance(TimeDelta::seconds(10 * TTL_SECONDS));
    let again = app
        .post_with_token(&confirm_uri(&hold_id), &token)
        .await
        .hold(StatusCode::OK);
    assert_eq!(again["tickets"], sold["tickets"]);
    app.post(&confirm_uri(&hold_id))
        .await
        .error(StatusCode::UNAUTHORIZED, "HOLD_TOKEN_REQUIRED");
    app.post_with_token(&confirm_uri(&hold_id), &stranger)
        .await
        .error(StatusCode::FORBIDDEN, "HOLD_TOKEN_INVALID");
    app.post_with_token(&confirm_uri(UNKNOWN_HOLD), &token)
        .await
        .error(StatusCode::NOT_FOUND, "HOLD_NOT_FOUND");
}

#[actix_web::test]
async fn confirming_a_lapsed_hold_expires_every_ticket_and_is_refused() {
    let app = TestApp::new();
    let ids = app.tickets_at("Gala", 2).await;
    let (hold_id, token) = app.hold_of(&ids).await;
    app.clock.advance(TimeDelta::seconds(TTL_SECONDS));
    let expected = json!({"hold_id": hold_id, "expired_at": at(TTL_SECONDS)});

    // What a read shows comes before the token check, but records nothing.
    let details = app
        .post(&confirm_uri(&hold_id))
        .await
        .error(StatusCode::CONFLICT, "RESERVATION_EXPIRED");
    assert_eq!(details, expected);
    assert!(app
        .stored_all(&ids)
        .iter()
        .all(|stored| matches!(stored, Reservation::Tentative(_))));

    let details = app
        .post_with_token(&confirm_uri(&hold_id), &token)
        .await
        .error(StatusCode::CONFLICT, "RESERVATION_EXPIRED");
    assert_eq!(details, expected);
    assert!(
        app.stored_all(&ids)
            .iter()
            .all(|stored| matches!(stored, Reservation::Expired(_))),
        "every ticket is written EXPIRED in the same step"
    );
}

#[actix_web::test]
async fn releasing_a_hold_frees_every_ticket() {
    let app = TestApp::new();
    let ids = app.tickets_at("Gala", 2).await;
    let (hold_id, token) = app.hold_of(&ids).await;
    let (_, stranger) = app.hold_of(&app.tickets_at("Gala", 1).await).await;

    let before = app.stored_all(&ids);
    app.delete(&hold_uri(&hold_id))
        .await
        .error(StatusCode::UNAUTHORIZED, "HOLD_TOKEN_REQUIRED");
    app.delete_with_token(&hold_uri(&hold_id), &stranger)
        .await
        .error(StatusCode::FORBIDDEN, "HOLD_TOKEN_INVALID");
    assert_eq!(app.stored_all(&ids), before);

    let released = app
        .delete_with_token(&hold_uri(&hold_id), &token)
        .await
        .hold(StatusCode::OK);
    assert_eq!(released["hold_id"], hold_id);
    assert_eq!(released["created_at"], json!(null));
    assert_eq!(released["expires_at"], json!(null));
    assert_eq!(released["expires_in_seconds"], json!(null));
    assert_eq!(ticket_ids(&released), ids);
    assert_eq!(each(&released, "reservation_status"), [&json!(null); 2]);
    assert_eq!(app.stored_all(&ids), [Reservation::Unreserved; 2]);

    // The hold is gone; its tickets can be held again.
    app.get_with_token(&hold_uri(&hold_id), &token)
        .await
        .error(StatusCode::NOT_FOUND, "HOLD_NOT_FOUND");
    app.delete_with_token(&hold_uri(&hold_id), &token)
        .await
        .error(StatusCode::NOT_FOUND, "HOLD_NOT_FOUND");
    app.hold_of(&ids).await;
}

#[actix_web::test]
async fn a_sold_or_lapsed_hold_cannot_be_released() {
    let app = TestApp::new();
    let ids = app.tickets_at("Gala", 4).await;
    let (sold, sold_token) = app.hold_of(&ids[..2]).await;
    app.post_with_token(&confirm_uri(&sold), &sold_token)
        .await
        .hold(StatusCode::OK);
    let details = app
        .delete_with_token(&hold_uri(&sold), &sold_token)
        .await
        .error(StatusCode::CONFLICT, "TICKET_ALREADY_CONFIRMED");
    assert_eq!(details, json!({"hold_id": sold, "confirmed_at": at(0)}));
    // A sale any read shows: refused alike without the token.
    app.delete(&hold_uri(&sold))
        .await
        .error(StatusCode::CONFLICT, "TICKET_ALREADY_CONFIRMED");

    let (lapsed, token) = app.hold_of(&ids[2..]).await;
    app.clock.advance(TimeDelta::seconds(TTL_SECONDS));
    let details = app
        .delete_with_token(&hold_uri(&lapsed), &token)
        .await
        .error(StatusCode::CONFLICT, "NO_ACTIVE_RESERVATION");
    assert_eq!(details, json!({"hold_id": lapsed}));
}

#[actix_web::test]
async fn extending_a_hold_moves_its_expiry_up_to_the_cap() {
    let app = TestApp::new();
    let ids = app.tickets_at("Gala", 2).await;
    let (hold_id, token) = app.hold_of(&ids).await;
    let token = Some(token.as_str());

    app.clock.advance(TimeDelta::seconds(10));
    let extended = app
        .extend(&hold_id, token, json!({"ttl_seconds": 300}))
        .await
        .hold(StatusCode::OK);
    assert_eq!(extended["created_at"], at(0));
    assert_eq!(extended["expires_at"], at(310));
    assert_eq!(extended["expires_in_seconds"], 300);
    assert_eq!(
        each(&extended, "reservation_expires_at"),
        [&json!(at(310)); 2]
    );

    // Past the first TTL, still held; right up to created_at + max_hold.
    app.clock.advance(TimeDelta::seconds(290));
    let to_the_cap = app
        .extend(
            &hold_id,
            token,
            json!({"ttl_seconds": MAX_HOLD_SECONDS - 300}),
        )
        .await
        .hold(StatusCode::OK);
    assert_eq!(to_the_cap["expires_at"], at(MAX_HOLD_SECONDS));

    let before = app.stored_all(&ids);
    app.clock.advance(TimeDelta::seconds(400));
    let details = app
        .extend(&hold_id, token, json!({"ttl_seconds": 201}))
        .await
        .error(StatusCode::CONFLICT, "HOLD_EXTENSION_LIMIT");
    assert_eq!(
        details,
        json!({"hold_id": hold_id, "max_expires_at": at(MAX_HOLD_SECONDS)})
    );
    assert_eq!(app.stored_all(&ids), before);
    // Shortening within the cap is an extension too.
    let shorter = app
        .extend(&hold_id, token, json!({"ttl_seconds": 5}))
        .await
        .hold(StatusCode::OK);
    assert_eq!(shorter["expires_at"], at(705));
}

#[actix_web::test]
async fn extending_needs_the_token_and_a_live_unsold_hold() {
    let app = TestApp::new();
    let ids = app.tickets_at("Gala", 4).await;
    let (hold_id, token) = app.hold_of(&ids[..2]).await;
    let (_, stranger) = app.hold_of(&ids[2..3]).await;

    let before = app.stored_all(&ids);
    let details = app
        .extend(&hold_id, None, json!({"ttl_seconds": 120}))
        .await
        .error(StatusCode::UNAUTHORIZED, "HOLD_TOKEN_REQUIRED");
    assert_eq!(details, json!({"hold_id": hold_id}));
    app.extend(&hold_id, Some(&stranger), json!({"ttl_seconds": 120}))
        .await
        .error(StatusCode::FORBIDDEN, "HOLD_TOKEN_INVALID");
    app.extend(UNKNOWN_HOLD, Some(&token), json!({"ttl_seconds": 120}))
        .await
        .error(StatusCode::NOT_FOUND, "HOLD_NOT_FOUND");
    assert_eq!(app.stored_all(&ids), before);

    app.post_with_token(&confirm_uri(&hold_id), &token)
        .await
        .hold(StatusCode::OK);
    let details = app
        .extend(&hold_id, Some(&token), json!({"ttl_seconds": 120}))
        .await
        .error(StatusCode::CONFLICT, "TICKET_ALREADY_CONFIRMED");
    assert_eq!(details, json!({"hold_id": hold_id, "confirmed_at": at(0)}));

    let (lapsed, lapsed_token) = app.hold_of(&ids[3..]).await;
    app.clock.advance(TimeDelta::seconds(TTL_SECONDS));
    let details = app
        .extend(&lapsed, Some(&lapsed_token), json!({"ttl_seconds": 120}))
        .await
        .error(StatusCode::CONFLICT, "RESERVATION_EXPIRED");
    assert_eq!(
        details,
        json!({"hold_id": lapsed, "expired_at": at(TTL_SECONDS)})
    );
}

#[actix_web::test]
async fn bad_extensions_are_refused_and_change_nothing() {
    let app = TestApp::new();
    let ids = app.tickets_at("Gala", 1).await;
    let (hold_id, token) = app.hold_of(&ids).await;
    let before = app.stored_all(&ids);
    for (body, field) in [
        (json!({"ttl_seconds": 0}), "ttl_seconds"),
        (json!({"ttl_seconds": -1}), "ttl_seconds"),
        (json!({"ttl_seconds": MAX_HOLD_SECONDS + 1}), "ttl_seconds"),
        (json!({"ttl_seconds": i64::MAX}), "ttl_seconds"),
        (json!({"ttl_seconds": u64::MAX}), "ttl_seconds"),
        (json!({"ttl_seconds": 1.5}), "ttl_seconds"),
        (json!({"ttl_seconds": 60.0}), "ttl_seconds"),
        (json!({"ttl_seconds": "60"}), "ttl_seconds"),
        (json!({"ttl_seconds": null}), "ttl_seconds"),
        (json!({}), "ttl_seconds"),
        (json!({"ttl_seconds": 60, "hold_id": hold_id}), "hold_id"),
        (json!([60]), "body"),
    ] {
        let details = app
            .extend(&hold_id, Some(&token), body.clone())
            .await
            .error(StatusCode::BAD_REQUEST, "VALIDATION_ERROR");
        assert_eq!(details["field"], field, "{body}: {details}");
    }
    let details = app
        .extend(&hold_id, Some(&token), json!({"ttl_seconds": 0}))
        .await
        .error(StatusCode::BAD_REQUEST, "VALIDATION_ERROR");
    assert_eq!(
        details["reason"],
        format!("an extension must be between 1 and {MAX_HOLD_SECONDS} seconds, got 0")
    );
    let no_body = TestRequest::post()
        .uri(&extend_uri(&hold_id))
        .insert_header((HOLD_TOKEN, token.as_str()));
    app.send(no_body)
        .await
        .error(StatusCode::BAD_REQUEST, "VALIDATION_ERROR");
    assert_eq!(app.stored_all(&ids), before);
}

/// A malformed hold id on every hold route, as the domain refuses it.
const BAD_HOLD_IDS: [&str; 6] = [
    "abc",
    "7",
    "67e5504410b1426f9247bb680e5fe0c8",
    "urn:uuid:67e55044-10b1-426f-9247-bb680e5fe0c8",
    "67e55044-10b1-426f-9247-bb680e5fe0cg",
    "67e55044-10b1-426f-9247-bb680e5fe0c8a",
];

#[actix_web::test]
async fn malformed_hold_ids_are_refused_on_every_hold_route() {
    let app = TestApp::new();
    let ids = app.tickets_at("Gala", 1).await;
    let (_, token) = app.hold_of(&ids).await;
    let before = app.stored_all(&ids);
    for raw in BAD_HOLD_IDS {
        let requests = [
            TestRequest::get().uri(&hold_uri(raw)),
            TestRequest::post().uri(&confirm_uri(raw)),
            TestRequest::delete().uri(&hold_uri(raw)),
            TestRequest::post()
                .uri(&extend_uri(raw))
                .set_json(json!({"ttl_seconds": 60})),
        ];
        for request in requests {
            let details = app
                .send_with_token(request, &token)
                .await
                .error(StatusCode::BAD_REQUEST, "INVALID_HOLD_ID");
            assert_eq!(
                details,
                json!({
                    "hold_id": raw,
                    "reason": "a hold id is a UUID written as 8-4-4-4-12 hexadecimal digits"
                }),
                "{raw}"
            );
        }
    }
    // The id is checked before the body is read.
    app.send(TestRequest::post().uri(&extend_uri("abc")))
        .await
        .error(StatusCode::BAD_REQUEST, "INVALID_HOLD_ID");
    assert_eq!(app.stored_all(&ids), before);
}

#[actix_web::test]
async fn without_required_tokens_anyone_may_act_on_a_hold_but_a_token_sent_must_match() {
    let app = TestApp::anonymous();
    let ids = app.tickets_at("Gala", 4).await;
    let (hold_id, token) = app.hold_of(&ids[..2]).await;
    let (other, _) = app.hold_of(&ids[2..]).await;

    app.get(&hold_uri(&hold_id)).await.hold(StatusCode::OK);
    let extended = app
        .extend(&hold_id, None, json!({"ttl_seconds": 120}))
        .await
        .hold(StatusCode::OK);
    assert_eq!(extended["expires_at"], at(120));
    app.post_with_token(&confirm_uri(&other), &token)
        .await
        .error(StatusCode::FORBIDDEN, "HOLD_TOKEN_INVALID");
    let sold = app.post(&confirm_uri(&hold_id)).await.hold(StatusCode::OK);
    assert_eq!(each(&sold, "reservation_status"), [&json!("CONFIRMED"); 2]);
    app.post(&confirm_uri(&hold_id)).await.hold(StatusCode::OK);
    let released = app.delete(&hold_uri(&other)).await.hold(StatusCode::OK);
    assert_eq!(each(&released, "reservation_status"), [&json!(null); 2]);
    // The token is still answered, once, for those who use it.
    let (_, token) = app.hold_of(&ids[2..3]).await;
    assert_eq!(token.len(), 43);
}
