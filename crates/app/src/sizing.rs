//! How many threads serve requests, sized together with the database pool: the HTTP
//! workers (one per core by default) hand each database call to their blocking threads,
//! and each blocking thread holds one pooled connection while it runs.

use std::num::NonZeroUsize;

/// The HTTP worker threads: `configured`, or one per core when it is 0.
pub fn workers(configured: usize) -> usize {
    if configured > 0 {
        configured
    } else {
        std::thread::available_parallelism().map_or(2, NonZeroUsize::get)
    }
}

/// Blocking threads per worker, so that all workers together run as many database calls
/// at once as the pool has connections: a call then never parks a thread on the pool's
/// lock waiting for a connection (measured: futex and wake-up costs under load); further
/// calls wait in the worker's queue instead, which costs nothing until a thread is free.
pub fn blocking_threads_per_worker(pool_max_size: u32, workers: usize) -> usize {
    let pool = usize::try_from(pool_max_size).unwrap_or(usize::MAX);
    pool.div_ceil(workers.max(1)).max(1)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_workers_share_the_pool_rounding_up() {
        assert_eq!(blocking_threads_per_worker(32, 2), 16);
        assert_eq!(blocking_threads_per_worker(16, 3), 6);
        assert_eq!(blocking_threads_per_worker(1, 4), 1);
        assert_eq!(blocking_threads_per_worker(8, 0), 8);
        assert_eq!(workers(3), 3);
        assert!(workers(0) >= 1);
    }
}
