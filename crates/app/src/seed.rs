//! `ticketing seed`: bulk-creates tickets (for load tests and for putting an event on
//! sale), validating the event name and seats by the domain's rules first.

use std::io::Write;
use std::time::Instant;

use anyhow::Context;
use clap::Args;
use ticketing_domain::{EventName, Seat};
use ticketing_postgres::{SeededTickets, TicketBatch};

use crate::settings::Settings;
use crate::startup;

/// `ticketing seed --event NAME --count N [--seat-prefix P]`.
#[derive(Debug, Clone, Args)]
pub struct SeedArgs {
    /// The event every new ticket admits to (1-200 characters, not blank).
    #[arg(long, value_parser = parse_event_name)]
    pub event: EventName,
    /// How many tickets to create (1-100000000), all in one transaction.
    #[arg(long)]
    pub count: u64,
    /// Seats are this prefix followed by 1, 2, ... COUNT; each must fit 50 characters.
    #[arg(long, default_value = "", value_parser = parse_seat_prefix)]
    pub seat_prefix: String,
}

impl SeedArgs {
    /// The batch these arguments ask for: the longest seat must be a valid seat.
    pub fn batch(&self) -> anyhow::Result<TicketBatch> {
        TicketBatch::new(self.event.clone(), self.seat_prefix.as_str(), self.count)
            .context("invalid seed request")
    }
}

fn parse_event_name(text: &str) -> Result<EventName, String> {
    EventName::parse(text).map_err(|error| error.to_string())
}

/// A prefix is checked with its first seat here; the count decides the longest one.
fn parse_seat_prefix(text: &str) -> Result<String, String> {
    Seat::parse(format!("{text}1"))
        .map(|_| text.to_owned())
        .map_err(|error| format!("{error} (with the seat number appended)"))
}

/// Prepares the database like `migrate` does, creates the tickets, and prints the ids
/// they got on stdout: `created N tickets for "EVENT": ids FIRST..=LAST`.
pub fn run(settings: &Settings, args: &SeedArgs) -> anyhow::Result<SeededTickets> {
    let batch = args.batch()?;
    let pool = startup::prepare_database(&settings.database)?;
    let started = Instant::now();
    let seeded = ticketing_postgres::seed_tickets(&pool, &batch).context("seeding failed")?;
    let elapsed = started.elapsed();
    tracing::info!(
        count = seeded.count,
        first_id = seeded.first_id.get(),
        last_id = seeded.last_id.get(),
        elapsed_ms = elapsed.as_millis(),
        "seeded tickets"
    );
    let mut line = format!(
        "created {} tickets for {:?}: ids {}..={}",
        seeded.count,
        batch.event_name().as_str(),
        seeded.first_id,
        seeded.last_id
    );
    if !seeded.is_contiguous() {
        line.push_str(" (not contiguous: other tickets were created at the same time)");
    }
    writeln!(std::io::stdout().lock(), "{line}").context("cannot write to stdout")?;
    Ok(seeded)
}
