//! The business counters, counted by the use cases where they learn what a command did:
//! through the `metrics` facade, so the application decides where they go (and describes
//! them), and tests may install a recorder of their own. Counts are of tickets, except
//! `holds_created_total`.

/// How a hold was asked for: the `kind` label of `holds_created_total`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum HoldKind {
    /// One ticket, on the seed's route.
    Ticket,
    /// A list of ticket ids.
    Tickets,
    /// The lowest-id reservable tickets of an event.
    BestAvailable,
}

impl HoldKind {
    fn label(self) -> &'static str {
        match self {
            Self::Ticket => "ticket",
            Self::Tickets => "tickets",
            Self::BestAvailable => "best_available",
        }
    }
}

/// A hold of `tickets` tickets was placed.
pub(crate) fn hold_created(kind: HoldKind, tickets: usize) {
    metrics::counter!("holds_created_total", "kind" => kind.label()).increment(1);
    metrics::histogram!("hold_tickets").record(tickets as f64);
    metrics::counter!("reservations_created_total").increment(tickets as u64);
}

/// `tickets` holds became sales (an idempotent repeat does not count).
pub(crate) fn reservation_confirmed(tickets: usize) {
    metrics::counter!("reservations_confirmed_total").increment(tickets as u64);
}

/// `tickets` holds were given up by their client.
pub(crate) fn reservation_released(tickets: usize) {
    metrics::counter!("reservations_released_total").increment(tickets as u64);
}

/// A confirm found `tickets` holds lapsed and wrote them EXPIRED.
pub(crate) fn expired_by_confirm(tickets: usize) {
    if tickets > 0 {
        metrics::counter!("reservations_expired_total", "by" => "confirm")
            .increment(tickets as u64);
    }
}

/// A sweep batch wrote EXPIRED onto `expired` lapsed holds.
pub(crate) fn expired_by_sweeper(expired: u32) {
    metrics::counter!("reservations_expired_total", "by" => "sweeper")
        .increment(u64::from(expired));
}
