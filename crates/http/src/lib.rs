//! The HTTP adapter: actix-web routes over the ticketing use cases, the JSON shapes of
//! requests and responses, and [`ApiError`], the one error type that turns every failure
//! into the `{"error_code", "message", "details"}` envelope.
//!
//! ```no_run
//! # use std::sync::Arc;
//! # fn wire(service: Arc<ticketing_http::Service>) -> std::io::Result<()> {
//! use actix_web::{App, HttpServer};
//!
//! let server = HttpServer::new(move || App::new().configure(ticketing_http::configure(service.clone())))
//!     .bind(("127.0.0.1", 8080))?
//!     .run();
//! # drop(server);
//! # Ok(())
//! # }
//! ```

mod body;
mod error;
mod path;
mod routes;
mod ticket_json;

use std::sync::Arc;

use actix_web::web;
use ticketing_domain::Clock;
use ticketing_ports::{TicketRepository, TicketService};

pub use error::ApiError;

/// The use cases as the handlers see them: any repository and clock behind a pointer, so
/// the application chooses PostgreSQL, and tests an in-memory store and a manual clock.
pub type Service = TicketService<Arc<dyn TicketRepository>, Arc<dyn Clock>>;

/// The largest request body accepted (64 KiB); anything longer is answered with 413.
pub const BODY_LIMIT_BYTES: usize = 64 * 1024;

/// Registers the whole API on an `App`: the [`api_scope`] under `/api` and a default
/// service answering `404 NOT_FOUND` for every other path, so that
/// `App::new().configure(configure(service.clone()))` serves the complete contract.
pub fn configure(
    service: Arc<Service>,
) -> impl Fn(&mut web::ServiceConfig) + Clone + Send + 'static {
    move |config| {
        config
            .service(api_scope(service.clone()))
            .default_service(web::to(routes::not_found));
    }
}

/// The routes under `/api` with their state and extractor settings, for an application
/// that wants to wrap middleware around the API alone (`api_scope(service).wrap(...)`).
/// Paths outside `/api` are not answered by it; [`configure`] adds the 404 for those.
pub fn api_scope(service: Arc<Service>) -> actix_web::Scope {
    routes::scope(service)
}
