//! The ticket reservation rules as pure values and functions: no I/O, no framework.
//!
//! A ticket carries the state of its reservation ([`Reservation`]). Every change to that
//! state is a [`Command`] decided at an instant `now` that the caller reads from a
//! [`Clock`] once, at the edge. The rules live only here: adapters store what a command
//! decides and use [`Command::write`] to make the decision atomic in their storage.

mod clock;
mod command;
mod listing;
mod owner;
mod policy;
mod reservation;
mod ticket;
mod together;

pub use clock::{Clock, ManualClock, SystemClock};
pub use command::{Command, Decision, GuardedWrite, Write};
pub use listing::{StatusFilter, UnknownStatusFilter};
pub use owner::{HoldId, InvalidHoldId, OwnershipError, Proof, TokenDigest};
pub use policy::{
    InvalidExtension, InvalidMaxHold, InvalidTicketsPerHold, InvalidTtl, ReservationPolicy,
};
pub use reservation::{
    Hold, InvalidReservation, NewHold, Phase, Reservation, ReservationError, ReservationStatus,
};
pub use ticket::{
    EventName, EventNameError, NewTicket, Seat, SeatError, Ticket, TicketId, TicketIdError,
};
pub use together::{InvalidTicketSet, TicketSet, Together};

/// An instant, always in UTC.
pub type Timestamp = chrono::DateTime<chrono::Utc>;
