//! Every transition of every command, at the boundaries of a hold's lifetime.

// Tests panic on purpose when something is wrong.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use chrono::{TimeDelta, TimeZone, Utc};
use ticketing_domain::{
    Command, Decision, GuardedWrite, Hold, HoldId, NewHold, OwnershipError, Phase, Proof,
    Reservation, ReservationError, ReservationPolicy, ReservationStatus, Timestamp, TokenDigest,
};

const NS: TimeDelta = TimeDelta::nanoseconds(1);

/// The digest of the token of the hold every test places.
const MINE: TokenDigest = TokenDigest::from_bytes([1; 32]);
/// The digest of somebody else's token.
const THEIRS: TokenDigest = TokenDigest::from_bytes([2; 32]);

/// Who every hold of these tests belongs to.
const OWNER: NewHold = NewHold {
    id: HoldId::from_uuid(uuid::Uuid::from_u128(
        0x67e5_5044_10b1_426f_9247_bb68_0e5f_e0c8,
    )),
    owner: MINE,
};

/// Another client's hold.
const OTHER: NewHold = NewHold {
    id: HoldId::from_uuid(uuid::Uuid::from_u128(2)),
    owner: THEIRS,
};

fn t(seconds: i64) -> Timestamp {
    Utc.with_ymd_and_hms(2026, 11, 26, 12, 0, 0).unwrap() + TimeDelta::seconds(seconds)
}

fn seconds(n: i64) -> TimeDelta {
    TimeDelta::seconds(n)
}

/// Holds of 60 s, extensible to 900 s from their start.
fn policy() -> ReservationPolicy {
    ReservationPolicy::from_ttl_seconds(60).unwrap()
}

fn reserve() -> Command {
    Command::Reserve {
        hold: OWNER,
        policy: policy(),
    }
}

fn confirm() -> Command {
    Command::Confirm(Proof::ANONYMOUS)
}

fn release() -> Command {
    Command::Release(Proof::ANONYMOUS)
}

fn extend(proof: Proof, by: TimeDelta) -> Command {
    Command::Extend {
        proof,
        by,
        policy: policy(),
    }
}

/// A hold placed at t(0), expiring at t(60).
fn hold() -> Hold {
    Hold::new(OWNER, t(0), t(60)).unwrap()
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

/// The proofs a request may present for a hold that `MINE` proves.
fn owners_proofs() -> [Proof; 3] {
    [
        Proof::token(MINE),
        Proof::new(Some(MINE), false),
        Proof::ANONYMOUS,
    ]
}

/// The proofs that may not act on a hold that `MINE` proves, with the error they get.
fn strangers_proofs() -> [(Proof, OwnershipError); 3] {
    [
        (Proof::token(THEIRS), OwnershipError::TokenInvalid),
        (
            Proof::new(Some(THEIRS), false),
            OwnershipError::TokenInvalid,
        ),
        (Proof::new(None, true), OwnershipError::TokenRequired),
    ]
}

fn every_proof() -> Vec<Proof> {
    let mut proofs = owners_proofs().to_vec();
    proofs.extend(strangers_proofs().map(|(proof, _)| proof));
    proofs
}

/// Whether the guard alone (what a storage adapter turns into its `WHERE` clause) admits
/// `current` at `now`: the phase, the hold's owner, and the hold's start.
fn guard_admits(guarded: &GuardedWrite, current: &Reservation, now: Timestamp) -> bool {
    guarded.from.contains(&current.phase_at(now))
        && current.hold().is_none_or(|hold| {
            guarded.owner.is_none_or(|owner| owner == *hold.owner())
                && guarded
                    .started_since
                    .is_none_or(|since| hold.created_at() >= since)
        })
}

#[test]
fn reserve_places_a_hold_of_exactly_the_ttl() {
    let next = written(reserve().decide(&Reservation::Unreserved, t(5)));
    assert_eq!(
        next,
        Reservation::Tentative(Hold::new(OWNER, t(5), t(65)).unwrap())
    );
}

#[test]
fn reserve_starts_a_new_hold_over_an_expired_one() {
    let next = written(reserve().decide(&expired(), t(100)));
    assert_eq!(
        next,
        Reservation::Tentative(Hold::new(OWNER, t(100), t(160)).unwrap())
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
fn reserve_gives_the_new_hold_to_whoever_places_it() {
    let theirs = Command::Reserve {
        hold: OTHER,
        policy: policy(),
    };
    for (state, now) in [
        (Reservation::Unreserved, t(5)),
        (tentative(), t(60)),
        (expired(), t(100)),
    ] {
        let next = written(theirs.decide(&state, now));
        assert_eq!(next.hold().unwrap().new_hold(), OTHER, "{state:?}");
        assert_eq!(next.hold().unwrap().id(), OTHER.id);
        assert_eq!(next.hold().unwrap().owner(), &THEIRS);
    }
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
    let next = written(confirm().decide(&tentative(), t(60) - NS));
    assert_eq!(next.confirmed_at(), Some(t(60) - NS));
    assert_eq!(next.hold(), Some(&hold()));
    assert_eq!(next.status_at(t(1_000)), Some(ReservationStatus::Confirmed));
}

#[test]
fn confirm_at_or_after_expiry_records_the_expiry_and_refuses() {
    for now in [t(60), t(60) + NS, t(3_600)] {
        assert_eq!(
            confirm().decide(&tentative(), now),
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
        assert_eq!(confirm().decide(&sold(), now), Decision::AlreadyDone);
    }
}

#[test]
fn confirm_refuses_expired_and_unreserved_tickets() {
    assert_eq!(
        confirm().decide(&expired(), t(61)),
        Decision::Refuse(ReservationError::Expired { expired_at: t(60) })
    );
    assert_eq!(
        confirm().decide(&Reservation::Unreserved, t(0)),
        Decision::Refuse(ReservationError::NoActiveReservation)
    );
}

#[test]
fn confirm_by_a_lagging_clock_is_recorded_at_the_hold_start() {
    // Another instance placed the hold at t(0); this one's clock reads a moment earlier.
    let next = written(confirm().decide(&tentative(), t(0) - NS));
    assert_eq!(next.confirmed_at(), Some(t(0)));
    assert!(Reservation::confirmed(hold(), t(0)).is_ok());
}

#[test]
fn release_clears_only_an_active_hold() {
    assert_eq!(
        written(release().decide(&tentative(), t(60) - NS)),
        Reservation::Unreserved
    );
    for (state, now) in [
        (tentative(), t(60)),
        (expired(), t(61)),
        (Reservation::Unreserved, t(0)),
    ] {
        assert_eq!(
            release().decide(&state, now),
            Decision::Refuse(ReservationError::NoActiveReservation),
            "{state:?} at {now}"
        );
    }
    assert_eq!(
        release().decide(&sold(), t(40)),
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

    for command in [reserve(), confirm(), release(), Command::Expire] {
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

/// The same with ownership and extensions: the phases alone no longer decide, the guard's
/// owner and `started_since` do too.
#[test]
fn the_whole_guard_agrees_with_the_decision_for_every_proof() {
    let samples = [
        (Reservation::Unreserved, t(10)),
        (tentative(), t(10)),
        (tentative(), t(60)),
        (expired(), t(70)),
        (sold(), t(70)),
        (
            Reservation::Tentative(Hold::new(OTHER, t(0), t(60)).unwrap()),
            t(10),
        ),
    ];
    let mut commands = vec![reserve(), Command::Expire];
    for proof in every_proof() {
        commands.push(Command::Confirm(proof));
        commands.push(Command::Release(proof));
        // Within the cap, exactly at it, and past it.
        for by in [seconds(60), seconds(890), seconds(890) + NS] {
            commands.push(extend(proof, by));
        }
    }
    for command in commands {
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
                guard_admits(&guarded, state, *now),
                decided.is_some(),
                "{command:?} on {state:?}"
            );
        }
    }
}

// Ownership.

#[test]
fn only_the_owner_confirms_releases_or_extends_a_held_ticket() {
    let now = t(10);
    for (proof, error) in strangers_proofs() {
        for command in [
            Command::Confirm(proof),
            Command::Release(proof),
            extend(proof, seconds(60)),
        ] {
            assert_eq!(
                command.decide(&tentative(), now),
                Decision::Refuse(ReservationError::Ownership(error)),
                "{command:?}"
            );
            assert_eq!(command.write(now).apply(&tentative(), now), None);
        }
    }
}

#[test]
fn a_wrong_token_is_invalid_whether_or_not_one_is_required() {
    let now = t(10);
    for proof in [Proof::token(THEIRS), Proof::new(Some(THEIRS), false)] {
        assert_eq!(
            Command::Confirm(proof).decide(&tentative(), now),
            Decision::Refuse(ReservationError::Ownership(OwnershipError::TokenInvalid))
        );
    }
}

#[test]
fn a_missing_token_is_refused_only_when_one_is_required() {
    let now = t(10);
    let required = Proof::new(None, true);
    assert_eq!(
        Command::Release(required).decide(&tentative(), now),
        Decision::Refuse(ReservationError::Ownership(OwnershipError::TokenRequired))
    );
    assert_eq!(
        written(Command::Release(Proof::new(None, false)).decide(&tentative(), now)),
        Reservation::Unreserved
    );
    assert_eq!(
        written(Command::Confirm(Proof::ANONYMOUS).decide(&tentative(), now)),
        Reservation::confirmed(hold(), now).unwrap()
    );
    assert_eq!(
        written(extend(Proof::ANONYMOUS, seconds(60)).decide(&tentative(), now)),
        Reservation::Tentative(hold().until(t(70)).unwrap())
    );
}

#[test]
fn the_owner_confirms_releases_and_extends_with_or_without_a_required_token() {
    let now = t(10);
    for proof in owners_proofs() {
        assert_eq!(
            written(Command::Confirm(proof).decide(&tentative(), now)),
            Reservation::confirmed(hold(), now).unwrap(),
            "{proof:?}"
        );
        assert_eq!(
            written(Command::Release(proof).decide(&tentative(), now)),
            Reservation::Unreserved,
            "{proof:?}"
        );
        assert_eq!(
            written(extend(proof, seconds(100)).decide(&tentative(), now)),
            Reservation::Tentative(hold().until(t(110)).unwrap()),
            "{proof:?}"
        );
    }
}

#[test]
fn confirming_a_sold_ticket_again_is_done_only_for_its_owner() {
    for proof in owners_proofs() {
        assert_eq!(
            Command::Confirm(proof).decide(&sold(), t(40)),
            Decision::AlreadyDone,
            "{proof:?}"
        );
    }
    for (proof, error) in strangers_proofs() {
        assert_eq!(
            Command::Confirm(proof).decide(&sold(), t(40)),
            Decision::Refuse(ReservationError::Ownership(error)),
            "{proof:?}"
        );
    }
}

#[test]
fn confirm_answers_what_any_reader_sees_before_checking_the_token() {
    for proof in every_proof() {
        assert_eq!(
            Command::Confirm(proof).decide(&Reservation::Unreserved, t(10)),
            Decision::Refuse(ReservationError::NoActiveReservation),
            "{proof:?}"
        );
        assert_eq!(
            Command::Confirm(proof).decide(&expired(), t(70)),
            Decision::Refuse(ReservationError::Expired { expired_at: t(60) }),
            "{proof:?}"
        );
    }
}

#[test]
fn only_the_owner_records_the_lapse_a_confirm_finds() {
    let expired_at_60 = ReservationError::Expired { expired_at: t(60) };
    for now in [t(60), t(61)] {
        for proof in owners_proofs() {
            assert_eq!(
                Command::Confirm(proof).decide(&tentative(), now),
                Decision::RecordThenRefuse {
                    record: Command::Expire,
                    error: expired_at_60,
                },
                "{proof:?} at {now}"
            );
        }
        for (proof, _) in strangers_proofs() {
            assert_eq!(
                Command::Confirm(proof).decide(&tentative(), now),
                Decision::Refuse(expired_at_60),
                "{proof:?} at {now}"
            );
        }
    }
}

#[test]
fn release_answers_what_any_reader_sees_before_checking_the_token() {
    for proof in every_proof() {
        assert_eq!(
            Command::Release(proof).decide(&sold(), t(40)),
            Decision::Refuse(ReservationError::AlreadyConfirmed {
                confirmed_at: t(30)
            }),
            "{proof:?}"
        );
        for (state, now) in [
            (Reservation::Unreserved, t(10)),
            (tentative(), t(60)),
            (expired(), t(70)),
        ] {
            assert_eq!(
                Command::Release(proof).decide(&state, now),
                Decision::Refuse(ReservationError::NoActiveReservation),
                "{proof:?} on {state:?}"
            );
        }
    }
}

#[test]
fn a_stranger_learns_nothing_of_the_extension_cap() {
    // Past the cap, a stranger is refused for the token, not for the cap.
    for (proof, error) in strangers_proofs() {
        assert_eq!(
            extend(proof, seconds(10_000)).decide(&tentative(), t(10)),
            Decision::Refuse(ReservationError::Ownership(error)),
            "{proof:?}"
        );
    }
}

// Extension.

#[test]
fn extend_moves_the_expiry_to_now_plus_by_and_keeps_the_hold() {
    let next = written(extend(Proof::token(MINE), seconds(120)).decide(&tentative(), t(30)));
    let extended = next.hold().unwrap();
    assert_eq!(extended.expires_at(), t(150));
    assert_eq!(extended.id(), OWNER.id);
    assert_eq!(extended.owner(), &MINE);
    assert_eq!(extended.created_at(), t(0));
    assert_eq!(
        next,
        Reservation::Tentative(Hold::new(OWNER, t(0), t(150)).unwrap())
    );
    assert_eq!(next.phase_at(t(150) - NS), Phase::Held);
    assert_eq!(next.phase_at(t(150)), Phase::Lapsed);
}

#[test]
fn extend_works_up_to_the_last_nanosecond_of_the_hold() {
    let next = written(extend(Proof::token(MINE), seconds(60)).decide(&tentative(), t(60) - NS));
    assert_eq!(next.expires_at(), Some(t(120) - NS));
}

#[test]
fn extend_may_reach_the_cap_exactly_but_not_pass_it() {
    // The default cap is 900 s from the hold's start: t(900).
    let at_cap = written(extend(Proof::token(MINE), seconds(870)).decide(&tentative(), t(30)));
    assert_eq!(at_cap.expires_at(), Some(t(900)));
    assert_eq!(
        extend(Proof::token(MINE), seconds(870) + NS).decide(&tentative(), t(30)),
        Decision::Refuse(ReservationError::ExtensionLimit {
            max_expires_at: t(900)
        })
    );
    assert_eq!(
        extend(Proof::token(MINE), seconds(870) + NS)
            .write(t(30))
            .apply(&tentative(), t(30)),
        None
    );
}

#[test]
fn the_cap_counts_from_the_hold_start_whatever_the_extensions_before() {
    let capped = policy().with_max_hold_seconds(120).unwrap();
    let extend_by = |by| Command::Extend {
        proof: Proof::token(MINE),
        by,
        policy: capped,
    };
    let once = written(extend_by(seconds(60)).decide(&tentative(), t(50)));
    assert_eq!(once.expires_at(), Some(t(110)));
    let twice = written(extend_by(seconds(20)).decide(&once, t(100)));
    assert_eq!(
        twice,
        Reservation::Tentative(Hold::new(OWNER, t(0), t(120)).unwrap())
    );
    assert_eq!(
        extend_by(seconds(21)).decide(&twice, t(100)),
        Decision::Refuse(ReservationError::ExtensionLimit {
            max_expires_at: t(120)
        })
    );
}

#[test]
fn extend_refuses_lapsed_expired_sold_and_unreserved_tickets() {
    for proof in every_proof() {
        let by = seconds(60);
        for (state, now) in [
            (tentative(), t(60)),
            (tentative(), t(61)),
            (expired(), t(70)),
        ] {
            assert_eq!(
                extend(proof, by).decide(&state, now),
                Decision::Refuse(ReservationError::Expired { expired_at: t(60) }),
                "{proof:?} on {state:?} at {now}"
            );
        }
        assert_eq!(
            extend(proof, by).decide(&sold(), t(40)),
            Decision::Refuse(ReservationError::AlreadyConfirmed {
                confirmed_at: t(30)
            }),
            "{proof:?}"
        );
        assert_eq!(
            extend(proof, by).decide(&Reservation::Unreserved, t(10)),
            Decision::Refuse(ReservationError::NoActiveReservation),
            "{proof:?}"
        );
    }
}

#[test]
fn an_extended_hold_keeps_out_other_reserves_until_its_new_expiry() {
    let extended = written(extend(Proof::token(MINE), seconds(100)).decide(&tentative(), t(50)));
    let theirs = Command::Reserve {
        hold: OTHER,
        policy: policy(),
    };
    assert_eq!(
        theirs.decide(&extended, t(100)),
        Decision::Refuse(ReservationError::AlreadyActive { expires_at: t(150) })
    );
    assert_eq!(
        written(theirs.decide(&extended, t(150)))
            .hold()
            .unwrap()
            .new_hold(),
        OTHER
    );
    assert_eq!(
        written(Command::Confirm(Proof::token(MINE)).decide(&extended, t(149))).confirmed_at(),
        Some(t(149))
    );
}

#[test]
fn stored_parts_carry_the_hold_owner() {
    let read = Reservation::from_parts(
        Some(ReservationStatus::Tentative),
        Some(OWNER),
        Some(t(0)),
        Some(t(60)),
        None,
    )
    .unwrap();
    assert_eq!(read, tentative());
    assert_eq!(read.hold().unwrap().new_hold(), OWNER);
    assert!(Reservation::from_parts(
        Some(ReservationStatus::Tentative),
        None,
        Some(t(0)),
        Some(t(60)),
        None
    )
    .is_err());
}

/// A clock lagging the one that placed the hold by more than `by`: `now + by` is not after
/// the hold's start. The write itself refuses that expiry (`Write::ExtendHold` stores only an
/// expiry after the hold's start, which storage checks in the same statement), so nothing
/// is written and the extension is refused as out of its bounds.
#[test]
fn an_extension_by_a_lagging_clock_writes_nothing() {
    let now = t(0) - seconds(5);
    let command = extend(Proof::token(MINE), seconds(1));
    assert_eq!(command.write(now).apply(&tentative(), now), None);
    assert!(matches!(
        command.decide(&tentative(), now),
        Decision::Refuse(ReservationError::ExtensionLimit { .. })
    ));
}
