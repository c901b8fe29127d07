//! Wiring: prepare the database, build the service and run the HTTP server until a
//! signal asks it to drain and stop.

use std::net::TcpListener;
use std::sync::Arc;
use std::time::{Duration, Instant};

use actix_web::dev::{Server, ServerHandle};
use actix_web::HttpServer;
use anyhow::Context;
use ticketing_domain::{Clock, SystemClock};
use ticketing_http::{Limits, TicketUseCases};
use ticketing_ports::{TicketRepository, TicketService};
use ticketing_postgres::{PgPool, PgTicketRepository, SetupError};

use crate::settings::{DatabaseSettings, Settings};

/// How long to wait between attempts to reach the database at start-up.
const STARTUP_RETRY_INTERVAL: Duration = Duration::from_millis(500);

/// A bound, not yet running HTTP server with everything it serves.
pub struct Application {
    server: Server,
    port: u16,
    /// Stopped when the server stops (`run_until_stopped`).
    sweeper: Option<crate::sweeper::Sweeper>,
}

impl std::fmt::Debug for Application {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Application")
            .field("port", &self.port)
            .finish_non_exhaustive()
    }
}

impl Application {
    /// Prepares the database (waiting for it up to `database.startup_timeout_seconds`),
    /// then binds the listener. Port 0 picks a free port: see [`Application::port`].
    pub async fn build(settings: &Settings) -> anyhow::Result<Self> {
        let database = settings.database.clone();
        let pool = actix_web::rt::task::spawn_blocking(move || prepare_database(&database))
            .await
            .context("database preparation panicked")??;

        let render_metrics =
            crate::metrics::renderer(crate::metrics::install_recorder(), pool.clone());
        let repository: Arc<dyn TicketRepository> = Arc::new(PgTicketRepository::new(pool));
        let clock: Arc<dyn Clock> = Arc::new(SystemClock);
        let service: Arc<TicketUseCases> = Arc::new(
            TicketService::new(repository, clock, settings.reservation)
                .requiring_hold_token(settings.require_hold_token),
        );
        let sweeper = crate::sweeper::Sweeper::spawn(service.clone(), settings.sweeper);

        let server_settings = &settings.server;
        let address = (server_settings.host.as_str(), server_settings.port);
        let listener = TcpListener::bind(address)
            .with_context(|| format!("cannot listen on {}:{}", address.0, address.1))?;
        let port = listener.local_addr()?.port();

        let limits = Limits {
            response_deadline: Some(server_settings.response_deadline()),
            // Waiting for a blocking thread is waiting for a connection: same timeout.
            queue_wait: Some(settings.database.checkout_timeout()),
        };
        let mut server = HttpServer::new(move || {
            ticketing_http::app(service.clone(), render_metrics.clone(), limits)
        })
        // Signals are handled in `serve`, so that SIGINT drains like SIGTERM does.
        .disable_signals()
        .shutdown_timeout(server_settings.shutdown_timeout_seconds)
        .client_request_timeout(server_settings.client_request_timeout())
        .keep_alive(Duration::from_secs(server_settings.keep_alive_seconds))
        .max_connections(server_settings.max_connections_per_worker)
        .backlog(server_settings.backlog);
        let workers = crate::sizing::workers(server_settings.workers);
        server = server.workers(workers).worker_max_blocking_threads(
            crate::sizing::blocking_threads_per_worker(settings.database.pool_max_size, workers),
        );
        let server = server.listen(listener)?.run();
        tracing::info!(
            host = %server_settings.host,
            port,
            ttl_seconds = settings.reservation.ttl().num_seconds(),
            environment = %settings.environment,
            "listening"
        );
        Ok(Self {
            server,
            port,
            sweeper,
        })
    }

    pub fn port(&self) -> u16 {
        self.port
    }

    pub fn handle(&self) -> ServerHandle {
        self.server.handle()
    }

    /// Serves until the server is stopped (through [`Application::handle`]), then stops
    /// the expiry sweeper: one shutdown path for both.
    pub async fn run_until_stopped(self) -> std::io::Result<()> {
        let served = self.server.await;
        if let Some(sweeper) = self.sweeper {
            sweeper.stop().await;
        }
        served
    }
}

/// `ticketing serve`: runs until SIGINT or SIGTERM, then drains in-flight requests.
pub fn serve(settings: Settings) -> anyhow::Result<()> {
    actix_web::rt::System::new().block_on(async move {
        let application = Application::build(&settings).await?;
        let handle = application.handle();
        actix_web::rt::spawn(async move {
            wait_for_shutdown_signal().await;
            tracing::info!("shutdown requested: draining in-flight requests");
            handle.stop(true).await;
        });
        application.run_until_stopped().await?;
        tracing::info!("stopped");
        Ok(())
    })
}

/// `ticketing migrate`: creates the database if needed and applies pending migrations.
pub fn migrate(settings: &Settings) -> anyhow::Result<()> {
    prepare_database(&settings.database).map(drop)
}

/// Creates the database if it does not exist, applies pending migrations and returns a
/// pool, retrying while the server cannot be reached until the start-up timeout.
pub(crate) fn prepare_database(settings: &DatabaseSettings) -> anyhow::Result<PgPool> {
    let url = &settings.url;
    let deadline = Instant::now() + settings.startup_timeout();
    let mut attempts = 0u32;
    loop {
        attempts += 1;
        match try_prepare_database(settings) {
            Ok(pool) => return Ok(pool),
            Err(error)
                if is_unreachable(&error) && Instant::now() + STARTUP_RETRY_INTERVAL < deadline =>
            {
                tracing::warn!(%url, attempts, error = format!("{error:#}"), "database not ready; retrying");
                std::thread::sleep(STARTUP_RETRY_INTERVAL);
            }
            Err(error) => {
                return Err(error.context(format!(
                    "could not reach the database at {url} within {} s ({attempts} attempts)",
                    settings.startup_timeout_seconds
                )))
            }
        }
    }
}

/// Only an unreachable server is worth waiting for; a bad migration or URL is not.
fn is_unreachable(error: &anyhow::Error) -> bool {
    matches!(
        error.downcast_ref::<SetupError>(),
        Some(SetupError::Unavailable(_))
    )
}

fn try_prepare_database(settings: &DatabaseSettings) -> anyhow::Result<PgPool> {
    let pool_settings = settings.pool_settings();
    if ticketing_postgres::create_database_if_missing(&pool_settings)? {
        tracing::info!("created the database");
    }
    let pool = ticketing_postgres::connect(&pool_settings)?;
    let applied = ticketing_postgres::run_migrations(&pool)?;
    if !applied.is_empty() {
        tracing::info!(?applied, "applied migrations");
    }
    Ok(pool)
}

async fn wait_for_shutdown_signal() {
    use tokio::signal::unix::{signal, SignalKind};
    match (
        signal(SignalKind::terminate()),
        signal(SignalKind::interrupt()),
    ) {
        (Ok(mut terminate), Ok(mut interrupt)) => {
            tokio::select! {
                _ = terminate.recv() => {}
                _ = interrupt.recv() => {}
            }
        }
        (Err(error), _) | (_, Err(error)) => {
            // Without signal handlers the process would still stop on a signal, just not
            // gracefully; say so instead of failing to start.
            tracing::error!(%error, "cannot listen for shutdown signals");
            std::future::pending::<()>().await;
        }
    }
}
