//! The `ticketing` binary refuses bad configuration before it touches anything.

// Tests panic on purpose when something is wrong.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::process::Command;

fn ticketing(env: &[(&str, &str)], args: &[&str]) -> std::process::Output {
    let mut command = Command::new(env!("CARGO_BIN_EXE_ticketing"));
    command.args(args).env_clear().env(
        "APP_CONFIG_DIR",
        concat!(env!("CARGO_MANIFEST_DIR"), "/../../config"),
    );
    for (key, value) in env {
        command.env(key, value);
    }
    command.output().unwrap()
}

#[test]
fn invalid_settings_stop_start_up_with_a_message_naming_key_and_origin() {
    let cases = [
        ("RESERVATION_TTL_SECONDS", "0", "reservation.ttl_seconds"),
        ("RESERVATION_TTL_SECONDS", "-5", "reservation.ttl_seconds"),
        ("RESERVATION_TTL_SECONDS", "abc", "reservation.ttl_seconds"),
        (
            "RESERVATION_TTL_SECONDS",
            "86401",
            "reservation.ttl_seconds",
        ),
        ("PORT", "70000", "server.port"),
        ("DATABASE_URL", "::not a url::", "database.url"),
    ];
    for (variable, value, key) in cases {
        for subcommand in [&["serve"][..], &["migrate"][..]] {
            let output = ticketing(&[(variable, value)], subcommand);
            let stderr = String::from_utf8_lossy(&output.stderr);
            assert_eq!(
                output.status.code(),
                Some(2),
                "{variable}={value}: {stderr}"
            );
            assert!(stderr.contains(key), "{variable}={value}: {stderr}");
            assert!(
                stderr.contains(&format!("environment variable {variable}")),
                "{variable}={value}: {stderr}"
            );
        }
    }
}

#[test]
fn help_lists_the_commands() {
    let output = ticketing(&[], &["--help"]);
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(output.status.success());
    assert!(
        stdout.contains("serve") && stdout.contains("migrate"),
        "{stdout}"
    );
}

/// An installed binary runs from any directory: no `config/` beside it is needed.
#[test]
fn the_binary_needs_no_config_directory() {
    let elsewhere = std::env::temp_dir();
    let output = Command::new(env!("CARGO_BIN_EXE_ticketing"))
        .arg("migrate")
        .current_dir(&elsewhere)
        .env_clear()
        // Nothing listens on port 1: the command gets as far as the database and stops.
        .env("DATABASE_URL", "postgres://postgres@127.0.0.1:1/ticketing")
        .env("APP__DATABASE__STARTUP_TIMEOUT_SECONDS", "0")
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(1), "{stderr}");
    assert!(stderr.contains("could not reach the database"), "{stderr}");
    assert!(!stderr.contains("configuration"), "{stderr}");
}
