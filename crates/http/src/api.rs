//! The API: the one list of routes, which serves them and builds the OpenAPI document in
//! one step (utoipa-actix-web's `service(...)` routes a handler and adds its
//! `#[utoipa::path]`), the middleware around them, the document at `/api/openapi.json`
//! (Swagger UI at `/docs`), and the answer to a request no route takes: 405 with `Allow`
//! for a documented path, read from the document, else 404.

use std::sync::Arc;

use actix_web::body::MessageBody;
use actix_web::dev::{ResourceDef, ServiceFactory, ServiceRequest, ServiceResponse};
use actix_web::http::header;
use actix_web::middleware::from_fn;
use actix_web::web::{self, Bytes};
use actix_web::{get, App, HttpRequest, HttpResponse};
use utoipa::openapi::header::HeaderBuilder;
use utoipa::openapi::path::PathItem;
use utoipa::openapi::schema::{Object, Type};
use utoipa::openapi::{OpenApi as Document, RefOr};
use utoipa::OpenApi;
use utoipa_actix_web::AppExt;
use utoipa_swagger_ui::{Config, SwaggerUi};

use crate::admission::{self, Limits, TicketUseCases};
use crate::error::{ApiError, ErrorBody, ErrorCode};
use crate::metrics_endpoint::{self, MetricsEndpoint, RenderMetrics};
use crate::{health, holds, listing, request_telemetry, tickets};

/// Where the document is served.
const OPENAPI_PATH: &str = "/api/openapi.json";

/// Where Swagger UI is served (`/docs` redirects to `/docs/`).
const DOCS_PATH: &str = "/docs";

/// The parts of the document that no route carries: metadata and shared schemas.
#[derive(OpenApi)]
#[openapi(
    info(
        title = "Ticketing",
        description = "Ticket reservation: create tickets, place tentative holds that expire \
                       (of one ticket, of several at once, or of the best available), extend, \
                       confirm (idempotently) or release them. A hold belongs to whoever holds \
                       its token, answered once when the hold is placed: send it as the \
                       `Hold-Token` header to act on the hold. Every error answers the \
                       `ErrorBody` envelope; match on its `error_code`. Every answer carries \
                       `X-Request-Id` (the request's, when it sent a sane one).",
        license(name = "MIT OR Apache-2.0")
    ),
    components(schemas(ErrorBody, ErrorCode)),
    tags(
        (name = "tickets", description = "Tickets and their reservations"),
        (name = "holds", description = "Holds of several tickets: placed, read, extended, confirmed and released together"),
        (name = "operations", description = "Health, metrics and this document")
    )
)]
struct ApiMetadata;

/// The whole application, as the binary serves it and the tests call it: every route,
/// `GET /metrics` answered by `render_metrics`, Swagger UI, and the middleware. From the
/// outside in: request telemetry (span and id, access log, HTTP metrics; outermost, so
/// that every answer gets them), the queue-wait limit, the response deadline.
pub fn app(
    use_cases: Arc<TicketUseCases>,
    render_metrics: RenderMetrics,
    limits: Limits,
) -> App<
    impl ServiceFactory<
        ServiceRequest,
        Config = (),
        Response = ServiceResponse<impl MessageBody>,
        Error = actix_web::Error,
        InitError = (),
    >,
> {
    let (app, document) = App::new()
        .into_utoipa_app()
        .openapi(ApiMetadata::openapi())
        .service(
            utoipa_actix_web::scope("/api")
                .service(health::health)
                .service(health::live)
                .service(listing::list_tickets)
                .service(tickets::create_ticket)
                .service(tickets::ticket)
                .service(tickets::reserve)
                .service(tickets::release)
                .service(tickets::confirm)
                .service(holds::place_hold)
                .service(holds::hold)
                .service(holds::confirm_hold)
                .service(holds::release_hold)
                .service(holds::extend_hold)
                .service(openapi_json),
        )
        .service(metrics_endpoint::prometheus_metrics)
        .split_for_parts();
    app.app_data(web::Data::from(use_cases))
        .app_data(web::Data::new(MetricsEndpoint(render_metrics)))
        .app_data(web::Data::new(limits))
        .app_data(web::Data::new(ServedDocument::new(document)))
        .service(web::redirect(DOCS_PATH, format!("{DOCS_PATH}/")))
        .service(
            SwaggerUi::new(format!("{DOCS_PATH}/{{_:.*}}")).config(Config::new([OPENAPI_PATH])),
        )
        .default_service(web::to(unmatched))
        .wrap(from_fn(admission::enforce_response_deadline))
        .wrap(from_fn(admission::limit_queue_wait))
        .wrap(from_fn(request_telemetry::trace_request))
}

/// The document as served, and each documented path with its methods.
struct ServedDocument {
    json: Bytes,
    routes: Vec<(ResourceDef, Vec<&'static str>)>,
}

impl std::fmt::Debug for ServedDocument {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ServedDocument")
            .field("routes", &self.routes)
            .finish_non_exhaustive()
    }
}

impl ServedDocument {
    fn new(mut document: Document) -> Self {
        document_request_ids(&mut document);
        let json = Bytes::from(document.to_json().unwrap_or_else(|error| {
            // The document is built from static annotations; this cannot fail at run time
            // unless serde_json does, which a test would show.
            tracing::error!(%error, "the OpenAPI document cannot be serialised");
            String::from("{}")
        }));
        let routes = document
            .paths
            .paths
            .iter()
            .map(|(path, item)| (ResourceDef::new(path.as_str()), methods(item)))
            .collect();
        Self { json, routes }
    }
}

/// The request id header as the document spells it (the middleware matches any case).
const REQUEST_ID: &str = "X-Request-Id";

/// Adds the `X-Request-Id` header to every response, as request telemetry sends it on
/// every route. (The request header is described in the document's description, not as
/// a parameter: schemathesis's inferred links fill header parameters with ids.)
fn document_request_ids(document: &mut Document) {
    let header = HeaderBuilder::new()
        .schema(Object::with_type(Type::String))
        .description(Some(
            "The request's own `X-Request-Id` when it sent a sane one, else a UUID v4 \
             generated for it; it is on every log line about the request.",
        ))
        .build();
    for item in document.paths.paths.values_mut() {
        let operations = [
            &mut item.get,
            &mut item.put,
            &mut item.post,
            &mut item.delete,
            &mut item.options,
            &mut item.head,
            &mut item.patch,
            &mut item.trace,
        ];
        for operation in operations.into_iter().flatten() {
            for response in operation.responses.responses.values_mut() {
                if let RefOr::T(response) = response {
                    response
                        .headers
                        .insert(REQUEST_ID.to_owned(), header.clone());
                }
            }
        }
    }
}

/// The methods a path item documents, in the order `Allow` lists them.
fn methods(item: &PathItem) -> Vec<&'static str> {
    [
        ("GET", item.get.is_some()),
        ("HEAD", item.head.is_some()),
        ("POST", item.post.is_some()),
        ("PUT", item.put.is_some()),
        ("PATCH", item.patch.is_some()),
        ("DELETE", item.delete.is_some()),
        ("OPTIONS", item.options.is_some()),
        ("TRACE", item.trace.is_some()),
    ]
    .into_iter()
    .filter_map(|(method, documented)| documented.then_some(method))
    .collect()
}

/// The default service: a documented path with another method answers 405 with the
/// documented methods in `Allow` (checked before the path's parameters are parsed);
/// any other path answers 404.
async fn unmatched(
    request: HttpRequest,
    document: web::Data<ServedDocument>,
) -> Result<HttpResponse, ApiError> {
    let path = request.path();
    match document
        .routes
        .iter()
        .find(|(route, _)| route.is_match(path))
    {
        Some((_, allowed)) if !allowed.contains(&request.method().as_str()) => {
            Err(ApiError::MethodNotAllowed {
                method: request.method().to_string(),
                allowed: allowed.clone(),
            })
        }
        _ => Err(ApiError::RouteNotFound {
            path: path.to_owned(),
        }),
    }
}

/// `GET /api/openapi.json`: this document.
#[utoipa::path(
    tag = "operations",
    responses(
        (status = 200, description = "The OpenAPI document of this API", content_type = "application/json", body = Object),
    )
)]
#[get("/openapi.json")]
async fn openapi_json(document: web::Data<ServedDocument>) -> HttpResponse {
    HttpResponse::Ok()
        .insert_header((header::CONTENT_TYPE, "application/json"))
        .body(document.json.clone())
}
