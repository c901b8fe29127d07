//! The expiry sweeper's batch (`expire_lapsed`) against a real PostgreSQL, under
//! concurrency (what it writes on its own is the repository contract's, `tests/contract.rs`):
//! it never writes an active hold or a sale while confirms race it on other threads;
//! several sweepers at once share the work without waiting on one another (SKIP LOCKED)
//! and count each hold exactly once.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::sync::{Arc, Barrier};
use std::thread;
use std::time::{Duration, Instant};

use chrono::TimeDelta;
use common::{at, sql_digest, sql_time};
use diesel::connection::SimpleConnection;
use diesel::{Connection, PgConnection};
use ticketing_domain::{Command, Reservation, ReservationError, TicketId, Timestamp};
use ticketing_ports::testing::{owner_proof, OWNER};
use ticketing_ports::{Outcome, TicketRepository};
use ticketing_postgres::test_db::TestDatabase;
use ticketing_postgres::{PgTicketRepository, PoolSettings};

/// Inserts `count` tentative holds of one ticket each, all [`OWNER`]'s token's, expiring
/// at `expires_at` (created a minute before) in one statement; answers nothing, the ids
/// follow the ones already there.
fn insert_holds(db: &TestDatabase, count: usize, expires_at: Timestamp) {
    db.execute(&format!(
        "INSERT INTO tickets (event_name, reservation_status, reservation_created_at, \
         reservation_expires_at, hold_id, hold_token_digest) \
         SELECT 'Sweep', 'TENTATIVE', {created}, {expires}, gen_random_uuid(), {digest} \
         FROM generate_series(1, {count})",
        created = sql_time(expires_at - TimeDelta::seconds(60)),
        expires = sql_time(expires_at),
        digest = sql_digest(&OWNER.owner),
    ))
    .unwrap();
}

/// How many tickets have each stored status: (tentative, expired, confirmed).
fn stored_counts(repository: &PgTicketRepository, ids: impl Iterator<Item = i64>) -> [usize; 3] {
    let mut counts = [0; 3];
    for id in ids {
        match repository
            .find(TicketId::new(id).unwrap())
            .unwrap()
            .reservation
        {
            Reservation::Tentative(_) => counts[0] += 1,
            Reservation::Expired(_) => counts[1] += 1,
            Reservation::Confirmed { .. } => counts[2] += 1,
            Reservation::Unreserved => {}
        }
    }
    counts
}

fn repository_with(db: &TestDatabase, connections: u32) -> PgTicketRepository {
    PgTicketRepository::new(db.pool_with(PoolSettings {
        max_size: connections,
        ..db.settings()
    }))
}

#[test]
fn a_sweep_skips_holds_another_transaction_has_locked_instead_of_waiting() {
    let db = TestDatabase::new();
    let repository = db.repository();
    insert_holds(&db, 20, at(-1));
    // Another sweeper (or a confirm) in the middle of writing tickets 1..=5.
    let mut other = PgConnection::establish(db.url()).unwrap();
    other
        .batch_execute("BEGIN; SELECT id FROM tickets WHERE id <= 5 FOR UPDATE")
        .unwrap();

    let started = Instant::now();
    assert_eq!(repository.expire_lapsed(at(0), 100).unwrap(), 15);
    // Waiting for the lock would have lasted until the statement timeout (5 s).
    assert!(
        started.elapsed() < Duration::from_secs(2),
        "{:?}",
        started.elapsed()
    );
    assert_eq!(stored_counts(&repository, 1..=5), [5, 0, 0]);

    other.batch_execute("COMMIT").unwrap();
    assert_eq!(repository.expire_lapsed(at(0), 100).unwrap(), 5);
}

#[test]
fn parallel_sweepers_expire_each_of_thousands_of_lapsed_holds_exactly_once() {
    const LAPSED: usize = 4_000;
    const ACTIVE: usize = 500;
    const SWEEPERS: usize = 4;
    const BATCH: u32 = 150;
    let db = TestDatabase::new();
    let now = at(0);
    insert_holds(&db, LAPSED, now);
    insert_holds(&db, ACTIVE, now + TimeDelta::microseconds(1));
    let repository = Arc::new(repository_with(&db, SWEEPERS as u32));

    let barrier = Arc::new(Barrier::new(SWEEPERS));
    let sweepers: Vec<_> = (0..SWEEPERS)
        .map(|_| {
            let (repository, barrier) = (repository.clone(), barrier.clone());
            thread::spawn(move || {
                barrier.wait();
                let (mut total, mut batches) = (0u32, Vec::new());
                loop {
                    let expired = repository.expire_lapsed(now, BATCH).unwrap();
                    assert!(expired <= BATCH);
                    total += expired;
                    batches.push(expired);
                    if expired < BATCH {
                        return (total, batches);
                    }
                }
            })
        })
        .collect();
    let results: Vec<(u32, Vec<u32>)> = sweepers.into_iter().map(|s| s.join().unwrap()).collect();
    let sum: u32 = results.iter().map(|(total, _)| total).sum();
    assert_eq!(sum as usize, LAPSED, "{results:?}");
    let all = 1..=(LAPSED + ACTIVE) as i64;
    assert_eq!(stored_counts(&repository, all), [ACTIVE, LAPSED, 0]);
    assert_eq!(repository.expire_lapsed(now, BATCH).unwrap(), 0);
}

/// Holds expiring at `at(0)`: confirms at `at(0) - 1 µs` race sweeps at `at(0)`. Whoever
/// writes first wins; a confirm that succeeded leaves a sale the sweep never touches, and
/// one that lost answers `Expired` over a hold the sweep counted.
#[test]
fn confirms_racing_sweeps_never_lose_a_sale_nor_double_count() {
    const HOLDS: usize = 600;
    const ACTIVE: usize = 100;
    const CONFIRMERS: usize = 4;
    const SWEEPERS: usize = 2;
    let db = TestDatabase::new();
    let expiry = at(0);
    insert_holds(&db, HOLDS, expiry);
    insert_holds(&db, ACTIVE, expiry + TimeDelta::microseconds(1));
    let repository = Arc::new(repository_with(&db, (CONFIRMERS + SWEEPERS) as u32));
    let confirm_at = expiry - TimeDelta::microseconds(1);

    let barrier = Arc::new(Barrier::new(CONFIRMERS + SWEEPERS));
    let confirmers: Vec<_> = (0..CONFIRMERS)
        .map(|c| {
            let (repository, barrier) = (repository.clone(), barrier.clone());
            thread::spawn(move || {
                barrier.wait();
                // Interleaved shares, from the last id down, while the sweeps (equal
                // expiries, so about id order) work upwards: they meet mid-table.
                (1..=HOLDS as i64)
                    .rev()
                    .filter(|id| (*id as usize) % CONFIRMERS == c)
                    .map(|id| {
                        let id = TicketId::new(id).unwrap();
                        (
                            id,
                            repository.apply(id, Command::Confirm(owner_proof()), confirm_at),
                        )
                    })
                    .collect::<Vec<_>>()
            })
        })
        .collect();
    let sweepers: Vec<_> = (0..SWEEPERS)
        .map(|_| {
            let (repository, barrier) = (repository.clone(), barrier.clone());
            thread::spawn(move || {
                barrier.wait();
                let mut total = 0;
                loop {
                    let expired = repository.expire_lapsed(expiry, 5).unwrap();
                    total += expired;
                    if expired == 0 {
                        return total;
                    }
                }
            })
        })
        .collect();
    let outcomes: Vec<_> = confirmers
        .into_iter()
        .flat_map(|c| c.join().unwrap())
        .collect();
    let swept: u32 = sweepers.into_iter().map(|s| s.join().unwrap()).sum();
    // A last sweep picks up any hold a sweeper skipped while a confirm had it locked.
    let swept = swept + repository.expire_lapsed(expiry, 1_000).unwrap();

    let (mut confirmed, mut expired) = (0, 0);
    for (id, outcome) in outcomes {
        let stored = repository.find(id).unwrap().reservation;
        match outcome {
            Ok(Outcome::Written(ticket)) => {
                confirmed += 1;
                assert!(
                    matches!(stored, Reservation::Confirmed { .. }),
                    "{id}: {stored:?}"
                );
                assert_eq!(ticket.reservation, stored, "{id}");
            }
            // Confirming while the hold is still active never records an expiry itself:
            // a sweep wrote it (and counted it, as checked below).
            Ok(Outcome::Refused(ReservationError::Expired { expired_at })) => {
                expired += 1;
                assert_eq!(expired_at, expiry);
                assert!(
                    matches!(stored, Reservation::Expired(_)),
                    "{id}: {stored:?}"
                );
            }
            other => {
                panic!("{id}: a confirm either wins or finds the hold expired: {other:?}")
            }
        }
    }
    assert_eq!(confirmed + expired, HOLDS);
    // Both sides won some tickets, or the two never really met.
    assert!(
        confirmed > 0 && expired > 0,
        "{confirmed} confirmed, {expired} expired"
    );
    assert_eq!(swept as usize, expired, "each expired hold counted once");
    let active = (HOLDS + 1) as i64..=(HOLDS + ACTIVE) as i64;
    assert_eq!(
        stored_counts(&repository, active),
        [ACTIVE, 0, 0],
        "active holds untouched"
    );
    eprintln!("race outcome: {confirmed} confirmed, {expired} expired by the sweep");
}
