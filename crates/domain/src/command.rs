//! The commands that change a reservation, and the rules that decide them.
//!
//! Each command is decided by [`Command::decide`], a pure function of the current state
//! and `now`. A command that succeeds by writing does so with exactly one
//! [`GuardedWrite`]: a write allowed only from certain [`Phase`]s (and, for a command on
//! a hold, only by its owner). Storage adapters turn it into a single conditional update,
//! which makes the decision atomic without a second copy of the rules: the guard and the
//! write's effect both come from here.

use chrono::TimeDelta;

use crate::{
    Hold, NewHold, Phase, Proof, Reservation, ReservationError, ReservationPolicy, Timestamp,
    TokenDigest,
};

/// Something a client (or the expiry sweeper) asks of a ticket's reservation.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Command {
    /// Place a tentative hold, belonging to `hold`, lasting the policy's TTL.
    Reserve {
        hold: NewHold,
        policy: ReservationPolicy,
    },
    /// Turn the active hold into a sale. Idempotent for the hold's owner.
    Confirm(Proof),
    /// Give up the active hold, making the ticket reservable again.
    Release(Proof),
    /// Make the active hold expire `by` from now, within the policy's cap on its lifetime.
    Extend {
        proof: Proof,
        by: TimeDelta,
        policy: ReservationPolicy,
    },
    /// Record that a tentative hold has lapsed (the sweeper's command).
    Expire,
}

/// What a command does to a given state.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Decision {
    /// Store `next`: the command succeeds.
    Write(Reservation),
    /// Store nothing: the command has already had its effect (confirming a sold ticket).
    AlreadyDone,
    /// Store nothing: the command is refused.
    Refuse(ReservationError),
    /// Apply `record` first, then refuse: confirming a lapsed hold records its expiry.
    RecordThenRefuse {
        record: Command,
        error: ReservationError,
    },
}

/// The one write by which a command succeeds, allowed only when the stored reservation is
/// in one of the phases `from`, its hold's token digest is `owner` (when given), and its
/// hold started no earlier than `started_since` (when given).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct GuardedWrite {
    pub from: &'static [Phase],
    pub owner: Option<TokenDigest>,
    pub started_since: Option<Timestamp>,
    pub write: Write,
}

/// The effect of a [`GuardedWrite`] on the stored state.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Write {
    /// Replace whatever is there with a new tentative hold.
    StartHold(Hold),
    /// Mark the tentative hold as sold at `confirmed_at` (or at the hold's start, if the
    /// writer's clock lags the one that placed the hold: a sale cannot precede its hold).
    ConfirmHold { confirmed_at: Timestamp },
    /// Move the tentative hold's expiry to `expires_at`, which must be after the hold's
    /// start (storage checks it in the same statement: a clock lagging the one that placed
    /// the hold could ask for less). Refused otherwise, as out of the extension's bounds.
    ExtendHold { expires_at: Timestamp },
    /// Mark the tentative hold as expired, keeping its timestamps.
    ExpireHold,
    /// Clear the reservation.
    Clear,
}

/// The phases a ticket can be reserved from: never reserved, a lapsed hold, an expired one.
/// Also what a listing means by "available" ([`crate::StatusFilter::Available`]).
pub(crate) const RESERVABLE: &[Phase] = &[Phase::Unreserved, Phase::Lapsed, Phase::Expired];

/// A command on a hold whose proof cannot succeed writes from no phase.
const HELD: &[Phase] = &[Phase::Held];
const NOWHERE: &[Phase] = &[];

impl Command {
    /// The write this command makes at `now`, and the guard it may make it under.
    pub fn write(&self, now: Timestamp) -> GuardedWrite {
        let anyone = |from, write| GuardedWrite {
            from,
            owner: None,
            started_since: None,
            write,
        };
        let owner_of = |proof: &Proof, write| GuardedWrite {
            from: if proof.can_succeed() { HELD } else { NOWHERE },
            owner: proof.presented(),
            started_since: None,
            write,
        };
        match self {
            Self::Reserve { hold, policy } => anyone(
                RESERVABLE,
                Write::StartHold(Hold::starting(*hold, now, policy)),
            ),
            Self::Confirm(proof) => owner_of(proof, Write::ConfirmHold { confirmed_at: now }),
            Self::Release(proof) => owner_of(proof, Write::Clear),
            Self::Extend { proof, by, policy } => GuardedWrite {
                // The new expiry may be no later than `created_at + max_hold`.
                started_since: Some(now + *by - policy.max_hold()),
                ..owner_of(
                    proof,
                    Write::ExtendHold {
                        expires_at: now + *by,
                    },
                )
            },
            Self::Expire => anyone(&[Phase::Lapsed], Write::ExpireHold),
        }
    }

    /// Decides this command against `current` at `now`. Refusals any reader could see
    /// for themselves (no hold, a lapsed or expired one, a sale a client tries to hold or
    /// release) come before the ownership check; nothing that writes, confirms a sale or
    /// extends a hold does.
    pub fn decide(&self, current: &Reservation, now: Timestamp) -> Decision {
        if let Some(next) = self.write(now).apply(current, now) {
            return Decision::Write(next);
        }
        let phase = current.phase_at(now);
        let refuse = |error| Decision::Refuse(error);
        let Some(hold) = current.hold() else {
            return refuse(match self {
                Self::Expire => ReservationError::NothingToExpire,
                // Reserving an unreserved ticket always writes.
                _ => ReservationError::NoActiveReservation,
            });
        };
        let expired = ReservationError::Expired {
            expired_at: hold.expires_at(),
        };
        let sold = |confirmed_at| ReservationError::AlreadyConfirmed { confirmed_at };
        let owned = |proof: &Proof| proof.check(hold.owner()).map_err(ReservationError::from);
        match (self, current) {
            (Self::Expire, _) => refuse(ReservationError::NothingToExpire),
            (Self::Reserve { .. }, Reservation::Confirmed { confirmed_at, .. }) => {
                refuse(sold(*confirmed_at))
            }
            // A lapsed or expired hold would have been replaced.
            (Self::Reserve { .. }, _) => refuse(ReservationError::AlreadyActive {
                expires_at: hold.expires_at(),
            }),
            (Self::Confirm(proof), Reservation::Confirmed { .. }) => match owned(proof) {
                Ok(()) => Decision::AlreadyDone,
                Err(error) => refuse(error),
            },
            // Only the owner records the lapse; anyone else learns what a read shows.
            (Self::Confirm(proof), Reservation::Tentative(_)) if phase == Phase::Lapsed => {
                match owned(proof) {
                    Ok(()) => Decision::RecordThenRefuse {
                        record: Self::Expire,
                        error: expired,
                    },
                    Err(_) => refuse(expired),
                }
            }
            (Self::Confirm(_) | Self::Extend { .. }, Reservation::Expired(_)) => refuse(expired),
            (Self::Extend { .. }, Reservation::Tentative(_)) if phase == Phase::Lapsed => {
                refuse(expired)
            }
            (Self::Release(_), Reservation::Tentative(_)) if phase == Phase::Lapsed => {
                refuse(ReservationError::NoActiveReservation)
            }
            (Self::Release(_), Reservation::Expired(_)) => {
                refuse(ReservationError::NoActiveReservation)
            }
            (
                Self::Release(_) | Self::Extend { .. },
                Reservation::Confirmed { confirmed_at, .. },
            ) => refuse(sold(*confirmed_at)),
            // Held, and the guarded write refused: the proof, or the extension's cap.
            (Self::Confirm(proof) | Self::Release(proof), _) => refuse(
                owned(proof)
                    .err()
                    .unwrap_or(ReservationError::NoActiveReservation),
            ),
            (Self::Extend { proof, policy, .. }, _) => refuse(owned(proof).err().unwrap_or(
                ReservationError::ExtensionLimit {
                    max_expires_at: hold.created_at() + policy.max_hold(),
                },
            )),
        }
    }
}

impl GuardedWrite {
    /// The state after this write, or `None` when the guard refuses `current` at `now`:
    /// exactly what a conditional update of the stored row does.
    pub fn apply(&self, current: &Reservation, now: Timestamp) -> Option<Reservation> {
        if !self.from.contains(&current.phase_at(now)) {
            return None;
        }
        if let Some(hold) = current.hold() {
            if self.owner.is_some_and(|owner| owner != *hold.owner()) {
                return None;
            }
            if self
                .started_since
                .is_some_and(|since| hold.created_at() < since)
            {
                return None;
            }
        }
        match (self.write, current) {
            (Write::StartHold(hold), _) => Some(Reservation::Tentative(hold)),
            (Write::Clear, _) => Some(Reservation::Unreserved),
            (Write::ConfirmHold { confirmed_at }, Reservation::Tentative(hold)) => {
                Some(Reservation::Confirmed {
                    hold: *hold,
                    confirmed_at: confirmed_at.max(hold.created_at()),
                })
            }
            (Write::ExtendHold { expires_at }, Reservation::Tentative(hold)) => {
                hold.until(expires_at).map(Reservation::Tentative)
            }
            (Write::ExpireHold, Reservation::Tentative(hold)) => Some(Reservation::Expired(*hold)),
            // Confirming, extending or expiring applies only to a tentative hold; every
            // guard that carries these writes admits only tentative phases.
            (Write::ConfirmHold { .. } | Write::ExtendHold { .. } | Write::ExpireHold, _) => None,
        }
    }
}
