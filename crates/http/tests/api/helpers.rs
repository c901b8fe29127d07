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

    /// An application over `store`, with `repository` kept for arranging and faults.
    pub(crate) fn over(
        store: Arc<dyn TicketRepository>,
        repository: Arc<InMemoryTicketRepository>,
    ) -> Self {
        let clock = Arc::new(ManualClock::new(start()));
        let policy = ReservationPolicy::from_ttl_seconds(TTL_SECONDS).unwrap();
        let service = Arc::new(TicketService::new(
            store,
            clock.clone() as Arc<dyn Clock>,
            policy,
        ));
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
        let mut keys: Vec<&str> = body
            .as_object()
            .unwrap()
            .keys()
            .map(String::as_str)
            .collect();
        keys.sort_unstable();
        assert_eq!(
            keys,
            [
                "event_name",
                "id",
                "reservation_confirmed_at",
                "reservation_created_at",
                "reservation_expires_at",
                "reservation_status",
                "seat",
            ]
        );
        body
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
