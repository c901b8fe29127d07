//! `postgres://` URLs: [`DatabaseUrl`], the one type the service holds a database URL
//! in (a secret: it may carry a password), the database it names, and the libpq
//! parameters the pool adds to it.

use std::fmt;
use std::str::FromStr;
use std::time::Duration;

use percent_encoding::percent_decode_str;
use secrecy::{ExposeSecret, SecretString};
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

/// A `postgres://` (or `postgresql://`) URL naming a database. It may carry a password,
/// so it is a secret: `Debug` and `Display` show it with the password replaced by `***`,
/// and the text itself is read only through [`ExposeSecret::expose_secret`], where a
/// connection is opened.
#[derive(Clone)]
pub struct DatabaseUrl(SecretString);

impl DatabaseUrl {
    /// Checks that `text` is a `postgres://` URL naming a database.
    pub fn parse(text: &str) -> Result<Self, InvalidDatabaseUrl> {
        database_name(text)?;
        Ok(Self(SecretString::from(text)))
    }

    /// The database the URL names (its path, percent-decoded).
    pub fn database(&self) -> String {
        // Checked by `parse`.
        database_name(self.expose_secret()).unwrap_or_default()
    }
}

impl FromStr for DatabaseUrl {
    type Err = InvalidDatabaseUrl;

    fn from_str(text: &str) -> Result<Self, Self::Err> {
        Self::parse(text)
    }
}

impl ExposeSecret<str> for DatabaseUrl {
    fn expose_secret(&self) -> &str {
        self.0.expose_secret()
    }
}

impl PartialEq for DatabaseUrl {
    fn eq(&self, other: &Self) -> bool {
        self.expose_secret() == other.expose_secret()
    }
}

impl Eq for DatabaseUrl {}

impl fmt::Display for DatabaseUrl {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&redact_url(self.expose_secret()))
    }
}

impl fmt::Debug for DatabaseUrl {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_tuple("DatabaseUrl")
            .field(&redact_url(self.expose_secret()))
            .finish()
    }
}

/// The URL with any password replaced, fit for messages, logs and `Debug`.
fn redact_url(url: &str) -> String {
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
fn parse_url(url: &str) -> Result<Url, InvalidDatabaseUrl> {
    let parsed = Url::parse(url).map_err(InvalidDatabaseUrl::NotAUrl)?;
    if matches!(parsed.scheme(), "postgres" | "postgresql") {
        Ok(parsed)
    } else {
        Err(InvalidDatabaseUrl::Scheme(parsed.scheme().to_owned()))
    }
}

/// The database a `postgres://` URL names (its path, percent-decoded).
fn database_name(url: &str) -> Result<String, InvalidDatabaseUrl> {
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

impl DatabaseUrl {
    /// This URL changed by `edit`; a [`DatabaseUrl`] is always a parseable URL.
    fn edited(&self, edit: impl FnOnce(&mut Url)) -> Result<Self, SetupError> {
        let mut parsed = parse_url(self.expose_secret())?;
        edit(&mut parsed);
        Ok(Self(SecretString::from(String::from(parsed))))
    }

    /// The same server and parameters, naming database `name`.
    pub(crate) fn with_database(&self, name: &str) -> Result<Self, SetupError> {
        self.edited(|url| url.set_path(name))
    }

    /// With libpq's `connect_timeout` parameter, unless the URL already has one.
    pub(crate) fn with_connect_timeout(&self, timeout: Duration) -> Result<Self, SetupError> {
        self.edited(|url| {
            if url.query_pairs().all(|(key, _)| key != "connect_timeout") {
                // libpq counts whole seconds and reads 1 as 2; round up so a timeout
                // never shrinks.
                let seconds = timeout.as_secs() + u64::from(timeout.subsec_nanos() > 0);
                url.query_pairs_mut()
                    .append_pair("connect_timeout", &seconds.max(2).to_string());
            }
        })
    }

    /// With libpq's TCP keepalive parameters for `keepalive` (see
    /// [`PoolSettings::tcp_keepalive`](crate::PoolSettings::tcp_keepalive)), leaving
    /// alone any the URL sets itself.
    pub(crate) fn with_keepalive(&self, keepalive: Option<Duration>) -> Result<Self, SetupError> {
        let Some(keepalive) = keepalive else {
            return Ok(self.clone());
        };
        let seconds = (keepalive.as_secs() + u64::from(keepalive.subsec_nanos() > 0)).max(1);
        let parameters = [
            ("keepalives", "1".to_owned()),
            ("keepalives_idle", seconds.to_string()),
            ("keepalives_interval", seconds.to_string()),
            ("keepalives_count", "3".to_owned()),
            ("tcp_user_timeout", (seconds * 4 * 1000).to_string()),
        ];
        self.edited(|url| {
            for (key, value) in parameters {
                if url.query_pairs().all(|(existing, _)| existing != key) {
                    url.query_pairs_mut().append_pair(key, &value);
                }
            }
        })
    }
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
    fn only_postgres_urls_naming_a_database_parse() {
        let url = DatabaseUrl::parse("postgresql://u:p@h:5432/ticketing").unwrap();
        assert_eq!(url.database(), "ticketing");
        assert!(matches!(
            DatabaseUrl::parse("host=h dbname=db"),
            Err(InvalidDatabaseUrl::NotAUrl(_))
        ));
        assert_eq!(
            "mysql://h/db".parse::<DatabaseUrl>().err(),
            Some(InvalidDatabaseUrl::Scheme("mysql".into()))
        );
        assert_eq!(
            DatabaseUrl::parse("postgres://h:5432").err(),
            Some(InvalidDatabaseUrl::NoDatabase)
        );
    }

    #[test]
    fn a_database_url_never_shows_its_password() {
        let url = DatabaseUrl::parse("postgres://app:s3cret@db:5432/ticketing").unwrap();
        for shown in [format!("{url}"), format!("{url:?}"), format!("{url:#?}")] {
            assert!(!shown.contains("s3cret"), "{shown}");
            assert!(
                shown.contains("postgres://app:***@db:5432/ticketing"),
                "{shown}"
            );
        }
        assert_eq!(
            url.expose_secret(),
            "postgres://app:s3cret@db:5432/ticketing"
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

    fn with_connect_timeout(url: &str, timeout: Duration) -> String {
        let url = DatabaseUrl::parse(url).unwrap();
        url.with_connect_timeout(timeout)
            .unwrap()
            .expose_secret()
            .to_owned()
    }

    fn with_keepalive(url: &str, keepalive: Option<Duration>) -> String {
        let url = DatabaseUrl::parse(url).unwrap();
        url.with_keepalive(keepalive)
            .unwrap()
            .expose_secret()
            .to_owned()
    }

    #[test]
    fn connect_timeout_is_added_in_whole_seconds_unless_the_url_has_one() {
        let second = Duration::from_secs(1);
        assert_eq!(
            with_connect_timeout("postgres://u@h:5432/db", Duration::from_millis(2500)),
            "postgres://u@h:5432/db?connect_timeout=3"
        );
        assert_eq!(
            with_connect_timeout("postgres://u@h/db?sslmode=disable", second),
            "postgres://u@h/db?sslmode=disable&connect_timeout=2"
        );
        assert_eq!(
            with_connect_timeout("postgres://u@h/db?connect_timeout=9", second),
            "postgres://u@h/db?connect_timeout=9"
        );
    }

    #[test]
    fn keepalive_parameters_are_added_unless_the_url_sets_them() {
        assert_eq!(
            with_keepalive("postgres://u@h/db", Some(Duration::from_millis(1500))),
            "postgres://u@h/db?keepalives=1&keepalives_idle=2&keepalives_interval=2\
             &keepalives_count=3&tcp_user_timeout=8000"
        );
        assert_eq!(
            with_keepalive(
                "postgres://u@h/db?keepalives_idle=60",
                Some(Duration::from_secs(5))
            ),
            "postgres://u@h/db?keepalives_idle=60&keepalives=1&keepalives_interval=5\
             &keepalives_count=3&tcp_user_timeout=20000"
        );
        assert_eq!(
            with_keepalive("postgres://u@h/db", None),
            "postgres://u@h/db"
        );
    }

    #[test]
    fn another_database_on_the_same_server_keeps_the_parameters() {
        let url = DatabaseUrl::parse("postgres://u:p@h:5433/db?sslmode=disable").unwrap();
        let other = url.with_database("postgres").unwrap();
        assert_eq!(
            other.expose_secret(),
            "postgres://u:p@h:5433/postgres?sslmode=disable"
        );
        assert_eq!(other.database(), "postgres");
    }
}
