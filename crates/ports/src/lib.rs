//! The ticketing use cases and the storage port they need: every adapter calls this code.

#[cfg(feature = "test-support")]
pub mod contract;
mod counters;
mod error;
mod hold_token;
mod listing;
#[cfg(feature = "test-support")]
pub mod memory;
mod repository;
mod service;
#[cfg(feature = "test-support")]
pub mod testing;

pub use error::{BoxError, TicketError};
pub use hold_token::{HoldToken, NoRandomness};
pub use listing::{InvalidPageLimit, PageLimit, TicketPage, TicketQuery};
pub use repository::{BestAvailable, Outcome, TicketRepository, TogetherOutcome};
pub use service::{HoldView, IssuedHold, TicketPageView, TicketService, TicketView};
