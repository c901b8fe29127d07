//! A hold as the API renders it: its id, its lifetime (shared by its tickets), the whole
//! seconds it has left, and its tickets; the token only in the one answer that creates
//! the hold. Also the `hold` a single-ticket reservation answers beside its ticket.

use serde::Serialize;
use ticketing_domain::Timestamp;
use ticketing_ports::{HoldView, IssuedHold};
use utoipa::ToSchema;

use crate::ticket_json::{rfc3339, TicketJson};

/// The JSON body of every answer that carries a hold (but the one creating it).
#[derive(Debug, Serialize, ToSchema)]
#[schema(as = Hold, example = json!({
    "hold_id": "0b6c4a8e-5f1d-4c2a-9e37-2d1f6b0c9a41",
    "created_at": "2026-11-26T12:00:00.000000Z",
    "expires_at": "2026-11-26T12:01:00.000000Z",
    "expires_in_seconds": 60,
    "tickets": [{
        "id": 1, "event_name": "Opening Night", "seat": "A-1",
        "reservation_status": "TENTATIVE",
        "reservation_created_at": "2026-11-26T12:00:00.000000Z",
        "reservation_expires_at": "2026-11-26T12:01:00.000000Z",
        "reservation_confirmed_at": null
    }]
}))]
pub(crate) struct HoldJson<'a> {
    /// A UUID.
    #[schema(value_type = String, format = "uuid")]
    hold_id: String,
    /// RFC 3339, UTC, microseconds; `null` in the answer to a release.
    #[schema(value_type = Option<String>, format = DateTime, required = true)]
    created_at: Option<String>,
    #[schema(value_type = Option<String>, format = DateTime, required = true)]
    expires_at: Option<String>,
    /// Whole seconds until `expires_at`, as of the answer; 0 once it has passed, `null`
    /// when `expires_at` is.
    #[schema(minimum = 0, required = true)]
    expires_in_seconds: Option<i64>,
    /// Ascending by id.
    tickets: Vec<TicketJson<'a>>,
}

impl<'a> From<&'a HoldView> for HoldJson<'a> {
    fn from(view: &'a HoldView) -> Self {
        Self {
            hold_id: view.id.to_string(),
            created_at: view.created_at.map(rfc3339),
            expires_at: view.expires_at.map(rfc3339),
            expires_in_seconds: view
                .expires_at
                .map(|expires_at| seconds_left(expires_at, view.seen_at)),
            tickets: view.tickets.iter().map(TicketJson::from).collect(),
        }
    }
}

/// The answer that creates a hold: the hold and, this once, its token.
#[derive(Debug, Serialize, ToSchema)]
#[schema(as = IssuedHold)]
pub(crate) struct IssuedHoldJson<'a> {
    /// The secret that proves the hold is the caller's: send it as `Hold-Token` to read,
    /// confirm, release or extend the hold. Answered only here, never again.
    hold_token: &'a str,
    #[serde(flatten)]
    hold: HoldJson<'a>,
}

impl<'a> From<&'a IssuedHold> for IssuedHoldJson<'a> {
    fn from(issued: &'a IssuedHold) -> Self {
        Self {
            hold_token: issued.token.expose_secret(),
            hold: HoldJson::from(&issued.hold),
        }
    }
}

/// The answer to a single-ticket reservation: the ticket as always, and its new hold.
#[derive(Debug, Serialize, ToSchema)]
#[schema(as = ReservedTicket)]
pub(crate) struct ReservedTicketJson<'a> {
    #[serde(flatten)]
    ticket: TicketJson<'a>,
    hold: TicketHoldJson<'a>,
}

/// The hold a single-ticket reservation placed.
#[derive(Debug, Serialize, ToSchema)]
#[schema(as = TicketHold)]
pub(crate) struct TicketHoldJson<'a> {
    #[schema(value_type = String, format = "uuid")]
    hold_id: String,
    /// As in `IssuedHold`: send it as `Hold-Token` to confirm or release the ticket.
    hold_token: &'a str,
    #[schema(value_type = String, format = DateTime)]
    expires_at: String,
    #[schema(minimum = 0)]
    expires_in_seconds: i64,
}

impl<'a> ReservedTicketJson<'a> {
    /// The answer for a hold just placed on one ticket; `None` if the hold has no
    /// ticket or no expiry (which a new hold always has).
    pub(crate) fn new(issued: &'a IssuedHold) -> Option<Self> {
        let hold = &issued.hold;
        let (ticket, expires_at) = (hold.tickets.first()?, hold.expires_at?);
        Some(Self {
            ticket: TicketJson::from(ticket),
            hold: TicketHoldJson {
                hold_id: hold.id.to_string(),
                hold_token: issued.token.expose_secret(),
                expires_at: rfc3339(expires_at),
                expires_in_seconds: seconds_left(expires_at, hold.seen_at),
            },
        })
    }
}

/// Whole seconds from `seen_at` to `expires_at`, never negative.
fn seconds_left(expires_at: Timestamp, seen_at: Timestamp) -> i64 {
    (expires_at - seen_at).num_seconds().max(0)
}

#[cfg(test)]
mod tests {
    use chrono::{TimeDelta, TimeZone, Utc};

    use super::*;

    #[test]
    fn seconds_left_are_whole_and_never_negative() {
        let now = Utc.with_ymd_and_hms(2026, 11, 26, 12, 0, 0).unwrap();
        let later = |millis| now + TimeDelta::milliseconds(millis);
        assert_eq!(seconds_left(later(60_000), now), 60);
        assert_eq!(seconds_left(later(59_999), now), 59);
        assert_eq!(seconds_left(later(999), now), 0);
        assert_eq!(seconds_left(now, now), 0);
        assert_eq!(seconds_left(later(-1), now), 0);
        assert_eq!(seconds_left(later(-5_000), now), 0);
    }
}
