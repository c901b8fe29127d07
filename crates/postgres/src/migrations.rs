//! The migrations in `migrations/`, embedded in the binary, and creating the database
//! they run in.

use std::time::Duration;

use diesel::connection::SimpleConnection;
use diesel::pg::PgConnection;
use diesel::sql_types::Text;
use diesel::{Connection, QueryableByName, RunQueryDsl};
use diesel_migrations::{embed_migrations, EmbeddedMigrations, MigrationHarness};
use secrecy::ExposeSecret;

use crate::database_url::DatabaseUrl;
use crate::error::{connection_setup_error, setup_error};
use crate::pool::PgPool;
use crate::{PoolSettings, SetupError};

pub(crate) const MIGRATIONS: EmbeddedMigrations = embed_migrations!("../../migrations");

/// Serialises migrations of one database across processes (two instances starting at
/// once must not both create the table). An arbitrary constant, "tickets" in ASCII.
const MIGRATION_LOCK: i64 = 0x0074_6963_6b65_7473;

/// Applies the migrations not yet applied and returns their versions, oldest first
/// (empty when the schema is up to date, so applying twice is a no-op). Runs on a
/// connection of its own, without the pool's statement timeout.
///
/// Errors: [`SetupError::Unavailable`] when the database cannot be reached,
/// [`SetupError::Migration`] when a migration fails.
pub fn run_migrations(pool: &PgPool) -> Result<Vec<String>, SetupError> {
    let mut connection = pool.dedicated_connection()?;
    with_migration_lock(&mut connection, |connection| {
        let applied = connection
            .run_pending_migrations(MIGRATIONS)
            .map_err(SetupError::Migration)?;
        Ok(applied.iter().map(ToString::to_string).collect())
    })
}

/// Reverts every applied migration, newest first, and returns their versions.
#[cfg(feature = "test-support")]
pub(crate) fn revert_all_migrations(pool: &PgPool) -> Result<Vec<String>, SetupError> {
    let mut connection = pool.dedicated_connection()?;
    with_migration_lock(&mut connection, |connection| {
        let reverted = connection
            .revert_all_migrations(MIGRATIONS)
            .map_err(SetupError::Migration)?;
        Ok(reverted.iter().map(ToString::to_string).collect())
    })
}

fn with_migration_lock<T>(
    connection: &mut PgConnection,
    migrate: impl FnOnce(&mut PgConnection) -> Result<T, SetupError>,
) -> Result<T, SetupError> {
    connection
        .batch_execute(&format!("SELECT pg_advisory_lock({MIGRATION_LOCK})"))
        .map_err(setup_error)?;
    let result = migrate(connection);
    // Closing the connection would release the lock too; unlock anyway so a caller's
    // connection is left as it was found.
    connection
        .batch_execute(&format!("SELECT pg_advisory_unlock({MIGRATION_LOCK})"))
        .map_err(setup_error)?;
    result
}

/// Creates the database that `settings.url` names when it does not exist yet, and
/// answers whether it created it. It connects to that database first, so a database that
/// exists needs no more than the service needs anyway (managed servers often refuse
/// CONNECT on `postgres`); only when the server answers that it does not exist does it
/// connect to the `postgres` maintenance database of the same server to create it. Both
/// connections wait at most `settings.connect_timeout`.
///
/// Errors: [`SetupError::InvalidSettings`] when the URL names no database,
/// [`SetupError::Unavailable`] when the server cannot be reached, and
/// [`SetupError::Unexpected`] when it refuses (e.g. the role may not create databases).
pub fn create_database_if_missing(settings: &PoolSettings) -> Result<bool, SetupError> {
    let name = settings.url.database();
    let url = settings
        .url
        .with_connect_timeout(settings.connect_timeout)?;
    match PgConnection::establish(url.expose_secret()) {
        Ok(_) => return Ok(false),
        Err(error) if !is_missing_database(&error, &name) => {
            return Err(connection_setup_error(error))
        }
        Err(_) => {}
    }
    let mut server = connect_to_database(&settings.url, "postgres", settings.connect_timeout)?;
    match server.batch_execute(&format!("CREATE DATABASE {}", quote_identifier(&name))) {
        Ok(()) => Ok(true),
        // Another process created it in between: that is what we wanted.
        Err(_) if database_exists(&mut server, &name)? => Ok(false),
        Err(error) => Err(setup_error(error)),
    }
}

/// The server refused the connection because database `name` does not exist (SQLSTATE
/// 3D000). libpq hands Diesel only the message, so that is matched: English, PostgreSQL's
/// default `lc_messages`; on a server set to translate its messages the database must be
/// created beforehand (the error is answered as `Unavailable`).
fn is_missing_database(error: &diesel::ConnectionError, name: &str) -> bool {
    match error {
        diesel::ConnectionError::BadConnection(message) => {
            message.contains(&format!("database \"{name}\" does not exist"))
        }
        _ => false,
    }
}

/// A connection to `database` on the server that `url` points at, waiting at most
/// `connect_timeout` (unless the URL sets its own).
pub(crate) fn connect_to_database(
    url: &DatabaseUrl,
    database: &str,
    connect_timeout: Duration,
) -> Result<PgConnection, SetupError> {
    let url = url
        .with_database(database)?
        .with_connect_timeout(connect_timeout)?;
    PgConnection::establish(url.expose_secret()).map_err(connection_setup_error)
}

pub(crate) fn database_exists(server: &mut PgConnection, name: &str) -> Result<bool, SetupError> {
    #[derive(QueryableByName)]
    struct Found {
        #[diesel(sql_type = Text)]
        #[allow(dead_code)]
        datname: String,
    }
    let found: Vec<Found> = diesel::sql_query("SELECT datname FROM pg_database WHERE datname = $1")
        .bind::<Text, _>(name)
        .load(server)
        .map_err(setup_error)?;
    Ok(!found.is_empty())
}

/// `name` as a quoted SQL identifier (database names cannot be bound as parameters).
pub(crate) fn quote_identifier(name: &str) -> String {
    format!("\"{}\"", name.replace('"', "\"\""))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_a_missing_database_is_created_not_a_missing_role_or_a_refusal() {
        let missing = |message: &str| {
            is_missing_database(
                &diesel::ConnectionError::BadConnection(message.to_owned()),
                "ticketing",
            )
        };
        let failed = "connection to server at \"127.0.0.1\", port 5432 failed: FATAL:  ";
        assert!(missing(&format!(
            "{failed}database \"ticketing\" does not exist\n"
        )));
        assert!(!missing(&format!(
            "{failed}role \"ticketing\" does not exist\n"
        )));
        assert!(!missing(&format!(
            "{failed}database \"other\" does not exist\n"
        )));
        assert!(!missing(&format!(
            "{failed}permission denied for database \"ticketing\"\n"
        )));
    }

    #[test]
    fn identifiers_are_quoted_with_embedded_quotes_doubled() {
        assert_eq!(quote_identifier("tickets"), "\"tickets\"");
        assert_eq!(quote_identifier("a\"b"), "\"a\"\"b\"");
    }
}
