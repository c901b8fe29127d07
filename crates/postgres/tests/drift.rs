//! The repository decides exactly as the domain does: for every command and a row in
//! every phase, what PostgreSQL stores and answers equals `Command::decide`. This is
//! the check that the SQL guard has not drifted from the rules.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use chrono::TimeDelta;
use common::{at, force_reservation, hold, new_ticket};
use ticketing_domain::{
    Command, Decision, Phase, Reservation, ReservationError, ReservationPolicy, Timestamp,
};
use ticketing_ports::testing::owner_proof;
use ticketing_ports::{contract, TicketRepository};
use ticketing_postgres::test_db::TestDatabase;

#[test]
fn the_repository_decides_every_command_in_every_phase_as_the_domain_does() {
    let db = TestDatabase::new();
    let repository = db.repository();
    let now: Timestamp = at(0);
    let mut phases_seen = Vec::new();

    for (_, before) in contract::arrangements() {
        phases_seen.push(before.phase_at(now));
        for command in contract::commands() {
            let id = repository.create(&new_ticket()).unwrap().id;
            force_reservation(&db, id, &before);
            contract::check_applied_as_decided(&repository, id, before, command, now);
        }
    }
    for phase in Phase::ALL {
        assert!(phases_seen.contains(&phase), "no arrangement in {phase:?}");
    }
}

/// An extension that would end a hold before it starts (one placed by a clock running
/// ahead) is refused as past the limit, as the domain decides, never written: the guard
/// alone admits it, the write's own condition (`Hold::until`) does not.
#[test]
fn an_extension_ending_a_hold_before_it_starts_is_refused_not_written() {
    let db = TestDatabase::new();
    let repository = db.repository();
    let ahead = Reservation::Tentative(hold(10, 70));
    let extend = Command::Extend {
        proof: owner_proof(),
        by: TimeDelta::seconds(5),
        policy: ReservationPolicy::from_ttl_seconds(60).unwrap(),
    };
    let id = repository.create(&new_ticket()).unwrap().id;
    force_reservation(&db, id, &ahead);
    assert!(matches!(
        extend.decide(&ahead, at(0)),
        Decision::Refuse(ReservationError::ExtensionLimit { .. })
    ));
    contract::check_applied_as_decided(&repository, id, ahead, extend, at(0));
}
