//! Real threads racing for one ticket through a real PostgreSQL: the guarded write is
//! what keeps them from interleaving wrongly.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::sync::{Arc, Barrier};
use std::thread;
use std::time::{Duration, Instant};

use chrono::TimeDelta;
use common::{at, new_ticket};
use ticketing_domain::{
    Command, ManualClock, Reservation, ReservationError, ReservationPolicy, TicketId,
};
use ticketing_ports::{Outcome, TicketError, TicketRepository, TicketService};
use ticketing_postgres::test_db::TestDatabase;
use ticketing_postgres::{PgPool, PgTicketRepository};

const RESERVERS: usize = 64;
const CONFIRMERS: usize = 32;
/// Connections the racing threads share; enough for real overlap at the database
/// without crowding a server other test processes use too.
const CONNECTIONS: u32 = 24;

fn policy() -> ReservationPolicy {
    ReservationPolicy::from_ttl_seconds(60).unwrap()
}

/// A repository whose pool has all its connections open, so the threads race in
/// PostgreSQL rather than in the pool's connection set-up.
fn warm_repository(db: &TestDatabase) -> PgTicketRepository {
    let pool: PgPool = db.pool_with(ticketing_postgres::PoolSettings {
        max_size: CONNECTIONS,
        min_idle: Some(CONNECTIONS),
        ..db.settings()
    });
    let deadline = Instant::now() + Duration::from_secs(20);
    while pool.state().idle_connections < CONNECTIONS {
        assert!(Instant::now() < deadline, "pool never warmed: {pool:?}");
        thread::sleep(Duration::from_millis(20));
    }
    PgTicketRepository::new(pool)
}

/// Runs `task(i)` on `threads` threads released at once; answers the results by `i`.
fn race<T: Send + 'static>(
    threads: usize,
    task: impl Fn(usize) -> T + Send + Sync + 'static,
) -> Vec<T> {
    let barrier = Arc::new(Barrier::new(threads));
    let task = Arc::new(task);
    let handles: Vec<_> = (0..threads)
        .map(|i| {
            let (barrier, task) = (barrier.clone(), task.clone());
            thread::spawn(move || {
                barrier.wait();
                task(i)
            })
        })
        .collect();
    handles.into_iter().map(|h| h.join().unwrap()).collect()
}

fn assert_exactly_one_hold(results: &[Result<Outcome, TicketError>], stored: &Reservation) {
    let winners: Vec<&Reservation> = results
        .iter()
        .filter_map(|r| match r {
            Ok(Outcome::Written(ticket)) => Some(&ticket.reservation),
            _ => None,
        })
        .collect();
    assert_eq!(winners.len(), 1, "exactly one reserve wins: {results:?}");
    assert_eq!(winners[0], stored);
    let Reservation::Tentative(hold) = stored else {
        panic!("the ticket must be held, is {stored:?}");
    };
    for result in results {
        match result {
            Ok(Outcome::Written(_)) => {}
            Ok(Outcome::Refused(ReservationError::AlreadyActive { expires_at })) => {
                assert_eq!(*expires_at, hold.expires_at());
            }
            other => panic!("every loser gets AlreadyActive, got {other:?}"),
        }
    }
}

#[test]
fn of_64_threads_reserving_one_ticket_exactly_one_wins() {
    let db = TestDatabase::new();
    let repository = Arc::new(warm_repository(&db));
    // Several rounds on fresh tickets: one round could be won by a lucky schedule.
    for round in 0..5 {
        let id = repository.create(&new_ticket()).unwrap().id;
        let racing = repository.clone();
        // Each thread's clock reads a little later than the one before, as in real life.
        let results = race(RESERVERS, move |i| {
            let now = at(round) + TimeDelta::microseconds(i as i64);
            racing.apply(id, Command::Reserve(policy()), now)
        });
        let stored = repository.find(id).unwrap().reservation;
        assert_exactly_one_hold(&results, &stored);
    }
}

#[test]
fn of_64_clients_reserving_through_the_service_exactly_one_wins() {
    let db = TestDatabase::new();
    let clock = Arc::new(ManualClock::new(at(0)));
    let service = Arc::new(TicketService::new(
        warm_repository(&db),
        clock.clone(),
        policy(),
    ));
    for _ in 0..5 {
        let id = service.create_ticket(&new_ticket()).unwrap().ticket.id;
        let racing = service.clone();
        let views = race(RESERVERS, move |_| racing.reserve(id));
        // The use case's answers as the repository's outcomes.
        let results: Vec<Result<Outcome, TicketError>> = views
            .into_iter()
            .map(|view| match view {
                Ok(view) => {
                    assert!(view.written, "{view:?}");
                    Ok(Outcome::Written(view.ticket))
                }
                Err(TicketError::Refused(error)) => Ok(Outcome::Refused(error)),
                Err(other) => Err(other),
            })
            .collect();
        let stored = service.ticket(id).unwrap().ticket.reservation;
        assert_exactly_one_hold(&results, &stored);
        clock.advance(TimeDelta::seconds(1));
    }
}

#[test]
fn of_32_threads_confirming_one_hold_all_succeed_with_one_confirmed_at() {
    let db = TestDatabase::new();
    let repository = Arc::new(warm_repository(&db));
    for round in 0..5 {
        let start = at(round * 100);
        let id: TicketId = repository.create(&new_ticket()).unwrap().id;
        repository
            .apply(id, Command::Reserve(policy()), start)
            .unwrap();
        let racing = repository.clone();
        // Different clocks, so that a second write of confirmed_at would show.
        let results = race(CONFIRMERS, move |i| {
            let now = start + TimeDelta::milliseconds(1 + i as i64);
            racing.apply(id, Command::Confirm, now)
        });
        let stored = repository.find(id).unwrap().reservation;
        let Reservation::Confirmed { confirmed_at, .. } = stored else {
            panic!("the ticket must be sold, is {stored:?}");
        };
        let mut writes = 0;
        for result in results {
            match result.expect("every confirm of an active hold succeeds") {
                Outcome::Written(ticket) => {
                    writes += 1;
                    assert_eq!(ticket.reservation, stored);
                }
                Outcome::AlreadyDone(ticket) => assert_eq!(ticket.reservation, stored),
                refused => panic!("every confirm of an active hold succeeds: {refused:?}"),
            }
        }
        assert_eq!(writes, 1, "confirmed_at is written once, at {confirmed_at}");
    }
}
