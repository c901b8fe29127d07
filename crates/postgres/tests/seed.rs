//! Bulk seeding creates exactly the tickets asked for, with the ids it reports.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use common::new_ticket;
use ticketing_domain::{EventName, Reservation, TicketId};
use ticketing_ports::{TicketError, TicketRepository};
use ticketing_postgres::test_db::TestDatabase;
use ticketing_postgres::{seed_tickets, TicketBatch};

#[test]
fn seeding_creates_numbered_unreserved_tickets_with_the_reported_ids() {
    let db = TestDatabase::new();
    let repository = db.repository();
    // A ticket already there: the batch's ids come after it.
    let existing = repository.create(&new_ticket()).unwrap().id;

    let event = EventName::parse("Cup Final").unwrap();
    let batch = TicketBatch::new(event.clone(), "B-", 2_500).unwrap();
    let seeded = seed_tickets(&db.pool(), &batch).unwrap();

    assert_eq!(seeded.count, 2_500);
    assert!(seeded.is_contiguous(), "{seeded:?}");
    assert_eq!(seeded.first_id.get(), existing.get() + 1);
    assert_eq!(seeded.last_id.get(), existing.get() + 2_500);

    let first = repository.find(seeded.first_id).unwrap();
    assert_eq!(first.event_name, event);
    assert_eq!(first.seat.unwrap().as_str(), "B-1");
    assert_eq!(first.reservation, Reservation::Unreserved);
    let last = repository.find(seeded.last_id).unwrap();
    assert_eq!(last.seat.unwrap().as_str(), "B-2500");
    let after = TicketId::new(seeded.last_id.get() + 1).unwrap();
    assert!(matches!(
        repository.find(after),
        Err(TicketError::NotFound(_))
    ));

    // A second batch continues the numbering of ids, not of seats.
    let again = seed_tickets(&db.pool(), &TicketBatch::new(event, "", 3).unwrap()).unwrap();
    assert_eq!(again.first_id.get(), seeded.last_id.get() + 1);
    assert_eq!(
        repository
            .find(again.last_id)
            .unwrap()
            .seat
            .unwrap()
            .as_str(),
        "3"
    );
}
