//! [`TicketRepository`] over PostgreSQL, by the guarded write the port describes (see
//! its "Concurrency" docs): one `UPDATE ... WHERE id = $1 AND <guard> RETURNING`, the row
//! read and the command decided again only when the guard refuses. What PostgreSQL adds:
//! under READ COMMITTED it re-checks the guard against the newest row version when two
//! writers meet, so two concurrent commands cannot both write from the same state.
//! Commands on several tickets lock them instead (`together`); best available is one
//! statement of its own (`best_available`).

use std::time::Duration;

use diesel::connection::SimpleConnection;
use diesel::dsl;
use diesel::prelude::*;
use diesel::sql_types::{Nullable, Text, Timestamptz};
use ticketing_domain::{
    Command, Decision, EventName, GuardedWrite, HoldId, NewHold, NewTicket, Reservation,
    ReservationPolicy, ReservationStatus, Ticket, TicketId, TicketSet, Timestamp, Write,
};
use ticketing_ports::{
    BestAvailable, Outcome, TicketError, TicketPage, TicketQuery, TicketRepository, TogetherOutcome,
};

use crate::error::storage_error;
use crate::phases::{guard, status};
use crate::pool::{PgPool, PooledPg};
use crate::prepared::Prepare;
use crate::row::{reservation_columns, NewTicketRow, TicketRow};
use crate::schema::tickets;
use crate::together::Locked;

/// Guarded writes tried for one command before giving up as `Unavailable`: each retry
/// means another writer changed the ticket between our write and our read.
const MAX_ATTEMPTS: usize = 16;

/// The longest a readiness check waits for a connection.
const HEALTH_CHECKOUT_TIMEOUT: Duration = Duration::from_secs(1);

/// The tickets stored in PostgreSQL, race-free under concurrent commands.
#[derive(Debug, Clone)]
pub struct PgTicketRepository {
    pool: PgPool,
}

impl PgTicketRepository {
    pub fn new(pool: PgPool) -> Self {
        Self { pool }
    }
}

/// A ticket that kept changing under a command until it gave up.
#[derive(Debug, thiserror::Error)]
#[error("ticket {id} changed under every one of {attempts} attempts to apply a command")]
struct TooContended {
    id: TicketId,
    attempts: usize,
}

impl TicketRepository for PgTicketRepository {
    fn create(&self, ticket: &NewTicket) -> Result<Ticket, TicketError> {
        let mut connection = self.pool.checkout()?;
        diesel::insert_into(tickets::table)
            .values(NewTicketRow::from(ticket))
            .returning(TicketRow::as_returning())
            .get_result(&mut connection)
            .map_err(storage_error)?
            .into_ticket()
    }

    fn find(&self, id: TicketId) -> Result<Ticket, TicketError> {
        let mut connection = self.pool.checkout()?;
        load(&mut connection, id)?
            .ok_or(TicketError::NotFound(id))?
            .into_ticket()
    }

    fn apply(
        &self,
        id: TicketId,
        command: Command,
        now: Timestamp,
    ) -> Result<Outcome, TicketError> {
        let mut connection = self.pool.checkout()?;
        for _ in 0..MAX_ATTEMPTS {
            if let Some(row) = guarded_write(&mut connection, id, command.write(now), now)? {
                return Ok(Outcome::Written(row.into_ticket()?));
            }
            let ticket = load(&mut connection, id)?
                .ok_or(TicketError::NotFound(id))?
                .into_ticket()?;
            match command.decide(&ticket.reservation, now) {
                Decision::Refuse(error) => return Ok(Outcome::Refused(error)),
                Decision::AlreadyDone => return Ok(Outcome::AlreadyDone(ticket)),
                Decision::RecordThenRefuse { record, error } => {
                    if guarded_write(&mut connection, id, record.write(now), now)?.is_some() {
                        return Ok(Outcome::RecordedThenRefused(error));
                    }
                    // The lapsed hold changed before we recorded it: decide afresh.
                }
                // The guard refused a state the command may write from, so the row
                // changed between the update and the read: try the write again.
                Decision::Write(_) => {}
            }
        }
        Err(TicketError::unavailable(TooContended {
            id,
            attempts: MAX_ATTEMPTS,
        }))
    }

    fn check_health(&self) -> Result<(), TicketError> {
        let timeout = HEALTH_CHECKOUT_TIMEOUT.min(self.pool.checkout_timeout());
        let mut connection = self.pool.checkout_within(timeout)?;
        connection.batch_execute("SELECT 1").map_err(storage_error)
    }

    fn list(&self, query: &TicketQuery, now: Timestamp) -> Result<TicketPage, TicketError> {
        let mut connection = self.pool.checkout()?;
        crate::listing::list(&mut connection, query, now)
    }

    fn expire_lapsed(&self, now: Timestamp, limit: u32) -> Result<u32, TicketError> {
        let mut connection = self.pool.checkout()?;
        expire_lapsed(&mut connection, now, limit)
    }

    fn find_hold(&self, hold: HoldId) -> Result<Vec<Ticket>, TicketError> {
        let mut connection = self.pool.checkout()?;
        tickets::table
            .filter(tickets::hold_id.eq(hold.as_uuid()))
            .order(tickets::id)
            .select(TicketRow::as_select())
            .load(&mut connection)
            .map_err(storage_error)?
            .into_iter()
            .map(TicketRow::into_ticket)
            .collect()
    }

    fn apply_together(
        &self,
        tickets: &TicketSet,
        command: Command,
        now: Timestamp,
    ) -> Result<TogetherOutcome, TicketError> {
        let mut connection = self.pool.checkout()?;
        crate::together::apply(&mut connection, Locked::Tickets(tickets), command, now)
    }

    fn apply_to_hold(
        &self,
        hold: HoldId,
        command: Command,
        now: Timestamp,
    ) -> Result<TogetherOutcome, TicketError> {
        let mut connection = self.pool.checkout()?;
        crate::together::apply(&mut connection, Locked::Hold(hold), command, now)
    }

    fn hold_best_available(
        &self,
        event: &EventName,
        quantity: usize,
        hold: NewHold,
        policy: &ReservationPolicy,
        now: Timestamp,
    ) -> Result<BestAvailable, TicketError> {
        let mut connection = self.pool.checkout()?;
        crate::best_available::hold(&mut connection, event, quantity, hold, policy, now)
    }
}

/// One statement: lock up to `limit` lapsed holds through the partial index on
/// `reservation_expires_at` (`FOR UPDATE SKIP LOCKED`: rows another sweeper or a command
/// is writing are left to it, so sweepers never queue behind each other), and write
/// EXPIRED on them under `Command::Expire`'s own guard, re-checked on the locked rows.
fn expire_lapsed(
    connection: &mut PooledPg,
    now: Timestamp,
    limit: u32,
) -> Result<u32, TicketError> {
    use tickets::dsl as t;

    if limit == 0 {
        return Ok(0);
    }
    // Expiry always writes `Write::ExpireHold`: only its guard is taken from the command.
    let expire = Command::Expire.write(now);
    // The literal (not a bound parameter) lets the planner match the partial index's
    // `WHERE reservation_status = 'TENTATIVE'` in every plan, generic ones included.
    let tentative = dsl::sql::<Nullable<Text>>(&format!("'{}'", ReservationStatus::Tentative));
    // An alias: Diesel refuses a subquery over the table the statement updates.
    let lapsed = diesel::alias!(tickets as lapsed);
    let picked = lapsed
        .select(lapsed.field(t::id))
        .filter(lapsed.field(t::reservation_status).eq(tentative))
        .filter(lapsed.field(t::reservation_expires_at).le(now))
        .order(lapsed.field(t::reservation_expires_at))
        .limit(i64::from(limit))
        .for_update()
        .skip_locked();
    // `= ANY(ARRAY(subquery))`, not `IN (subquery)`: the array is an init plan run once,
    // whereas a semi-join may rescan a `LIMIT ... SKIP LOCKED` subquery per row and pick
    // new rows each time (rows this statement already wrote are skipped on a rescan).
    let target = t::tickets
        .filter(t::id.eq_any(dsl::array(picked)))
        .filter(guard(&expire, now));
    let expired = diesel::update(target)
        .set(expire_hold())
        .execute(connection)
        .map_err(storage_error)?;
    u32::try_from(expired).map_err(TicketError::unexpected)
}

fn load(connection: &mut PooledPg, id: TicketId) -> Result<Option<TicketRow>, TicketError> {
    tickets::table
        .find(id.get())
        .select(TicketRow::as_select())
        .first(connection)
        .optional()
        .map_err(storage_error)
}

diesel::define_sql_function! {
    /// PostgreSQL's GREATEST of two timestamps (NULLs ignored).
    fn greatest(a: Nullable<Timestamptz>, b: Nullable<Timestamptz>) -> Nullable<Timestamptz>;
}

/// Stores `guarded.write` on ticket `id` if its stored reservation passes the guard at
/// `now` (see `phases::guard`); answers the row written, or `None` if the guard (or the
/// id) matched nothing. One statement per set of columns written, each with the same
/// guard shape, so that every statement's SQL is fixed and prepared once per connection.
fn guarded_write(
    connection: &mut PooledPg,
    id: TicketId,
    guarded: GuardedWrite,
    now: Timestamp,
) -> Result<Option<TicketRow>, TicketError> {
    use tickets::dsl as t;

    let target = t::tickets
        .filter(t::id.eq(id.get()))
        .filter(guard(&guarded, now));
    let written = match guarded.write {
        // A hold and a release both replace the whole reservation (a release with NULLs):
        // one statement type, so one prepared statement.
        Write::StartHold(hold) => diesel::update(target)
            .set(reservation_columns(Reservation::Tentative(hold)))
            .returning(TicketRow::as_returning())
            .prepared()
            .get_result(connection),
        Write::Clear => diesel::update(target)
            .set(reservation_columns(Reservation::Unreserved))
            .returning(TicketRow::as_returning())
            .prepared()
            .get_result(connection),
        // A sale cannot precede its hold: the same `max` as `GuardedWrite::apply`, taken
        // against the stored hold rather than one read earlier.
        Write::ConfirmHold { confirmed_at } => diesel::update(target)
            .set((
                t::reservation_status.eq(status(ReservationStatus::Confirmed)),
                t::reservation_confirmed_at
                    .eq(greatest(Some(confirmed_at), t::reservation_created_at)),
                t::updated_at.eq(dsl::now),
            ))
            .returning(TicketRow::as_returning())
            .prepared()
            .get_result(connection),
        // `Hold::until`: the hold must still end after it starts.
        Write::ExtendHold { expires_at } => {
            diesel::update(target.filter(t::reservation_created_at.lt(expires_at)))
                .set((
                    t::reservation_expires_at.eq(expires_at),
                    t::updated_at.eq(dsl::now),
                ))
                .returning(TicketRow::as_returning())
                .prepared()
                .get_result(connection)
        }
        Write::ExpireHold => diesel::update(target)
            .set(expire_hold())
            .returning(TicketRow::as_returning())
            .prepared()
            .get_result(connection),
    };
    written.optional().map_err(storage_error)
}

/// The changes of [`Write::ExpireHold`], shared by a command's write and the sweeper's.
#[dsl::auto_type]
fn expire_hold() -> _ {
    let expired: Option<&'static str> = status(ReservationStatus::Expired);
    (
        tickets::reservation_status.eq(expired),
        tickets::updated_at.eq(dsl::now),
    )
}
