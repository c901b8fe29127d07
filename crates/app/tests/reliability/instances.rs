//! Scenario 4: two service processes over one database, their expiry sweepers running,
//! 64 clients racing for 100 tickets through both: at most one hold per ticket at any
//! time, nothing expired early or twice, no sale lost or undone.

use std::time::Duration;

use crate::cluster::Cluster;
use crate::common::sample;
use crate::load::{self, Load, Mix, Plan};
use crate::service::{self, Service};
use crate::{checker, http, one_at_a_time, service_env, DATABASE};

/// Counts tickets recorded EXPIRED whose hold has not lapsed yet: must stay 0. Against
/// `clock_timestamp()`, read after the statement's snapshot: `now()` is the transaction's
/// start, before the snapshot, so a sweep committed in between (with a `now` of its own
/// later than that start) could show holds lapsed since as expired "early".
const EXPIRED_EARLY: &str = "SELECT count(*) FROM tickets WHERE reservation_status = 'EXPIRED' \
                             AND reservation_expires_at > clock_timestamp()";

#[test]
fn two_instances_with_sweepers_never_hold_a_ticket_twice() {
    let _serial = one_at_a_time();
    let cluster = Cluster::start("instances");
    let env = service::with(
        &service_env(&cluster),
        &[
            ("RESERVATION_TTL_SECONDS", "2"),
            ("APP__RESERVATION__SWEEP_INTERVAL_SECONDS", "1"),
            ("APP__DATABASE__POOL_MAX_SIZE", "16"),
        ],
    );
    // Started together: both create the database and migrate it at once.
    let mut first = Service::spawn("first", cluster.dir(), &env);
    let mut second = Service::spawn("second", cluster.dir(), &env);
    first.wait_ready(Duration::from_secs(30));
    second.wait_ready(Duration::from_secs(30));
    let tickets = cluster.insert_tickets(DATABASE, 100);

    let load = Load::start(Plan {
        ports: vec![first.port(), second.port()],
        tickets: tickets.clone(),
        clients: 64,
        pause: Duration::from_millis(20),
        fresh_connections: false,
        // Few confirmations, so most holds lapse and the sweepers have work.
        mix: Mix {
            reserve: 100,
            confirm: 1,
            read: 20,
            hold: 30,
            confirm_hold: 1,
        },
    });
    // While the sweepers work, no hold is ever found EXPIRED before its time (checked
    // after the load, a 2 s hold would have lapsed by then and the check could not fail).
    let load_ends = load.now() + Duration::from_secs(10);
    let mut early_checks = 0;
    while load.now() < load_ends {
        std::thread::sleep(Duration::from_millis(500));
        let early = cluster.psql(DATABASE, EXPIRED_EARLY);
        assert_eq!(early.trim(), "0", "holds expired before their time");
        early_checks += 1;
    }
    assert!(early_checks >= 5, "only {early_checks} early-expiry checks");
    let records = load.finish();
    // Let the sweepers expire what lapsed at the end.
    std::thread::sleep(Duration::from_millis(3500));

    let failures = load::failures(&records);
    assert!(
        failures.is_empty(),
        "{} requests failed, e.g. {:?}; statuses {:?}",
        failures.len(),
        failures.first(),
        load::status_counts(&records)
    );
    let unavailable = records.iter().filter(|r| r.status() == Some(503)).count();
    assert!(
        unavailable * 100 < records.len(),
        "{unavailable} of {} requests answered 503",
        records.len()
    );
    let rows = checker::rows(&cluster, DATABASE);
    let summary = checker::check(&records, &rows);
    assert!(
        summary.holds > 2 * tickets.len(),
        "too few holds to show anything: {summary:?}"
    );
    for port in [first.port(), second.port()] {
        let served = records
            .iter()
            .filter(|r| r.port == port && r.status() == Some(201))
            .count();
        assert!(
            served > 50,
            "the service on {port} placed only {served} holds"
        );
    }
    // The sweepers expired every lapsed hold (and, still, none before its time).
    let lapsed = cluster.psql(
        DATABASE,
        "SELECT count(*) FROM tickets WHERE reservation_status = 'TENTATIVE' \
         AND reservation_expires_at <= now() - interval '2 seconds'",
    );
    assert_eq!(lapsed.trim(), "0", "lapsed holds the sweepers left");
    let early = cluster.psql(DATABASE, EXPIRED_EARLY);
    assert_eq!(early.trim(), "0", "holds expired before their time");
    // Each hold is expired at most once (by a sweeper, or by a confirm finding it lapsed):
    // the two services together wrote EXPIRED no more often than there were holds that
    // were not sold (plus reserves whose outcome is unknown).
    let mut expired_writes = 0.0;
    for service in [&first, &second] {
        let (status, metrics) = http::get_text(service.port(), "/metrics").unwrap();
        assert_eq!(status, 200, "{metrics}");
        for by in ["sweeper", "confirm"] {
            let series = format!("reservations_expired_total{{by=\"{by}\"}}");
            expired_writes += sample(&metrics, &series).unwrap_or(0.0);
        }
        assert_eq!(
            service.log_lines_with("expiry sweeper started"),
            1,
            "a sweeper did not start"
        );
    }
    // Tickets of holds whose outcome is unknown.
    let unknown_reserves: usize = records
        .iter()
        .filter(|r| matches!(r.op, load::Op::Reserve | load::Op::HoldTickets))
        .filter(|r| !matches!(r.status(), Some(201 | 409)))
        .map(|r| r.tickets.len())
        .sum();
    let unsold_holds = summary.distinct_holds - summary.sold + unknown_reserves;
    assert!(expired_writes > 0.0, "the sweepers expired nothing");
    assert!(
        expired_writes <= unsold_holds as f64,
        "{expired_writes} EXPIRED writes for {unsold_holds} holds that were not sold"
    );
    let expired = cluster.psql(
        DATABASE,
        "SELECT count(*) FROM tickets WHERE reservation_status = 'EXPIRED'",
    );
    eprintln!(
        "instances: {} requests {:?}; {summary:?}; {expired_writes} EXPIRED writes; {} tickets \
         EXPIRED at the end",
        records.len(),
        load::status_counts(&records),
        expired.trim()
    );
}
