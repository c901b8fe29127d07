//! The ticketing use cases and the storage port they need: every adapter calls this code.

#[cfg(feature = "test-support")]
pub mod contract;
mod counters;
mod error;
mod listing;
#[cfg(feature = "test-support")]
pub mod memory;
mod repository;
mod service;
#[cfg(feature = "test-support")]
pub mod testing;

pub use error::{BoxError, TicketError};
pub use listing::{InvalidPageLimit, PageLimit, TicketPage, TicketQuery};
pub use repository::{Outcome, TicketRepository};
pub use service::{TicketPageView, TicketService, TicketView};
