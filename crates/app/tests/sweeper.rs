//! The expiry sweeper task: it expires lapsed holds on its own, every interval, and stops
//! at once when told to (as it is when the server stops).

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::sync::Arc;
use std::time::{Duration, Instant};

use chrono::{TimeDelta, TimeZone, Utc};
use common::{load_settings, try_load_settings, TestApp};
use ticketing_app::sweeper::{sweep_once, Sweep, Sweeper, SweeperSettings, MAX_BATCHES_PER_TICK};
use ticketing_domain::{
    Clock, EventName, ManualClock, NewTicket, Reservation, ReservationPolicy, TicketId,
};
use ticketing_http::TicketUseCases;
use ticketing_ports::memory::{Fault, InMemoryTicketRepository};
use ticketing_ports::{TicketRepository, TicketService};

struct Harness {
    service: Arc<TicketUseCases>,
    clock: Arc<ManualClock>,
    repository: Arc<InMemoryTicketRepository>,
}

fn harness() -> Harness {
    let repository = Arc::new(InMemoryTicketRepository::new());
    let clock = Arc::new(ManualClock::new(
        Utc.with_ymd_and_hms(2026, 11, 26, 12, 0, 0).unwrap(),
    ));
    let service = Arc::new(TicketService::new(
        repository.clone() as Arc<dyn TicketRepository>,
        clock.clone() as Arc<dyn Clock>,
        ReservationPolicy::from_ttl_seconds(60).unwrap(),
    ));
    Harness {
        service,
        clock,
        repository,
    }
}

impl Harness {
    fn held_tickets(&self, count: usize) -> Vec<TicketId> {
        (0..count)
            .map(|_| {
                let ticket = NewTicket {
                    event_name: EventName::parse("Opening Night").unwrap(),
                    seat: None,
                };
                let id = self.service.create_ticket(&ticket).unwrap().ticket.id;
                self.service.reserve(id).unwrap();
                id
            })
            .collect()
    }

    fn recorded_expired(&self, ids: &[TicketId]) -> usize {
        ids.iter()
            .filter(|id| {
                matches!(
                    self.repository.find(**id).unwrap().reservation,
                    Reservation::Expired(_)
                )
            })
            .count()
    }
}

#[actix_web::test]
async fn the_sweeper_expires_lapsed_holds_every_interval_and_stops_at_once() {
    let h = harness();
    let first = h.held_tickets(3);
    let sweeper = Sweeper::spawn(
        h.service.clone(),
        SweeperSettings {
            interval: Some(Duration::from_millis(50)),
            batch_size: 2,
        },
    )
    .unwrap();

    // Held: nothing to do for a few ticks.
    actix_web::rt::time::sleep(Duration::from_millis(200)).await;
    assert_eq!(h.recorded_expired(&first), 0);

    h.clock.advance(TimeDelta::seconds(60));
    let deadline = Instant::now() + Duration::from_secs(5);
    while h.recorded_expired(&first) < first.len() {
        assert!(
            Instant::now() < deadline,
            "the sweeper never expired the holds"
        );
        actix_web::rt::time::sleep(Duration::from_millis(20)).await;
    }

    // More holds lapse after the sweeper has stopped: nobody records them.
    let stopping = Instant::now();
    sweeper.stop().await;
    assert!(
        stopping.elapsed() < Duration::from_millis(500),
        "{:?}",
        stopping.elapsed()
    );
    let later = h.held_tickets(2);
    h.clock.advance(TimeDelta::seconds(60));
    actix_web::rt::time::sleep(Duration::from_millis(250)).await;
    assert_eq!(h.recorded_expired(&later), 0);
}

/// With a 50 ms interval, a stop that waited for the next tick would still look quick:
/// a 60 s interval shows that stopping does not wait for it.
#[actix_web::test]
async fn stopping_does_not_wait_for_the_next_tick() {
    let h = harness();
    let sweeper = Sweeper::spawn(
        h.service.clone(),
        SweeperSettings {
            interval: Some(Duration::from_secs(60)),
            batch_size: 10,
        },
    )
    .unwrap();
    actix_web::rt::time::sleep(Duration::from_millis(10)).await;
    let stopping = Instant::now();
    sweeper.stop().await;
    assert!(
        stopping.elapsed() < Duration::from_millis(200),
        "stop took {:?}",
        stopping.elapsed()
    );
}

#[actix_web::test]
async fn a_disabled_sweeper_does_not_start() {
    let h = harness();
    let settings = SweeperSettings {
        interval: None,
        batch_size: 1000,
    };
    assert!(Sweeper::spawn(h.service.clone(), settings).is_none());
}

#[actix_web::test]
async fn one_tick_runs_batches_until_one_comes_back_short() {
    let h = harness();
    let ids = h.held_tickets(7);
    h.clock.advance(TimeDelta::seconds(60));
    let sweep = sweep_once(&h.service, 3).await.unwrap();
    assert_eq!(
        sweep,
        Sweep {
            expired: 7,
            batches: 3
        }
    );
    assert_eq!(h.recorded_expired(&ids), 7);

    // A backlog larger than a tick's batches is left for the next tick.
    let backlog = h.held_tickets(MAX_BATCHES_PER_TICK as usize + 5);
    h.clock.advance(TimeDelta::seconds(60));
    let sweep = sweep_once(&h.service, 1).await.unwrap();
    assert_eq!(sweep.batches, MAX_BATCHES_PER_TICK);
    assert_eq!(sweep.expired, u64::from(MAX_BATCHES_PER_TICK));
    assert_eq!(h.recorded_expired(&backlog), MAX_BATCHES_PER_TICK as usize);
}

#[actix_web::test]
async fn a_failing_tick_reports_what_it_did_and_the_error() {
    let h = harness();
    h.held_tickets(1);
    h.clock.advance(TimeDelta::seconds(60));
    h.repository.set_fault(Some(Fault::Unavailable));
    let (sweep, error) = sweep_once(&h.service, 10).await.unwrap_err();
    assert_eq!(sweep.expired, 0);
    assert!(format!("{error:#}").contains("unavailable"), "{error:#}");
}

#[test]
fn the_sweeper_runs_every_5_seconds_in_batches_of_1000_unless_configured() {
    let settings = load_settings(&[]);
    assert_eq!(
        settings.sweeper,
        SweeperSettings {
            interval: Some(Duration::from_secs(5)),
            batch_size: 1000,
        }
    );
    let settings = load_settings(&[
        ("APP__RESERVATION__SWEEP_INTERVAL_SECONDS", "0"),
        ("APP__RESERVATION__SWEEP_BATCH_SIZE", "7"),
    ]);
    assert_eq!(settings.sweeper.interval, None, "0 disables the sweeper");
    assert_eq!(settings.sweeper.batch_size, 7);
}

#[test]
fn bad_sweeper_settings_are_refused_naming_the_key() {
    let cases = [
        (
            "APP__RESERVATION__SWEEP_BATCH_SIZE",
            "0",
            "reservation.sweep_batch_size",
        ),
        (
            "APP__RESERVATION__SWEEP_BATCH_SIZE",
            "-1",
            "reservation.sweep_batch_size",
        ),
        (
            "APP__RESERVATION__SWEEP_INTERVAL_SECONDS",
            "86401",
            "reservation.sweep_interval_seconds",
        ),
        (
            "APP__RESERVATION__SWEEP_INTERVAL_SECONDS",
            "soon",
            "reservation.sweep_interval_seconds",
        ),
    ];
    for (variable, value, key) in cases {
        let error = try_load_settings(&[(variable, value)])
            .unwrap_err()
            .to_string();
        assert!(error.contains(key), "{variable}={value}: {error}");
        assert!(error.contains(variable), "{variable}={value}: {error}");
    }
}

/// The assembled service over PostgreSQL: the sweeper starts with it, records a lapsed
/// hold as EXPIRED on its own, and ends when the server is stopped.
#[actix_web::test]
async fn the_service_sweeps_its_database_until_it_stops() {
    let database = ticketing_postgres::test_db::TestDatabase::new();
    let repository = database.repository();
    let app = TestApp::spawn(
        database,
        &[
            ("APP__SERVER__WORKERS", "1"),
            ("RESERVATION_TTL_SECONDS", "1"),
            ("APP__RESERVATION__SWEEP_INTERVAL_SECONDS", "1"),
        ],
    )
    .await;

    let ticket = NewTicket {
        event_name: EventName::parse("Opening Night").unwrap(),
        seat: None,
    };
    let id = repository.create(&ticket).unwrap().id;
    let now = ticketing_domain::SystemClock.now();
    let policy = ReservationPolicy::from_ttl_seconds(1).unwrap();
    repository
        .apply(
            id,
            ticketing_domain::Command::Reserve {
                hold: ticketing_ports::testing::OWNER,
                policy,
            },
            now,
        )
        .unwrap();

    // Expires after 1 s; the next sweep (every second) records it.
    let deadline = Instant::now() + Duration::from_secs(10);
    while !matches!(
        repository.find(id).unwrap().reservation,
        Reservation::Expired(_)
    ) {
        assert!(
            Instant::now() < deadline,
            "the service never swept the lapsed hold"
        );
        actix_web::rt::time::sleep(Duration::from_millis(100)).await;
    }

    let stopping = Instant::now();
    app.stop().await;
    assert!(
        stopping.elapsed() < Duration::from_secs(5),
        "{:?}",
        stopping.elapsed()
    );
}

#[actix_web::test]
async fn dropping_the_sweeper_stops_it_too() {
    let h = harness();
    let ids = h.held_tickets(1);
    let sweeper = Sweeper::spawn(
        h.service.clone(),
        SweeperSettings {
            interval: Some(Duration::from_millis(20)),
            batch_size: 10,
        },
    )
    .unwrap();
    drop(sweeper);
    h.clock.advance(TimeDelta::seconds(60));
    actix_web::rt::time::sleep(Duration::from_millis(200)).await;
    assert_eq!(h.recorded_expired(&ids), 0);
}
