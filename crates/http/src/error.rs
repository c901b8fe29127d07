//! The one error type of the HTTP API, and how each failure becomes the JSON envelope
//! `{"error_code": str, "message": str, "details": object}`.
//!
//! Client mistakes (4xx) say what was wrong. Failures of the service itself (500, 503)
//! log their whole cause chain here and answer a generic message, so no SQL, stack
//! trace or file path reaches a client.

use std::fmt;

use actix_web::error::BlockingError;
use actix_web::http::header::{self, HeaderValue};
use actix_web::http::StatusCode;
use actix_web::{HttpResponse, ResponseError};
use serde::Serialize;
use serde_json::{json, Map, Value};
use ticketing_domain::{ReservationError, TicketId, TicketIdError};
use ticketing_ports::TicketError;
use utoipa::ToSchema;

use crate::ticket_json::rfc3339;

/// Every way a request can fail. Each variant maps to one status and `error_code`.
#[derive(Debug, thiserror::Error)]
pub(crate) enum ApiError {
    /// A path segment that is not a positive 64-bit integer.
    #[error("{raw:?} is not a ticket id")]
    InvalidTicketId {
        raw: String,
        #[source]
        reason: TicketIdError,
    },
    /// A request (body, path or query) that breaks the contract; `field` names where.
    #[error("invalid {field}: {reason}")]
    Validation { field: String, reason: String },
    /// A body longer than the limit (64 KiB), declared or streamed.
    #[error("request body exceeds {limit} bytes")]
    PayloadTooLarge { limit: usize },
    /// A body declared as something other than JSON.
    #[error("unsupported content type {content_type:?}")]
    UnsupportedMediaType { content_type: String },
    /// No route has this path.
    #[error("no route for {path}")]
    RouteNotFound { path: String },
    /// The path exists, but not with this method; `allowed` lists the methods it has.
    #[error("method {method} is not allowed on this route")]
    MethodNotAllowed {
        method: String,
        allowed: Vec<&'static str>,
    },
    /// A use case failed; `ticket_id` is the ticket the request named, if any.
    #[error("ticket request failed")]
    Ticket {
        ticket_id: Option<TicketId>,
        #[source]
        error: TicketError,
    },
    /// The readiness probe failed: storage cannot serve requests now.
    #[error("ticket storage is not ready")]
    Unready(#[source] TicketError),
    /// A use case panicked on its blocking thread.
    #[error("a use case panicked on its blocking thread")]
    Panicked(#[from] BlockingError),
}

/// A failed use case that names no ticket (creating, listing, or a request cut short).
impl From<TicketError> for ApiError {
    fn from(error: TicketError) -> Self {
        Self::Ticket {
            ticket_id: None,
            error,
        }
    }
}

impl ApiError {
    pub(crate) fn validation(field: impl Into<String>, reason: impl Into<String>) -> Self {
        Self::Validation {
            field: field.into(),
            reason: reason.into(),
        }
    }

    /// Maps a failed use case about the ticket `ticket_id`.
    pub(crate) fn on_ticket(ticket_id: TicketId) -> impl FnOnce(TicketError) -> Self {
        move |error| Self::Ticket {
            ticket_id: Some(ticket_id),
            error,
        }
    }

    /// The status, code, message and details this error answers with.
    fn envelope(&self) -> Envelope {
        match self {
            Self::InvalidTicketId { raw, reason } => Envelope::new(
                StatusCode::BAD_REQUEST,
                ErrorCode::InvalidTicketId,
                format!("ticket id {raw:?} is not valid: {reason}"),
            )
            .detail("ticket_id", raw.as_str())
            .detail("reason", reason.to_string()),
            Self::Validation { field, reason } => Envelope::new(
                StatusCode::BAD_REQUEST,
                ErrorCode::ValidationError,
                format!("invalid {field}: {reason}"),
            )
            .detail("field", field.as_str())
            .detail("reason", reason.as_str()),
            Self::PayloadTooLarge { limit } => Envelope::new(
                StatusCode::PAYLOAD_TOO_LARGE,
                ErrorCode::PayloadTooLarge,
                format!("the request body must be at most {limit} bytes"),
            )
            .detail("limit_bytes", *limit),
            Self::UnsupportedMediaType { content_type } => Envelope::new(
                StatusCode::UNSUPPORTED_MEDIA_TYPE,
                ErrorCode::UnsupportedMediaType,
                format!("content type {content_type:?} is not supported; send application/json"),
            )
            .detail("content_type", content_type.as_str())
            .detail("supported", json!(["application/json"])),
            Self::RouteNotFound { path } => Envelope::new(
                StatusCode::NOT_FOUND,
                ErrorCode::NotFound,
                format!("no route matches {path}"),
            )
            .detail("path", path.as_str()),
            Self::MethodNotAllowed { method, allowed } => Envelope::new(
                StatusCode::METHOD_NOT_ALLOWED,
                ErrorCode::MethodNotAllowed,
                format!(
                    "method {method} is not allowed here; use {}",
                    allowed.join(" or ")
                ),
            )
            .detail("method", method.as_str())
            .detail("allowed", json!(allowed)),
            Self::Ticket { ticket_id, error } => ticket_envelope(*ticket_id, error),
            Self::Unready(_) => unavailable().detail("database", "unavailable"),
            Self::Panicked(_) => internal(),
        }
    }
}

fn ticket_envelope(ticket_id: Option<TicketId>, error: &TicketError) -> Envelope {
    let conflict = |code, message: String| {
        let envelope = Envelope::new(StatusCode::CONFLICT, code, message);
        match ticket_id {
            Some(id) => envelope.detail("ticket_id", id.get()),
            None => envelope,
        }
    };
    match error {
        TicketError::NotFound(id) => Envelope::new(
            StatusCode::NOT_FOUND,
            ErrorCode::TicketNotFound,
            format!("ticket {id} does not exist"),
        )
        .detail("ticket_id", id.get()),
        TicketError::Refused(ReservationError::AlreadyActive { expires_at }) => conflict(
            ErrorCode::ReservationAlreadyActive,
            format!("the ticket is already held until {}", rfc3339(*expires_at)),
        )
        .detail("expires_at", rfc3339(*expires_at)),
        TicketError::Refused(ReservationError::AlreadyConfirmed { confirmed_at }) => conflict(
            ErrorCode::TicketAlreadyConfirmed,
            format!("the ticket was already sold at {}", rfc3339(*confirmed_at)),
        )
        .detail("confirmed_at", rfc3339(*confirmed_at)),
        TicketError::Refused(ReservationError::Expired { expired_at }) => conflict(
            ErrorCode::ReservationExpired,
            format!(
                "the hold on the ticket expired at {}; reserve it again",
                rfc3339(*expired_at)
            ),
        )
        .detail("expired_at", rfc3339(*expired_at)),
        TicketError::Refused(ReservationError::NoActiveReservation) => conflict(
            ErrorCode::NoActiveReservation,
            "the ticket has no active hold".to_owned(),
        ),
        TicketError::Unavailable(_) => unavailable(),
        // No route sends the sweeper's Expire command, so its refusal is a bug here.
        TicketError::Refused(ReservationError::NothingToExpire) | TicketError::Unexpected(_) => {
            internal()
        }
    }
}

fn unavailable() -> Envelope {
    Envelope::new(
        StatusCode::SERVICE_UNAVAILABLE,
        ErrorCode::ServiceUnavailable,
        "the service is temporarily unavailable; retry shortly".to_owned(),
    )
}

fn internal() -> Envelope {
    Envelope::new(
        StatusCode::INTERNAL_SERVER_ERROR,
        ErrorCode::InternalError,
        "an unexpected error occurred; it has been logged".to_owned(),
    )
}

/// Every `error_code` the API sends; the OpenAPI document lists them as an enum.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, ToSchema)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub(crate) enum ErrorCode {
    /// 400: the `{id}` is not a positive 64-bit integer.
    InvalidTicketId,
    /// 400: the body, path or query breaks the contract; `details.field` names where.
    ValidationError,
    /// 413: a body over 64 KiB.
    PayloadTooLarge,
    /// 415: a body declared as something other than JSON.
    UnsupportedMediaType,
    /// 404: no route has this path.
    NotFound,
    /// 405: the route exists with other methods (listed in `Allow`).
    MethodNotAllowed,
    /// 404: no ticket has this id.
    TicketNotFound,
    /// 409: the ticket is held by someone else until `details.expires_at`.
    ReservationAlreadyActive,
    /// 409: the ticket was sold at `details.confirmed_at`.
    TicketAlreadyConfirmed,
    /// 409: the hold expired at `details.expired_at`.
    ReservationExpired,
    /// 409: there is no hold to confirm or release.
    NoActiveReservation,
    /// 503: the database cannot be reached; retry after `Retry-After` seconds.
    ServiceUnavailable,
    /// 500: anything unexpected; the cause is logged, never sent.
    InternalError,
}

/// The body of every error answer.
#[derive(Debug, Serialize, ToSchema)]
#[schema(example = json!({
    "error_code": "TICKET_NOT_FOUND",
    "message": "ticket 42 does not exist",
    "details": {"ticket_id": 42}
}))]
pub(crate) struct ErrorBody {
    error_code: ErrorCode,
    /// For people; may change between versions. Match on `error_code` instead.
    message: String,
    /// Facts about the error, by code (e.g. `ticket_id`, `field` and `reason`, `expires_at`).
    #[schema(value_type = Object)]
    details: Map<String, Value>,
}

/// An error answer before it is serialised.
struct Envelope {
    status: StatusCode,
    code: ErrorCode,
    message: String,
    details: Map<String, Value>,
}

impl Envelope {
    fn new(status: StatusCode, code: ErrorCode, message: String) -> Self {
        Self {
            status,
            code,
            message,
            details: Map::new(),
        }
    }

    fn detail(mut self, key: &str, value: impl Into<Value>) -> Self {
        self.details.insert(key.to_owned(), value.into());
        self
    }
}

impl ResponseError for ApiError {
    fn status_code(&self) -> StatusCode {
        self.envelope().status
    }

    fn error_response(&self) -> HttpResponse {
        let Envelope {
            status,
            code,
            message,
            details,
        } = self.envelope();
        let mut response = HttpResponse::build(status);
        if status == StatusCode::SERVICE_UNAVAILABLE {
            tracing::warn!(error = %CauseChain(self), "answering 503: storage unavailable");
            response.insert_header((header::RETRY_AFTER, HeaderValue::from_static("1")));
        } else if status.is_server_error() {
            tracing::error!(error = %CauseChain(self), "answering 500: unexpected failure");
        }
        if let Self::MethodNotAllowed { allowed, .. } = self {
            response.insert_header((header::ALLOW, allowed.join(", ")));
        }
        response.json(ErrorBody {
            error_code: code,
            message,
            details,
        })
    }
}

/// An error and all its sources on one line, for the logs: `a: b: c`.
struct CauseChain<'a>(&'a dyn std::error::Error);

impl fmt::Display for CauseChain<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.0)?;
        let mut source = self.0.source();
        while let Some(cause) = source {
            write!(f, ": {cause}")?;
            source = cause.source();
        }
        Ok(())
    }
}
