//! When PostgreSQL cannot be reached, every call answers `Unavailable` within about the
//! checkout timeout instead of hanging; dead connections are replaced, not handed out.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::net::TcpListener;
use std::time::{Duration, Instant};

use common::{at, new_ticket};
use ticketing_domain::{Command, EventName, Proof, TicketId, TicketSet};
use ticketing_ports::testing::{owner_proof, policy, reserve, OWNER};
use ticketing_ports::{TicketError, TicketRepository};
use ticketing_postgres::test_db::TestDatabase;
use ticketing_postgres::{
    connect, create_database_if_missing, run_migrations, DatabaseUrl, PgTicketRepository,
    PoolSettings, SetupError,
};

/// A URL to a local port nothing listens on: connections are refused at once.
fn closed_port_url() -> DatabaseUrl {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    drop(listener);
    format!("postgres://postgres@127.0.0.1:{port}/ticketing")
        .parse()
        .unwrap()
}

#[test]
fn an_unreachable_database_answers_unavailable_within_the_checkout_timeout() {
    let checkout_timeout = Duration::from_millis(500);
    let pool = connect(&PoolSettings {
        url: closed_port_url(),
        checkout_timeout,
        ..PoolSettings::default()
    })
    .expect("the pool is built without connecting");
    let repository = PgTicketRepository::new(pool);
    let id = TicketId::new(1).unwrap();
    let set = TicketSet::new(&[id], 10).unwrap();
    let event = EventName::parse("Opening Night").unwrap();

    type Call<'a> = Box<dyn Fn() -> Result<(), TicketError> + 'a>;
    let calls: [(&str, Call); 8] = [
        (
            "create",
            Box::new(|| repository.create(&new_ticket()).map(drop)),
        ),
        ("find", Box::new(|| repository.find(id).map(drop))),
        (
            "apply",
            Box::new(|| {
                repository
                    .apply(id, Command::Confirm(Proof::ANONYMOUS), at(0))
                    .map(drop)
            }),
        ),
        ("check_health", Box::new(|| repository.check_health())),
        (
            "find_hold",
            Box::new(|| repository.find_hold(OWNER.id).map(drop)),
        ),
        (
            "apply_together",
            Box::new(|| {
                repository
                    .apply_together(&set, reserve(60), at(0))
                    .map(drop)
            }),
        ),
        (
            "apply_to_hold",
            Box::new(|| {
                repository
                    .apply_to_hold(OWNER.id, Command::Confirm(owner_proof()), at(0))
                    .map(drop)
            }),
        ),
        (
            "hold_best_available",
            Box::new(|| {
                repository
                    .hold_best_available(&event, 2, OWNER, &policy(60), at(0))
                    .map(drop)
            }),
        ),
    ];
    for (name, call) in calls {
        let started = Instant::now();
        let result = call();
        let elapsed = started.elapsed();
        assert!(
            matches!(result, Err(TicketError::Unavailable(_))),
            "{name}: {result:?}"
        );
        assert!(
            elapsed < checkout_timeout + Duration::from_millis(1_500),
            "{name} took {elapsed:?}"
        );
    }
}

#[test]
fn setting_up_an_unreachable_database_is_unavailable() {
    let settings = PoolSettings {
        url: closed_port_url(),
        ..PoolSettings::default()
    };
    let pool = connect(&settings).unwrap();
    assert!(matches!(
        run_migrations(&pool),
        Err(SetupError::Unavailable(_))
    ));
    assert!(matches!(
        create_database_if_missing(&settings),
        Err(SetupError::Unavailable(_))
    ));
}

#[test]
fn dead_connections_are_replaced_before_they_are_handed_out() {
    let db = TestDatabase::new();
    let repository = PgTicketRepository::new(db.pool_with(PoolSettings {
        max_size: 2,
        min_idle: Some(2),
        ..db.settings()
    }));
    let id = repository.create(&new_ticket()).unwrap().id;
    repository.check_health().unwrap();

    // The server ends every session of the pool, as a restart or a failover would (and
    // waits until they are gone: the pool learns it from the closed sockets).
    db.execute(
        "SELECT pg_terminate_backend(pid, 5000) FROM pg_stat_activity \
         WHERE datname = current_database() AND pid <> pg_backend_pid()",
    )
    .unwrap();

    assert_eq!(repository.find(id).unwrap().id, id);
    repository.check_health().unwrap();
}
