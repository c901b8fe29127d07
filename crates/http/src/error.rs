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
use ticketing_domain::{
    HoldId, InvalidHoldId, OwnershipError, ReservationError, TicketId, TicketIdError,
};
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
    /// A `{hold_id}` segment that is not a hyphenated UUID.
    #[error("{raw:?} is not a hold id")]
    InvalidHoldId {
        raw: String,
        #[source]
        reason: InvalidHoldId,
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
    /// A use case about the hold `hold_id` failed.
    #[error("hold request failed")]
    Hold {
        hold_id: HoldId,
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

    /// Maps a failed use case about the hold `hold_id`.
    pub(crate) fn on_hold(hold_id: HoldId) -> impl FnOnce(TicketError) -> Self {
        move |error| Self::Hold { hold_id, error }
    }

    /// Maps a failed use case placing a new hold: tickets that cannot form a hold are
    /// the fault of the body's `field` (`ticket_ids`, or `quantity` for best available).
    pub(crate) fn on_new_hold(field: &'static str) -> impl FnOnce(TicketError) -> Self {
        move |error| match error {
            TicketError::InvalidTicketSet(reason) => Self::validation(field, reason.to_string()),
            error => Self::from(error),
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
            Self::InvalidHoldId { raw, reason } => Envelope::new(
                StatusCode::BAD_REQUEST,
                ErrorCode::InvalidHoldId,
                format!("hold id {raw:?} is not valid: {reason}"),
            )
            .detail("hold_id", raw.as_str())
            .detail("reason", reason.to_string()),
            Self::Validation { field, reason } => validation(field, reason),
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
            Self::Ticket { ticket_id, error } => {
                use_case_envelope(ticket_id.map_or(Subject::Nothing, Subject::Ticket), error)
            }
            Self::Hold { hold_id, error } => use_case_envelope(Subject::Hold(*hold_id), error),
            Self::Unready(_) => unavailable().detail("database", "unavailable"),
            Self::Panicked(_) => internal(),
        }
    }
}

/// What a failed use case was about: named in the details of its refusals.
#[derive(Debug, Clone, Copy)]
enum Subject {
    Nothing,
    Ticket(TicketId),
    Hold(HoldId),
}

impl Subject {
    fn on(self, envelope: Envelope) -> Envelope {
        match self {
            Self::Nothing => envelope,
            Self::Ticket(id) => envelope.detail("ticket_id", id.get()),
            Self::Hold(id) => envelope.detail("hold_id", id.to_string()),
        }
    }

    /// "the ticket" or "the hold", for messages.
    fn noun(self) -> &'static str {
        match self {
            Self::Hold(_) => "the hold",
            Self::Nothing | Self::Ticket(_) => "the ticket",
        }
    }
}

fn use_case_envelope(subject: Subject, error: &TicketError) -> Envelope {
    let about = |status, code, message: String| subject.on(Envelope::new(status, code, message));
    let conflict = |code, message| about(StatusCode::CONFLICT, code, message);
    let noun = subject.noun();
    match error {
        TicketError::NotFound(id) => Envelope::new(
            StatusCode::NOT_FOUND,
            ErrorCode::TicketNotFound,
            format!("ticket {id} does not exist"),
        )
        .detail("ticket_id", id.get()),
        TicketError::TicketsNotFound(ids) => Envelope::new(
            StatusCode::NOT_FOUND,
            ErrorCode::TicketNotFound,
            format!("{} of the tickets asked for do not exist", ids.len()),
        )
        .detail(
            "ticket_ids",
            json!(ids.iter().map(|id| id.get()).collect::<Vec<_>>()),
        ),
        TicketError::HoldNotFound(id) => Envelope::new(
            StatusCode::NOT_FOUND,
            ErrorCode::HoldNotFound,
            format!("hold {id} does not exist (or was released)"),
        )
        .detail("hold_id", id.to_string()),
        TicketError::Refused(ReservationError::AlreadyActive { expires_at }) => conflict(
            ErrorCode::ReservationAlreadyActive,
            format!("{noun} is already held until {}", rfc3339(*expires_at)),
        )
        .detail("expires_at", rfc3339(*expires_at)),
        TicketError::Refused(ReservationError::AlreadyConfirmed { confirmed_at }) => conflict(
            ErrorCode::TicketAlreadyConfirmed,
            format!("{noun} was already sold at {}", rfc3339(*confirmed_at)),
        )
        .detail("confirmed_at", rfc3339(*confirmed_at)),
        TicketError::Refused(ReservationError::Expired { expired_at }) => conflict(
            ErrorCode::ReservationExpired,
            format!(
                "the hold on {noun} expired at {}; reserve it again",
                rfc3339(*expired_at)
            ),
        )
        .detail("expired_at", rfc3339(*expired_at)),
        TicketError::Refused(ReservationError::NoActiveReservation) => conflict(
            ErrorCode::NoActiveReservation,
            format!("{noun} has no active hold"),
        ),
        TicketError::Refused(ReservationError::ExtensionLimit { max_expires_at }) => conflict(
            ErrorCode::HoldExtensionLimit,
            format!(
                "a hold may last until {} at the latest",
                rfc3339(*max_expires_at)
            ),
        )
        .detail("max_expires_at", rfc3339(*max_expires_at)),
        TicketError::Refused(ReservationError::Ownership(OwnershipError::TokenRequired)) => about(
            StatusCode::UNAUTHORIZED,
            ErrorCode::HoldTokenRequired,
            format!("{noun} is held: send the hold's token in the Hold-Token header"),
        ),
        TicketError::Refused(ReservationError::Ownership(OwnershipError::TokenInvalid)) => about(
            StatusCode::FORBIDDEN,
            ErrorCode::HoldTokenInvalid,
            "the Hold-Token sent is not this hold's token".to_owned(),
        ),
        TicketError::TicketsUnavailable(refusals) => {
            let Some(tickets) = refusals
                .iter()
                .map(|(id, reason)| {
                    refusal_code(reason)
                        .map(|code| json!({"ticket_id": id.get(), "error_code": code}))
                })
                .collect::<Option<Vec<Value>>>()
            else {
                return internal();
            };
            Envelope::new(
                StatusCode::CONFLICT,
                ErrorCode::TicketsUnavailable,
                format!("{} of the tickets asked for cannot be held", tickets.len()),
            )
            .detail("tickets", tickets)
        }
        TicketError::TooFewAvailable {
            requested,
            available,
        } => Envelope::new(
            StatusCode::CONFLICT,
            ErrorCode::TicketsUnavailable,
            format!("only {available} of the {requested} tickets asked for can be held now"),
        )
        .detail("requested", *requested)
        .detail("available", *available),
        // Handlers placing a hold name the field (`ApiError::on_new_hold`); this is the default.
        TicketError::InvalidTicketSet(reason) => validation("ticket_ids", &reason.to_string()),
        TicketError::InvalidExtension(reason) => validation("ttl_seconds", &reason.to_string()),
        TicketError::Unavailable(_) => unavailable(),
        // No route sends the sweeper's Expire command, so its refusal is a bug here.
        TicketError::Refused(ReservationError::NothingToExpire) | TicketError::Unexpected(_) => {
            internal()
        }
    }
}

/// The code a ticket's refusal answers with, alone or in a list; `None` for a refusal no
/// client command can meet (the sweeper's).
fn refusal_code(reason: &ReservationError) -> Option<ErrorCode> {
    Some(match reason {
        ReservationError::AlreadyActive { .. } => ErrorCode::ReservationAlreadyActive,
        ReservationError::AlreadyConfirmed { .. } => ErrorCode::TicketAlreadyConfirmed,
        ReservationError::Expired { .. } => ErrorCode::ReservationExpired,
        ReservationError::NoActiveReservation => ErrorCode::NoActiveReservation,
        ReservationError::ExtensionLimit { .. } => ErrorCode::HoldExtensionLimit,
        ReservationError::Ownership(OwnershipError::TokenRequired) => ErrorCode::HoldTokenRequired,
        ReservationError::Ownership(OwnershipError::TokenInvalid) => ErrorCode::HoldTokenInvalid,
        ReservationError::NothingToExpire => return None,
    })
}

fn validation(field: &str, reason: &str) -> Envelope {
    Envelope::new(
        StatusCode::BAD_REQUEST,
        ErrorCode::ValidationError,
        format!("invalid {field}: {reason}"),
    )
    .detail("field", field)
    .detail("reason", reason)
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
    /// 400: the `{hold_id}` is not a hyphenated UUID.
    InvalidHoldId,
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
    /// 404: no ticket has this id (`details.ticket_id`), or some of the tickets a hold
    /// asks for do not exist (`details.ticket_ids`: those).
    TicketNotFound,
    /// 404: no ticket carries this hold: it never existed, or it was released.
    HoldNotFound,
    /// 401: the ticket or hold is held, and the request sent no `Hold-Token`.
    HoldTokenRequired,
    /// 403: the `Hold-Token` sent is not that of the ticket's or hold's hold.
    HoldTokenInvalid,
    /// 409: the ticket is held by someone else until `details.expires_at`.
    ReservationAlreadyActive,
    /// 409: the ticket was sold at `details.confirmed_at`.
    TicketAlreadyConfirmed,
    /// 409: the hold expired at `details.expired_at`.
    ReservationExpired,
    /// 409: there is no hold to confirm or release.
    NoActiveReservation,
    /// 409: some tickets asked for cannot be held (`details.tickets`: each, with its
    /// `error_code`), or best available found too few (`details.available`, `requested`).
    TicketsUnavailable,
    /// 409: the extension would make the hold last past `details.max_expires_at`.
    HoldExtensionLimit,
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
