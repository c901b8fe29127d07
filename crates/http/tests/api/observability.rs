//! Request ids and the HTTP metrics, through the whole application with a local
//! Prometheus recorder (never the process-wide one; the reservation counters, recorded
//! off this thread, are in `tests/counters.rs`); and the `Hold-Token` kept out of logs
//! and spans.

use std::fmt::{self, Write as _};
use std::sync::{Arc, Mutex};

use actix_web::http::StatusCode;
use actix_web::test::TestRequest;
use metrics_exporter_prometheus::{PrometheusBuilder, PrometheusHandle, PrometheusRecorder};
use ticketing_ports::memory::Fault;
use tracing::field::{Field, Visit};
use tracing::span::{Attributes, Id, Record};
use tracing::{Event, Metadata};

use crate::helpers::TestApp;

fn is_uuid_v4(text: &str) -> bool {
    uuid::Uuid::parse_str(text).is_ok_and(|id| id.get_version_num() == 4)
}

#[actix_web::test]
async fn a_sane_request_id_is_echoed_on_success_and_on_errors() {
    let app = TestApp::new();
    let id = app.ticket().await;
    let requests = [
        (
            TestRequest::get().uri(&format!("/api/tickets/{id}")),
            StatusCode::OK,
        ),
        (
            TestRequest::get().uri("/api/tickets/abc"),
            StatusCode::BAD_REQUEST,
        ),
        (
            TestRequest::get().uri("/api/tickets/999"),
            StatusCode::NOT_FOUND,
        ),
        (TestRequest::get().uri("/nowhere"), StatusCode::NOT_FOUND),
        (
            TestRequest::put().uri("/api/tickets/1"),
            StatusCode::METHOD_NOT_ALLOWED,
        ),
        (
            TestRequest::post().uri(&format!("/api/tickets/{id}/confirm")),
            StatusCode::CONFLICT,
        ),
    ];
    for (n, (request, status)) in requests.into_iter().enumerate() {
        let sent = format!("client-{n}:trace/ab~!");
        let answer = app
            .send(request.insert_header(("X-Request-Id", sent.as_str())))
            .await;
        answer.assert_status(status);
        assert_eq!(answer.header("x-request-id"), Some(sent.as_str()));
    }
    let longest = "r".repeat(128);
    let answer = app
        .send(
            TestRequest::get()
                .uri("/api/health")
                .insert_header(("X-Request-Id", longest.as_str())),
        )
        .await;
    assert_eq!(answer.header("x-request-id"), Some(longest.as_str()));
}

#[actix_web::test]
async fn a_missing_or_unreasonable_request_id_is_replaced_by_a_generated_one() {
    let app = TestApp::new();
    let too_long = "r".repeat(129);
    let unreasonable: [Option<&[u8]>; 5] = [
        None,
        Some(b""),
        Some(b"has spaces"),
        Some(too_long.as_bytes()),
        Some("caf\u{e9}".as_bytes()),
    ];
    let mut seen = Vec::new();
    for sent in unreasonable {
        let mut request = TestRequest::get().uri("/api/tickets/0");
        if let Some(sent) = sent {
            request = request.insert_header((
                "X-Request-Id",
                actix_web::http::header::HeaderValue::from_bytes(sent).unwrap(),
            ));
        }
        let answer = app.send(request).await;
        answer.assert_status(StatusCode::BAD_REQUEST);
        let generated = answer
            .header("x-request-id")
            .expect("a request id")
            .to_owned();
        assert!(is_uuid_v4(&generated), "{generated:?} for {sent:?}");
        seen.push(generated);
    }
    seen.sort();
    seen.dedup();
    assert_eq!(seen.len(), 5, "each request gets its own id");
}

/// A recorder for this test alone, installed on this thread: actix's test service runs
/// handlers and middleware on the test's thread.
fn local_recorder() -> (PrometheusRecorder, PrometheusHandle) {
    let recorder = PrometheusBuilder::new().build_recorder();
    let handle = recorder.handle();
    (recorder, handle)
}

/// The value of the series `name{labels}` (labels exactly as rendered), if present.
fn sample(rendered: &str, series: &str) -> Option<f64> {
    rendered.lines().find_map(|line| {
        let (name, value) = line.rsplit_once(' ')?;
        (name == series).then(|| value.parse().unwrap())
    })
}

#[actix_web::test]
async fn requests_are_counted_by_method_route_pattern_and_status() {
    let (recorder, handle) = local_recorder();
    let _local = metrics::set_default_local_recorder(&recorder);
    let app = TestApp::new();
    let id = app.ticket().await;
    app.get(&format!("/api/tickets/{id}")).await;
    app.get("/api/tickets/77").await;
    app.get("/api/tickets/abc").await;
    app.get("/no/such/path/1").await;
    app.get("/no/such/path/2").await;

    let rendered = handle.render();
    for (series, count) in [
        (
            r#"http_requests_total{method="POST",route="/api/tickets",status="201"}"#,
            1.0,
        ),
        (
            r#"http_requests_total{method="GET",route="/api/tickets/{id}",status="200"}"#,
            1.0,
        ),
        (
            r#"http_requests_total{method="GET",route="/api/tickets/{id}",status="404"}"#,
            1.0,
        ),
        (
            r#"http_requests_total{method="GET",route="/api/tickets/{id}",status="400"}"#,
            1.0,
        ),
        // Unknown paths share one label, so they cannot create series without bound.
        (
            r#"http_requests_total{method="GET",route="unmatched",status="404"}"#,
            2.0,
        ),
    ] {
        assert_eq!(
            sample(&rendered, series),
            Some(count),
            "{series} in {rendered}"
        );
    }
    let duration_count =
        r#"http_request_duration_seconds_count{method="GET",route="/api/tickets/{id}"}"#;
    // Without configured buckets the local recorder renders a summary; the count is there either way.
    assert_eq!(sample(&rendered, duration_count), Some(3.0), "{rendered}");
}

/// A subscriber that keeps everything it is told, spans and events alike, as text: every
/// field of every span (when created and when recorded) and of every event, at any level
/// and target.
#[derive(Debug, Clone, Default)]
struct EverythingLogged(Arc<Mutex<Vec<String>>>);

impl EverythingLogged {
    fn text(&self) -> String {
        self.0.lock().unwrap().join("\n")
    }
}

struct Fields<'a>(&'a mut String);

impl Visit for Fields<'_> {
    fn record_debug(&mut self, field: &Field, value: &dyn fmt::Debug) {
        write!(self.0, " {}={value:?}", field.name()).unwrap();
    }
}

impl tracing::Subscriber for EverythingLogged {
    fn enabled(&self, _: &Metadata<'_>) -> bool {
        true
    }
    fn new_span(&self, attributes: &Attributes<'_>) -> Id {
        let mut line = format!("span {}", attributes.metadata().name());
        attributes.record(&mut Fields(&mut line));
        let mut lines = self.0.lock().unwrap();
        lines.push(line);
        Id::from_u64(lines.len() as u64)
    }
    fn record(&self, _: &Id, values: &Record<'_>) {
        let mut line = String::from("record");
        values.record(&mut Fields(&mut line));
        self.0.lock().unwrap().push(line);
    }
    fn record_follows_from(&self, _: &Id, _: &Id) {}
    fn event(&self, event: &Event<'_>) {
        let mut line = format!("event {}", event.metadata().target());
        event.record(&mut Fields(&mut line));
        self.0.lock().unwrap().push(line);
    }
    fn enter(&self, _: &Id) {}
    fn exit(&self, _: &Id) {}
}

#[actix_web::test]
async fn the_hold_token_is_never_logged_nor_put_in_a_span() {
    let app = TestApp::new();
    let id = app.ticket().await;
    let token = app.reserve(id).await;
    let (hold, _) = app
        .place_hold(&serde_json::json!({"ticket_ids": [app.ticket().await]}))
        .await
        .issued_hold(StatusCode::CREATED);
    let hold_uri = format!("/api/holds/{}", hold["hold_id"].as_str().unwrap());
    let wrong = "wrong-token-that-must-not-be-logged";

    let logs = EverythingLogged::default();
    let _guard = tracing::subscriber::set_default(logs.clone());
    app.get_with_token(&hold_uri, wrong)
        .await
        .error(StatusCode::FORBIDDEN, "HOLD_TOKEN_INVALID");
    app.post_with_token(&format!("/api/tickets/{id}/confirm"), &token)
        .await
        .ticket(StatusCode::OK);
    app.get_with_token(&hold_uri, &token)
        .await
        .error(StatusCode::FORBIDDEN, "HOLD_TOKEN_INVALID");
    app.post_with_token("/api/holds/abc/confirm", &token)
        .await
        .error(StatusCode::BAD_REQUEST, "INVALID_HOLD_ID");
    // A failure logs its whole cause chain: still nothing of the token.
    app.repository.set_fault(Some(Fault::Unexpected));
    app.post_with_token(&format!("/api/tickets/{id}/confirm"), &token)
        .await
        .error(StatusCode::INTERNAL_SERVER_ERROR, "INTERNAL_ERROR");
    app.post_with_token(&format!("{hold_uri}/confirm"), wrong)
        .await
        .error(StatusCode::INTERNAL_SERVER_ERROR, "INTERNAL_ERROR");
    app.repository.set_fault(None);

    let text = logs.text();
    // The capture works: every request has its span and its access log line.
    assert_eq!(text.matches("span request").count(), 6, "{text}");
    assert_eq!(
        text.matches("event ticketing_http::access").count(),
        6,
        "{text}"
    );
    assert_eq!(text.matches("answering 500").count(), 2, "{text}");
    for secret in [token.as_str(), wrong] {
        assert!(!text.contains(secret), "{secret:?} was logged:\n{text}");
    }
    assert!(!text.to_lowercase().contains("hold-token"), "{text}");
}
