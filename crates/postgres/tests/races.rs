//! Real threads racing for one ticket through a real PostgreSQL: the guarded write is
//! what keeps them from interleaving wrongly.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::sync::Arc;

use chrono::TimeDelta;
use common::{at, new_ticket, race};
use ticketing_domain::{
    Command, HoldId, ManualClock, NewHold, Reservation, ReservationError, ReservationPolicy,
    TicketId, TokenDigest,
};
use ticketing_ports::testing::{owner_proof, OWNER};
use ticketing_ports::{Outcome, TicketError, TicketRepository, TicketService};
use ticketing_postgres::test_db::TestDatabase;
use ticketing_postgres::PgTicketRepository;

const RESERVERS: usize = 64;
const CONFIRMERS: usize = 32;
/// Connections the racing threads share; enough for real overlap at the database
/// without crowding a server other test processes use too.
const CONNECTIONS: u32 = 24;

fn warm_repository(db: &TestDatabase) -> PgTicketRepository {
    common::warm_repository(db, CONNECTIONS)
}

fn policy() -> ReservationPolicy {
    ReservationPolicy::from_ttl_seconds(60).unwrap()
}

/// The `i`-th buyer's hold: an id and a token digest of its own.
fn buyer(i: usize) -> NewHold {
    NewHold {
        id: HoldId::from_uuid(uuid::Uuid::from_u128(0x100 + i as u128)),
        owner: TokenDigest::from_bytes([i as u8; 32]),
    }
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
            let reserve = Command::Reserve {
                hold: buyer(i),
                policy: policy(),
            };
            racing.apply(id, reserve, now)
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
                Ok(issued) => {
                    let [ticket] = &issued.hold.tickets[..] else {
                        panic!("a reserve holds one ticket: {issued:?}");
                    };
                    assert!(ticket.written, "{issued:?}");
                    Ok(Outcome::Written(ticket.ticket.clone()))
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
        let reserve = Command::Reserve {
            hold: OWNER,
            policy: policy(),
        };
        repository.apply(id, reserve, start).unwrap();
        let racing = repository.clone();
        // Different clocks, so that a second write of confirmed_at would show.
        let results = race(CONFIRMERS, move |i| {
            let now = start + TimeDelta::milliseconds(1 + i as i64);
            racing.apply(id, Command::Confirm(owner_proof()), now)
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
