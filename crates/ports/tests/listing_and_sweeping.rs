//! Listing tickets page by page and sweeping lapsed holds, over the in-memory repository.

// Tests panic on purpose when something is wrong.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::sync::Arc;

use chrono::{TimeDelta, TimeZone, Utc};
use ticketing_domain::{
    Clock, EventName, Hold, ManualClock, NewTicket, Reservation, ReservationPolicy,
    ReservationStatus, StatusFilter, TicketId,
};
use ticketing_ports::memory::{Fault, InMemoryTicketRepository};
use ticketing_ports::{PageLimit, TicketError, TicketQuery, TicketService};

type Service = TicketService<Arc<InMemoryTicketRepository>, Arc<ManualClock>>;

fn service() -> (Service, Arc<ManualClock>, Arc<InMemoryTicketRepository>) {
    let clock = Arc::new(ManualClock::new(
        Utc.with_ymd_and_hms(2026, 11, 26, 12, 0, 0).unwrap(),
    ));
    let repository = Arc::new(InMemoryTicketRepository::new());
    let policy = ReservationPolicy::from_ttl_seconds(60).unwrap();
    let service = TicketService::new(repository.clone(), clock.clone(), policy);
    (service, clock, repository)
}

fn create(service: &Service, event: &str) -> TicketId {
    let ticket = NewTicket {
        event_name: EventName::parse(event).unwrap(),
        seat: None,
    };
    service.create_ticket(&ticket).unwrap().ticket.id
}

fn ids(service: &Service, query: &TicketQuery) -> Vec<i64> {
    let page = service.list_tickets(query).unwrap();
    page.tickets
        .iter()
        .map(|view| view.ticket.id.get())
        .collect()
}

fn status_query(status: StatusFilter) -> TicketQuery {
    TicketQuery {
        status: Some(status),
        ..TicketQuery::default()
    }
}

/// Tickets 1..=5: never reserved, held, lapsed, expired, confirmed; ticket 6 at
/// another event, never reserved.
#[test]
fn each_status_filter_lists_the_tickets_in_its_phases_as_seen_now() {
    let (service, clock, repository) = service();
    let now = clock.now();
    let hold = |from: i64, to: i64| {
        Hold::new(now + TimeDelta::seconds(from), now + TimeDelta::seconds(to)).unwrap()
    };
    let made: Vec<TicketId> = (0..5).map(|_| create(&service, "Opening Night")).collect();
    let other = create(&service, "Matinee");
    repository.force_reservation(made[1], Reservation::Tentative(hold(-10, 50)));
    repository.force_reservation(made[2], Reservation::Tentative(hold(-60, 0)));
    repository.force_reservation(made[3], Reservation::Expired(hold(-90, -30)));
    let sold = Reservation::confirmed(hold(-90, -30), now - TimeDelta::seconds(60)).unwrap();
    repository.force_reservation(made[4], sold);

    assert_eq!(ids(&service, &TicketQuery::default()), [1, 2, 3, 4, 5, 6]);
    assert_eq!(
        ids(&service, &status_query(StatusFilter::Available)),
        [1, 3, 4, 6]
    );
    assert_eq!(ids(&service, &status_query(StatusFilter::Tentative)), [2]);
    assert_eq!(ids(&service, &status_query(StatusFilter::Expired)), [3, 4]);
    assert_eq!(ids(&service, &status_query(StatusFilter::Confirmed)), [5]);
    let matinee = TicketQuery {
        event_name: Some(EventName::parse("Matinee").unwrap()),
        ..TicketQuery::default()
    };
    assert_eq!(ids(&service, &matinee), [other.get()]);
    let available_matinee = TicketQuery {
        status: Some(StatusFilter::Available),
        ..matinee
    };
    assert_eq!(ids(&service, &available_matinee), [6]);

    // A moment later the held ticket has lapsed: statuses are as seen now.
    clock.advance(TimeDelta::seconds(50));
    assert_eq!(ids(&service, &status_query(StatusFilter::Tentative)), []);
    assert_eq!(
        ids(&service, &status_query(StatusFilter::Expired)),
        [2, 3, 4]
    );
}

#[test]
fn pages_follow_one_another_until_the_last_says_so() {
    let (service, _, _) = service();
    for _ in 0..7 {
        create(&service, "Opening Night");
    }
    let mut query = TicketQuery {
        limit: PageLimit::new(3).unwrap(),
        ..TicketQuery::default()
    };
    let mut pages = Vec::new();
    loop {
        let page = service.list_tickets(&query).unwrap();
        pages.push(
            page.tickets
                .iter()
                .map(|view| view.ticket.id.get())
                .collect::<Vec<_>>(),
        );
        match page.next_after {
            Some(after) => query.after = Some(after),
            None => break,
        }
    }
    assert_eq!(pages, [vec![1, 2, 3], vec![4, 5, 6], vec![7]]);

    // A page that ends exactly at the last ticket says there is no next one.
    query.after = Some(TicketId::new(4).unwrap());
    let page = service.list_tickets(&query).unwrap();
    assert_eq!(page.tickets.len(), 3);
    assert_eq!(page.next_after, None);
}

#[test]
fn a_sweep_expires_only_lapsed_holds_in_bounded_batches() {
    let (service, clock, _) = service();
    let tickets: Vec<TicketId> = (0..5).map(|_| create(&service, "Opening Night")).collect();
    for id in &tickets[..4] {
        service.reserve(*id).unwrap();
    }
    service.confirm(tickets[3]).unwrap();
    clock.advance(TimeDelta::seconds(60) - TimeDelta::microseconds(1));
    assert_eq!(service.expire_lapsed_holds(10).unwrap(), 0, "still active");
    clock.advance(TimeDelta::microseconds(1));
    assert_eq!(service.expire_lapsed_holds(2).unwrap(), 2);
    assert_eq!(service.expire_lapsed_holds(2).unwrap(), 1);
    assert_eq!(service.expire_lapsed_holds(2).unwrap(), 0);
    let statuses: Vec<_> = tickets
        .iter()
        .map(|id| {
            service
                .ticket(*id)
                .unwrap()
                .ticket
                .reservation
                .stored_status()
        })
        .collect();
    use ReservationStatus::{Confirmed, Expired};
    assert_eq!(
        statuses,
        [
            Some(Expired),
            Some(Expired),
            Some(Expired),
            Some(Confirmed),
            None
        ]
    );
}

#[test]
fn listing_and_sweeping_fail_like_storage() {
    let (service, _, repository) = service();
    repository.set_fault(Some(Fault::Unavailable));
    assert!(matches!(
        service.list_tickets(&TicketQuery::default()),
        Err(TicketError::Unavailable(_))
    ));
    assert!(matches!(
        service.expire_lapsed_holds(10),
        Err(TicketError::Unavailable(_))
    ));
}
