//! Random sequences of commands at random times, checked against the invariants.

// Tests panic on purpose when something is wrong.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use chrono::{TimeDelta, TimeZone, Utc};
use proptest::prelude::*;
use ticketing_domain::{Command, Decision, Phase, Reservation, ReservationPolicy, Timestamp};

#[derive(Debug, Clone, Copy)]
enum Op {
    Reserve,
    Confirm,
    Release,
    Expire,
}

fn op() -> impl Strategy<Value = Op> {
    prop_oneof![
        Just(Op::Reserve),
        Just(Op::Confirm),
        Just(Op::Release),
        Just(Op::Expire)
    ]
}

fn start() -> Timestamp {
    Utc.with_ymd_and_hms(2026, 11, 26, 12, 0, 0).unwrap()
}

/// Applies a decision the way a repository does, returning the stored state after it.
fn store(current: Reservation, command: Command, now: Timestamp) -> Reservation {
    match command.decide(&current, now) {
        Decision::Write(next) => next,
        Decision::AlreadyDone | Decision::Refuse(_) => current,
        Decision::RecordThenRefuse { record, .. } => store(current, record, now),
    }
}

proptest! {
    #[test]
    fn invariants_hold_for_any_sequence_of_commands(
        ttl_seconds in 1i64..=600,
        steps in prop::collection::vec((op(), 0i64..120_000_000), 1..60),
    ) {
        let policy = ReservationPolicy::from_ttl_seconds(ttl_seconds).unwrap();
        let mut now = start();
        let mut state = Reservation::Unreserved;
        let mut sale: Option<Reservation> = None;

        for (op, step_micros) in steps {
            // Time never runs backwards within one ticket's history here.
            now += TimeDelta::microseconds(step_micros);
            let command = match op {
                Op::Reserve => Command::Reserve(policy),
                Op::Confirm => Command::Confirm,
                Op::Release => Command::Release,
                Op::Expire => Command::Expire,
            };
            let before = state;
            state = store(state, command, now);

            // Once sold, nothing changes: neither the state nor `confirmed_at`.
            if let Some(sold) = sale {
                prop_assert_eq!(state, sold);
            }
            if let Reservation::Confirmed { .. } = state {
                sale.get_or_insert(state);
            }

            if let Some(hold) = state.hold() {
                prop_assert!(hold.created_at() < hold.expires_at());
                if state != before {
                    // Every hold the rules create lasts exactly the TTL.
                    prop_assert_eq!(hold.expires_at() - hold.created_at(), policy.ttl());
                }
            }
            if let Some(confirmed_at) = state.confirmed_at() {
                let hold = state.hold().unwrap();
                prop_assert!(hold.created_at() <= confirmed_at);
                prop_assert!(confirmed_at < hold.expires_at());
            }
            // A reserve that succeeds never takes over an active hold or a sale.
            if matches!(command, Command::Reserve(_)) && state != before {
                prop_assert!(!matches!(before.phase_at(now), Phase::Held | Phase::Confirmed));
            }
        }
    }

    /// At most one active hold: while a hold is active, no reserve at any later instant
    /// before its expiry can produce a second one.
    #[test]
    fn an_active_hold_excludes_every_other_reserve(
        ttl_seconds in 1i64..=600,
        offset_micros in 0i64..600_000_000,
    ) {
        let policy = ReservationPolicy::from_ttl_seconds(ttl_seconds).unwrap();
        let held = store(Reservation::Unreserved, Command::Reserve(policy), start());
        let later = start() + TimeDelta::microseconds(offset_micros);
        let second = Command::Reserve(policy).decide(&held, later);
        let active = held.hold().unwrap().is_active_at(later);
        prop_assert_eq!(matches!(second, Decision::Write(_)), !active);
    }
}
