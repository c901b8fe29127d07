//! What a listing's status filter means: each filter is a set of [`Phase`]s, so a storage
//! adapter selects tickets with the same phase predicates its guarded writes use, and
//! "available" is by construction what [`Command::Reserve`](crate::Command::Reserve)
//! writes from.

use std::fmt;
use std::str::FromStr;

use crate::command::RESERVABLE;
use crate::Phase;

/// A filter on tickets by their reservation as seen at `now`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum StatusFilter {
    /// Reservable now: never reserved (or released), expired, or held past its expiry.
    Available,
    /// Held by an active tentative hold.
    Tentative,
    /// Sold.
    Confirmed,
    /// A hold that has expired, whether or not anything has recorded it yet.
    Expired,
}

/// A text that names no [`StatusFilter`].
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unknown status {0:?} (expected one of available, tentative, confirmed, expired)")]
pub struct UnknownStatusFilter(pub String);

impl StatusFilter {
    pub const ALL: [Self; 4] = [
        Self::Available,
        Self::Tentative,
        Self::Confirmed,
        Self::Expired,
    ];

    /// The phases whose tickets this filter selects.
    pub fn phases(self) -> &'static [Phase] {
        match self {
            Self::Available => RESERVABLE,
            Self::Tentative => &[Phase::Held],
            Self::Confirmed => &[Phase::Confirmed],
            // What `Reservation::status_at` reads as EXPIRED.
            Self::Expired => &[Phase::Lapsed, Phase::Expired],
        }
    }

    /// The name a query string uses: `available`, `tentative`, `confirmed`, `expired`.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Available => "available",
            Self::Tentative => "tentative",
            Self::Confirmed => "confirmed",
            Self::Expired => "expired",
        }
    }
}

impl fmt::Display for StatusFilter {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for StatusFilter {
    type Err = UnknownStatusFilter;

    fn from_str(text: &str) -> Result<Self, Self::Err> {
        Self::ALL
            .into_iter()
            .find(|filter| filter.as_str() == text)
            .ok_or_else(|| UnknownStatusFilter(text.to_owned()))
    }
}

#[cfg(test)]
mod tests {
    use chrono::{TimeDelta, TimeZone, Utc};

    use super::*;
    use crate::{
        Command, Hold, HoldId, NewHold, Reservation, ReservationPolicy, ReservationStatus,
        TokenDigest,
    };

    const OWNER: NewHold = NewHold {
        id: HoldId::from_uuid(uuid::Uuid::from_u128(1)),
        owner: TokenDigest::from_bytes([1; 32]),
    };

    #[test]
    fn available_is_exactly_what_a_reserve_writes_from() {
        let now = Utc.with_ymd_and_hms(2026, 11, 26, 12, 0, 0).unwrap();
        let policy = ReservationPolicy::from_ttl_seconds(60).unwrap();
        assert_eq!(
            StatusFilter::Available.phases(),
            Command::Reserve {
                hold: OWNER,
                policy
            }
            .write(now)
            .from
        );
    }

    /// Each filter but `available` selects exactly the tickets whose status, as seen at
    /// `now`, has its name; and every phase belongs to some filter.
    #[test]
    fn filters_match_the_status_as_seen_now() {
        let now = Utc.with_ymd_and_hms(2026, 11, 26, 12, 0, 0).unwrap();
        let hold = |from: i64, to: i64| {
            Hold::new(
                OWNER,
                now + TimeDelta::seconds(from),
                now + TimeDelta::seconds(to),
            )
            .unwrap()
        };
        let reservations = [
            Reservation::Unreserved,
            Reservation::Tentative(hold(-10, 10)),
            Reservation::Tentative(hold(-10, 0)),
            Reservation::Expired(hold(-20, -10)),
            Reservation::confirmed(hold(-20, -10), now - TimeDelta::seconds(15)).unwrap(),
        ];
        for reservation in reservations {
            let phase = reservation.phase_at(now);
            let status = reservation.status_at(now);
            let expected = [
                (StatusFilter::Tentative, Some(ReservationStatus::Tentative)),
                (StatusFilter::Confirmed, Some(ReservationStatus::Confirmed)),
                (StatusFilter::Expired, Some(ReservationStatus::Expired)),
            ];
            for (filter, named) in expected {
                assert_eq!(
                    filter.phases().contains(&phase),
                    status == named,
                    "{filter} on {reservation:?}"
                );
            }
            assert!(StatusFilter::ALL
                .iter()
                .any(|filter| filter.phases().contains(&phase)));
        }
    }

    #[test]
    fn filters_round_trip_through_their_names() {
        for filter in StatusFilter::ALL {
            assert_eq!(filter.as_str().parse::<StatusFilter>(), Ok(filter));
        }
        for bad in ["", "Available", "TENTATIVE", "sold", "held"] {
            assert!(bad.parse::<StatusFilter>().is_err(), "{bad:?}");
        }
    }
}
