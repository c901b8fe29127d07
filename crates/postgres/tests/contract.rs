//! The repository contract (`ticketing_ports::contract`) over PostgreSQL, each behaviour
//! on a database of its own.

use std::ops::Deref;

use ticketing_postgres::test_db::TestDatabase;
use ticketing_postgres::PgTicketRepository;

/// A repository over a fresh database, which is dropped after the repository (and its
/// pool) is.
struct OwnDatabase {
    repository: PgTicketRepository,
    _database: TestDatabase,
}

impl OwnDatabase {
    fn new() -> Self {
        let database = TestDatabase::new();
        Self {
            repository: database.repository(),
            _database: database,
        }
    }
}

impl Deref for OwnDatabase {
    type Target = PgTicketRepository;

    fn deref(&self) -> &PgTicketRepository {
        &self.repository
    }
}

ticketing_ports::repository_contract!(OwnDatabase::new);
