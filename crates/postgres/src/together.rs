//! Commands on several tickets at once, all or nothing (`apply_together`,
//! `apply_to_hold`): one transaction that locks the tickets (`SELECT ... ORDER BY id FOR
//! UPDATE`), decides the command on the locked rows with `Command::decide_together`, and
//! stores the decision. Every writer that waits for a lock while holding others takes
//! them in ascending id order (these transactions, and best available's second try), so
//! two that overlap wait on their lowest common ticket, never in a circle; a
//! single-ticket write holds one row lock only, and the sweeper skips locked rows: no
//! deadlock. Under READ COMMITTED a lock wait returns the row's newest version and
//! re-checks the `WHERE` on it, so tickets of a hold that changed hands meanwhile simply
//! drop out of [`Locked::Hold`].

use std::collections::HashMap;

use diesel::prelude::*;
use diesel::result::Error as DieselError;
use ticketing_domain::{
    Command, HoldId, Reservation, Ticket, TicketId, TicketSet, Timestamp, Together,
};
use ticketing_ports::{TicketError, TogetherOutcome};

use crate::error::storage_error;
use crate::pool::PooledPg;
use crate::prepared::Prepare;
use crate::row::{reservation_columns, TicketRow};
use crate::schema::tickets;

/// The tickets a command on several tickets applies to.
#[derive(Debug, Clone, Copy)]
pub(crate) enum Locked<'a> {
    /// These tickets, every one of which must exist.
    Tickets(&'a TicketSet),
    /// The tickets carrying this hold when they are locked; at least one.
    Hold(HoldId),
}

/// Why a transaction ended without committing: the database failed, or the answer stores
/// nothing (unknown tickets, an unknown hold, a row that is no ticket).
#[derive(Debug)]
enum Rollback {
    Database(DieselError),
    Answer(TicketError),
}

impl From<DieselError> for Rollback {
    fn from(error: DieselError) -> Self {
        Self::Database(error)
    }
}

impl From<TicketError> for Rollback {
    fn from(error: TicketError) -> Self {
        Self::Answer(error)
    }
}

/// A locked ticket that an update by id did not find: the locks are not what this module
/// assumes.
#[derive(Debug, thiserror::Error)]
#[error("{stored} of {locked} locked tickets were updated")]
struct LockedRowsMissed {
    locked: usize,
    stored: usize,
}

/// Decides `command` at `now` on the tickets `locked` names and stores the decision, in
/// one transaction.
pub(crate) fn apply(
    connection: &mut PooledPg,
    locked: Locked<'_>,
    command: Command,
    now: Timestamp,
) -> Result<TogetherOutcome, TicketError> {
    connection
        .transaction(|connection| {
            let tickets = lock(connection, locked)?
                .into_iter()
                .map(TicketRow::into_ticket)
                .collect::<Result<Vec<_>, _>>()?;
            check_found(locked, &tickets)?;
            decide_and_store(connection, tickets, command, now)
        })
        .map_err(|rollback| match rollback {
            Rollback::Database(error) => storage_error(error),
            Rollback::Answer(error) => error,
        })
}

/// Locks the tickets in ascending id order and reads them as locked.
fn lock(connection: &mut PooledPg, locked: Locked<'_>) -> Result<Vec<TicketRow>, DieselError> {
    use tickets::dsl as t;

    match locked {
        Locked::Tickets(set) => {
            let ids: Vec<i64> = set.ids().iter().map(|id| id.get()).collect();
            t::tickets
                .filter(t::id.eq_any(ids))
                .order(t::id)
                .for_update()
                .select(TicketRow::as_select())
                .load(connection)
        }
        Locked::Hold(hold) => t::tickets
            .filter(t::hold_id.eq(hold.as_uuid()))
            .order(t::id)
            .for_update()
            .select(TicketRow::as_select())
            .load(connection),
    }
}

/// Every ticket asked for exists; a hold is carried by at least one.
fn check_found(locked: Locked<'_>, tickets: &[Ticket]) -> Result<(), TicketError> {
    match locked {
        Locked::Tickets(set) if tickets.len() < set.len() => {
            // Both ascending by id.
            let missing = set
                .ids()
                .iter()
                .filter(|id| {
                    tickets
                        .binary_search_by_key(*id, |ticket| ticket.id)
                        .is_err()
                })
                .copied()
                .collect();
            Err(TicketError::TicketsNotFound(missing))
        }
        Locked::Hold(hold) if tickets.is_empty() => Err(TicketError::HoldNotFound(hold)),
        _ => Ok(()),
    }
}

fn decide_and_store(
    connection: &mut PooledPg,
    tickets: Vec<Ticket>,
    command: Command,
    now: Timestamp,
) -> Result<TogetherOutcome, Rollback> {
    let current: Vec<(TicketId, Reservation)> = tickets
        .iter()
        .map(|ticket| (ticket.id, ticket.reservation))
        .collect();
    match command.decide_together(&current, now) {
        Together::Write { next, written } => {
            let changed: Vec<(TicketId, Reservation)> = next
                .iter()
                .zip(&current)
                .filter(|(next, current)| next != current)
                .map(|(next, _)| *next)
                .collect();
            let mut stored = store(connection, &changed)?;
            // Each ticket as stored: written (and so rounded to PostgreSQL's microseconds),
            // or as locked.
            let tickets = tickets
                .into_iter()
                .map(|ticket| stored.remove(&ticket.id).unwrap_or(ticket))
                .collect();
            Ok(if written {
                TogetherOutcome::Written(tickets)
            } else {
                TogetherOutcome::AlreadyDone(tickets)
            })
        }
        Together::Refuse { refusals, records } => {
            store(connection, &records)?;
            Ok(TogetherOutcome::Refused {
                refusals,
                recorded: records.len(),
            })
        }
    }
}

/// Stores each ticket's state whole: one `UPDATE ... WHERE id = ANY($1)` per distinct
/// state (a hold's tickets share theirs); answers the tickets as written. The rows are
/// locked, so each update must find every one of its tickets.
fn store(
    connection: &mut PooledPg,
    states: &[(TicketId, Reservation)],
) -> Result<HashMap<TicketId, Ticket>, Rollback> {
    let mut groups: Vec<(Reservation, Vec<i64>)> = Vec::new();
    for (id, reservation) in states {
        match groups.iter_mut().find(|(state, _)| state == reservation) {
            Some((_, ids)) => ids.push(id.get()),
            None => groups.push((*reservation, vec![id.get()])),
        }
    }
    let mut written = HashMap::with_capacity(states.len());
    for (reservation, ids) in groups {
        let locked = ids.len();
        let rows: Vec<TicketRow> = diesel::update(tickets::table.filter(tickets::id.eq_any(ids)))
            .set(reservation_columns(reservation))
            .returning(TicketRow::as_returning())
            .prepared()
            .load(connection)?;
        if rows.len() != locked {
            let stored = rows.len();
            return Err(TicketError::unexpected(LockedRowsMissed { locked, stored }).into());
        }
        for row in rows {
            let ticket = row.into_ticket()?;
            written.insert(ticket.id, ticket);
        }
    }
    Ok(written)
}
