//! The request middleware: a `request` span around every HTTP call (request id, method,
//! route pattern, status, latency), one completion event per request, the request id
//! echoed in `X-Request-Id`, and the HTTP metrics.
//!
//! Targets, for `RUST_LOG` filters: the span is `ticketing_http::request` (keep it on, or
//! other events lose the request id), the completion events are `ticketing_http::access`
//! (`RUST_LOG=info,ticketing_http::access=warn` silences them).

use std::borrow::Cow;
use std::time::Instant;

use actix_web::body::MessageBody;
use actix_web::dev::{ServiceRequest, ServiceResponse};
use actix_web::error::InternalError;
use actix_web::http::header::{HeaderName, HeaderValue};
use actix_web::http::{Method, StatusCode};
use actix_web::middleware::Next;
use actix_web::Error;
use tracing::field::Empty;
use tracing::Instrument;

/// The header a request id is read from and echoed in.
const REQUEST_ID_HEADER: HeaderName = HeaderName::from_static("x-request-id");

/// The longest client-supplied request id kept; longer ones are replaced.
const MAX_REQUEST_ID_LEN: usize = 128;

/// The `route` label of a request that matched no route, so that random paths cannot
/// create new series.
const UNMATCHED_ROUTE: &str = "unmatched";

/// Wraps one request: see the module docs. Use with `actix_web::middleware::from_fn`.
pub(crate) async fn trace_request(
    request: ServiceRequest,
    next: Next<impl MessageBody>,
) -> Result<ServiceResponse<impl MessageBody>, Error> {
    let started = Instant::now();
    let request_id = request_id(request.headers().get(&REQUEST_ID_HEADER));
    let method = method_label(request.method());
    let route: Cow<'static, str> = request
        .match_pattern()
        .map_or(Cow::Borrowed(UNMATCHED_ROUTE), Cow::Owned);
    let span = tracing::info_span!(
        target: "ticketing_http::request",
        "request",
        request_id = request_id.to_str().unwrap_or_default(),
        method,
        route = &*route,
        status = Empty,
        latency_ms = Empty,
    );

    let outcome = next.call(request).instrument(span.clone()).await;
    let status = match &outcome {
        Ok(response) => response.status(),
        Err(error) => error.as_response_error().status_code(),
    };
    let elapsed = started.elapsed();
    // Microsecond precision is plenty, and keeps the log lines short.
    let latency_ms = elapsed.as_micros() as f64 / 1e3;
    span.record("status", status.as_u16());
    span.record("latency_ms", latency_ms);
    // The status and latency are on the span, which the event carries.
    tracing::info!(target: "ticketing_http::access", parent: &span, "request completed");
    metrics::counter!(
        "http_requests_total",
        "method" => method,
        "route" => route.clone(),
        "status" => status_label(status),
    )
    .increment(1);
    metrics::histogram!(
        "http_request_duration_seconds",
        "method" => method,
        "route" => route,
    )
    .record(elapsed.as_secs_f64());

    match outcome {
        Ok(mut response) => {
            response.headers_mut().insert(REQUEST_ID_HEADER, request_id);
            Ok(response)
        }
        // An error no handler turned into a response (one from a middleware): render it
        // here, inside the span (its log line carries the request id), with the header.
        Err(error) => {
            let mut response = span.in_scope(|| error.error_response());
            response.headers_mut().insert(REQUEST_ID_HEADER, request_id);
            Err(InternalError::from_response(error.to_string(), response).into())
        }
    }
}

/// The client's request id when it is 1 to [`MAX_REQUEST_ID_LEN`] visible ASCII
/// characters; otherwise a new UUID v4.
fn request_id(sent: Option<&HeaderValue>) -> HeaderValue {
    match sent {
        Some(value) if is_sane_request_id(value.as_bytes()) => value.clone(),
        _ => {
            let generated = uuid::Uuid::new_v4();
            let mut text = [0u8; uuid::fmt::Hyphenated::LENGTH];
            HeaderValue::from_str(generated.hyphenated().encode_lower(&mut text))
                .unwrap_or_else(|_| HeaderValue::from_static("invalid-uuid"))
        }
    }
}

fn is_sane_request_id(bytes: &[u8]) -> bool {
    (1..=MAX_REQUEST_ID_LEN).contains(&bytes.len()) && bytes.iter().all(u8::is_ascii_graphic)
}

/// Standard methods by name; anything else as `OTHER`, to bound the label's values.
fn method_label(method: &Method) -> &'static str {
    match *method {
        Method::GET => "GET",
        Method::POST => "POST",
        Method::PUT => "PUT",
        Method::DELETE => "DELETE",
        Method::HEAD => "HEAD",
        Method::OPTIONS => "OPTIONS",
        Method::PATCH => "PATCH",
        Method::TRACE => "TRACE",
        Method::CONNECT => "CONNECT",
        _ => "OTHER",
    }
}

/// The status as a label without allocating for the statuses this API answers.
fn status_label(status: StatusCode) -> Cow<'static, str> {
    let known = match status.as_u16() {
        200 => "200",
        201 => "201",
        307 => "307",
        400 => "400",
        401 => "401",
        403 => "403",
        404 => "404",
        405 => "405",
        408 => "408",
        409 => "409",
        413 => "413",
        415 => "415",
        500 => "500",
        503 => "503",
        other => return Cow::Owned(other.to_string()),
    };
    Cow::Borrowed(known)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn request_ids_are_kept_only_when_sane() {
        let keep = |text: &str| request_id(Some(&HeaderValue::from_str(text).unwrap()));
        assert_eq!(keep("abc-123"), "abc-123");
        let longest = "x".repeat(MAX_REQUEST_ID_LEN);
        assert_eq!(keep(&longest), longest.as_str());
        for bad in ["", "has space", &"x".repeat(MAX_REQUEST_ID_LEN + 1)] {
            let replaced = keep(bad);
            assert_ne!(replaced, bad);
            assert!(uuid::Uuid::parse_str(replaced.to_str().unwrap()).is_ok());
        }
        let non_ascii = HeaderValue::from_bytes("é".as_bytes()).unwrap();
        assert_ne!(request_id(Some(&non_ascii)), non_ascii);
    }
}
