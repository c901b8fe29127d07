//! The embedded migrations: all up, all down and up again on an empty database; applying
//! them twice is a no-op; creating the database they run in; and what the hold owners'
//! migration does to holds placed before it.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use chrono::Utc;
use ticketing_domain::{Command, OwnershipError, Proof, Reservation, ReservationError, TicketId};
use ticketing_ports::{Outcome, TicketRepository};
use ticketing_postgres::test_db::{revert_all_migrations, TestDatabase};
use ticketing_postgres::{
    create_database_if_missing, run_migrations, PgTicketRepository, PoolSettings,
};

/// Whether the database has a table or index of this name.
fn has(db: &TestDatabase, relation: &str) -> bool {
    // The cast fails exactly when no such relation exists.
    db.execute(&format!("SELECT '{relation}'::regclass"))
        .is_ok()
}

fn has_schema(db: &TestDatabase) -> bool {
    let (table, index) = (
        has(db, "tickets"),
        has(db, "tickets_tentative_expires_at_idx"),
    );
    assert_eq!(table, index, "the table and its index come and go together");
    table
}

#[test]
fn migrations_go_all_up_all_down_and_all_up_again() {
    let db = TestDatabase::empty();
    let pool = db.pool();
    assert!(!has_schema(&db));

    let applied = run_migrations(&pool).unwrap();
    assert!(!applied.is_empty());
    assert!(has_schema(&db));
    assert_eq!(
        run_migrations(&pool).unwrap(),
        Vec::<String>::new(),
        "a second run applies nothing"
    );

    let mut reverted = revert_all_migrations(&pool).unwrap();
    reverted.reverse();
    assert_eq!(reverted, applied, "every migration is reverted");
    assert!(!has_schema(&db));

    assert_eq!(run_migrations(&pool).unwrap(), applied);
    assert!(has_schema(&db));
    db.execute("INSERT INTO tickets (event_name, seat) VALUES ('Opening Night', 'A-12')")
        .unwrap();
}

#[test]
fn the_database_is_created_once() {
    let db = TestDatabase::empty();
    // Named like a test database so that a crashed run's copy is swept.
    let name = format!("{}_new", db.name());
    let new = PoolSettings {
        url: db.url().replace(db.name(), &name).parse().unwrap(),
        ..db.settings()
    };

    assert!(create_database_if_missing(&new).unwrap());
    assert!(!create_database_if_missing(&new).unwrap());
    assert!(!create_database_if_missing(&db.settings()).unwrap());

    db.execute(&format!("DROP DATABASE \"{name}\" WITH (FORCE)"))
        .unwrap();
}

/// Holds placed before holds had owners get a hold id each and the digest of a random
/// value (no token was ever issued for them, so none can be presented), unreserved
/// tickets neither; the rows read as holds, which the anonymous contract can still act on.
#[test]
fn holds_placed_before_holds_had_owners_get_an_id_and_a_digest_nobody_holds() {
    let db = TestDatabase::empty();
    let migration = |name: &str, file: &str| {
        let path = format!(
            "{}/../../migrations/{name}/{file}",
            env!("CARGO_MANIFEST_DIR")
        );
        std::fs::read_to_string(&path).unwrap_or_else(|error| panic!("{path}: {error}"))
    };
    db.execute(&migration("2026-11-26-120000_create_tickets", "up.sql"))
        .unwrap();
    db.execute(&migration("2026-11-27-000000_listing_indexes", "up.sql"))
        .unwrap();
    db.execute(
        "INSERT INTO tickets (event_name) VALUES ('Opening Night'); \
         INSERT INTO tickets (event_name, reservation_status, reservation_created_at, \
           reservation_expires_at) \
         SELECT 'Opening Night', 'TENTATIVE', now(), now() + interval '1 hour' \
         FROM generate_series(1, 3)",
    )
    .unwrap();
    db.execute(&migration("2026-12-02-000000_hold_owners", "up.sql"))
        .unwrap();

    db.execute(
        "DO $$ BEGIN \
           IF (SELECT count(DISTINCT hold_id) FROM tickets) <> 3 \
              OR (SELECT count(DISTINCT hold_token_digest) FROM tickets) <> 3 \
              OR EXISTS (SELECT 1 FROM tickets WHERE reservation_status IS NULL \
                         AND (hold_id IS NOT NULL OR hold_token_digest IS NOT NULL)) \
           THEN RAISE EXCEPTION 'holds without owners left behind'; END IF; END $$",
    )
    .unwrap();
    let repository = PgTicketRepository::new(db.pool());
    let [unreserved, held] = [1, 2].map(|id| TicketId::new(id).unwrap());
    assert_eq!(
        repository.find(unreserved).unwrap().reservation,
        Reservation::Unreserved
    );
    let required = Command::Confirm(Proof::new(None, true));
    assert_eq!(
        repository.apply(held, required, Utc::now()).unwrap(),
        Outcome::Refused(ReservationError::Ownership(OwnershipError::TokenRequired))
    );
    let anonymous = Command::Confirm(Proof::ANONYMOUS);
    assert!(matches!(
        repository.apply(held, anonymous, Utc::now()).unwrap(),
        Outcome::Written(_)
    ));

    db.execute(&migration("2026-12-02-000000_hold_owners", "down.sql"))
        .unwrap();
    assert!(db.execute("SELECT hold_id FROM tickets").is_err());
}
