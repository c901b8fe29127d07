//! The ticketing use cases and the storage port they need: every adapter calls this code.

mod error;
#[cfg(feature = "test-support")]
pub mod memory;
mod repository;
mod service;

pub use error::{BoxError, TicketError};
pub use repository::{Applied, TicketRepository};
pub use service::{TicketService, TicketView};
