//! The body of `POST /api/tickets`: JSON only, at most [`BODY_LIMIT_BYTES`], and checked
//! field by field so that every refusal names the field and the reason (serde's derived
//! messages name neither reliably).

use std::future::Future;
use std::pin::Pin;

use actix_web::body::{to_bytes_limited, BodyStream};
use actix_web::dev::Payload;
use actix_web::http::header;
use actix_web::web::Bytes;
use actix_web::{mime, FromRequest, HttpRequest};
use serde_json::Value;
use ticketing_domain::{EventName, NewTicket, Seat};

use crate::error::ApiError;

/// The largest request body accepted (64 KiB); anything longer is answered with 413.
const BODY_LIMIT_BYTES: usize = 64 * 1024;

// The body of `POST /api/tickets` as the OpenAPI document describes it; parsing is done
// by hand in `parse_new_ticket`, and the API tests hold the two together.
/// A ticket to create.
#[derive(serde::Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(as = NewTicket, example = json!({"event_name": "Opening Night", "seat": "A-12"}))]
#[allow(dead_code)] // only its documentation is used
pub(crate) struct NewTicketJson {
    // The pattern: no U+0000 anywhere, and at least one character that is not
    // whitespace, naming exactly what Rust's `str::trim` removes (`\S` would disagree on
    // a few control characters).
    /// 1 to 200 characters, not only whitespace, without U+0000.
    #[schema(
        min_length = 1,
        max_length = 200,
        pattern = "^[^\\u0000]*[^\\u0000\\t-\\r \\u0085\\u00a0\\u1680\\u2000-\\u200a\\u2028\\u2029\\u202f\\u205f\\u3000][^\\u0000]*$"
    )]
    event_name: String,
    /// 1 to 50 characters, not only whitespace, without U+0000; `null` or left out for
    /// no seat.
    #[schema(
        min_length = 1,
        max_length = 50,
        pattern = "^[^\\u0000]*[^\\u0000\\t-\\r \\u0085\\u00a0\\u1680\\u2000-\\u200a\\u2028\\u2029\\u202f\\u205f\\u3000][^\\u0000]*$"
    )]
    seat: Option<String>,
}

/// The fields a new ticket may have; any other is refused rather than silently ignored.
const FIELDS: [&str; 2] = ["event_name", "seat"];

/// A validated request to create a ticket.
#[derive(Debug)]
pub(crate) struct NewTicketBody(pub(crate) NewTicket);

impl FromRequest for NewTicketBody {
    type Error = ApiError;
    type Future = Pin<Box<dyn Future<Output = Result<Self, ApiError>>>>;

    fn from_request(request: &HttpRequest, payload: &mut Payload) -> Self::Future {
        // Headers first: a body that is not JSON, or declared too long, is never read.
        let headers_ok = check_content_type(request).and_then(|()| check_declared_length(request));
        let payload = payload.take();
        Box::pin(async move {
            headers_ok?;
            let bytes = read_limited(payload).await?;
            parse_new_ticket(&bytes).map(Self)
        })
    }
}

/// The `Content-Type` header as sent, for error details.
fn declared_content_type(request: &HttpRequest) -> String {
    request
        .headers()
        .get(header::CONTENT_TYPE)
        .map(|value| String::from_utf8_lossy(value.as_bytes()).into_owned())
        .unwrap_or_default()
}

/// Accepts `application/json`, any `application/*+json`, and no `Content-Type` at all
/// (a body sent without one is still read as JSON). `curl -d` declares a form: 415.
fn check_content_type(request: &HttpRequest) -> Result<(), ApiError> {
    let Some(value) = request.headers().get(header::CONTENT_TYPE) else {
        return Ok(());
    };
    let is_json = value
        .to_str()
        .ok()
        .and_then(|text| text.parse::<mime::Mime>().ok())
        .is_some_and(|mime| {
            mime.type_() == mime::APPLICATION
                && (mime.subtype() == mime::JSON || mime.suffix() == Some(mime::JSON))
        });
    if is_json {
        Ok(())
    } else {
        Err(ApiError::UnsupportedMediaType {
            content_type: declared_content_type(request),
        })
    }
}

fn check_declared_length(request: &HttpRequest) -> Result<(), ApiError> {
    let declared = request
        .headers()
        .get(header::CONTENT_LENGTH)
        .and_then(|value| value.to_str().ok())
        .and_then(|text| text.parse::<u64>().ok());
    match declared {
        Some(length) if length > BODY_LIMIT_BYTES as u64 => Err(ApiError::PayloadTooLarge {
            limit: BODY_LIMIT_BYTES,
        }),
        _ => Ok(()),
    }
}

/// Reads the body, stopping as soon as it grows past the limit (a chunked body declares
/// no length, so the count is what protects memory).
async fn read_limited(payload: Payload) -> Result<Bytes, ApiError> {
    match to_bytes_limited(BodyStream::new(payload), BODY_LIMIT_BYTES).await {
        Ok(Ok(bytes)) => Ok(bytes),
        Ok(Err(error)) => {
            // Almost always a client that went away mid-body; nobody reads the answer.
            tracing::debug!(%error, "request body could not be read");
            Err(ApiError::validation(
                "body",
                "the request body could not be read completely",
            ))
        }
        Err(_limit_exceeded) => Err(ApiError::PayloadTooLarge {
            limit: BODY_LIMIT_BYTES,
        }),
    }
}

/// Parses and validates `{"event_name": str, "seat": str | null}`; `seat` may be left out.
fn parse_new_ticket(bytes: &[u8]) -> Result<NewTicket, ApiError> {
    let value: Value = serde_json::from_slice(bytes)
        .map_err(|error| ApiError::validation("body", format!("is not valid JSON: {error}")))?;
    let Value::Object(mut fields) = value else {
        return Err(ApiError::validation(
            "body",
            format!("must be a JSON object, got {}", kind(&value)),
        ));
    };
    if let Some(unknown) = fields.keys().find(|key| !FIELDS.contains(&key.as_str())) {
        return Err(ApiError::validation(
            unknown.as_str(),
            format!(
                "is not a field of a ticket (expected {})",
                FIELDS.join(", ")
            ),
        ));
    }
    let event_name = match fields.remove("event_name") {
        None => return Err(ApiError::validation("event_name", "is required")),
        Some(Value::String(text)) => EventName::parse(text)
            .map_err(|error| ApiError::validation("event_name", error.to_string()))?,
        Some(other) => {
            return Err(ApiError::validation(
                "event_name",
                format!("must be a string, got {}", kind(&other)),
            ))
        }
    };
    let seat = match fields.remove("seat") {
        None | Some(Value::Null) => None,
        Some(Value::String(text)) => Some(
            Seat::parse(text).map_err(|error| ApiError::validation("seat", error.to_string()))?,
        ),
        Some(other) => {
            return Err(ApiError::validation(
                "seat",
                format!("must be a string or null, got {}", kind(&other)),
            ))
        }
    };
    Ok(NewTicket { event_name, seat })
}

/// The JSON type of a value, as a client would name it.
fn kind(value: &Value) -> &'static str {
    match value {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "an array",
        Value::Object(_) => "an object",
    }
}
