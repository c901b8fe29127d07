//! The use cases: create, look up, reserve, confirm and release tickets; hold several at
//! once, by id or best available, and confirm, release or extend such a hold; list
//! tickets, and sweep lapsed holds. They count what they change (see `counters`).

use ticketing_domain::{
    Clock, Command, EventName, Hold, HoldId, NewHold, NewTicket, Proof, ReservationPolicy,
    ReservationStatus, Ticket, TicketId, TicketSet, Timestamp,
};

use crate::counters::{self, HoldKind};
use crate::{
    BestAvailable, HoldToken, Outcome, TicketError, TicketQuery, TicketRepository, TogetherOutcome,
};

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

/// A hold and its tickets, seen at one instant.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HoldView {
    pub id: HoldId,
    /// The hold's lifetime, shared by its tickets; `None` once released (its tickets no
    /// longer carry it).
    pub created_at: Option<Timestamp>,
    pub expires_at: Option<Timestamp>,
    /// Ascending by id.
    pub tickets: Vec<TicketView>,
    pub seen_at: Timestamp,
}

impl HoldView {
    fn new(id: HoldId, tickets: Vec<Ticket>, seen_at: Timestamp, written: bool) -> Self {
        let lifetime = hold_of(&tickets, id);
        Self {
            id,
            created_at: lifetime.map(|hold| hold.created_at()),
            expires_at: lifetime.map(|hold| hold.expires_at()),
            tickets: tickets
                .into_iter()
                .map(|ticket| TicketView {
                    ticket,
                    seen_at,
                    written,
                })
                .collect(),
            seen_at,
        }
    }
}

/// A hold just placed, with the token that proves it is its buyer's: answered once,
/// never stored.
#[derive(Debug, Clone)]
pub struct IssuedHold {
    pub hold: HoldView,
    pub token: HoldToken,
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
    require_hold_token: bool,
}

impl<R: TicketRepository, C: Clock> TicketService<R, C> {
    /// The use cases under `policy`, requiring a hold's token to act on it.
    pub fn new(repository: R, clock: C, policy: ReservationPolicy) -> Self {
        Self {
            repository,
            clock,
            policy,
            require_hold_token: true,
        }
    }

    /// The same use cases, requiring a token (or not: the seed's anonymous contract, for
    /// deployments behind a trusted backend). A token, when presented, must match either way.
    pub fn requiring_hold_token(self, required: bool) -> Self {
        Self {
            require_hold_token: required,
            ..self
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

    /// Places a tentative hold on one ticket, lasting the policy's TTL.
    pub fn reserve(&self, id: TicketId) -> Result<IssuedHold, TicketError> {
        let (token, hold) = mint()?;
        let command = Command::Reserve {
            hold,
            policy: self.policy,
        };
        let view = self.run(id, command)?;
        counters::hold_created(HoldKind::Ticket, 1);
        Ok(IssuedHold {
            hold: HoldView::new(hold.id, vec![view.ticket], view.seen_at, true),
            token,
        })
    }

    /// Confirms the active hold on one ticket; confirming a sold ticket answers it unchanged.
    pub fn confirm(
        &self,
        id: TicketId,
        token: Option<&HoldToken>,
    ) -> Result<TicketView, TicketError> {
        let view = self.run(id, Command::Confirm(self.proof(token)))?;
        if view.written {
            counters::reservation_confirmed(1);
        }
        Ok(view)
    }

    /// Releases the active hold on one ticket, making it reservable again.
    pub fn release(
        &self,
        id: TicketId,
        token: Option<&HoldToken>,
    ) -> Result<TicketView, TicketError> {
        let view = self.run(id, Command::Release(self.proof(token)))?;
        counters::reservation_released(1);
        Ok(view)
    }

    /// Holds every ticket of `ids` under one new hold, or none of them.
    pub fn hold_tickets(&self, ids: &[TicketId]) -> Result<IssuedHold, TicketError> {
        let tickets = TicketSet::new(ids, self.policy.max_tickets_per_hold())?;
        let (token, hold) = mint()?;
        let command = Command::Reserve {
            hold,
            policy: self.policy,
        };
        let seen_at = self.clock.now();
        let held = match self.repository.apply_together(&tickets, command, seen_at)? {
            TogetherOutcome::Written(held) => held,
            TogetherOutcome::Refused { refusals, .. } => {
                return Err(TicketError::TicketsUnavailable(refusals))
            }
            // A new hold id is on no ticket yet.
            TogetherOutcome::AlreadyDone(_) => {
                return Err(TicketError::unexpected(NewHoldAlreadyPlaced(hold.id)))
            }
        };
        counters::hold_created(HoldKind::Tickets, held.len());
        Ok(IssuedHold {
            hold: HoldView::new(hold.id, held, seen_at, true),
            token,
        })
    }

    /// Holds the `quantity` lowest-id tickets of `event` that are reservable now.
    pub fn hold_best_available(
        &self,
        event: &EventName,
        quantity: usize,
    ) -> Result<IssuedHold, TicketError> {
        TicketSet::check_size(quantity, self.policy.max_tickets_per_hold())?;
        let (token, hold) = mint()?;
        let seen_at = self.clock.now();
        let best =
            self.repository
                .hold_best_available(event, quantity, hold, &self.policy, seen_at)?;
        let held = match best {
            BestAvailable::Held(held) => held,
            BestAvailable::TooFew { available } => {
                return Err(TicketError::TooFewAvailable {
                    requested: quantity,
                    available,
                })
            }
        };
        counters::hold_created(HoldKind::BestAvailable, held.len());
        Ok(IssuedHold {
            hold: HoldView::new(hold.id, held, seen_at, true),
            token,
        })
    }

    /// The hold and its tickets, for its owner.
    pub fn hold(&self, id: HoldId, token: Option<&HoldToken>) -> Result<HoldView, TicketError> {
        let seen_at = self.clock.now();
        let tickets = self.repository.find_hold(id)?;
        let owner = hold_of(&tickets, id).ok_or(TicketError::HoldNotFound(id))?;
        self.proof(token)
            .check(owner.owner())
            .map_err(ticketing_domain::ReservationError::from)?;
        Ok(HoldView::new(id, tickets, seen_at, false))
    }

    /// Sells every ticket of the hold at once; again, answers it unchanged.
    pub fn confirm_hold(
        &self,
        id: HoldId,
        token: Option<&HoldToken>,
    ) -> Result<HoldView, TicketError> {
        let view = self.run_on_hold(id, Command::Confirm(self.proof(token)))?;
        if view.written {
            counters::reservation_confirmed(view.hold.tickets.len());
        }
        Ok(view.hold)
    }

    /// Gives up the hold: every ticket of it is reservable again.
    pub fn release_hold(
        &self,
        id: HoldId,
        token: Option<&HoldToken>,
    ) -> Result<HoldView, TicketError> {
        let view = self.run_on_hold(id, Command::Release(self.proof(token)))?;
        counters::reservation_released(view.hold.tickets.len());
        Ok(view.hold)
    }

    /// Makes the hold expire `ttl_seconds` from now, within the policy's cap.
    pub fn extend_hold(
        &self,
        id: HoldId,
        token: Option<&HoldToken>,
        ttl_seconds: i64,
    ) -> Result<HoldView, TicketError> {
        let command = Command::Extend {
            proof: self.proof(token),
            by: self.policy.extension(ttl_seconds)?,
            policy: self.policy,
        };
        Ok(self.run_on_hold(id, command)?.hold)
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

    fn proof(&self, token: Option<&HoldToken>) -> Proof {
        Proof::new(token.map(HoldToken::digest), self.require_hold_token)
    }

    fn run(&self, id: TicketId, command: Command) -> Result<TicketView, TicketError> {
        let seen_at = self.clock.now();
        let (ticket, written) = match self.repository.apply(id, command, seen_at)? {
            Outcome::Written(ticket) => (ticket, true),
            Outcome::AlreadyDone(ticket) => (ticket, false),
            Outcome::Refused(error) => return Err(error.into()),
            // Only a confirm records before refusing: the expiry of the hold it found lapsed.
            Outcome::RecordedThenRefused(error) => {
                counters::expired_by_confirm(1);
                return Err(error.into());
            }
        };
        Ok(TicketView {
            ticket,
            seen_at,
            written,
        })
    }

    /// Runs `command` on every ticket of hold `id`. A hold's tickets share its owner and
    /// lifetime, so a refusal is the hold's: the first ticket's reason is answered.
    fn run_on_hold(&self, id: HoldId, command: Command) -> Result<WrittenHold, TicketError> {
        let seen_at = self.clock.now();
        let (tickets, written) = match self.repository.apply_to_hold(id, command, seen_at)? {
            TogetherOutcome::Written(tickets) => (tickets, true),
            TogetherOutcome::AlreadyDone(tickets) => (tickets, false),
            TogetherOutcome::Refused { refusals, recorded } => {
                counters::expired_by_confirm(recorded);
                let first = refusals.into_iter().next().map(|(_, error)| error);
                return Err(first.map_or(TicketError::HoldNotFound(id), TicketError::from));
            }
        };
        Ok(WrittenHold {
            hold: HoldView::new(id, tickets, seen_at, written),
            written,
        })
    }
}

struct WrittenHold {
    hold: HoldView,
    written: bool,
}

/// A freshly minted hold id was found on a ticket already: a bug, or a broken RNG.
#[derive(Debug, thiserror::Error)]
#[error("the new hold {0} was already on its tickets")]
struct NewHoldAlreadyPlaced(HoldId);

/// The hold `id` as its tickets carry it (they share it), if any still does.
fn hold_of(tickets: &[Ticket], id: HoldId) -> Option<&Hold> {
    tickets
        .iter()
        .find_map(|ticket| ticket.reservation.hold().filter(|hold| hold.id() == id))
}

/// A new hold's token and identity: a random UUID and the digest of a random token.
fn mint() -> Result<(HoldToken, NewHold), TicketError> {
    let token = HoldToken::generate().map_err(TicketError::unexpected)?;
    let hold = NewHold {
        id: HoldId::from_uuid(uuid::Uuid::new_v4()),
        owner: token.digest(),
    };
    Ok((token, hold))
}
