//! The business counters, counted by the use cases from what the repository says it did:
//! a sale once however often it is confirmed, an expiry by the confirm that recorded it
//! or by the sweep that wrote it, nothing for a refusal.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::sync::Arc;

use chrono::TimeDelta;
use metrics_exporter_prometheus::PrometheusBuilder;
use ticketing_domain::{ManualClock, ReservationPolicy, TicketId};
use ticketing_ports::memory::InMemoryTicketRepository;
use ticketing_ports::testing::{new_ticket, INSTANT};
use ticketing_ports::TicketService;

type Service = TicketService<Arc<InMemoryTicketRepository>, Arc<ManualClock>>;

/// The value of `series` in a Prometheus rendering (`None` before its first increment).
fn sample(rendered: &str, series: &str) -> Option<u64> {
    rendered.lines().find_map(|line| {
        let value = line.strip_prefix(series)?.strip_prefix(' ')?;
        Some(value.trim().parse().unwrap())
    })
}

fn create(service: &Service) -> TicketId {
    service.create_ticket(&new_ticket()).unwrap().ticket.id
}

#[test]
fn use_cases_count_what_they_changed_and_nothing_else() {
    let clock = Arc::new(ManualClock::new(INSTANT));
    let service = TicketService::new(
        Arc::new(InMemoryTicketRepository::new()),
        clock.clone(),
        ReservationPolicy::from_ttl_seconds(60).unwrap(),
    );
    // A recorder local to this thread: the use cases run here, synchronously.
    let recorder = PrometheusBuilder::new().build_recorder();
    let handle = recorder.handle();
    let counts = || {
        let rendered = handle.render();
        [
            "reservations_created_total",
            "reservations_confirmed_total",
            "reservations_released_total",
            r#"reservations_expired_total{by="confirm"}"#,
            r#"reservations_expired_total{by="sweeper"}"#,
        ]
        .map(|series| sample(&rendered, series).unwrap_or(0))
    };

    metrics::with_local_recorder(&recorder, || {
        let sold = create(&service);
        let token = Some(service.reserve(sold).unwrap().token);
        service.reserve(sold).unwrap_err();
        service.confirm(sold, token.as_ref()).unwrap();
        service.confirm(sold, token.as_ref()).unwrap();
        service.release(sold, token.as_ref()).unwrap_err();
        assert_eq!(counts(), [1, 1, 0, 0, 0], "one hold, one sale");

        let released = create(&service);
        service.release(released, None).unwrap_err();
        let token = Some(service.reserve(released).unwrap().token);
        service.release(released, token.as_ref()).unwrap();
        assert_eq!(counts(), [2, 1, 1, 0, 0], "one release");

        let lapsed = create(&service);
        let swept = [create(&service), create(&service)];
        let token = Some(service.reserve(lapsed).unwrap().token);
        for id in swept {
            service.reserve(id).unwrap();
        }
        clock.advance(TimeDelta::seconds(60));
        service.confirm(lapsed, token.as_ref()).unwrap_err();
        service.confirm(lapsed, token.as_ref()).unwrap_err();
        assert_eq!(
            counts(),
            [5, 1, 1, 1, 0],
            "the confirm that recorded the expiry"
        );

        assert_eq!(service.expire_lapsed_holds(10).unwrap(), 2);
        assert_eq!(service.expire_lapsed_holds(10).unwrap(), 0);
        assert_eq!(counts(), [5, 1, 1, 1, 2], "what the sweep wrote");
    });
}
