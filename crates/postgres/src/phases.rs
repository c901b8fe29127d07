//! The reservation phases of `Reservation::phase_at`, spelled in SQL once: one predicate
//! per phase over the stored columns, combined into the guards of the guarded writes
//! (`repository`, with the rest of `GuardedWrite`'s conditions: the hold's owner and
//! start) and into the status filters of listings (`listing`).

use diesel::dsl::{self, AsExprOf};
use diesel::pg::Pg;
use diesel::prelude::*;
use diesel::sql_types::{Bool, Nullable};
use ticketing_domain::{GuardedWrite, Phase, ReservationStatus, Timestamp};

use crate::schema::tickets;

/// A stored `reservation_status` value.
pub(crate) fn status(status: ReservationStatus) -> Option<&'static str> {
    Some(status.as_str())
}

type Flag = AsExprOf<bool, Bool>;

/// The SQL predicate of `guarded`'s guard, as `GuardedWrite::apply` decides it: the stored
/// reservation is, at `now`, in one of the phases `guarded.from`; and if it carries a hold,
/// that hold's token digest is `guarded.owner` and it started no earlier than
/// `guarded.started_since`, each when given. Every phase and condition is switched on or
/// off by a bound boolean, so the SQL text is the same for every command.
pub(crate) fn guard(guarded: &GuardedWrite, now: Timestamp) -> guarded_by {
    let flag = |phase: Phase| -> Flag { guarded.from.contains(&phase).into_sql::<Bool>() };
    let in_phases = phases(
        flag(Phase::Unreserved),
        flag(Phase::Held),
        flag(Phase::Lapsed),
        flag(Phase::Expired),
        flag(Phase::Confirmed),
        now,
    );
    // Unused values when their condition is off: any digest, any instant.
    let owner = guarded.owner.map(|owner| owner.as_bytes().to_vec());
    let since = guarded.started_since.unwrap_or(now);
    guarded_by(
        in_phases,
        owner.is_none().into_sql::<Bool>(),
        owner.unwrap_or_default(),
        guarded.started_since.is_none().into_sql::<Bool>(),
        since,
    )
}

#[dsl::auto_type]
fn guarded_by(
    in_phases: phases,
    any_owner: Flag,
    owner: Vec<u8>,
    any_start: Flag,
    since: Timestamp,
) -> _ {
    let owned: owned_by = owned_by(any_owner, owner);
    let started: started_since = started_since(any_start, since);
    in_phases.and(owned).and(started)
}

/// No hold (the digest is NULL exactly then, by the table's CHECK), or one of `owner`.
#[dsl::auto_type]
fn owned_by(any_owner: Flag, owner: Vec<u8>) -> _ {
    any_owner
        .or(tickets::hold_token_digest.is_null())
        .or(tickets::hold_token_digest.eq(owner))
}

/// No hold, or one created at or after `since`.
#[dsl::auto_type]
fn started_since(any_start: Flag, since: Timestamp) -> _ {
    any_start
        .or(tickets::reservation_created_at.is_null())
        .or(tickets::reservation_created_at.ge(since))
}

#[dsl::auto_type]
fn phases(
    unreserved: Flag,
    held: Flag,
    lapsed: Flag,
    expired: Flag,
    confirmed: Flag,
    now: Timestamp,
) -> _ {
    // Typed by hand: `auto_type` would read `is_held(now)` as `is_held<Timestamp>`.
    let is_held_now: is_held = is_held(now);
    let is_lapsed_now: is_lapsed = is_lapsed(now);
    unreserved
        .and(is_unreserved())
        .or(held.and(is_held_now))
        .or(lapsed.and(is_lapsed_now))
        .or(expired.and(is_expired()))
        .or(confirmed.and(is_confirmed()))
}

/// "The stored reservation is, at `now`, in one of the phases `from`", with only those
/// phases in the SQL: for listings, whose filters the planner must see to pick an index
/// (a bound flag would hide them). `from` empty selects nothing.
pub(crate) fn in_phases(from: &[Phase], now: Timestamp) -> Predicate {
    from.iter()
        .map(|phase| phase_predicate(*phase, now))
        .reduce(|left, right| Box::new(left.or(right)))
        .unwrap_or_else(|| Box::new(false.into_sql::<Bool>().nullable()))
}

pub(crate) type Predicate =
    Box<dyn BoxableExpression<tickets::table, Pg, SqlType = Nullable<Bool>>>;

fn phase_predicate(phase: Phase, now: Timestamp) -> Predicate {
    match phase {
        Phase::Unreserved => Box::new(is_unreserved().nullable()),
        Phase::Held => Box::new(is_held(now)),
        Phase::Lapsed => Box::new(is_lapsed(now)),
        Phase::Expired => Box::new(is_expired()),
        Phase::Confirmed => Box::new(is_confirmed()),
    }
}

#[dsl::auto_type]
fn is_unreserved() -> _ {
    tickets::reservation_status.is_null()
}

#[dsl::auto_type]
fn is_held(now: Timestamp) -> _ {
    let tentative: Option<&'static str> = status(ReservationStatus::Tentative);
    tickets::reservation_status
        .eq(tentative)
        .and(tickets::reservation_expires_at.gt(now))
}

#[dsl::auto_type]
fn is_lapsed(now: Timestamp) -> _ {
    let tentative: Option<&'static str> = status(ReservationStatus::Tentative);
    tickets::reservation_status
        .eq(tentative)
        .and(tickets::reservation_expires_at.le(now))
}

#[dsl::auto_type]
fn is_expired() -> _ {
    let expired: Option<&'static str> = status(ReservationStatus::Expired);
    tickets::reservation_status.eq(expired)
}

#[dsl::auto_type]
fn is_confirmed() -> _ {
    let confirmed: Option<&'static str> = status(ReservationStatus::Confirmed);
    tickets::reservation_status.eq(confirmed)
}

#[cfg(test)]
mod tests {
    use ticketing_ports::contract;
    use ticketing_ports::testing::INSTANT;

    use super::*;

    /// Prepared writes are found in the statement cache by their type (`prepared.rs`),
    /// which is the same whatever the command: so must the guard's SQL text be, for every
    /// command, proof and extension the contract suite tries.
    #[test]
    fn the_guard_is_one_sql_text_with_the_phases_bound() {
        let now = INSTANT;
        let texts: Vec<String> = contract::commands()
            .iter()
            .map(|command| {
                let query = tickets::table.filter(guard(&command.write(now), now));
                let shown = diesel::debug_query::<Pg, _>(&query).to_string();
                shown
                    .split(" -- binds")
                    .next()
                    .unwrap_or_default()
                    .to_owned()
            })
            .collect();
        assert!(texts.len() > 10, "{texts:#?}");
        assert!(texts.iter().all(|text| text == &texts[0]), "{texts:#?}");
        assert!(!texts[0].contains("TENTATIVE"), "{}", texts[0]);
        assert!(texts[0].contains("hold_token_digest"), "{}", texts[0]);
        assert!(texts[0].contains("reservation_created_at"), "{}", texts[0]);
    }
}
