//! Failures of the service itself: storage unavailable (503), anything unexpected (500)
//! with a generic body and the cause in the log, and use cases kept off the worker thread.

use std::fmt::{self, Write as _};
use std::sync::{Arc, Mutex};
use std::thread::{self, ThreadId};

use actix_web::http::StatusCode;
use actix_web::test::TestRequest;
use serde_json::json;
use ticketing_domain::{
    Command, EventName, HoldId, NewHold, NewTicket, ReservationPolicy, Ticket, TicketId, TicketSet,
    Timestamp,
};
use ticketing_ports::memory::{Fault, InMemoryTicketRepository};
use ticketing_ports::{
    BestAvailable, Outcome, TicketError, TicketPage, TicketQuery, TicketRepository, TogetherOutcome,
};
use tracing::field::{Field, Visit};
use tracing::span::{Attributes, Id, Record};
use tracing::{Event, Metadata};

use crate::helpers::{Answer, TestApp};

/// Every route that reaches storage, with a ticket id filled in.
fn storage_routes(id: i64) -> Vec<(TestRequest, &'static str)> {
    vec![
        (
            TestRequest::post()
                .uri("/api/tickets")
                .set_json(json!({"event_name": "Gala"})),
            "create",
        ),
        (
            TestRequest::get().uri(&format!("/api/tickets/{id}")),
            "find",
        ),
        (
            TestRequest::post().uri(&format!("/api/tickets/{id}/reservation")),
            "reserve",
        ),
        (
            TestRequest::delete().uri(&format!("/api/tickets/{id}/reservation")),
            "release",
        ),
        (
            TestRequest::post().uri(&format!("/api/tickets/{id}/confirm")),
            "confirm",
        ),
        (
            TestRequest::get().uri("/api/tickets?status=available"),
            "list",
        ),
        (
            TestRequest::post()
                .uri("/api/holds")
                .set_json(json!({"ticket_ids": [id]})),
            "hold tickets",
        ),
        (
            TestRequest::post()
                .uri("/api/holds")
                .set_json(json!({"event_name": "Gala", "quantity": 1})),
            "hold best available",
        ),
        (
            TestRequest::get().uri(&format!("/api/holds/{SOME_HOLD}")),
            "find hold",
        ),
        (
            TestRequest::post().uri(&format!("/api/holds/{SOME_HOLD}/confirm")),
            "confirm hold",
        ),
        (
            TestRequest::delete().uri(&format!("/api/holds/{SOME_HOLD}")),
            "release hold",
        ),
        (
            TestRequest::post()
                .uri(&format!("/api/holds/{SOME_HOLD}/extend"))
                .set_json(json!({"ttl_seconds": 30})),
            "extend hold",
        ),
    ]
}

/// A hold id that no ticket carries.
const SOME_HOLD: &str = "67e55044-10b1-426f-9247-bb680e5fe0c8";

#[actix_web::test]
async fn unreachable_storage_answers_503_on_every_route() {
    let app = TestApp::new();
    let id = app.ticket().await;
    app.repository.set_fault(Some(Fault::Unavailable));
    for (request, route) in storage_routes(id) {
        let answer = app.send(request).await;
        let details = answer.error(StatusCode::SERVICE_UNAVAILABLE, "SERVICE_UNAVAILABLE");
        assert_eq!(details, json!({}), "{route}");
        assert_eq!(answer.header("retry-after"), Some("1"), "{route}");
        assert_generic(&answer);
    }
}

#[actix_web::test]
async fn unexpected_failures_answer_a_generic_500_on_every_route() {
    let app = TestApp::new();
    let id = app.ticket().await;
    app.repository.set_fault(Some(Fault::Unexpected));
    for (request, route) in storage_routes(id) {
        let answer = app.send(request).await;
        let details = answer.error(StatusCode::INTERNAL_SERVER_ERROR, "INTERNAL_ERROR");
        assert_eq!(details, json!({}), "{route}");
        assert_eq!(
            answer.json()["message"],
            "an unexpected error occurred; it has been logged"
        );
        assert_eq!(answer.header("retry-after"), None);
        assert_generic(&answer);
    }
}

/// Nothing of the cause reaches the client.
fn assert_generic(answer: &Answer) {
    let body = String::from_utf8_lossy(&answer.body).to_lowercase();
    for leak in ["injected", "fault", "storage", "panic", ".rs", "sql"] {
        assert!(!body.contains(leak), "{leak:?} leaked into {body}");
    }
}

#[actix_web::test]
async fn failures_log_their_cause_chain() {
    let app = TestApp::new();
    let id = app.ticket().await;
    let logs = CapturedLogs::default();
    let _guard = tracing::subscriber::set_default(logs.clone());

    app.repository.set_fault(Some(Fault::Unexpected));
    app.get(&format!("/api/tickets/{id}"))
        .await
        .error(StatusCode::INTERNAL_SERVER_ERROR, "INTERNAL_ERROR");
    app.repository.set_fault(Some(Fault::Unavailable));
    app.get(&format!("/api/tickets/{id}"))
        .await
        .error(StatusCode::SERVICE_UNAVAILABLE, "SERVICE_UNAVAILABLE");
    app.repository.set_fault(None);
    app.get("/api/tickets/abc")
        .await
        .error(StatusCode::BAD_REQUEST, "INVALID_TICKET_ID");

    let lines = logs.lines();
    assert_eq!(
        lines.len(),
        2,
        "client errors are not logged as failures: {lines:#?}"
    );
    assert!(
        lines[0].starts_with("ERROR ")
            && lines[0].contains(
                "ticket request failed: unexpected failure in ticket storage: injected fault: Unexpected"
            ),
        "{}",
        lines[0]
    );
    assert!(
        lines[1].starts_with("WARN ")
            && lines[1].contains(
                "ticket request failed: ticket storage is unavailable: injected fault: Unavailable"
            ),
        "{}",
        lines[1]
    );
}

/// A repository that panics, as a bug in an adapter would.
#[derive(Debug)]
struct PanickingRepository;

impl TicketRepository for PanickingRepository {
    fn create(&self, _: &NewTicket) -> Result<Ticket, TicketError> {
        panic!("create panicked at src/secret.rs:1")
    }
    fn find(&self, _: TicketId) -> Result<Ticket, TicketError> {
        panic!("find panicked at src/secret.rs:1")
    }
    fn apply(&self, _: TicketId, _: Command, _: Timestamp) -> Result<Outcome, TicketError> {
        panic!("apply panicked at src/secret.rs:1")
    }
    fn check_health(&self) -> Result<(), TicketError> {
        panic!("check_health panicked at src/secret.rs:1")
    }
    fn list(&self, _: &TicketQuery, _: Timestamp) -> Result<TicketPage, TicketError> {
        panic!("list panicked at src/secret.rs:1")
    }
    fn expire_lapsed(&self, _: Timestamp, _: u32) -> Result<u32, TicketError> {
        panic!("expire_lapsed panicked at src/secret.rs:1")
    }
    fn find_hold(&self, _: HoldId) -> Result<Vec<Ticket>, TicketError> {
        panic!("find_hold panicked at src/secret.rs:1")
    }
    fn apply_together(
        &self,
        _: &TicketSet,
        _: Command,
        _: Timestamp,
    ) -> Result<TogetherOutcome, TicketError> {
        panic!("apply_together panicked at src/secret.rs:1")
    }
    fn apply_to_hold(
        &self,
        _: HoldId,
        _: Command,
        _: Timestamp,
    ) -> Result<TogetherOutcome, TicketError> {
        panic!("apply_to_hold panicked at src/secret.rs:1")
    }
    fn hold_best_available(
        &self,
        _: &EventName,
        _: usize,
        _: NewHold,
        _: &ReservationPolicy,
        _: Timestamp,
    ) -> Result<BestAvailable, TicketError> {
        panic!("hold_best_available panicked at src/secret.rs:1")
    }
}

#[actix_web::test]
async fn a_panicking_use_case_answers_a_generic_500() {
    let app = TestApp::over(
        Arc::new(PanickingRepository),
        Arc::new(InMemoryTicketRepository::new()),
    );
    let mut requests = storage_routes(1);
    requests.push((TestRequest::get().uri("/api/health"), "health"));
    for (request, route) in requests {
        let answer = app.send(request).await;
        let details = answer.error(StatusCode::INTERNAL_SERVER_ERROR, "INTERNAL_ERROR");
        assert_eq!(details, json!({}), "{route}");
        assert_generic(&answer);
    }
    // The server survives: the next request is answered too.
    app.get("/api/tickets/1")
        .await
        .error(StatusCode::INTERNAL_SERVER_ERROR, "INTERNAL_ERROR");
}

/// Records the thread each repository call runs on.
#[derive(Debug)]
struct ThreadRecorder {
    inner: InMemoryTicketRepository,
    threads: Mutex<Vec<ThreadId>>,
}

impl ThreadRecorder {
    fn record(&self) {
        self.threads.lock().unwrap().push(thread::current().id());
    }
}

impl TicketRepository for ThreadRecorder {
    fn create(&self, ticket: &NewTicket) -> Result<Ticket, TicketError> {
        self.record();
        self.inner.create(ticket)
    }
    fn find(&self, id: TicketId) -> Result<Ticket, TicketError> {
        self.record();
        self.inner.find(id)
    }
    fn apply(
        &self,
        id: TicketId,
        command: Command,
        now: Timestamp,
    ) -> Result<Outcome, TicketError> {
        self.record();
        self.inner.apply(id, command, now)
    }
    fn check_health(&self) -> Result<(), TicketError> {
        self.record();
        self.inner.check_health()
    }
    fn list(&self, query: &TicketQuery, now: Timestamp) -> Result<TicketPage, TicketError> {
        self.record();
        self.inner.list(query, now)
    }
    fn expire_lapsed(&self, now: Timestamp, limit: u32) -> Result<u32, TicketError> {
        self.record();
        self.inner.expire_lapsed(now, limit)
    }
    fn find_hold(&self, hold: HoldId) -> Result<Vec<Ticket>, TicketError> {
        self.record();
        self.inner.find_hold(hold)
    }
    fn apply_together(
        &self,
        tickets: &TicketSet,
        command: Command,
        now: Timestamp,
    ) -> Result<TogetherOutcome, TicketError> {
        self.record();
        self.inner.apply_together(tickets, command, now)
    }
    fn apply_to_hold(
        &self,
        hold: HoldId,
        command: Command,
        now: Timestamp,
    ) -> Result<TogetherOutcome, TicketError> {
        self.record();
        self.inner.apply_to_hold(hold, command, now)
    }
    fn hold_best_available(
        &self,
        event: &EventName,
        quantity: usize,
        hold: NewHold,
        policy: &ReservationPolicy,
        now: Timestamp,
    ) -> Result<BestAvailable, TicketError> {
        self.record();
        self.inner
            .hold_best_available(event, quantity, hold, policy, now)
    }
}

#[actix_web::test]
async fn use_cases_run_off_the_worker_thread() {
    let recorder = Arc::new(ThreadRecorder {
        inner: InMemoryTicketRepository::new(),
        threads: Mutex::new(Vec::new()),
    });
    let app = TestApp::over(recorder.clone(), Arc::new(InMemoryTicketRepository::new()));
    let worker = thread::current().id();
    let mut requests = storage_routes(1);
    requests.push((TestRequest::get().uri("/api/health"), "health"));
    for (request, route) in requests {
        let answer = app.send(request).await;
        // Answered by the use case, whatever it decided (confirm after release is a 409).
        assert!(
            !answer.status.is_server_error(),
            "{route}: {:?}",
            answer.status
        );
    }
    let threads = recorder.threads.lock().unwrap();
    assert_eq!(threads.len(), 13, "one repository call per request");
    assert!(
        threads.iter().all(|thread| *thread != worker),
        "a repository call ran on the worker thread"
    );
}

/// A tracing subscriber that keeps each event as one line: `LEVEL field=value ...`.
#[derive(Debug, Clone, Default)]
struct CapturedLogs(Arc<Mutex<Vec<String>>>);

impl CapturedLogs {
    fn lines(&self) -> Vec<String> {
        self.0.lock().unwrap().clone()
    }
}

struct Line<'a>(&'a mut String);

impl Visit for Line<'_> {
    fn record_debug(&mut self, field: &Field, value: &dyn fmt::Debug) {
        write!(self.0, " {}={value:?}", field.name()).unwrap();
    }
}

impl tracing::Subscriber for CapturedLogs {
    fn enabled(&self, metadata: &Metadata<'_>) -> bool {
        // Every request's completion event is the access log, tested on its own.
        metadata.target() != "ticketing_http::access"
    }
    fn new_span(&self, _: &Attributes<'_>) -> Id {
        Id::from_u64(1)
    }
    fn record(&self, _: &Id, _: &Record<'_>) {}
    fn record_follows_from(&self, _: &Id, _: &Id) {}
    fn event(&self, event: &Event<'_>) {
        let mut line = event.metadata().level().to_string();
        event.record(&mut Line(&mut line));
        self.0.lock().unwrap().push(line);
    }
    fn enter(&self, _: &Id) {}
    fn exit(&self, _: &Id) {}
}

/// A repository whose lookups take `delay` (as a frozen database's would).
#[derive(Debug)]
struct SlowRepository {
    inner: InMemoryTicketRepository,
    delay: std::time::Duration,
}

impl TicketRepository for SlowRepository {
    fn create(&self, ticket: &NewTicket) -> Result<Ticket, TicketError> {
        self.inner.create(ticket)
    }
    fn find(&self, id: TicketId) -> Result<Ticket, TicketError> {
        thread::sleep(self.delay);
        self.inner.find(id)
    }
    fn apply(
        &self,
        id: TicketId,
        command: Command,
        now: Timestamp,
    ) -> Result<Outcome, TicketError> {
        self.inner.apply(id, command, now)
    }
    fn check_health(&self) -> Result<(), TicketError> {
        self.inner.check_health()
    }
    fn list(&self, query: &TicketQuery, now: Timestamp) -> Result<TicketPage, TicketError> {
        self.inner.list(query, now)
    }
    fn expire_lapsed(&self, now: Timestamp, limit: u32) -> Result<u32, TicketError> {
        self.inner.expire_lapsed(now, limit)
    }
    fn find_hold(&self, hold: HoldId) -> Result<Vec<Ticket>, TicketError> {
        self.inner.find_hold(hold)
    }
    fn apply_together(
        &self,
        tickets: &TicketSet,
        command: Command,
        now: Timestamp,
    ) -> Result<TogetherOutcome, TicketError> {
        self.inner.apply_together(tickets, command, now)
    }
    fn apply_to_hold(
        &self,
        hold: HoldId,
        command: Command,
        now: Timestamp,
    ) -> Result<TogetherOutcome, TicketError> {
        self.inner.apply_to_hold(hold, command, now)
    }
    fn hold_best_available(
        &self,
        event: &EventName,
        quantity: usize,
        hold: NewHold,
        policy: &ReservationPolicy,
        now: Timestamp,
    ) -> Result<BestAvailable, TicketError> {
        self.inner
            .hold_best_available(event, quantity, hold, policy, now)
    }
}

#[actix_web::test]
async fn a_request_not_answered_by_the_response_deadline_is_answered_503() {
    use std::time::{Duration, Instant};

    let slow = Arc::new(SlowRepository {
        inner: InMemoryTicketRepository::new(),
        delay: Duration::from_secs(1),
    });
    let mut app = TestApp::over(slow, Arc::new(InMemoryTicketRepository::new()));
    app.limits = ticketing_http::Limits {
        response_deadline: Some(Duration::from_millis(200)),
        queue_wait: Some(Duration::from_millis(200)),
    };
    let id = app.ticket().await;

    let started = Instant::now();
    let answer = app.get(&format!("/api/tickets/{id}")).await;
    answer.error(StatusCode::SERVICE_UNAVAILABLE, "SERVICE_UNAVAILABLE");
    assert_eq!(answer.header("retry-after"), Some("1"));
    assert!(
        answer.header("x-request-id").is_some(),
        "telemetry is outermost"
    );
    assert!(started.elapsed() < Duration::from_millis(800));
    assert_generic(&answer);
}
