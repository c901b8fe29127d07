//! A ticket as the API renders it: always all seven fields, statuses as seen at the
//! instant the use case read the clock, timestamps in RFC 3339 UTC or `null`.

use std::borrow::Cow;

use chrono::SecondsFormat;
use serde::Serialize;
use ticketing_domain::{ReservationStatus, Timestamp};
use ticketing_ports::TicketView;
use utoipa::openapi::schema::{ObjectBuilder, Schema, Type};
use utoipa::openapi::RefOr;
use utoipa::{PartialSchema, ToSchema};

/// The JSON body of every answer that carries a ticket.
#[derive(Debug, Serialize, ToSchema)]
#[schema(as = Ticket, example = json!({
    "id": 42, "event_name": "Opening Night", "seat": "A-12",
    "reservation_status": "TENTATIVE",
    "reservation_created_at": "2026-11-26T12:00:00.000000Z",
    "reservation_expires_at": "2026-11-26T12:01:00.000000Z",
    "reservation_confirmed_at": null
}))]
pub(crate) struct TicketJson<'a> {
    #[schema(minimum = 1)]
    id: i64,
    #[schema(value_type = String)]
    event_name: &'a str,
    #[schema(value_type = Option<String>, required = true)]
    seat: Option<&'a str>,
    /// `null` (never reserved, or released), `TENTATIVE`, `CONFIRMED` or `EXPIRED`; a
    /// lapsed hold reads `EXPIRED`.
    #[schema(value_type = Option<ReservationStatusSchema>, required = true)]
    reservation_status: Option<&'static str>,
    /// RFC 3339, UTC, microseconds.
    #[schema(value_type = Option<String>, format = DateTime, required = true)]
    reservation_created_at: Option<String>,
    #[schema(value_type = Option<String>, format = DateTime, required = true)]
    reservation_expires_at: Option<String>,
    #[schema(value_type = Option<String>, format = DateTime, required = true)]
    reservation_confirmed_at: Option<String>,
}

/// The schema of `reservation_status`, listing the domain's own names.
pub(crate) enum ReservationStatusSchema {}

impl PartialSchema for ReservationStatusSchema {
    fn schema() -> RefOr<Schema> {
        ObjectBuilder::new()
            .schema_type(Type::String)
            .description(Some("A reservation's status."))
            .enum_values(Some(ReservationStatus::ALL.map(ReservationStatus::as_str)))
            .into()
    }
}

impl ToSchema for ReservationStatusSchema {
    fn name() -> Cow<'static, str> {
        Cow::Borrowed("ReservationStatus")
    }
}

impl<'a> From<&'a TicketView> for TicketJson<'a> {
    fn from(view: &'a TicketView) -> Self {
        let ticket = &view.ticket;
        let reservation = &ticket.reservation;
        Self {
            id: ticket.id.get(),
            event_name: ticket.event_name.as_str(),
            seat: ticket.seat.as_ref().map(|seat| seat.as_str()),
            reservation_status: view.status().map(|status| status.as_str()),
            reservation_created_at: reservation.created_at().map(rfc3339),
            reservation_expires_at: reservation.expires_at().map(rfc3339),
            reservation_confirmed_at: reservation.confirmed_at().map(rfc3339),
        }
    }
}

/// `2026-11-26T12:00:00.000000Z`: always six fractional digits (the microseconds that
/// PostgreSQL keeps) and `Z`, so every timestamp in the API has one fixed width.
pub(crate) fn rfc3339(instant: Timestamp) -> String {
    instant.to_rfc3339_opts(SecondsFormat::Micros, true)
}
