//! The embedded migrations: all up, all down and up again on an empty database; applying
//! them twice is a no-op; and creating the database they run in.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use ticketing_postgres::test_db::{revert_all_migrations, TestDatabase};
use ticketing_postgres::{create_database_if_missing, run_migrations, PoolSettings};

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
