//! Helpers shared by the PostgreSQL tests: instants, tickets, and writing a reservation
//! into a row by hand.

// Each test file uses its own subset of these helpers.
#![allow(dead_code)]

use chrono::{SecondsFormat, TimeDelta, TimeZone, Utc};
use ticketing_domain::{EventName, Hold, NewTicket, Reservation, Seat, TicketId, Timestamp};
use ticketing_postgres::test_db::TestDatabase;

/// An instant `seconds` after a fixed start: the rules only ever see the clock passed in.
pub(crate) fn at(seconds: i64) -> Timestamp {
    Utc.with_ymd_and_hms(2026, 11, 26, 12, 0, 0).unwrap() + TimeDelta::seconds(seconds)
}

pub(crate) fn hold(created: i64, expires: i64) -> Hold {
    Hold::new(at(created), at(expires)).unwrap()
}

pub(crate) fn new_ticket() -> NewTicket {
    NewTicket {
        event_name: EventName::parse("Opening Night").unwrap(),
        seat: Some(Seat::parse("A-12").unwrap()),
    }
}

/// A timestamp as a SQL literal, to the microsecond.
pub(crate) fn sql_time(instant: Timestamp) -> String {
    format!(
        "'{}'::timestamptz",
        instant.to_rfc3339_opts(SecondsFormat::Micros, true)
    )
}

fn sql_option(instant: Option<Timestamp>) -> String {
    instant.map_or_else(|| "NULL".to_owned(), sql_time)
}

/// Writes `reservation` into ticket `id` with raw SQL, bypassing the rules.
pub(crate) fn force_reservation(db: &TestDatabase, id: TicketId, reservation: &Reservation) {
    let status = reservation
        .stored_status()
        .map_or_else(|| "NULL".to_owned(), |status| format!("'{status}'"));
    db.execute(&format!(
        "UPDATE tickets SET reservation_status = {status}, reservation_created_at = {}, \
         reservation_expires_at = {}, reservation_confirmed_at = {} WHERE id = {id}",
        sql_option(reservation.created_at()),
        sql_option(reservation.expires_at()),
        sql_option(reservation.confirmed_at()),
    ))
    .unwrap();
}
