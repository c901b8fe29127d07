//! Configuration: the defaults compiled into the binary (`config/default.toml`), then the
//! optional files `config/default.toml` and `config/{APP_ENV}.toml`, then environment
//! variables, into typed and validated settings. The binary needs no file to start, so
//! it runs from any directory; the files and the environment only override.

use std::collections::HashMap;
use std::fmt;
use std::path::PathBuf;
use std::time::Duration;

use config::{Config, FileFormat, Map, Source, Value, ValueKind};
use secrecy::{ExposeSecret, SecretString};
use serde::Deserialize;
use ticketing_domain::ReservationPolicy;
use ticketing_postgres::{DatabaseUrl, InvalidPoolSettings, PoolSettings};

pub use crate::sweeper::SweeperSettings;

/// The documented defaults, compiled in: every key has a value without any file.
pub const COMPILED_DEFAULTS: &str = include_str!("../../../config/default.toml");

/// Where a value came from when no file or variable set it.
const DEFAULTS_ORIGIN: &str = "the compiled-in defaults (config/default.toml)";

/// Environment variables with a short name, and the key each one sets. They win over
/// the generic `APP__SECTION__KEY` form.
const SHORT_NAMES: [(&str, &str); 5] = [
    ("DATABASE_URL", "database.url"),
    ("RESERVATION_TTL_SECONDS", "reservation.ttl_seconds"),
    ("HOST", "server.host"),
    ("PORT", "server.port"),
    ("RUST_LOG", "log.level"),
];
const GENERIC_PREFIX: &str = "APP__";
/// One day: a sweeper that runs less often than the longest hold lasts is a mistake.
const MAX_SWEEP_INTERVAL_SECONDS: u64 = 86_400;

/// Validated settings of the whole service. `Debug` shows no secret.
#[derive(Debug, Clone)]
pub struct Settings {
    pub server: ServerSettings,
    pub database: DatabaseSettings,
    pub reservation: ReservationPolicy,
    /// Whether acting on a hold needs its token (`reservation.require_hold_token`).
    pub require_hold_token: bool,
    /// The expiry sweeper (`reservation.sweep_*`).
    pub sweeper: SweeperSettings,
    pub log: LogSettings,
    /// The environment the overlay came from (`APP_ENV`).
    pub environment: String,
}

#[derive(Debug, Clone, Deserialize)]
pub struct ServerSettings {
    pub host: String,
    pub port: u16,
    pub workers: usize,
    pub shutdown_timeout_seconds: u64,
    pub client_request_timeout_ms: u64,
    pub response_deadline_ms: u64,
    pub keep_alive_seconds: u64,
    pub max_connections_per_worker: usize,
    pub backlog: u32,
}

#[derive(Debug, Clone, Deserialize)]
pub struct DatabaseSettings {
    /// Checked by [`Settings::load`] before this is deserialized.
    #[serde(deserialize_with = "database_url")]
    pub url: DatabaseUrl,
    pub pool_max_size: u32,
    pub pool_min_idle: u32,
    pub checkout_timeout_ms: u64,
    pub connect_timeout_seconds: u64,
    pub statement_timeout_ms: u64,
    pub tcp_keepalive_seconds: u64,
    pub startup_timeout_seconds: u64,
}

#[derive(Debug, Clone, Deserialize)]
pub struct LogSettings {
    pub level: String,
    pub format: LogFormat,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum LogFormat {
    Pretty,
    Json,
}

#[derive(Debug, Deserialize)]
struct RawSettings {
    server: ServerSettings,
    database: DatabaseSettings,
    reservation: RawReservation,
    log: LogSettings,
}

#[derive(Debug, Deserialize)]
struct RawReservation {
    ttl_seconds: i64,
    /// Unset: the domain's default cap (900 s, or the TTL if longer).
    max_hold_seconds: Option<i64>,
    max_tickets_per_hold: usize,
    require_hold_token: bool,
    sweep_interval_seconds: u64,
    sweep_batch_size: u32,
}

/// Why the settings cannot be used. Each message names the key and where its value came from.
#[derive(Debug, thiserror::Error)]
pub enum SettingsError {
    #[error("cannot read configuration: {0}")]
    Load(#[from] config::ConfigError),
    #[error("invalid configuration: {key} = {value} (from {origin}): {reason}")]
    Invalid {
        key: String,
        value: String,
        origin: String,
        reason: String,
    },
    #[error("APP_ENV is {env:?} but {path} does not exist")]
    MissingOverlay { env: String, path: String },
}

/// Where to read configuration from: the config directory and the environment.
#[derive(Debug, Clone)]
pub struct SettingsSource {
    pub config_dir: PathBuf,
    pub env: HashMap<String, String>,
}

impl SettingsSource {
    /// `./config` (or `APP_CONFIG_DIR`) and this process's environment.
    pub fn from_process() -> Self {
        let env: HashMap<String, String> = std::env::vars().collect();
        let config_dir = env
            .get("APP_CONFIG_DIR")
            .map_or_else(|| PathBuf::from("config"), PathBuf::from);
        Self { config_dir, env }
    }
}

impl Settings {
    pub fn load(source: &SettingsSource) -> Result<Self, SettingsError> {
        let explicit_env = source.env.get("APP_ENV").cloned();
        let environment = explicit_env.clone().unwrap_or_else(|| "local".to_owned());
        let overlay = source.config_dir.join(format!("{environment}.toml"));
        if explicit_env.is_some() && !overlay.is_file() {
            return Err(SettingsError::MissingOverlay {
                env: environment,
                path: overlay.display().to_string(),
            });
        }

        let config = Config::builder()
            .add_source(config::File::from_str(COMPILED_DEFAULTS, FileFormat::Toml))
            .add_source(config::File::from(source.config_dir.join("default.toml")).required(false))
            .add_source(config::File::from(overlay).required(false))
            .add_source(EnvironmentVariables(source.env.clone()))
            .build()?;
        // Every value remembers the file or variable it came from (read through its
        // table: `get::<Value>` would rebuild it without), and the compiled-in defaults
        // have no name of their own.
        let origin = |key: &str| {
            key.rsplit_once('.')
                .and_then(|(section, name)| config.get_table(section).ok()?.remove(name))
                .and_then(|value| value.origin().map(str::to_owned))
                .unwrap_or_else(|| DEFAULTS_ORIGIN.to_owned())
        };
        let invalid = |key: &str, value: &dyn fmt::Display, reason: &dyn fmt::Display| {
            SettingsError::Invalid {
                key: key.to_owned(),
                value: value.to_string(),
                origin: origin(key),
                reason: reason.to_string(),
            }
        };

        // Checked here, where its origin is known; the deserializer only converts it.
        // (`try_deserialize` consumes the configuration, which `origin` still reads.)
        let url: SecretString = config.get("database.url")?;
        if let Err(error) = DatabaseUrl::parse(url.expose_secret()) {
            return Err(invalid("database.url", &"<not shown>", &error));
        }
        let raw: RawSettings = config
            .clone()
            .try_deserialize()
            .map_err(|error| match error {
                config::ConfigError::Type {
                    unexpected,
                    expected,
                    key: Some(key),
                    ..
                } => invalid(&key, &unexpected, &format!("expected {expected}")),
                other => SettingsError::Load(other),
            })?;

        let reservation = ReservationPolicy::from_ttl_seconds(raw.reservation.ttl_seconds)
            .map_err(|error| {
                invalid(
                    "reservation.ttl_seconds",
                    &raw.reservation.ttl_seconds,
                    &error,
                )
            })?;
        let reservation = match raw.reservation.max_hold_seconds {
            None => reservation,
            Some(seconds) => reservation
                .with_max_hold_seconds(seconds)
                .map_err(|error| invalid("reservation.max_hold_seconds", &seconds, &error))?,
        };
        let tickets_per_hold = raw.reservation.max_tickets_per_hold;
        let reservation = reservation
            .with_max_tickets_per_hold(tickets_per_hold)
            .map_err(|error| {
                invalid(
                    "reservation.max_tickets_per_hold",
                    &tickets_per_hold,
                    &error,
                )
            })?;
        if let Err(error) = raw.database.pool_settings().check() {
            let (key, value) = match error {
                InvalidPoolSettings::MaxSize => {
                    ("database.pool_max_size", raw.database.pool_max_size.into())
                }
                InvalidPoolSettings::MinIdle { .. } => {
                    ("database.pool_min_idle", raw.database.pool_min_idle.into())
                }
                InvalidPoolSettings::CheckoutTimeout => (
                    "database.checkout_timeout_ms",
                    raw.database.checkout_timeout_ms,
                ),
                InvalidPoolSettings::ConnectTimeout => (
                    "database.connect_timeout_seconds",
                    raw.database.connect_timeout_seconds,
                ),
            };
            return Err(invalid(key, &value, &error));
        }
        let at_least_one: [(&str, u64); 4] = [
            (
                "server.shutdown_timeout_seconds",
                raw.server.shutdown_timeout_seconds,
            ),
            (
                "server.response_deadline_ms",
                raw.server.response_deadline_ms,
            ),
            (
                "server.max_connections_per_worker",
                raw.server.max_connections_per_worker as u64,
            ),
            (
                "reservation.sweep_batch_size",
                raw.reservation.sweep_batch_size.into(),
            ),
        ];
        if let Some((key, value)) = at_least_one.into_iter().find(|(_, value)| *value == 0) {
            return Err(invalid(key, &value, &"must be at least 1"));
        }
        if raw.server.host.trim().is_empty() {
            return Err(invalid("server.host", &"\"\"", &"must not be empty"));
        }
        if let Err(error) = tracing_subscriber::EnvFilter::try_new(&raw.log.level) {
            return Err(invalid("log.level", &raw.log.level, &error));
        }
        if raw.reservation.sweep_interval_seconds > MAX_SWEEP_INTERVAL_SECONDS {
            return Err(invalid(
                "reservation.sweep_interval_seconds",
                &raw.reservation.sweep_interval_seconds,
                &format!(
                    "must be at most {MAX_SWEEP_INTERVAL_SECONDS} seconds (0 disables the sweeper)"
                ),
            ));
        }
        let sweeper = SweeperSettings {
            interval: (raw.reservation.sweep_interval_seconds > 0)
                .then(|| Duration::from_secs(raw.reservation.sweep_interval_seconds)),
            batch_size: raw.reservation.sweep_batch_size,
        };

        Ok(Self {
            server: raw.server,
            database: raw.database,
            reservation,
            require_hold_token: raw.reservation.require_hold_token,
            sweeper,
            log: raw.log,
            environment,
        })
    }
}

fn database_url<'de, D: serde::Deserializer<'de>>(
    deserializer: D,
) -> Result<DatabaseUrl, D::Error> {
    let text = SecretString::deserialize(deserializer)?;
    DatabaseUrl::parse(text.expose_secret()).map_err(serde::de::Error::custom)
}

impl DatabaseSettings {
    pub fn checkout_timeout(&self) -> Duration {
        Duration::from_millis(self.checkout_timeout_ms)
    }

    pub fn startup_timeout(&self) -> Duration {
        Duration::from_secs(self.startup_timeout_seconds)
    }

    /// The pool these settings describe (0 turns the statement timeout and the TCP
    /// keepalive off).
    pub fn pool_settings(&self) -> PoolSettings {
        PoolSettings {
            url: self.url.clone(),
            max_size: self.pool_max_size,
            min_idle: Some(self.pool_min_idle),
            checkout_timeout: self.checkout_timeout(),
            connect_timeout: Duration::from_secs(self.connect_timeout_seconds),
            statement_timeout: (self.statement_timeout_ms > 0)
                .then(|| Duration::from_millis(self.statement_timeout_ms)),
            tcp_keepalive: (self.tcp_keepalive_seconds > 0)
                .then(|| Duration::from_secs(self.tcp_keepalive_seconds)),
        }
    }
}

impl ServerSettings {
    pub fn client_request_timeout(&self) -> Duration {
        Duration::from_millis(self.client_request_timeout_ms)
    }

    pub fn response_deadline(&self) -> Duration {
        Duration::from_millis(self.response_deadline_ms)
    }
}

/// The environment as a configuration source: short names win over the generic
/// `APP__SECTION__KEY` form, and each value's origin names its variable.
#[derive(Debug, Clone)]
struct EnvironmentVariables(HashMap<String, String>);

impl Source for EnvironmentVariables {
    fn clone_into_box(&self) -> Box<dyn Source + Send + Sync> {
        Box::new(self.clone())
    }

    fn collect(&self) -> Result<Map<String, Value>, config::ConfigError> {
        let value = |name: &str, text: &str| {
            let origin = format!("environment variable {name}");
            Value::new(Some(&origin), ValueKind::String(text.to_owned()))
        };
        let mut settings: Map<String, Value> = self
            .0
            .iter()
            .filter_map(|(name, text)| {
                let path = name.strip_prefix(GENERIC_PREFIX)?;
                let key = path.split("__").map(str::to_lowercase).collect::<Vec<_>>();
                Some((key.join("."), value(name, text)))
            })
            .collect();
        for (name, key) in SHORT_NAMES {
            if let Some(text) = self.0.get(name) {
                settings.insert(key.to_owned(), value(name, text));
            }
        }
        Ok(settings)
    }
}
