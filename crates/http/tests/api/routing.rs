//! Paths and methods: malformed and unknown ids on every ticket route, unknown routes
//! (404) and known routes with the wrong method (405 with `Allow`).

use actix_web::http::{Method, StatusCode};
use actix_web::test::TestRequest;
use serde_json::json;

use crate::helpers::{TestApp, BAD_IDS};

/// Every route that names a ticket, with `{id}` to fill in.
const TICKET_ROUTES: [(Method, &str); 4] = [
    (Method::GET, "/api/tickets/{id}"),
    (Method::POST, "/api/tickets/{id}/reservation"),
    (Method::DELETE, "/api/tickets/{id}/reservation"),
    (Method::POST, "/api/tickets/{id}/confirm"),
];

async fn call(app: &TestApp, method: &Method, uri: &str) -> crate::helpers::Answer {
    app.send(TestRequest::default().method(method.clone()).uri(uri))
        .await
}

#[actix_web::test]
async fn malformed_ids_are_refused_on_every_ticket_route() {
    let app = TestApp::new();
    app.ticket().await;
    let reasons = [
        (
            "abc",
            "ticket id must be a positive integer written in decimal digits",
        ),
        ("0", "ticket id must be greater than zero"),
        ("-1", "ticket id must be greater than zero"),
        (
            "1.5",
            "ticket id must be a positive integer written in decimal digits",
        ),
        (
            "99999999999999999999",
            "ticket id is larger than 9223372036854775807",
        ),
    ];
    assert_eq!(reasons.map(|(id, _)| id), BAD_IDS);
    for (method, route) in &TICKET_ROUTES {
        for (id, reason) in reasons {
            let uri = route.replace("{id}", id);
            let details = call(&app, method, &uri)
                .await
                .error(StatusCode::BAD_REQUEST, "INVALID_TICKET_ID");
            assert_eq!(
                details,
                json!({"ticket_id": id, "reason": reason}),
                "{method} {uri}"
            );
        }
    }
}

#[actix_web::test]
async fn unknown_ids_are_not_found_on_every_ticket_route() {
    let app = TestApp::new();
    app.ticket().await;
    for (method, route) in &TICKET_ROUTES {
        let uri = route.replace("{id}", "2");
        let details = call(&app, method, &uri)
            .await
            .error(StatusCode::NOT_FOUND, "TICKET_NOT_FOUND");
        assert_eq!(details, json!({"ticket_id": 2}), "{method} {uri}");
    }
}

#[actix_web::test]
async fn unknown_routes_answer_not_found() {
    let app = TestApp::new();
    let id = app.ticket().await;
    for (method, uri) in [
        (Method::GET, "/".to_owned()),
        (Method::GET, "/tickets/1".to_owned()),
        (Method::GET, "/api".to_owned()),
        (Method::GET, "/api/".to_owned()),
        (Method::POST, "/api/nope".to_owned()),
        (Method::GET, "/api/tickets/".to_owned()),
        (Method::GET, format!("/api/tickets/{id}/")),
        (Method::GET, format!("/api/tickets/{id}/nope")),
        (Method::POST, format!("/api/tickets/{id}/reservation/1")),
        (Method::GET, "/api/holds/".to_owned()),
        (
            Method::POST,
            "/api/holds/67e55044-10b1-426f-9247-bb680e5fe0c8/nope".to_owned(),
        ),
        (Method::GET, "/api/healthz".to_owned()),
    ] {
        let details = call(&app, &method, &uri)
            .await
            .error(StatusCode::NOT_FOUND, "NOT_FOUND");
        let path = uri.split('?').next().unwrap();
        assert_eq!(details, json!({"path": path}), "{method} {uri}");
    }
}

#[actix_web::test]
async fn known_routes_refuse_other_methods_with_allow() {
    let app = TestApp::new();
    let id = app.ticket().await;
    let ticket = format!("/api/tickets/{id}");
    let reservation = format!("/api/tickets/{id}/reservation");
    let confirm = format!("/api/tickets/{id}/confirm");
    let hold = "/api/holds/67e55044-10b1-426f-9247-bb680e5fe0c8".to_owned();
    let hold_confirm = format!("{hold}/confirm");
    let hold_extend = format!("{hold}/extend");
    let cases = [
        ("/api/health", Method::POST, "GET"),
        ("/api/health", Method::DELETE, "GET"),
        ("/api/health/live", Method::POST, "GET"),
        ("/api/tickets", Method::DELETE, "GET, POST"),
        ("/api/tickets", Method::PUT, "GET, POST"),
        (ticket.as_str(), Method::POST, "GET"),
        (ticket.as_str(), Method::DELETE, "GET"),
        (ticket.as_str(), Method::PATCH, "GET"),
        (reservation.as_str(), Method::GET, "POST, DELETE"),
        (reservation.as_str(), Method::PUT, "POST, DELETE"),
        (confirm.as_str(), Method::GET, "POST"),
        (confirm.as_str(), Method::DELETE, "POST"),
        ("/api/holds", Method::GET, "POST"),
        ("/api/holds", Method::DELETE, "POST"),
        (hold.as_str(), Method::POST, "GET, DELETE"),
        (hold.as_str(), Method::PUT, "GET, DELETE"),
        (hold_confirm.as_str(), Method::GET, "POST"),
        (hold_extend.as_str(), Method::GET, "POST"),
        (hold_extend.as_str(), Method::PATCH, "POST"),
    ];
    for (uri, method, allow) in cases {
        let answer = call(&app, &method, uri).await;
        let details = answer.error(StatusCode::METHOD_NOT_ALLOWED, "METHOD_NOT_ALLOWED");
        assert_eq!(answer.header("allow"), Some(allow), "{method} {uri}");
        let allowed: Vec<&str> = allow.split(", ").collect();
        assert_eq!(
            details,
            json!({"method": method.as_str(), "allowed": allowed}),
            "{method} {uri}"
        );
    }
    // The method is checked before the id is parsed.
    call(&app, &Method::PUT, "/api/tickets/abc")
        .await
        .error(StatusCode::METHOD_NOT_ALLOWED, "METHOD_NOT_ALLOWED");
    call(&app, &Method::PUT, "/api/holds/abc")
        .await
        .error(StatusCode::METHOD_NOT_ALLOWED, "METHOD_NOT_ALLOWED");
}
