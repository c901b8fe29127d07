//! The benchmark's ceiling (`scripts/bench/reserve.sql`, run by pgbench) is the very
//! statement this adapter prepares for a reservation, so the ratio `scripts/bench.sh`
//! prints compares the service with PostgreSQL doing the same work.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::sync::Mutex;

use common::{at, new_ticket};
use diesel::connection::{set_default_instrumentation, Instrumentation, InstrumentationEvent};
use ticketing_domain::{Command, ReservationPolicy};
use ticketing_ports::TicketRepository;
use ticketing_postgres::test_db::TestDatabase;

/// Every SQL text sent by a connection of this process.
static SENT: Mutex<Vec<String>> = Mutex::new(Vec::new());

fn record_sent_statements() -> Option<Box<dyn Instrumentation>> {
    Some(Box::new(|event: InstrumentationEvent<'_>| {
        if let InstrumentationEvent::StartQuery { query, .. } = event {
            let shown = query.to_string();
            let sql = shown.split(" -- binds: ").next().unwrap_or_default();
            SENT.lock().unwrap().push(sql.to_owned());
        }
    }))
}

/// The SQL of a pgbench script with its variables as numbered parameters, in order of
/// appearance. pgbench cannot bind NULL, so the script writes `= NULL` where the
/// adapter binds a NULL; that counts as a parameter too.
fn as_prepared(script: &str) -> String {
    let sql: Vec<&str> = script
        .lines()
        .map(str::trim)
        .filter(|line| !line.is_empty() && !line.starts_with('\\') && !line.starts_with("--"))
        .collect();
    let sql = sql.join(" ");
    let sql = sql.trim_end_matches(';');
    let mut prepared = String::new();
    let mut parameter = 0;
    let mut rest = sql;
    while !rest.is_empty() {
        if let Some(after) = rest.strip_prefix("= NULL") {
            parameter += 1;
            prepared.push_str(&format!("= ${parameter}"));
            rest = after;
        } else if let Some(after) = rest.strip_prefix(':') {
            let name_length = after
                .find(|c: char| !(c.is_ascii_alphanumeric() || c == '_'))
                .unwrap_or(after.len());
            assert!(name_length > 0, "a ':' without a variable name in {sql}");
            parameter += 1;
            prepared.push_str(&format!("${parameter}"));
            rest = &after[name_length..];
        } else {
            let next = rest.chars().next().unwrap();
            prepared.push(next);
            rest = &rest[next.len_utf8()..];
        }
    }
    prepared
}

#[test]
fn the_pgbench_ceiling_runs_the_reservation_statement_the_adapter_sends() {
    set_default_instrumentation(record_sent_statements).unwrap();
    let db = TestDatabase::new();
    let repository = db.repository();
    let id = repository.create(&new_ticket()).unwrap().id;
    let policy = ReservationPolicy::from_ttl_seconds(600).unwrap();
    assert!(
        repository
            .apply(id, Command::Reserve(policy), at(0))
            .unwrap()
            .written
    );

    let sent = SENT.lock().unwrap().clone();
    let reserve = sent
        .iter()
        .find(|sql| sql.starts_with("UPDATE") && sql.contains("\"reservation_expires_at\" = $3"))
        .unwrap_or_else(|| panic!("no reservation UPDATE among {sent:#?}"));
    let script_path = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../scripts/bench/reserve.sql"
    );
    let script = std::fs::read_to_string(script_path).unwrap();
    assert_eq!(
        &as_prepared(&script),
        reserve,
        "{script_path} no longer runs the adapter's statement; copy it from here"
    );
}
