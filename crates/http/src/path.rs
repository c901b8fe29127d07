//! The `{id}` segment of the ticket routes, parsed into a [`TicketId`] by the domain's own
//! rules, so that `abc`, `0`, `-1`, `1.5` and ids beyond 64 bits answer `INVALID_TICKET_ID`;
//! and the `{hold_id}` segment of the hold routes, parsed into a [`HoldId`] (hyphenated
//! UUIDs only), else `INVALID_HOLD_ID`.

use std::future::{ready, Ready};

use actix_web::dev::Payload;
use actix_web::{FromRequest, HttpRequest};
use ticketing_domain::{HoldId, TicketId};

use crate::error::ApiError;

/// The `{id}` parameter as the OpenAPI document describes it.
#[derive(Debug, utoipa::IntoParams)]
#[into_params(parameter_in = Path)]
#[allow(dead_code)] // only its documentation is used; TicketIdPath does the parsing
pub(crate) struct TicketIdParam {
    /// The ticket's id: a positive 64-bit integer; anything else answers 400 `INVALID_TICKET_ID`.
    #[param(minimum = 1, example = 1)]
    id: i64,
}

/// The ticket a route names in its `{id}` segment.
#[derive(Debug, Clone, Copy)]
pub(crate) struct TicketIdPath(pub(crate) TicketId);

impl FromRequest for TicketIdPath {
    type Error = ApiError;
    type Future = Ready<Result<Self, ApiError>>;

    fn from_request(request: &HttpRequest, _: &mut Payload) -> Self::Future {
        // Every route with this extractor has an `{id}` segment; a missing one reads as
        // empty and is refused like any other bad id.
        let raw = request.match_info().get("id").unwrap_or_default();
        ready(
            raw.parse()
                .map(Self)
                .map_err(|reason| ApiError::InvalidTicketId {
                    raw: raw.to_owned(),
                    reason,
                }),
        )
    }
}

/// The `{hold_id}` parameter as the OpenAPI document describes it.
#[derive(Debug, utoipa::IntoParams)]
#[into_params(parameter_in = Path)]
#[allow(dead_code)] // only its documentation is used; HoldIdPath does the parsing
pub(crate) struct HoldIdParam {
    /// The hold's id, as its creation answered it: a UUID written as 8-4-4-4-12
    /// hexadecimal digits; anything else answers 400 `INVALID_HOLD_ID`.
    #[param(
        value_type = String,
        format = "uuid",
        example = "0b6c4a8e-5f1d-4c2a-9e37-2d1f6b0c9a41"
    )]
    hold_id: String,
}

/// The hold a route names in its `{hold_id}` segment.
#[derive(Debug, Clone, Copy)]
pub(crate) struct HoldIdPath(pub(crate) HoldId);

impl FromRequest for HoldIdPath {
    type Error = ApiError;
    type Future = Ready<Result<Self, ApiError>>;

    fn from_request(request: &HttpRequest, _: &mut Payload) -> Self::Future {
        let raw = request.match_info().get("hold_id").unwrap_or_default();
        ready(
            raw.parse()
                .map(Self)
                .map_err(|reason| ApiError::InvalidHoldId {
                    raw: raw.to_owned(),
                    reason,
                }),
        )
    }
}
