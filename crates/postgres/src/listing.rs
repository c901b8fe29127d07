//! Listing tickets a page at a time: one query, `id > after ORDER BY id LIMIT limit + 1`
//! (the extra row says whether a next page exists), filtered by the same phase predicates
//! as the guarded writes. The indexes that serve every filter in id order are in
//! `migrations/2026-11-27-000000_listing_indexes`; `docs/listing-indexes.md` shows the plans.

use diesel::prelude::*;
use ticketing_domain::Timestamp;
use ticketing_ports::{TicketError, TicketPage, TicketQuery};

use crate::error::storage_error;
use crate::pool::PooledPg;
use crate::repository::in_phases;
use crate::row::TicketRow;
use crate::schema::tickets;

pub(crate) fn list(
    connection: &mut PooledPg,
    query: &TicketQuery,
    now: Timestamp,
) -> Result<TicketPage, TicketError> {
    use tickets::dsl as t;

    let after = query.after.map_or(0, |id| id.get());
    let mut statement = t::tickets
        .select(TicketRow::as_select())
        .filter(t::id.gt(after))
        .order(t::id.asc())
        .limit(i64::from(query.limit.get()) + 1)
        .into_boxed();
    if let Some(status) = query.status {
        statement = statement.filter(in_phases(status.phases(), now));
    }
    if let Some(event_name) = &query.event_name {
        statement = statement.filter(t::event_name.eq(event_name.as_str()));
    }
    let rows: Vec<TicketRow> = statement.load(connection).map_err(storage_error)?;
    let tickets = rows
        .into_iter()
        .map(TicketRow::into_ticket)
        .collect::<Result<Vec<_>, _>>()?;
    Ok(TicketPage::from_one_more(tickets, query.limit))
}
