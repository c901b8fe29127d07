//! The storage port.

use ticketing_domain::{
    Command, EventName, HoldId, NewHold, NewTicket, ReservationError, ReservationPolicy, Ticket,
    TicketId, TicketSet, Timestamp,
};

use crate::{TicketError, TicketPage, TicketQuery};

/// What [`TicketRepository::apply`] did with a command: the [`Decision`] it carried out,
/// and so what it stored. Use cases count sales and expiries from it.
///
/// [`Decision`]: ticketing_domain::Decision
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Outcome {
    /// The command's write was stored ([`Decision::Write`]); the ticket as written.
    ///
    /// [`Decision::Write`]: ticketing_domain::Decision::Write
    Written(Ticket),
    /// Nothing was stored: the command had already had its effect, as when confirming a
    /// sold ticket ([`Decision::AlreadyDone`]); the ticket as stored.
    ///
    /// [`Decision::AlreadyDone`]: ticketing_domain::Decision::AlreadyDone
    AlreadyDone(Ticket),
    /// Nothing was stored: the rules refuse the command ([`Decision::Refuse`]).
    ///
    /// [`Decision::Refuse`]: ticketing_domain::Decision::Refuse
    Refused(ReservationError),
    /// This call stored the decision's record, then the rules refuse the command
    /// ([`Decision::RecordThenRefuse`]): a confirm that found its hold lapsed wrote it
    /// EXPIRED.
    ///
    /// [`Decision::RecordThenRefuse`]: ticketing_domain::Decision::RecordThenRefuse
    RecordedThenRefused(ReservationError),
}

impl Outcome {
    /// The ticket after a command that succeeded, whether it wrote (`Ok`) or not; the
    /// rules' reason when they refused it (`Err`), recorded or not.
    pub fn into_ticket(self) -> Result<Ticket, ReservationError> {
        match self {
            Self::Written(ticket) | Self::AlreadyDone(ticket) => Ok(ticket),
            Self::Refused(error) | Self::RecordedThenRefused(error) => Err(error),
        }
    }
}

/// What [`TicketRepository::apply_together`] and [`TicketRepository::apply_to_hold`] did
/// with one command on several tickets, all or nothing: the [`Together`] decision carried
/// out.
///
/// [`Together`]: ticketing_domain::Together
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TogetherOutcome {
    /// Every ticket accepted the command and at least one changed: the tickets as
    /// stored afterwards, ascending by id.
    Written(Vec<Ticket>),
    /// Every ticket accepted the command but none changed (confirming a sold hold again).
    AlreadyDone(Vec<Ticket>),
    /// Some tickets refused: nothing was stored but the expiry of `recorded` lapsed holds
    /// that a confirm found. Every refusal, ascending by id.
    Refused {
        refusals: Vec<(TicketId, ReservationError)>,
        recorded: usize,
    },
}

/// What [`TicketRepository::hold_best_available`] did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum BestAvailable {
    /// The tickets now held, ascending by id.
    Held(Vec<Ticket>),
    /// Fewer than the quantity asked for could be held now; nothing was stored.
    TooFew { available: usize },
}

/// Where tickets are stored. Synchronous, because Diesel is: callers run it off their
/// async executor's threads.
///
/// # Concurrency
///
/// [`apply`](Self::apply) is the only way to change a reservation, and it is atomic: it
/// decides a [`Command`] with [`Command::decide`] against the reservation *as stored at
/// the moment of the write*, so two concurrent reserves of one ticket can never both
/// succeed. The mechanism is a **guarded write**: each command's
/// [`Command::write`] names the phases it may write from, and an implementation stores
/// the new state only if the stored one is still in those phases (in SQL, one
/// conditional `UPDATE ... WHERE <guard> RETURNING`). We chose it over a version counter
/// or a locked read-modify-write because it needs one round trip and no lock held across
/// round trips in the common case, while the rules stay in the domain: the guard is
/// derived from them, not re-stated. When the guard refuses, an implementation reads
/// the ticket, decides again, and either answers the refusal or (if the state moved in
/// between) tries the guarded write again.
///
/// # Errors
///
/// Every method MUST answer:
/// - [`TicketError::NotFound`] when no ticket has the id;
/// - [`TicketError::Unavailable`] when storage cannot be reached in time (pool checkout
///   timeout, connection refused or broken);
/// - [`TicketError::Unexpected`] for anything else, such as a stored row the domain
///   cannot represent; never a default value in its place.
pub trait TicketRepository: Send + Sync {
    /// Stores a new, unreserved ticket and returns it with its id.
    ///
    /// Errors: `Unavailable`, `Unexpected`.
    fn create(&self, ticket: &NewTicket) -> Result<Ticket, TicketError>;

    /// The ticket with this id.
    ///
    /// Errors: `NotFound`, `Unavailable`, `Unexpected`.
    fn find(&self, id: TicketId) -> Result<Ticket, TicketError>;

    /// Decides `command` at `now` against the stored reservation and stores the result,
    /// atomically (see the trait's docs), answering what it did. It MUST answer:
    /// - [`Outcome::Written`] with the ticket as written when it stored the command's
    ///   write;
    /// - [`Outcome::AlreadyDone`] with the stored ticket when the command had already had
    ///   its effect (nothing written);
    /// - [`Outcome::Refused`] with the domain's reason when the rules refuse the command
    ///   and nothing was written;
    /// - [`Outcome::RecordedThenRefused`] with the domain's reason when the decision was
    ///   [`Decision::RecordThenRefuse`] and this call stored the record. When the record
    ///   cannot be stored because the ticket changed meanwhile, it decides afresh: a
    ///   record is answered as stored only by the one call that stored it.
    ///
    /// A refusal is an [`Outcome`], never [`TicketError::Refused`] (which the use cases
    /// answer their callers).
    ///
    /// Errors: `NotFound`; `Unavailable`; `Unexpected`.
    ///
    /// [`Decision::RecordThenRefuse`]: ticketing_domain::Decision::RecordThenRefuse
    fn apply(&self, id: TicketId, command: Command, now: Timestamp)
        -> Result<Outcome, TicketError>;

    /// Answers `Ok` when storage can serve requests now; for readiness checks.
    ///
    /// Errors: `Unavailable` when storage does not answer in time; `Unexpected`.
    fn check_health(&self) -> Result<(), TicketError>;

    /// The page of tickets `query` asks for, with statuses as seen at `now`: up to
    /// `query.limit` tickets with an id above `query.after`, in ascending id order, each
    /// in one of the phases of `query.status` ([`StatusFilter::phases`]) at `now`. The
    /// page says whether more tickets match beyond it.
    ///
    /// Errors: `Unavailable`; `Unexpected`.
    ///
    /// [`StatusFilter::phases`]: ticketing_domain::StatusFilter::phases
    fn list(&self, query: &TicketQuery, now: Timestamp) -> Result<TicketPage, TicketError>;

    /// The expiry sweeper's batch: records [`Command::Expire`] at `now` on at most `limit`
    /// tentative holds that have lapsed at `now` (earliest expiry first) and answers how
    /// many it wrote. Atomic per ticket like [`apply`](Self::apply): a hold still active
    /// at `now`, or confirmed meanwhile, is never written. Concurrent calls (several
    /// service instances) do not wait for one another's tickets but skip them, and each
    /// lapsed hold is counted by exactly one call; an answer below `limit` means no other
    /// lapsed hold was free to take.
    ///
    /// Errors: `Unavailable`; `Unexpected`.
    fn expire_lapsed(&self, now: Timestamp, limit: u32) -> Result<u32, TicketError>;

    /// The tickets carrying hold `hold`, in any state, ascending by id; empty when none.
    ///
    /// Errors: `Unavailable`; `Unexpected`.
    fn find_hold(&self, hold: HoldId) -> Result<Vec<Ticket>, TicketError>;

    /// Decides `command` at `now` for every ticket of `tickets` together
    /// ([`Command::decide_together`]) and stores the result, all or nothing, atomically
    /// against concurrent commands: an implementation locks the tickets in ascending id
    /// order (so that two overlapping calls never deadlock) or works under one lock.
    ///
    /// Errors: [`TicketError::TicketsNotFound`] naming every id with no ticket (nothing
    /// stored); `Unavailable`; `Unexpected`.
    fn apply_together(
        &self,
        tickets: &TicketSet,
        command: Command,
        now: Timestamp,
    ) -> Result<TogetherOutcome, TicketError>;

    /// As [`apply_together`](Self::apply_together), on the tickets carrying hold `hold` at
    /// the moment they are locked.
    ///
    /// Errors: [`TicketError::HoldNotFound`] when no ticket carries it; `Unavailable`;
    /// `Unexpected`.
    fn apply_to_hold(
        &self,
        hold: HoldId,
        command: Command,
        now: Timestamp,
    ) -> Result<TogetherOutcome, TicketError>;

    /// Places hold `hold` under `policy` at `now` on the `quantity` lowest-id tickets of
    /// `event` that are reservable at `now` and not being written by a concurrent call
    /// (those are skipped, not waited for: concurrent buyers get different tickets).
    /// Only when fewer than `quantity` are free may it wait for the ones being written,
    /// so that two buyers of the last tickets do not both go away empty-handed.
    /// All or nothing: when fewer are free, stores nothing and answers how many were.
    ///
    /// Errors: `Unavailable`; `Unexpected`.
    fn hold_best_available(
        &self,
        event: &EventName,
        quantity: usize,
        hold: NewHold,
        policy: &ReservationPolicy,
        now: Timestamp,
    ) -> Result<BestAvailable, TicketError>;
}

impl<R: TicketRepository + ?Sized> TicketRepository for std::sync::Arc<R> {
    fn create(&self, ticket: &NewTicket) -> Result<Ticket, TicketError> {
        (**self).create(ticket)
    }

    fn find(&self, id: TicketId) -> Result<Ticket, TicketError> {
        (**self).find(id)
    }

    fn apply(
        &self,
        id: TicketId,
        command: Command,
        now: Timestamp,
    ) -> Result<Outcome, TicketError> {
        (**self).apply(id, command, now)
    }

    fn check_health(&self) -> Result<(), TicketError> {
        (**self).check_health()
    }

    fn list(&self, query: &TicketQuery, now: Timestamp) -> Result<TicketPage, TicketError> {
        (**self).list(query, now)
    }

    fn expire_lapsed(&self, now: Timestamp, limit: u32) -> Result<u32, TicketError> {
        (**self).expire_lapsed(now, limit)
    }

    fn find_hold(&self, hold: HoldId) -> Result<Vec<Ticket>, TicketError> {
        (**self).find_hold(hold)
    }

    fn apply_together(
        &self,
        tickets: &TicketSet,
        command: Command,
        now: Timestamp,
    ) -> Result<TogetherOutcome, TicketError> {
        (**self).apply_together(tickets, command, now)
    }

    fn apply_to_hold(
        &self,
        hold: HoldId,
        command: Command,
        now: Timestamp,
    ) -> Result<TogetherOutcome, TicketError> {
        (**self).apply_to_hold(hold, command, now)
    }

    fn hold_best_available(
        &self,
        event: &EventName,
        quantity: usize,
        hold: NewHold,
        policy: &ReservationPolicy,
        now: Timestamp,
    ) -> Result<BestAvailable, TicketError> {
        (**self).hold_best_available(event, quantity, hold, policy, now)
    }
}
