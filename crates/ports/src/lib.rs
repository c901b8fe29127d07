//! The ticketing use cases and the storage port they need: every adapter calls this code.

mod error;
mod listing;
#[cfg(feature = "test-support")]
pub mod memory;
mod repository;
mod service;

pub use error::{BoxError, TicketError};
pub use listing::{InvalidPageLimit, PageLimit, TicketPage, TicketQuery};
pub use repository::{Applied, TicketRepository};
pub use service::{TicketPageView, TicketService, TicketView};
