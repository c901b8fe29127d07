//! The behaviour every [`TicketRepository`] promises, written once and run against each
//! implementation (a conformance suite): the in-memory one in this crate's tests, the
//! PostgreSQL one in its adapter's.
//!
//! Each public function checks one behaviour on a fresh, empty repository and panics
//! when the repository breaks it. The suite drives the repository through its trait
//! only: every reservation state is reached with commands at chosen instants, so no
//! implementation needs a back door. [`repository_contract!`](crate::repository_contract)
//! turns every behaviour into a `#[test]`:
//!
//! ```
//! use ticketing_ports::memory::InMemoryTicketRepository;
//!
//! ticketing_ports::repository_contract!(|| Box::new(InMemoryTicketRepository::new()));
//! # fn main() {}
//! ```
//!
//! Adding a behaviour means adding its function here and its name to the macro.

// The suite panics on purpose when a repository breaks its contract.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use chrono::TimeDelta;
use ticketing_domain::{
    Command, Decision, EventName, Hold, NewHold, NewTicket, Phase, Proof, Reservation,
    ReservationError, Seat, StatusFilter, Ticket, TicketId, TicketSet, Timestamp, Together,
};

use crate::testing::{at, hold, new_ticket, policy, reserve, OTHER, OWNER};
use crate::{
    BestAvailable, Outcome, PageLimit, TicketError, TicketQuery, TicketRepository, TogetherOutcome,
};

/// One `#[test]` per behaviour of [`contract`](crate::contract), each on the fresh, empty
/// repository `$fresh()` makes: a closure answering the repository behind anything that
/// derefs to it (a `Box`, or a guard that also owns the repository's storage, such as a
/// per-test database, and drops it after the repository).
#[macro_export]
macro_rules! repository_contract {
    ($fresh:expr) => {
        $crate::repository_contract!(@each $fresh;
            answers_health_checks,
            creates_tickets_unreserved_with_their_names_intact,
            unknown_ids_are_not_found,
            commands_store_what_they_answer,
            decides_every_command_in_every_phase_as_the_domain_does,
            confirming_twice_sells_once_and_keeps_the_sale,
            confirming_a_lapsed_hold_records_its_expiry_once,
            release_makes_a_ticket_reservable_again,
            each_filter_lists_the_tickets_in_its_phases_as_seen_now,
            pages_follow_one_another_until_the_last_says_so,
            paging_visits_every_matching_ticket_exactly_once,
            a_sweep_expires_lapsed_holds_and_nothing_else,
            a_sweep_takes_the_earliest_expiries_first_up_to_its_limit,
            tickets_held_together_are_held_all_or_none,
            holding_unknown_tickets_names_them_and_stores_nothing,
            a_hold_is_found_confirmed_and_released_as_one,
            an_extension_moves_every_ticket_of_the_hold,
            a_confirm_of_a_lapsed_hold_expires_all_its_tickets,
            commands_on_a_hold_decide_every_phase_as_the_domain_does,
            best_available_holds_the_lowest_reservable_ids_of_the_event,
            best_available_short_of_tickets_stores_nothing,
        );
    };
    (@each $fresh:expr; $($behaviour:ident),+ $(,)?) => {
        $(
            #[test]
            fn $behaviour() {
                let fresh = ($fresh)();
                $crate::contract::$behaviour(&*fresh);
            }
        )+
    };
}

/// A healthy repository says so.
pub fn answers_health_checks(repository: &dyn TicketRepository) {
    repository.check_health().unwrap();
}

/// A new ticket is stored unreserved, with its names exactly as given (the longest ones
/// too, in characters beyond ASCII), found again by its id; ids ascend.
pub fn creates_tickets_unreserved_with_their_names_intact(repository: &dyn TicketRepository) {
    let longest = NewTicket {
        event_name: EventName::parse("é".repeat(EventName::MAX_CHARS)).unwrap(),
        seat: Some(Seat::parse("ü".repeat(Seat::MAX_CHARS)).unwrap()),
    };
    let seatless = NewTicket {
        event_name: EventName::parse(" Late Show ").unwrap(),
        seat: None,
    };
    let mut ids = Vec::new();
    for new in [new_ticket(), longest, seatless] {
        let created = repository.create(&new).unwrap();
        assert_eq!(created.event_name, new.event_name);
        assert_eq!(created.seat, new.seat);
        assert_eq!(created.reservation, Reservation::Unreserved);
        assert_eq!(repository.find(created.id).unwrap(), created);
        ids.push(created.id);
    }
    assert!(ids.windows(2).all(|pair| pair[0] < pair[1]), "{ids:?}");
}

/// Looking up or commanding a ticket that does not exist answers `NotFound` with its id.
pub fn unknown_ids_are_not_found(repository: &dyn TicketRepository) {
    let id = TicketId::new(4_040).unwrap();
    assert!(matches!(repository.find(id), Err(TicketError::NotFound(i)) if i == id));
    for command in commands() {
        let outcome = repository.apply(id, command, at(0));
        assert!(
            matches!(outcome, Err(TicketError::NotFound(i)) if i == id),
            "{command:?}: {outcome:?}"
        );
    }
}

/// Every command that writes answers the ticket exactly as stored.
pub fn commands_store_what_they_answer(repository: &dyn TicketRepository) {
    let id = repository.create(&new_ticket()).unwrap().id;
    let steps = [
        (reserve(60), at(0)),
        (Command::Release(Proof::ANONYMOUS), at(10)),
        (reserve(60), at(20)),
        (Command::Expire, at(80)),
        (reserve(60), at(90)),
        (Command::Confirm(Proof::ANONYMOUS), at(100)),
    ];
    for (command, now) in steps {
        let Outcome::Written(ticket) = repository.apply(id, command, now).unwrap() else {
            panic!("{command:?} at {now} must write");
        };
        assert_eq!(repository.find(id).unwrap(), ticket, "{command:?} at {now}");
    }
    assert_eq!(
        repository.find(id).unwrap().reservation,
        Reservation::Confirmed {
            hold: hold(90, 150),
            confirmed_at: at(100),
        }
    );
}

/// A reservation in every phase at `at(0)`, including the edges: a hold lapsing exactly
/// now, and one placed by a clock running ahead of ours.
pub fn arrangements() -> Vec<(&'static str, Reservation)> {
    vec![
        ("unreserved", Reservation::Unreserved),
        ("held", Reservation::Tentative(hold(-10, 50))),
        (
            "held, placed by a clock ahead",
            Reservation::Tentative(hold(5, 65)),
        ),
        ("lapsed", Reservation::Tentative(hold(-100, -40))),
        ("lapsed exactly now", Reservation::Tentative(hold(-60, 0))),
        ("expired", Reservation::Expired(hold(-100, -40))),
        (
            "confirmed",
            Reservation::confirmed(hold(-100, -40), at(-70)).unwrap(),
        ),
    ]
}

/// One command of each kind, each command on a hold with every kind of proof (the
/// owner's token, another's, none where one is required, none where none is), and
/// extensions within the cap and past it (holds of [`arrangements`] start at `at(-100)`
/// at the earliest; the cap here is 120 s).
pub fn commands() -> Vec<Command> {
    let proofs = [
        Proof::token(OWNER.owner),
        Proof::token(OTHER.owner),
        Proof::new(None, true),
        Proof::ANONYMOUS,
    ];
    let capped = policy(60).with_max_hold_seconds(120).unwrap();
    let mut commands = vec![reserve(60), Command::Expire];
    for proof in proofs {
        commands.push(Command::Confirm(proof));
        commands.push(Command::Release(proof));
        for seconds in [30, 115] {
            commands.push(Command::Extend {
                proof,
                by: TimeDelta::seconds(seconds),
                policy: capped,
            });
        }
    }
    commands
}

/// Applies `command` at `now` to ticket `id`, which stands in `before`, and checks that
/// the repository answers and stores what [`Command::decide`] says.
pub fn check_applied_as_decided(
    repository: &dyn TicketRepository,
    id: TicketId,
    before: Reservation,
    command: Command,
    now: Timestamp,
) {
    let case = format!("{command:?} on {before:?}");
    let outcome = repository
        .apply(id, command, now)
        .unwrap_or_else(|error| panic!("{case}: {error:?}"));
    let stored = repository.find(id).unwrap().reservation;

    match command.decide(&before, now) {
        Decision::Write(next) => {
            let Outcome::Written(ticket) = outcome else {
                panic!("{case}: expected a write, got {outcome:?}");
            };
            assert_eq!(ticket.reservation, next, "{case}");
            assert_eq!(stored, next, "{case}");
        }
        Decision::AlreadyDone => {
            let Outcome::AlreadyDone(ticket) = outcome else {
                panic!("{case}: expected already done, got {outcome:?}");
            };
            assert_eq!(ticket.reservation, before, "{case}");
            assert_eq!(stored, before, "{case}");
        }
        Decision::Refuse(error) => {
            assert_eq!(outcome, Outcome::Refused(error), "{case}");
            assert_eq!(stored, before, "{case}");
        }
        Decision::RecordThenRefuse { record, error } => {
            assert_eq!(outcome, Outcome::RecordedThenRefused(error), "{case}");
            let Decision::Write(recorded) = record.decide(&before, now) else {
                panic!("{case}: the recorded command must write");
            };
            assert_eq!(stored, recorded, "{case}");
        }
    }
}

/// For every command on a ticket in every phase of [`arrangements`], the repository
/// stores and answers what [`Command::decide`] says, a recorded refusal included. (The
/// PostgreSQL drift test does the same over rows written by hand.)
pub fn decides_every_command_in_every_phase_as_the_domain_does(repository: &dyn TicketRepository) {
    let now = at(0);
    let mut phases_seen = Vec::new();
    for (_, before) in arrangements() {
        phases_seen.push(before.phase_at(now));
        for command in commands() {
            let id = repository.create(&new_ticket()).unwrap().id;
            arrange(repository, id, before);
            check_applied_as_decided(repository, id, before, command, now);
        }
    }
    for phase in Phase::ALL {
        assert!(phases_seen.contains(&phase), "no arrangement in {phase:?}");
    }
}

/// A confirm sells the held ticket; confirming again answers the sale unchanged, with its
/// first `confirmed_at`, and writes nothing; nobody can hold or release a sold ticket.
pub fn confirming_twice_sells_once_and_keeps_the_sale(repository: &dyn TicketRepository) {
    let id = repository.create(&new_ticket()).unwrap().id;
    repository.apply(id, reserve(60), at(0)).unwrap();
    let Outcome::Written(sold) = repository
        .apply(id, Command::Confirm(Proof::ANONYMOUS), at(10))
        .unwrap()
    else {
        panic!("the first confirm sells");
    };
    assert_eq!(sold.reservation.confirmed_at(), Some(at(10)));
    let again = repository
        .apply(id, Command::Confirm(Proof::ANONYMOUS), at(110))
        .unwrap();
    assert_eq!(again, Outcome::AlreadyDone(sold.clone()));
    let already = ReservationError::AlreadyConfirmed {
        confirmed_at: at(10),
    };
    for command in [reserve(60), Command::Release(Proof::ANONYMOUS)] {
        let outcome = repository.apply(id, command, at(120)).unwrap();
        assert_eq!(outcome, Outcome::Refused(already), "{command:?}");
    }
    assert_eq!(repository.find(id).unwrap(), sold);
}

/// A confirm that finds its hold lapsed writes it EXPIRED and says it recorded that; a
/// second confirm finds it expired and records nothing; the ticket can be held again.
pub fn confirming_a_lapsed_hold_records_its_expiry_once(repository: &dyn TicketRepository) {
    let id = repository.create(&new_ticket()).unwrap().id;
    repository.apply(id, reserve(60), at(0)).unwrap();
    let expired = ReservationError::Expired { expired_at: at(60) };
    let first = repository
        .apply(id, Command::Confirm(Proof::ANONYMOUS), at(60))
        .unwrap();
    assert_eq!(first, Outcome::RecordedThenRefused(expired));
    assert_eq!(
        repository.find(id).unwrap().reservation,
        Reservation::Expired(hold(0, 60))
    );
    let second = repository
        .apply(id, Command::Confirm(Proof::ANONYMOUS), at(61))
        .unwrap();
    assert_eq!(second, Outcome::Refused(expired));
    let Outcome::Written(held) = repository.apply(id, reserve(60), at(62)).unwrap() else {
        panic!("an expired ticket can be held again");
    };
    assert_eq!(held.reservation, Reservation::Tentative(hold(62, 122)));
}

/// A release clears the hold, a second one has nothing to release, and the ticket can be
/// held again.
pub fn release_makes_a_ticket_reservable_again(repository: &dyn TicketRepository) {
    let id = repository.create(&new_ticket()).unwrap().id;
    repository.apply(id, reserve(60), at(0)).unwrap();
    let Outcome::Written(released) = repository
        .apply(id, Command::Release(Proof::ANONYMOUS), at(1))
        .unwrap()
    else {
        panic!("a release of the active hold writes");
    };
    assert_eq!(released.reservation, Reservation::Unreserved);
    assert_eq!(
        repository
            .apply(id, Command::Release(Proof::ANONYMOUS), at(2))
            .unwrap(),
        Outcome::Refused(ReservationError::NoActiveReservation)
    );
    assert!(matches!(
        repository.apply(id, reserve(60), at(3)).unwrap(),
        Outcome::Written(_)
    ));
}

/// Every status filter, alone and with each event name, lists exactly the tickets the
/// domain puts in its phases at the instant given (a hold read at a later instant has
/// lapsed), page by page; each listed ticket is the whole stored ticket.
pub fn each_filter_lists_the_tickets_in_its_phases_as_seen_now(repository: &dyn TicketRepository) {
    let now = at(0);
    let one_microsecond = TimeDelta::microseconds(1);
    let reservations = [
        Reservation::Unreserved,
        Reservation::Tentative(hold(-10, 50)),
        Reservation::Tentative(
            Hold::new(OWNER, at(-60) + one_microsecond, now + one_microsecond).unwrap(),
        ),
        Reservation::Tentative(hold(-60, 0)),
        Reservation::Tentative(hold(-100, -40)),
        Reservation::Expired(hold(-100, -40)),
        Reservation::confirmed(hold(-100, -40), at(-70)).unwrap(),
    ];
    let events = ["Opening Night", "Matinee"];
    let mut all = Vec::new();
    for event in events {
        for reservation in reservations {
            let id = create_at(repository, event);
            arrange(repository, id, reservation);
            all.push(repository.find(id).unwrap());
        }
    }

    for seen_at in [now, now + one_microsecond, at(50)] {
        for query in queries(&events, 2) {
            let listed = ids(&all_pages(repository, &query, seen_at));
            assert_eq!(
                listed,
                expected(&all, &query, seen_at),
                "{query:?} at {seen_at}"
            );
        }
    }
    let page = repository.list(&TicketQuery::default(), now).unwrap();
    assert_eq!(page.tickets, all);
    assert_eq!(page.next_after, None);
}

/// Pages of a listing follow one another in id order, each but the last naming the id to
/// list after; a page that ends exactly at the last ticket says there is no next one.
pub fn pages_follow_one_another_until_the_last_says_so(repository: &dyn TicketRepository) {
    let made: Vec<TicketId> = (0..7).map(|_| create_at(repository, "Gala")).collect();
    let limit = PageLimit::new(3).unwrap();
    let mut query = TicketQuery {
        limit,
        ..TicketQuery::default()
    };
    let mut pages = Vec::new();
    loop {
        let page = repository.list(&query, at(0)).unwrap();
        pages.push(ids(&page.tickets));
        match page.next_after {
            Some(after) => query.after = Some(after),
            None => break,
        }
    }
    assert_eq!(pages, [&made[0..3], &made[3..6], &made[6..7]]);

    query.after = Some(made[3]);
    let page = repository.list(&query, at(0)).unwrap();
    assert_eq!(ids(&page.tickets), &made[4..7]);
    assert_eq!(page.next_after, None);
}

/// Over 1,234 tickets in every state at three events, every filter paged at several
/// limits visits every matching ticket exactly once, in id order.
pub fn paging_visits_every_matching_ticket_exactly_once(repository: &dyn TicketRepository) {
    const TICKETS: i64 = 1_234;
    let now = at(0);
    let mut made = Vec::new();
    for g in 1..=TICKETS {
        let id = create_at(repository, &format!("Event {}", g % 3));
        made.push(id);
        // Every fifth ticket in each state: unreserved, held, lapsed, expired, sold.
        match g % 5 {
            1 => arrange(repository, id, Reservation::Tentative(hold(-100, 60))),
            2 => arrange(repository, id, Reservation::Tentative(hold(-100, -40))),
            3 => arrange(repository, id, Reservation::Expired(hold(-100, -40))),
            4 => arrange(
                repository,
                id,
                Reservation::confirmed(hold(-100, -40), at(-50)).unwrap(),
            ),
            _ => {}
        }
    }

    let everything = all_pages(repository, &TicketQuery::default(), now);
    assert_eq!(ids(&everything), made);

    let events = ["Event 0", "Event 1", "Event 2"];
    for limit in [1, 97, 500] {
        for query in queries(&events, limit) {
            let listed = ids(&all_pages(repository, &query, now));
            let wanted = expected(&everything, &query, now);
            assert!(!wanted.is_empty(), "{query:?}");
            assert_eq!(listed, wanted, "{query:?}");
        }
    }
}

/// A sweep writes EXPIRED onto the holds lapsed at its instant (one lapsing exactly then
/// included) and onto nothing else: not a hold active for one more microsecond, not an
/// expired hold again, not a sale; it answers how many it wrote.
pub fn a_sweep_expires_lapsed_holds_and_nothing_else(repository: &dyn TicketRepository) {
    let now = at(0);
    let one_microsecond = TimeDelta::microseconds(1);
    let arrangements = [
        ("unreserved", Reservation::Unreserved),
        (
            "active for one more microsecond",
            Reservation::Tentative(
                Hold::new(OWNER, at(-60) + one_microsecond, now + one_microsecond).unwrap(),
            ),
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
    for (_, reservation) in arrangements {
        let id = repository.create(&new_ticket()).unwrap().id;
        arrange(repository, id, reservation);
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

/// A sweep writes at most its limit, the earliest expiries first, until none is left; a
/// limit of zero writes nothing.
pub fn a_sweep_takes_the_earliest_expiries_first_up_to_its_limit(
    repository: &dyn TicketRepository,
) {
    // The i-th ticket (1..=25) expires at at(-i): the later the id, the earlier it lapsed.
    let ids: Vec<TicketId> = (1..=25)
        .map(|i| {
            let id = repository.create(&new_ticket()).unwrap().id;
            arrange(repository, id, Reservation::Tentative(hold(-60 - i, -i)));
            id
        })
        .collect();
    let now = at(0);
    let expired = |range: &[TicketId]| {
        range
            .iter()
            .filter(|id| {
                matches!(
                    repository.find(**id).unwrap().reservation,
                    Reservation::Expired(_)
                )
            })
            .count()
    };
    assert_eq!(repository.expire_lapsed(now, 0).unwrap(), 0);
    assert_eq!(expired(&ids), 0, "a limit of zero");
    assert_eq!(repository.expire_lapsed(now, 10).unwrap(), 10);
    assert_eq!(expired(&ids[15..]), 10, "the ten earliest expiries");
    assert_eq!(expired(&ids[..15]), 0);
    assert_eq!(repository.expire_lapsed(now, 10).unwrap(), 10);
    assert_eq!(expired(&ids[5..]), 20);
    assert_eq!(repository.expire_lapsed(now, 10).unwrap(), 5);
    assert_eq!(repository.expire_lapsed(now, 10).unwrap(), 0);
    assert_eq!(expired(&ids), 25);
}

fn create_at(repository: &dyn TicketRepository, event: &str) -> TicketId {
    let ticket = NewTicket {
        event_name: EventName::parse(event).unwrap(),
        seat: None,
    };
    repository.create(&ticket).unwrap().id
}

/// Brings the unreserved ticket `id` into `reservation` with the commands that produce
/// it, each at its own instant: a hold placed at its start (its length a whole number of
/// seconds, a TTL), then confirmed or expired.
fn arrange(repository: &dyn TicketRepository, id: TicketId, reservation: Reservation) {
    let write = |command: Command, now: Timestamp| {
        let outcome = repository.apply(id, command, now).unwrap();
        assert!(
            matches!(outcome, Outcome::Written(_)),
            "arranging {reservation:?}: {command:?} at {now} answered {outcome:?}"
        );
    };
    if let Some(hold) = reservation.hold() {
        let ttl = hold.expires_at() - hold.created_at();
        assert_eq!(
            ttl.subsec_nanos(),
            0,
            "a TTL is whole seconds: {reservation:?}"
        );
        let reserve = Command::Reserve {
            hold: hold.new_hold(),
            policy: policy(ttl.num_seconds()),
        };
        write(reserve, hold.created_at());
    }
    match reservation {
        Reservation::Unreserved | Reservation::Tentative(_) => {}
        Reservation::Confirmed { confirmed_at, .. } => {
            write(Command::Confirm(Proof::ANONYMOUS), confirmed_at)
        }
        Reservation::Expired(hold) => write(Command::Expire, hold.expires_at()),
    }
    assert_eq!(repository.find(id).unwrap().reservation, reservation);
}

fn ids(tickets: &[Ticket]) -> Vec<TicketId> {
    tickets.iter().map(|ticket| ticket.id).collect()
}

/// Every page of `query` from its start, checking the pages' shape on the way.
fn all_pages(
    repository: &dyn TicketRepository,
    query: &TicketQuery,
    now: Timestamp,
) -> Vec<Ticket> {
    let mut query = query.clone();
    let mut listed: Vec<Ticket> = Vec::new();
    loop {
        let page = repository.list(&query, now).unwrap();
        assert!(page.tickets.len() <= query.limit.get() as usize);
        assert!(
            page.tickets.windows(2).all(|pair| pair[0].id < pair[1].id),
            "ascending ids"
        );
        if let (Some(last), Some(first)) = (listed.last(), page.tickets.first()) {
            assert!(last.id < first.id, "pages follow one another");
        }
        listed.extend(page.tickets.iter().cloned());
        match page.next_after {
            Some(after) => {
                assert_eq!(Some(after), page.tickets.last().map(|t| t.id));
                query.after = Some(after);
            }
            None => return listed,
        }
    }
}

/// The tickets among `all` that `query` should list at `now`, by the domain's rules.
fn expected(all: &[Ticket], query: &TicketQuery, now: Timestamp) -> Vec<TicketId> {
    all.iter()
        .filter(|ticket| {
            query
                .status
                .is_none_or(|status| status.phases().contains(&ticket.reservation.phase_at(now)))
        })
        .filter(|ticket| {
            query
                .event_name
                .as_ref()
                .is_none_or(|name| *name == ticket.event_name)
        })
        .map(|ticket| ticket.id)
        .collect()
}

/// Every filter: none, each status, each event, each event with each status.
fn queries(events: &[&str], limit: u32) -> Vec<TicketQuery> {
    let limit = PageLimit::new(u64::from(limit)).unwrap();
    let statuses = std::iter::once(None).chain(StatusFilter::ALL.map(Some));
    let names: Vec<Option<EventName>> = std::iter::once(None)
        .chain(events.iter().map(|e| Some(EventName::parse(*e).unwrap())))
        .collect();
    statuses
        .flat_map(|status| {
            names.iter().map(move |event_name| TicketQuery {
                status,
                event_name: event_name.clone(),
                after: None,
                limit,
            })
        })
        .collect()
}

/// `reservation` as placed by the buyer `owner` instead.
fn placed_by(reservation: Reservation, owner: NewHold) -> Reservation {
    let moved = |hold: &Hold| Hold::new(owner, hold.created_at(), hold.expires_at()).unwrap();
    match reservation {
        Reservation::Unreserved => Reservation::Unreserved,
        Reservation::Tentative(hold) => Reservation::Tentative(moved(&hold)),
        Reservation::Expired(hold) => Reservation::Expired(moved(&hold)),
        Reservation::Confirmed { hold, confirmed_at } => {
            Reservation::confirmed(moved(&hold), confirmed_at).unwrap()
        }
    }
}

/// A buyer with the owner's token but a hold id of its own, `n`.
fn owner_with_hold(n: u128) -> NewHold {
    NewHold {
        id: ticketing_domain::HoldId::from_uuid(uuid::Uuid::from_u128(0x1000 + n)),
        owner: OWNER.owner,
    }
}

fn ticket_set(ids: &[TicketId]) -> TicketSet {
    TicketSet::new(ids, 100).unwrap()
}

fn create_many(repository: &dyn TicketRepository, event: &str, count: usize) -> Vec<TicketId> {
    (0..count).map(|_| create_at(repository, event)).collect()
}

fn held_by(tickets: &[Ticket], owner: NewHold) -> bool {
    tickets.iter().all(|ticket| {
        ticket
            .reservation
            .hold()
            .is_some_and(|hold| hold.new_hold() == owner)
    })
}

/// A hold of several tickets holds each of them under one hold; a hold overlapping a
/// held ticket holds none and names the ticket and why; a sold ticket too.
pub fn tickets_held_together_are_held_all_or_none(repository: &dyn TicketRepository) {
    let ids = create_many(repository, "Opening Night", 5);
    let outcome = repository
        .apply_together(&ticket_set(&ids[..3]), reserve(60), at(0))
        .unwrap();
    let TogetherOutcome::Written(held) = outcome else {
        panic!("expected a hold of three tickets, got {outcome:?}");
    };
    assert_eq!(self::ids(&held), ids[..3]);
    assert!(held
        .iter()
        .all(|t| t.reservation == Reservation::Tentative(hold(0, 60))));

    let sold = Reservation::confirmed(hold(-100, -40), at(-70)).unwrap();
    arrange(repository, ids[4], placed_by(sold, owner_with_hold(1)));
    let theirs = Command::Reserve {
        hold: OTHER,
        policy: policy(60),
    };
    let outcome = repository
        .apply_together(&ticket_set(&[ids[4], ids[2], ids[3]]), theirs, at(10))
        .unwrap();
    assert_eq!(
        outcome,
        TogetherOutcome::Refused {
            refusals: vec![
                (
                    ids[2],
                    ReservationError::AlreadyActive { expires_at: at(60) }
                ),
                (
                    ids[4],
                    ReservationError::AlreadyConfirmed {
                        confirmed_at: at(-70)
                    }
                ),
            ],
            recorded: 0,
        }
    );
    assert_eq!(
        repository.find(ids[3]).unwrap().reservation,
        Reservation::Unreserved,
        "a refused hold holds none of its tickets"
    );
    assert_eq!(repository.find_hold(OTHER.id).unwrap(), vec![]);
    assert_eq!(repository.find_hold(OWNER.id).unwrap(), held);
}

/// A hold naming tickets that do not exist names every missing one and holds nothing.
pub fn holding_unknown_tickets_names_them_and_stores_nothing(repository: &dyn TicketRepository) {
    let id = create_at(repository, "Opening Night");
    let missing = [
        TicketId::new(id.get() + 1000).unwrap(),
        TicketId::new(id.get() + 7).unwrap(),
    ];
    let error = repository
        .apply_together(
            &ticket_set(&[id, missing[0], missing[1]]),
            reserve(60),
            at(0),
        )
        .unwrap_err();
    let TicketError::TicketsNotFound(named) = error else {
        panic!("expected the missing tickets, got {error:?}");
    };
    assert_eq!(named, vec![missing[1], missing[0]]);
    assert_eq!(
        repository.find(id).unwrap().reservation,
        Reservation::Unreserved
    );
}

/// The tickets of a hold are found by its id, sold together (again: unchanged), and a
/// hold nobody carries is not found.
pub fn a_hold_is_found_confirmed_and_released_as_one(repository: &dyn TicketRepository) {
    let ids = create_many(repository, "Opening Night", 4);
    repository
        .apply_together(&ticket_set(&ids[..2]), reserve(60), at(0))
        .unwrap();
    let theirs = Command::Reserve {
        hold: OTHER,
        policy: policy(60),
    };
    repository
        .apply_together(&ticket_set(&ids[2..]), theirs, at(0))
        .unwrap();

    let wrong = Command::Confirm(Proof::token(OTHER.owner));
    let outcome = repository.apply_to_hold(OWNER.id, wrong, at(5)).unwrap();
    assert!(
        matches!(outcome, TogetherOutcome::Refused { recorded: 0, .. }),
        "{outcome:?}"
    );

    let confirm = Command::Confirm(Proof::token(OWNER.owner));
    let TogetherOutcome::Written(sold) =
        repository.apply_to_hold(OWNER.id, confirm, at(10)).unwrap()
    else {
        panic!("the owner confirms their hold");
    };
    assert_eq!(self::ids(&sold), ids[..2]);
    let sale = Reservation::confirmed(hold(0, 60), at(10)).unwrap();
    assert!(sold.iter().all(|t| t.reservation == sale));
    assert_eq!(
        repository
            .apply_to_hold(OWNER.id, confirm, at(500))
            .unwrap(),
        TogetherOutcome::AlreadyDone(sold.clone())
    );
    assert_eq!(repository.find_hold(OWNER.id).unwrap(), sold);

    let release = Command::Release(Proof::token(OTHER.owner));
    let TogetherOutcome::Written(released) =
        repository.apply_to_hold(OTHER.id, release, at(20)).unwrap()
    else {
        panic!("the other buyer releases theirs");
    };
    assert!(released
        .iter()
        .all(|t| t.reservation == Reservation::Unreserved));
    assert!(matches!(
        repository.apply_to_hold(OTHER.id, release, at(21)),
        Err(TicketError::HoldNotFound(hold)) if hold == OTHER.id
    ));
    assert_eq!(repository.find_hold(OTHER.id).unwrap(), vec![]);
}

/// An extension moves the expiry of every ticket of the hold, up to the cap.
pub fn an_extension_moves_every_ticket_of_the_hold(repository: &dyn TicketRepository) {
    let ids = create_many(repository, "Opening Night", 3);
    repository
        .apply_together(&ticket_set(&ids), reserve(60), at(0))
        .unwrap();
    let capped = policy(60).with_max_hold_seconds(120).unwrap();
    let extend = |seconds| Command::Extend {
        proof: Proof::token(OWNER.owner),
        by: TimeDelta::seconds(seconds),
        policy: capped,
    };
    let TogetherOutcome::Written(extended) = repository
        .apply_to_hold(OWNER.id, extend(90), at(30))
        .unwrap()
    else {
        panic!("an extension within the cap is written");
    };
    assert!(extended
        .iter()
        .all(|t| t.reservation == Reservation::Tentative(hold(0, 120))));
    let refused = repository
        .apply_to_hold(OWNER.id, extend(91), at(30))
        .unwrap();
    let TogetherOutcome::Refused { refusals, .. } = refused else {
        panic!("an extension past the cap is refused, got {refused:?}");
    };
    assert_eq!(refusals.len(), 3);
    assert!(refusals.iter().all(|(_, e)| *e
        == ReservationError::ExtensionLimit {
            max_expires_at: at(120)
        }));
    assert_eq!(repository.find_hold(OWNER.id).unwrap(), extended);
}

/// Confirming a hold that has lapsed writes every one of its tickets EXPIRED, once.
pub fn a_confirm_of_a_lapsed_hold_expires_all_its_tickets(repository: &dyn TicketRepository) {
    let ids = create_many(repository, "Opening Night", 3);
    repository
        .apply_together(&ticket_set(&ids), reserve(60), at(0))
        .unwrap();
    let confirm = Command::Confirm(Proof::token(OWNER.owner));
    let first = repository.apply_to_hold(OWNER.id, confirm, at(60)).unwrap();
    let expired = ReservationError::Expired { expired_at: at(60) };
    assert_eq!(
        first,
        TogetherOutcome::Refused {
            refusals: ids.iter().map(|id| (*id, expired)).collect(),
            recorded: 3
        }
    );
    let stored = repository.find_hold(OWNER.id).unwrap();
    assert!(stored
        .iter()
        .all(|t| t.reservation == Reservation::Expired(hold(0, 60))));
    let TogetherOutcome::Refused { recorded, .. } =
        repository.apply_to_hold(OWNER.id, confirm, at(61)).unwrap()
    else {
        panic!("a confirm of an expired hold is refused");
    };
    assert_eq!(recorded, 0);
}

/// Every command on a hold of two tickets in every phase stores and answers what
/// [`Command::decide_together`] says.
pub fn commands_on_a_hold_decide_every_phase_as_the_domain_does(repository: &dyn TicketRepository) {
    let now = at(0);
    let mut holds = 0;
    for (_, arranged) in arrangements() {
        if arranged.hold().is_none() {
            continue;
        }
        for command in commands() {
            if matches!(command, Command::Reserve { .. } | Command::Expire) {
                continue;
            }
            holds += 1;
            let owner = owner_with_hold(holds);
            let before = placed_by(arranged, owner);
            let ids = create_many(repository, "Opening Night", 2);
            for id in &ids {
                arrange(repository, *id, before);
            }
            let case = format!("{command:?} on {before:?}");
            let current: Vec<(TicketId, Reservation)> =
                ids.iter().map(|id| (*id, before)).collect();
            let outcome = repository
                .apply_to_hold(owner.id, command, now)
                .unwrap_or_else(|e| panic!("{case}: {e:?}"));
            let stored: Vec<Reservation> = ids
                .iter()
                .map(|id| repository.find(*id).unwrap().reservation)
                .collect();
            match command.decide_together(&current, now) {
                Together::Write { next, written } => {
                    let tickets = match outcome {
                        TogetherOutcome::Written(tickets) if written => tickets,
                        TogetherOutcome::AlreadyDone(tickets) if !written => tickets,
                        other => panic!("{case}: expected success, got {other:?}"),
                    };
                    let answered: Vec<(TicketId, Reservation)> =
                        tickets.iter().map(|t| (t.id, t.reservation)).collect();
                    assert_eq!(answered, next, "{case}");
                    assert_eq!(
                        stored,
                        next.iter().map(|(_, r)| *r).collect::<Vec<_>>(),
                        "{case}"
                    );
                }
                Together::Refuse { refusals, records } => {
                    assert_eq!(
                        outcome,
                        TogetherOutcome::Refused {
                            refusals,
                            recorded: records.len()
                        },
                        "{case}"
                    );
                    let expected: Vec<Reservation> = ids
                        .iter()
                        .map(|id| {
                            records
                                .iter()
                                .find(|(r, _)| r == id)
                                .map_or(before, |(_, r)| *r)
                        })
                        .collect();
                    assert_eq!(stored, expected, "{case}");
                }
            }
        }
    }
}

/// Best available holds the lowest-id tickets of the event that are reservable now:
/// never reserved, lapsed or expired; never held, sold, or of another event.
pub fn best_available_holds_the_lowest_reservable_ids_of_the_event(
    repository: &dyn TicketRepository,
) {
    let event = EventName::parse("Opening Night").unwrap();
    let ids = create_many(repository, "Opening Night", 8);
    create_many(repository, "Matinee", 2);
    let states = [
        Reservation::confirmed(hold(-100, -40), at(-70)).unwrap(),
        Reservation::Tentative(hold(-10, 50)),
        Reservation::Tentative(hold(-100, -40)),
        Reservation::Unreserved,
        Reservation::Expired(hold(-100, -40)),
    ];
    for (id, state) in ids.iter().zip(states) {
        arrange(repository, *id, state);
    }
    let best = repository
        .hold_best_available(&event, 3, OTHER, &policy(60), at(0))
        .unwrap();
    let BestAvailable::Held(held) = best else {
        panic!("three tickets are reservable, got {best:?}");
    };
    assert_eq!(self::ids(&held), vec![ids[2], ids[3], ids[4]]);
    assert!(held_by(&held, OTHER));
    let Ok(BestAvailable::Held(next)) =
        repository.hold_best_available(&event, 3, OTHER, &policy(60), at(0))
    else {
        panic!("three more are reservable");
    };
    assert_eq!(self::ids(&next), ids[5..]);
}

/// Best available asked for more than are free holds nothing and says how many are.
pub fn best_available_short_of_tickets_stores_nothing(repository: &dyn TicketRepository) {
    let event = EventName::parse("Opening Night").unwrap();
    let ids = create_many(repository, "Opening Night", 3);
    arrange(repository, ids[1], Reservation::Tentative(hold(-10, 50)));
    assert_eq!(
        repository
            .hold_best_available(&event, 3, OTHER, &policy(60), at(0))
            .unwrap(),
        BestAvailable::TooFew { available: 2 }
    );
    assert_eq!(repository.find_hold(OTHER.id).unwrap(), vec![]);
    assert_eq!(
        repository.find(ids[0]).unwrap().reservation,
        Reservation::Unreserved
    );
    let nowhere = EventName::parse("Nowhere").unwrap();
    assert_eq!(
        repository
            .hold_best_available(&nowhere, 1, OTHER, &policy(60), at(0))
            .unwrap(),
        BestAvailable::TooFew { available: 0 }
    );
}
