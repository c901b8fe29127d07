//! Commands on several tickets at once, all or nothing: a hold of several tickets, and
//! the confirm, release or extension of such a hold.

use crate::{Command, Decision, Reservation, ReservationError, TicketId, Timestamp};

/// The distinct tickets one request asks to hold together, in ascending id order: the
/// order every adapter locks them in, so that two overlapping holds never deadlock.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TicketSet(Vec<TicketId>);

/// Why a list of ticket ids cannot be held together.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum InvalidTicketSet {
    #[error("a hold needs at least one ticket")]
    Empty,
    #[error("a hold may cover at most {max} tickets, got {got}")]
    TooMany { max: usize, got: usize },
    #[error("ticket {0} is listed more than once")]
    Duplicate(TicketId),
}

impl TicketSet {
    /// The tickets `ids` names, at most `max` of them, none twice.
    pub fn new(ids: &[TicketId], max: usize) -> Result<Self, InvalidTicketSet> {
        Self::check_size(ids.len(), max)?;
        let mut sorted = ids.to_vec();
        sorted.sort_unstable();
        if let Some(pair) = sorted.windows(2).find(|pair| pair[0] == pair[1]) {
            return Err(InvalidTicketSet::Duplicate(pair[0]));
        }
        Ok(Self(sorted))
    }

    /// Whether a hold of `count` tickets is allowed where a hold covers at most `max`:
    /// for a list of ids, and for best available's quantity alike.
    pub fn check_size(count: usize, max: usize) -> Result<(), InvalidTicketSet> {
        match count {
            0 => Err(InvalidTicketSet::Empty),
            count if count > max => Err(InvalidTicketSet::TooMany { max, got: count }),
            _ => Ok(()),
        }
    }

    /// The ids, ascending.
    pub fn ids(&self) -> &[TicketId] {
        &self.0
    }

    pub fn len(&self) -> usize {
        self.0.len()
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
}

/// What one command does to several tickets decided together.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Together {
    /// Every ticket accepts the command: store `next` (each ticket's new state, unchanged
    /// for tickets where the command had already had its effect). `written` is false when
    /// no ticket changed at all (confirming a sold hold again).
    Write {
        next: Vec<(TicketId, Reservation)>,
        written: bool,
    },
    /// Some tickets refuse: store only `records` (the expiry of lapsed holds a confirm
    /// found), change nothing else, and answer every refusal.
    Refuse {
        refusals: Vec<(TicketId, ReservationError)>,
        records: Vec<(TicketId, Reservation)>,
    },
}

impl Command {
    /// Decides this command for every ticket of `current` at `now`, all or nothing: it
    /// succeeds only if it succeeds for each ticket alone.
    pub fn decide_together(&self, current: &[(TicketId, Reservation)], now: Timestamp) -> Together {
        let mut next = Vec::with_capacity(current.len());
        let mut written = false;
        let mut refusals = Vec::new();
        let mut records = Vec::new();
        for (id, reservation) in current {
            match self.decide(reservation, now) {
                Decision::Write(state) => {
                    next.push((*id, state));
                    written = true;
                }
                Decision::AlreadyDone => next.push((*id, *reservation)),
                Decision::Refuse(error) => refusals.push((*id, error)),
                Decision::RecordThenRefuse { record, error } => {
                    if let Decision::Write(state) = record.decide(reservation, now) {
                        records.push((*id, state));
                    }
                    refusals.push((*id, error));
                }
            }
        }
        if refusals.is_empty() {
            Together::Write { next, written }
        } else {
            Together::Refuse { refusals, records }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ids(values: &[i64]) -> Vec<TicketId> {
        values.iter().map(|&v| TicketId::new(v).unwrap()).collect()
    }

    #[test]
    fn a_ticket_set_is_sorted_distinct_and_bounded() {
        let set = TicketSet::new(&ids(&[3, 1, 2]), 3).unwrap();
        assert_eq!(set.ids(), ids(&[1, 2, 3]).as_slice());
        assert_eq!(TicketSet::new(&[], 3), Err(InvalidTicketSet::Empty));
        assert_eq!(
            TicketSet::new(&ids(&[1, 2, 3, 4]), 3),
            Err(InvalidTicketSet::TooMany { max: 3, got: 4 })
        );
        assert_eq!(
            TicketSet::new(&ids(&[2, 1, 2]), 3),
            Err(InvalidTicketSet::Duplicate(TicketId::new(2).unwrap()))
        );
    }
}
