//! A soak: eight threads issuing thousands of random calls of every use case over 200
//! tickets (reserve, confirm and release one ticket; hold several, or the best available;
//! confirm, release and extend a hold), presenting their hold's token, another's or none,
//! with a short hold and a shared clock moving on; then every row checked against the
//! invariants.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::thread;

use chrono::TimeDelta;
use common::{at, new_ticket, Random};
use ticketing_domain::{
    EventName, Hold, HoldId, ManualClock, OwnershipError, Reservation, ReservationError,
    ReservationPolicy, TicketId, Timestamp,
};
use ticketing_ports::{HoldToken, HoldView, IssuedHold, TicketError, TicketService};
use ticketing_postgres::test_db::TestDatabase;
use ticketing_postgres::{PgTicketRepository, PoolSettings};

const THREADS: usize = 8;
const CALLS_PER_THREAD: usize = 2_500;
const TICKETS: usize = 200;

type Service = TicketService<PgTicketRepository, Arc<ManualClock>>;

#[derive(Debug, Default)]
struct Tally {
    /// Every sale answered to a client: (hold, confirmed_at) per ticket.
    sales: HashMap<TicketId, Vec<(Hold, Timestamp)>>,
    /// Every hold a call was granted (placed or extended), per ticket.
    holds: HashMap<TicketId, Vec<Hold>>,
    /// The token of every hold placed.
    tokens: HashMap<HoldId, HoldToken>,
    /// The holds placed, in order: the hold commands pick among the latest.
    placed: Vec<HoldId>,
    outcomes: HashMap<String, usize>,
}

/// Which token a call presented.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Presented {
    Own,
    Another,
    Nothing,
}

#[test]
fn thousands_of_random_calls_leave_every_row_consistent() {
    let db = TestDatabase::new();
    let clock = Arc::new(ManualClock::new(at(0)));
    let repository = PgTicketRepository::new(db.pool_with(PoolSettings {
        max_size: THREADS as u32,
        ..db.settings()
    }));
    // One-second holds that may be extended to three seconds in all.
    let policy = ReservationPolicy::from_ttl_seconds(1)
        .unwrap()
        .with_max_hold_seconds(3)
        .unwrap();
    let service = Arc::new(TicketService::new(repository, clock.clone(), policy));
    let ids: Arc<Vec<TicketId>> = Arc::new(
        (0..TICKETS)
            .map(|_| service.create_ticket(&new_ticket()).unwrap().ticket.id)
            .collect(),
    );
    let tally = Arc::new(Mutex::new(Tally::default()));

    let workers: Vec<_> = (0..THREADS)
        .map(|worker| {
            let (service, clock, ids, tally) =
                (service.clone(), clock.clone(), ids.clone(), tally.clone());
            thread::spawn(move || {
                let mut random = Random(0x9e37_79b9_7f4a_7c15 ^ (worker as u64 + 1));
                for _ in 0..CALLS_PER_THREAD {
                    // About 2.5 ms per call: each one-second hold sees ~400 calls go by.
                    clock.advance(TimeDelta::microseconds(random.below(5_000) as i64));
                    one_call(&service, &ids, &tally, &mut random);
                }
            })
        })
        .collect();
    for worker in workers {
        worker.join().unwrap();
    }

    let tally = tally.lock().unwrap();
    check_every_row(&service, &ids, &tally);
    // The soak exercised every path, not just one.
    for outcome in [
        "reserve ok",
        "reserve AlreadyActive",
        "reserve AlreadyConfirmed",
        "confirm ok",
        "confirm Expired",
        "confirm NoActiveReservation",
        "confirm Ownership(TokenInvalid)",
        "confirm Ownership(TokenRequired)",
        "release ok",
        "release NoActiveReservation",
        "release Ownership(TokenInvalid)",
        "hold_tickets ok",
        "hold_tickets TicketsUnavailable",
        "best_available ok",
        "confirm_hold ok",
        "confirm_hold Expired",
        "release_hold ok",
        "release_hold HoldNotFound",
        "extend_hold ok",
        "extend_hold ExtensionLimit",
        "extend_hold Ownership(TokenInvalid)",
    ] {
        assert!(
            tally.outcomes.get(outcome).copied().unwrap_or(0) > 0,
            "no {outcome:?} in {:#?}",
            tally.outcomes
        );
    }
}

/// One random call, its answer checked and recorded.
fn one_call(service: &Service, ids: &[TicketId], tally: &Mutex<Tally>, random: &mut Random) {
    let ticket = ids[random.below(TICKETS as u64) as usize];
    let choice = random.below(100);
    // The token to present: mostly the latest one issued for what the call acts on.
    let presented = match random.below(20) {
        0 => Presented::Another,
        1 => Presented::Nothing,
        _ => Presented::Own,
    };
    let another = HoldToken::generate().unwrap();
    let pick = |own: Option<HoldToken>| match presented {
        Presented::Own => own,
        Presented::Another => Some(another.clone()),
        Presented::Nothing => None,
    };
    match choice {
        // Sales are final, so confirms are rare enough to keep most tickets live.
        0..=34 => record_issued(tally, "reserve", service.reserve(ticket)),
        35..=39 => {
            let token = pick(latest_token_of(tally, ticket));
            let result = service.confirm(ticket, token.as_ref());
            if let Ok(view) = &result {
                let Reservation::Confirmed { hold, confirmed_at } = view.ticket.reservation else {
                    panic!("a granted confirm answers a sale: {view:?}");
                };
                check_owner(presented, token.as_ref(), &hold);
                let mut tally = tally.lock().unwrap();
                let sales = tally.sales.entry(ticket).or_default();
                sales.push((hold, confirmed_at));
            }
            record(tally, "confirm", result.map(drop));
        }
        40..=59 => {
            let token = pick(latest_token_of(tally, ticket));
            let result = service.release(ticket, token.as_ref());
            if let Ok(view) = &result {
                assert_eq!(view.ticket.reservation, Reservation::Unreserved);
                assert_eq!(presented, Presented::Own, "released without its token");
            }
            record(tally, "release", result.map(drop));
        }
        60..=71 => {
            let count = 2 + random.below(2) as usize;
            let wanted: Vec<TicketId> = (0..count)
                .map(|_| ids[random.below(TICKETS as u64) as usize])
                .collect();
            let result = service.hold_tickets(&wanted);
            match &result {
                Err(TicketError::TicketsUnavailable(refusals)) => {
                    assert!(!refusals.is_empty());
                    for (id, error) in refusals {
                        assert!(wanted.contains(id), "{id} was not asked for");
                        assert!(
                            matches!(
                                error,
                                ReservationError::AlreadyActive { .. }
                                    | ReservationError::AlreadyConfirmed { .. }
                            ),
                            "{error:?}"
                        );
                    }
                }
                // A ticket listed twice.
                Err(TicketError::InvalidTicketSet(_)) => {}
                _ => {}
            }
            record_issued(tally, "hold_tickets", result);
        }
        72..=76 => {
            let event = EventName::parse("Opening Night").unwrap();
            record_issued(
                tally,
                "best_available",
                service.hold_best_available(&event, 2),
            );
        }
        _ => {
            let Some((hold, own)) = latest_hold(tally, random) else {
                return;
            };
            let token = pick(Some(own));
            let (call, result) = match choice {
                77..=80 => ("confirm_hold", service.confirm_hold(hold, token.as_ref())),
                81..=90 => ("release_hold", service.release_hold(hold, token.as_ref())),
                _ => {
                    let seconds = 1 + random.below(3) as i64;
                    let extended = service.extend_hold(hold, token.as_ref(), seconds);
                    ("extend_hold", extended)
                }
            };
            if let Ok(view) = &result {
                assert_eq!(presented, Presented::Own, "{call} without the hold's token");
                record_hold_view(tally, call, view, presented, token.as_ref());
            }
            record(tally, call, result.map(drop));
        }
    }
}

/// The token of the latest hold placed on `ticket`, if any.
fn latest_token_of(tally: &Mutex<Tally>, ticket: TicketId) -> Option<HoldToken> {
    let tally = tally.lock().unwrap();
    let hold = tally.holds.get(&ticket)?.last()?;
    tally.tokens.get(&hold.id()).cloned()
}

/// One of the last 200 holds placed (about 600 calls, 1.5 s of holds), with its token.
fn latest_hold(tally: &Mutex<Tally>, random: &mut Random) -> Option<(HoldId, HoldToken)> {
    let tally = tally.lock().unwrap();
    let recent = tally.placed.len().min(200);
    if recent == 0 {
        return None;
    }
    let hold = tally.placed[tally.placed.len() - 1 - random.below(recent as u64) as usize];
    Some((hold, tally.tokens[&hold].clone()))
}

/// A call that acted on a hold with a token other than the hold's own must have been
/// refused; `None` passes only because tokens are required and it never succeeds.
fn check_owner(presented: Presented, token: Option<&HoldToken>, hold: &Hold) {
    assert_eq!(
        presented,
        Presented::Own,
        "acted on {hold:?} without its token"
    );
    assert_eq!(token.map(HoldToken::digest), Some(*hold.owner()));
}

fn record_issued(tally: &Mutex<Tally>, call: &str, result: Result<IssuedHold, TicketError>) {
    if let Ok(issued) = &result {
        let mut tally = tally.lock().unwrap();
        for view in &issued.hold.tickets {
            let Reservation::Tentative(hold) = view.ticket.reservation else {
                panic!("a granted hold answers held tickets: {issued:?}");
            };
            assert_eq!(hold.id(), issued.hold.id);
            assert_eq!(*hold.owner(), issued.token.digest());
            tally.holds.entry(view.ticket.id).or_default().push(hold);
        }
        tally.tokens.insert(issued.hold.id, issued.token.clone());
        tally.placed.push(issued.hold.id);
    }
    record(tally, call, result.map(drop));
}

fn record_hold_view(
    tally: &Mutex<Tally>,
    call: &str,
    view: &HoldView,
    presented: Presented,
    token: Option<&HoldToken>,
) {
    let mut tally = tally.lock().unwrap();
    for ticket in &view.tickets {
        match ticket.ticket.reservation {
            Reservation::Confirmed { hold, confirmed_at } if call == "confirm_hold" => {
                check_owner(presented, token, &hold);
                tally
                    .sales
                    .entry(ticket.ticket.id)
                    .or_default()
                    .push((hold, confirmed_at));
            }
            Reservation::Tentative(hold) if call == "extend_hold" => {
                check_owner(presented, token, &hold);
                tally.holds.entry(ticket.ticket.id).or_default().push(hold);
            }
            Reservation::Unreserved if call == "release_hold" => {}
            other => panic!("{call} answered {other:?}"),
        }
    }
}

fn record(tally: &Mutex<Tally>, call: &str, result: Result<(), TicketError>) {
    let outcome = match result {
        Ok(()) => format!("{call} ok"),
        Err(TicketError::Refused(error)) => {
            use ReservationError as E;
            let allowed = matches!(
                (call, error),
                (
                    "reserve",
                    E::AlreadyActive { .. } | E::AlreadyConfirmed { .. }
                ) | ("confirm" | "confirm_hold", E::Expired { .. })
                    | (
                        "confirm" | "release" | "release_hold",
                        E::NoActiveReservation
                    )
                    | (
                        "release" | "release_hold" | "extend_hold",
                        E::AlreadyConfirmed { .. }
                    )
                    | ("extend_hold", E::Expired { .. } | E::ExtensionLimit { .. })
                    | (
                        "confirm" | "release" | "confirm_hold" | "release_hold" | "extend_hold",
                        E::Ownership(OwnershipError::TokenInvalid | OwnershipError::TokenRequired)
                    )
            );
            assert!(allowed, "refusal the rules do not give: {call} {error:?}");
            let name = format!("{error:?}");
            let variant = name.split(" {").next().unwrap_or_default();
            format!("{call} {variant}")
        }
        Err(TicketError::TicketsUnavailable(_)) => format!("{call} TicketsUnavailable"),
        Err(TicketError::TooFewAvailable { .. }) => format!("{call} TooFewAvailable"),
        Err(TicketError::InvalidTicketSet(_)) => format!("{call} InvalidTicketSet"),
        Err(TicketError::HoldNotFound(_)) => format!("{call} HoldNotFound"),
        Err(error) => panic!("{call} failed: {error:?}"),
    };
    *tally.lock().unwrap().outcomes.entry(outcome).or_default() += 1;
}

/// The invariants, row by row: every row is a ticket the domain can represent; a sale
/// answered to any client is the one stored, and there was only one; a stored hold is
/// one that some call was granted; the tickets of one hold share its lifetime.
fn check_every_row(service: &Service, ids: &[TicketId], tally: &Tally) {
    let mut lifetimes: HashMap<HoldId, (Timestamp, Timestamp)> = HashMap::new();
    for &id in ids {
        let stored = service
            .ticket(id)
            .unwrap_or_else(|e| panic!("ticket {id} unreadable: {e:?}"))
            .ticket
            .reservation;
        let granted = tally.holds.get(&id).map(Vec::as_slice).unwrap_or(&[]);
        let sales = tally.sales.get(&id).map(Vec::as_slice).unwrap_or(&[]);
        if let Some(&(hold, confirmed_at)) = sales.first() {
            assert!(
                sales.iter().all(|&sale| sale == (hold, confirmed_at)),
                "ticket {id} sold more than once: {sales:?}"
            );
            assert_eq!(
                stored,
                Reservation::Confirmed { hold, confirmed_at },
                "ticket {id}: the sale answered to clients is lost"
            );
        }
        if let Some(hold) = stored.hold() {
            assert!(
                granted.contains(hold),
                "ticket {id} stores {stored:?}, a hold no call was granted"
            );
            if let Reservation::Tentative(hold) = stored {
                let lifetime = (hold.created_at(), hold.expires_at());
                let shared = *lifetimes.entry(hold.id()).or_insert(lifetime);
                assert_eq!(shared, lifetime, "ticket {id}: its hold's tickets disagree");
            }
        }
    }
}
