//! The expiry a confirm records is counted by the use case, from what PostgreSQL says it
//! wrote: a confirm that finds a lapsed hold writes it EXPIRED and counts it, while a
//! confirm of an already expired hold counts nothing.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::sync::Arc;

use chrono::TimeDelta;
use common::{at, new_ticket};
use metrics_exporter_prometheus::PrometheusBuilder;
use ticketing_domain::{
    Hold, ManualClock, NewHold, Reservation, ReservationError, ReservationPolicy,
};
use ticketing_ports::testing::OWNER;
use ticketing_ports::{HoldToken, TicketError, TicketService};
use ticketing_postgres::test_db::TestDatabase;

const SERIES: &str = r#"reservations_expired_total{by="confirm"}"#;

fn expired_by_confirm(rendered: &str) -> Option<u64> {
    rendered.lines().find_map(|line| {
        let value = line.strip_prefix(SERIES)?.trim();
        Some(value.parse().unwrap())
    })
}

#[test]
fn a_confirm_that_records_a_lapsed_hold_counts_one_expiry() {
    let db = TestDatabase::new();
    let clock = Arc::new(ManualClock::new(at(61)));
    let service = TicketService::new(
        db.repository(),
        clock.clone(),
        ReservationPolicy::from_ttl_seconds(60).unwrap(),
    );
    let id = service.create_ticket(&new_ticket()).unwrap().ticket.id;
    let token = HoldToken::presented("the buyer's token");
    let owner = NewHold {
        owner: token.digest(),
        ..OWNER
    };
    let hold = Hold::new(owner, at(0), at(60)).unwrap();
    common::force_reservation(&db, id, &Reservation::Tentative(hold));

    // A recorder local to this thread: the use case runs here, synchronously.
    let recorder = PrometheusBuilder::new().build_recorder();
    let handle = recorder.handle();
    let confirm = || service.confirm(id, Some(&token));
    let first = metrics::with_local_recorder(&recorder, confirm);
    assert!(matches!(
        first,
        Err(TicketError::Refused(ReservationError::Expired { .. }))
    ));
    assert_eq!(expired_by_confirm(&handle.render()), Some(1));
    assert_eq!(
        service.ticket(id).unwrap().ticket.reservation,
        Reservation::Expired(hold)
    );

    // Already EXPIRED: refused the same way, nothing written, nothing counted.
    clock.advance(TimeDelta::seconds(1));
    let second = metrics::with_local_recorder(&recorder, confirm);
    assert!(matches!(
        second,
        Err(TicketError::Refused(ReservationError::Expired { .. }))
    ));
    assert_eq!(expired_by_confirm(&handle.render()), Some(1));
}
