//! The repository decides exactly as the domain does: for every command and a row in
//! every phase, what PostgreSQL stores and answers equals `Command::decide`. This is
//! the check that the SQL guard has not drifted from the rules.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use common::{at, force_reservation, hold, new_ticket};
use ticketing_domain::{Command, Decision, Phase, Reservation, ReservationPolicy, Timestamp};
use ticketing_ports::{Outcome, TicketRepository};
use ticketing_postgres::test_db::TestDatabase;

/// A reservation in every phase at `at(0)`, including the edges: a hold expiring at
/// exactly `now` (lapsed) and one placed by a clock running ahead of ours.
fn arrangements() -> Vec<(&'static str, Reservation)> {
    vec![
        ("unreserved", Reservation::Unreserved),
        ("held", Reservation::Tentative(hold(-10, 50))),
        (
            "held, placed by a clock ahead",
            Reservation::Tentative(hold(5, 65)),
        ),
        ("lapsed", Reservation::Tentative(hold(-100, -40))),
        ("lapsed exactly now", Reservation::Tentative(hold(-60, 0))),
        ("expired", Reservation::Expired(hold(-100, -40))),
        (
            "confirmed",
            Reservation::Confirmed {
                hold: hold(-100, -40),
                confirmed_at: at(-70),
            },
        ),
    ]
}

fn commands() -> Vec<Command> {
    let policy = ReservationPolicy::from_ttl_seconds(60).unwrap();
    vec![
        Command::Reserve(policy),
        Command::Confirm,
        Command::Release,
        Command::Expire,
    ]
}

#[test]
fn the_repository_decides_every_command_in_every_phase_as_the_domain_does() {
    let db = TestDatabase::new();
    let repository = db.repository();
    let now: Timestamp = at(0);
    let mut phases_seen = Vec::new();

    for (label, before) in arrangements() {
        phases_seen.push(before.phase_at(now));
        for command in commands() {
            let case = format!("{command:?} on {label}");
            let id = repository.create(&new_ticket()).unwrap().id;
            force_reservation(&db, id, &before);

            let outcome = repository
                .apply(id, command, now)
                .unwrap_or_else(|e| panic!("{case}: {e:?}"));
            let stored = repository.find(id).unwrap().reservation;

            match command.decide(&before, now) {
                Decision::Write(next) => {
                    let Outcome::Written(ticket) = outcome else {
                        panic!("{case}: expected a write, got {outcome:?}");
                    };
                    assert_eq!(ticket.reservation, next, "{case}");
                    assert_eq!(stored, next, "{case}");
                }
                Decision::AlreadyDone => {
                    let Outcome::AlreadyDone(ticket) = outcome else {
                        panic!("{case}: expected already done, got {outcome:?}");
                    };
                    assert_eq!(ticket.reservation, before, "{case}");
                    assert_eq!(stored, before, "{case}");
                }
                Decision::Refuse(error) => {
                    assert_eq!(outcome, Outcome::Refused(error), "{case}");
                    assert_eq!(stored, before, "{case}");
                }
                Decision::RecordThenRefuse { record, error } => {
                    assert_eq!(outcome, Outcome::RecordedThenRefused(error), "{case}");
                    let Decision::Write(recorded) = record.decide(&before, now) else {
                        panic!("{case}: the recorded command must write");
                    };
                    assert_eq!(stored, recorded, "{case}");
                }
            }
        }
    }
    for phase in Phase::ALL {
        assert!(phases_seen.contains(&phase), "no arrangement in {phase:?}");
    }
}
