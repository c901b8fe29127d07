//! Fixtures shared by the tests of every crate: one fixed instant, offsets from it, and a
//! ticket to create. The rules only ever see the `now` passed in, so tests make time up.

// Test fixtures panic on purpose when a constant is wrong.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use chrono::{DateTime, TimeDelta};
use ticketing_domain::{EventName, Hold, NewTicket, Seat, Timestamp};

/// The instant tests start from: 2026-11-26 12:00:00 UTC.
pub const INSTANT: Timestamp = match DateTime::from_timestamp(1_795_694_400, 0) {
    Some(instant) => instant,
    None => panic!("2026-11-26 12:00:00 UTC is a valid instant"),
};

/// The instant `seconds` after [`INSTANT`] (before it, when negative).
pub fn at(seconds: i64) -> Timestamp {
    INSTANT + TimeDelta::seconds(seconds)
}

/// A hold from `at(created)` to `at(expires)`.
pub fn hold(created: i64, expires: i64) -> Hold {
    Hold::new(at(created), at(expires)).unwrap()
}

/// Seat A-12 at "Opening Night".
pub fn new_ticket() -> NewTicket {
    NewTicket {
        event_name: EventName::parse("Opening Night").unwrap(),
        seat: Some(Seat::parse("A-12").unwrap()),
    }
}
