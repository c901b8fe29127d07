//! Every transition of every command, at the boundaries of a hold's lifetime.

// Tests panic on purpose when something is wrong.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use chrono::{TimeDelta, TimeZone, Utc};
use ticketing_domain::{
    Command, Decision, Hold, Phase, Reservation, ReservationError, ReservationPolicy,
    ReservationStatus, Timestamp,
};

const NS: TimeDelta = TimeDelta::nanoseconds(1);

fn t(seconds: i64) -> Timestamp {
    Utc.with_ymd_and_hms(2026, 11, 26, 12, 0, 0).unwrap() + TimeDelta::seconds(seconds)
}

fn policy() -> ReservationPolicy {
    ReservationPolicy::from_ttl_seconds(60).unwrap()
}

fn reserve() -> Command {
    Command::Reserve(policy())
}

/// A hold placed at t(0), expiring at t(60).
fn hold() -> Hold {
    Hold::new(t(0), t(60)).unwrap()
}

fn tentative() -> Reservation {
    Reservation::Tentative(hold())
}

fn sold() -> Reservation {
    Reservation::confirmed(hold(), t(30)).unwrap()
}

fn expired() -> Reservation {
    Reservation::Expired(hold())
}

fn written(decision: Decision) -> Reservation {
    match decision {
        Decision::Write(next) => next,
        other => panic!("expected a write, got {other:?}"),
    }
}

#[test]
fn reserve_places_a_hold_of_exactly_the_ttl() {
    let next = written(reserve().decide(&Reservation::Unreserved, t(5)));
    assert_eq!(
        next,
        Reservation::Tentative(Hold::new(t(5), t(65)).unwrap())
    );
}

#[test]
fn reserve_starts_a_new_hold_over_an_expired_one() {
    let next = written(reserve().decide(&expired(), t(100)));
    assert_eq!(
        next,
        Reservation::Tentative(Hold::new(t(100), t(160)).unwrap())
    );
}

#[test]
fn reserve_replaces_a_tentative_hold_from_the_instant_it_expires() {
    assert_eq!(
        reserve().decide(&tentative(), t(60) - NS),
        Decision::Refuse(ReservationError::AlreadyActive { expires_at: t(60) })
    );
    let at_expiry = written(reserve().decide(&tentative(), t(60)));
    assert_eq!(at_expiry.created_at(), Some(t(60)));
    let after = written(reserve().decide(&tentative(), t(60) + NS));
    assert_eq!(after.created_at(), Some(t(60) + NS));
}

#[test]
fn reserve_refuses_a_sold_ticket_forever() {
    for now in [t(31), t(60), t(86_400 * 365)] {
        assert_eq!(
            reserve().decide(&sold(), now),
            Decision::Refuse(ReservationError::AlreadyConfirmed {
                confirmed_at: t(30)
            })
        );
    }
}

#[test]
fn confirm_sells_an_active_hold_up_to_the_last_nanosecond() {
    let next = written(Command::Confirm.decide(&tentative(), t(60) - NS));
    assert_eq!(next.confirmed_at(), Some(t(60) - NS));
    assert_eq!(next.hold(), Some(&hold()));
    assert_eq!(next.status_at(t(1_000)), Some(ReservationStatus::Confirmed));
}

#[test]
fn confirm_at_or_after_expiry_records_the_expiry_and_refuses() {
    for now in [t(60), t(60) + NS, t(3_600)] {
        assert_eq!(
            Command::Confirm.decide(&tentative(), now),
            Decision::RecordThenRefuse {
                record: Command::Expire,
                error: ReservationError::Expired { expired_at: t(60) },
            },
            "at {now}"
        );
        assert_eq!(
            written(Command::Expire.decide(&tentative(), now)),
            expired()
        );
    }
}

#[test]
fn confirm_is_idempotent_and_never_moves_confirmed_at() {
    for now in [t(31), t(59), t(60), t(10_000)] {
        assert_eq!(Command::Confirm.decide(&sold(), now), Decision::AlreadyDone);
    }
}

#[test]
fn confirm_refuses_expired_and_unreserved_tickets() {
    assert_eq!(
        Command::Confirm.decide(&expired(), t(61)),
        Decision::Refuse(ReservationError::Expired { expired_at: t(60) })
    );
    assert_eq!(
        Command::Confirm.decide(&Reservation::Unreserved, t(0)),
        Decision::Refuse(ReservationError::NoActiveReservation)
    );
}

#[test]
fn confirm_by_a_lagging_clock_is_recorded_at_the_hold_start() {
    // Another instance placed the hold at t(0); this one's clock reads a moment earlier.
    let next = written(Command::Confirm.decide(&tentative(), t(0) - NS));
    assert_eq!(next.confirmed_at(), Some(t(0)));
    assert!(Reservation::confirmed(hold(), t(0)).is_ok());
}

#[test]
fn release_clears_only_an_active_hold() {
    assert_eq!(
        written(Command::Release.decide(&tentative(), t(60) - NS)),
        Reservation::Unreserved
    );
    for (state, now) in [
        (tentative(), t(60)),
        (expired(), t(61)),
        (Reservation::Unreserved, t(0)),
    ] {
        assert_eq!(
            Command::Release.decide(&state, now),
            Decision::Refuse(ReservationError::NoActiveReservation),
            "{state:?} at {now}"
        );
    }
    assert_eq!(
        Command::Release.decide(&sold(), t(40)),
        Decision::Refuse(ReservationError::AlreadyConfirmed {
            confirmed_at: t(30)
        })
    );
}

#[test]
fn expire_records_only_a_lapsed_hold() {
    assert_eq!(
        written(Command::Expire.decide(&tentative(), t(60))),
        expired()
    );
    for (state, now) in [
        (tentative(), t(60) - NS),
        (sold(), t(1_000)),
        (expired(), t(1_000)),
        (Reservation::Unreserved, t(0)),
    ] {
        assert_eq!(
            Command::Expire.decide(&state, now),
            Decision::Refuse(ReservationError::NothingToExpire),
            "{state:?} at {now}"
        );
    }
}

#[test]
fn phases_at_the_edges_of_a_hold() {
    assert_eq!(tentative().phase_at(t(0)), Phase::Held);
    assert_eq!(tentative().phase_at(t(60) - NS), Phase::Held);
    assert_eq!(tentative().phase_at(t(60)), Phase::Lapsed);
    assert_eq!(expired().phase_at(t(0)), Phase::Expired);
    assert_eq!(sold().phase_at(t(0)), Phase::Confirmed);
    assert_eq!(Reservation::Unreserved.phase_at(t(0)), Phase::Unreserved);
}

/// A storage adapter makes a command atomic with its guarded write alone, so the guard
/// must accept exactly the states in which `decide` writes, and write the same thing.
#[test]
fn the_guarded_write_agrees_with_the_decision_in_every_phase() {
    let samples = [
        (Reservation::Unreserved, t(10)),
        (tentative(), t(10)),
        (tentative(), t(60)),
        (expired(), t(70)),
        (sold(), t(70)),
    ];
    let covered: Vec<Phase> = samples.iter().map(|(r, now)| r.phase_at(*now)).collect();
    assert!(Phase::ALL.iter().all(|phase| covered.contains(phase)));

    for command in [
        reserve(),
        Command::Confirm,
        Command::Release,
        Command::Expire,
    ] {
        for (state, now) in &samples {
            let guarded = command.write(*now);
            let decided = match command.decide(state, *now) {
                Decision::Write(next) => Some(next),
                _ => None,
            };
            assert_eq!(
                guarded.apply(state, *now),
                decided,
                "{command:?} on {state:?}"
            );
            assert_eq!(
                guarded.from.contains(&state.phase_at(*now)),
                decided.is_some(),
                "{command:?} on {state:?}"
            );
        }
    }
}
