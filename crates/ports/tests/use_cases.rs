//! The use cases over the in-memory repository, including threads racing for a ticket.

// Tests panic on purpose when something is wrong.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::sync::{Arc, Barrier};
use std::thread;

use chrono::TimeDelta;
use ticketing_domain::{
    Clock, ManualClock, ReservationError, ReservationPolicy, ReservationStatus, TicketId,
};
use ticketing_ports::memory::{Fault, InMemoryTicketRepository};
use ticketing_ports::testing::{new_ticket, INSTANT};
use ticketing_ports::{TicketError, TicketQuery, TicketRepository, TicketService};

type Service = TicketService<Arc<InMemoryTicketRepository>, Arc<ManualClock>>;

struct Harness {
    service: Arc<Service>,
    clock: Arc<ManualClock>,
    repository: Arc<InMemoryTicketRepository>,
}

fn harness() -> Harness {
    let clock = Arc::new(ManualClock::new(INSTANT));
    let repository = Arc::new(InMemoryTicketRepository::new());
    let policy = ReservationPolicy::from_ttl_seconds(60).unwrap();
    let service = Arc::new(TicketService::new(
        repository.clone(),
        clock.clone(),
        policy,
    ));
    Harness {
        service,
        clock,
        repository,
    }
}

fn refusal(result: Result<impl std::fmt::Debug, TicketError>) -> ReservationError {
    match result {
        Err(TicketError::Refused(error)) => error,
        other => panic!("expected a refusal, got {other:?}"),
    }
}

#[test]
fn a_ticket_is_created_unreserved_and_found_by_id() {
    let h = harness();
    let created = h.service.create_ticket(&new_ticket()).unwrap();
    assert_eq!(created.status(), None);
    let found = h.service.ticket(created.ticket.id).unwrap();
    assert_eq!(found.ticket, created.ticket);
}

#[test]
fn unknown_tickets_are_not_found_by_every_use_case() {
    let h = harness();
    let id = TicketId::new(404).unwrap();
    assert!(matches!(h.service.ticket(id), Err(TicketError::NotFound(i)) if i == id));
    assert!(matches!(
        h.service.reserve(id),
        Err(TicketError::NotFound(_))
    ));
    assert!(matches!(
        h.service.confirm(id, None),
        Err(TicketError::NotFound(_))
    ));
    assert!(matches!(
        h.service.release(id, None),
        Err(TicketError::NotFound(_))
    ));
}

#[test]
fn reserve_then_confirm_sells_the_ticket_once() {
    let h = harness();
    let id = h.service.create_ticket(&new_ticket()).unwrap().ticket.id;
    let issued = h.service.reserve(id).unwrap();
    let token = Some(&issued.token);
    let held = &issued.hold.tickets[0];
    assert_eq!(held.status(), Some(ReservationStatus::Tentative));
    assert_eq!(
        held.ticket.reservation.expires_at(),
        Some(h.clock.now() + TimeDelta::seconds(60))
    );

    h.clock.advance(TimeDelta::seconds(10));
    let sold = h.service.confirm(id, token).unwrap();
    assert_eq!(sold.status(), Some(ReservationStatus::Confirmed));
    let confirmed_at = sold.ticket.reservation.confirmed_at();

    h.clock.advance(TimeDelta::seconds(100));
    let again = h.service.confirm(id, token).unwrap();
    assert_eq!(again.ticket.reservation.confirmed_at(), confirmed_at);
    assert!(matches!(
        refusal(h.service.reserve(id)),
        ReservationError::AlreadyConfirmed { .. }
    ));
}

#[test]
fn confirming_a_lapsed_hold_records_the_expiry() {
    let h = harness();
    let id = h.service.create_ticket(&new_ticket()).unwrap().ticket.id;
    let token = h.service.reserve(id).unwrap().token;
    h.clock.advance(TimeDelta::seconds(60));
    assert!(matches!(
        refusal(h.service.confirm(id, Some(&token))),
        ReservationError::Expired { .. }
    ));
    let stored = h.repository.find(id).unwrap();
    assert_eq!(
        stored.reservation.stored_status(),
        Some(ReservationStatus::Expired)
    );
    // An expired ticket can be held again.
    assert_eq!(
        h.service.reserve(id).unwrap().hold.tickets[0].status(),
        Some(ReservationStatus::Tentative)
    );
}

#[test]
fn release_makes_a_ticket_reservable_again() {
    let h = harness();
    let id = h.service.create_ticket(&new_ticket()).unwrap().ticket.id;
    let token = h.service.reserve(id).unwrap().token;
    assert_eq!(h.service.release(id, Some(&token)).unwrap().status(), None);
    assert_eq!(
        refusal(h.service.release(id, Some(&token))),
        ReservationError::NoActiveReservation
    );
    h.service.reserve(id).unwrap();
}

#[test]
fn storage_failures_keep_their_kind() {
    let h = harness();
    let id = h.service.create_ticket(&new_ticket()).unwrap().ticket.id;
    h.repository.set_fault(Some(Fault::Unavailable));
    assert!(matches!(
        h.service.reserve(id),
        Err(TicketError::Unavailable(_))
    ));
    assert!(matches!(
        h.service.list_tickets(&TicketQuery::default()),
        Err(TicketError::Unavailable(_))
    ));
    assert!(matches!(
        h.service.expire_lapsed_holds(10),
        Err(TicketError::Unavailable(_))
    ));
    h.repository.set_fault(Some(Fault::Unexpected));
    assert!(matches!(
        h.service.ticket(id),
        Err(TicketError::Unexpected(_))
    ));
    h.repository.set_fault(None);
    assert!(h.service.reserve(id).is_ok());
}

/// Runs `threads` threads that all call `action` at once, returning their results.
fn race<T: Send + 'static>(
    threads: usize,
    action: impl Fn() -> T + Send + Sync + 'static,
) -> Vec<T> {
    let barrier = Arc::new(Barrier::new(threads));
    let action = Arc::new(action);
    let handles: Vec<_> = (0..threads)
        .map(|_| {
            let (barrier, action) = (barrier.clone(), action.clone());
            thread::spawn(move || {
                barrier.wait();
                action()
            })
        })
        .collect();
    handles.into_iter().map(|h| h.join().unwrap()).collect()
}

#[test]
fn of_32_threads_reserving_one_ticket_exactly_one_wins() {
    let h = harness();
    let id = h.service.create_ticket(&new_ticket()).unwrap().ticket.id;
    let service = h.service.clone();
    let results = race(32, move || service.reserve(id));

    let winners: Vec<_> = results.iter().filter_map(|r| r.as_ref().ok()).collect();
    assert_eq!(winners.len(), 1);
    let expires_at = winners[0].hold.expires_at.unwrap();
    for result in results.into_iter().filter(Result::is_err) {
        assert_eq!(
            refusal(result),
            ReservationError::AlreadyActive { expires_at }
        );
    }
}

#[test]
fn of_32_threads_confirming_one_hold_all_succeed_with_one_confirmed_at() {
    let h = harness();
    let id = h.service.create_ticket(&new_ticket()).unwrap().ticket.id;
    let token = h.service.reserve(id).unwrap().token;
    let (service, clock) = (h.service.clone(), h.clock.clone());
    // Each confirm moves the clock, so a later one rewriting `confirmed_at` would show.
    let results = race(32, move || {
        clock.advance(TimeDelta::milliseconds(1));
        service.confirm(id, Some(&token))
    });

    let confirmed_at: Vec<_> = results
        .into_iter()
        .map(|r| r.unwrap().ticket.reservation.confirmed_at().unwrap())
        .collect();
    assert!(confirmed_at.iter().all(|at| *at == confirmed_at[0]));
    assert_eq!(
        h.repository.find(id).unwrap().reservation.confirmed_at(),
        Some(confirmed_at[0])
    );
}
