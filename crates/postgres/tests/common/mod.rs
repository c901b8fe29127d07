//! Helpers shared by the PostgreSQL tests: the shared instants and ticket of
//! `ticketing_ports::testing`, and writing a reservation into a row by hand.

// Each test file uses its own subset of these helpers.
#![allow(dead_code)]

use chrono::SecondsFormat;
use ticketing_domain::{Reservation, TicketId, Timestamp};
// Each test file uses its own subset of the shared fixtures too.
#[allow(unused_imports)]
pub(crate) use ticketing_ports::testing::{at, hold, new_ticket};
use ticketing_postgres::test_db::TestDatabase;

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
