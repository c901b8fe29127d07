//! The commands that change a reservation, and the rules that decide them.
//!
//! Each command is decided by [`Command::decide`], a pure function of the current state
//! and `now`. A command that succeeds by writing does so with exactly one
//! [`GuardedWrite`]: a write allowed only from certain [`Phase`]s. Storage adapters turn
//! it into a single conditional update, which makes the decision atomic without a second
//! copy of the rules: the guard's phases and the write's effect both come from here.

use crate::{Hold, Phase, Reservation, ReservationError, ReservationPolicy, Timestamp};

/// Something a client (or the expiry sweeper) asks of a ticket's reservation.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Command {
    /// Place a tentative hold lasting the policy's TTL.
    Reserve(ReservationPolicy),
    /// Turn the active hold into a sale. Idempotent.
    Confirm,
    /// Give up the active hold, making the ticket reservable again.
    Release,
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

/// The one write by which a command succeeds, allowed only from the phases in `from`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct GuardedWrite {
    pub from: &'static [Phase],
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
    /// Mark the tentative hold as expired, keeping its timestamps.
    ExpireHold,
    /// Clear the reservation.
    Clear,
}

/// The phases a ticket can be reserved from: never reserved, a lapsed hold, an expired one.
/// Also what a listing means by "available" ([`crate::StatusFilter::Available`]).
pub(crate) const RESERVABLE: &[Phase] = &[Phase::Unreserved, Phase::Lapsed, Phase::Expired];

impl Command {
    /// The write this command makes at `now`, and the phases it may make it from.
    pub fn write(&self, now: Timestamp) -> GuardedWrite {
        match self {
            Self::Reserve(policy) => GuardedWrite {
                from: RESERVABLE,
                write: Write::StartHold(Hold::starting(now, policy)),
            },
            Self::Confirm => GuardedWrite {
                from: &[Phase::Held],
                write: Write::ConfirmHold { confirmed_at: now },
            },
            Self::Release => GuardedWrite {
                from: &[Phase::Held],
                write: Write::Clear,
            },
            Self::Expire => GuardedWrite {
                from: &[Phase::Lapsed],
                write: Write::ExpireHold,
            },
        }
    }

    /// Decides this command against `current` at `now`.
    pub fn decide(&self, current: &Reservation, now: Timestamp) -> Decision {
        let guarded = self.write(now);
        if let Some(next) = guarded.apply(current, now) {
            return Decision::Write(next);
        }
        let phase = current.phase_at(now);
        match (self, current) {
            (Self::Reserve(_), Reservation::Tentative(hold)) => {
                Decision::Refuse(ReservationError::AlreadyActive {
                    expires_at: hold.expires_at(),
                })
            }
            (Self::Reserve(_) | Self::Release, Reservation::Confirmed { confirmed_at, .. }) => {
                Decision::Refuse(ReservationError::AlreadyConfirmed {
                    confirmed_at: *confirmed_at,
                })
            }
            (Self::Confirm, Reservation::Confirmed { .. }) => Decision::AlreadyDone,
            (Self::Confirm, Reservation::Tentative(hold)) if phase == Phase::Lapsed => {
                Decision::RecordThenRefuse {
                    record: Self::Expire,
                    error: ReservationError::Expired {
                        expired_at: hold.expires_at(),
                    },
                }
            }
            (Self::Confirm, Reservation::Expired(hold)) => {
                Decision::Refuse(ReservationError::Expired {
                    expired_at: hold.expires_at(),
                })
            }
            (Self::Expire, _) => Decision::Refuse(ReservationError::NothingToExpire),
            // Confirm or release with no hold, a lapsed hold or an expired one. (The phases
            // a command writes from were answered by the guarded write above.)
            _ => Decision::Refuse(ReservationError::NoActiveReservation),
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
        match (self.write, current) {
            (Write::StartHold(hold), _) => Some(Reservation::Tentative(hold)),
            (Write::Clear, _) => Some(Reservation::Unreserved),
            (Write::ConfirmHold { confirmed_at }, Reservation::Tentative(hold)) => {
                Some(Reservation::Confirmed {
                    hold: *hold,
                    confirmed_at: confirmed_at.max(hold.created_at()),
                })
            }
            (Write::ExpireHold, Reservation::Tentative(hold)) => Some(Reservation::Expired(*hold)),
            // Confirming or expiring applies only to a tentative hold; every guard that
            // carries these writes admits only tentative phases.
            (Write::ConfirmHold { .. } | Write::ExpireHold, _) => None,
        }
    }
}
