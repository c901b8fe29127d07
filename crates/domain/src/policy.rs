//! How long a tentative hold lasts, how far it may be extended, and how many tickets one
//! hold may cover.

use chrono::TimeDelta;

/// The reservation rules an operator can tune.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ReservationPolicy {
    ttl: TimeDelta,
    max_hold: TimeDelta,
    max_tickets_per_hold: usize,
}

/// A hold lifetime outside 1..=86 400 seconds.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("reservation TTL must be between {min} and {max} seconds, got {0}", min = ReservationPolicy::MIN_TTL_SECONDS, max = ReservationPolicy::MAX_TTL_SECONDS)]
pub struct InvalidTtl(pub i64);

/// A cap on a hold's total lifetime below its TTL or above a day.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("the longest a hold may last must be between the TTL ({ttl} s) and {max} seconds, got {got}", max = ReservationPolicy::MAX_TTL_SECONDS)]
pub struct InvalidMaxHold {
    pub ttl: i64,
    pub got: i64,
}

/// A number of tickets per hold outside 1..=1000.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("tickets per hold must be between 1 and {max}, got {0}", max = ReservationPolicy::MAX_TICKETS_PER_HOLD)]
pub struct InvalidTicketsPerHold(pub usize);

/// An extension outside 1..=`max_hold` seconds.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("an extension must be between 1 and {max} seconds, got {got}")]
pub struct InvalidExtension {
    pub max: i64,
    pub got: i64,
}

impl ReservationPolicy {
    pub const MIN_TTL_SECONDS: i64 = 1;
    /// One day: a longer hold is a sale that never happened.
    pub const MAX_TTL_SECONDS: i64 = 86_400;
    /// The default cap on a hold's total lifetime (seats.io's default is 15 minutes).
    pub const DEFAULT_MAX_HOLD_SECONDS: i64 = 900;
    pub const DEFAULT_TICKETS_PER_HOLD: usize = 10;
    /// A hold is one transaction locking its rows: keep it a shopping basket.
    pub const MAX_TICKETS_PER_HOLD: usize = 1_000;

    /// Holds of `seconds`, extensible to the default cap (or the TTL, if longer), of up to
    /// the default number of tickets.
    pub fn from_ttl_seconds(seconds: i64) -> Result<Self, InvalidTtl> {
        if (Self::MIN_TTL_SECONDS..=Self::MAX_TTL_SECONDS).contains(&seconds) {
            let ttl = TimeDelta::seconds(seconds);
            Ok(Self {
                ttl,
                max_hold: ttl.max(TimeDelta::seconds(Self::DEFAULT_MAX_HOLD_SECONDS)),
                max_tickets_per_hold: Self::DEFAULT_TICKETS_PER_HOLD,
            })
        } else {
            Err(InvalidTtl(seconds))
        }
    }

    /// The same rules with holds lasting at most `seconds` in all, extensions included.
    pub fn with_max_hold_seconds(self, seconds: i64) -> Result<Self, InvalidMaxHold> {
        let ttl = self.ttl.num_seconds();
        if (ttl..=Self::MAX_TTL_SECONDS).contains(&seconds) {
            Ok(Self {
                max_hold: TimeDelta::seconds(seconds),
                ..self
            })
        } else {
            Err(InvalidMaxHold { ttl, got: seconds })
        }
    }

    /// The same rules with at most `count` tickets per hold.
    pub fn with_max_tickets_per_hold(self, count: usize) -> Result<Self, InvalidTicketsPerHold> {
        if (1..=Self::MAX_TICKETS_PER_HOLD).contains(&count) {
            Ok(Self {
                max_tickets_per_hold: count,
                ..self
            })
        } else {
            Err(InvalidTicketsPerHold(count))
        }
    }

    pub fn ttl(&self) -> TimeDelta {
        self.ttl
    }

    /// The longest a hold may last from its creation, extensions included.
    pub fn max_hold(&self) -> TimeDelta {
        self.max_hold
    }

    pub fn max_tickets_per_hold(&self) -> usize {
        self.max_tickets_per_hold
    }

    /// An extension of `seconds` from now, which may be no longer than a whole hold.
    pub fn extension(&self, seconds: i64) -> Result<TimeDelta, InvalidExtension> {
        let max = self.max_hold.num_seconds();
        if (1..=max).contains(&seconds) {
            Ok(TimeDelta::seconds(seconds))
        } else {
            Err(InvalidExtension { max, got: seconds })
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ttl_is_one_second_to_one_day() {
        assert_eq!(
            ReservationPolicy::from_ttl_seconds(1).unwrap().ttl(),
            TimeDelta::seconds(1)
        );
        assert_eq!(
            ReservationPolicy::from_ttl_seconds(86_400).unwrap().ttl(),
            TimeDelta::days(1)
        );
        for bad in [0, -5, 86_401, i64::MAX, i64::MIN] {
            assert_eq!(
                ReservationPolicy::from_ttl_seconds(bad),
                Err(InvalidTtl(bad))
            );
        }
    }

    #[test]
    fn a_hold_lasts_at_most_its_cap_which_is_at_least_its_ttl() {
        let short = ReservationPolicy::from_ttl_seconds(60).unwrap();
        assert_eq!(short.max_hold(), TimeDelta::seconds(900));
        let long = ReservationPolicy::from_ttl_seconds(3_600).unwrap();
        assert_eq!(long.max_hold(), TimeDelta::seconds(3_600));
        assert_eq!(
            short.with_max_hold_seconds(59),
            Err(InvalidMaxHold { ttl: 60, got: 59 })
        );
        assert!(short.with_max_hold_seconds(86_401).is_err());
        let capped = short.with_max_hold_seconds(120).unwrap();
        assert_eq!(capped.extension(120), Ok(TimeDelta::seconds(120)));
        for bad in [0, -1, 121] {
            assert_eq!(
                capped.extension(bad),
                Err(InvalidExtension { max: 120, got: bad })
            );
        }
    }

    #[test]
    fn a_hold_covers_one_to_a_thousand_tickets() {
        let policy = ReservationPolicy::from_ttl_seconds(60).unwrap();
        assert_eq!(policy.max_tickets_per_hold(), 10);
        assert!(policy.with_max_tickets_per_hold(0).is_err());
        assert!(policy.with_max_tickets_per_hold(1_001).is_err());
        assert_eq!(
            policy
                .with_max_tickets_per_hold(1_000)
                .unwrap()
                .max_tickets_per_hold(),
            1_000
        );
    }
}
