//! The expiry sweeper: a background task that, every `reservation.sweep_interval_seconds`,
//! writes EXPIRED onto tentative holds past their time, in batches of
//! `reservation.sweep_batch_size`, until a batch comes back short. Reads already show a
//! lapsed hold as EXPIRED; the sweep makes storage say so too, so listings, reports and
//! the partial index of tentative holds stay small and truthful.
//!
//! Several instances may sweep one database: each batch skips the holds another one is
//! writing (see `TicketRepository::expire_lapsed`). The task is stopped with the HTTP
//! server (`Application::run_until_stopped`); stopping never waits for a tick.

use std::sync::Arc;
use std::time::Duration;

use actix_web::rt::task::JoinHandle;
use ticketing_http::TicketUseCases;

/// Batches one tick runs at most, so a huge backlog is worked off over several ticks
/// rather than in one loop that never yields.
pub const MAX_BATCHES_PER_TICK: u32 = 100;

/// How often the sweeper runs and how many holds one batch expires at most.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SweeperSettings {
    /// `None` disables the sweeper.
    pub interval: Option<Duration>,
    /// At least 1.
    pub batch_size: u32,
}

/// A running sweeper task; [`Sweeper::stop`] ends it, and so does dropping it (so a
/// start-up that fails after spawning it leaves no task behind).
#[derive(Debug)]
pub struct Sweeper {
    task: JoinHandle<()>,
}

/// What one tick did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Sweep {
    pub expired: u64,
    pub batches: u32,
}

impl Sweeper {
    /// Starts sweeping on the current actix/tokio runtime; `None` when `settings`
    /// disable it. The first sweep runs one interval after start-up.
    pub fn spawn(service: Arc<TicketUseCases>, settings: SweeperSettings) -> Option<Self> {
        let interval = settings.interval?;
        let batch_size = settings.batch_size.max(1);
        let task = actix_web::rt::spawn(async move {
            let mut ticks = tokio::time::interval(interval);
            // A tick that ran long is not made up for with a burst of ticks.
            ticks.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
            ticks.tick().await;
            loop {
                ticks.tick().await;
                report(sweep_once(&service, batch_size).await);
            }
        });
        tracing::info!(?interval, batch_size, "expiry sweeper started");
        Some(Self { task })
    }

    /// Stops the task at once: between batches, or while one runs on the blocking pool
    /// (that batch, one atomic statement, still completes there).
    pub async fn stop(mut self) {
        self.task.abort();
        // Only cancellation can come back: the loop never ends or panics by itself.
        let _ = (&mut self.task).await;
        tracing::info!("expiry sweeper stopped");
    }
}

impl Drop for Sweeper {
    fn drop(&mut self) {
        self.task.abort();
    }
}

/// One tick: batches on the blocking pool (Diesel is synchronous) until one comes back
/// short of `batch_size`, at most [`MAX_BATCHES_PER_TICK`]. Answers what was expired
/// before any failure, with the failure.
pub async fn sweep_once(
    service: &Arc<TicketUseCases>,
    batch_size: u32,
) -> Result<Sweep, (Sweep, anyhow::Error)> {
    let mut sweep = Sweep {
        expired: 0,
        batches: 0,
    };
    while sweep.batches < MAX_BATCHES_PER_TICK {
        let service = service.clone();
        let batch =
            actix_web::rt::task::spawn_blocking(move || service.expire_lapsed_holds(batch_size))
                .await;
        sweep.batches += 1;
        let expired = match batch {
            Ok(Ok(expired)) => expired,
            Ok(Err(error)) => return Err((sweep, error.into())),
            Err(panicked) => {
                return Err((sweep, anyhow::anyhow!("sweep batch panicked: {panicked}")))
            }
        };
        sweep.expired += u64::from(expired);
        if expired < batch_size {
            break;
        }
    }
    Ok(sweep)
}

/// Logs and counts a tick.
fn report(outcome: Result<Sweep, (Sweep, anyhow::Error)>) {
    crate::metrics::sweep_finished(outcome.is_ok());
    match outcome {
        Ok(Sweep {
            expired: 0,
            batches,
        }) => {
            tracing::debug!(batches, "expiry sweep: no lapsed holds");
        }
        Ok(Sweep { expired, batches }) => {
            tracing::info!(expired, batches, "expiry sweep: expired lapsed holds");
        }
        Err((Sweep { expired, batches }, error)) => {
            tracing::warn!(
                expired,
                batches,
                error = format!("{error:#}"),
                "expiry sweep failed; retrying next interval"
            );
        }
    }
}
