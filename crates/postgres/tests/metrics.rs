//! The one business counter the adapter keeps: a confirm that finds a lapsed hold writes
//! it EXPIRED and counts it, while a confirm of an already expired hold counts nothing.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use common::{at, hold, new_ticket};
use metrics_exporter_prometheus::PrometheusBuilder;
use ticketing_domain::{Command, Reservation, ReservationError};
use ticketing_ports::{TicketError, TicketRepository};
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
    let repository = db.repository();
    let id = repository.create(&new_ticket()).unwrap().id;
    common::force_reservation(&db, id, &Reservation::Tentative(hold(0, 60)));

    // A recorder local to this thread: `apply` runs here, synchronously.
    let recorder = PrometheusBuilder::new().build_recorder();
    let handle = recorder.handle();
    let confirm = || repository.apply(id, Command::Confirm, at(61));
    let first = metrics::with_local_recorder(&recorder, confirm);
    assert!(matches!(
        first,
        Err(TicketError::Refused(ReservationError::Expired { .. }))
    ));
    assert_eq!(expired_by_confirm(&handle.render()), Some(1));

    // Already EXPIRED: refused the same way, nothing written, nothing counted.
    let second = metrics::with_local_recorder(&recorder, confirm);
    assert!(matches!(
        second,
        Err(TicketError::Refused(ReservationError::Expired { .. }))
    ));
    assert_eq!(expired_by_confirm(&handle.render()), Some(1));
}
