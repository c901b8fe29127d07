//! The log lines an operator gets: the application's own subscriber (as `telemetry::init`
//! builds it) captured while requests go through the whole HTTP application, over the
//! in-memory repository. Every line about a request carries the request's fields.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::io::Write;
use std::sync::{Arc, Mutex};

use actix_web::test::{self, TestRequest};
use chrono::{TimeZone, Utc};
use serde_json::Value;
use ticketing_app::settings::{LogFormat, LogSettings};
use ticketing_app::telemetry;
use ticketing_domain::{Clock, ManualClock, ReservationPolicy};
use ticketing_ports::memory::{Fault, InMemoryTicketRepository};
use ticketing_ports::{TicketRepository, TicketService};

/// Lines written by the subscriber, shared with the test.
#[derive(Clone, Default)]
struct Captured(Arc<Mutex<Vec<u8>>>);

impl Write for Captured {
    fn write(&mut self, bytes: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(bytes);
        Ok(bytes.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

impl Captured {
    fn text(&self) -> String {
        String::from_utf8(self.0.lock().unwrap().clone()).unwrap()
    }
}

fn service(repository: Arc<InMemoryTicketRepository>) -> Arc<ticketing_http::TicketUseCases> {
    let clock = ManualClock::new(Utc.with_ymd_and_hms(2026, 11, 26, 12, 0, 0).unwrap());
    Arc::new(TicketService::new(
        repository as Arc<dyn TicketRepository>,
        Arc::new(clock) as Arc<dyn Clock>,
        ReservationPolicy::from_ttl_seconds(60).unwrap(),
    ))
}

/// Runs `requests` through the application with the subscriber for `format` installed
/// on this thread (actix's test service runs handlers and middleware here); answers the
/// captured output.
async fn capture(format: LogFormat, requests: Vec<(TestRequest, Option<Fault>)>) -> String {
    let captured = Captured::default();
    let writer = captured.clone();
    let settings = LogSettings {
        level: "info".to_owned(),
        format,
    };
    let _installed = tracing::subscriber::set_default(telemetry::subscriber(
        &settings,
        move || writer.clone(),
        false,
    ));
    let repository = Arc::new(InMemoryTicketRepository::new());
    let app = test::init_service(ticketing_http::app(
        service(repository.clone()),
        Arc::new(String::new),
        ticketing_http::Limits::default(),
    ))
    .await;
    for (request, fault) in requests {
        repository.set_fault(fault);
        test::call_service(&app, request.to_request()).await;
    }
    captured.text()
}

fn json_lines(text: &str) -> Vec<Value> {
    text.lines()
        .map(|line| serde_json::from_str(line).unwrap_or_else(|_| panic!("not JSON: {line}")))
        .collect()
}

#[actix_web::test]
async fn json_lines_carry_the_request_span_fields() {
    let text = capture(
        LogFormat::Json,
        vec![
            (
                TestRequest::post()
                    .uri("/api/tickets")
                    .insert_header(("X-Request-Id", "trace-me-1"))
                    .set_json(serde_json::json!({"event_name": "Gala"})),
                None,
            ),
            (
                TestRequest::get()
                    .uri("/api/tickets/1")
                    .insert_header(("X-Request-Id", "trace-me-2")),
                Some(Fault::Unexpected),
            ),
            (TestRequest::get().uri("/nowhere/42"), None),
        ],
    )
    .await;
    let lines = json_lines(&text);

    let completed: Vec<&Value> = lines
        .iter()
        .filter(|line| line["message"] == "request completed")
        .collect();
    assert_eq!(
        completed.len(),
        3,
        "one completion event per request:\n{text}"
    );
    let created = completed[0];
    assert_eq!(created["level"], "INFO");
    assert_eq!(created["target"], "ticketing_http::access");
    let span = &created["span"];
    assert_eq!(span["name"], "request");
    assert_eq!(span["request_id"], "trace-me-1");
    assert_eq!(span["method"], "POST");
    assert_eq!(span["route"], "/api/tickets");
    assert_eq!(span["status"], 201);
    assert!(span["latency_ms"].as_f64().unwrap() >= 0.0, "{created}");

    // The 500 is logged with its cause chain, inside the span of its request.
    let failure = lines
        .iter()
        .find(|line| line["level"] == "ERROR")
        .unwrap_or_else(|| panic!("no error line:\n{text}"));
    assert_eq!(failure["span"]["request_id"], "trace-me-2", "{failure}");
    assert_eq!(failure["span"]["route"], "/api/tickets/{id}");
    let chain = failure["error"].as_str().unwrap();
    assert!(
        chain.starts_with("ticket request failed: unexpected failure in ticket storage: "),
        "{chain}"
    );
    assert_eq!(completed[1]["span"]["status"], 500);

    // No id sent: a generated one, and unknown paths under one route label.
    let unknown = &completed[2]["span"];
    assert_eq!(unknown["route"], "unmatched");
    assert_eq!(unknown["status"], 404);
    assert_eq!(
        unknown["request_id"].as_str().unwrap().len(),
        36,
        "{unknown}"
    );
}

#[actix_web::test]
async fn pretty_lines_carry_the_request_span_fields() {
    let text = capture(
        LogFormat::Pretty,
        vec![(
            TestRequest::get()
                .uri("/api/tickets/7")
                .insert_header(("X-Request-Id", "pretty-1")),
            None,
        )],
    )
    .await;
    let line = text
        .lines()
        .find(|line| line.contains("request completed"))
        .unwrap_or_else(|| panic!("no completion line:\n{text}"));
    for field in [
        "request_id=\"pretty-1\"",
        "method=\"GET\"",
        "route=\"/api/tickets/{id}\"",
        "status=404",
        "latency_ms=",
        "ticketing_http::access",
    ] {
        assert!(line.contains(field), "{field} missing from {line}");
    }
}
