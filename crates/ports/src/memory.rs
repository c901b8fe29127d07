//! An in-memory [`TicketRepository`] with the same guarantees as the real one: every
//! command is decided and stored under one lock. For tests of the use cases and of the
//! HTTP layer; it can also be told to fail like an unreachable database.

use std::collections::BTreeMap;
use std::sync::{Mutex, MutexGuard};

use ticketing_domain::{
    Command, Decision, EventName, HoldId, NewHold, NewTicket, Reservation, ReservationPolicy,
    Ticket, TicketId, TicketSet, Timestamp, Together,
};

use crate::{
    BestAvailable, Outcome, TicketError, TicketPage, TicketQuery, TicketRepository, TogetherOutcome,
};

/// A failure the in-memory repository can be told to answer every call with.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Fault {
    Unavailable,
    Unexpected,
}

#[derive(Debug, thiserror::Error)]
#[error("injected fault: {0:?}")]
struct InjectedFault(Fault);

#[derive(Debug, Default)]
pub struct InMemoryTicketRepository {
    state: Mutex<State>,
}

#[derive(Debug, Default)]
struct State {
    tickets: BTreeMap<TicketId, Ticket>,
    last_id: i64,
    fault: Option<Fault>,
}

impl InMemoryTicketRepository {
    pub fn new() -> Self {
        Self::default()
    }

    /// Makes every later call fail with `fault` (or succeed again, with `None`).
    pub fn set_fault(&self, fault: Option<Fault>) {
        self.lock().fault = fault;
    }

    /// Stores `reservation` on a ticket directly, bypassing the rules: for arranging tests.
    pub fn force_reservation(&self, id: TicketId, reservation: Reservation) {
        if let Some(ticket) = self.lock().tickets.get_mut(&id) {
            ticket.reservation = reservation;
        }
    }

    fn lock(&self) -> MutexGuard<'_, State> {
        // Every update below completes before the guard drops, so a poisoned lock still
        // guards a consistent map.
        self.state
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    /// Decides `command` on `ids` together and stores the result, under the one lock.
    fn decide_and_store(
        state: &mut State,
        ids: &[TicketId],
        command: Command,
        now: Timestamp,
    ) -> TogetherOutcome {
        let current: Vec<(TicketId, Reservation)> = ids
            .iter()
            .filter_map(|id| state.tickets.get(id).map(|t| (*id, t.reservation)))
            .collect();
        let (store, written) = match command.decide_together(&current, now) {
            Together::Write { next, written } => (next, Some(written)),
            Together::Refuse { refusals, records } => {
                let recorded = records.len();
                for (id, reservation) in records {
                    if let Some(ticket) = state.tickets.get_mut(&id) {
                        ticket.reservation = reservation;
                    }
                }
                return TogetherOutcome::Refused { refusals, recorded };
            }
        };
        let mut tickets = Vec::with_capacity(store.len());
        for (id, reservation) in store {
            if let Some(ticket) = state.tickets.get_mut(&id) {
                ticket.reservation = reservation;
                tickets.push(ticket.clone());
            }
        }
        if written == Some(true) {
            TogetherOutcome::Written(tickets)
        } else {
            TogetherOutcome::AlreadyDone(tickets)
        }
    }

    fn healthy(&self) -> Result<MutexGuard<'_, State>, TicketError> {
        let state = self.lock();
        match state.fault {
            None => Ok(state),
            Some(Fault::Unavailable) => {
                Err(TicketError::unavailable(InjectedFault(Fault::Unavailable)))
            }
            Some(Fault::Unexpected) => {
                Err(TicketError::unexpected(InjectedFault(Fault::Unexpected)))
            }
        }
    }
}

impl TicketRepository for InMemoryTicketRepository {
    fn create(&self, ticket: &NewTicket) -> Result<Ticket, TicketError> {
        let mut state = self.healthy()?;
        state.last_id += 1;
        let id = TicketId::new(state.last_id).map_err(TicketError::unexpected)?;
        let ticket = Ticket {
            id,
            event_name: ticket.event_name.clone(),
            seat: ticket.seat.clone(),
            reservation: Reservation::Unreserved,
        };
        state.tickets.insert(id, ticket.clone());
        Ok(ticket)
    }

    fn find(&self, id: TicketId) -> Result<Ticket, TicketError> {
        let state = self.healthy()?;
        state
            .tickets
            .get(&id)
            .cloned()
            .ok_or(TicketError::NotFound(id))
    }

    fn apply(
        &self,
        id: TicketId,
        command: Command,
        now: Timestamp,
    ) -> Result<Outcome, TicketError> {
        let mut state = self.healthy()?;
        let ticket = state
            .tickets
            .get_mut(&id)
            .ok_or(TicketError::NotFound(id))?;
        Ok(match command.decide(&ticket.reservation, now) {
            Decision::Write(next) => {
                ticket.reservation = next;
                Outcome::Written(ticket.clone())
            }
            Decision::AlreadyDone => Outcome::AlreadyDone(ticket.clone()),
            Decision::Refuse(error) => Outcome::Refused(error),
            // Under the lock nothing moves between the decision and the record.
            Decision::RecordThenRefuse { record, error } => {
                match record.decide(&ticket.reservation, now) {
                    Decision::Write(next) => {
                        ticket.reservation = next;
                        Outcome::RecordedThenRefused(error)
                    }
                    _ => Outcome::Refused(error),
                }
            }
        })
    }

    fn check_health(&self) -> Result<(), TicketError> {
        self.healthy().map(drop)
    }

    fn list(&self, query: &TicketQuery, now: Timestamp) -> Result<TicketPage, TicketError> {
        let state = self.healthy()?;
        let after = query.after.map_or(0, TicketId::get);
        let matching = state
            .tickets
            .values()
            .filter(|ticket| ticket.id.get() > after)
            .filter(|ticket| {
                query.status.is_none_or(|status| {
                    status.phases().contains(&ticket.reservation.phase_at(now))
                })
            })
            .filter(|ticket| {
                query
                    .event_name
                    .as_ref()
                    .is_none_or(|name| name == &ticket.event_name)
            })
            .take(query.limit.get() as usize + 1)
            .cloned()
            .collect();
        Ok(TicketPage::from_one_more(matching, query.limit))
    }

    fn expire_lapsed(&self, now: Timestamp, limit: u32) -> Result<u32, TicketError> {
        let mut state = self.healthy()?;
        // Earliest expiry first, as the real sweeper picks them.
        let mut lapsed: Vec<(Option<Timestamp>, TicketId, Reservation)> = state
            .tickets
            .values()
            .filter_map(
                |ticket| match Command::Expire.decide(&ticket.reservation, now) {
                    Decision::Write(next) => {
                        Some((ticket.reservation.expires_at(), ticket.id, next))
                    }
                    _ => None,
                },
            )
            .collect();
        lapsed.sort_unstable_by_key(|(expires_at, id, _)| (*expires_at, *id));
        lapsed.truncate(limit as usize);
        for (_, id, next) in &lapsed {
            if let Some(ticket) = state.tickets.get_mut(id) {
                ticket.reservation = *next;
            }
        }
        u32::try_from(lapsed.len()).map_err(TicketError::unexpected)
    }

    fn find_hold(&self, hold: HoldId) -> Result<Vec<Ticket>, TicketError> {
        let state = self.healthy()?;
        Ok(state
            .tickets
            .values()
            .filter(|ticket| carries(ticket, hold))
            .cloned()
            .collect())
    }

    fn apply_together(
        &self,
        tickets: &TicketSet,
        command: Command,
        now: Timestamp,
    ) -> Result<TogetherOutcome, TicketError> {
        let mut state = self.healthy()?;
        let missing: Vec<TicketId> = tickets
            .ids()
            .iter()
            .filter(|id| !state.tickets.contains_key(id))
            .copied()
            .collect();
        if !missing.is_empty() {
            return Err(TicketError::TicketsNotFound(missing));
        }
        Ok(Self::decide_and_store(
            &mut state,
            tickets.ids(),
            command,
            now,
        ))
    }

    fn apply_to_hold(
        &self,
        hold: HoldId,
        command: Command,
        now: Timestamp,
    ) -> Result<TogetherOutcome, TicketError> {
        let mut state = self.healthy()?;
        let ids: Vec<TicketId> = state
            .tickets
            .values()
            .filter(|ticket| carries(ticket, hold))
            .map(|ticket| ticket.id)
            .collect();
        if ids.is_empty() {
            return Err(TicketError::HoldNotFound(hold));
        }
        Ok(Self::decide_and_store(&mut state, &ids, command, now))
    }

    fn hold_best_available(
        &self,
        event: &EventName,
        quantity: usize,
        hold: NewHold,
        policy: &ReservationPolicy,
        now: Timestamp,
    ) -> Result<BestAvailable, TicketError> {
        let mut state = self.healthy()?;
        let reservable = Command::Reserve {
            hold,
            policy: *policy,
        }
        .write(now)
        .from;
        let ids: Vec<TicketId> = state
            .tickets
            .values()
            .filter(|ticket| &ticket.event_name == event)
            .filter(|ticket| reservable.contains(&ticket.reservation.phase_at(now)))
            .map(|ticket| ticket.id)
            .take(quantity)
            .collect();
        if ids.len() < quantity {
            return Ok(BestAvailable::TooFew {
                available: ids.len(),
            });
        }
        let command = Command::Reserve {
            hold,
            policy: *policy,
        };
        match Self::decide_and_store(&mut state, &ids, command, now) {
            TogetherOutcome::Written(tickets) => Ok(BestAvailable::Held(tickets)),
            // Every ticket picked was reservable under the same lock.
            other => Err(TicketError::unexpected(format!(
                "best available picked tickets it could not hold: {other:?}"
            ))),
        }
    }
}

/// Whether `ticket` carries hold `hold` (in any state).
fn carries(ticket: &Ticket, hold: HoldId) -> bool {
    ticket
        .reservation
        .hold()
        .is_some_and(|carried| carried.id() == hold)
}
