//! The one error type of the use cases and of the repository port.

use ticketing_domain::{ReservationError, TicketId};

/// Any error from a storage library, kept whole for the logs.
pub type BoxError = Box<dyn std::error::Error + Send + Sync + 'static>;

/// Why a use case did not succeed. Adapters translate their own failures into these
/// variants, so no storage type crosses this boundary.
#[derive(Debug, thiserror::Error)]
pub enum TicketError {
    /// No ticket has this id.
    #[error("ticket {0} does not exist")]
    NotFound(TicketId),
    /// The reservation rules refuse the command.
    #[error(transparent)]
    Refused(#[from] ReservationError),
    /// Storage cannot be reached now (pool timeout, connection refused or broken, or a
    /// ticket too contended to settle); retrying later may succeed.
    #[error("ticket storage is unavailable")]
    Unavailable(#[source] BoxError),
    /// Anything else: a bug or a corrupt row. The source says what, for the logs.
    #[error("unexpected failure in ticket storage")]
    Unexpected(#[source] BoxError),
}

impl TicketError {
    pub fn unavailable(source: impl Into<BoxError>) -> Self {
        Self::Unavailable(source.into())
    }

    pub fn unexpected(source: impl Into<BoxError>) -> Self {
        Self::Unexpected(source.into())
    }
}
