//! What a reservation costs the database, the floor `scripts/bench.sh` measures against:
//! one prepared statement and no checkout ping; and that statement is the very one the
//! benchmark's pgbench ceiling runs (`scripts/bench/reserve.sql`).

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::sync::{Mutex, MutexGuard};
use std::time::Duration;

use chrono::TimeDelta;
use common::{at, new_ticket};
use diesel::connection::{set_default_instrumentation, Instrumentation, InstrumentationEvent};
use ticketing_domain::{Command, EventName, NewHold, Proof, ReservationPolicy, TicketSet};
use ticketing_ports::testing::{owner_proof, OTHER, OWNER};
use ticketing_ports::{BestAvailable, Outcome, TicketError, TicketRepository, TogetherOutcome};
use ticketing_postgres::test_db::TestDatabase;
use ticketing_postgres::{PgTicketRepository, PoolSettings};

/// What the connections of this process did, in order: `SEND <sql>` for each statement
/// sent, `PREPARE <sql>` for each statement prepared and kept.
static EVENTS: Mutex<Vec<String>> = Mutex::new(Vec::new());
/// The tests of this file share `EVENTS`: one at a time.
static SERIAL: Mutex<()> = Mutex::new(());

fn record_statements() -> Option<Box<dyn Instrumentation>> {
    Some(Box::new(|event: InstrumentationEvent<'_>| match event {
        InstrumentationEvent::StartQuery { query, .. } => {
            let shown = query.to_string();
            let sql = shown.split(" -- binds: ").next().unwrap_or_default();
            EVENTS.lock().unwrap().push(format!("SEND {sql}"));
        }
        InstrumentationEvent::CacheQuery { sql, .. } => {
            EVENTS.lock().unwrap().push(format!("PREPARE {sql}"));
        }
        _ => {}
    }))
}

/// Records from now on, and holds the other tests of this file off meanwhile.
fn recording() -> MutexGuard<'static, ()> {
    let serial = SERIAL
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner());
    set_default_instrumentation(record_statements).unwrap();
    EVENTS.lock().unwrap().clear();
    serial
}

fn take_events() -> Vec<String> {
    std::mem::take(&mut *EVENTS.lock().unwrap())
}

fn is_reservation_update(sql: &str) -> bool {
    sql.starts_with("UPDATE") && sql.contains("\"reservation_expires_at\" = $3")
}

/// A repository over one connection, so that consecutive calls share it.
fn one_connection(db: &TestDatabase) -> PgTicketRepository {
    PgTicketRepository::new(db.pool_with(PoolSettings {
        max_size: 1,
        min_idle: Some(1),
        ..db.settings()
    }))
}

fn written(outcome: Result<Outcome, TicketError>) -> bool {
    matches!(outcome, Ok(Outcome::Written(_)))
}

fn policy() -> ReservationPolicy {
    ReservationPolicy::from_ttl_seconds(600).unwrap()
}

fn reserve() -> Command {
    reserve_for(OWNER)
}

fn reserve_for(hold: NewHold) -> Command {
    Command::Reserve {
        hold,
        policy: policy(),
    }
}

fn extend(seconds: i64) -> Command {
    Command::Extend {
        proof: owner_proof(),
        by: TimeDelta::seconds(seconds),
        policy: policy(),
    }
}

#[test]
fn a_reservation_is_one_statement_prepared_once_per_connection() {
    let _serial = recording();
    let db = TestDatabase::new();
    let repository = one_connection(&db);
    let first = repository.create(&new_ticket()).unwrap().id;
    let second = repository.create(&new_ticket()).unwrap().id;

    take_events();
    assert!(written(repository.apply(first, reserve(), at(0))));
    let events = take_events();
    let prepared: Vec<_> = events.iter().filter(|e| e.starts_with("PREPARE")).collect();
    assert_eq!(prepared.len(), 1, "{events:#?}");
    assert!(is_reservation_update(&prepared[0]["PREPARE ".len()..]));

    // The same connection again: nothing but the prepared statement is sent, no ping.
    assert!(written(repository.apply(second, reserve(), at(1))));
    let events = take_events();
    assert_eq!(events.len(), 1, "{events:#?}");
    assert!(
        events[0].starts_with("SEND ") && is_reservation_update(&events[0]["SEND ".len()..]),
        "{events:#?}"
    );
}

/// The guarded writes, the writes of several tickets and best available are found in
/// the statement cache by their type, not their text: every write sent, whatever its
/// values, must render exactly the SQL its type was prepared with, or a connection would
/// run another statement than the one asked for.
#[test]
fn every_write_renders_the_sql_it_was_prepared_with() {
    let _serial = recording();
    let db = TestDatabase::new();
    let repository = one_connection(&db);
    let [a, b, c, d, e] = [(); 5].map(|()| repository.create(&new_ticket()).unwrap().id);
    let ttl = 600;
    let confirm = Command::Confirm(owner_proof());
    let release = Command::Release(owner_proof());

    // Every kind of write, from different phases and with different values.
    repository.apply(a, reserve(), at(0)).unwrap();
    repository.apply(a, extend(60), at(1)).unwrap();
    repository.apply(a, confirm, at(1)).unwrap();
    repository.apply(a, confirm, at(2)).unwrap();
    repository.apply(b, reserve(), at(3)).unwrap();
    repository.apply(b, release, at(4)).unwrap();
    repository.apply(b, reserve(), at(5)).unwrap();
    assert!(matches!(
        repository.apply(b, confirm, at(5 + ttl + 1)),
        Ok(Outcome::RecordedThenRefused(_))
    ));
    repository.apply(b, reserve(), at(5 + ttl + 2)).unwrap();
    repository.apply(c, reserve(), at(6)).unwrap();
    assert!(matches!(
        repository.apply(c, reserve(), at(7)),
        Ok(Outcome::Refused(_))
    ));
    repository.apply(c, extend(30), at(8)).unwrap();
    repository.apply(c, reserve(), at(6 + ttl)).unwrap();

    let together = TicketSet::new(&[d, e], 10).unwrap();
    let theirs = |command| repository.apply_to_hold(OTHER.id, command, at(20)).unwrap();
    repository
        .apply_together(&together, reserve_for(OTHER), at(10))
        .unwrap();
    let other_proof = Proof::token(OTHER.owner);
    let extended = theirs(Command::Extend {
        proof: other_proof,
        by: TimeDelta::seconds(100),
        policy: policy(),
    });
    assert!(
        matches!(extended, TogetherOutcome::Written(_)),
        "{extended:?}"
    );
    assert!(matches!(
        theirs(Command::Release(other_proof)),
        TogetherOutcome::Written(_)
    ));
    repository
        .apply_together(&together, reserve_for(OTHER), at(30))
        .unwrap();
    assert!(matches!(
        theirs(Command::Confirm(other_proof)),
        TogetherOutcome::Written(_)
    ));
    let event = EventName::parse("Opening Night").unwrap();
    // Two more tickets to pick from, every other one being held or sold by now.
    for _ in 0..2 {
        repository.create(&new_ticket()).unwrap();
    }
    for now in [at(40), at(41)] {
        let best = repository
            .hold_best_available(&event, 1, OWNER, &policy(), now)
            .unwrap();
        assert!(matches!(best, BestAvailable::Held(_)), "{best:?}");
    }
    assert_eq!(
        repository
            .hold_best_available(&event, 2, OWNER, &policy(), at(42))
            .unwrap(),
        BestAvailable::TooFew { available: 0 }
    );

    let events = take_events();
    let prepared: Vec<&str> = events
        .iter()
        .filter_map(|event| event.strip_prefix("PREPARE "))
        .collect();
    fn is_write(sql: &str) -> bool {
        sql.starts_with("UPDATE") || sql.starts_with("WITH")
    }
    // Hold or release (a release binds NULLs into the very statement a hold uses), sale,
    // extension, expiry; the state of several tickets; best available, skipping tickets
    // being written and (after a short pick) waiting for them.
    let prepared_writes = prepared.iter().filter(|sql| is_write(sql)).count();
    assert_eq!(prepared_writes, 7, "{events:#?}");
    for sent in events
        .iter()
        .filter_map(|event| event.strip_prefix("SEND "))
        .filter(|sql| is_write(sql))
    {
        assert!(
            prepared.contains(&sent),
            "not prepared as sent: {sent}\n{events:#?}"
        );
    }
}

#[test]
fn a_connection_that_died_is_never_handed_out_again() {
    let _serial = recording();
    let db = TestDatabase::new();
    let repository = one_connection(&db);
    let id = repository.create(&new_ticket()).unwrap().id;

    for _ in 0..3 {
        // Ended without waiting: the pool may find out on checkout (end-of-file already
        // read) or only when the statement fails; then the connection is discarded.
        db.execute(
            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity \
             WHERE datname = current_database() AND pid <> pg_backend_pid()",
        )
        .unwrap();
        match repository.find(id) {
            Ok(ticket) => assert_eq!(ticket.id, id),
            Err(TicketError::Unavailable(_)) => {}
            Err(other) => panic!("a lost connection answered {other:?}"),
        }
        assert_eq!(repository.find(id).unwrap().id, id);
        std::thread::sleep(Duration::from_millis(20));
    }
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
    let _serial = recording();
    let db = TestDatabase::new();
    let repository = db.repository();
    let id = repository.create(&new_ticket()).unwrap().id;
    assert!(written(repository.apply(id, reserve(), at(0))));

    let events = take_events();
    let reserve = events
        .iter()
        .filter_map(|event| event.strip_prefix("SEND "))
        .find(|sql| is_reservation_update(sql))
        .unwrap_or_else(|| panic!("no reservation UPDATE among {events:#?}"));
    let script_path = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../scripts/bench/reserve.sql"
    );
    let script = std::fs::read_to_string(script_path).unwrap();
    assert_eq!(
        as_prepared(&script),
        reserve,
        "{script_path} no longer runs the adapter's statement; copy it from here"
    );
}
