//! Listing tickets a page at a time: one query, `id > after ORDER BY id LIMIT limit + 1`
//! (the extra row says whether a next page exists), filtered by the same phase predicates
//! as the guarded writes. The indexes that serve every filter in id order are in
//! `migrations/2026-11-27-000000_listing_indexes`; `docs/listing-indexes.md` shows the plans.

use diesel::pg::Pg;
use diesel::prelude::*;
use diesel::query_builder::{AstPass, Query, QueryFragment, QueryId};
use ticketing_domain::Timestamp;
use ticketing_ports::{TicketError, TicketPage, TicketQuery};

use crate::error::storage_error;
use crate::phases::in_phases;
use crate::pool::PooledPg;
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
    let rows: Vec<TicketRow> = PlannedEachTime(statement)
        .load(connection)
        .map_err(storage_error)?;
    let tickets = rows
        .into_iter()
        .map(TicketRow::into_ticket)
        .collect::<Result<Vec<_>, _>>()?;
    Ok(TicketPage::from_one_more(tickets, query.limit))
}

/// A query PostgreSQL plans afresh with its values each time: Diesel otherwise keeps a
/// listing as a named prepared statement, which PostgreSQL may switch to a generic plan,
/// one blind to how rare a status is or how far `after` reaches (measured: a generic plan
/// scans the whole primary key for `status=available` on a sold-out table, 350 ms, where
/// the planned-each-time one takes a bitmap of `tickets_status_id_idx`, 0.03 ms).
#[derive(Debug, QueryId)]
struct PlannedEachTime<Q>(Q);

impl<Q: Query> Query for PlannedEachTime<Q> {
    type SqlType = Q::SqlType;
}

impl<Q: QueryFragment<Pg>> QueryFragment<Pg> for PlannedEachTime<Q> {
    fn walk_ast<'b>(&'b self, mut out: AstPass<'_, 'b, Pg>) -> QueryResult<()> {
        out.unsafe_to_cache_prepared();
        self.0.walk_ast(out.reborrow())
    }
}

impl<Q, Conn> RunQueryDsl<Conn> for PlannedEachTime<Q> {}
