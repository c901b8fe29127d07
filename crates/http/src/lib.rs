//! The HTTP adapter: actix-web routes over the ticketing use cases, the JSON shapes of
//! requests and responses, and [`ApiError`], the one error type that turns every failure
//! into the `{"error_code", "message", "details"}` envelope.
//!
//! ```no_run
//! # use std::sync::Arc;
//! # fn wire(service: Arc<ticketing_http::Service>) -> std::io::Result<()> {
//! use actix_web::HttpServer;
//!
//! let render_metrics: ticketing_http::RenderMetrics = Arc::new(String::new);
//! let server = HttpServer::new(move || ticketing_http::app(service.clone(), render_metrics.clone()))
//!     .bind(("127.0.0.1", 8080))?
//!     .run();
//! # drop(server);
//! # Ok(())
//! # }
//! ```

pub mod admission;
mod body;
mod error;
mod listing;
mod measure;
pub mod observe;
pub mod openapi;
mod path;
mod routes;
mod ticket_json;

use std::sync::Arc;

use actix_web::body::MessageBody;
use actix_web::dev::{ServiceFactory, ServiceRequest, ServiceResponse};
use actix_web::{middleware, web, App};
use ticketing_domain::Clock;
use ticketing_ports::{TicketRepository, TicketService};

pub use error::{ApiError, ErrorBody, ErrorCode};
pub use measure::RenderMetrics;

/// The use cases as the handlers see them: any repository and clock behind a pointer, so
/// the application chooses PostgreSQL, and tests an in-memory store and a manual clock.
pub type Service = TicketService<Arc<dyn TicketRepository>, Arc<dyn Clock>>;

/// The largest request body accepted (64 KiB); anything longer is answered with 413.
pub const BODY_LIMIT_BYTES: usize = 64 * 1024;

/// The whole application: every route of [`configure`] and the [`observe`] middleware
/// (request span and id, access log, HTTP metrics) around all of it. Tests serve this;
/// the binary builds its own `App` over [`configure`], adding its response deadline and
/// [`admission::limit_queue_wait`].
pub fn app(
    service: Arc<Service>,
    render_metrics: RenderMetrics,
) -> App<
    impl ServiceFactory<
        ServiceRequest,
        Config = (),
        Response = ServiceResponse<impl MessageBody>,
        Error = actix_web::Error,
        InitError = (),
    >,
> {
    App::new()
        .configure(configure(service, render_metrics))
        .wrap(middleware::from_fn(observe::observe))
}

/// Registers the whole API on an `App`, without middleware: the documented routes (see
/// [`openapi::document`]), `GET /metrics` answered by `render_metrics`, Swagger UI at
/// `/docs`, and a default service answering 405 for a documented path with another
/// method and `404 NOT_FOUND` for any other path. An application adding middleware should
/// wrap [`observe::observe`] last, so it is outermost and sees every answer.
pub fn configure(
    service: Arc<Service>,
    render_metrics: RenderMetrics,
) -> impl Fn(&mut web::ServiceConfig) + Clone + Send + 'static {
    let endpoint = web::Data::new(measure::MetricsEndpoint(render_metrics));
    move |config| {
        config.app_data(web::Data::from(service.clone()));
        config.app_data(endpoint.clone());
        openapi::register(&mut utoipa_actix_web::service_config::ServiceConfig::new(
            config,
        ));
        openapi::register_docs(config);
        config.default_service(web::to(openapi::unmatched));
    }
}
