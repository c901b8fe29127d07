//! Prepared-statement reuse for the guarded writes. Diesel never caches an `UPDATE`
//! (its `SET` list could vary without bound), so every write would be parsed and planned
//! again by PostgreSQL. Ours cannot vary: each kind of write has one fixed SQL text
//! (`repository::guarded_write`), so [`Prepared`] (`query.prepared()`) tells Diesel it may cache it, and each
//! pooled connection prepares it once.

use diesel::pg::Pg;
use diesel::query_builder::{AstPass, Query, QueryFragment, QueryId};
use diesel::{QueryResult, RunQueryDsl};

/// A query whose SQL text depends only on its type, never on its values: safe to keep as
/// a prepared statement, found again by type. Wrap only statements for which that holds:
/// fixed `SET` tuples of `column.eq(value)` (a `None` is bound as NULL, not left out) and
/// bound values, never `AsChangeset` structs with optional fields. (`eq_any` of a `Vec`
/// is fine on PostgreSQL: Diesel renders it `= ANY($n)`, one array bound whatever its
/// length.)
#[derive(Debug, Clone, Copy)]
pub(crate) struct Prepared<Q>(pub(crate) Q);

impl<Q: Query> Query for Prepared<Q> {
    type SqlType = Q::SqlType;
}

impl<Q: QueryFragment<Pg>> QueryFragment<Pg> for Prepared<Q> {
    fn walk_ast<'b>(&'b self, pass: AstPass<'_, 'b, Pg>) -> QueryResult<()> {
        self.0.walk_ast(pass)
    }

    fn is_safe_to_cache_prepared(&self, _backend: &Pg) -> QueryResult<bool> {
        Ok(true)
    }
}

/// Keyed by the statement's own type: the cache then finds the prepared statement
/// without rendering the SQL again (rendering it to look it up by text cost about 5% of
/// the service's CPU per reservation). Sound because a wrapped statement's SQL is a
/// function of its type (see [`Prepared`]); `tests/round_trips.rs`
/// checks it for every write the adapter wraps.
impl<Q: 'static> QueryId for Prepared<Q> {
    type QueryId = Self;
    const HAS_STATIC_QUERY_ID: bool = true;
}

impl<Q, C> RunQueryDsl<C> for Prepared<Q> {}

/// `query.prepared()`: see [`Prepared`].
pub(crate) trait Prepare: Sized {
    fn prepared(self) -> Prepared<Self> {
        Prepared(self)
    }
}

impl<Q: Query> Prepare for Q {}
