//! Helpers shared by the PostgreSQL tests: the shared instants and ticket of
//! `ticketing_ports::testing`, writing a reservation into a row by hand, and racing real
//! threads through a warm pool.

// Each test file uses its own subset of these helpers.
#![allow(dead_code)]

use std::sync::{Arc, Barrier};
use std::thread;
use std::time::{Duration, Instant};

use chrono::SecondsFormat;
use ticketing_domain::{Reservation, TicketId, Timestamp, TokenDigest};
// Each test file uses its own subset of the shared fixtures too.
#[allow(unused_imports)]
pub(crate) use ticketing_ports::testing::{at, hold, new_ticket};
use ticketing_postgres::test_db::TestDatabase;
use ticketing_postgres::{PgPool, PgTicketRepository, PoolSettings};

/// A timestamp as a SQL literal, to the microsecond.
pub(crate) fn sql_time(instant: Timestamp) -> String {
    format!(
        "'{}'::timestamptz",
        instant.to_rfc3339_opts(SecondsFormat::Micros, true)
    )
}

fn sql_option(instant: Option<Timestamp>) -> String {
    instant.map_or_else(|| "NULL".to_owned(), sql_time)
}

/// A token digest as a SQL literal.
pub(crate) fn sql_digest(digest: &TokenDigest) -> String {
    let hex: String = digest
        .as_bytes()
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect();
    format!("'\\x{hex}'::bytea")
}

/// Writes `reservation` into ticket `id` with raw SQL, bypassing the rules: its hold's
/// id and token digest too.
pub(crate) fn force_reservation(db: &TestDatabase, id: TicketId, reservation: &Reservation) {
    let status = reservation
        .stored_status()
        .map_or_else(|| "NULL".to_owned(), |status| format!("'{status}'"));
    let (hold_id, digest) = reservation.hold().map_or_else(
        || ("NULL".to_owned(), "NULL".to_owned()),
        |hold| (format!("'{}'::uuid", hold.id()), sql_digest(hold.owner())),
    );
    db.execute(&format!(
        "UPDATE tickets SET reservation_status = {status}, reservation_created_at = {}, \
         reservation_expires_at = {}, reservation_confirmed_at = {}, hold_id = {hold_id}, \
         hold_token_digest = {digest} WHERE id = {id}",
        sql_option(reservation.created_at()),
        sql_option(reservation.expires_at()),
        sql_option(reservation.confirmed_at()),
    ))
    .unwrap();
}

/// A repository whose pool has all its `connections` open, so that threads race in
/// PostgreSQL rather than in the pool's connection set-up.
pub(crate) fn warm_repository(db: &TestDatabase, connections: u32) -> PgTicketRepository {
    let pool: PgPool = db.pool_with(PoolSettings {
        max_size: connections,
        min_idle: Some(connections),
        ..db.settings()
    });
    let deadline = Instant::now() + Duration::from_secs(20);
    while pool.state().idle_connections < connections {
        assert!(Instant::now() < deadline, "pool never warmed: {pool:?}");
        thread::sleep(Duration::from_millis(20));
    }
    PgTicketRepository::new(pool)
}

/// Runs `task(i)` on `threads` threads released at once; answers the results by `i`.
pub(crate) fn race<T: Send + 'static>(
    threads: usize,
    task: impl Fn(usize) -> T + Send + Sync + 'static,
) -> Vec<T> {
    let barrier = Arc::new(Barrier::new(threads));
    let task = Arc::new(task);
    let handles: Vec<_> = (0..threads)
        .map(|i| {
            let (barrier, task) = (barrier.clone(), task.clone());
            thread::spawn(move || {
                barrier.wait();
                task(i)
            })
        })
        .collect();
    handles.into_iter().map(|h| h.join().unwrap()).collect()
}

/// A tiny deterministic generator (xorshift64*): reproducible runs without a dependency.
pub(crate) struct Random(pub(crate) u64);

impl Random {
    pub(crate) fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }

    pub(crate) fn below(&mut self, bound: u64) -> u64 {
        self.next() % bound
    }

    /// 32 random bytes: a token digest nobody holds.
    pub(crate) fn digest(&mut self) -> TokenDigest {
        let mut bytes = [0; 32];
        for chunk in bytes.chunks_mut(8) {
            chunk.copy_from_slice(&self.next().to_le_bytes());
        }
        TokenDigest::from_bytes(bytes)
    }
}
