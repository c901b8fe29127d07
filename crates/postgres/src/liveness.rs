//! How the pool tells a dead connection from a live one without a round trip.
//!
//! r2d2's usual check on checkout, Diesel's `SELECT 1`, costs a round trip per request
//! (about a sixth of the service's throughput under load). A session the server ended
//! (restart, failover, `pg_terminate_backend`, a crashed backend) leaves its goodbye in
//! the socket: a FATAL message, then end-of-file. So on checkout [`PgManager`] reads
//! whatever arrived while the connection sat idle, without blocking (libpq's
//! `PQconsumeInput`, through Diesel's notification reader); end-of-file marks the
//! connection dead and r2d2 discards it and hands out another. A connection that breaks
//! while in use is discarded when it is returned (Diesel's `is_broken`).

use diesel::pg::PgConnection;
use diesel::r2d2::{ConnectionManager, Error, ManageConnection};

/// Reads on checkout: the first read may only drain the server's FATAL message; the
/// next one then sees the end-of-file.
const READS_ON_CHECKOUT: usize = 2;

/// Opens PostgreSQL connections for the pool and checks them on checkout without
/// sending anything to the server.
#[derive(Debug)]
pub(crate) struct PgManager {
    inner: ConnectionManager<PgConnection>,
}

impl PgManager {
    pub(crate) fn new(url: &str) -> Self {
        Self {
            inner: ConnectionManager::new(url),
        }
    }
}

impl ManageConnection for PgManager {
    type Connection = PgConnection;
    type Error = Error;

    fn connect(&self) -> Result<PgConnection, Error> {
        self.inner.connect()
    }

    fn is_valid(&self, connection: &mut PgConnection) -> Result<(), Error> {
        for _ in 0..READS_ON_CHECKOUT {
            // The service never LISTENs, so a live connection has nothing to read: the
            // reader answers None at once. A closed one answers an error.
            if let Some(Err(error)) = connection.notifications_iter().next() {
                return Err(Error::QueryError(error));
            }
        }
        Ok(())
    }

    fn has_broken(&self, connection: &mut PgConnection) -> bool {
        self.inner.has_broken(connection)
    }
}
