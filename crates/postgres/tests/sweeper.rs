//! The expiry sweeper's batch (`expire_lapsed`) against a real PostgreSQL: it writes
//! EXPIRED onto lapsed holds only, never onto an active hold or a sale, even while
//! confirms race it on other threads; several sweepers at once share the work without
//! waiting on one another (SKIP LOCKED) and count each hold exactly once.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::sync::{Arc, Barrier};
use std::thread;
use std::time::{Duration, Instant};

use chrono::TimeDelta;
use common::{at, force_reservation, hold, new_ticket, sql_time};
use diesel::connection::SimpleConnection;
use diesel::{Connection, PgConnection};
use ticketing_domain::{
    Command, Decision, Hold, Reservation, ReservationError, TicketId, Timestamp,
};
use ticketing_ports::{Outcome, TicketRepository};
use ticketing_postgres::test_db::TestDatabase;
use ticketing_postgres::{PgTicketRepository, PoolSettings};

/// Inserts `count` tentative holds expiring at `expires_at` (created a minute before)
/// in one statement; answers nothing, the ids follow the ones already there.
fn insert_holds(db: &TestDatabase, count: usize, expires_at: Timestamp) {
    db.execute(&format!(
        "INSERT INTO tickets (event_name, reservation_status, reservation_created_at, \
         reservation_expires_at) SELECT 'Sweep', 'TENTATIVE', {created}, {expires} \
         FROM generate_series(1, {count})",
        created = sql_time(expires_at - TimeDelta::seconds(60)),
        expires = sql_time(expires_at),
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
fn a_sweep_expires_lapsed_holds_and_nothing_else() {
    let db = TestDatabase::new();
    let repository = db.repository();
    let now = at(0);
    let one_microsecond = TimeDelta::microseconds(1);
    let arrangements = [
        ("unreserved", Reservation::Unreserved),
        (
            "active for one more microsecond",
            Reservation::Tentative(Hold::new(at(-60), now + one_microsecond).unwrap()),
        ),
        ("lapsed exactly now", Reservation::Tentative(hold(-60, 0))),
        ("lapsed earlier", Reservation::Tentative(hold(-100, -40))),
        ("expired", Reservation::Expired(hold(-100, -40))),
        (
            "confirmed",
            Reservation::confirmed(hold(-100, -40), at(-70)).unwrap(),
        ),
    ];
    let mut ids = Vec::new();
    for (_, reservation) in &arrangements {
        let id = repository.create(&new_ticket()).unwrap().id;
        force_reservation(&db, id, reservation);
        ids.push(id);
    }

    assert_eq!(repository.expire_lapsed(now, 100).unwrap(), 2);
    for ((label, before), id) in arrangements.iter().zip(&ids) {
        let stored = repository.find(*id).unwrap().reservation;
        let expected = match Command::Expire.decide(before, now) {
            Decision::Write(next) => next,
            _ => *before,
        };
        assert_eq!(stored, expected, "{label}");
    }
    assert_eq!(
        repository.expire_lapsed(now, 100).unwrap(),
        0,
        "nothing left"
    );
    // A microsecond later the last active hold has lapsed too.
    assert_eq!(
        repository
            .expire_lapsed(now + one_microsecond, 100)
            .unwrap(),
        1
    );
}

#[test]
fn batches_are_bounded_by_the_limit_and_take_the_earliest_expiry_first() {
    let db = TestDatabase::new();
    let repository = db.repository();
    // Ticket i (1..=25) expires at at(-i): the later the id, the earlier it lapsed.
    for i in 1..=25 {
        let id = repository.create(&new_ticket()).unwrap().id;
        force_reservation(&db, id, &Reservation::Tentative(hold(-100, -i)));
    }
    let now = at(0);
    assert_eq!(repository.expire_lapsed(now, 10).unwrap(), 10);
    let counts_of = |range: std::ops::RangeInclusive<i64>| stored_counts(&repository, range);
    assert_eq!(counts_of(16..=25), [0, 10, 0], "the ten earliest expiries");
    assert_eq!(counts_of(1..=15), [15, 0, 0]);
    assert_eq!(repository.expire_lapsed(now, 10).unwrap(), 10);
    assert_eq!(repository.expire_lapsed(now, 10).unwrap(), 5);
    assert_eq!(repository.expire_lapsed(now, 10).unwrap(), 0);
    assert_eq!(repository.expire_lapsed(now, 0).unwrap(), 0);
    assert_eq!(counts_of(1..=25), [0, 25, 0]);
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
                        (id, repository.apply(id, Command::Confirm, confirm_at))
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
