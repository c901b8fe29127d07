//! Bulk creation of tickets for load tests and on-sale preparation: one set-based
//! `INSERT ... SELECT ... FROM generate_series` that PostgreSQL fills by itself, so a
//! million tickets cost one round trip and no client-side rows (measured faster here
//! than `COPY FROM`, which has to ship and parse every row).

use diesel::sql_types::{BigInt, Text};
use diesel::{QueryableByName, RunQueryDsl};
use ticketing_domain::{EventName, Seat, SeatError, TicketId};

use crate::error::setup_error;
use crate::{PgPool, SetupError};

/// `count` new tickets of one event, with seats `{seat_prefix}1` ..= `{seat_prefix}{count}`;
/// every seat is valid by the domain's rules.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TicketBatch {
    event_name: EventName,
    seat_prefix: String,
    count: u64,
}

/// Why a [`TicketBatch`] cannot be built.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TicketBatchError {
    #[error("the count must be between 1 and {max}, got {count}", max = TicketBatch::MAX_COUNT)]
    Count { count: u64 },
    /// The longest seat of the batch (prefix and largest number) breaks the seat rules.
    #[error("seat {longest:?} (the prefix and the largest seat number) is not a valid seat")]
    Seat {
        longest: String,
        #[source]
        reason: SeatError,
    },
}

impl TicketBatch {
    /// Bigger batches should be several commands: each batch is one transaction.
    pub const MAX_COUNT: u64 = 100_000_000;

    pub fn new(
        event_name: EventName,
        seat_prefix: impl Into<String>,
        count: u64,
    ) -> Result<Self, TicketBatchError> {
        if !(1..=Self::MAX_COUNT).contains(&count) {
            return Err(TicketBatchError::Count { count });
        }
        let seat_prefix = seat_prefix.into();
        // Numbers only add digits, so the last seat is the longest one.
        let longest = format!("{seat_prefix}{count}");
        if let Err(reason) = Seat::parse(longest.as_str()) {
            return Err(TicketBatchError::Seat { longest, reason });
        }
        Ok(Self {
            event_name,
            seat_prefix,
            count,
        })
    }

    pub fn event_name(&self) -> &EventName {
        &self.event_name
    }
}

/// The tickets a batch created: `count` ids between `first_id` and `last_id`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SeededTickets {
    pub first_id: TicketId,
    pub last_id: TicketId,
    pub count: u64,
}

impl SeededTickets {
    /// Whether the ids are exactly `first_id..=last_id`; they are not when other
    /// tickets were created at the same time and took ids in between.
    pub fn is_contiguous(&self) -> bool {
        u64::try_from(self.last_id.get() - self.first_id.get())
            .is_ok_and(|span| span + 1 == self.count)
    }
}

#[derive(QueryableByName)]
struct Created {
    #[diesel(sql_type = BigInt)]
    first_id: i64,
    #[diesel(sql_type = BigInt)]
    last_id: i64,
    #[diesel(sql_type = BigInt)]
    created: i64,
}

/// Ids follow the seat numbers: the series is inserted in order, one `nextval` per row.
const SEED_SQL: &str = "WITH created AS ( \
         INSERT INTO tickets (event_name, seat) \
         SELECT $1, $2 || n FROM generate_series(1::bigint, $3) AS n \
         RETURNING id) \
     SELECT min(id) AS first_id, max(id) AS last_id, count(*) AS created FROM created";

/// Creates the batch's tickets, all or none, and answers which ids they got.
///
/// Runs on a connection of its own, without the pool's `statement_timeout`: a million
/// rows take seconds.
///
/// Errors: [`SetupError::Unavailable`] when the database cannot be reached,
/// [`SetupError::Unexpected`] when it refuses the rows.
pub fn seed_tickets(pool: &PgPool, batch: &TicketBatch) -> Result<SeededTickets, SetupError> {
    let mut connection = pool.dedicated_connection()?;
    let count = i64::try_from(batch.count)
        .map_err(|_| SetupError::InvalidSettings("ticket count out of range".into()))?;
    let created: Created = diesel::sql_query(SEED_SQL)
        .bind::<Text, _>(batch.event_name.as_str())
        .bind::<Text, _>(batch.seat_prefix.as_str())
        .bind::<BigInt, _>(count)
        .get_result(&mut connection)
        .map_err(setup_error)?;
    let id = |value: i64| {
        TicketId::new(value).map_err(|error| {
            SetupError::Unexpected(
                format!("the database answered ticket id {value}: {error}").into(),
            )
        })
    };
    Ok(SeededTickets {
        first_id: id(created.first_id)?,
        last_id: id(created.last_id)?,
        count: u64::try_from(created.created).unwrap_or_default(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn event() -> EventName {
        EventName::parse("Opening Night").unwrap()
    }

    #[test]
    fn a_batch_checks_its_count_and_its_longest_seat() {
        assert_eq!(
            TicketBatch::new(event(), "A-", 0),
            Err(TicketBatchError::Count { count: 0 })
        );
        assert!(TicketBatch::new(event(), "A-", TicketBatch::MAX_COUNT + 1).is_err());
        // 43 characters of prefix and 7 digits are 50: the longest seat allowed.
        let prefix = "p".repeat(43);
        assert!(TicketBatch::new(event(), prefix.as_str(), 1_000_000).is_ok());
        assert!(matches!(
            TicketBatch::new(event(), prefix.as_str(), 10_000_000),
            Err(TicketBatchError::Seat { longest, reason: SeatError::TooLong { actual: 51 } })
                if longest.ends_with("10000000")
        ));
        assert!(TicketBatch::new(event(), "", 5).is_ok());
    }

    #[test]
    fn ids_are_contiguous_when_they_span_the_count() {
        let id = |value| TicketId::new(value).unwrap();
        let seeded = |first, last, count| SeededTickets {
            first_id: id(first),
            last_id: id(last),
            count,
        };
        assert!(seeded(1, 1_000, 1_000).is_contiguous());
        assert!(seeded(7, 7, 1).is_contiguous());
        assert!(!seeded(1, 1_001, 1_000).is_contiguous());
    }
}
