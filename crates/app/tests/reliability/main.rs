//! Reliability: the real `ticketing` binary under faults made for real. Each scenario
//! starts its own PostgreSQL cluster (initdb/pg_ctl on a free port, so it may be
//! stopped, frozen and restarted) and its own service processes on free ports of
//! 127.0.0.1, drives load through them recording every request, breaks something, and
//! then checks the timings it promises and, with the checker, that every acknowledged
//! answer agrees with the database and no invariant was broken.
//!
//! Scenarios run one at a time (they measure timings on a small machine); every loop is
//! bounded in time and count.

// Tests panic on purpose when something is wrong.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod abuse;
mod checker;
mod cluster;
#[path = "../common/mod.rs"]
mod common;
mod database;
mod http;
mod instances;
mod load;
mod pool;
mod service;
mod shutdown;

use std::sync::{Mutex, MutexGuard};
use std::time::Duration;

use cluster::Cluster;

/// The database every scenario's services use (created by the service at start-up).
pub(crate) const DATABASE: &str = "ticketing";

/// Timeouts of the scenarios' services, short so that faults show within seconds.
pub(crate) const CHECKOUT_TIMEOUT: Duration = Duration::from_millis(1000);
pub(crate) const STATEMENT_TIMEOUT: Duration = Duration::from_millis(1000);
pub(crate) const RESPONSE_DEADLINE: Duration = Duration::from_millis(3000);

/// Scenarios measure timings on a two-core machine: one at a time.
pub(crate) fn one_at_a_time() -> MutexGuard<'static, ()> {
    static LOCK: Mutex<()> = Mutex::new(());
    LOCK.lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner)
}

/// The configuration every scenario starts from (each overrides what it tests).
pub(crate) fn service_env(cluster: &Cluster) -> Vec<(String, String)> {
    let checkout = CHECKOUT_TIMEOUT.as_millis().to_string();
    let statement = STATEMENT_TIMEOUT.as_millis().to_string();
    let deadline = RESPONSE_DEADLINE.as_millis().to_string();
    service::with(
        &service::base_env(&cluster.url(DATABASE)),
        &[
            ("APP__DATABASE__POOL_MAX_SIZE", "8"),
            ("APP__DATABASE__POOL_MIN_IDLE", "2"),
            ("APP__DATABASE__CHECKOUT_TIMEOUT_MS", &checkout),
            ("APP__DATABASE__CONNECT_TIMEOUT_SECONDS", "2"),
            ("APP__DATABASE__STATEMENT_TIMEOUT_MS", &statement),
            ("APP__DATABASE__STARTUP_TIMEOUT_SECONDS", "10"),
            ("APP__SERVER__RESPONSE_DEADLINE_MS", &deadline),
        ],
    )
}

/// Sleeps until `at` on the load's clock (bounded: `at` is a few seconds away).
pub(crate) fn sleep_until(load: &load::Load, at: Duration) {
    let left = at.saturating_sub(load.now());
    assert!(left < Duration::from_secs(60), "sleeping {left:?} is a bug");
    std::thread::sleep(left);
}
