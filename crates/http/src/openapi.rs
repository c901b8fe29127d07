//! The OpenAPI document, generated from the routes themselves: every handler is registered
//! through utoipa-actix-web's `service(...)`, which routes it and adds its
//! `#[utoipa::path]` to the document in one step. The document is served at
//! `/api/openapi.json` (Swagger UI at `/docs`), and the answer to a known path with an
//! undocumented method (405 with `Allow`) is derived from it too.

use std::sync::{Arc, LazyLock};

use actix_web::dev::ResourceDef;
use actix_web::http::header;
use actix_web::web::{self, Bytes};
use actix_web::{get, App, HttpRequest, HttpResponse};
use utoipa::openapi::header::HeaderBuilder;
use utoipa::openapi::path::PathItem;
use utoipa::openapi::schema::{Object, Type};
use utoipa::openapi::{OpenApi as Document, RefOr};
use utoipa::OpenApi;
use utoipa_actix_web::service_config::ServiceConfig;
use utoipa_actix_web::AppExt;
use utoipa_swagger_ui::{Config, SwaggerUi};

use crate::error::{ErrorBody, ErrorCode};
use crate::ApiError;

/// Where the document is served.
const OPENAPI_PATH: &str = "/api/openapi.json";

/// Where Swagger UI is served (`/docs` redirects to `/docs/`).
const DOCS_PATH: &str = "/docs";

/// The parts of the document that no route carries: metadata and shared schemas.
#[derive(OpenApi)]
#[openapi(
    info(
        title = "Ticketing",
        description = "Ticket reservation: create tickets, place tentative holds that expire, \
                       confirm (idempotently) or release them. Every error answers the \
                       `ErrorBody` envelope; match on its `error_code`. Every answer carries \
                       `X-Request-Id` (the request's, when it sent a sane one).",
        license(name = "MIT OR Apache-2.0")
    ),
    components(schemas(ErrorBody, ErrorCode)),
    tags(
        (name = "tickets", description = "Tickets and their reservations"),
        (name = "operations", description = "Health, metrics and this document")
    )
)]
struct ApiMetadata;

/// Registers every documented route. The one place routes are added: serving and the
/// document both call it, so a route cannot exist without its documentation.
pub(crate) fn register(config: &mut ServiceConfig<'_>) {
    config
        .service(crate::routes::scope())
        .service(crate::measure::prometheus_metrics);
}

/// The document, built once from the same registration that serves the routes.
pub fn document() -> Document {
    DOCUMENT.document.clone()
}

/// The document with what is derived from it: its JSON, and each path's methods.
pub(crate) struct ApiDocument {
    document: Document,
    json: Bytes,
    routes: Vec<(ResourceDef, Vec<&'static str>)>,
}

impl std::fmt::Debug for ApiDocument {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ApiDocument")
            .field("routes", &self.routes)
            .finish_non_exhaustive()
    }
}

pub(crate) static DOCUMENT: LazyLock<Arc<ApiDocument>> = LazyLock::new(|| {
    let (_, mut document) = App::new()
        .into_utoipa_app()
        .openapi(ApiMetadata::openapi())
        .configure(register)
        .split_for_parts();
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
    Arc::new(ApiDocument {
        document,
        json,
        routes,
    })
});

/// The request id header as the document spells it (`observe` matches it in any case).
const REQUEST_ID: &str = "X-Request-Id";

/// Adds the `X-Request-Id` header to every response, as the `observe` middleware sends
/// it on every route. (The request header is described in the document's description,
/// not as a parameter: schemathesis's inferred links fill header parameters with ids.)
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

/// Swagger UI over the served document, with its assets compiled in.
pub(crate) fn swagger_ui() -> SwaggerUi {
    SwaggerUi::new(format!("{DOCS_PATH}/{{_:.*}}")).config(Config::new([OPENAPI_PATH]))
}

/// The default service: a documented path with another method answers 405 with the
/// documented methods in `Allow` (checked before the path's parameters are parsed);
/// any other path answers 404.
pub(crate) async fn unmatched(request: HttpRequest) -> Result<HttpResponse, ApiError> {
    let path = request.path();
    match DOCUMENT
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
pub(crate) async fn openapi_json() -> HttpResponse {
    HttpResponse::Ok()
        .insert_header((header::CONTENT_TYPE, "application/json"))
        .body(DOCUMENT.json.clone())
}

/// Registers `/docs` (Swagger UI) and the redirect from `/docs` to `/docs/`.
pub(crate) fn register_docs(config: &mut web::ServiceConfig) {
    config
        .service(web::redirect(DOCS_PATH, format!("{DOCS_PATH}/")))
        .service(swagger_ui());
}
