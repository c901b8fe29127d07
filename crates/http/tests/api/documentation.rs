//! The OpenAPI document as a client sees it: every documented operation answers, every
//! other method on a documented path is 405 with the document's methods in `Allow`, and
//! the schemas state the domain's limits. (Routes and document come from one
//! registration, so they cannot disagree by construction.)

use std::collections::BTreeSet;

use actix_web::http::{Method, StatusCode};
use actix_web::test::TestRequest;
use serde_json::Value;
use ticketing_domain::{EventName, Seat};
use ticketing_ports::PageLimit;

use crate::helpers::{Answer, TestApp};

/// Every method a route could be registered with.
fn methods() -> [Method; 9] {
    [
        Method::GET,
        Method::HEAD,
        Method::POST,
        Method::PUT,
        Method::PATCH,
        Method::DELETE,
        Method::OPTIONS,
        Method::TRACE,
        Method::from_bytes(b"PURGE").unwrap(),
    ]
}

/// The document as a client reads it.
async fn document() -> Value {
    let answer = TestApp::new().get("/api/openapi.json").await;
    answer.assert_status(StatusCode::OK);
    answer.json()
}

/// `(path, METHOD)` for every operation in the document.
fn documented_operations(document: &Value) -> BTreeSet<(String, String)> {
    let mut operations = BTreeSet::new();
    for (path, item) in document["paths"].as_object().unwrap() {
        for method in item.as_object().unwrap().keys() {
            if method != "parameters" {
                operations.insert((path.clone(), method.to_uppercase()));
            }
        }
    }
    operations
}

/// A hold id for the documented hold paths (no ticket carries it).
const SOME_HOLD: &str = "67e55044-10b1-426f-9247-bb680e5fe0c8";

/// A concrete path for a pattern: `{id}` is `id`, `{hold_id}` is [`SOME_HOLD`].
fn concrete(pattern: &str, id: i64) -> String {
    pattern
        .replace("{id}", &id.to_string())
        .replace("{hold_id}", SOME_HOLD)
}

/// Whether the application answered as it does for a route it does not have.
fn is_unrouted(answer: &Answer) -> bool {
    match answer.status {
        StatusCode::METHOD_NOT_ALLOWED => true,
        StatusCode::NOT_FOUND => answer.json()["error_code"] == "NOT_FOUND",
        _ => false,
    }
}

#[actix_web::test]
async fn every_documented_operation_is_served() {
    let app = TestApp::new();
    let id = app.ticket().await;
    let operations = documented_operations(&document().await);
    assert!(operations.len() >= 13, "{operations:?}");
    for (path, method) in operations {
        let request = TestRequest::default()
            .method(Method::from_bytes(method.as_bytes()).unwrap())
            .uri(&concrete(&path, id));
        let answer = app.send(request).await;
        assert!(
            !is_unrouted(&answer),
            "{method} {path} is documented but answers {} {}",
            answer.status,
            String::from_utf8_lossy(&answer.body)
        );
    }
}

#[actix_web::test]
async fn other_methods_on_a_documented_path_answer_405_with_the_documented_allow() {
    let app = TestApp::new();
    let id = app.ticket().await;
    let operations = documented_operations(&document().await);
    let paths: BTreeSet<&String> = operations.iter().map(|(path, _)| path).collect();
    for path in paths {
        // In the order `Allow` lists them: `methods()` order.
        let allowed: Vec<String> = methods()
            .iter()
            .map(Method::to_string)
            .filter(|method| operations.contains(&(path.clone(), method.clone())))
            .collect();
        let uri = concrete(path, id);
        for method in methods() {
            if allowed.contains(&method.to_string()) {
                continue;
            }
            let answer = app
                .send(TestRequest::default().method(method.clone()).uri(&uri))
                .await;
            let details = answer.error(StatusCode::METHOD_NOT_ALLOWED, "METHOD_NOT_ALLOWED");
            assert_eq!(
                answer.header("allow"),
                Some(allowed.join(", ").as_str()),
                "{method} {uri}"
            );
            assert_eq!(
                details["allowed"],
                serde_json::json!(allowed),
                "{method} {uri}"
            );
        }
    }
}

#[actix_web::test]
async fn the_document_is_served_and_lists_every_error_code() {
    let app = TestApp::new();
    let answer = app.get("/api/openapi.json").await;
    answer.assert_status(StatusCode::OK);
    assert_eq!(answer.header("content-type"), Some("application/json"));
    let served = answer.json();
    assert!(served["openapi"].as_str().unwrap().starts_with("3."));

    let schemas = &served["components"]["schemas"];
    let codes: BTreeSet<&str> = schemas["ErrorCode"]["enum"]
        .as_array()
        .unwrap()
        .iter()
        .map(|code| code.as_str().unwrap())
        .collect();
    let expected = BTreeSet::from([
        "INVALID_TICKET_ID",
        "VALIDATION_ERROR",
        "PAYLOAD_TOO_LARGE",
        "UNSUPPORTED_MEDIA_TYPE",
        "NOT_FOUND",
        "METHOD_NOT_ALLOWED",
        "TICKET_NOT_FOUND",
        "RESERVATION_ALREADY_ACTIVE",
        "TICKET_ALREADY_CONFIRMED",
        "RESERVATION_EXPIRED",
        "NO_ACTIVE_RESERVATION",
        "INVALID_HOLD_ID",
        "HOLD_NOT_FOUND",
        "HOLD_TOKEN_REQUIRED",
        "HOLD_TOKEN_INVALID",
        "TICKETS_UNAVAILABLE",
        "HOLD_EXTENSION_LIMIT",
        "SERVICE_UNAVAILABLE",
        "INTERNAL_ERROR",
    ]);
    assert_eq!(codes, expected);
    let envelope = &schemas["ErrorBody"];
    assert_eq!(
        envelope["properties"]["error_code"]["$ref"],
        "#/components/schemas/ErrorCode"
    );
    let mut required: Vec<&str> = envelope["required"]
        .as_array()
        .unwrap()
        .iter()
        .map(|field| field.as_str().unwrap())
        .collect();
    required.sort_unstable();
    assert_eq!(required, ["details", "error_code", "message"]);

    // Every operation documents its failures with the envelope.
    for (path, item) in served["paths"].as_object().unwrap() {
        for (method, operation) in item.as_object().unwrap() {
            for (status, response) in operation["responses"].as_object().unwrap() {
                if status.starts_with('4') || status.starts_with('5') {
                    assert_eq!(
                        response["content"]["application/json"]["schema"]["$ref"],
                        "#/components/schemas/ErrorBody",
                        "{method} {path} {status}"
                    );
                }
            }
        }
    }
}

#[actix_web::test]
async fn every_operation_documents_the_request_id() {
    let document = document().await;
    for (path, item) in document["paths"].as_object().unwrap() {
        for (method, operation) in item.as_object().unwrap() {
            for (status, response) in operation["responses"].as_object().unwrap() {
                assert_eq!(
                    response["headers"]["X-Request-Id"]["schema"]["type"], "string",
                    "{method} {path} {status}"
                );
            }
        }
    }
}

#[actix_web::test]
async fn the_new_ticket_schema_states_the_domain_limits() {
    let document = document().await;
    let schema = &document["components"]["schemas"]["NewTicket"];
    assert_eq!(schema["additionalProperties"], false);
    assert_eq!(schema["required"], serde_json::json!(["event_name"]));
    let event_name = &schema["properties"]["event_name"];
    assert_eq!(event_name["maxLength"], EventName::MAX_CHARS);
    assert_eq!(event_name["minLength"], 1);
    let seat = &schema["properties"]["seat"];
    assert_eq!(seat["maxLength"], Seat::MAX_CHARS);
    assert_eq!(seat["minLength"], 1);

    // "No U+0000, and one character that is not whitespace": the class of that one
    // character excludes exactly NUL and what the domain's `trim` removes.
    let pattern = event_name["pattern"].as_str().unwrap();
    assert_eq!(seat["pattern"], pattern);
    let excluded = pattern
        .strip_prefix("^[^\\u0000]*[^")
        .and_then(|rest| rest.strip_suffix("][^\\u0000]*$"))
        .unwrap_or_else(|| panic!("unexpected pattern {pattern}"));
    for c in (0..=0x3000u32).filter_map(char::from_u32) {
        let in_class = class_contains(excluded, c);
        assert_eq!(
            in_class,
            c.is_whitespace() || c == '\0',
            "{c:?} (U+{:04X})",
            c as u32
        );
    }
}

#[actix_web::test]
async fn text_the_document_refuses_is_refused() {
    let app = TestApp::new();
    for (body, field, reason) in [
        (
            serde_json::json!({"event_name": "Gala\u{0}"}),
            "event_name",
            "event name must not contain the NUL character (U+0000)",
        ),
        (
            serde_json::json!({"event_name": "Gala", "seat": "\u{0}A"}),
            "seat",
            "seat must not contain the NUL character (U+0000)",
        ),
    ] {
        let details = app
            .create(&body)
            .await
            .error(StatusCode::BAD_REQUEST, "VALIDATION_ERROR");
        assert_eq!(details["field"], field, "{body}");
        assert_eq!(details["reason"], reason, "{body}");
    }
}

/// Whether the (negated) character class body `class` lists `c`: escapes `\t`, `\r`,
/// `\uXXXX`, literal characters, and ranges `a-b`.
fn class_contains(class: &str, c: char) -> bool {
    let mut items = Vec::new();
    let mut chars = class.chars().peekable();
    while let Some(next) = chars.next() {
        let value = if next == '\\' {
            match chars.next().unwrap() {
                't' => '\t',
                'r' => '\r',
                'n' => '\n',
                'u' => {
                    let hex: String = chars.by_ref().take(4).collect();
                    char::from_u32(u32::from_str_radix(&hex, 16).unwrap()).unwrap()
                }
                other => other,
            }
        } else {
            next
        };
        items.push(value);
    }
    let mut index = 0;
    while index < items.len() {
        if index + 2 < items.len() && items[index + 1] == '-' {
            if (items[index]..=items[index + 2]).contains(&c) {
                return true;
            }
            index += 3;
        } else {
            if items[index] == c {
                return true;
            }
            index += 1;
        }
    }
    false
}

#[actix_web::test]
async fn the_listing_parameters_state_the_page_and_event_name_limits() {
    let document = document().await;
    let parameters = document["paths"]["/api/tickets"]["get"]["parameters"]
        .as_array()
        .unwrap();
    let schema = |name: &str| {
        parameters
            .iter()
            .find(|parameter| parameter["name"] == name)
            .unwrap_or_else(|| panic!("no parameter {name}"))["schema"]
            .clone()
    };
    let limit = schema("limit");
    assert_eq!(limit["minimum"], PageLimit::MIN);
    assert_eq!(limit["maximum"], PageLimit::MAX);
    assert_eq!(limit["default"], PageLimit::DEFAULT.get());
    let event_name = schema("event_name");
    assert_eq!(event_name["minLength"], 1);
    assert_eq!(event_name["maxLength"], EventName::MAX_CHARS);
    // The query refuses what a body refuses (schemathesis sent a NUL where the listing
    // documented none), so both state the same pattern.
    let body_pattern =
        &document["components"]["schemas"]["NewTicket"]["properties"]["event_name"]["pattern"];
    assert!(body_pattern.is_string(), "{body_pattern}");
    assert_eq!(&event_name["pattern"], body_pattern);
}

#[actix_web::test]
async fn every_hold_route_is_documented_with_the_hold_token_header() {
    let document = document().await;
    let paths = &document["paths"];
    let with_token = [
        ("/api/holds/{hold_id}", "get"),
        ("/api/holds/{hold_id}", "delete"),
        ("/api/holds/{hold_id}/confirm", "post"),
        ("/api/holds/{hold_id}/extend", "post"),
        ("/api/tickets/{id}/confirm", "post"),
        ("/api/tickets/{id}/reservation", "delete"),
    ];
    for (path, method) in with_token {
        let operation = &paths[path][method];
        let parameters = operation["parameters"]
            .as_array()
            .unwrap_or_else(|| panic!("{method} {path} has no parameters"));
        let header = parameters
            .iter()
            .find(|parameter| parameter["in"] == "header")
            .unwrap_or_else(|| panic!("{method} {path} documents no header"));
        assert_eq!(header["name"], "Hold-Token", "{method} {path}");
        assert_eq!(header["schema"]["type"], "string", "{method} {path}");
        assert_ne!(header["required"], true, "{method} {path}");
        for status in ["401", "403"] {
            assert!(
                operation["responses"][status].is_object(),
                "{method} {path} {status}"
            );
        }
        if path.starts_with("/api/holds") {
            let hold_id = parameters
                .iter()
                .find(|parameter| parameter["name"] == "hold_id")
                .unwrap();
            assert_eq!(hold_id["in"], "path");
            assert_eq!(hold_id["schema"]["format"], "uuid");
            for status in ["400", "404"] {
                assert!(
                    operation["responses"][status].is_object(),
                    "{path} {status}"
                );
            }
        }
    }
    // Placing a hold needs no token; it answers one.
    let place = &paths["/api/holds"]["post"];
    assert!(place["parameters"].is_null(), "{place}");
    assert_eq!(
        place["responses"]["201"]["content"]["application/json"]["schema"]["$ref"],
        "#/components/schemas/IssuedHold"
    );
    assert_eq!(
        paths["/api/tickets/{id}/reservation"]["post"]["responses"]["201"]["content"]
            ["application/json"]["schema"]["$ref"],
        "#/components/schemas/ReservedTicket"
    );
}

#[actix_web::test]
async fn the_hold_schemas_state_their_fields() {
    let document = document().await;
    let schemas = &document["components"]["schemas"];
    let required = |schema: &Value| -> BTreeSet<String> {
        schema["required"]
            .as_array()
            .unwrap_or_else(|| panic!("no required fields: {schema}"))
            .iter()
            .map(|field| field.as_str().unwrap().to_owned())
            .collect()
    };
    let hold = &schemas["Hold"];
    assert_eq!(
        required(hold),
        BTreeSet::from(
            [
                "hold_id",
                "created_at",
                "expires_at",
                "expires_in_seconds",
                "tickets"
            ]
            .map(String::from)
        )
    );
    assert!(hold["properties"]["hold_token"].is_null(), "{hold}");
    assert_eq!(
        hold["properties"]["tickets"]["items"]["$ref"],
        "#/components/schemas/Ticket"
    );
    // The token is in the answer creating a hold, and in that of a reservation.
    let issued = serde_json::to_string(&schemas["IssuedHold"]).unwrap();
    assert!(issued.contains("hold_token") && issued.contains("#/components/schemas/Hold"));
    let ticket_hold = &schemas["TicketHold"];
    assert_eq!(
        required(ticket_hold),
        BTreeSet::from(
            ["hold_id", "hold_token", "expires_at", "expires_in_seconds"].map(String::from)
        )
    );
    let reserved = serde_json::to_string(&schemas["ReservedTicket"]).unwrap();
    assert!(reserved.contains("#/components/schemas/Ticket\"") && reserved.contains("TicketHold"));
    // The ticket's own schema carries no hold.
    assert!(schemas["Ticket"]["properties"]["hold_id"].is_null());

    // Both shapes of a new hold refuse unknown fields; the event name is a ticket's.
    let new_hold = serde_json::to_string(&schemas["NewHold"]).unwrap();
    assert!(new_hold.contains("HoldTickets") && new_hold.contains("HoldBestAvailable"));
    for name in ["HoldTickets", "HoldBestAvailable", "HoldExtension"] {
        assert_eq!(schemas[name]["additionalProperties"], false, "{name}");
    }
    assert_eq!(
        schemas["HoldBestAvailable"]["properties"]["event_name"]["pattern"],
        schemas["NewTicket"]["properties"]["event_name"]["pattern"]
    );
    assert_eq!(
        schemas["HoldExtension"]["properties"]["ttl_seconds"]["minimum"],
        1
    );
    assert_eq!(schemas["TicketId"]["minimum"], 1);
}
