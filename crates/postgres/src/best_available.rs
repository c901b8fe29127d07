//! Best available: the `quantity` lowest-id tickets of an event that are reservable now,
//! held under one new hold, all or nothing, by one statement (two near a sell-out).
//!
//! It locks its picks with `FOR UPDATE SKIP LOCKED`, so concurrent buyers take different
//! tickets without waiting for one another; a row changed since the statement's snapshot
//! is re-checked on its newest version and dropped if no longer reservable (the scans keep
//! their status filters for that, even where a partial index implies them). The picks
//! come from two places, each read in id order and stopped at `quantity`: never reserved
//! or expired tickets from `tickets_reservable_event_name_id_idx`, a range scan from the
//! event's lowest free id however many below it are sold or held; and lapsed holds (few:
//! the sweeper records them) from `tickets_tentative_expires_at_idx`, sorted. The lowest
//! `quantity` of those are held, or none; the others are let go with the statement.
//!
//! Two buyers of the last two tickets, each locking one, would both come up short and
//! leave both unsold; so a short pick is tried once more, waiting for the never-reserved
//! or expired tickets being written instead of skipping them (in id order, as every
//! waiting writer locks: no deadlock; lapsed ones are still skipped). Only near a
//! sell-out does a buyer wait.
//!
//! SQL, because the DSL cannot say a `UNION ALL` of locking subqueries nor a
//! data-modifying CTE; a query type of its own, so that it is prepared once per
//! connection (planned each time, it ran at about half the rate).
//!
//! Measured on 1,000,000 tickets of one event, the first 200,000 `CONFIRMED`, PostgreSQL
//! 15 (`EXPLAIN (ANALYZE, BUFFERS)`, quantity 2; custom and generic plans alike): `LockRows`
//! over `Index Scan using tickets_reservable_event_name_id_idx` (`event_name = $1`, 2 rows
//! read, 4 buffers) and over a `Sort` of `Index Scan using
//! tickets_tentative_expires_at_idx`, then `Update` through `tickets_pkey` (`id =
//! ANY(picked.ids)`): 0.07 ms to pick, 0.5 ms in all, warm. What grows is the index
//! entries left by tickets held since the last vacuum, which the range scan steps over:
//! after 57,000 holds, 286 buffers and 0.8 ms to pick. pgbench (`-M prepared`, 10 s, a
//! 2-core machine shared with other work, load average 12): 1,135 statements/s at 64
//! clients (p50 41 ms, p99 210 ms), 859/s at 8 clients (p50 8.5 ms, p99 20.6 ms); the
//! single-ticket reserve `UPDATE` on the same data 1,782/s and 1,165/s.

use diesel::pg::Pg;
use diesel::prelude::*;
use diesel::query_builder::{AstPass, Query, QueryFragment, QueryId};
use diesel::sql_types::{BigInt, Bytea, Integer, Text, Timestamptz, Untyped, Uuid};
use ticketing_domain::{EventName, Hold, NewHold, ReservationPolicy, Timestamp};
use ticketing_ports::{BestAvailable, TicketError};

use crate::error::storage_error;
use crate::pool::PooledPg;
use crate::row::TicketRow;

/// Holds `quantity` tickets of `event` for `hold` at `now`, or answers how many it could
/// (see the module's docs for the second try).
pub(crate) fn hold(
    connection: &mut PooledPg,
    event: &EventName,
    quantity: usize,
    hold: NewHold,
    policy: &ReservationPolicy,
    now: Timestamp,
) -> Result<BestAvailable, TicketError> {
    if quantity == 0 {
        return Ok(BestAvailable::Held(Vec::new()));
    }
    let values = Values {
        event: event.as_str(),
        quantity: i64::try_from(quantity).map_err(TicketError::unexpected)?,
        now,
        expires_at: Hold::starting(hold, now, policy).expires_at(),
        hold_id: hold.id.as_uuid(),
        digest: hold.owner.as_bytes(),
    };
    match answer(HoldBestAvailable::<SKIP>(values).load(connection), quantity)? {
        BestAvailable::TooFew { .. } => {
            answer(HoldBestAvailable::<WAIT>(values).load(connection), quantity)
        }
        held => Ok(held),
    }
}

/// What the statement's rows say: the tickets held, or how many could have been.
fn answer(
    rows: QueryResult<Vec<(Picked, Option<TicketRow>)>>,
    quantity: usize,
) -> Result<BestAvailable, TicketError> {
    let rows = rows.map_err(storage_error)?;
    let Some((picked, _)) = rows.first() else {
        return Err(TicketError::unexpected("best available answered no row"));
    };
    let available = usize::try_from(picked.available).map_err(TicketError::unexpected)?;
    let held: Vec<TicketRow> = rows.into_iter().filter_map(|(_, row)| row).collect();
    if held.is_empty() {
        return Ok(BestAvailable::TooFew { available });
    }
    if held.len() != quantity {
        return Err(TicketError::unexpected(format!(
            "best available held {} tickets instead of {quantity}",
            held.len()
        )));
    }
    held.into_iter()
        .map(TicketRow::into_ticket)
        .collect::<Result<_, _>>()
        .map(BestAvailable::Held)
}

/// How many tickets the statement picked: all it held, if it held them.
#[derive(Debug, QueryableByName)]
struct Picked {
    #[diesel(sql_type = Integer)]
    available: i32,
}

/// The statement's values.
#[derive(Debug, Clone, Copy)]
struct Values<'a> {
    event: &'a str,
    quantity: i64,
    now: Timestamp,
    expires_at: Timestamp,
    hold_id: uuid::Uuid,
    digest: &'a [u8; 32],
}

/// The statement, skipping the never-reserved or expired tickets being written (`SKIP`)
/// or waiting for them (`WAIT`): two SQL texts, so two types, each prepared once.
#[derive(Debug, Clone, Copy)]
struct HoldBestAvailable<'a, const WAITING: bool>(Values<'a>);

const SKIP: bool = false;
const WAIT: bool = true;

/// What follows a piece of SQL: a bound value, the locking clause of the never-reserved
/// or expired tickets, or nothing.
#[derive(Debug, Clone, Copy)]
enum Next {
    Event,
    Quantity,
    Now,
    ExpiresAt,
    HoldId,
    Digest,
    Locking,
    /// The statement's last piece.
    End,
}

/// The statement: each piece of SQL, then what follows it. The status literals are the
/// partial indexes' own, so that every plan, a generic one included, can use them
/// (`tests::the_statement_spells_the_reservable_phases`). `picked`: the lowest ids of at
/// most `quantity` never-reserved or expired tickets and of at most `quantity` lapsed
/// ones, locked, then the lowest `quantity` of those; `held`: the hold, placed only if
/// `quantity` were picked. It answers one row per ticket held, or one row without a
/// ticket, each with how many were picked.
const STATEMENT: [(&str, Next); 13] = [
    (
        "WITH picked AS MATERIALIZED (SELECT ARRAY( \
           SELECT id FROM ( \
             SELECT id FROM ( \
               SELECT id FROM tickets \
               WHERE event_name = ",
        Next::Event,
    ),
    (
        " AND (reservation_status IS NULL OR reservation_status = 'EXPIRED') \
               ORDER BY id LIMIT ",
        Next::Quantity,
    ),
    ("", Next::Locking),
    (
        ") AS never_reserved_or_expired \
             UNION ALL \
             SELECT id FROM ( \
               SELECT id FROM tickets \
               WHERE reservation_status = 'TENTATIVE' AND reservation_expires_at <= ",
        Next::Now,
    ),
    (" AND event_name = ", Next::Event),
    (" ORDER BY id LIMIT ", Next::Quantity),
    (
        " FOR UPDATE SKIP LOCKED) AS lapsed \
           ) AS reservable ORDER BY id LIMIT ",
        Next::Quantity,
    ),
    (
        ") AS ids), \
         held AS ( \
           UPDATE tickets SET reservation_status = 'TENTATIVE', reservation_created_at = ",
        Next::Now,
    ),
    (", reservation_expires_at = ", Next::ExpiresAt),
    (
        ", reservation_confirmed_at = NULL, hold_id = ",
        Next::HoldId,
    ),
    (", hold_token_digest = ", Next::Digest),
    (
        ", updated_at = CURRENT_TIMESTAMP \
           FROM picked \
           WHERE tickets.id = ANY(picked.ids) AND cardinality(picked.ids) = ",
        Next::Quantity,
    ),
    (
        " RETURNING tickets.id, tickets.event_name, tickets.seat, \
             tickets.reservation_status, tickets.reservation_created_at, \
             tickets.reservation_expires_at, tickets.reservation_confirmed_at, \
             tickets.hold_id, tickets.hold_token_digest) \
         SELECT cardinality(picked.ids) AS available, held.* \
         FROM picked LEFT JOIN held ON true ORDER BY held.id",
        Next::End,
    ),
];

impl<const WAITING: bool> QueryFragment<Pg> for HoldBestAvailable<'_, WAITING> {
    fn walk_ast<'b>(&'b self, mut out: AstPass<'_, 'b, Pg>) -> QueryResult<()> {
        let values = &self.0;
        for (sql, next) in STATEMENT {
            out.push_sql(sql);
            match next {
                Next::Event => out.push_bind_param::<Text, _>(&values.event)?,
                Next::Quantity => out.push_bind_param::<BigInt, _>(&values.quantity)?,
                Next::Now => out.push_bind_param::<Timestamptz, _>(&values.now)?,
                Next::ExpiresAt => out.push_bind_param::<Timestamptz, _>(&values.expires_at)?,
                Next::HoldId => out.push_bind_param::<Uuid, _>(&values.hold_id)?,
                Next::Digest => out.push_bind_param::<Bytea, _>(values.digest.as_slice())?,
                Next::Locking if WAITING => out.push_sql(" FOR UPDATE"),
                Next::Locking => out.push_sql(" FOR UPDATE SKIP LOCKED"),
                Next::End => {}
            }
        }
        Ok(())
    }
}

/// Found in the statement cache by its type: its SQL is [`STATEMENT`]'s, one per `WAITING`.
impl<const WAITING: bool> QueryId for HoldBestAvailable<'_, WAITING> {
    type QueryId = HoldBestAvailable<'static, WAITING>;
    const HAS_STATIC_QUERY_ID: bool = true;
}

impl<const WAITING: bool> Query for HoldBestAvailable<'_, WAITING> {
    type SqlType = Untyped;
}

impl<C, const WAITING: bool> RunQueryDsl<C> for HoldBestAvailable<'_, WAITING> {}

#[cfg(test)]
mod tests {
    use ticketing_domain::{Command, Phase, ReservationStatus};
    use ticketing_ports::testing::{policy, INSTANT, OWNER};

    use super::*;

    /// The statement picks from the phases a reserve may write from, spelled as stored.
    #[test]
    fn the_statement_spells_the_reservable_phases() {
        let reserve = Command::Reserve {
            hold: OWNER,
            policy: policy(60),
        };
        assert_eq!(
            reserve.write(INSTANT).from,
            [Phase::Unreserved, Phase::Lapsed, Phase::Expired]
        );
        let sql: String = STATEMENT.iter().map(|(sql, _)| *sql).collect();
        for status in [ReservationStatus::Expired, ReservationStatus::Tentative] {
            assert!(sql.contains(&format!("'{status}'")), "{status}");
        }
    }
}
