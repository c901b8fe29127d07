//! The rows of `tickets` as Diesel reads and writes them, and their conversion to and
//! from the domain. A row the domain cannot represent is an error, never a default.

use diesel::prelude::*;
use ticketing_domain::{
    EventName, NewTicket, Reservation, ReservationStatus, Seat, Ticket, TicketId, Timestamp,
};
use ticketing_ports::{BoxError, TicketError};

use crate::schema::tickets;

/// The columns of `tickets` the domain reads (not the row's own `created_at`/`updated_at`).
#[derive(Debug, Queryable, Selectable)]
#[diesel(table_name = tickets, check_for_backend(diesel::pg::Pg))]
pub(crate) struct TicketRow {
    id: i64,
    event_name: String,
    seat: Option<String>,
    reservation_status: Option<String>,
    reservation_created_at: Option<Timestamp>,
    reservation_expires_at: Option<Timestamp>,
    reservation_confirmed_at: Option<Timestamp>,
}

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
        Ok(Ticket {
            id: TicketId::new(self.id)?,
            event_name: EventName::parse(self.event_name)?,
            seat: self.seat.map(Seat::parse).transpose()?,
            reservation: Reservation::from_parts(
                status,
                self.reservation_created_at,
                self.reservation_expires_at,
                self.reservation_confirmed_at,
            )?,
        })
    }
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
