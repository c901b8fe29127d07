//! Listing tickets from PostgreSQL: every status filter selects exactly the tickets the
//! domain puts in its phases at `now`, alone and with an event name, and paging with
//! `after` visits every matching ticket exactly once, in id order.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::sync::Mutex;

use common::{at, force_reservation, hold, new_ticket, sql_time};
use diesel::connection::{set_default_instrumentation, Instrumentation, InstrumentationEvent};
use ticketing_domain::{
    EventName, NewTicket, Reservation, StatusFilter, Ticket, TicketId, Timestamp,
};
use ticketing_ports::{PageLimit, TicketQuery, TicketRepository};
use ticketing_postgres::test_db::TestDatabase;
use ticketing_postgres::PgTicketRepository;

/// Every page of `query` from the start, checking the pages' shape on the way.
fn all_pages(repository: &PgTicketRepository, query: &TicketQuery, now: Timestamp) -> Vec<Ticket> {
    let mut query = query.clone();
    let mut listed: Vec<Ticket> = Vec::new();
    loop {
        let page = repository.list(&query, now).unwrap();
        assert!(page.tickets.len() <= query.limit.get() as usize);
        assert!(
            page.tickets.windows(2).all(|pair| pair[0].id < pair[1].id),
            "ascending ids"
        );
        if let (Some(last), Some(first)) = (listed.last(), page.tickets.first()) {
            assert!(last.id < first.id, "pages follow one another");
        }
        listed.extend(page.tickets.iter().cloned());
        match page.next_after {
            Some(after) => {
                assert_eq!(Some(after), page.tickets.last().map(|t| t.id));
                query.after = Some(after);
            }
            None => return listed,
        }
    }
}

/// The tickets among `all` that `query` should list at `now`, by the domain's rules.
fn expected(all: &[Ticket], query: &TicketQuery, now: Timestamp) -> Vec<TicketId> {
    all.iter()
        .filter(|ticket| {
            query
                .status
                .is_none_or(|status| status.phases().contains(&ticket.reservation.phase_at(now)))
        })
        .filter(|ticket| {
            query
                .event_name
                .as_ref()
                .is_none_or(|name| *name == ticket.event_name)
        })
        .map(|ticket| ticket.id)
        .collect()
}

/// Every filter: none, each status, each event, each event with each status.
fn queries(events: &[&str], limit: u32) -> Vec<TicketQuery> {
    let limit = PageLimit::new(u64::from(limit)).unwrap();
    let statuses = std::iter::once(None).chain(StatusFilter::ALL.map(Some));
    let names =
        std::iter::once(None).chain(events.iter().map(|e| Some(EventName::parse(*e).unwrap())));
    let names: Vec<Option<EventName>> = names.collect();
    statuses
        .flat_map(|status| {
            names.iter().map(move |event_name| TicketQuery {
                status,
                event_name: event_name.clone(),
                after: None,
                limit,
            })
        })
        .collect()
}

#[test]
fn each_filter_lists_the_tickets_in_its_phases_at_now() {
    let db = TestDatabase::new();
    let repository = db.repository();
    let now = at(0);
    let one_microsecond = chrono::TimeDelta::microseconds(1);
    let reservations = [
        Reservation::Unreserved,
        Reservation::Tentative(hold(-10, 50)),
        Reservation::Tentative(
            ticketing_domain::Hold::new(at(-60), now + one_microsecond).unwrap(),
        ),
        Reservation::Tentative(hold(-60, 0)),
        Reservation::Tentative(hold(-100, -40)),
        Reservation::Expired(hold(-100, -40)),
        Reservation::confirmed(hold(-100, -40), at(-70)).unwrap(),
    ];
    let events = ["Opening Night", "Matinee"];
    for event in events {
        for reservation in &reservations {
            let ticket = NewTicket {
                event_name: EventName::parse(event).unwrap(),
                seat: None,
            };
            let id = repository.create(&ticket).unwrap().id;
            force_reservation(&db, id, reservation);
        }
    }
    let all: Vec<Ticket> = (1..=14)
        .map(|id| repository.find(TicketId::new(id).unwrap()).unwrap())
        .collect();

    for query in queries(&events, 2) {
        let listed: Vec<TicketId> = all_pages(&repository, &query, now)
            .iter()
            .map(|ticket| ticket.id)
            .collect();
        assert_eq!(listed, expected(&all, &query, now), "{query:?}");
    }
    // Each listed ticket is the whole stored ticket.
    let page = repository.list(&TicketQuery::default(), now).unwrap();
    assert_eq!(page.tickets, all);
    assert_eq!(page.next_after, None);
}

#[test]
fn paging_visits_every_matching_ticket_exactly_once() {
    const TICKETS: i64 = 1_234;
    let db = TestDatabase::new();
    let repository = db.repository();
    let now = at(0);
    // Every fifth ticket in each state, spread over three events.
    db.execute(&format!(
        "INSERT INTO tickets (event_name, reservation_status, reservation_created_at, \
         reservation_expires_at, reservation_confirmed_at) \
         SELECT 'Event ' || (g % 3), \
                (ARRAY[NULL, 'TENTATIVE', 'TENTATIVE', 'EXPIRED', 'CONFIRMED'])[g % 5 + 1], \
                CASE WHEN g % 5 > 0 THEN {created} END, \
                CASE g % 5 WHEN 0 THEN NULL WHEN 1 THEN {active} ELSE {lapsed} END, \
                CASE WHEN g % 5 = 4 THEN {confirmed} END \
         FROM generate_series(1, {TICKETS}) AS g",
        created = sql_time(at(-100)),
        active = sql_time(at(60)),
        lapsed = sql_time(at(-40)),
        confirmed = sql_time(at(-50)),
    ))
    .unwrap();

    let everything = all_pages(&repository, &TicketQuery::default(), now);
    let ids: Vec<i64> = everything.iter().map(|ticket| ticket.id.get()).collect();
    assert_eq!(ids, (1..=TICKETS).collect::<Vec<_>>());

    let events = ["Event 0", "Event 1", "Event 2"];
    for limit in [1, 97, 500] {
        for query in queries(&events, limit) {
            let listed: Vec<TicketId> = all_pages(&repository, &query, now)
                .iter()
                .map(|ticket| ticket.id)
                .collect();
            let wanted = expected(&everything, &query, now);
            assert!(!wanted.is_empty(), "{query:?}");
            assert_eq!(listed, wanted, "{query:?}");
        }
    }
}

/// The SQL of every statement a connection of this process kept prepared.
static CACHED: Mutex<Vec<String>> = Mutex::new(Vec::new());

fn record_cached_statements() -> Option<Box<dyn Instrumentation>> {
    Some(Box::new(|event: InstrumentationEvent<'_>| {
        if let InstrumentationEvent::CacheQuery { sql, .. } = event {
            CACHED.lock().unwrap().push(sql.to_owned());
        }
    }))
}

/// A kept statement could get a generic plan, blind to how rare a status is; a listing
/// must be planned with its values every time (see `PlannedEachTime`).
#[test]
fn a_listing_is_planned_with_its_values_every_time() {
    set_default_instrumentation(record_cached_statements).unwrap();
    let db = TestDatabase::new();
    let repository = db.repository();
    let id = repository.create(&new_ticket()).unwrap().id;
    for _ in 0..3 {
        repository.find(id).unwrap();
        for status in StatusFilter::ALL {
            let query = TicketQuery {
                status: Some(status),
                ..TicketQuery::default()
            };
            repository.list(&query, at(0)).unwrap();
        }
    }
    let cached = CACHED.lock().unwrap().clone();
    assert!(
        cached.iter().any(|sql| sql.starts_with("SELECT")),
        "a lookup is kept prepared, so caching was observed: {cached:#?}"
    );
    assert!(
        !cached.iter().any(|sql| sql.contains("ORDER BY")),
        "no listing is kept prepared: {cached:#?}"
    );
}
