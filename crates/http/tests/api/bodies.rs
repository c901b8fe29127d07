//! The body of `POST /api/tickets`: every validation refusal names the field and the
//! reason; other media types answer 415 and bodies over 64 KiB answer 413.

use actix_web::http::{header, StatusCode};
use actix_web::test::TestRequest;
use actix_web::web::Bytes;
use futures_util::stream;
use serde_json::{json, Value};

use crate::helpers::TestApp;

/// The contract's body limit, 64 KiB.
const BODY_LIMIT_BYTES: usize = 65_536;

const JSON: Option<&str> = Some("application/json");

/// Posts `body` and checks it is refused with exactly these details; then checks that
/// nothing was stored.
async fn assert_refused(app: &TestApp, body: &[u8], field: &str, reason: &str) {
    let answer = app.create_raw(JSON, body.to_vec()).await;
    let details = answer.error(StatusCode::BAD_REQUEST, "VALIDATION_ERROR");
    assert_eq!(
        details,
        json!({"field": field, "reason": reason}),
        "body {:?}",
        String::from_utf8_lossy(body)
    );
    // Callers create no ticket before their refusals, so a stored one would be ticket 1.
    app.get("/api/tickets/1")
        .await
        .error(StatusCode::NOT_FOUND, "TICKET_NOT_FOUND");
}

#[actix_web::test]
async fn a_body_that_is_not_json_is_refused() {
    let app = TestApp::new();
    for body in [
        &b""[..],
        b"event_name=Gala",
        b"{\"event_name\": ",
        b"{\"event_name\": \"Gala\"} trailing",
        b"{'event_name': 'Gala'}",
        b"{\"event_name\": \"\xff\xfe\"}",
    ] {
        let answer = app.create_raw(JSON, body.to_vec()).await;
        let details = answer.error(StatusCode::BAD_REQUEST, "VALIDATION_ERROR");
        assert_eq!(details["field"], "body");
        let reason = details["reason"].as_str().unwrap();
        assert!(
            reason.starts_with("is not valid JSON: "),
            "{reason} for {:?}",
            String::from_utf8_lossy(body)
        );
        assert_eq!(details.as_object().unwrap().len(), 2);
    }
    app.get("/api/tickets/1")
        .await
        .error(StatusCode::NOT_FOUND, "TICKET_NOT_FOUND");
}

#[actix_web::test]
async fn a_body_that_is_not_an_object_is_refused() {
    let app = TestApp::new();
    for (body, kind) in [
        ("[]", "an array"),
        ("[{\"event_name\": \"Gala\"}]", "an array"),
        ("\"Gala\"", "a string"),
        ("42", "a number"),
        ("true", "a boolean"),
        ("null", "null"),
    ] {
        let reason = format!("must be a JSON object, got {kind}");
        assert_refused(&app, body.as_bytes(), "body", &reason).await;
    }
}

#[actix_web::test]
async fn a_missing_event_name_is_refused() {
    let app = TestApp::new();
    for body in [json!({}), json!({"seat": "A-12"}), json!({"seat": null})] {
        let bytes = body.to_string();
        assert_refused(&app, bytes.as_bytes(), "event_name", "is required").await;
    }
}

#[actix_web::test]
async fn mistyped_fields_are_refused() {
    let app = TestApp::new();
    let kinds = [
        (json!(null), "null"),
        (json!(42), "a number"),
        (json!(1.5), "a number"),
        (json!(true), "a boolean"),
        (json!(["Gala"]), "an array"),
        (json!({"name": "Gala"}), "an object"),
    ];
    for (value, kind) in &kinds {
        let body = json!({"event_name": value, "seat": "A-12"}).to_string();
        let reason = format!("must be a string, got {kind}");
        assert_refused(&app, body.as_bytes(), "event_name", &reason).await;
    }
    // `null` is a valid seat; every other non-string is not.
    for (value, kind) in &kinds[1..] {
        let body = json!({"event_name": "Gala", "seat": value}).to_string();
        let reason = format!("must be a string or null, got {kind}");
        assert_refused(&app, body.as_bytes(), "seat", &reason).await;
    }
}

#[actix_web::test]
async fn fields_beyond_their_limits_are_refused() {
    let app = TestApp::new();
    let cases: [(Value, &str, &str); 7] = [
        (
            json!({"event_name": ""}),
            "event_name",
            "event name must not be empty or blank",
        ),
        (
            json!({"event_name": " \t\n "}),
            "event_name",
            "event name must not be empty or blank",
        ),
        (
            json!({"event_name": "x".repeat(201)}),
            "event_name",
            "event name must be at most 200 characters, got 201",
        ),
        (
            json!({"event_name": "é".repeat(201)}),
            "event_name",
            "event name must be at most 200 characters, got 201",
        ),
        (
            json!({"event_name": "Gala", "seat": ""}),
            "seat",
            "seat must not be empty or blank",
        ),
        (
            json!({"event_name": "Gala", "seat": "   "}),
            "seat",
            "seat must not be empty or blank",
        ),
        (
            json!({"event_name": "Gala", "seat": "1".repeat(51)}),
            "seat",
            "seat must be at most 50 characters, got 51",
        ),
    ];
    for (body, field, reason) in cases {
        assert_refused(&app, body.to_string().as_bytes(), field, reason).await;
    }
    // The limits themselves are accepted.
    app.create(&json!({"event_name": "x".repeat(200), "seat": "1".repeat(50)}))
        .await
        .ticket(StatusCode::CREATED);
}

#[actix_web::test]
async fn unknown_fields_are_refused() {
    let app = TestApp::new();
    let reason = "is not a field of a ticket (expected event_name, seat)";
    for (body, field) in [
        (json!({"event_name": "Gala", "price": 10}), "price"),
        (json!({"event_name": "Gala", "Seat": "A-1"}), "Seat"),
        (json!({"event_name": "Gala", "id": 7}), "id"),
        (
            json!({"event_name": "Gala", "reservation_status": "CONFIRMED"}),
            "reservation_status",
        ),
    ] {
        assert_refused(&app, body.to_string().as_bytes(), field, reason).await;
    }
}

#[actix_web::test]
async fn json_media_types_and_a_missing_content_type_are_accepted() {
    let app = TestApp::new();
    let body = br#"{"event_name": "Gala"}"#;
    for content_type in [
        None,
        Some("application/json"),
        Some("application/json; charset=utf-8"),
        Some("application/merge-patch+json"),
        Some("application/vnd.ticketing+json"),
    ] {
        app.create_raw(content_type, body.to_vec())
            .await
            .ticket(StatusCode::CREATED);
    }
}

#[actix_web::test]
async fn other_media_types_are_unsupported() {
    let app = TestApp::new();
    let body = br#"{"event_name": "Gala"}"#;
    for content_type in [
        "text/plain",
        "text/json",
        "application/x-www-form-urlencoded",
        "multipart/form-data; boundary=x",
        "application/xml",
        "application/jsonx",
        "not a media type",
    ] {
        let details = app
            .create_raw(Some(content_type), body.to_vec())
            .await
            .error(StatusCode::UNSUPPORTED_MEDIA_TYPE, "UNSUPPORTED_MEDIA_TYPE");
        assert_eq!(
            details,
            json!({"content_type": content_type, "supported": ["application/json"]})
        );
    }
    app.get("/api/tickets/1")
        .await
        .error(StatusCode::NOT_FOUND, "TICKET_NOT_FOUND");
}

/// A valid body of exactly `length` bytes: the name, padded with JSON whitespace.
fn padded_body(length: usize) -> Vec<u8> {
    let head = br#"{"event_name": "Gala""#;
    let mut body = head.to_vec();
    body.resize(length - 1, b' ');
    body.push(b'}');
    body
}

#[actix_web::test]
async fn a_body_of_exactly_64_kib_is_accepted() {
    let app = TestApp::new();
    let body = padded_body(BODY_LIMIT_BYTES);
    app.create_raw(JSON, body.clone())
        .await
        .ticket(StatusCode::CREATED);
    let chunks: Vec<Bytes> = body.chunks(1000).map(Bytes::copy_from_slice).collect();
    app.send_streamed(
        TestRequest::post().uri("/api/tickets"),
        stream::iter(chunks),
    )
    .await
    .ticket(StatusCode::CREATED);
}

#[actix_web::test]
async fn a_body_over_64_kib_is_too_large() {
    let app = TestApp::new();
    let answer = app
        .create_raw(JSON, padded_body(BODY_LIMIT_BYTES + 1))
        .await;
    let details = answer.error(StatusCode::PAYLOAD_TOO_LARGE, "PAYLOAD_TOO_LARGE");
    assert_eq!(details, json!({"limit_bytes": 65_536}));
    app.get("/api/tickets/1")
        .await
        .error(StatusCode::NOT_FOUND, "TICKET_NOT_FOUND");
}

#[actix_web::test]
async fn a_declared_length_over_the_limit_is_refused_before_reading() {
    let app = TestApp::new();
    // The body is small; only the declared length is too large, so nothing was read.
    let request = TestRequest::post()
        .uri("/api/tickets")
        .insert_header((header::CONTENT_TYPE, "application/json"))
        .set_payload(&br#"{"event_name": "Gala"}"#[..])
        .insert_header((header::CONTENT_LENGTH, "10000000"));
    app.send(request)
        .await
        .error(StatusCode::PAYLOAD_TOO_LARGE, "PAYLOAD_TOO_LARGE");
}

#[actix_web::test]
async fn a_chunked_body_growing_past_the_limit_is_too_large() {
    let app = TestApp::new();
    let chunk = Bytes::from(vec![b' '; 8 * 1024]);
    let nine_chunks = stream::iter(vec![chunk.clone(); 9]);
    app.send_streamed(
        TestRequest::post()
            .uri("/api/tickets")
            .insert_header((header::CONTENT_TYPE, "application/json")),
        nine_chunks,
    )
    .await
    .error(StatusCode::PAYLOAD_TOO_LARGE, "PAYLOAD_TOO_LARGE");

    // A body that never ends is cut off at the limit, not read forever.
    app.send_streamed(
        TestRequest::post().uri("/api/tickets"),
        stream::repeat(chunk),
    )
    .await
    .error(StatusCode::PAYLOAD_TOO_LARGE, "PAYLOAD_TOO_LARGE");
}
