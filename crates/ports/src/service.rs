//! The use cases: create, look up, reserve, confirm and release tickets, list them, and
//! sweep lapsed holds. They count what they change (see `counters`).

use ticketing_domain::{
    Clock, Command, NewTicket, ReservationPolicy, ReservationStatus, Ticket, TicketId, Timestamp,
};

use crate::counters;
use crate::{Outcome, TicketError, TicketQuery, TicketRepository};

/// A ticket as seen at one instant, so that it is rendered with the same `now` that
/// decided the command (a lapsed hold reads EXPIRED).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TicketView {
    pub ticket: Ticket,
    pub seen_at: Timestamp,
    /// Whether the use case changed the stored ticket: false for a lookup and for an
    /// idempotent repeat (confirming a sold ticket).
    pub written: bool,
}

impl TicketView {
    pub fn status(&self) -> Option<ReservationStatus> {
        self.ticket.reservation.status_at(self.seen_at)
    }
}

/// A page of a listing, each ticket seen at the instant the listing read the clock.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TicketPageView {
    pub tickets: Vec<TicketView>,
    /// The id to list after for the next page; `None` on the last page.
    pub next_after: Option<TicketId>,
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

    pub fn create_ticket(&self, ticket: &NewTicket) -> Result<TicketView, TicketError> {
        let seen_at = self.clock.now();
        let ticket = self.repository.create(ticket)?;
        Ok(TicketView {
            ticket,
            seen_at,
            written: true,
        })
    }

    pub fn ticket(&self, id: TicketId) -> Result<TicketView, TicketError> {
        let seen_at = self.clock.now();
        let ticket = self.repository.find(id)?;
        Ok(TicketView {
            ticket,
            seen_at,
            written: false,
        })
    }

    /// Places a tentative hold lasting the policy's TTL.
    pub fn reserve(&self, id: TicketId) -> Result<TicketView, TicketError> {
        let view = self.run(id, Command::Reserve(self.policy))?;
        counters::reservation_created();
        Ok(view)
    }

    /// Confirms the active hold; confirming a sold ticket answers it unchanged.
    pub fn confirm(&self, id: TicketId) -> Result<TicketView, TicketError> {
        let view = self.run(id, Command::Confirm)?;
        if view.written {
            counters::reservation_confirmed();
        }
        Ok(view)
    }

    /// Releases the active hold, making the ticket reservable again.
    pub fn release(&self, id: TicketId) -> Result<TicketView, TicketError> {
        let view = self.run(id, Command::Release)?;
        counters::reservation_released();
        Ok(view)
    }

    /// A page of tickets, with statuses as seen now.
    pub fn list_tickets(&self, query: &TicketQuery) -> Result<TicketPageView, TicketError> {
        let seen_at = self.clock.now();
        let page = self.repository.list(query, seen_at)?;
        Ok(TicketPageView {
            tickets: page
                .tickets
                .into_iter()
                .map(|ticket| TicketView {
                    ticket,
                    seen_at,
                    written: false,
                })
                .collect(),
            next_after: page.next_after,
        })
    }

    /// Readiness: whether storage answers now.
    pub fn check_health(&self) -> Result<(), TicketError> {
        self.repository.check_health()
    }

    /// The sweeper's use case: writes EXPIRED onto at most `batch_size` holds that have
    /// lapsed by now; answers how many.
    pub fn expire_lapsed_holds(&self, batch_size: u32) -> Result<u32, TicketError> {
        let now = self.clock.now();
        let expired = self.repository.expire_lapsed(now, batch_size)?;
        counters::expired_by_sweeper(expired);
        Ok(expired)
    }

    fn run(&self, id: TicketId, command: Command) -> Result<TicketView, TicketError> {
        let seen_at = self.clock.now();
        let (ticket, written) = match self.repository.apply(id, command, seen_at)? {
            Outcome::Written(ticket) => (ticket, true),
            Outcome::AlreadyDone(ticket) => (ticket, false),
            Outcome::Refused(error) => return Err(error.into()),
            // Only a confirm records before refusing: the expiry of the hold it found lapsed.
            Outcome::RecordedThenRefused(error) => {
                counters::expired_by_confirm();
                return Err(error.into());
            }
        };
        Ok(TicketView {
            ticket,
            seen_at,
            written,
        })
    }
}
