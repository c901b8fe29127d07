//! The business counters, counted by the use cases where they learn what a command did:
//! through the `metrics` facade, so the application decides where they go (and describes
//! them), and tests may install a recorder of their own.

/// A tentative hold was placed.
pub(crate) fn reservation_created() {
    metrics::counter!("reservations_created_total").increment(1);
}

/// A hold became a sale (an idempotent repeat does not count).
pub(crate) fn reservation_confirmed() {
    metrics::counter!("reservations_confirmed_total").increment(1);
}

/// A hold was given up by its client.
pub(crate) fn reservation_released() {
    metrics::counter!("reservations_released_total").increment(1);
}

/// A confirm found its hold lapsed and wrote it EXPIRED.
pub(crate) fn expired_by_confirm() {
    metrics::counter!("reservations_expired_total", "by" => "confirm").increment(1);
}

/// A sweep batch wrote EXPIRED onto `expired` lapsed holds.
pub(crate) fn expired_by_sweeper(expired: u32) {
    metrics::counter!("reservations_expired_total", "by" => "sweeper")
        .increment(u64::from(expired));
}
