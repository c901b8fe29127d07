//! The ticketing service binary's library: configuration, telemetry and wiring of the
//! PostgreSQL and HTTP adapters around the use cases.

pub mod metrics;
pub mod seed;
pub mod settings;
pub mod sizing;
pub mod startup;
pub mod sweeper;
pub mod telemetry;
