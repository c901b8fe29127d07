//! The hold use cases over the in-memory repository: tokens, holds of several tickets,
//! best available, extension.

// Tests panic on purpose when something is wrong.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::sync::Arc;

use chrono::TimeDelta;
use ticketing_domain::{
    EventName, HoldId, InvalidTicketSet, ManualClock, NewTicket, OwnershipError, ReservationError,
    ReservationPolicy, ReservationStatus, TicketId,
};
use ticketing_ports::memory::InMemoryTicketRepository;
use ticketing_ports::testing::INSTANT;
use ticketing_ports::{HoldToken, TicketError, TicketRepository, TicketService};

type Service = TicketService<Arc<InMemoryTicketRepository>, Arc<ManualClock>>;

struct Harness {
    service: Service,
    clock: Arc<ManualClock>,
    repository: Arc<InMemoryTicketRepository>,
}

fn harness(require_hold_token: bool) -> Harness {
    let clock = Arc::new(ManualClock::new(INSTANT));
    let repository = Arc::new(InMemoryTicketRepository::new());
    let policy = ReservationPolicy::from_ttl_seconds(60)
        .unwrap()
        .with_max_hold_seconds(300)
        .unwrap()
        .with_max_tickets_per_hold(4)
        .unwrap();
    let service = TicketService::new(repository.clone(), clock.clone(), policy)
        .requiring_hold_token(require_hold_token);
    Harness {
        service,
        clock,
        repository,
    }
}

impl Harness {
    fn tickets(&self, event: &str, count: usize) -> Vec<TicketId> {
        let ticket = NewTicket {
            event_name: EventName::parse(event).unwrap(),
            seat: None,
        };
        (0..count)
            .map(|_| self.service.create_ticket(&ticket).unwrap().ticket.id)
            .collect()
    }
}

fn refusal(result: Result<impl std::fmt::Debug, TicketError>) -> ReservationError {
    match result {
        Err(TicketError::Refused(error)) => error,
        other => panic!("expected a refusal, got {other:?}"),
    }
}

const REQUIRED: ReservationError = ReservationError::Ownership(OwnershipError::TokenRequired);
const INVALID: ReservationError = ReservationError::Ownership(OwnershipError::TokenInvalid);

#[test]
fn only_the_holds_token_confirms_or_releases_it() {
    let h = harness(true);
    let id = h.tickets("Opening Night", 1)[0];
    let token = h.service.reserve(id).unwrap().token;
    let stranger = HoldToken::generate().unwrap();

    assert_eq!(refusal(h.service.confirm(id, None)), REQUIRED);
    assert_eq!(refusal(h.service.confirm(id, Some(&stranger))), INVALID);
    assert_eq!(refusal(h.service.release(id, None)), REQUIRED);
    assert_eq!(refusal(h.service.release(id, Some(&stranger))), INVALID);
    let stored = h.repository.find(id).unwrap();
    assert_eq!(
        stored.reservation.stored_status(),
        Some(ReservationStatus::Tentative)
    );

    let presented = HoldToken::presented(token.expose_secret());
    h.service.confirm(id, Some(&presented)).unwrap();
    assert_eq!(refusal(h.service.confirm(id, Some(&stranger))), INVALID);
    assert!(h.service.confirm(id, Some(&token)).is_ok(), "idempotent");
}

#[test]
fn without_required_tokens_anyone_may_act_but_a_token_sent_must_match() {
    let h = harness(false);
    let id = h.tickets("Opening Night", 1)[0];
    h.service.reserve(id).unwrap();
    let stranger = HoldToken::generate().unwrap();
    assert_eq!(refusal(h.service.confirm(id, Some(&stranger))), INVALID);
    h.service.confirm(id, None).unwrap();
}

#[test]
fn a_hold_of_several_tickets_is_one_hold_with_one_token() {
    let h = harness(true);
    let ids = h.tickets("Opening Night", 4);
    let issued = h.service.hold_tickets(&[ids[2], ids[0]]).unwrap();
    let hold = &issued.hold;
    let held: Vec<TicketId> = hold.tickets.iter().map(|t| t.ticket.id).collect();
    assert_eq!(held, vec![ids[0], ids[2]]);
    assert_eq!(hold.expires_at, Some(INSTANT + TimeDelta::seconds(60)));

    let Err(TicketError::TicketsUnavailable(refusals)) = h.service.hold_tickets(&[ids[1], ids[2]])
    else {
        panic!("ticket {} is held", ids[2]);
    };
    assert_eq!(refusals.len(), 1);
    assert_eq!(refusals[0].0, ids[2]);

    let stranger = HoldToken::generate().unwrap();
    assert_eq!(refusal(h.service.hold(hold.id, None)), REQUIRED);
    assert_eq!(refusal(h.service.hold(hold.id, Some(&stranger))), INVALID);
    assert_eq!(
        h.service
            .hold(hold.id, Some(&issued.token))
            .unwrap()
            .tickets
            .len(),
        2
    );
    assert_eq!(
        refusal(h.service.confirm_hold(hold.id, Some(&stranger))),
        INVALID
    );
    let sold = h
        .service
        .confirm_hold(hold.id, Some(&issued.token))
        .unwrap();
    assert!(sold
        .tickets
        .iter()
        .all(|t| t.status() == Some(ReservationStatus::Confirmed)));

    let unknown = HoldId::from_uuid(uuid::Uuid::from_u128(99));
    assert!(matches!(
        h.service.hold(unknown, Some(&issued.token)),
        Err(TicketError::HoldNotFound(id)) if id == unknown
    ));
}

#[test]
fn a_hold_request_must_name_distinct_tickets_within_the_limit() {
    let h = harness(true);
    let ids = h.tickets("Opening Night", 5);
    for (request, expected) in [
        (vec![], InvalidTicketSet::Empty),
        (ids.clone(), InvalidTicketSet::TooMany { max: 4, got: 5 }),
        (vec![ids[0], ids[0]], InvalidTicketSet::Duplicate(ids[0])),
    ] {
        assert!(matches!(
            h.service.hold_tickets(&request),
            Err(TicketError::InvalidTicketSet(error)) if error == expected
        ));
    }
    let missing = TicketId::new(1_000).unwrap();
    assert!(matches!(
        h.service.hold_tickets(&[ids[0], missing]),
        Err(TicketError::TicketsNotFound(named)) if named == vec![missing]
    ));
    assert!(h
        .repository
        .find(ids[0])
        .unwrap()
        .reservation
        .hold()
        .is_none());
}

#[test]
fn best_available_holds_the_lowest_free_ids_or_says_how_many_are_free() {
    let h = harness(true);
    let ids = h.tickets("Opening Night", 5);
    h.tickets("Matinee", 3);
    let event = EventName::parse("Opening Night").unwrap();
    h.service.reserve(ids[0]).unwrap();
    let issued = h.service.hold_best_available(&event, 3).unwrap();
    let held: Vec<TicketId> = issued.hold.tickets.iter().map(|t| t.ticket.id).collect();
    assert_eq!(held, ids[1..4]);
    assert!(matches!(
        h.service.hold_best_available(&event, 2),
        Err(TicketError::TooFewAvailable {
            requested: 2,
            available: 1
        })
    ));
    assert!(h
        .repository
        .find(ids[4])
        .unwrap()
        .reservation
        .hold()
        .is_none());
    for quantity in [0, 5] {
        assert!(matches!(
            h.service.hold_best_available(&event, quantity),
            Err(TicketError::InvalidTicketSet(_))
        ));
    }
}

#[test]
fn a_hold_extends_up_to_its_cap_for_its_owner_only() {
    let h = harness(true);
    let ids = h.tickets("Opening Night", 2);
    let issued = h.service.hold_tickets(&ids).unwrap();
    let (id, token) = (issued.hold.id, Some(&issued.token));
    h.clock.advance(TimeDelta::seconds(30));

    let extended = h.service.extend_hold(id, token, 120).unwrap();
    let expected = INSTANT + TimeDelta::seconds(150);
    assert_eq!(extended.expires_at, Some(expected));
    assert!(extended
        .tickets
        .iter()
        .all(|t| t.ticket.reservation.expires_at() == Some(expected)));

    assert!(matches!(
        h.service.extend_hold(id, token, 0),
        Err(TicketError::InvalidExtension(_))
    ));
    assert!(matches!(
        h.service.extend_hold(id, token, 301),
        Err(TicketError::InvalidExtension(_))
    ));
    assert_eq!(
        refusal(h.service.extend_hold(id, token, 271)),
        ReservationError::ExtensionLimit {
            max_expires_at: INSTANT + TimeDelta::seconds(300)
        }
    );
    let stranger = HoldToken::generate().unwrap();
    assert_eq!(
        refusal(h.service.extend_hold(id, Some(&stranger), 10)),
        INVALID
    );
    assert_eq!(
        h.service.hold(id, token).unwrap().expires_at,
        Some(expected)
    );
    h.service.extend_hold(id, token, 270).unwrap();
}

#[test]
fn releasing_a_hold_frees_every_ticket_and_forgets_the_hold() {
    let h = harness(true);
    let ids = h.tickets("Opening Night", 3);
    let issued = h.service.hold_tickets(&ids).unwrap();
    let (id, token) = (issued.hold.id, Some(&issued.token));
    let released = h.service.release_hold(id, token).unwrap();
    assert_eq!(released.expires_at, None);
    assert!(released.tickets.iter().all(|t| t.status().is_none()));
    assert!(matches!(
        h.service.release_hold(id, token),
        Err(TicketError::HoldNotFound(_))
    ));
    h.service.hold_tickets(&ids).unwrap();
}
