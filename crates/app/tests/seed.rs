//! `ticketing seed` creates the tickets it reports, and refuses seats the domain refuses
//! before it touches the database.

// Tests panic on purpose when something is wrong.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::process::{Command, Output};

use ticketing_domain::TicketId;
use ticketing_ports::{TicketError, TicketRepository};
use ticketing_postgres::test_db::TestDatabase;

/// A database nobody listens on: only the command's own checks can answer there.
const NO_DATABASE: &str = "postgres://postgres@127.0.0.1:1/x";

fn seed(database_url: &str, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_ticketing"))
        .arg("seed")
        .args(args)
        .env_clear()
        .env(
            "APP_CONFIG_DIR",
            concat!(env!("CARGO_MANIFEST_DIR"), "/../../config"),
        )
        .env("DATABASE_URL", database_url)
        .env("RUST_LOG", "warn")
        // Refusals must not wait for a database that is not there.
        .env("APP__DATABASE__STARTUP_TIMEOUT_SECONDS", "1")
        .output()
        .unwrap()
}

#[test]
fn seed_creates_the_tickets_and_prints_their_id_range() {
    let db = TestDatabase::new();
    let output = seed(
        db.url(),
        &[
            "--event",
            "Cup Final",
            "--count",
            "1500",
            "--seat-prefix",
            "R-",
        ],
    );
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(
        output.status.success(),
        "{stdout}{}",
        String::from_utf8_lossy(&output.stderr)
    );
    assert_eq!(
        stdout.trim(),
        "created 1500 tickets for \"Cup Final\": ids 1..=1500"
    );

    let repository = db.repository();
    let first = repository.find(TicketId::new(1).unwrap()).unwrap();
    assert_eq!(first.event_name.as_str(), "Cup Final");
    assert_eq!(first.seat.unwrap().as_str(), "R-1");
    let last = repository.find(TicketId::new(1500).unwrap()).unwrap();
    assert_eq!(last.seat.unwrap().as_str(), "R-1500");
    assert!(matches!(
        repository.find(TicketId::new(1501).unwrap()),
        Err(TicketError::NotFound(_))
    ));
}

#[test]
fn seed_refuses_names_and_seats_the_domain_refuses() {
    let db = TestDatabase::new();
    let long_prefix = "x".repeat(48);
    let cases: [(&[&str], &str); 4] = [
        (&["--event", "  ", "--count", "3"], "event name"),
        (&["--event", "Gala", "--count", "0"], "count"),
        (
            // 48 characters and "100" make a 51-character seat.
            &[
                "--event",
                "Gala",
                "--count",
                "100",
                "--seat-prefix",
                &long_prefix,
            ],
            "seat",
        ),
        (
            &[
                "--event",
                "Gala",
                "--count",
                "1",
                "--seat-prefix",
                &"y".repeat(50),
            ],
            "seat",
        ),
    ];
    for (args, mentions) in cases {
        // Against no database, so that the refusal is the command's own check and not the
        // database's CHECK constraints; then against a real one, which must stay empty.
        for url in [NO_DATABASE, db.url()] {
            let output = seed(url, args);
            let stderr = String::from_utf8_lossy(&output.stderr);
            assert!(!output.status.success(), "{args:?} on {url} succeeded");
            assert!(stderr.contains(mentions), "{args:?} on {url}: {stderr}");
        }
    }
    // Nothing was created, not even by the batches whose first seats were valid.
    let repository = db.repository();
    assert!(matches!(
        repository.find(TicketId::new(1).unwrap()),
        Err(TicketError::NotFound(_))
    ));
}
