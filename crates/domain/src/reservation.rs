//! The reservation state of a ticket, and how it reads at a given instant.

use std::fmt;
use std::str::FromStr;

use crate::{HoldId, OwnershipError, ReservationPolicy, Timestamp, TokenDigest};

/// A hold on a ticket: whose it is (`id`, and the digest of the token that proves it) and
/// its lifetime: it starts at `created_at` and is active while `now < expires_at`; at
/// `expires_at` exactly it has expired. The tickets of one hold share all four.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Hold {
    id: HoldId,
    owner: TokenDigest,
    created_at: Timestamp,
    expires_at: Timestamp,
}

/// Who a hold about to be placed belongs to: the caller mints the id and the token.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct NewHold {
    pub id: HoldId,
    pub owner: TokenDigest,
}

/// State read back from storage that no sequence of commands could have produced.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum InvalidReservation {
    #[error("a hold must expire after it starts (created {created_at}, expires {expires_at})")]
    ExpiresBeforeCreated {
        created_at: Timestamp,
        expires_at: Timestamp,
    },
    #[error("a sale must be confirmed while its hold is active (confirmed {confirmed_at})")]
    ConfirmedOutsideHold { confirmed_at: Timestamp },
    #[error("reservation status {status:?} does not match the timestamps present")]
    InconsistentTimestamps { status: Option<ReservationStatus> },
    #[error("unknown reservation status {0:?}")]
    UnknownStatus(String),
}

impl Hold {
    pub fn new(
        hold: NewHold,
        created_at: Timestamp,
        expires_at: Timestamp,
    ) -> Result<Self, InvalidReservation> {
        if created_at < expires_at {
            Ok(Self {
                id: hold.id,
                owner: hold.owner,
                created_at,
                expires_at,
            })
        } else {
            Err(InvalidReservation::ExpiresBeforeCreated {
                created_at,
                expires_at,
            })
        }
    }

    /// A hold placed at `now` under `policy`.
    pub fn starting(hold: NewHold, now: Timestamp, policy: &ReservationPolicy) -> Self {
        // A TTL of at least one second keeps `created_at < expires_at`.
        Self {
            id: hold.id,
            owner: hold.owner,
            created_at: now,
            expires_at: now + policy.ttl(),
        }
    }

    /// The same hold, expiring at `expires_at` instead; `None` if that is not after its start.
    pub fn until(&self, expires_at: Timestamp) -> Option<Self> {
        (self.created_at < expires_at).then_some(Self {
            expires_at,
            ..*self
        })
    }

    pub fn id(&self) -> HoldId {
        self.id
    }

    /// The digest of the token that proves this hold is the caller's.
    pub fn owner(&self) -> &TokenDigest {
        &self.owner
    }

    /// Who this hold belongs to.
    pub fn new_hold(&self) -> NewHold {
        NewHold {
            id: self.id,
            owner: self.owner,
        }
    }

    pub fn created_at(&self) -> Timestamp {
        self.created_at
    }

    pub fn expires_at(&self) -> Timestamp {
        self.expires_at
    }

    pub fn is_active_at(&self, now: Timestamp) -> bool {
        now < self.expires_at
    }
}

/// The reservation state of a ticket. Each variant carries exactly the timestamps that
/// state has, so a status without its timestamps cannot be written down.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub enum Reservation {
    /// Never reserved, or released: anyone may place a hold.
    #[default]
    Unreserved,
    /// Held for one client until `hold.expires_at()`; may have lapsed without anyone
    /// having written so yet (see [`Reservation::phase_at`]).
    Tentative(Hold),
    /// Sold. Nothing changes a confirmed reservation.
    Confirmed { hold: Hold, confirmed_at: Timestamp },
    /// A hold that lapsed and was recorded as such.
    Expired(Hold),
}

/// A reservation status as the API and the database spell it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ReservationStatus {
    Tentative,
    Confirmed,
    Expired,
}

impl ReservationStatus {
    pub const ALL: [Self; 3] = [Self::Tentative, Self::Confirmed, Self::Expired];

    pub fn as_str(self) -> &'static str {
        match self {
            Self::Tentative => "TENTATIVE",
            Self::Confirmed => "CONFIRMED",
            Self::Expired => "EXPIRED",
        }
    }
}

impl fmt::Display for ReservationStatus {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for ReservationStatus {
    type Err = InvalidReservation;

    fn from_str(text: &str) -> Result<Self, Self::Err> {
        Self::ALL
            .into_iter()
            .find(|status| status.as_str() == text)
            .ok_or_else(|| InvalidReservation::UnknownStatus(text.to_owned()))
    }
}

/// Where a reservation stands at an instant: the one thing the rules look at.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Phase {
    /// Never reserved, or released.
    Unreserved,
    /// A tentative hold that is still active.
    Held,
    /// A tentative hold past its expiry that nothing has recorded as expired yet.
    Lapsed,
    /// A hold recorded as expired.
    Expired,
    /// Sold.
    Confirmed,
}

impl Phase {
    pub const ALL: [Self; 5] = [
        Self::Unreserved,
        Self::Held,
        Self::Lapsed,
        Self::Expired,
        Self::Confirmed,
    ];
}

/// Why the rules refuse a command.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum ReservationError {
    #[error("the ticket is already held until {expires_at}")]
    AlreadyActive { expires_at: Timestamp },
    #[error("the ticket was already sold at {confirmed_at}")]
    AlreadyConfirmed { confirmed_at: Timestamp },
    #[error("the hold on the ticket expired at {expired_at}")]
    Expired { expired_at: Timestamp },
    #[error("the ticket has no active hold")]
    NoActiveReservation,
    #[error("the ticket has no lapsed hold to expire")]
    NothingToExpire,
    #[error(transparent)]
    Ownership(#[from] OwnershipError),
    #[error("a hold may last until {max_expires_at} at the latest")]
    ExtensionLimit { max_expires_at: Timestamp },
}

impl Reservation {
    /// Rebuilds a reservation from its stored columns, refusing any combination that the
    /// rules cannot produce (a row that cannot be converted is an error, never a default).
    pub fn from_parts(
        status: Option<ReservationStatus>,
        hold: Option<NewHold>,
        created_at: Option<Timestamp>,
        expires_at: Option<Timestamp>,
        confirmed_at: Option<Timestamp>,
    ) -> Result<Self, InvalidReservation> {
        use ReservationStatus as S;
        let inconsistent = || InvalidReservation::InconsistentTimestamps { status };
        match (status, hold, created_at, expires_at, confirmed_at) {
            (None, None, None, None, None) => Ok(Self::Unreserved),
            (Some(S::Tentative), Some(hold), Some(created), Some(expires), None) => {
                Ok(Self::Tentative(Hold::new(hold, created, expires)?))
            }
            (Some(S::Expired), Some(hold), Some(created), Some(expires), None) => {
                Ok(Self::Expired(Hold::new(hold, created, expires)?))
            }
            (Some(S::Confirmed), Some(hold), Some(created), Some(expires), Some(confirmed_at)) => {
                Self::confirmed(Hold::new(hold, created, expires)?, confirmed_at)
            }
            _ => Err(inconsistent()),
        }
    }

    /// A sale of `hold`, confirmed while the hold was active.
    pub fn confirmed(hold: Hold, confirmed_at: Timestamp) -> Result<Self, InvalidReservation> {
        if hold.created_at <= confirmed_at && confirmed_at < hold.expires_at {
            Ok(Self::Confirmed { hold, confirmed_at })
        } else {
            Err(InvalidReservation::ConfirmedOutsideHold { confirmed_at })
        }
    }

    pub fn phase_at(&self, now: Timestamp) -> Phase {
        match self {
            Self::Unreserved => Phase::Unreserved,
            Self::Tentative(hold) if hold.is_active_at(now) => Phase::Held,
            Self::Tentative(_) => Phase::Lapsed,
            Self::Expired(_) => Phase::Expired,
            Self::Confirmed { .. } => Phase::Confirmed,
        }
    }

    /// The status as written: a lapsed hold still reads TENTATIVE here.
    pub fn stored_status(&self) -> Option<ReservationStatus> {
        match self {
            Self::Unreserved => None,
            Self::Tentative(_) => Some(ReservationStatus::Tentative),
            Self::Confirmed { .. } => Some(ReservationStatus::Confirmed),
            Self::Expired(_) => Some(ReservationStatus::Expired),
        }
    }

    /// The status as seen at `now`: a tentative hold past its expiry reads EXPIRED even
    /// before anything has recorded it.
    pub fn status_at(&self, now: Timestamp) -> Option<ReservationStatus> {
        match self.phase_at(now) {
            Phase::Unreserved => None,
            Phase::Held => Some(ReservationStatus::Tentative),
            Phase::Lapsed | Phase::Expired => Some(ReservationStatus::Expired),
            Phase::Confirmed => Some(ReservationStatus::Confirmed),
        }
    }

    pub fn hold(&self) -> Option<&Hold> {
        match self {
            Self::Unreserved => None,
            Self::Tentative(hold) | Self::Expired(hold) | Self::Confirmed { hold, .. } => {
                Some(hold)
            }
        }
    }

    pub fn created_at(&self) -> Option<Timestamp> {
        self.hold().map(Hold::created_at)
    }

    pub fn expires_at(&self) -> Option<Timestamp> {
        self.hold().map(Hold::expires_at)
    }

    pub fn confirmed_at(&self) -> Option<Timestamp> {
        match self {
            Self::Confirmed { confirmed_at, .. } => Some(*confirmed_at),
            _ => None,
        }
    }
}

#[cfg(test)]
mod tests {
    use chrono::{TimeDelta, TimeZone, Utc};

    use super::*;

    const OWNER: NewHold = NewHold {
        id: HoldId::from_uuid(uuid::Uuid::from_u128(7)),
        owner: TokenDigest::from_bytes([7; 32]),
    };

    fn at(seconds: i64) -> Timestamp {
        Utc.with_ymd_and_hms(2026, 11, 26, 12, 0, 0).unwrap() + TimeDelta::seconds(seconds)
    }

    #[test]
    fn a_hold_is_active_strictly_before_it_expires() {
        let hold = Hold::new(OWNER, at(0), at(60)).unwrap();
        let nanosecond = TimeDelta::nanoseconds(1);
        assert!(hold.is_active_at(at(60) - nanosecond));
        assert!(!hold.is_active_at(at(60)));
        assert!(!hold.is_active_at(at(60) + nanosecond));
    }

    #[test]
    fn a_hold_must_end_after_it_starts() {
        assert!(Hold::new(OWNER, at(0), at(0)).is_err());
        assert!(Hold::new(OWNER, at(1), at(0)).is_err());
    }

    #[test]
    fn statuses_read_as_seen_at_now() {
        let hold = Hold::new(OWNER, at(0), at(60)).unwrap();
        let tentative = Reservation::Tentative(hold);
        assert_eq!(
            tentative.status_at(at(59)),
            Some(ReservationStatus::Tentative)
        );
        assert_eq!(
            tentative.status_at(at(60)),
            Some(ReservationStatus::Expired)
        );
        assert_eq!(
            tentative.stored_status(),
            Some(ReservationStatus::Tentative)
        );
        assert_eq!(Reservation::Unreserved.status_at(at(0)), None);
        let sold = Reservation::confirmed(hold, at(30)).unwrap();
        assert_eq!(
            sold.status_at(at(1_000)),
            Some(ReservationStatus::Confirmed)
        );
    }

    #[test]
    fn stored_parts_convert_only_when_consistent() {
        use ReservationStatus::*;
        let (c, e, k) = (Some(at(0)), Some(at(60)), Some(at(30)));
        let o = Some(OWNER);
        assert_eq!(
            Reservation::from_parts(None, None, None, None, None),
            Ok(Reservation::Unreserved)
        );
        assert!(Reservation::from_parts(Some(Tentative), o, c, e, None).is_ok());
        assert!(Reservation::from_parts(Some(Expired), o, c, e, None).is_ok());
        assert!(Reservation::from_parts(Some(Confirmed), o, c, e, k).is_ok());

        let refused = [
            (None, None, c, None, None),
            (None, o, None, None, None),
            (Some(Tentative), None, c, e, None),
            (Some(Tentative), o, c, None, None),
            (Some(Tentative), o, c, e, k),
            (Some(Confirmed), o, c, e, None),
            (Some(Confirmed), None, c, e, k),
            (Some(Expired), o, None, e, None),
        ];
        for (status, hold, created, expires, confirmed) in refused {
            assert!(
                Reservation::from_parts(status, hold, created, expires, confirmed).is_err(),
                "{status:?} {hold:?} {created:?} {expires:?} {confirmed:?}"
            );
        }
        assert!(Reservation::from_parts(Some(Tentative), o, e, c, None).is_err());
        let late = Some(at(60));
        assert!(Reservation::from_parts(Some(Confirmed), o, c, e, late).is_err());
        let early = Some(at(-1));
        assert!(Reservation::from_parts(Some(Confirmed), o, c, e, early).is_err());
    }

    #[test]
    fn statuses_round_trip_through_their_names() {
        for status in ReservationStatus::ALL {
            assert_eq!(status.as_str().parse::<ReservationStatus>(), Ok(status));
        }
        assert!("tentative".parse::<ReservationStatus>().is_err());
    }
}
