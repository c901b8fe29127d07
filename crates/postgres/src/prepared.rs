//! Prepared-statement reuse for the guarded writes. Diesel never caches an `UPDATE`
//! (its `SET` list could vary without bound), so every write would be parsed and planned
//! again by PostgreSQL. Ours cannot vary: each kind of write has one fixed SQL text
//! (`repository::guarded_write`), so [`Prepared`] (`query.prepared()`) tells Diesel it may cache it, keyed by
//! that text, and each pooled connection prepares it once.

use diesel::pg::Pg;
use diesel::query_builder::{AstPass, Query, QueryFragment, QueryId};
use diesel::{QueryResult, RunQueryDsl};

/// A query whose SQL text depends only on its type's shape, never on its values: safe to
/// keep as a prepared statement. Wrap only statements for which that holds.
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

/// No static id: the statement cache then keys on the SQL text (and bind types), so two
/// statements can never share a prepared statement by mistake.
impl<Q> QueryId for Prepared<Q> {
    type QueryId = ();
    const HAS_STATIC_QUERY_ID: bool = false;
}

impl<Q, C> RunQueryDsl<C> for Prepared<Q> {}

/// `query.prepared()`: see [`Prepared`].
pub(crate) trait Prepare: Sized {
    fn prepared(self) -> Prepared<Self> {
        Prepared(self)
    }
}

impl<Q: Query> Prepare for Q {}
