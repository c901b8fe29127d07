//! The HTTP adapter: actix-web routes over the ticketing use cases, the JSON shapes of
//! requests and responses, and one error type that turns every failure into the
//! `{"error_code", "message", "details"}` envelope.
//!
//! ```no_run
//! # use std::sync::Arc;
//! # fn wire(use_cases: Arc<ticketing_http::TicketUseCases>) -> std::io::Result<()> {
//! use actix_web::HttpServer;
//! use ticketing_http::{Limits, RenderMetrics};
//!
//! let render_metrics: RenderMetrics = Arc::new(String::new);
//! let server = HttpServer::new(move || {
//!     ticketing_http::app(use_cases.clone(), render_metrics.clone(), Limits::default())
//! })
//! .bind(("127.0.0.1", 8080))?
//! .run();
//! # drop(server);
//! # Ok(())
//! # }
//! ```

mod admission;
mod api;
mod body;
mod error;
mod health;
mod hold_body;
mod hold_json;
mod hold_token;
mod holds;
mod listing;
mod metrics_endpoint;
mod path;
mod request_telemetry;
mod ticket_json;
mod tickets;

pub use admission::{Limits, TicketUseCases};
pub use api::app;
pub use metrics_endpoint::RenderMetrics;
