//! The `ticketing` command: serve the API, apply database migrations, or seed tickets.

use std::process::ExitCode;

use clap::{Parser, Subcommand};
use ticketing_app::settings::{Settings, SettingsSource};
use ticketing_app::{startup, telemetry};

/// Ticket reservation service.
#[derive(Debug, Parser)]
#[command(version, about, long_about = None)]
struct Cli {
    #[command(subcommand)]
    command: Option<Command>,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Create the database if needed, apply migrations and serve the HTTP API (the default).
    Serve,
    /// Create the database if needed, apply pending migrations, and exit.
    Migrate,
    /// Bulk-create tickets (prepares the database like `migrate`); prints the ids created.
    Seed(ticketing_app::seed::SeedArgs),
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let settings = match Settings::load(&SettingsSource::from_process()) {
        Ok(settings) => settings,
        Err(error) => {
            eprintln!("ticketing: {error}");
            return ExitCode::from(2);
        }
    };
    telemetry::init(&settings.log);

    let outcome = match cli.command.unwrap_or(Command::Serve) {
        Command::Serve => startup::serve(settings),
        Command::Migrate => startup::migrate(&settings),
        Command::Seed(args) => ticketing_app::seed::run(&settings, &args).map(drop),
    };
    match outcome {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            tracing::error!(
                error = format!("{error:#}"),
                "ticketing stopped with an error"
            );
            eprintln!("ticketing: {error:#}");
            ExitCode::FAILURE
        }
    }
}
