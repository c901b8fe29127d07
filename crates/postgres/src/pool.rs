//! The connection pool: its settings, and a handle that keeps Diesel and r2d2 inside
//! this crate.

use std::fmt;
use std::time::Duration;

use diesel::connection::SimpleConnection;
use diesel::pg::PgConnection;
use diesel::r2d2::{CustomizeConnection, Pool, PooledConnection};
use diesel::Connection;
use secrecy::ExposeSecret;
use ticketing_ports::TicketError;

use crate::database_url::DatabaseUrl;
use crate::error::{checkout_error, connection_setup_error};
use crate::liveness::PgManager;
use crate::SetupError;

/// How to reach PostgreSQL and how many connections to keep. `Debug` shows the URL
/// without its password.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PoolSettings {
    /// The database. Default: `postgres://postgres@127.0.0.1:5432/ticketing`.
    pub url: DatabaseUrl,
    /// Most connections open at once. Default: 10.
    pub max_size: u32,
    /// Idle connections the pool keeps open; `None` keeps `max_size`. Default: `None`.
    pub min_idle: Option<u32>,
    /// How long a request waits for a connection before it is answered `Unavailable`.
    /// Default: 2 s (r2d2's own default, 30 s, would hang requests while the database is down).
    pub checkout_timeout: Duration,
    /// How long opening one connection may take (libpq's `connect_timeout`, whole
    /// seconds, at least 2) unless the URL sets its own. Default: 2 s.
    pub connect_timeout: Duration,
    /// PostgreSQL's `statement_timeout` for every pooled connection; `None` keeps the
    /// server's. Default: 5 s. Migrations run on their own connection without it.
    pub statement_timeout: Option<Duration>,
    /// TCP keepalive of every connection: idle time before the first probe and between
    /// probes (libpq's `keepalives_idle`, `keepalives_interval`, whole seconds), with 3
    /// probes, and `tcp_user_timeout` of 4 times it for data left unacknowledged; so a
    /// connection to a database host that vanished is dropped in about 4 times this,
    /// instead of the kernel's default of hours. `None` keeps libpq's and the system's
    /// defaults, as does a parameter the URL sets itself. Default: 10 s.
    pub tcp_keepalive: Option<Duration>,
}

const DEFAULT_URL: &str = "postgres://postgres@127.0.0.1:5432/ticketing";

/// A pool setting that r2d2 cannot work with (it would panic on some of them).
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum InvalidPoolSettings {
    #[error("max_size must be at least 1")]
    MaxSize,
    #[error("min_idle must not exceed max_size ({max_size})")]
    MinIdle { max_size: u32 },
    #[error("checkout_timeout must be positive")]
    CheckoutTimeout,
    #[error("connect_timeout must be positive")]
    ConnectTimeout,
}

impl PoolSettings {
    /// The one place the pool's rules are checked: by [`connect`], and by callers that
    /// want to refuse a configuration before they try to connect.
    pub fn check(&self) -> Result<(), InvalidPoolSettings> {
        if self.max_size == 0 {
            Err(InvalidPoolSettings::MaxSize)
        } else if self.min_idle.is_some_and(|min| min > self.max_size) {
            Err(InvalidPoolSettings::MinIdle {
                max_size: self.max_size,
            })
        } else if self.checkout_timeout.is_zero() {
            Err(InvalidPoolSettings::CheckoutTimeout)
        } else if self.connect_timeout.is_zero() {
            Err(InvalidPoolSettings::ConnectTimeout)
        } else {
            Ok(())
        }
    }
}

impl Default for PoolSettings {
    fn default() -> Self {
        Self {
            url: DEFAULT_URL
                .parse()
                .unwrap_or_else(|_| unreachable!("a valid URL")),
            max_size: 10,
            min_idle: None,
            checkout_timeout: Duration::from_secs(2),
            connect_timeout: Duration::from_secs(2),
            statement_timeout: Some(Duration::from_secs(5)),
            tcp_keepalive: Some(Duration::from_secs(10)),
        }
    }
}

/// A pool of PostgreSQL connections; cheap to clone (clones share the connections).
#[derive(Clone)]
pub struct PgPool {
    pool: Pool<PgManager>,
    /// The URL connections are opened with (connect timeout included), for the
    /// dedicated connection migrations run on.
    url: DatabaseUrl,
}

/// How many connections a pool has open and idle; for gauges.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PoolState {
    pub connections: u32,
    pub idle_connections: u32,
    pub max_size: u32,
}

pub(crate) type PooledPg = PooledConnection<PgManager>;

/// Builds a pool from `settings` without connecting: connections are opened in the
/// background and on demand, so a service can start (and answer `Unavailable`) while the
/// database is down. Checked-out connections are tested first (without a round trip, see
/// `liveness`), so dead ones are replaced.
///
/// Errors: [`SetupError::InvalidSettings`] when [`PoolSettings::check`] refuses them.
pub fn connect(settings: &PoolSettings) -> Result<PgPool, SetupError> {
    settings
        .check()
        .map_err(|error| SetupError::InvalidSettings(error.to_string()))?;
    let url = settings
        .url
        .with_connect_timeout(settings.connect_timeout)?
        .with_keepalive(settings.tcp_keepalive)?;
    let pool = Pool::builder()
        .max_size(settings.max_size)
        .min_idle(settings.min_idle)
        .connection_timeout(settings.checkout_timeout)
        // `PgManager::is_valid` reads the socket instead of a `SELECT 1` round trip.
        .test_on_check_out(true)
        .connection_customizer(Box::new(SessionSettings {
            statement_timeout: settings.statement_timeout,
        }))
        .build_unchecked(PgManager::new(url.expose_secret()));
    Ok(PgPool { pool, url })
}

impl PgPool {
    pub fn state(&self) -> PoolState {
        let state = self.pool.state();
        PoolState {
            connections: state.connections,
            idle_connections: state.idle_connections,
            max_size: self.pool.max_size(),
        }
    }

    /// How long a checkout waits for a connection ([`PoolSettings::checkout_timeout`]).
    pub fn checkout_timeout(&self) -> Duration {
        self.pool.connection_timeout()
    }

    pub(crate) fn checkout(&self) -> Result<PooledPg, TicketError> {
        self.pool.get().map_err(checkout_error)
    }

    pub(crate) fn checkout_within(&self, timeout: Duration) -> Result<PooledPg, TicketError> {
        self.pool.get_timeout(timeout).map_err(checkout_error)
    }

    /// A connection of its own, outside the pool and without its session settings.
    pub(crate) fn dedicated_connection(&self) -> Result<PgConnection, SetupError> {
        PgConnection::establish(self.url.expose_secret()).map_err(connection_setup_error)
    }
}

impl fmt::Debug for PgPool {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("PgPool")
            .field("url", &self.url)
            .field("state", &self.state())
            .field("checkout_timeout", &self.checkout_timeout())
            .finish()
    }
}

/// Session settings applied to every new pooled connection.
#[derive(Debug)]
struct SessionSettings {
    statement_timeout: Option<Duration>,
}

impl CustomizeConnection<PgConnection, diesel::r2d2::Error> for SessionSettings {
    fn on_acquire(&self, connection: &mut PgConnection) -> Result<(), diesel::r2d2::Error> {
        if let Some(timeout) = self.statement_timeout {
            connection
                .batch_execute(&format!("SET statement_timeout = {}", timeout.as_millis()))
                .map_err(diesel::r2d2::Error::QueryError)?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn passwords_never_reach_debug_output() {
        let settings = PoolSettings {
            url: "postgres://app:s3cret@db:5432/ticketing".parse().unwrap(),
            // Nothing to open in the background: this pool is only printed.
            min_idle: Some(0),
            ..PoolSettings::default()
        };
        let shown = format!("{settings:?}");
        assert!(!shown.contains("s3cret"), "{shown}");
        let pool = connect(&settings).unwrap();
        assert!(!format!("{pool:?}").contains("s3cret"));
    }

    #[test]
    fn impossible_pool_sizes_are_refused_before_r2d2_panics_on_them() {
        for settings in [
            PoolSettings {
                max_size: 0,
                ..PoolSettings::default()
            },
            PoolSettings {
                min_idle: Some(11),
                ..PoolSettings::default()
            },
            PoolSettings {
                checkout_timeout: Duration::ZERO,
                ..PoolSettings::default()
            },
            PoolSettings {
                connect_timeout: Duration::ZERO,
                ..PoolSettings::default()
            },
        ] {
            assert!(settings.check().is_err(), "{settings:?}");
            assert!(matches!(
                connect(&settings),
                Err(SetupError::InvalidSettings(_))
            ));
        }
    }

    #[cfg(feature = "test-support")]
    #[test]
    fn pooled_connections_carry_the_statement_timeout() {
        use diesel::sql_types::Text;
        use diesel::{QueryableByName, RunQueryDsl};

        #[derive(QueryableByName)]
        struct Setting {
            #[diesel(sql_type = Text)]
            statement_timeout: String,
        }

        let db = crate::test_db::TestDatabase::new();
        let pool = db.pool_with(PoolSettings {
            statement_timeout: Some(Duration::from_millis(250)),
            ..db.settings()
        });
        let mut connection = pool.checkout().unwrap();
        let setting: Setting = diesel::sql_query("SHOW statement_timeout")
            .get_result(&mut connection)
            .unwrap();
        assert_eq!(setting.statement_timeout, "250ms");
        assert!(diesel::sql_query("SELECT pg_sleep(1)")
            .execute(&mut connection)
            .is_err());
    }
}
