//! Fixtures shared by the tests of every crate: one fixed instant, offsets from it, a
//! ticket to create, and holds with known owners. The rules only ever see the `now`
//! passed in, so tests make time up.

// Test fixtures panic on purpose when a constant is wrong.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use chrono::{DateTime, TimeDelta};
use ticketing_domain::{
    Command, EventName, Hold, HoldId, NewHold, NewTicket, Proof, ReservationPolicy, Seat,
    Timestamp, TokenDigest,
};

/// The instant tests start from: 2026-11-26 12:00:00 UTC.
pub const INSTANT: Timestamp = match DateTime::from_timestamp(1_795_694_400, 0) {
    Some(instant) => instant,
    None => panic!("2026-11-26 12:00:00 UTC is a valid instant"),
};

/// The owner of the holds tests place, unless they say otherwise.
pub const OWNER: NewHold = NewHold {
    id: HoldId::from_uuid(uuid::Uuid::from_u128(0x0000_0001)),
    owner: TokenDigest::from_bytes([1; 32]),
};

/// Another buyer.
pub const OTHER: NewHold = NewHold {
    id: HoldId::from_uuid(uuid::Uuid::from_u128(0x0000_0002)),
    owner: TokenDigest::from_bytes([2; 32]),
};

/// The instant `seconds` after [`INSTANT`] (before it, when negative).
pub fn at(seconds: i64) -> Timestamp {
    INSTANT + TimeDelta::seconds(seconds)
}

/// [`OWNER`]'s hold from `at(created)` to `at(expires)`.
pub fn hold(created: i64, expires: i64) -> Hold {
    Hold::new(OWNER, at(created), at(expires)).unwrap()
}

/// Holds lasting `ttl_seconds`.
pub fn policy(ttl_seconds: i64) -> ReservationPolicy {
    ReservationPolicy::from_ttl_seconds(ttl_seconds).unwrap()
}

/// [`OWNER`] reserving for `ttl_seconds`.
pub fn reserve(ttl_seconds: i64) -> Command {
    Command::Reserve {
        hold: OWNER,
        policy: policy(ttl_seconds),
    }
}

/// [`OWNER`]'s proof: the digest of their token.
pub fn owner_proof() -> Proof {
    Proof::token(OWNER.owner)
}

/// Seat A-12 at "Opening Night".
pub fn new_ticket() -> NewTicket {
    NewTicket {
        event_name: EventName::parse("Opening Night").unwrap(),
        seat: Some(Seat::parse("A-12").unwrap()),
    }
}
