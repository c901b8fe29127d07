//! The repository decides exactly as the domain does: for every command and a row in
//! every phase, what PostgreSQL stores and answers equals `Command::decide`. This is
//! the check that the SQL guard has not drifted from the rules.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use common::{at, force_reservation, new_ticket};
use ticketing_domain::{Phase, Timestamp};
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
