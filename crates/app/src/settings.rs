//! Configuration: `config/default.toml`, then `config/{APP_ENV}.toml`, then environment
//! variables, into typed and validated settings.

use std::collections::HashMap;
use std::fmt;
use std::path::{Path, PathBuf};
use std::time::Duration;

use config::{Config, Map, Source, Value, ValueKind};
use serde::Deserialize;
use ticketing_domain::ReservationPolicy;
use ticketing_postgres::{check_database_url, redact_url};

pub use crate::sweeper::SweeperSettings;

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

/// Validated settings of the whole service.
#[derive(Debug, Clone)]
pub struct Settings {
    pub server: ServerSettings,
    pub database: DatabaseSettings,
    pub reservation: ReservationPolicy,
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
    pub url: String,
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

        let default = source.config_dir.join("default.toml");
        let environment_variables = EnvironmentVariables(source.env.clone());
        let config = Config::builder()
            .add_source(config::File::from(default.clone()))
            .add_source(config::File::from(overlay.clone()).required(false))
            .add_source(environment_variables.clone())
            .build()?;
        let layers = Layers {
            default,
            overlay,
            environment_variables,
        };
        let origin = |key: &str| layers.origin_of(key);
        let raw: RawSettings = config.try_deserialize().map_err(|error| match error {
            config::ConfigError::Type {
                unexpected,
                expected,
                key: Some(key),
                ..
            } => SettingsError::Invalid {
                origin: origin(&key),
                value: unexpected.to_string(),
                reason: format!("expected {expected}"),
                key,
            },
            other => SettingsError::Load(other),
        })?;

        let reservation = ReservationPolicy::from_ttl_seconds(raw.reservation.ttl_seconds)
            .map_err(|error| SettingsError::Invalid {
                key: "reservation.ttl_seconds".to_owned(),
                value: raw.reservation.ttl_seconds.to_string(),
                origin: origin("reservation.ttl_seconds"),
                reason: error.to_string(),
            })?;
        let invalid =
            |key: &'static str, value: &dyn fmt::Display, reason: &str| SettingsError::Invalid {
                key: key.to_owned(),
                value: value.to_string(),
                origin: origin(key),
                reason: reason.to_owned(),
            };

        let db = &raw.database;
        if let Err(error) = check_database_url(&db.url) {
            let reason = error.to_string();
            return Err(invalid("database.url", &redact_url(&db.url), &reason));
        }
        if db.pool_max_size == 0 {
            return Err(invalid("database.pool_max_size", &0, "must be at least 1"));
        }
        if db.pool_min_idle > db.pool_max_size {
            let reason = format!(
                "must not exceed database.pool_max_size ({})",
                db.pool_max_size
            );
            return Err(invalid(
                "database.pool_min_idle",
                &db.pool_min_idle,
                &reason,
            ));
        }
        if db.checkout_timeout_ms == 0 {
            return Err(invalid(
                "database.checkout_timeout_ms",
                &0,
                "must be at least 1",
            ));
        }
        if db.connect_timeout_seconds == 0 {
            return Err(invalid(
                "database.connect_timeout_seconds",
                &0,
                "must be at least 1",
            ));
        }
        if raw.server.host.trim().is_empty() {
            return Err(invalid("server.host", &"\"\"", "must not be empty"));
        }
        if raw.server.shutdown_timeout_seconds == 0 {
            return Err(invalid(
                "server.shutdown_timeout_seconds",
                &0,
                "must be at least 1",
            ));
        }
        if raw.server.response_deadline_ms == 0 {
            return Err(invalid(
                "server.response_deadline_ms",
                &0,
                "must be at least 1",
            ));
        }
        if raw.server.max_connections_per_worker == 0 {
            return Err(invalid(
                "server.max_connections_per_worker",
                &0,
                "must be at least 1",
            ));
        }
        if let Err(error) = tracing_subscriber::EnvFilter::try_new(&raw.log.level) {
            return Err(invalid("log.level", &raw.log.level, &error.to_string()));
        }

        if raw.reservation.sweep_batch_size == 0 {
            return Err(invalid(
                "reservation.sweep_batch_size",
                &0,
                "must be at least 1",
            ));
        }
        if raw.reservation.sweep_interval_seconds > MAX_SWEEP_INTERVAL_SECONDS {
            let reason = format!(
                "must be at most {MAX_SWEEP_INTERVAL_SECONDS} seconds (0 disables the sweeper)"
            );
            return Err(invalid(
                "reservation.sweep_interval_seconds",
                &raw.reservation.sweep_interval_seconds,
                &reason,
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
            sweeper,
            log: raw.log,
            environment,
        })
    }
}

impl DatabaseSettings {
    pub fn checkout_timeout(&self) -> Duration {
        Duration::from_millis(self.checkout_timeout_ms)
    }

    pub fn startup_timeout(&self) -> Duration {
        Duration::from_secs(self.startup_timeout_seconds)
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

/// The configuration layers, for saying where a key's value came from.
struct Layers {
    default: PathBuf,
    overlay: PathBuf,
    environment_variables: EnvironmentVariables,
}

impl Layers {
    /// The last layer that sets `key`: the one whose value won.
    fn origin_of(&self, key: &str) -> String {
        if let Some(variable) = self.environment_variables.variable_for(key) {
            return format!("environment variable {variable}");
        }
        if file_sets(&self.overlay, key) {
            return self.overlay.display().to_string();
        }
        self.default.display().to_string()
    }
}

fn file_sets(path: &Path, key: &str) -> bool {
    path.is_file()
        && Config::builder()
            .add_source(config::File::from(path))
            .build()
            .is_ok_and(|file| file.get::<Value>(key).is_ok())
}

/// The environment as a configuration source, remembering which variable set each key so
/// that errors can name it.
#[derive(Debug, Clone)]
struct EnvironmentVariables(HashMap<String, String>);

impl EnvironmentVariables {
    /// Each key set from the environment, with the variable that sets it: short names win
    /// over the generic `APP__SECTION__KEY` form.
    fn settings(&self) -> Vec<(String, &str, &str)> {
        let mut settings: Vec<(String, &str, &str)> = self
            .0
            .iter()
            .filter_map(|(name, text)| {
                let path = name.strip_prefix(GENERIC_PREFIX)?;
                let key = path.split("__").map(str::to_lowercase).collect::<Vec<_>>();
                Some((key.join("."), name.as_str(), text.as_str()))
            })
            .collect();
        settings.sort();
        for (name, key) in SHORT_NAMES {
            if let Some((name, text)) = self.0.get_key_value(name) {
                settings.retain(|(existing, _, _)| existing != key);
                settings.push((key.to_owned(), name.as_str(), text.as_str()));
            }
        }
        settings
    }

    fn variable_for(&self, key: &str) -> Option<String> {
        self.settings()
            .into_iter()
            .find(|(setting, _, _)| setting == key)
            .map(|(_, name, _)| name.to_owned())
    }
}

impl Source for EnvironmentVariables {
    fn clone_into_box(&self) -> Box<dyn Source + Send + Sync> {
        Box::new(self.clone())
    }

    fn collect(&self) -> Result<Map<String, Value>, config::ConfigError> {
        Ok(self
            .settings()
            .into_iter()
            .map(|(key, name, text)| {
                let origin = format!("environment variable {name}");
                (
                    key,
                    Value::new(Some(&origin), ValueKind::String(text.to_owned())),
                )
            })
            .collect())
    }
}
