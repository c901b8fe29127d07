//! A soak: eight threads issuing thousands of random reserve/confirm/release calls over
//! 200 tickets, with a short hold and a shared clock moving on, then every row checked
//! against the invariants.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::thread;

use chrono::TimeDelta;
use common::{at, new_ticket};
use ticketing_domain::{
    Hold, ManualClock, Reservation, ReservationError, ReservationPolicy, TicketId, Timestamp,
};
use ticketing_ports::{TicketError, TicketService, TicketView};
use ticketing_postgres::test_db::TestDatabase;
use ticketing_postgres::PoolSettings;

const THREADS: usize = 8;
const CALLS_PER_THREAD: usize = 2_500;
const TICKETS: usize = 200;

/// A tiny deterministic generator (xorshift64*): reproducible runs without a dependency.
struct Random(u64);

impl Random {
    fn below(&mut self, bound: u64) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_f491_4f6c_dd1d) % bound
    }
}

#[derive(Debug, Default)]
struct Tally {
    /// Every sale answered to a client: (hold, confirmed_at) per ticket.
    sales: HashMap<TicketId, Vec<(Hold, Timestamp)>>,
    /// Every hold a reserve was granted, per ticket.
    holds: HashMap<TicketId, Vec<Hold>>,
    outcomes: HashMap<&'static str, usize>,
}

#[test]
fn thousands_of_random_calls_leave_every_row_consistent() {
    let db = TestDatabase::new();
    let clock = Arc::new(ManualClock::new(at(0)));
    let repository = ticketing_postgres::PgTicketRepository::new(db.pool_with(PoolSettings {
        max_size: THREADS as u32,
        ..db.settings()
    }));
    let service = Arc::new(TicketService::new(
        repository,
        clock.clone(),
        ReservationPolicy::from_ttl_seconds(1).unwrap(),
    ));
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
                    // Few enough tickets per call that they are contended.
                    let id = ids[random.below(TICKETS as u64) as usize];
                    // Sales are final, so confirms are rare enough to keep most tickets live.
                    let (call, result) = match random.below(20) {
                        0..=10 => ("reserve", service.reserve(id)),
                        11..=17 => ("release", service.release(id)),
                        _ => ("confirm", service.confirm(id)),
                    };
                    record(&tally, id, call, result);
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
        "release ok",
        "release NoActiveReservation",
    ] {
        assert!(
            tally.outcomes.get(outcome).copied().unwrap_or(0) > 0,
            "no {outcome:?} in {:?}",
            tally.outcomes
        );
    }
}

fn record(
    tally: &Mutex<Tally>,
    id: TicketId,
    call: &'static str,
    result: Result<TicketView, TicketError>,
) {
    let mut tally = tally.lock().unwrap();
    let outcome = match (&result, call) {
        (Ok(view), "reserve") => {
            let Reservation::Tentative(hold) = view.ticket.reservation else {
                panic!("a granted reserve answers a hold: {view:?}");
            };
            tally.holds.entry(id).or_default().push(hold);
            "reserve ok"
        }
        (Ok(view), "confirm") => {
            let Reservation::Confirmed { hold, confirmed_at } = view.ticket.reservation else {
                panic!("a granted confirm answers a sale: {view:?}");
            };
            tally
                .sales
                .entry(id)
                .or_default()
                .push((hold, confirmed_at));
            "confirm ok"
        }
        (Ok(view), _) => {
            assert_eq!(view.ticket.reservation, Reservation::Unreserved);
            "release ok"
        }
        (Err(TicketError::Refused(error)), _) => match (call, error) {
            ("reserve", ReservationError::AlreadyActive { .. }) => "reserve AlreadyActive",
            ("reserve", ReservationError::AlreadyConfirmed { .. }) => "reserve AlreadyConfirmed",
            ("confirm", ReservationError::Expired { .. }) => "confirm Expired",
            ("confirm", ReservationError::NoActiveReservation) => "confirm NoActiveReservation",
            ("release", ReservationError::NoActiveReservation) => "release NoActiveReservation",
            ("release", ReservationError::AlreadyConfirmed { .. }) => "release AlreadyConfirmed",
            other => panic!("refusal the rules do not give: {other:?}"),
        },
        (Err(error), _) => panic!("{call} of ticket {id} failed: {error:?}"),
    };
    *tally.outcomes.entry(outcome).or_default() += 1;
}

/// The invariants, row by row: every row is a ticket the domain can represent; a sale
/// answered to any client is the one stored, and there was only one; a stored hold is
/// one that some reserve was granted.
fn check_every_row(
    service: &TicketService<ticketing_postgres::PgTicketRepository, Arc<ManualClock>>,
    ids: &[TicketId],
    tally: &Tally,
) {
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
                "ticket {id} stores {stored:?}, a hold no reserve was granted"
            );
        }
    }
}
