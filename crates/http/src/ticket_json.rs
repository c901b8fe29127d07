//! A ticket as the API renders it: always all seven fields, statuses as seen at the
//! instant the use case read the clock, timestamps in RFC 3339 UTC or `null`.

use chrono::SecondsFormat;
use serde::Serialize;
use ticketing_domain::Timestamp;
use ticketing_ports::TicketView;

/// The JSON body of every answer that carries a ticket.
#[derive(Debug, Serialize)]
pub(crate) struct TicketJson<'a> {
    id: i64,
    event_name: &'a str,
    seat: Option<&'a str>,
    /// `null`, `TENTATIVE`, `CONFIRMED` or `EXPIRED`; a lapsed hold reads `EXPIRED`.
    reservation_status: Option<&'static str>,
    reservation_created_at: Option<String>,
    reservation_expires_at: Option<String>,
    reservation_confirmed_at: Option<String>,
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
