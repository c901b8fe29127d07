//! `TicketView::written`: whether a use case changed the stored ticket, which callers use
//! to count real changes (a repeated confirm is not a second sale).

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::sync::Arc;

use chrono::TimeDelta;
use ticketing_domain::{EventName, ManualClock, NewTicket, ReservationPolicy};
use ticketing_ports::memory::InMemoryTicketRepository;
use ticketing_ports::testing::INSTANT;
use ticketing_ports::TicketService;

#[test]
fn only_use_cases_that_change_the_ticket_report_a_write() {
    let clock = Arc::new(ManualClock::new(INSTANT));
    let service = TicketService::new(
        Arc::new(InMemoryTicketRepository::new()),
        clock.clone(),
        ReservationPolicy::from_ttl_seconds(60).unwrap(),
    );
    let created = service
        .create_ticket(&NewTicket {
            event_name: EventName::parse("Opening Night").unwrap(),
            seat: None,
        })
        .unwrap();
    assert!(created.written);
    let id = created.ticket.id;
    assert!(!service.ticket(id).unwrap().written);

    let token = service.reserve(id).unwrap().token;
    assert!(service.release(id, Some(&token)).unwrap().written);
    let issued = service.reserve(id).unwrap();
    assert!(issued.hold.tickets[0].written);
    let token = Some(&issued.token);
    clock.advance(TimeDelta::seconds(1));
    assert!(service.confirm(id, token).unwrap().written, "the sale");
    clock.advance(TimeDelta::seconds(1));
    let again = service.confirm(id, token).unwrap();
    assert!(!again.written, "a repeated confirm sells nothing");
    assert!(!service.ticket(id).unwrap().written);
}
