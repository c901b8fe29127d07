//! Scenarios 1, 2 and 6: the database stops, freezes, or is not there at start-up.

use std::time::{Duration, Instant};

use crate::cluster::Cluster;
use crate::load::{self, Load, Mix, Plan, Record};
use crate::service::{self, Service};
use crate::{checker, http, one_at_a_time, service_env, sleep_until, DATABASE, RESPONSE_DEADLINE};

/// Succeeded or refused by the rules (a confirm without the holder's token, a hold
/// already gone): the service did its work.
fn served(record: &Record) -> bool {
    matches!(record.status(), Some(200 | 201 | 401 | 403 | 404 | 409))
}

fn plan(port: u16, tickets: Vec<i64>) -> Plan {
    Plan {
        ports: vec![port],
        tickets,
        clients: 8,
        pause: Duration::from_millis(10),
        fresh_connections: false,
        mix: Mix::default(),
    }
}

/// Polls `/api/health` until it answers `status`; answers how long that took.
fn health_becomes(port: u16, status: u16, within: Duration) -> Option<Duration> {
    let started = Instant::now();
    while started.elapsed() < within {
        if matches!(http::request(port, "GET", "/api/health", None), Ok(a) if a.status == status) {
            return Some(started.elapsed());
        }
        std::thread::sleep(Duration::from_millis(100));
    }
    None
}

/// Every request sent in `[from, to)` (on the load's clock).
fn sent_between(records: &[Record], from: Duration, to: Duration) -> Vec<&Record> {
    records
        .iter()
        .filter(|record| record.sent_at >= from && record.sent_at < to)
        .collect()
}

fn assert_no_failures(records: &[Record]) {
    let failures = load::failures(records);
    assert!(
        failures.is_empty(),
        "{} requests failed (500 or no answer), e.g. {:?}; statuses {:?}",
        failures.len(),
        failures.iter().take(5).collect::<Vec<_>>(),
        load::status_counts(records)
    );
}

/// After the database comes back at `back`, requests succeed again within 5 s, and
/// every request sent later is served.
fn assert_recovered(records: &[Record], back: Duration) {
    let first_served = records
        .iter()
        .filter(|record| record.sent_at >= back && served(record))
        .map(Record::answered_at)
        .min()
        .expect("no request was served after the database came back");
    assert!(
        first_served - back < Duration::from_secs(5),
        "first request served {:?} after the database came back",
        first_served - back
    );
    let late = sent_between(records, back + Duration::from_secs(5), Duration::MAX);
    assert!(
        late.len() > 50,
        "too little load after recovery: {}",
        late.len()
    );
    let unserved: Vec<_> = late.iter().filter(|record| !served(record)).collect();
    assert!(
        unserved.is_empty(),
        "{} requests sent 5 s after the database came back were not served, e.g. {:?}",
        unserved.len(),
        unserved.first()
    );
}

/// Scenario 1: PostgreSQL is stopped (`pg_ctl stop -m fast`) for 5 s under load and started
/// again: every request during the outage is answered 503 within 3 s, health is 503,
/// and within 5 s of its return requests succeed again, without restarting the service.
#[test]
fn a_database_restart_under_load_is_answered_503_and_recovered_from() {
    let _serial = one_at_a_time();
    let cluster = Cluster::start("restart");
    let mut service = Service::start("service", cluster.dir(), &service_env(&cluster));
    let tickets = cluster.insert_tickets(DATABASE, 1000);

    let load = Load::start(plan(service.port(), tickets));
    std::thread::sleep(Duration::from_secs(2));
    let stopping = load.now();
    cluster.stop_fast();
    let stopped = load.now();
    let health_503 = health_becomes(service.port(), 503, Duration::from_secs(3));
    sleep_until(&load, stopped + Duration::from_secs(5));
    let restarting = load.now();
    cluster.start_again();
    let back = load.now();
    sleep_until(&load, back + Duration::from_secs(8));
    let records = load.finish();

    assert!(
        health_503.is_some(),
        "/api/health did not answer 503 while the database was down"
    );
    assert_no_failures(&records);
    // Sent and answered while the database was down (one still waiting for a connection
    // when it came back may be served: better than 503).
    let outage: Vec<_> = sent_between(&records, stopped, restarting)
        .into_iter()
        .filter(|record| record.answered_at() < restarting)
        .collect();
    assert!(
        outage.len() > 20,
        "too little load during the outage: {}",
        outage.len()
    );
    for record in &outage {
        let answer = record.outcome.as_ref().unwrap();
        assert_eq!(
            (answer.status, answer.error_code()),
            (503, Some("SERVICE_UNAVAILABLE")),
            "during the outage: {record:?}"
        );
    }
    let slowest = records.iter().map(|record| record.elapsed).max().unwrap();
    assert!(
        slowest < Duration::from_secs(3),
        "a request took {slowest:?}"
    );
    assert!(
        sent_between(&records, Duration::ZERO, stopping)
            .iter()
            .filter(|r| served(r))
            .count()
            > 20,
        "too little load was served before the outage"
    );
    assert_recovered(&records, back);
    assert_eq!(
        service.wait_exit(Duration::ZERO),
        None,
        "the service process exited (recovery must not need a restart)"
    );
    assert!(
        health_becomes(service.port(), 200, Duration::from_secs(1)).is_some(),
        "/api/health did not answer 200 after recovery"
    );

    let summary = checker::check(&records, &checker::rows(&cluster, DATABASE));
    // The load tried every kind of confirm: a hold's, and ones without the holder's token.
    assert!(
        summary.hold_confirms > 0 && summary.refused_401 > 0 && summary.refused_403 > 0,
        "{summary:?}"
    );
    eprintln!(
        "restart: {} requests {:?}, {} during the outage, slowest {slowest:?}; {summary:?}",
        records.len(),
        load::status_counts(&records),
        outage.len()
    );
}

/// Scenario 2: every PostgreSQL process is frozen (SIGSTOP) for 10 s under load, then resumed:
/// connections stay open and nothing answers, yet every request is answered within the
/// response deadline (503), and the service recovers on resume.
#[test]
fn a_frozen_database_is_answered_503_within_the_deadline_and_recovered_from() {
    let _serial = one_at_a_time();
    let cluster = Cluster::start("freeze");
    let service = Service::start("service", cluster.dir(), &service_env(&cluster));
    let tickets = cluster.insert_tickets(DATABASE, 1000);

    let load = Load::start(plan(service.port(), tickets));
    std::thread::sleep(Duration::from_secs(2));
    let freezing = load.now();
    cluster.freeze();
    let health_503 = health_becomes(service.port(), 503, RESPONSE_DEADLINE * 2);
    sleep_until(&load, freezing + Duration::from_secs(10));
    let thawing = load.now();
    cluster.thaw();
    sleep_until(&load, thawing + Duration::from_secs(8));
    let records = load.finish();

    assert!(
        health_503.is_some(),
        "/api/health did not answer 503 while the database was frozen"
    );
    assert_no_failures(&records);
    let limit = RESPONSE_DEADLINE + Duration::from_millis(500);
    let slowest = records.iter().map(|record| record.elapsed).max().unwrap();
    assert!(
        slowest < limit,
        "a request took {slowest:?} (deadline {RESPONSE_DEADLINE:?})"
    );
    // Requests sent once the freeze had time to bite (a deadline) until the thaw.
    let frozen: Vec<_> = sent_between(&records, freezing + RESPONSE_DEADLINE, thawing)
        .into_iter()
        .filter(|record| record.answered_at() < thawing)
        .collect();
    assert!(
        frozen.len() > 20,
        "too little load while frozen: {}",
        frozen.len()
    );
    for record in &frozen {
        let answer = record.outcome.as_ref().unwrap();
        assert_eq!(
            (answer.status, answer.error_code()),
            (503, Some("SERVICE_UNAVAILABLE")),
            "while frozen: {record:?}"
        );
    }
    assert_recovered(&records, thawing);

    let summary = checker::check(&records, &checker::rows(&cluster, DATABASE));
    eprintln!(
        "freeze: {} requests {:?}, {} while frozen, slowest {slowest:?}; {summary:?}",
        records.len(),
        load::status_counts(&records),
        frozen.len()
    );
}

/// Scenario 6: at start-up the service waits up to `database.startup_timeout_seconds` for the
/// database: it starts when the database appears within the window, and otherwise exits
/// non-zero saying what it could not reach.
#[test]
fn start_up_waits_for_the_database_then_gives_up_naming_it() {
    let _serial = one_at_a_time();
    let cluster = Cluster::start("startup");
    cluster.stop_fast();
    let url = cluster.url(DATABASE);

    // Never there: exits after the window, non-zero, naming the database.
    let env = service::with(
        &service_env(&cluster),
        &[("APP__DATABASE__STARTUP_TIMEOUT_SECONDS", "3")],
    );
    let started = Instant::now();
    let mut gives_up = Service::spawn("gives-up", cluster.dir(), &env);
    let status = gives_up
        .wait_exit(Duration::from_secs(15))
        .expect("the service did not give up on an absent database");
    let waited = started.elapsed();
    let log = gives_up.log();
    assert!(!status.success(), "exit status {status}: {log}");
    assert!(
        (Duration::from_millis(2500)..Duration::from_secs(8)).contains(&waited),
        "gave up after {waited:?} with a 3 s window: {log}"
    );
    assert!(
        log.contains(&format!("could not reach the database at {url}")),
        "the message does not name the database: {log}"
    );

    // There after 3 s of a 20 s window: starts and serves.
    let env = service::with(
        &service_env(&cluster),
        &[("APP__DATABASE__STARTUP_TIMEOUT_SECONDS", "20")],
    );
    let mut waits = Service::spawn("waits", cluster.dir(), &env);
    std::thread::sleep(Duration::from_secs(3));
    assert!(
        waits.wait_exit(Duration::ZERO).is_none(),
        "the service did not wait for the database: {}",
        waits.log()
    );
    let appearing = Instant::now();
    cluster.start_again();
    waits.wait_ready(Duration::from_secs(10));
    let ready_after = appearing.elapsed();
    assert!(
        ready_after < Duration::from_secs(5),
        "ready {ready_after:?} after the database appeared"
    );
    let tickets = load::create_tickets(waits.port(), 1);
    let held = http::request(
        waits.port(),
        "POST",
        &format!("/api/tickets/{}/reservation", tickets[0]),
        None,
    )
    .unwrap();
    assert_eq!(held.status, 201, "{held:?}");
    eprintln!(
        "start-up: gave up after {waited:?}; ready {ready_after:?} after the database appeared"
    );
}
