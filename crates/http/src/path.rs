//! The `{id}` segment of the ticket routes, parsed into a [`TicketId`] by the domain's own
//! rules, so that `abc`, `0`, `-1`, `1.5` and ids beyond 64 bits answer `INVALID_TICKET_ID`.

use std::future::{ready, Ready};

use actix_web::dev::Payload;
use actix_web::{FromRequest, HttpRequest};
use ticketing_domain::TicketId;

use crate::ApiError;

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
