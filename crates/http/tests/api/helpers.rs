//! A test application over the in-memory repository and a manual clock, and the checks
//! every answer goes through (the error envelope above all).

use std::pin::Pin;
use std::sync::Arc;

use actix_web::body::MessageBody;
use actix_web::dev::{Payload, ServiceFactory, ServiceRequest, ServiceResponse};
use actix_web::error::PayloadError;
use actix_web::http::header::{self, HeaderMap};
use actix_web::http::StatusCode;
use actix_web::test::{self, TestRequest};
use actix_web::web::Bytes;
use chrono::{DateTime, TimeZone, Utc};
use futures_util::Stream;
use serde_json::{json, Value};
use ticketing_domain::{Clock, ManualClock, ReservationPolicy};
use ticketing_http::{Limits, RenderMetrics};
use ticketing_ports::memory::InMemoryTicketRepository;
use ticketing_ports::{TicketRepository, TicketService};

/// The instant every test starts at.
pub(crate) fn start() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 11, 26, 12, 0, 0).unwrap()
}

pub(crate) const TTL_SECONDS: i64 = 60;

/// The longest a hold may last (the default cap), and the most tickets it may cover.
pub(crate) const MAX_HOLD_SECONDS: i64 = 900;
pub(crate) const MAX_TICKETS_PER_HOLD: usize = 10;

/// The rules every test application runs under.
pub(crate) fn policy() -> ReservationPolicy {
    let policy = ReservationPolicy::from_ttl_seconds(TTL_SECONDS).unwrap();
    assert_eq!(policy.max_hold().num_seconds(), MAX_HOLD_SECONDS);
    assert_eq!(policy.max_tickets_per_hold(), MAX_TICKETS_PER_HOLD);
    policy
}

/// The header a hold's token is sent in.
pub(crate) const HOLD_TOKEN: &str = "Hold-Token";

/// The id routes are tested with: each malformed the way the contract lists.
pub(crate) const BAD_IDS: [&str; 5] = ["abc", "0", "-1", "1.5", "99999999999999999999"];

pub(crate) struct TestApp {
    pub(crate) service: Arc<ticketing_http::TicketUseCases>,
    pub(crate) clock: Arc<ManualClock>,
    pub(crate) repository: Arc<InMemoryTicketRepository>,
    /// What `GET /metrics` answers; nothing unless a test says otherwise.
    pub(crate) render_metrics: RenderMetrics,
    /// Off unless a test turns them on.
    pub(crate) limits: Limits,
}

impl TestApp {
    pub(crate) fn new() -> Self {
        let repository = Arc::new(InMemoryTicketRepository::new());
        Self::over(repository.clone(), repository)
    }

    /// An application that does not require hold tokens (`require_hold_token = false`).
    pub(crate) fn anonymous() -> Self {
        let repository = Arc::new(InMemoryTicketRepository::new());
        Self::serving(repository.clone(), repository, false)
    }

    /// An application over `store`, with `repository` kept for arranging and faults.
    pub(crate) fn over(
        store: Arc<dyn TicketRepository>,
        repository: Arc<InMemoryTicketRepository>,
    ) -> Self {
        Self::serving(store, repository, true)
    }

    fn serving(
        store: Arc<dyn TicketRepository>,
        repository: Arc<InMemoryTicketRepository>,
        require_hold_token: bool,
    ) -> Self {
        let clock = Arc::new(ManualClock::new(start()));
        let service = Arc::new(
            TicketService::new(store, clock.clone() as Arc<dyn Clock>, policy())
                .requiring_hold_token(require_hold_token),
        );
        Self {
            service,
            clock,
            repository,
            render_metrics: Arc::new(String::new),
            limits: Limits::default(),
        }
    }

    /// The application the binary serves, over this test's use cases and limits.
    fn app(
        &self,
    ) -> actix_web::App<
        impl ServiceFactory<
            ServiceRequest,
            Config = (),
            Response = ServiceResponse<impl MessageBody>,
            Error = actix_web::Error,
            InitError = (),
        >,
    > {
        ticketing_http::app(
            self.service.clone(),
            self.render_metrics.clone(),
            self.limits,
        )
    }

    /// Sends one request through [`ticketing_http::app`].
    pub(crate) async fn send(&self, request: TestRequest) -> Answer {
        let app = test::init_service(self.app()).await;
        Answer::served(test::try_call_service(&app, request.to_request()).await).await
    }

    /// Sends `request` with `body` as its payload, chunk by chunk and without a declared
    /// length, the way a chunked upload arrives.
    pub(crate) async fn send_streamed(
        &self,
        request: TestRequest,
        body: impl Stream<Item = Bytes> + 'static,
    ) -> Answer {
        use futures_util::StreamExt;
        let app = test::init_service(self.app()).await;
        let stream: Pin<Box<dyn Stream<Item = Result<Bytes, PayloadError>>>> =
            Box::pin(body.map(Ok));
        let (request, _) = request.to_request().replace_payload(Payload::from(stream));
        Answer::served(test::try_call_service(&app, request).await).await
    }

    pub(crate) async fn get(&self, uri: &str) -> Answer {
        self.send(TestRequest::get().uri(uri)).await
    }

    pub(crate) async fn post(&self, uri: &str) -> Answer {
        self.send(TestRequest::post().uri(uri)).await
    }

    pub(crate) async fn delete(&self, uri: &str) -> Answer {
        self.send(TestRequest::delete().uri(uri)).await
    }

    /// `request` with `token` in the `Hold-Token` header.
    pub(crate) async fn send_with_token(&self, request: TestRequest, token: &str) -> Answer {
        self.send(request.insert_header((HOLD_TOKEN, token))).await
    }

    pub(crate) async fn get_with_token(&self, uri: &str, token: &str) -> Answer {
        self.send_with_token(TestRequest::get().uri(uri), token)
            .await
    }

    pub(crate) async fn post_with_token(&self, uri: &str, token: &str) -> Answer {
        self.send_with_token(TestRequest::post().uri(uri), token)
            .await
    }

    pub(crate) async fn delete_with_token(&self, uri: &str, token: &str) -> Answer {
        self.send_with_token(TestRequest::delete().uri(uri), token)
            .await
    }

    /// Reserves ticket `id` (which must succeed) and answers the hold's token.
    pub(crate) async fn reserve(&self, id: i64) -> String {
        let (_, hold) = self
            .post(&format!("/api/tickets/{id}/reservation"))
            .await
            .reserved(StatusCode::CREATED);
        hold["hold_token"].as_str().unwrap().to_owned()
    }

    /// `POST /api/holds` with `body` as JSON.
    pub(crate) async fn place_hold(&self, body: &Value) -> Answer {
        self.send(TestRequest::post().uri("/api/holds").set_json(body))
            .await
    }

    /// `POST /api/tickets` with `body` serialised as JSON (and the JSON content type).
    pub(crate) async fn create(&self, body: &Value) -> Answer {
        self.send(TestRequest::post().uri("/api/tickets").set_json(body))
            .await
    }

    /// `POST /api/tickets` with these raw bytes and content type.
    pub(crate) async fn create_raw(
        &self,
        content_type: Option<&str>,
        body: impl Into<Vec<u8>>,
    ) -> Answer {
        let mut request = TestRequest::post()
            .uri("/api/tickets")
            .set_payload(body.into());
        if let Some(content_type) = content_type {
            request = request.insert_header((header::CONTENT_TYPE, content_type));
        }
        self.send(request).await
    }

    /// Creates a ticket and answers its id.
    pub(crate) async fn ticket(&self) -> i64 {
        let answer = self
            .create(&json!({"event_name": "Opening Night", "seat": "A-12"}))
            .await;
        answer.assert_status(StatusCode::CREATED);
        answer.json()["id"].as_i64().unwrap()
    }
}

/// A response, read whole.
#[derive(Debug)]
pub(crate) struct Answer {
    pub(crate) status: StatusCode,
    pub(crate) headers: HeaderMap,
    pub(crate) body: Vec<u8>,
}

impl Answer {
    /// The answer a client gets: an error a middleware returned (rather than answered) is
    /// rendered, as the server does.
    async fn served(
        outcome: Result<ServiceResponse<impl MessageBody + 'static>, actix_web::Error>,
    ) -> Self {
        let response = match outcome {
            Ok(response) => response.into_parts().1.map_into_boxed_body(),
            Err(error) => error.error_response(),
        };
        let status = response.status();
        let headers = response.headers().clone();
        let body = actix_web::body::to_bytes(response.into_body())
            .await
            .unwrap_or_else(|_| panic!("the body of a {status} answer cannot be read"))
            .to_vec();
        Self {
            status,
            headers,
            body,
        }
    }

    pub(crate) fn json(&self) -> Value {
        serde_json::from_slice(&self.body).unwrap_or_else(|error| {
            panic!(
                "body is not JSON ({error}): {:?}",
                String::from_utf8_lossy(&self.body)
            )
        })
    }

    pub(crate) fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name).map(|value| value.to_str().unwrap())
    }

    pub(crate) fn assert_status(&self, expected: StatusCode) {
        assert_eq!(
            self.status,
            expected,
            "body: {}",
            String::from_utf8_lossy(&self.body)
        );
    }

    /// A successful answer carrying a ticket: JSON with all seven fields, no others.
    pub(crate) fn ticket(&self, expected: StatusCode) -> Value {
        self.assert_status(expected);
        assert_eq!(self.header("content-type"), Some("application/json"));
        let body = self.json();
        assert_ticket(&body);
        body
    }

    /// The answer to a single-ticket reservation: the ticket's seven fields and `hold`,
    /// whose four fields are answered with the ticket.
    pub(crate) fn reserved(&self, expected: StatusCode) -> (Value, Value) {
        self.assert_status(expected);
        let mut body = self.json();
        let hold = body
            .as_object_mut()
            .unwrap()
            .remove("hold")
            .expect("a hold");
        assert_eq!(
            keys(&hold),
            ["expires_at", "expires_in_seconds", "hold_id", "hold_token"]
        );
        assert_ticket(&body);
        (body, hold)
    }

    /// A successful answer carrying a hold: its five fields, no token, each ticket whole.
    pub(crate) fn hold(&self, expected: StatusCode) -> Value {
        self.assert_status(expected);
        assert_eq!(self.header("content-type"), Some("application/json"));
        let body = self.json();
        assert_hold(&body);
        body
    }

    /// The answer creating a hold: a hold and its token. Answers both.
    pub(crate) fn issued_hold(&self, expected: StatusCode) -> (Value, String) {
        self.assert_status(expected);
        let mut body = self.json();
        let token = body
            .as_object_mut()
            .unwrap()
            .remove("hold_token")
            .expect("the token");
        assert_hold(&body);
        (body, token.as_str().unwrap().to_owned())
    }

    /// An error answer: status, JSON content type, exactly the three envelope fields with
    /// the right types, and the expected code. Answers `details`.
    pub(crate) fn error(&self, expected: StatusCode, code: &str) -> Value {
        self.assert_status(expected);
        assert_eq!(
            self.header("content-type"),
            Some("application/json"),
            "an error must answer JSON"
        );
        let body = self.json();
        let envelope = body.as_object().expect("the envelope is an object");
        assert_eq!(envelope.len(), 3, "only the three envelope fields: {body}");
        assert_eq!(body["error_code"], code, "{body}");
        let message = body["message"].as_str().expect("message is a string");
        assert!(!message.is_empty());
        assert!(body["details"].is_object(), "details is an object: {body}");
        body["details"].clone()
    }
}

/// A timestamp as the API writes it.
pub(crate) fn at(seconds: i64) -> String {
    (start() + chrono::TimeDelta::seconds(seconds))
        .to_rfc3339_opts(chrono::SecondsFormat::Micros, true)
}

/// The keys of a JSON object, sorted.
pub(crate) fn keys(object: &Value) -> Vec<&str> {
    let mut keys: Vec<&str> = object
        .as_object()
        .unwrap_or_else(|| panic!("not an object: {object}"))
        .keys()
        .map(String::as_str)
        .collect();
    keys.sort_unstable();
    keys
}

/// A ticket's JSON: all seven fields, no others (no hold id, no token).
pub(crate) fn assert_ticket(ticket: &Value) {
    assert_eq!(
        keys(ticket),
        [
            "event_name",
            "id",
            "reservation_confirmed_at",
            "reservation_created_at",
            "reservation_expires_at",
            "reservation_status",
            "seat",
        ],
        "{ticket}"
    );
}

/// A hold's JSON without its token: five fields, each ticket a whole ticket.
fn assert_hold(hold: &Value) {
    assert_eq!(
        keys(hold),
        [
            "created_at",
            "expires_at",
            "expires_in_seconds",
            "hold_id",
            "tickets"
        ],
        "{hold}"
    );
    assert!(hold["hold_id"]
        .as_str()
        .unwrap()
        .parse::<uuid::Uuid>()
        .is_ok());
    for ticket in hold["tickets"].as_array().unwrap() {
        assert_ticket(ticket);
    }
}
