//! Request bodies: JSON objects only, at most [`BODY_LIMIT_BYTES`] ([`json_object`], for
//! every route that takes a body), checked field by field so that every refusal names the
//! field and the reason (serde's derived messages name neither reliably). Here too, the
//! body of `POST /api/tickets`.

use std::future::Future;
use std::pin::Pin;

use actix_web::body::{to_bytes_limited, BodyStream};
use actix_web::dev::Payload;
use actix_web::http::header;
use actix_web::web::Bytes;
use actix_web::{mime, FromRequest, HttpRequest};
use serde_json::{Map, Value};
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
        let body = json_object(request, payload);
        Box::pin(async move { parse_new_ticket(body.await?).map(Self) })
    }
}

/// The body of `request`, which must be one JSON object: the headers are checked first
/// (a body that is not JSON, or declared too long, is never read), then the body is read
/// up to the limit and parsed.
pub(crate) fn json_object(
    request: &HttpRequest,
    payload: &mut Payload,
) -> impl Future<Output = Result<Map<String, Value>, ApiError>> + 'static {
    let headers_ok = check_content_type(request).and_then(|()| check_declared_length(request));
    let payload = payload.take();
    async move {
        headers_ok?;
        let bytes = read_limited(payload).await?;
        let value: Value = serde_json::from_slice(&bytes)
            .map_err(|error| ApiError::validation("body", format!("is not valid JSON: {error}")))?;
        match value {
            Value::Object(fields) => Ok(fields),
            other => Err(ApiError::validation(
                "body",
                format!("must be a JSON object, got {}", kind(&other)),
            )),
        }
    }
}

/// Refuses a field of `fields` that is not one of `known` (the fields of `what`), rather
/// than ignoring it.
pub(crate) fn refuse_unknown(
    fields: &Map<String, Value>,
    known: &[&str],
    what: &str,
) -> Result<(), ApiError> {
    match fields.keys().find(|key| !known.contains(&key.as_str())) {
        Some(unknown) => Err(ApiError::validation(
            unknown.as_str(),
            format!("is not a field of {what} (expected {})", known.join(", ")),
        )),
        None => Ok(()),
    }
}

/// An event name in a body's field `field`, by the domain's rules.
pub(crate) fn event_name(field: &str, value: Option<Value>) -> Result<EventName, ApiError> {
    match value {
        None => Err(ApiError::validation(field, "is required")),
        Some(Value::String(text)) => {
            EventName::parse(text).map_err(|error| ApiError::validation(field, error.to_string()))
        }
        Some(other) => Err(ApiError::validation(
            field,
            format!("must be a string, got {}", kind(&other)),
        )),
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

/// Validates `{"event_name": str, "seat": str | null}`; `seat` may be left out.
fn parse_new_ticket(mut fields: Map<String, Value>) -> Result<NewTicket, ApiError> {
    refuse_unknown(&fields, &FIELDS, "a ticket")?;
    let event_name = event_name("event_name", fields.remove("event_name"))?;
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
pub(crate) fn kind(value: &Value) -> &'static str {
    match value {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "an array",
        Value::Object(_) => "an object",
    }
}
