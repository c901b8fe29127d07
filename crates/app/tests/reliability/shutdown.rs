//! Scenario 5: SIGTERM while requests are in flight. They complete, new connections are
//! refused, the process exits 0 within the shutdown timeout, and nothing is half-written.

use std::io::ErrorKind;
use std::net::{SocketAddr, TcpStream};
use std::time::Duration;

use crate::cluster::Cluster;
use crate::load::{self, Load, Mix, Plan};
use crate::service::{self, Service};
use crate::{checker, one_at_a_time, service_env, sleep_until, DATABASE};

const SHUTDOWN_TIMEOUT: Duration = Duration::from_secs(10);

#[test]
fn sigterm_under_load_finishes_in_flight_requests_refuses_new_ones_and_exits_0() {
    let _serial = one_at_a_time();
    let cluster = Cluster::start("shutdown");
    let env = service::with(
        &service_env(&cluster),
        &[
            (
                "APP__SERVER__SHUTDOWN_TIMEOUT_SECONDS",
                &SHUTDOWN_TIMEOUT.as_secs().to_string(),
            ),
            // In-flight writes wait on a row lock for 1.5 s; none may be cancelled.
            ("APP__DATABASE__STATEMENT_TIMEOUT_MS", "5000"),
            ("APP__SERVER__RESPONSE_DEADLINE_MS", "8000"),
        ],
    );
    let mut service = Service::start("service", cluster.dir(), &env);
    let tickets = cluster.insert_tickets(DATABASE, 1000);

    let load = Load::start(Plan {
        ports: vec![service.port()],
        tickets,
        clients: 8,
        pause: Duration::from_millis(10),
        fresh_connections: false,
        mix: Mix::default(),
    });
    std::thread::sleep(Duration::from_secs(1));
    // Every row locked, so the writes under way stay in flight until it is released.
    let mut locker = cluster.session(DATABASE);
    locker.run("BEGIN; SELECT id FROM tickets FOR UPDATE;");
    std::thread::sleep(Duration::from_millis(500));
    let terminating = load.now();
    service.signal("TERM");
    std::thread::sleep(Duration::from_millis(500));
    let address = SocketAddr::from(([127, 0, 0, 1], service.port()));
    let new_connection = TcpStream::connect_timeout(&address, Duration::from_secs(1));
    sleep_until(&load, terminating + Duration::from_millis(1500));
    locker.run("ROLLBACK;");
    locker.close();
    let status = service.wait_exit(SHUTDOWN_TIMEOUT + Duration::from_secs(5));
    let exited = load.now();
    let records = load.finish();

    let status = status.expect("the service did not exit after SIGTERM");
    assert!(status.success(), "exit status {status}");
    assert!(
        exited - terminating < SHUTDOWN_TIMEOUT + Duration::from_secs(1),
        "exited {:?} after SIGTERM",
        exited - terminating
    );
    match new_connection {
        Err(error) => assert_eq!(error.kind(), ErrorKind::ConnectionRefused, "{error}"),
        Ok(_) => panic!("a new connection was accepted after SIGTERM"),
    }
    // Everything sent before SIGTERM was answered, those still in flight included.
    let before: Vec<_> = records.iter().filter(|r| r.sent_at < terminating).collect();
    let unanswered: Vec<_> = before.iter().filter(|r| r.outcome.is_err()).collect();
    assert!(
        unanswered.is_empty(),
        "{} requests sent before SIGTERM got no answer, e.g. {:?}",
        unanswered.len(),
        unanswered.first()
    );
    let in_flight: Vec<_> = before
        .iter()
        .filter(|r| r.answered_at() > terminating)
        .collect();
    assert!(
        in_flight.len() >= 4,
        "only {} requests were in flight at SIGTERM",
        in_flight.len()
    );
    for record in &in_flight {
        assert!(
            matches!(record.status(), Some(200 | 201 | 401 | 403 | 404 | 409)),
            "in flight at SIGTERM: {record:?}"
        );
    }
    let errors: Vec<_> = records
        .iter()
        .filter(|r| r.status().is_some_and(|status| status >= 500))
        .collect();
    assert!(errors.is_empty(), "server errors: {:?}", errors.first());

    let summary = checker::check(&records, &checker::rows(&cluster, DATABASE));
    eprintln!(
        "shutdown: {} requests {:?}, {} in flight at SIGTERM, exit 0 after {:?}; {summary:?}",
        records.len(),
        load::status_counts(&records),
        in_flight.len(),
        exited - terminating
    );
}
