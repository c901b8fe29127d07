//! How long a tentative hold lasts.

use chrono::TimeDelta;

/// The reservation rules an operator can tune: the lifetime of a tentative hold.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ReservationPolicy {
    ttl: TimeDelta,
}

/// A hold lifetime outside 1..=86 400 seconds.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("reservation TTL must be between {min} and {max} seconds, got {0}", min = ReservationPolicy::MIN_TTL_SECONDS, max = ReservationPolicy::MAX_TTL_SECONDS)]
pub struct InvalidTtl(pub i64);

impl ReservationPolicy {
    pub const MIN_TTL_SECONDS: i64 = 1;
    /// One day: a longer hold is a sale that never happened.
    pub const MAX_TTL_SECONDS: i64 = 86_400;

    pub fn from_ttl_seconds(seconds: i64) -> Result<Self, InvalidTtl> {
        if (Self::MIN_TTL_SECONDS..=Self::MAX_TTL_SECONDS).contains(&seconds) {
            Ok(Self {
                ttl: TimeDelta::seconds(seconds),
            })
        } else {
            Err(InvalidTtl(seconds))
        }
    }

    pub fn ttl(&self) -> TimeDelta {
        self.ttl
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
}
