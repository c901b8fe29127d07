//! Handler tests: the whole API as `ticketing_http::app` serves it (limits off unless a
//! test turns them on), over the in-memory repository and a manual clock. Every row of
//! the contract and every error code.

// Tests panic on purpose when something is wrong.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod bodies;
mod documentation;
mod failures;
mod health;
mod helpers;
mod holds;
mod listing;
mod observability;
mod reservations;
mod routing;
mod tickets;
