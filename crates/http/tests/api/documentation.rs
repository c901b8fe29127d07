//! The OpenAPI document against the routes: everything documented is served, and
//! everything served is documented. The routes served are read from actix's own resource
//! map, not from the document, so a route registered around utoipa-actix-web (a plain
//! `.route(...)`) fails here.

use std::cell::RefCell;
use std::collections::BTreeSet;
use std::rc::Rc;
use std::sync::Arc;

use actix_web::dev::Service as _;
use actix_web::http::{Method, StatusCode};
use actix_web::test::{self, TestRequest};
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

/// Swagger UI: an HTML page for people, deliberately outside the API's document.
const UNDOCUMENTED: [&str; 2] = ["/docs", "/docs/{_:.*}"];

fn document() -> Value {
    serde_json::to_value(ticketing_http::openapi::document()).unwrap()
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

/// A concrete path for a pattern: `{id}` is `id`, a tail pattern is empty.
fn concrete(pattern: &str, id: i64) -> String {
    pattern
        .replace("{id}", &id.to_string())
        .replace("{_:.*}", "")
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
    let operations = documented_operations(&document());
    assert!(operations.len() >= 8, "{operations:?}");
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
async fn every_route_served_is_documented() {
    let app = TestApp::new();
    let id = app.ticket().await;
    let patterns = registered_patterns(&app).await;
    let document = document();
    let operations = documented_operations(&document);

    let documented_paths: BTreeSet<String> =
        operations.iter().map(|(path, _)| path.clone()).collect();
    let served_paths: BTreeSet<String> = patterns
        .iter()
        .filter(|pattern| !UNDOCUMENTED.contains(&pattern.as_str()))
        .cloned()
        .collect();
    assert_eq!(
        served_paths, documented_paths,
        "resource patterns vs. documented paths"
    );

    for pattern in &patterns {
        for method in methods() {
            let uri = concrete(pattern, id);
            let answer = app
                .send(TestRequest::default().method(method.clone()).uri(&uri))
                .await;
            if is_unrouted(&answer) || UNDOCUMENTED.contains(&pattern.as_str()) {
                continue;
            }
            assert!(
                operations.contains(&(pattern.clone(), method.to_string())),
                "{method} {uri} answers {} but the document has no {method} {pattern}",
                answer.status
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
    assert_eq!(served, document());
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
    let document = document();
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
    let document = document();
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
    for (body, field) in [
        (serde_json::json!({"event_name": "Gala\u{0}"}), "event_name"),
        (
            serde_json::json!({"event_name": "Gala", "seat": "\u{0}A"}),
            "seat",
        ),
    ] {
        let details = app
            .create(&body)
            .await
            .error(StatusCode::BAD_REQUEST, "VALIDATION_ERROR");
        assert_eq!(details["field"], field, "{body}");
        assert_eq!(
            details["reason"],
            "must not contain the NUL character (U+0000)"
        );
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

/// The full pattern of every resource the application registered, read from the
/// resource map an actix request carries.
async fn registered_patterns(app: &TestApp) -> BTreeSet<String> {
    let seen: Rc<RefCell<String>> = Rc::default();
    let capture = seen.clone();
    let application = ticketing_http::app(app.service.clone(), Arc::new(String::new));
    let service = test::init_service(application.wrap_fn(move |request, service| {
        *capture.borrow_mut() = format!("{:?}", request.request().resource_map());
        service.call(request)
    }))
    .await;
    test::call_service(&service, TestRequest::get().uri("/").to_request()).await;
    let text = seen.borrow().clone();
    let tree = debug_text::parse(&text);
    let mut patterns = BTreeSet::new();
    leaves(&tree, "", &mut patterns);
    for expected in ["/api/tickets/{id}", "/metrics", "/docs/{_:.*}"] {
        assert!(
            patterns.contains(expected),
            "{expected} not in {patterns:?}"
        );
    }
    patterns
}

/// Walks `ResourceMap { pattern, nodes, .. }`: a node without children is a resource.
fn leaves(node: &debug_text::Debug, prefix: &str, out: &mut BTreeSet<String>) {
    let pattern = node.field("pattern").field("patterns").single_string();
    let full = format!("{prefix}{pattern}");
    match node.field("nodes").some() {
        Some(children) => {
            for child in children.list() {
                leaves(child, &full, out);
            }
        }
        None => {
            out.insert(full);
        }
    }
}

/// Just enough of a parser for Rust's `{:?}` output to read a `ResourceMap`, which
/// actix exposes only through `Debug`.
mod debug_text {
    use std::iter::Peekable;
    use std::str::Chars;

    // Struct names and map entries are only read when a failure prints the tree.
    #[allow(dead_code)]
    #[derive(Debug)]
    pub(crate) enum Debug {
        Text(String),
        Struct(String, Vec<(String, Debug)>),
        Tuple(String, Vec<Debug>),
        List(Vec<Debug>),
        Map(Vec<(Debug, Debug)>),
        Atom(String),
    }

    impl Debug {
        pub(crate) fn field(&self, name: &str) -> &Debug {
            match self {
                Self::Struct(_, fields) => fields
                    .iter()
                    .find(|(field, _)| field == name)
                    .map(|(_, value)| value)
                    .unwrap_or_else(|| panic!("no field {name} in {self:?}")),
                other => panic!("not a struct: {other:?}"),
            }
        }

        pub(crate) fn single_string(&self) -> &str {
            match self {
                Self::Tuple(name, values) if name == "Single" => match &values[..] {
                    [Self::Text(text)] => text,
                    other => panic!("not one string: {other:?}"),
                },
                other => panic!("not Single(..): {other:?}"),
            }
        }

        pub(crate) fn some(&self) -> Option<&Debug> {
            match self {
                Self::Tuple(name, values) if name == "Some" => values.first(),
                Self::Atom(name) if name == "None" => None,
                other => panic!("not an Option: {other:?}"),
            }
        }

        pub(crate) fn list(&self) -> &[Debug] {
            match self {
                Self::List(items) => items,
                other => panic!("not a list: {other:?}"),
            }
        }
    }

    pub(crate) fn parse(text: &str) -> Debug {
        let mut chars = text.chars().peekable();
        let value = value(&mut chars);
        skip_space(&mut chars);
        assert!(chars.next().is_none(), "trailing text after the value");
        value
    }

    fn skip_space(chars: &mut Peekable<Chars<'_>>) {
        while chars.peek().is_some_and(|c| c.is_whitespace()) {
            chars.next();
        }
    }

    fn expect(chars: &mut Peekable<Chars<'_>>, wanted: char) {
        skip_space(chars);
        assert_eq!(chars.next(), Some(wanted));
    }

    /// Items separated by `,` up to `close`, each read by `item`.
    fn items<T>(
        chars: &mut Peekable<Chars<'_>>,
        close: char,
        mut item: impl FnMut(&mut Peekable<Chars<'_>>) -> T,
    ) -> Vec<T> {
        let mut items = Vec::new();
        loop {
            skip_space(chars);
            if chars.peek() == Some(&close) {
                chars.next();
                return items;
            }
            items.push(item(chars));
            skip_space(chars);
            if chars.peek() == Some(&',') {
                chars.next();
            }
        }
    }

    fn value(chars: &mut Peekable<Chars<'_>>) -> Debug {
        skip_space(chars);
        match chars.peek().copied() {
            Some('"') => Debug::Text(string(chars)),
            Some('[') => {
                chars.next();
                Debug::List(items(chars, ']', value))
            }
            Some('{') => {
                chars.next();
                Debug::Map(items(chars, '}', |chars| {
                    let key = value(chars);
                    expect(chars, ':');
                    (key, value(chars))
                }))
            }
            Some('(') => {
                chars.next();
                Debug::Tuple(String::new(), items(chars, ')', value))
            }
            _ => {
                let mut name = String::new();
                while let Some(&c) = chars.peek() {
                    if " ,()[]{}:".contains(c) {
                        break;
                    }
                    name.push(c);
                    chars.next();
                }
                // `Name { .. }` and `Name(..)`; a `::` path continues the name.
                while chars.peek() == Some(&':') {
                    let mut ahead = chars.clone();
                    ahead.next();
                    if ahead.peek() != Some(&':') {
                        return Debug::Atom(name);
                    }
                    chars.next();
                    chars.next();
                    name.push_str("::");
                    name.push_str(&identifier(chars));
                }
                let mut ahead = chars.clone();
                skip_space(&mut ahead);
                match ahead.peek() {
                    Some('{') => {
                        skip_space(chars);
                        chars.next();
                        Debug::Struct(
                            name,
                            items(chars, '}', |chars| {
                                skip_space(chars);
                                let field = identifier(chars);
                                expect(chars, ':');
                                (field, value(chars))
                            }),
                        )
                    }
                    Some('(') if chars.peek() == Some(&'(') => {
                        chars.next();
                        Debug::Tuple(name, items(chars, ')', value))
                    }
                    _ => Debug::Atom(name),
                }
            }
        }
    }

    fn identifier(chars: &mut Peekable<Chars<'_>>) -> String {
        let mut name = String::new();
        while let Some(&c) = chars.peek() {
            if c.is_alphanumeric() || c == '_' {
                name.push(c);
                chars.next();
            } else {
                break;
            }
        }
        name
    }

    fn string(chars: &mut Peekable<Chars<'_>>) -> String {
        assert_eq!(chars.next(), Some('"'));
        let mut text = String::new();
        while let Some(c) = chars.next() {
            match c {
                '"' => return text,
                '\\' => match chars.next() {
                    Some('n') => text.push('\n'),
                    Some('t') => text.push('\t'),
                    Some('r') => text.push('\r'),
                    Some('0') => text.push('\0'),
                    Some('u') => {
                        let hex: String = chars
                            .by_ref()
                            .skip_while(|c| *c == '{')
                            .take_while(|c| *c != '}')
                            .collect();
                        text.extend(u32::from_str_radix(&hex, 16).ok().and_then(char::from_u32));
                    }
                    Some(other) => text.push(other),
                    None => break,
                },
                other => text.push(other),
            }
        }
        panic!("unterminated string");
    }
}

#[actix_web::test]
async fn the_listing_parameters_state_the_page_and_event_name_limits() {
    let document = document();
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
}
