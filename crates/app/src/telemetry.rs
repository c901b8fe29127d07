//! Logging: a `tracing` subscriber writing pretty or JSON lines to stderr.
//!
//! Each HTTP request runs in a `request` span (request id, method, route, status,
//! latency; target `ticketing_http::request`); both formats print the span's fields
//! with every event inside it, JSON under `"span"`.

use std::io::IsTerminal;

use tracing::Subscriber;
use tracing_subscriber::fmt::MakeWriter;
use tracing_subscriber::util::SubscriberInitExt;
use tracing_subscriber::EnvFilter;

use crate::settings::{LogFormat, LogSettings};

/// Installs the global subscriber, writing to stderr. The level was validated with the
/// settings; a second call (as in tests that start several applications) keeps the
/// first subscriber.
pub fn init(settings: &LogSettings) {
    // Colours help a person at a terminal and garble log files and collectors.
    let ansi = std::io::stderr().is_terminal() && std::env::var_os("NO_COLOR").is_none();
    // `try_init` also routes the `log` records of dependencies (actix-server) here.
    let _already_installed = subscriber(settings, std::io::stderr, ansi).try_init();
}

/// The subscriber [`init`] installs, writing to `writer`; tests capture its lines.
pub fn subscriber<W>(
    settings: &LogSettings,
    writer: W,
    ansi: bool,
) -> Box<dyn Subscriber + Send + Sync>
where
    W: for<'writer> MakeWriter<'writer> + Send + Sync + 'static,
{
    let filter = EnvFilter::try_new(&settings.level).unwrap_or_else(|_| EnvFilter::new("info"));
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(writer)
        .with_ansi(ansi);
    match settings.format {
        LogFormat::Json => Box::new(
            builder
                .json()
                .flatten_event(true)
                .with_current_span(true)
                // The list of spans would repeat the request span on every line, and
                // re-serialising it halved the throughput of a trivial request.
                .with_span_list(false)
                .finish(),
        ),
        LogFormat::Pretty => Box::new(builder.compact().finish()),
    }
}
