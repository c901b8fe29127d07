//! Every reservation state survives a round trip through PostgreSQL, and the table's
//! CHECK constraints refuse rows that no command could write.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use common::{at, force_reservation, hold, new_ticket, sql_time};
use ticketing_domain::{
    Command, EventName, NewTicket, Reservation, ReservationPolicy, Seat, TicketId,
};
use ticketing_ports::{Outcome, TicketError, TicketRepository};
use ticketing_postgres::test_db::TestDatabase;

#[test]
fn tickets_are_created_unreserved_with_their_names_intact() {
    let db = TestDatabase::new();
    let repository = db.repository();
    let longest = NewTicket {
        event_name: EventName::parse("é".repeat(EventName::MAX_CHARS)).unwrap(),
        seat: Some(Seat::parse("ü".repeat(Seat::MAX_CHARS)).unwrap()),
    };
    let seatless = NewTicket {
        event_name: EventName::parse(" Late Show ").unwrap(),
        seat: None,
    };
    for new in [new_ticket(), longest, seatless] {
        let created = repository.create(&new).unwrap();
        assert_eq!(created.event_name, new.event_name);
        assert_eq!(created.seat, new.seat);
        assert_eq!(created.reservation, Reservation::Unreserved);
        assert_eq!(repository.find(created.id).unwrap(), created);
    }
}

#[test]
fn every_reservation_state_reads_back_as_written() {
    let db = TestDatabase::new();
    let repository = db.repository();
    let id = repository.create(&new_ticket()).unwrap().id;
    let states = [
        Reservation::Tentative(hold(0, 60)),
        Reservation::Confirmed {
            hold: hold(0, 60),
            confirmed_at: at(0),
        },
        Reservation::Expired(hold(-120, -60)),
        Reservation::Unreserved,
    ];
    for state in states {
        force_reservation(&db, id, &state);
        assert_eq!(repository.find(id).unwrap().reservation, state);
    }
}

#[test]
fn commands_store_what_they_answer() {
    let db = TestDatabase::new();
    let repository = db.repository();
    let policy = ReservationPolicy::from_ttl_seconds(60).unwrap();
    let id = repository.create(&new_ticket()).unwrap().id;
    let steps = [
        (Command::Reserve(policy), at(0)),
        (Command::Release, at(10)),
        (Command::Reserve(policy), at(20)),
        (Command::Expire, at(80)),
        (Command::Reserve(policy), at(90)),
        (Command::Confirm, at(100)),
    ];
    for (command, now) in steps {
        let Outcome::Written(ticket) = repository.apply(id, command, now).unwrap() else {
            panic!("{command:?} at {now} must write");
        };
        assert_eq!(repository.find(id).unwrap(), ticket);
    }
    assert_eq!(
        repository.find(id).unwrap().reservation,
        Reservation::Confirmed {
            hold: hold(90, 150),
            confirmed_at: at(100),
        }
    );
}

#[test]
fn unknown_ids_are_not_found() {
    let db = TestDatabase::new();
    let repository = db.repository();
    let id = TicketId::new(4_040).unwrap();
    assert!(matches!(repository.find(id), Err(TicketError::NotFound(i)) if i == id));
    for command in [Command::Confirm, Command::Release, Command::Expire] {
        assert!(matches!(
            repository.apply(id, command, at(0)),
            Err(TicketError::NotFound(i)) if i == id
        ));
    }
}

#[test]
fn check_constraints_refuse_rows_no_command_could_write() {
    let db = TestDatabase::new();
    db.execute("INSERT INTO tickets (event_name) VALUES ('Opening Night')")
        .unwrap();
    let (c, e, k) = (sql_time(at(0)), sql_time(at(60)), sql_time(at(30)));
    let early = sql_time(at(-1));
    let refused = [
        ("event_name = ''", "tickets_event_name_length"),
        ("event_name = repeat('x', 201)", "tickets_event_name_length"),
        ("event_name = E' \\t\\n '", "tickets_event_name_not_blank"),
        ("seat = ''", "tickets_seat_length"),
        ("seat = repeat('x', 51)", "tickets_seat_length"),
        ("seat = '   '", "tickets_seat_not_blank"),
        (
            "reservation_status = 'HELD'",
            "tickets_reservation_status_known",
        ),
        (
            "reservation_status = 'tentative'",
            "tickets_reservation_status_known",
        ),
        (
            &format!("reservation_created_at = {c}"),
            "tickets_reservation_timestamps_match_status",
        ),
        (
            &format!("reservation_created_at = {c}, reservation_expires_at = {e}"),
            "tickets_reservation_timestamps_match_status",
        ),
        (
            &format!("reservation_status = 'TENTATIVE', reservation_created_at = {c}"),
            "tickets_reservation_timestamps_match_status",
        ),
        (
            &format!(
                "reservation_status = 'TENTATIVE', reservation_created_at = {c}, \
                 reservation_expires_at = {e}, reservation_confirmed_at = {k}"
            ),
            "tickets_reservation_timestamps_match_status",
        ),
        (
            &format!(
                "reservation_status = 'CONFIRMED', reservation_created_at = {c}, \
                 reservation_expires_at = {e}"
            ),
            "tickets_reservation_timestamps_match_status",
        ),
        (
            &format!("reservation_status = 'EXPIRED', reservation_expires_at = {e}"),
            "tickets_reservation_timestamps_match_status",
        ),
        (
            &format!(
                "reservation_status = 'TENTATIVE', reservation_created_at = {e}, \
                 reservation_expires_at = {c}"
            ),
            "tickets_reservation_expires_after_created",
        ),
        (
            &format!(
                "reservation_status = 'EXPIRED', reservation_created_at = {c}, \
                 reservation_expires_at = {c}"
            ),
            "tickets_reservation_expires_after_created",
        ),
        (
            &format!(
                "reservation_status = 'CONFIRMED', reservation_created_at = {c}, \
                 reservation_expires_at = {e}, reservation_confirmed_at = {e}"
            ),
            "tickets_reservation_confirmed_within_hold",
        ),
        (
            &format!(
                "reservation_status = 'CONFIRMED', reservation_created_at = {c}, \
                 reservation_expires_at = {e}, reservation_confirmed_at = {early}"
            ),
            "tickets_reservation_confirmed_within_hold",
        ),
    ];
    for (assignments, constraint) in refused {
        let error = db
            .execute(&format!("UPDATE tickets SET {assignments}"))
            .expect_err(assignments);
        assert!(
            error.contains(constraint),
            "{assignments}: expected {constraint}, got {error}"
        );
    }

    // The constraints are not simply refusing everything: the same columns, consistent.
    let accepted = [
        "event_name = repeat('é', 200), seat = repeat('ü', 50)".to_owned(),
        format!(
            "reservation_status = 'TENTATIVE', reservation_created_at = {c}, \
             reservation_expires_at = {e}"
        ),
        format!(
            "reservation_status = 'CONFIRMED', reservation_created_at = {c}, \
             reservation_expires_at = {e}, reservation_confirmed_at = {c}"
        ),
        "reservation_status = NULL, reservation_created_at = NULL, \
         reservation_expires_at = NULL, reservation_confirmed_at = NULL, seat = NULL"
            .to_owned(),
    ];
    for assignments in accepted {
        db.execute(&format!("UPDATE tickets SET {assignments}"))
            .unwrap_or_else(|error| panic!("{assignments}: {error}"));
    }
}

#[test]
fn a_row_the_domain_cannot_represent_is_unexpected_never_a_default() {
    let db = TestDatabase::new();
    let repository = db.repository();
    let blank = repository.create(&new_ticket()).unwrap().id;
    let unknown = repository.create(&new_ticket()).unwrap().id;
    // An em space passes the table's ASCII blank check but is blank to the domain.
    db.execute(&format!(
        "UPDATE tickets SET event_name = E'\\u2003' WHERE id = {blank}"
    ))
    .unwrap();
    db.execute(&format!(
        "ALTER TABLE tickets DROP CONSTRAINT tickets_reservation_status_known; \
         UPDATE tickets SET reservation_status = 'HELD', reservation_created_at = {}, \
         reservation_expires_at = {} WHERE id = {unknown}",
        sql_time(at(0)),
        sql_time(at(60))
    ))
    .unwrap();
    for id in [blank, unknown] {
        assert!(matches!(
            repository.find(id),
            Err(TicketError::Unexpected(_))
        ));
        assert!(matches!(
            repository.apply(id, Command::Confirm, at(1)),
            Err(TicketError::Unexpected(_))
        ));
    }
    let error = repository.find(unknown).unwrap_err();
    let chain = format!("{:?}", anyhow::Error::from(error));
    assert!(chain.contains("HELD"), "the cause is kept: {chain}");
}
