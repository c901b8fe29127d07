//! The one error type of the use cases and of the repository port.

use ticketing_domain::{HoldId, InvalidExtension, InvalidTicketSet, ReservationError, TicketId};

/// Any error from a storage library, kept whole for the logs.
pub type BoxError = Box<dyn std::error::Error + Send + Sync + 'static>;

/// Why a use case did not succeed. Adapters translate their own failures into these
/// variants, so no storage type crosses this boundary.
#[derive(Debug, thiserror::Error)]
pub enum TicketError {
    /// No ticket has this id.
    #[error("ticket {0} does not exist")]
    NotFound(TicketId),
    /// Some of the tickets a hold was asked for do not exist (these ones).
    #[error("{} of the tickets asked for do not exist", .0.len())]
    TicketsNotFound(Vec<TicketId>),
    /// No ticket carries this hold (it never existed, or it was released).
    #[error("hold {0} does not exist")]
    HoldNotFound(HoldId),
    /// The reservation rules refuse the command.
    #[error(transparent)]
    Refused(#[from] ReservationError),
    /// Some tickets of a hold asked for could not be held: each, with the rules' reason.
    #[error("{} of the tickets asked for cannot be held", .0.len())]
    TicketsUnavailable(Vec<(TicketId, ReservationError)>),
    /// Best available found fewer reservable tickets than asked for.
    #[error("only {available} of the {requested} tickets asked for can be held now")]
    TooFewAvailable { requested: usize, available: usize },
    /// The tickets asked for cannot form a hold (none, too many, one twice).
    #[error(transparent)]
    InvalidTicketSet(#[from] InvalidTicketSet),
    /// An extension outside the policy's bounds.
    #[error(transparent)]
    InvalidExtension(#[from] InvalidExtension),
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
