//! Failures of this adapter, and how Diesel's and r2d2's errors become the port's
//! [`TicketError`] at the boundary.

use diesel::result::{DatabaseErrorKind, Error as DieselError};
use ticketing_ports::{BoxError, TicketError};

/// Why setting up the database (pool, migrations, database creation) failed.
#[derive(Debug, thiserror::Error)]
pub enum SetupError {
    /// The settings cannot work: a URL that is not `postgres://...`, a pool of size 0, ...
    #[error("invalid PostgreSQL settings: {0}")]
    InvalidSettings(String),
    /// The server cannot be reached (refused, timed out, authentication failed).
    #[error("PostgreSQL is unavailable")]
    Unavailable(#[source] BoxError),
    /// A migration failed; the source says which and why.
    #[error("applying the database migrations failed")]
    Migration(#[source] BoxError),
    /// Anything else the server answered.
    #[error("unexpected PostgreSQL failure")]
    Unexpected(#[source] BoxError),
}

/// Maps a failed connection attempt (kept out of `From` so no Diesel type appears in the
/// public API, not even in a trait impl).
pub(crate) fn connection_setup_error(error: diesel::ConnectionError) -> SetupError {
    match error {
        diesel::ConnectionError::InvalidConnectionUrl(reason) => {
            SetupError::InvalidSettings(format!("invalid database URL: {reason}"))
        }
        other => SetupError::Unavailable(other.into()),
    }
}

/// Maps a failed setup statement: a lost connection is `Unavailable`.
pub(crate) fn setup_error(error: DieselError) -> SetupError {
    if is_connection_lost(&error) {
        SetupError::Unavailable(error.into())
    } else {
        SetupError::Unexpected(error.into())
    }
}

/// Maps a failed query: a lost connection, a statement cancelled for taking too long, or a
/// transaction the server gave up on to resolve contention is `Unavailable`, anything else
/// `Unexpected`. "No row" is not mapped here: callers that know the id answer `NotFound`
/// themselves.
pub(crate) fn storage_error(error: DieselError) -> TicketError {
    if is_connection_lost(&error) || is_cancelled(&error) || is_contention(&error) {
        TicketError::unavailable(error)
    } else {
        TicketError::unexpected(error)
    }
}

/// A pool checkout only fails when no connection came within the checkout timeout
/// (the message carries the last connection error, e.g. "connection refused").
pub(crate) fn checkout_error(error: diesel::r2d2::PoolError) -> TicketError {
    TicketError::unavailable(error)
}

/// PostgreSQL cancelled the statement (SQLSTATE 57014: `statement_timeout`, or a cancel
/// request): the database is too slow or busy now, and a retry may succeed. Diesel keeps
/// the SQLSTATE to itself (such errors are `Unknown`), so the server's message is
/// matched: English, PostgreSQL's default `lc_messages`; a server set to translate its
/// messages gets these answered as `Unexpected`.
fn is_cancelled(error: &DieselError) -> bool {
    match error {
        DieselError::DatabaseError(DatabaseErrorKind::Unknown, information) => information
            .message()
            .starts_with("canceling statement due to"),
        _ => false,
    }
}

/// A serialization failure (SQLSTATE 40001) or a deadlock (40P01, matched by its English
/// message as above): the transaction was rolled back and a retry may succeed. The
/// adapter's lock order is meant to make these impossible; should one happen, it is a 503
/// to retry, not a 500.
fn is_contention(error: &DieselError) -> bool {
    match error {
        DieselError::DatabaseError(DatabaseErrorKind::SerializationFailure, _) => true,
        DieselError::DatabaseError(DatabaseErrorKind::Unknown, information) => {
            information.message().starts_with("deadlock detected")
        }
        _ => false,
    }
}

fn is_connection_lost(error: &DieselError) -> bool {
    matches!(
        error,
        DieselError::DatabaseError(
            DatabaseErrorKind::ClosedConnection | DatabaseErrorKind::UnableToSendCommand,
            _
        )
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn database_error(kind: DatabaseErrorKind) -> DieselError {
        DieselError::DatabaseError(kind, Box::new(String::from("server said no")))
    }

    #[test]
    fn a_lost_connection_is_unavailable_and_anything_else_unexpected() {
        for kind in [
            DatabaseErrorKind::ClosedConnection,
            DatabaseErrorKind::UnableToSendCommand,
        ] {
            assert!(matches!(
                storage_error(database_error(kind)),
                TicketError::Unavailable(_)
            ));
        }
        let timed_out = DieselError::DatabaseError(
            DatabaseErrorKind::Unknown,
            Box::new(String::from("canceling statement due to statement timeout")),
        );
        assert!(matches!(
            storage_error(timed_out),
            TicketError::Unavailable(_)
        ));
        let deadlock = DieselError::DatabaseError(
            DatabaseErrorKind::Unknown,
            Box::new(String::from("deadlock detected")),
        );
        for contended in [
            deadlock,
            database_error(DatabaseErrorKind::SerializationFailure),
        ] {
            assert!(matches!(
                storage_error(contended),
                TicketError::Unavailable(_)
            ));
        }
        for error in [
            database_error(DatabaseErrorKind::CheckViolation),
            database_error(DatabaseErrorKind::Unknown),
            DieselError::NotFound,
        ] {
            assert!(matches!(storage_error(error), TicketError::Unexpected(_)));
        }
        assert!(matches!(
            setup_error(database_error(DatabaseErrorKind::ClosedConnection)),
            SetupError::Unavailable(_)
        ));
    }
}
