//! Prometheus metrics: the process-wide recorder (with the latency histogram's buckets),
//! the rendering behind `GET /metrics` (which refreshes the pool gauges first), the
//! periodic upkeep that drains histogram samples, and the sweeper's run counter.
//!
//! The HTTP adapter records requests, and the use cases (`ticketing-ports`) reservations,
//! through the `metrics` facade; this module decides where they go.

use std::sync::{Arc, OnceLock};
use std::time::Duration;

use metrics_exporter_prometheus::{Matcher, PrometheusBuilder, PrometheusHandle};
use ticketing_http::RenderMetrics;
use ticketing_postgres::PgPool;

/// Request latency buckets, in seconds: a cache-hot read answers in about a millisecond,
/// a request waiting for a pool checkout can take the whole checkout timeout (2 s).
const LATENCY_BUCKETS: [f64; 14] = [
    0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0,
];

/// Tickets per hold: mostly one to a family's few, up to the configurable cap.
const HOLD_SIZE_BUCKETS: [f64; 8] = [1.0, 2.0, 3.0, 4.0, 6.0, 10.0, 25.0, 100.0];

/// How often histogram samples are folded into their buckets when nobody scrapes; without
/// it an unscraped service would keep every sample in memory.
const UPKEEP_INTERVAL: Duration = Duration::from_secs(5);

static HANDLE: OnceLock<PrometheusHandle> = OnceLock::new();

/// Installs the Prometheus recorder as the process's global recorder (once; later calls,
/// as in tests that start several applications, share it) and answers its handle.
pub fn install_recorder() -> PrometheusHandle {
    HANDLE
        .get_or_init(|| {
            let builder = PrometheusBuilder::new()
                .set_buckets_for_metric(
                    Matcher::Full("http_request_duration_seconds".to_owned()),
                    &LATENCY_BUCKETS,
                )
                .and_then(|builder| {
                    builder.set_buckets_for_metric(
                        Matcher::Full("hold_tickets".to_owned()),
                        &HOLD_SIZE_BUCKETS,
                    )
                });
            let recorder = match builder {
                Ok(builder) => builder,
                // Only an empty bucket list is refused, and ours are not empty.
                Err(error) => {
                    tracing::error!(%error, "histogram buckets refused; using summaries");
                    PrometheusBuilder::new()
                }
            }
            .build_recorder();
            let handle = recorder.handle();
            if let Err(error) = metrics::set_global_recorder(recorder) {
                tracing::warn!(%error, "another metrics recorder is installed; /metrics will be empty");
            }
            describe();
            spawn_upkeep(handle.clone());
            handle
        })
        .clone()
}

/// What `GET /metrics` answers: the pool gauges as of now, then every series.
pub fn renderer(handle: PrometheusHandle, pool: PgPool) -> RenderMetrics {
    Arc::new(move || {
        record_pool_state(&pool);
        handle.render()
    })
}

/// Sets the pool gauges from the pool's current state.
pub fn record_pool_state(pool: &PgPool) {
    let state = pool.state();
    let idle = state.idle_connections.min(state.connections);
    metrics::gauge!("db_pool_connections", "state" => "in_use")
        .set(f64::from(state.connections - idle));
    metrics::gauge!("db_pool_connections", "state" => "idle").set(f64::from(idle));
    metrics::gauge!("db_pool_max_connections").set(f64::from(state.max_size));
}

/// One sweep finished (or failed part-way). What it expired is counted by the use case,
/// batch by batch (`reservations_expired_total{by="sweeper"}`).
pub fn sweep_finished(succeeded: bool) {
    let outcome = if succeeded { "ok" } else { "error" };
    metrics::counter!("sweeper_runs_total", "outcome" => outcome).increment(1);
}

fn spawn_upkeep(handle: PrometheusHandle) {
    let spawned = std::thread::Builder::new()
        .name("metrics-upkeep".to_owned())
        .spawn(move || loop {
            std::thread::sleep(UPKEEP_INTERVAL);
            handle.run_upkeep();
        });
    if let Err(error) = spawned {
        tracing::warn!(%error, "cannot start the metrics upkeep thread; histograms drain only when scraped");
    }
}

/// The HELP lines of every series.
fn describe() {
    use metrics::{describe_counter, describe_gauge, describe_histogram, Unit};
    describe_counter!(
        "http_requests_total",
        "HTTP requests answered, by method, route pattern and status"
    );
    describe_histogram!(
        "http_request_duration_seconds",
        Unit::Seconds,
        "Time to answer an HTTP request, by method and route pattern"
    );
    describe_counter!(
        "reservations_created_total",
        "Tickets placed under a tentative hold"
    );
    describe_counter!(
        "holds_created_total",
        "Holds placed, by kind: ticket (the single-ticket route), tickets (a list), best_available"
    );
    describe_histogram!("hold_tickets", "Tickets per hold placed");
    describe_counter!(
        "reservations_confirmed_total",
        "Tickets sold (held tickets confirmed); an idempotent re-confirm does not count"
    );
    describe_counter!(
        "reservations_expired_total",
        "Tickets whose lapsed hold was written EXPIRED, by who found it: the sweeper or a confirm"
    );
    describe_counter!(
        "reservations_released_total",
        "Tickets whose hold was released by its client"
    );
    describe_counter!(
        "sweeper_runs_total",
        "Expiry sweeps run, by outcome (ok, error)"
    );
    describe_gauge!(
        "db_pool_connections",
        "Database connections open, by state (in_use, idle)"
    );
    describe_gauge!("db_pool_max_connections", "The pool's maximum size");
}
