//! Listing tickets from PostgreSQL: each listing is planned with its values (what it
//! selects and how it pages is the repository contract's, `tests/contract.rs`).

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::sync::Mutex;

use common::{at, new_ticket};
use diesel::connection::{set_default_instrumentation, Instrumentation, InstrumentationEvent};
use ticketing_domain::StatusFilter;
use ticketing_ports::{TicketQuery, TicketRepository};
use ticketing_postgres::test_db::TestDatabase;

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
