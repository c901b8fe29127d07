//! Listing tickets a page at a time: which tickets ([`TicketQuery`]), and the page a
//! repository answers ([`TicketPage`]). Pages are keyed on the ticket id (keyset
//! pagination), so a page costs the same however deep it is.

use ticketing_domain::{EventName, StatusFilter, Ticket, TicketId};

/// How many tickets a page holds: 1..=500, 50 unless asked otherwise.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PageLimit(u32);

/// A page size outside 1..=500.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("must be between {min} and {max}, got {0}", min = PageLimit::MIN, max = PageLimit::MAX)]
pub struct InvalidPageLimit(pub u64);

impl PageLimit {
    pub const MIN: u32 = 1;
    pub const MAX: u32 = 500;
    pub const DEFAULT: Self = Self(50);

    pub fn new(limit: u64) -> Result<Self, InvalidPageLimit> {
        u32::try_from(limit)
            .ok()
            .filter(|limit| (Self::MIN..=Self::MAX).contains(limit))
            .map(Self)
            .ok_or(InvalidPageLimit(limit))
    }

    pub fn get(self) -> u32 {
        self.0
    }
}

impl Default for PageLimit {
    fn default() -> Self {
        Self::DEFAULT
    }
}

/// Which tickets to list: those matching every filter given, with an id above `after`
/// (from the first ticket when `None`), at most `limit` of them, in ascending id order.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct TicketQuery {
    /// The reservation status as seen at the instant of the listing.
    pub status: Option<StatusFilter>,
    /// Exactly this event name.
    pub event_name: Option<EventName>,
    /// The last id of the previous page.
    pub after: Option<TicketId>,
    pub limit: PageLimit,
}

/// One page of a listing.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TicketPage {
    /// In ascending id order.
    pub tickets: Vec<Ticket>,
    /// The `after` of the next page (the last ticket's id) when more tickets match beyond
    /// this page; `None` on the last page.
    pub next_after: Option<TicketId>,
}

impl TicketPage {
    /// The page made of `matching`, the first tickets in id order after the query's
    /// `after`, fetched one beyond the limit to tell whether a next page exists.
    pub fn from_one_more(mut matching: Vec<Ticket>, limit: PageLimit) -> Self {
        let limit = limit.get() as usize;
        let more = matching.len() > limit;
        matching.truncate(limit);
        let next_after = if more {
            matching.last().map(|ticket| ticket.id)
        } else {
            None
        };
        Self {
            tickets: matching,
            next_after,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn page_limits_are_one_to_five_hundred() {
        assert_eq!(PageLimit::new(1).map(PageLimit::get), Ok(1));
        assert_eq!(PageLimit::new(500).map(PageLimit::get), Ok(500));
        assert_eq!(PageLimit::default().get(), 50);
        for bad in [0, 501, u64::from(u32::MAX) + 1, u64::MAX] {
            assert_eq!(PageLimit::new(bad), Err(InvalidPageLimit(bad)));
        }
    }
}
