//! Per-test PostgreSQL databases, for this crate's tests and for those of the crates that
//! wire it in (feature `test-support`).
//!
//! The server comes from `TEST_DATABASE_URL` (default `postgres://postgres@127.0.0.1:5432`;
//! any database in it is ignored). The migrations are applied once into a template
//! database named after a hash of `migrations/`, so a changed migration gets a new
//! template; every [`TestDatabase`] is a fresh `CREATE DATABASE ... TEMPLATE` copy,
//! dropped when the value is. Databases left behind by test processes that no longer
//! run are dropped the first time a process asks for one, and so are the templates of
//! other migration sets (a process still testing one of them would fail, but only while
//! two versions of `migrations/` are tested at once against one server). Whether a test
//! process still runs is read from `/proc`, which assumes every process testing against
//! the server runs on the same host: a test database of a process on another host whose
//! pid is not in use here would be dropped under it.
//!
//! When no server answers, these functions panic with a message saying how to start one
//! (`scripts/ensure-postgres.sh`).

use std::path::Path;
use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::OnceLock;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use diesel::connection::SimpleConnection;
use diesel::pg::PgConnection;
use diesel::sql_types::Text;
use diesel::{Connection, QueryableByName, RunQueryDsl};

use secrecy::ExposeSecret;

use crate::database_url::DatabaseUrl;
use crate::error::setup_error;
use crate::migrations::{
    connect_to_database, database_exists, quote_identifier, revert_all_migrations as revert_all,
};
use crate::{connect, run_migrations, PgPool, PgTicketRepository, PoolSettings, SetupError};

const DEFAULT_SERVER_URL: &str = "postgres://postgres@127.0.0.1:5432";
const TEST_PREFIX: &str = "ticketing_test_";
const TEMPLATE_PREFIX: &str = "ticketing_template_";
/// Held while a template is built, so concurrent test processes build it once.
const TEMPLATE_LOCK: i64 = 0x7469_636b_6574_7400;

/// A database of its own for one test, dropped (even if connections remain) on drop.
#[derive(Debug)]
pub struct TestDatabase {
    name: String,
    url: DatabaseUrl,
}

impl TestDatabase {
    /// A fresh database with every migration applied.
    pub fn new() -> Self {
        Self::create(Some(template()))
    }

    /// A fresh database with nothing in it, not even the migrations.
    pub fn empty() -> Self {
        Self::create(None)
    }

    fn create(template: Option<&str>) -> Self {
        static SEQUENCE: AtomicU32 = AtomicU32::new(0);
        let nanos = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map_or(0, |elapsed| elapsed.subsec_nanos());
        let name = format!(
            "{TEST_PREFIX}{}_{}_{nanos:08x}",
            std::process::id(),
            SEQUENCE.fetch_add(1, Ordering::Relaxed)
        );
        // template0 is pristine even when template1 was changed on this server.
        let source = template.unwrap_or("template0");
        let mut server = admin_connection();
        server
            .batch_execute(&format!(
                "CREATE DATABASE {} TEMPLATE {}",
                quote_identifier(&name),
                quote_identifier(source)
            ))
            .unwrap_or_else(|error| panic!("cannot create test database {name}: {error}"));
        let url = database_url(&name);
        Self { name, url }
    }

    pub fn name(&self) -> &str {
        &self.name
    }

    /// The URL of this database (a test server's: no secret worth keeping).
    pub fn url(&self) -> &str {
        self.url.expose_secret()
    }

    /// Pool settings for this database, sized for tests: up to 8 connections opened on
    /// demand, and a generous checkout timeout for a busy machine.
    pub fn settings(&self) -> PoolSettings {
        PoolSettings {
            url: self.url.clone(),
            max_size: 8,
            min_idle: Some(0),
            checkout_timeout: Duration::from_secs(10),
            ..PoolSettings::default()
        }
    }

    /// A pool built from [`settings`](Self::settings).
    pub fn pool(&self) -> PgPool {
        self.pool_with(self.settings())
    }

    pub fn pool_with(&self, settings: PoolSettings) -> PgPool {
        connect(&settings).unwrap_or_else(|error| panic!("invalid test pool settings: {error}"))
    }

    pub fn repository(&self) -> PgTicketRepository {
        PgTicketRepository::new(self.pool())
    }

    /// Runs raw SQL (one or more statements) in this database, bypassing the adapter:
    /// for arranging rows by hand. Answers the server's message when it refuses.
    pub fn execute(&self, sql: &str) -> Result<(), String> {
        let mut connection = PgConnection::establish(self.url.expose_secret())
            .unwrap_or_else(|error| panic!("cannot connect to {}: {error}", self.name));
        connection
            .batch_execute(sql)
            .map_err(|error| error.to_string())
    }
}

impl Default for TestDatabase {
    fn default() -> Self {
        Self::new()
    }
}

impl Drop for TestDatabase {
    fn drop(&mut self) {
        let dropped = try_admin_connection().and_then(|mut server| {
            server
                .batch_execute(&format!(
                    "DROP DATABASE IF EXISTS {} WITH (FORCE)",
                    quote_identifier(&self.name)
                ))
                .map_err(setup_error)
        });
        if let Err(error) = dropped {
            // A failing drop must not turn into a panic while a test is already unwinding;
            // the next test process sweeps the leftover.
            eprintln!(
                "could not drop test database {}: {}",
                self.name,
                causes(&error)
            );
        }
    }
}

/// Reverts every migration applied to the pool's database, newest first.
pub fn revert_all_migrations(pool: &PgPool) -> Result<Vec<String>, SetupError> {
    revert_all(pool)
}

/// The server tests run against: `TEST_DATABASE_URL`, or the local default.
fn server_url() -> String {
    std::env::var("TEST_DATABASE_URL")
        .ok()
        .filter(|url| !url.trim().is_empty())
        .unwrap_or_else(|| DEFAULT_SERVER_URL.to_owned())
}

/// The URL of database `name` on the test server.
fn database_url(name: &str) -> DatabaseUrl {
    let mut url = url::Url::parse(&server_url())
        .unwrap_or_else(|error| panic!("TEST_DATABASE_URL is not a URL: {error}"));
    url.set_path(name);
    DatabaseUrl::parse(url.as_str())
        .unwrap_or_else(|error| panic!("TEST_DATABASE_URL is not usable: {error}"))
}

fn try_admin_connection() -> Result<PgConnection, SetupError> {
    connect_to_database(
        &database_url("postgres"),
        "postgres",
        PoolSettings::default().connect_timeout,
    )
}

fn admin_connection() -> PgConnection {
    try_admin_connection().unwrap_or_else(|error| {
        panic!(
            "\n\nThese tests need PostgreSQL, and none answers at {url}: {error}\n\
             Start one with `scripts/ensure-postgres.sh` and export the URL it prints:\n\
             \n    export TEST_DATABASE_URL=$(scripts/ensure-postgres.sh)\n\n\
             (or run every test with `scripts/test.sh`, which does both).\n",
            url = server_url(),
            error = causes(&error)
        )
    })
}

/// The migrated template for this process, built (and leftovers swept) once.
fn template() -> &'static str {
    static TEMPLATE: OnceLock<String> = OnceLock::new();
    TEMPLATE.get_or_init(|| {
        let mut server = admin_connection();
        sweep_leftovers(&mut server);
        let name = format!("{TEMPLATE_PREFIX}{:016x}", migrations_fingerprint());
        build_template(&mut server, &name).unwrap_or_else(|error| {
            panic!(
                "cannot build the template database {name}: {}",
                causes(&error)
            )
        });
        name
    })
}

fn build_template(server: &mut PgConnection, name: &str) -> Result<(), SetupError> {
    server
        .batch_execute(&format!("SELECT pg_advisory_lock({TEMPLATE_LOCK})"))
        .map_err(setup_error)?;
    let built = (|| {
        drop_other_templates(server, name);
        if database_exists(server, name)? {
            return Ok(());
        }
        // Migrate under a temporary name and rename when done, so a crash half-way
        // never leaves a template that looks finished.
        let building = format!("{name}_building");
        // Two statements, not one batch: a batch runs as one transaction, which DROP
        // DATABASE and CREATE DATABASE refuse.
        let quoted = quote_identifier(&building);
        server
            .batch_execute(&format!("DROP DATABASE IF EXISTS {quoted} WITH (FORCE)"))
            .map_err(setup_error)?;
        server
            .batch_execute(&format!("CREATE DATABASE {quoted} TEMPLATE template0"))
            .map_err(setup_error)?;
        let pool = connect(&PoolSettings {
            url: database_url(&building),
            max_size: 1,
            min_idle: Some(0),
            ..PoolSettings::default()
        })?;
        run_migrations(&pool)?;
        drop(pool);
        server
            .batch_execute(&format!(
                "ALTER DATABASE {} RENAME TO {}",
                quote_identifier(&building),
                quote_identifier(name)
            ))
            .map_err(setup_error)?;
        Ok(())
    })();
    server
        .batch_execute(&format!("SELECT pg_advisory_unlock({TEMPLATE_LOCK})"))
        .map_err(setup_error)?;
    built
}

/// Drops every template database (finished or half-built) but `current`: those of
/// earlier versions of `migrations/` would otherwise stay forever. Called holding
/// `TEMPLATE_LOCK`, so none of them is being built; failures are reported, not fatal.
fn drop_other_templates(server: &mut PgConnection, current: &str) {
    #[derive(QueryableByName)]
    struct Database {
        #[diesel(sql_type = Text)]
        datname: String,
    }
    let pattern = format!("{}%", TEMPLATE_PREFIX.replace('_', "\\_"));
    let templates: Vec<Database> = match diesel::sql_query(
        "SELECT datname FROM pg_database WHERE datname LIKE $1 AND datname <> $2",
    )
    .bind::<Text, _>(&pattern)
    .bind::<Text, _>(current)
    .load(server)
    {
        Ok(templates) => templates,
        Err(error) => {
            eprintln!("could not list old template databases: {error}");
            return;
        }
    };
    for Database { datname } in templates {
        let drop = format!(
            "DROP DATABASE IF EXISTS {} WITH (FORCE)",
            quote_identifier(&datname)
        );
        if let Err(error) = server.batch_execute(&drop) {
            eprintln!("could not drop old template database {datname}: {error}");
        }
    }
}

/// Drops the test databases of processes that are gone (crashed or killed runs).
fn sweep_leftovers(server: &mut PgConnection) {
    #[derive(QueryableByName)]
    struct Database {
        #[diesel(sql_type = Text)]
        datname: String,
    }
    // Without /proc there is no telling whether a process runs: sweep nothing.
    if !Path::new("/proc/self").exists() {
        return;
    }
    let pattern = format!("{}%", TEST_PREFIX.replace('_', "\\_"));
    let databases: Vec<Database> =
        match diesel::sql_query("SELECT datname FROM pg_database WHERE datname LIKE $1")
            .bind::<Text, _>(&pattern)
            .load(server)
        {
            Ok(databases) => databases,
            Err(error) => {
                eprintln!("could not list leftover test databases: {error}");
                return;
            }
        };
    for Database { datname } in databases {
        let pid = datname
            .strip_prefix(TEST_PREFIX)
            .and_then(|rest| rest.split('_').next())
            .and_then(|pid| pid.parse::<u32>().ok());
        let Some(pid) = pid else { continue };
        if Path::new("/proc").join(pid.to_string()).exists() {
            continue;
        }
        let drop = format!(
            "DROP DATABASE IF EXISTS {} WITH (FORCE)",
            quote_identifier(&datname)
        );
        if let Err(error) = server.batch_execute(&drop) {
            eprintln!("could not drop leftover test database {datname}: {error}");
        }
    }
}

/// An error and its sources, for panic messages.
fn causes(error: &dyn std::error::Error) -> String {
    let mut text = error.to_string();
    let mut source = error.source();
    while let Some(cause) = source {
        text.push_str(": ");
        text.push_str(&cause.to_string());
        source = cause.source();
    }
    text
}

/// A hash of every file under `migrations/` (names and contents), stable across builds
/// and toolchains (FNV-1a), so the template's name changes exactly when they do.
fn migrations_fingerprint() -> u64 {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../migrations");
    let mut files = Vec::new();
    collect_files(&root, &mut files).unwrap_or_else(|error| {
        panic!("cannot read the migrations in {}: {error}", root.display())
    });
    files.sort();
    let mut hash: u64 = 0xcbf2_9ce4_8422_2325;
    for path in files {
        let relative = path.strip_prefix(&root).unwrap_or(&path);
        let contents = std::fs::read(&path)
            .unwrap_or_else(|error| panic!("cannot read {}: {error}", path.display()));
        for byte in relative
            .to_string_lossy()
            .as_bytes()
            .iter()
            .chain([0u8].iter())
            .chain(contents.iter())
            .chain([0u8].iter())
        {
            hash ^= u64::from(*byte);
            hash = hash.wrapping_mul(0x0000_0100_0000_01b3);
        }
    }
    hash
}

fn collect_files(dir: &Path, files: &mut Vec<std::path::PathBuf>) -> std::io::Result<()> {
    for entry in std::fs::read_dir(dir)? {
        let path = entry?.path();
        if path.is_dir() {
            collect_files(&path, files)?;
        } else {
            files.push(path);
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn templates_of_other_migration_sets_are_dropped_and_the_current_one_kept() {
        let current = template();
        let old = format!("{TEMPLATE_PREFIX}{:016x}_building", std::process::id());
        let mut server = admin_connection();
        server
            .batch_execute(&format!(
                "CREATE DATABASE {} TEMPLATE template0",
                quote_identifier(&old)
            ))
            .unwrap();

        drop_other_templates(&mut server, current);

        assert!(!database_exists(&mut server, &old).unwrap());
        assert!(database_exists(&mut server, current).unwrap());
    }
}
