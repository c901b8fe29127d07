//! Tickets and the validated values they are made of.

use std::fmt;
use std::str::FromStr;

use crate::Reservation;

/// The identifier of a ticket: a positive 64-bit integer (it is stored as `BIGINT`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct TicketId(i64);

/// Why a text is not a [`TicketId`].
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TicketIdError {
    #[error("ticket id is empty")]
    Empty,
    #[error("ticket id must be a positive integer written in decimal digits")]
    NotAnInteger,
    #[error("ticket id must be greater than zero")]
    NotPositive,
    #[error("ticket id is larger than {}", i64::MAX)]
    TooLarge,
}

impl TicketId {
    /// A ticket id from a number, which must be positive.
    pub fn new(value: i64) -> Result<Self, TicketIdError> {
        if value > 0 {
            Ok(Self(value))
        } else {
            Err(TicketIdError::NotPositive)
        }
    }

    pub fn get(self) -> i64 {
        self.0
    }
}

impl FromStr for TicketId {
    type Err = TicketIdError;

    /// Parses a path segment. Only ASCII digits are accepted: no sign, no spaces, no
    /// fraction, so that `+7`, ` 7` and `7.0` are refused rather than read as 7.
    fn from_str(text: &str) -> Result<Self, Self::Err> {
        if text.is_empty() {
            return Err(TicketIdError::Empty);
        }
        if text.starts_with('-') && text.len() > 1 && text[1..].bytes().all(|b| b.is_ascii_digit())
        {
            return Err(TicketIdError::NotPositive);
        }
        if !text.bytes().all(|b| b.is_ascii_digit()) {
            return Err(TicketIdError::NotAnInteger);
        }
        // Only digits are left, so the one way parsing can fail is overflow.
        let value: i64 = text.parse().map_err(|_| TicketIdError::TooLarge)?;
        Self::new(value)
    }
}

impl fmt::Display for TicketId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.0.fmt(f)
    }
}

/// The name of the event a ticket admits to: 1 to 200 characters, not blank, without
/// U+0000 (which PostgreSQL cannot store in text).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct EventName(String);

/// Why a text is not an [`EventName`].
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum EventNameError {
    #[error("event name must not be empty or blank")]
    Blank,
    #[error("event name must be at most {max} characters, got {actual}", max = EventName::MAX_CHARS)]
    TooLong { actual: usize },
    #[error("event name must not contain the NUL character (U+0000)")]
    ContainsNul,
}

impl EventName {
    pub const MAX_CHARS: usize = 200;

    pub fn parse(text: impl Into<String>) -> Result<Self, EventNameError> {
        let text = text.into();
        let chars = text.chars().count();
        if text.trim().is_empty() {
            Err(EventNameError::Blank)
        } else if chars > Self::MAX_CHARS {
            Err(EventNameError::TooLong { actual: chars })
        } else if text.contains('\0') {
            Err(EventNameError::ContainsNul)
        } else {
            Ok(Self(text))
        }
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// A seat label such as `A-12`: 1 to 50 characters, not blank, without U+0000.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Seat(String);

/// Why a text is not a [`Seat`].
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SeatError {
    #[error("seat must not be empty or blank")]
    Blank,
    #[error("seat must be at most {max} characters, got {actual}", max = Seat::MAX_CHARS)]
    TooLong { actual: usize },
    #[error("seat must not contain the NUL character (U+0000)")]
    ContainsNul,
}

impl Seat {
    pub const MAX_CHARS: usize = 50;

    pub fn parse(text: impl Into<String>) -> Result<Self, SeatError> {
        let text = text.into();
        let chars = text.chars().count();
        // A seat of only spaces names no seat; it is refused like a blank event name.
        if text.trim().is_empty() {
            Err(SeatError::Blank)
        } else if chars > Self::MAX_CHARS {
            Err(SeatError::TooLong { actual: chars })
        } else if text.contains('\0') {
            Err(SeatError::ContainsNul)
        } else {
            Ok(Self(text))
        }
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// A ticket about to be created: validated, not yet stored, never reserved.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewTicket {
    pub event_name: EventName,
    pub seat: Option<Seat>,
}

/// A stored ticket and the state of its reservation.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Ticket {
    pub id: TicketId,
    pub event_name: EventName,
    pub seat: Option<Seat>,
    pub reservation: Reservation,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ticket_ids_parse_from_positive_decimal_digits() {
        assert_eq!("1".parse::<TicketId>().unwrap().get(), 1);
        assert_eq!("42".parse::<TicketId>().unwrap().get(), 42);
        assert_eq!("007".parse::<TicketId>().unwrap().get(), 7);
        let max = i64::MAX.to_string();
        assert_eq!(max.parse::<TicketId>().unwrap().get(), i64::MAX);
    }

    #[test]
    fn ticket_ids_refuse_everything_else_with_a_reason() {
        let cases = [
            ("", TicketIdError::Empty),
            ("abc", TicketIdError::NotAnInteger),
            ("0", TicketIdError::NotPositive),
            ("000", TicketIdError::NotPositive),
            ("-1", TicketIdError::NotPositive),
            ("-", TicketIdError::NotAnInteger),
            ("1.5", TicketIdError::NotAnInteger),
            ("+7", TicketIdError::NotAnInteger),
            (" 7", TicketIdError::NotAnInteger),
            ("7 ", TicketIdError::NotAnInteger),
            ("1e3", TicketIdError::NotAnInteger),
            ("٣", TicketIdError::NotAnInteger),
            ("9223372036854775808", TicketIdError::TooLarge),
            ("99999999999999999999", TicketIdError::TooLarge),
        ];
        for (text, expected) in cases {
            assert_eq!(text.parse::<TicketId>(), Err(expected), "parsing {text:?}");
        }
        assert_eq!(TicketId::new(0), Err(TicketIdError::NotPositive));
        assert_eq!(TicketId::new(-5), Err(TicketIdError::NotPositive));
    }

    #[test]
    fn event_names_are_one_to_two_hundred_characters_and_not_blank() {
        assert!(EventName::parse("x").is_ok());
        assert!(
            EventName::parse("é".repeat(200)).is_ok(),
            "limits count characters, not bytes"
        );
        assert_eq!(EventName::parse(""), Err(EventNameError::Blank));
        assert_eq!(EventName::parse(" \t\n"), Err(EventNameError::Blank));
        assert_eq!(
            EventName::parse("a".repeat(201)),
            Err(EventNameError::TooLong { actual: 201 })
        );
        assert_eq!(
            EventName::parse(" Opening Night ").unwrap().as_str(),
            " Opening Night "
        );
        for nul in ["\0", "a\0b", "Opening Night\0"] {
            assert_eq!(
                EventName::parse(nul),
                Err(EventNameError::ContainsNul),
                "{nul:?}"
            );
        }
    }

    #[test]
    fn seats_are_one_to_fifty_characters_and_not_blank() {
        assert!(Seat::parse("A").is_ok());
        assert!(Seat::parse("ü".repeat(50)).is_ok());
        assert_eq!(Seat::parse(""), Err(SeatError::Blank));
        assert_eq!(Seat::parse("   "), Err(SeatError::Blank));
        assert_eq!(
            Seat::parse("1".repeat(51)),
            Err(SeatError::TooLong { actual: 51 })
        );
        for nul in ["\0", "A-\0"] {
            assert_eq!(Seat::parse(nul), Err(SeatError::ContainsNul), "{nul:?}");
        }
    }
}
