//! `postgres://` URLs: checking that one can be used, the database it names, the libpq
//! parameters the pool adds to it, and showing it without its password. The one place
//! the service reads database URLs (the app checks its settings with
//! [`check_database_url`]).

use std::time::Duration;

use percent_encoding::percent_decode_str;
use url::Url;

use crate::SetupError;

/// Why a database URL cannot be used.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum InvalidDatabaseUrl {
    #[error("not a URL: {0}")]
    NotAUrl(url::ParseError),
    /// libpq's `key=value` form is refused too, so that the database name and parameters
    /// can be read and changed reliably.
    #[error("the scheme must be postgres:// or postgresql://, got {0}://")]
    Scheme(String),
    #[error("the URL must name a database, e.g. postgres://host:5432/ticketing")]
    NoDatabase,
    #[error("the database name in the URL is not valid UTF-8 once percent-decoded")]
    NotUtf8,
}

impl From<InvalidDatabaseUrl> for SetupError {
    fn from(error: InvalidDatabaseUrl) -> Self {
        SetupError::InvalidSettings(format!("invalid database URL: {error}"))
    }
}

/// Whether `url` is a `postgres://` (or `postgresql://`) URL naming a database: what
/// every function of this crate taking a URL requires.
pub fn check_database_url(url: &str) -> Result<(), InvalidDatabaseUrl> {
    database_name(url).map(drop)
}

/// The URL with any password replaced, fit for messages, logs and `Debug`.
pub fn redact_url(url: &str) -> String {
    match Url::parse(url) {
        Ok(mut parsed) => {
            if parsed.password().is_some() {
                // Only fails for URLs that cannot have a password, which this one has.
                let _ = parsed.set_password(Some("***"));
            }
            parsed.into()
        }
        Err(_) => "<unparsable URL>".to_owned(),
    }
}

/// Parses a `postgres://` URL (see [`InvalidDatabaseUrl::Scheme`]).
pub(crate) fn parse_url(url: &str) -> Result<Url, InvalidDatabaseUrl> {
    let parsed = Url::parse(url).map_err(InvalidDatabaseUrl::NotAUrl)?;
    if matches!(parsed.scheme(), "postgres" | "postgresql") {
        Ok(parsed)
    } else {
        Err(InvalidDatabaseUrl::Scheme(parsed.scheme().to_owned()))
    }
}

/// The database a `postgres://` URL names (its path, percent-decoded).
pub(crate) fn database_name(url: &str) -> Result<String, InvalidDatabaseUrl> {
    let parsed = parse_url(url)?;
    let name = percent_decode_str(parsed.path().trim_start_matches('/'))
        .decode_utf8()
        .map_err(|_| InvalidDatabaseUrl::NotUtf8)?;
    if name.is_empty() {
        Err(InvalidDatabaseUrl::NoDatabase)
    } else {
        Ok(name.into_owned())
    }
}

/// `url` with libpq's `connect_timeout` parameter, unless it already has one.
pub(crate) fn with_connect_timeout(url: &str, timeout: Duration) -> Result<String, SetupError> {
    let mut parsed = parse_url(url)?;
    if parsed
        .query_pairs()
        .all(|(key, _)| key != "connect_timeout")
    {
        // libpq counts whole seconds and reads 1 as 2; round up so a timeout never shrinks.
        let seconds = timeout.as_secs() + u64::from(timeout.subsec_nanos() > 0);
        parsed
            .query_pairs_mut()
            .append_pair("connect_timeout", &seconds.max(2).to_string());
    }
    Ok(parsed.into())
}

/// `url` with libpq's TCP keepalive parameters for `keepalive` (see
/// [`PoolSettings::tcp_keepalive`](crate::PoolSettings::tcp_keepalive)), leaving alone
/// any the URL sets itself.
pub(crate) fn with_keepalive(url: &str, keepalive: Option<Duration>) -> Result<String, SetupError> {
    let Some(keepalive) = keepalive else {
        return Ok(url.to_owned());
    };
    let mut parsed = parse_url(url)?;
    let seconds = (keepalive.as_secs() + u64::from(keepalive.subsec_nanos() > 0)).max(1);
    let parameters = [
        ("keepalives", "1".to_owned()),
        ("keepalives_idle", seconds.to_string()),
        ("keepalives_interval", seconds.to_string()),
        ("keepalives_count", "3".to_owned()),
        ("tcp_user_timeout", (seconds * 4 * 1000).to_string()),
    ];
    for (key, value) in parameters {
        if parsed.query_pairs().all(|(existing, _)| existing != key) {
            parsed.query_pairs_mut().append_pair(key, &value);
        }
    }
    Ok(parsed.into())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_database_is_the_urls_decoded_path() {
        assert_eq!(
            database_name("postgres://u@h:5432/ticketing?sslmode=disable").unwrap(),
            "ticketing"
        );
        assert_eq!(database_name("postgres://u@h/my%20db").unwrap(), "my db");
        assert_eq!(
            database_name("postgres://u@h:5432"),
            Err(InvalidDatabaseUrl::NoDatabase)
        );
        assert_eq!(
            database_name("postgres://u@h/"),
            Err(InvalidDatabaseUrl::NoDatabase)
        );
        assert_eq!(
            database_name("postgres://u@h/%FF"),
            Err(InvalidDatabaseUrl::NotUtf8)
        );
    }

    #[test]
    fn only_postgres_urls_naming_a_database_pass_the_check() {
        assert_eq!(
            check_database_url("postgresql://u:p@h:5432/ticketing"),
            Ok(())
        );
        assert!(matches!(
            check_database_url("host=h dbname=db"),
            Err(InvalidDatabaseUrl::NotAUrl(_))
        ));
        assert_eq!(
            check_database_url("mysql://h/db"),
            Err(InvalidDatabaseUrl::Scheme("mysql".into()))
        );
        assert_eq!(
            check_database_url("postgres://h:5432"),
            Err(InvalidDatabaseUrl::NoDatabase)
        );
    }

    #[test]
    fn passwords_are_redacted() {
        assert_eq!(
            redact_url("postgres://app:s3cret@db:5432/ticketing"),
            "postgres://app:***@db:5432/ticketing"
        );
        assert_eq!(
            redact_url("postgres://app@db/ticketing"),
            "postgres://app@db/ticketing"
        );
        assert_eq!(redact_url("::not a url::"), "<unparsable URL>");
    }

    #[test]
    fn connect_timeout_is_added_in_whole_seconds_unless_the_url_has_one() {
        let second = Duration::from_secs(1);
        assert_eq!(
            with_connect_timeout("postgres://u@h:5432/db", Duration::from_millis(2500)).unwrap(),
            "postgres://u@h:5432/db?connect_timeout=3"
        );
        assert_eq!(
            with_connect_timeout("postgres://u@h/db?sslmode=disable", second).unwrap(),
            "postgres://u@h/db?sslmode=disable&connect_timeout=2"
        );
        assert_eq!(
            with_connect_timeout("postgres://u@h/db?connect_timeout=9", second).unwrap(),
            "postgres://u@h/db?connect_timeout=9"
        );
        assert!(matches!(
            with_connect_timeout("host=h dbname=db", second),
            Err(SetupError::InvalidSettings(_))
        ));
        assert!(matches!(
            with_connect_timeout("mysql://h/db", second),
            Err(SetupError::InvalidSettings(_))
        ));
    }

    #[test]
    fn keepalive_parameters_are_added_unless_the_url_sets_them() {
        assert_eq!(
            with_keepalive("postgres://u@h/db", Some(Duration::from_millis(1500))).unwrap(),
            "postgres://u@h/db?keepalives=1&keepalives_idle=2&keepalives_interval=2\
             &keepalives_count=3&tcp_user_timeout=8000"
        );
        assert_eq!(
            with_keepalive(
                "postgres://u@h/db?keepalives_idle=60",
                Some(Duration::from_secs(5))
            )
            .unwrap(),
            "postgres://u@h/db?keepalives_idle=60&keepalives=1&keepalives_interval=5\
             &keepalives_count=3&tcp_user_timeout=20000"
        );
        assert_eq!(
            with_keepalive("postgres://u@h/db", None).unwrap(),
            "postgres://u@h/db"
        );
    }
}
