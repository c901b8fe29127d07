//! The rows of `tickets` as Diesel reads and writes them, and their conversion to and
//! from the domain. A row the domain cannot represent is an error, never a default.

use diesel::dsl;
use diesel::prelude::*;
use ticketing_domain::{
    EventName, HoldId, NewHold, NewTicket, Reservation, ReservationStatus, Seat, Ticket, TicketId,
    Timestamp, TokenDigest,
};
use ticketing_ports::{BoxError, TicketError};

use crate::schema::tickets;

/// The columns of `tickets` the domain reads (not the row's own `created_at`/`updated_at`).
/// By name too, for the statements written in SQL (`best_available`).
#[derive(Debug, Queryable, QueryableByName, Selectable)]
#[diesel(table_name = tickets, check_for_backend(diesel::pg::Pg))]
pub(crate) struct TicketRow {
    id: i64,
    event_name: String,
    seat: Option<String>,
    reservation_status: Option<String>,
    reservation_created_at: Option<Timestamp>,
    reservation_expires_at: Option<Timestamp>,
    reservation_confirmed_at: Option<Timestamp>,
    hold_id: Option<uuid::Uuid>,
    hold_token_digest: Option<Vec<u8>>,
}

/// A hold id without a token digest, or the other way round.
#[derive(Debug, thiserror::Error)]
#[error("a hold id and a token digest are stored together or not at all")]
struct HalfAHold;

/// A stored row that no valid ticket could have produced.
#[derive(Debug, thiserror::Error)]
#[error("stored ticket row {id} is not a valid ticket")]
struct InvalidRow {
    id: i64,
    #[source]
    reason: BoxError,
}

impl TicketRow {
    pub(crate) fn into_ticket(self) -> Result<Ticket, TicketError> {
        let id = self.id;
        self.convert()
            .map_err(|reason| TicketError::unexpected(InvalidRow { id, reason }))
    }

    fn convert(self) -> Result<Ticket, BoxError> {
        let status = self
            .reservation_status
            .as_deref()
            .map(str::parse::<ReservationStatus>)
            .transpose()?;
        let hold = match (self.hold_id, self.hold_token_digest) {
            (None, None) => None,
            (Some(id), Some(digest)) => Some(NewHold {
                id: HoldId::from_uuid(id),
                owner: TokenDigest::try_from(digest.as_slice())?,
            }),
            _ => return Err(HalfAHold.into()),
        };
        Ok(Ticket {
            id: TicketId::new(self.id)?,
            event_name: EventName::parse(self.event_name)?,
            seat: self.seat.map(Seat::parse).transpose()?,
            reservation: Reservation::from_parts(
                status,
                hold,
                self.reservation_created_at,
                self.reservation_expires_at,
                self.reservation_confirmed_at,
            )?,
        })
    }
}

/// The changes that store `reservation` whole: every reservation column, the hold's id
/// and token digest included (NULLs for an unreserved ticket), each bound even when NULL
/// so that the SQL is the same whatever the state (see `prepared`).
#[dsl::auto_type]
pub(crate) fn reservation_columns(reservation: Reservation) -> _ {
    let status: Option<&'static str> = reservation.stored_status().map(ReservationStatus::as_str);
    let created_at: Option<Timestamp> = reservation.created_at();
    let expires_at: Option<Timestamp> = reservation.expires_at();
    let confirmed_at: Option<Timestamp> = reservation.confirmed_at();
    let hold_id: Option<uuid::Uuid> = reservation.hold().map(|hold| hold.id().as_uuid());
    let digest: Option<Vec<u8>> = reservation
        .hold()
        .map(|hold| hold.owner().as_bytes().to_vec());
    (
        tickets::reservation_status.eq(status),
        tickets::reservation_created_at.eq(created_at),
        tickets::reservation_expires_at.eq(expires_at),
        tickets::reservation_confirmed_at.eq(confirmed_at),
        tickets::hold_id.eq(hold_id),
        tickets::hold_token_digest.eq(digest),
        tickets::updated_at.eq(dsl::now),
    )
}

/// The columns a new ticket is inserted with; the rest take their defaults.
#[derive(Debug, Insertable)]
#[diesel(table_name = tickets)]
pub(crate) struct NewTicketRow<'a> {
    event_name: &'a str,
    seat: Option<&'a str>,
}

impl<'a> From<&'a NewTicket> for NewTicketRow<'a> {
    fn from(ticket: &'a NewTicket) -> Self {
        Self {
            event_name: ticket.event_name.as_str(),
            seat: ticket.seat.as_ref().map(Seat::as_str),
        }
    }
}
