//! Scenario 3: pool exhaustion. Four times more clients than pooled connections while
//! every ticket's row is locked, so each write holds its connection until the statement
//! timeout: requests wait at most the checkout timeout for a connection, then get 503;
//! nothing crashes, memory stays bounded, and service is normal once the load ends.

use std::time::{Duration, Instant};

use crate::cluster::Cluster;
use crate::load::{self, Load, Mix, Plan};
use crate::service::{self, MemoryWatch, Service};
use crate::{checker, http, one_at_a_time, service_env, sleep_until, CHECKOUT_TIMEOUT, DATABASE};

const POOL_SIZE: usize = 4;
/// Twice the checkout timeout, so the two kinds of 503 can be told apart by their time.
const STATEMENT_TIMEOUT: Duration = Duration::from_millis(2000);

#[test]
fn an_exhausted_pool_answers_503_after_the_checkout_timeout_and_recovers() {
    let _serial = one_at_a_time();
    let cluster = Cluster::start("pool");
    let env = service::with(
        &service_env(&cluster),
        &[
            ("APP__DATABASE__POOL_MAX_SIZE", &POOL_SIZE.to_string()),
            ("APP__DATABASE__POOL_MIN_IDLE", &POOL_SIZE.to_string()),
            (
                "APP__DATABASE__STATEMENT_TIMEOUT_MS",
                &STATEMENT_TIMEOUT.as_millis().to_string(),
            ),
            ("APP__SERVER__RESPONSE_DEADLINE_MS", "5000"),
        ],
    );
    let service = Service::start("service", cluster.dir(), &env);
    let tickets = cluster.insert_tickets(DATABASE, 1000);
    let baseline_kib = service.rss_kib();
    let memory = MemoryWatch::start(service.pid());

    let load = Load::start(Plan {
        ports: vec![service.port()],
        tickets,
        clients: POOL_SIZE * 4,
        pause: Duration::from_millis(5),
        fresh_connections: false,
        mix: Mix::default(),
    });
    std::thread::sleep(Duration::from_millis(1500));
    // Every row locked: each reserve and confirm waits on its row until cancelled.
    let mut locker = cluster.session(DATABASE);
    locker.run("BEGIN; SELECT id FROM tickets FOR UPDATE;");
    let locked = load.now();
    sleep_until(&load, locked + Duration::from_secs(6));
    let unlocking = load.now();
    locker.run("ROLLBACK;");
    locker.close();
    std::thread::sleep(Duration::from_millis(500));
    let records = load.finish();
    let peak_kib = memory.peak_kib();

    let failures = load::failures(&records);
    assert!(
        failures.is_empty(),
        "{} requests failed (500 or no answer), e.g. {:?}",
        failures.len(),
        failures.first()
    );
    // Lock taken (give psql 200 ms to get it) until released.
    let exhausted: Vec<_> = records
        .iter()
        .filter(|r| r.sent_at >= locked + Duration::from_millis(200) && r.sent_at < unlocking)
        .collect();
    let unavailable = exhausted.iter().filter(|r| r.status() == Some(503)).count();
    // 503s sooner than the statement timeout: no connection came within the checkout timeout.
    let no_connection: Vec<_> = exhausted
        .iter()
        .filter(|r| r.status() == Some(503) && r.elapsed < STATEMENT_TIMEOUT)
        .collect();
    assert!(
        no_connection.len() > 10,
        "the pool was never exhausted: {} 503s for want of a connection; {:?}",
        no_connection.len(),
        load::status_counts(&records)
    );
    for record in &no_connection {
        assert!(
            record.elapsed < CHECKOUT_TIMEOUT + Duration::from_millis(700),
            "answered 503 {:?} after waiting for a connection: {record:?}",
            record.elapsed
        );
    }
    // A request waits for a connection at most the checkout timeout; one that got a
    // connection waits on the lock at most the statement timeout.
    let limit = CHECKOUT_TIMEOUT + STATEMENT_TIMEOUT + Duration::from_millis(700);
    let slowest = records.iter().map(|r| r.elapsed).max().unwrap();
    assert!(
        slowest < limit,
        "a request took {slowest:?} (limit {limit:?})"
    );
    let waited_for_checkout = exhausted
        .iter()
        .filter(|r| r.status() == Some(503))
        .filter(|r| r.elapsed < CHECKOUT_TIMEOUT - Duration::from_millis(100))
        .count();
    assert!(
        waited_for_checkout * 10 < unavailable,
        "{waited_for_checkout} of {unavailable} 503s came before the checkout timeout"
    );
    let grown_kib = peak_kib.saturating_sub(baseline_kib);
    assert!(
        grown_kib < 64 * 1024,
        "memory grew by {grown_kib} KiB (from {baseline_kib} KiB)"
    );

    // Once the load ends, requests are served at once again.
    let probe = load::create_tickets(service.port(), 1)[0];
    for _ in 0..20 {
        let sent = Instant::now();
        let answer = http::request(
            service.port(),
            "GET",
            &format!("/api/tickets/{probe}"),
            None,
        )
        .unwrap();
        assert_eq!(answer.status, 200, "{answer:?}");
        assert!(
            sent.elapsed() < Duration::from_millis(500),
            "took {:?}",
            sent.elapsed()
        );
    }
    let held = http::request(
        service.port(),
        "POST",
        &format!("/api/tickets/{probe}/reservation"),
        None,
    )
    .unwrap();
    assert_eq!(held.status, 201, "{held:?}");

    let summary = checker::check(&records, &checker::rows(&cluster, DATABASE));
    eprintln!(
        "pool: {} requests {:?}, {unavailable} 503 while exhausted ({} without a connection), slowest {slowest:?}, \
         memory {baseline_kib} KiB -> peak {peak_kib} KiB; {summary:?}",
        records.len(),
        load::status_counts(&records),
        no_connection.len()
    );
}
