//! The use cases: create, look up, reserve, confirm and release tickets.

use ticketing_domain::{
    Clock, Command, NewTicket, ReservationPolicy, ReservationStatus, Ticket, TicketId, Timestamp,
};

use crate::{TicketError, TicketRepository};

/// A ticket as seen at one instant, so that it is rendered with the same `now` that
/// decided the command (a lapsed hold reads EXPIRED).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TicketView {
    pub ticket: Ticket,
    pub seen_at: Timestamp,
}

impl TicketView {
    pub fn status(&self) -> Option<ReservationStatus> {
        self.ticket.reservation.status_at(self.seen_at)
    }
}

/// The ticketing use cases over any repository and clock. Each call reads the clock
/// once and passes that instant down.
#[derive(Debug, Clone)]
pub struct TicketService<R, C> {
    repository: R,
    clock: C,
    policy: ReservationPolicy,
}

impl<R: TicketRepository, C: Clock> TicketService<R, C> {
    pub fn new(repository: R, clock: C, policy: ReservationPolicy) -> Self {
        Self {
            repository,
            clock,
            policy,
        }
    }

    pub fn policy(&self) -> &ReservationPolicy {
        &self.policy
    }

    pub fn repository(&self) -> &R {
        &self.repository
    }

    pub fn create_ticket(&self, ticket: &NewTicket) -> Result<TicketView, TicketError> {
        let seen_at = self.clock.now();
        let ticket = self.repository.create(ticket)?;
        Ok(TicketView { ticket, seen_at })
    }

    pub fn ticket(&self, id: TicketId) -> Result<TicketView, TicketError> {
        let seen_at = self.clock.now();
        let ticket = self.repository.find(id)?;
        Ok(TicketView { ticket, seen_at })
    }

    /// Places a tentative hold lasting the policy's TTL.
    pub fn reserve(&self, id: TicketId) -> Result<TicketView, TicketError> {
        self.run(id, Command::Reserve(self.policy))
    }

    /// Confirms the active hold; confirming a sold ticket answers it unchanged.
    pub fn confirm(&self, id: TicketId) -> Result<TicketView, TicketError> {
        self.run(id, Command::Confirm)
    }

    /// Releases the active hold, making the ticket reservable again.
    pub fn release(&self, id: TicketId) -> Result<TicketView, TicketError> {
        self.run(id, Command::Release)
    }

    fn run(&self, id: TicketId, command: Command) -> Result<TicketView, TicketError> {
        let seen_at = self.clock.now();
        let applied = self.repository.apply(id, command, seen_at)?;
        Ok(TicketView {
            ticket: applied.ticket,
            seen_at,
        })
    }
}
