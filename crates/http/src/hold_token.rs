//! The `Hold-Token` header: the proof a request presents to act on a hold. It is a secret:
//! read here into a [`HoldToken`] (whose `Debug` is redacted) and never logged, put in a
//! span or echoed in an error.

use std::future::{ready, Ready};

use actix_web::dev::Payload;
use actix_web::{FromRequest, HttpRequest};
use ticketing_ports::HoldToken;

use crate::error::ApiError;

/// The header's name, as the document spells it (headers match in any case).
pub(crate) const HOLD_TOKEN_HEADER: &str = "Hold-Token";

/// The `Hold-Token` header as the OpenAPI document describes it.
#[derive(Debug, utoipa::IntoParams)]
#[into_params(parameter_in = Header)]
#[allow(dead_code)] // only its documentation is used; PresentedToken does the reading
pub(crate) struct HoldTokenParam {
    /// The `hold_token` the hold's creation answered. Without it, acting on a held or sold
    /// ticket answers 401 `HOLD_TOKEN_REQUIRED` (unless the deployment runs with
    /// `reservation.require_hold_token = false`); any other value, 403 `HOLD_TOKEN_INVALID`.
    #[param(rename = "Hold-Token", required = false)]
    hold_token: String,
}

/// The token a request presents, if it sent the header.
#[derive(Debug, Clone)]
pub(crate) struct PresentedToken(pub(crate) Option<HoldToken>);

/// What a header that cannot be any hold's token is read as: a text no minted token is
/// (they are 43 characters), so that it is refused as a wrong token (403), never a 500
/// and never taken for a missing one.
const NOT_A_TOKEN: &str = "";

impl FromRequest for PresentedToken {
    type Error = ApiError;
    type Future = Ready<Result<Self, ApiError>>;

    fn from_request(request: &HttpRequest, _: &mut Payload) -> Self::Future {
        let mut values = request.headers().get_all(HOLD_TOKEN_HEADER);
        let token = values.next().map(|value| {
            let text = value.to_str().ok().filter(|text| is_visible_ascii(text));
            // Two headers are two claims: neither is taken.
            match (text, values.next()) {
                (Some(text), None) => HoldToken::presented(text),
                _ => HoldToken::presented(NOT_A_TOKEN),
            }
        });
        ready(Ok(Self(token)))
    }
}

/// 1 or more visible ASCII characters (what a minted token is made of, and more).
fn is_visible_ascii(text: &str) -> bool {
    !text.is_empty() && text.bytes().all(|b| b.is_ascii_graphic())
}

#[cfg(test)]
mod tests {
    use actix_web::test::TestRequest;

    use super::*;

    fn presented(request: TestRequest) -> Option<HoldToken> {
        let request = request.to_http_request();
        PresentedToken::from_request(&request, &mut Payload::None)
            .into_inner()
            .unwrap()
            .0
    }

    #[test]
    fn a_sane_header_is_the_token_and_anything_else_no_token_at_all() {
        assert!(presented(TestRequest::default()).is_none());
        let sent = presented(TestRequest::default().insert_header(("hold-token", "abc-_9")));
        assert_eq!(sent.unwrap().expose_secret(), "abc-_9");

        let unusable = HoldToken::presented(NOT_A_TOKEN).digest();
        for bad in [&b""[..], b"has space", "caf\u{e9}".as_bytes(), b"tab\there"] {
            let value = actix_web::http::header::HeaderValue::from_bytes(bad).unwrap();
            let token = presented(TestRequest::default().insert_header((HOLD_TOKEN_HEADER, value)));
            assert_eq!(token.unwrap().digest(), unusable, "{bad:?}");
        }
        let twice = TestRequest::default()
            .append_header((HOLD_TOKEN_HEADER, "one"))
            .append_header((HOLD_TOKEN_HEADER, "one"));
        assert_eq!(presented(twice).unwrap().digest(), unusable);
    }
}
