//! Configuration layering and validation, with the shipped `config/` directory.

// Tests panic on purpose when something is wrong.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::collections::HashMap;

use secrecy::ExposeSecret;
use ticketing_app::settings::{LogFormat, Settings, SettingsSource, COMPILED_DEFAULTS};

use common::{config_dir as shipped_config_dir, try_load_settings as load};

fn error_text(env: &[(&str, &str)]) -> String {
    load(env)
        .expect_err("settings should be refused")
        .to_string()
}

#[test]
fn defaults_come_from_default_toml_and_the_local_overlay() {
    let settings = load(&[]).unwrap();
    assert_eq!(settings.environment, "local");
    assert_eq!(settings.reservation.ttl().num_seconds(), 60);
    assert_eq!(settings.server.port, 8080);
    assert_eq!(settings.server.host, "127.0.0.1");
    assert_eq!(
        settings.database.url.expose_secret(),
        "postgres://postgres@127.0.0.1:5432/ticketing"
    );
    assert_eq!(settings.database.checkout_timeout_ms, 2000);
    // local.toml overrides the level of default.toml.
    assert_eq!(settings.log.level, "info,ticketing=debug");
}

#[test]
fn the_production_overlay_applies_when_app_env_says_so() {
    let settings = load(&[("APP_ENV", "production")]).unwrap();
    assert_eq!(settings.server.host, "0.0.0.0");
    assert_eq!(settings.log.format, LogFormat::Json);
    assert_eq!(settings.database.pool_min_idle, 4);
}

#[test]
fn an_app_env_without_its_file_is_refused() {
    let text = error_text(&[("APP_ENV", "prodution")]);
    assert!(text.contains("prodution.toml"), "{text}");
}

#[test]
fn short_environment_variables_win() {
    let settings = load(&[
        ("RESERVATION_TTL_SECONDS", "2"),
        ("APP__RESERVATION__TTL_SECONDS", "30"),
        ("PORT", "0"),
        ("HOST", "0.0.0.0"),
        ("DATABASE_URL", "postgres://u:p@db:5433/other"),
        ("RUST_LOG", "warn"),
    ])
    .unwrap();
    assert_eq!(settings.reservation.ttl().num_seconds(), 2);
    assert_eq!(settings.server.port, 0);
    assert_eq!(settings.server.host, "0.0.0.0");
    assert_eq!(
        settings.database.url.expose_secret(),
        "postgres://u:p@db:5433/other"
    );
    assert_eq!(settings.log.level, "warn");
}

#[test]
fn generic_environment_variables_set_any_key() {
    let settings = load(&[
        ("APP__DATABASE__POOL_MAX_SIZE", "32"),
        ("APP__SERVER__SHUTDOWN_TIMEOUT_SECONDS", "7"),
        ("APP__LOG__FORMAT", "json"),
    ])
    .unwrap();
    assert_eq!(settings.database.pool_max_size, 32);
    assert_eq!(settings.server.shutdown_timeout_seconds, 7);
    assert_eq!(settings.log.format, LogFormat::Json);
}

#[test]
fn a_bad_ttl_names_the_key_and_the_variable_it_came_from() {
    for bad in ["0", "-5", "86401", "abc", "1.5", ""] {
        let text = error_text(&[("RESERVATION_TTL_SECONDS", bad)]);
        assert!(text.contains("reservation.ttl_seconds"), "{bad}: {text}");
        assert!(
            text.contains("environment variable RESERVATION_TTL_SECONDS"),
            "{bad}: {text}"
        );
    }
    let text = error_text(&[("APP__RESERVATION__TTL_SECONDS", "0")]);
    assert!(
        text.contains("environment variable APP__RESERVATION__TTL_SECONDS"),
        "{text}"
    );
}

#[test]
fn a_bad_port_names_the_key_and_the_variable() {
    for bad in ["70000", "-1", "http"] {
        let text = error_text(&[("PORT", bad)]);
        assert!(text.contains("server.port"), "{bad}: {text}");
        assert!(text.contains("environment variable PORT"), "{bad}: {text}");
    }
}

#[test]
fn an_unusable_database_url_is_refused_without_echoing_its_password() {
    for bad in [
        "not a url",
        "mysql://root@localhost/ticketing",
        "postgres://postgres@127.0.0.1:5432",
    ] {
        let text = error_text(&[("DATABASE_URL", bad)]);
        assert!(text.contains("database.url"), "{bad}: {text}");
        assert!(
            text.contains("environment variable DATABASE_URL"),
            "{bad}: {text}"
        );
    }
    let text = error_text(&[("DATABASE_URL", "mysql://user:s3cret@db/x")]);
    assert!(!text.contains("s3cret"), "{text}");
}

#[test]
fn a_bad_value_in_a_file_names_the_file() {
    let dir = std::env::temp_dir().join(format!("ticketing-settings-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::copy(
        shipped_config_dir().join("default.toml"),
        dir.join("default.toml"),
    )
    .unwrap();
    std::fs::write(dir.join("staging.toml"), "[reservation]\nttl_seconds = 0\n").unwrap();
    let result = Settings::load(&SettingsSource {
        config_dir: dir.clone(),
        env: HashMap::from([("APP_ENV".to_owned(), "staging".to_owned())]),
    });
    std::fs::remove_dir_all(&dir).unwrap();
    let text = result.unwrap_err().to_string();
    assert!(text.contains("reservation.ttl_seconds"), "{text}");
    assert!(text.contains("staging.toml"), "{text}");
}

#[test]
fn inconsistent_pool_sizes_and_log_levels_are_refused() {
    let text = error_text(&[
        ("APP__DATABASE__POOL_MAX_SIZE", "4"),
        ("APP__DATABASE__POOL_MIN_IDLE", "8"),
    ]);
    assert!(text.contains("database.pool_min_idle"), "{text}");
    let text = error_text(&[("APP__LOG__FORMAT", "xml")]);
    assert!(text.contains("log.format"), "{text}");
    let text = error_text(&[("RUST_LOG", "info,[[")]);
    assert!(text.contains("log.level"), "{text}");
}

#[test]
fn a_zero_response_deadline_is_refused_and_the_default_is_10_s() {
    assert_eq!(
        load(&[]).unwrap().server.response_deadline(),
        std::time::Duration::from_secs(10)
    );
    let text = error_text(&[("APP__SERVER__RESPONSE_DEADLINE_MS", "0")]);
    assert!(text.contains("server.response_deadline_ms"), "{text}");
    assert!(
        text.contains("environment variable APP__SERVER__RESPONSE_DEADLINE_MS"),
        "{text}"
    );
}

#[test]
fn settings_never_show_the_database_password() {
    let settings = load(&[("DATABASE_URL", "postgres://app:s3cret@db:5432/ticketing")]).unwrap();
    for shown in [format!("{settings:?}"), format!("{:?}", settings.database)] {
        assert!(!shown.contains("s3cret"), "{shown}");
        assert!(
            shown.contains("postgres://app:***@db:5432/ticketing"),
            "{shown}"
        );
    }
    let pool = settings.database.pool_settings();
    assert!(!format!("{pool:?}").contains("s3cret"));
}

/// The binary must start from any directory: every key has a compiled-in default, and
/// the files only override.
#[test]
fn settings_load_without_any_configuration_file() {
    let nowhere = std::env::temp_dir().join(format!("ticketing-no-config-{}", std::process::id()));
    let settings = Settings::load(&SettingsSource {
        config_dir: nowhere,
        env: HashMap::new(),
    })
    .unwrap();
    assert_eq!(settings.reservation.ttl().num_seconds(), 60);
    assert_eq!(settings.server.port, 8080);
    assert_eq!(settings.log.level, "info");
    let text = error_text(&[("APP__SERVER__SHUTDOWN_TIMEOUT_SECONDS", "0")]);
    assert!(text.contains("server.shutdown_timeout_seconds"), "{text}");
}

#[test]
fn the_shipped_default_toml_is_what_is_compiled_in() {
    let shipped = std::fs::read_to_string(shipped_config_dir().join("default.toml")).unwrap();
    assert_eq!(shipped, COMPILED_DEFAULTS);
}

#[test]
fn pool_rules_name_the_key_and_its_value() {
    let text = error_text(&[("APP__DATABASE__POOL_MAX_SIZE", "0")]);
    assert!(text.contains("database.pool_max_size = 0"), "{text}");
    let text = error_text(&[("APP__DATABASE__POOL_MIN_IDLE", "17")]);
    assert!(text.contains("database.pool_min_idle = 17"), "{text}");
    assert!(
        text.contains("pool_max_size (16)") || text.contains("max_size (16)"),
        "{text}"
    );
}

#[test]
fn hold_settings_default_to_900_s_10_tickets_and_tokens_required() {
    let settings = load(&[]).unwrap();
    assert_eq!(settings.reservation.max_hold().num_seconds(), 900);
    assert_eq!(settings.reservation.max_tickets_per_hold(), 10);
    assert!(settings.require_hold_token);
    // Also with no file at all: the compiled-in defaults.
    let nowhere = std::env::temp_dir().join(format!("ticketing-no-holds-{}", std::process::id()));
    let compiled = Settings::load(&SettingsSource {
        config_dir: nowhere,
        env: HashMap::new(),
    })
    .unwrap();
    assert!(compiled.require_hold_token);
    assert_eq!(compiled.reservation.max_tickets_per_hold(), 10);
    assert_eq!(compiled.reservation.max_hold().num_seconds(), 900);
    // Unset, the cap is the TTL when that is longer than 900 s.
    let settings = load(&[("RESERVATION_TTL_SECONDS", "1200")]).unwrap();
    assert_eq!(settings.reservation.max_hold().num_seconds(), 1200);
}

#[test]
fn hold_settings_come_from_the_environment() {
    let settings = load(&[
        ("APP__RESERVATION__MAX_HOLD_SECONDS", "300"),
        ("APP__RESERVATION__MAX_TICKETS_PER_HOLD", "4"),
        ("APP__RESERVATION__REQUIRE_HOLD_TOKEN", "false"),
    ])
    .unwrap();
    assert_eq!(settings.reservation.max_hold().num_seconds(), 300);
    assert_eq!(settings.reservation.max_tickets_per_hold(), 4);
    assert!(!settings.require_hold_token);
    // The bounds themselves are allowed.
    let settings = load(&[
        ("APP__RESERVATION__MAX_HOLD_SECONDS", "60"),
        ("APP__RESERVATION__MAX_TICKETS_PER_HOLD", "1000"),
        ("APP__RESERVATION__REQUIRE_HOLD_TOKEN", "true"),
    ])
    .unwrap();
    assert_eq!(settings.reservation.max_hold().num_seconds(), 60);
    assert_eq!(settings.reservation.max_tickets_per_hold(), 1000);
    assert!(settings.require_hold_token);
}

/// A config directory with the shipped `default.toml` and `{environment}.toml` holding
/// `overlay`; answers the settings it loads (or why not).
fn load_with_overlay(
    environment: &str,
    overlay: &str,
) -> Result<Settings, ticketing_app::settings::SettingsError> {
    let dir = std::env::temp_dir().join(format!(
        "ticketing-settings-{environment}-{}",
        std::process::id()
    ));
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::copy(
        shipped_config_dir().join("default.toml"),
        dir.join("default.toml"),
    )
    .unwrap();
    std::fs::write(dir.join(format!("{environment}.toml")), overlay).unwrap();
    let result = Settings::load(&SettingsSource {
        config_dir: dir.clone(),
        env: HashMap::from([("APP_ENV".to_owned(), environment.to_owned())]),
    });
    std::fs::remove_dir_all(&dir).unwrap();
    result
}

#[test]
fn hold_settings_come_from_a_file_and_bad_ones_name_it() {
    let settings = load_with_overlay(
        "holds",
        "[reservation]\nmax_hold_seconds = 1800\nmax_tickets_per_hold = 25\n\
         require_hold_token = false\n",
    )
    .unwrap();
    assert_eq!(settings.reservation.max_hold().num_seconds(), 1800);
    assert_eq!(settings.reservation.max_tickets_per_hold(), 25);
    assert!(!settings.require_hold_token);

    let text = load_with_overlay("badholds", "[reservation]\nmax_tickets_per_hold = 0\n")
        .unwrap_err()
        .to_string();
    assert!(text.contains("reservation.max_tickets_per_hold"), "{text}");
    assert!(text.contains("badholds.toml"), "{text}");
}

#[test]
fn bad_hold_settings_are_refused_naming_the_key_and_the_variable() {
    let cases = [
        // Below the TTL (60 s): a hold could not even last its first TTL.
        (
            "APP__RESERVATION__MAX_HOLD_SECONDS",
            "59",
            "reservation.max_hold_seconds",
        ),
        (
            "APP__RESERVATION__MAX_HOLD_SECONDS",
            "0",
            "reservation.max_hold_seconds",
        ),
        (
            "APP__RESERVATION__MAX_HOLD_SECONDS",
            "86401",
            "reservation.max_hold_seconds",
        ),
        (
            "APP__RESERVATION__MAX_HOLD_SECONDS",
            "soon",
            "reservation.max_hold_seconds",
        ),
        (
            "APP__RESERVATION__MAX_TICKETS_PER_HOLD",
            "0",
            "reservation.max_tickets_per_hold",
        ),
        (
            "APP__RESERVATION__MAX_TICKETS_PER_HOLD",
            "1001",
            "reservation.max_tickets_per_hold",
        ),
        (
            "APP__RESERVATION__MAX_TICKETS_PER_HOLD",
            "-1",
            "reservation.max_tickets_per_hold",
        ),
        (
            "APP__RESERVATION__MAX_TICKETS_PER_HOLD",
            "many",
            "reservation.max_tickets_per_hold",
        ),
        (
            "APP__RESERVATION__REQUIRE_HOLD_TOKEN",
            "maybe",
            "reservation.require_hold_token",
        ),
    ];
    for (variable, value, key) in cases {
        let text = error_text(&[(variable, value)]);
        assert!(text.contains(key), "{variable}={value}: {text}");
        assert!(
            text.contains(&format!("environment variable {variable}")),
            "{variable}={value}: {text}"
        );
    }
    // Judged against the TTL in force, wherever that came from.
    let text = error_text(&[
        ("RESERVATION_TTL_SECONDS", "600"),
        ("APP__RESERVATION__MAX_HOLD_SECONDS", "300"),
    ]);
    assert!(
        text.contains("reservation.max_hold_seconds = 300"),
        "{text}"
    );
}
