//! Every reservation state written by hand into a row reads back as written, the table's
//! CHECK constraints refuse rows that no command could write, and a row the domain
//! cannot represent is an error. (What commands store is the repository contract's,
//! `tests/contract.rs`.)

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use common::{at, force_reservation, hold, new_ticket, sql_digest, sql_time};
use ticketing_domain::{Command, Proof, Reservation};
use ticketing_ports::testing::OWNER;
use ticketing_ports::{TicketError, TicketRepository};
use ticketing_postgres::test_db::TestDatabase;

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
fn check_constraints_refuse_rows_no_command_could_write() {
    let db = TestDatabase::new();
    db.execute("INSERT INTO tickets (event_name) VALUES ('Opening Night')")
        .unwrap();
    let (c, e, k) = (sql_time(at(0)), sql_time(at(60)), sql_time(at(30)));
    let early = sql_time(at(-1));
    // A hold's id and token digest: rows with a status carry them, or only the hold
    // constraints would refuse them.
    let h = format!(
        "hold_id = '{}'::uuid, hold_token_digest = {}",
        OWNER.id,
        sql_digest(&OWNER.owner)
    );
    let refused = [
        ("event_name = ''", "tickets_event_name_length"),
        ("event_name = repeat('x', 201)", "tickets_event_name_length"),
        ("event_name = E' \\t\\n '", "tickets_event_name_not_blank"),
        ("seat = ''", "tickets_seat_length"),
        ("seat = repeat('x', 51)", "tickets_seat_length"),
        ("seat = '   '", "tickets_seat_not_blank"),
        (
            &format!("reservation_status = 'HELD', {h}"),
            "tickets_reservation_status_known",
        ),
        (
            &format!("reservation_status = 'tentative', {h}"),
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
            &format!("reservation_status = 'TENTATIVE', reservation_created_at = {c}, {h}"),
            "tickets_reservation_timestamps_match_status",
        ),
        (
            &format!(
                "reservation_status = 'TENTATIVE', reservation_created_at = {c}, \
                 reservation_expires_at = {e}, reservation_confirmed_at = {k}, {h}"
            ),
            "tickets_reservation_timestamps_match_status",
        ),
        (
            &format!(
                "reservation_status = 'CONFIRMED', reservation_created_at = {c}, \
                 reservation_expires_at = {e}, {h}"
            ),
            "tickets_reservation_timestamps_match_status",
        ),
        (
            &format!("reservation_status = 'EXPIRED', reservation_expires_at = {e}, {h}"),
            "tickets_reservation_timestamps_match_status",
        ),
        (
            &format!(
                "reservation_status = 'TENTATIVE', reservation_created_at = {e}, \
                 reservation_expires_at = {c}, {h}"
            ),
            "tickets_reservation_expires_after_created",
        ),
        (
            &format!(
                "reservation_status = 'EXPIRED', reservation_created_at = {c}, \
                 reservation_expires_at = {c}, {h}"
            ),
            "tickets_reservation_expires_after_created",
        ),
        (
            &format!(
                "reservation_status = 'CONFIRMED', reservation_created_at = {c}, \
                 reservation_expires_at = {e}, reservation_confirmed_at = {e}, {h}"
            ),
            "tickets_reservation_confirmed_within_hold",
        ),
        (
            &format!(
                "reservation_status = 'CONFIRMED', reservation_created_at = {c}, \
                 reservation_expires_at = {e}, reservation_confirmed_at = {early}, {h}"
            ),
            "tickets_reservation_confirmed_within_hold",
        ),
        (
            &format!(
                "reservation_status = 'TENTATIVE', reservation_created_at = {c}, \
                 reservation_expires_at = {e}"
            ),
            "tickets_hold_matches_status",
        ),
        (
            &format!(
                "reservation_status = 'TENTATIVE', reservation_created_at = {c}, \
                 reservation_expires_at = {e}, hold_id = gen_random_uuid()"
            ),
            "tickets_hold_matches_status",
        ),
        (&h, "tickets_hold_matches_status"),
        (
            &format!(
                "reservation_status = 'TENTATIVE', reservation_created_at = {c}, \
                 reservation_expires_at = {e}, hold_id = gen_random_uuid(), \
                 hold_token_digest = '\\x0102'::bytea"
            ),
            "tickets_hold_token_digest_length",
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
             reservation_expires_at = {e}, {h}"
        ),
        format!(
            "reservation_status = 'CONFIRMED', reservation_created_at = {c}, \
             reservation_expires_at = {e}, reservation_confirmed_at = {c}, {h}"
        ),
        "reservation_status = NULL, reservation_created_at = NULL, \
         reservation_expires_at = NULL, reservation_confirmed_at = NULL, seat = NULL, \
         hold_id = NULL, hold_token_digest = NULL"
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
    let [blank, unknown, half_a_hold, short_digest] =
        [(); 4].map(|()| repository.create(&new_ticket()).unwrap().id);
    let held = |id| {
        format!(
            "reservation_created_at = {}, reservation_expires_at = {} WHERE id = {id}",
            sql_time(at(0)),
            sql_time(at(60))
        )
    };
    // An em space passes the table's ASCII blank check but is blank to the domain.
    db.execute(&format!(
        "UPDATE tickets SET event_name = E'\\u2003' WHERE id = {blank}"
    ))
    .unwrap();
    db.execute(&format!(
        "ALTER TABLE tickets DROP CONSTRAINT tickets_reservation_status_known; \
         UPDATE tickets SET reservation_status = 'HELD', hold_id = gen_random_uuid(), \
         hold_token_digest = sha256('x'), {}",
        held(unknown)
    ))
    .unwrap();
    db.execute(&format!(
        "ALTER TABLE tickets DROP CONSTRAINT tickets_hold_matches_status; \
         UPDATE tickets SET reservation_status = 'TENTATIVE', hold_id = gen_random_uuid(), {}",
        held(half_a_hold)
    ))
    .unwrap();
    db.execute(&format!(
        "ALTER TABLE tickets DROP CONSTRAINT tickets_hold_token_digest_length; \
         UPDATE tickets SET reservation_status = 'TENTATIVE', hold_id = gen_random_uuid(), \
         hold_token_digest = '\\x0102'::bytea, {}",
        held(short_digest)
    ))
    .unwrap();
    for id in [blank, unknown, half_a_hold, short_digest] {
        assert!(
            matches!(repository.find(id), Err(TicketError::Unexpected(_))),
            "{id}"
        );
        assert!(
            matches!(
                repository.apply(id, Command::Confirm(Proof::ANONYMOUS), at(1)),
                Err(TicketError::Unexpected(_))
            ),
            "{id}"
        );
    }
    let error = repository.find(unknown).unwrap_err();
    let chain = format!("{:?}", anyhow::Error::from(error));
    assert!(chain.contains("HELD"), "the cause is kept: {chain}");
    let error = repository.find(half_a_hold).unwrap_err();
    let chain = format!("{:?}", anyhow::Error::from(error));
    assert!(chain.contains("token digest"), "the cause is kept: {chain}");
}
