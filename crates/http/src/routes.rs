//! The routes: each handler parses the request into domain values (extractors), runs one
//! use case off the actix worker threads, and renders the ticket or the error. Each is
//! annotated for the OpenAPI document and registered with `service(...)` (see
//! [`crate::openapi`]), so routing and documentation come from the same place.

use actix_web::dev::{ServiceFactory, ServiceRequest, ServiceResponse};
use actix_web::http::header;
use actix_web::{delete, get, post, web, HttpResponse};
use serde::Serialize;
use ticketing_domain::TicketId;
use ticketing_ports::{TicketError, TicketView};
use utoipa::ToSchema;

use crate::body::{NewTicketBody, NewTicketJson};
use crate::error::ErrorBody;
use crate::path::TicketIdParam;
use crate::path::TicketIdPath;
use crate::ticket_json::TicketJson;
use crate::{ApiError, Service};

/// The routes under `/api`. The service itself is application data (see
/// [`crate::configure`]), so the document can be built without one.
pub(crate) fn scope() -> utoipa_actix_web::scope::Scope<
    impl ServiceFactory<
        ServiceRequest,
        Config = (),
        Response = ServiceResponse,
        Error = actix_web::Error,
        InitError = (),
    >,
> {
    utoipa_actix_web::scope("/api")
        .service(health)
        .service(crate::listing::live)
        .service(crate::listing::list_tickets)
        .service(create_ticket)
        .service(ticket)
        .service(reserve)
        .service(release)
        .service(confirm)
        .service(crate::openapi::openapi_json)
}

/// Runs a use case on actix's blocking thread pool: repositories are synchronous
/// (Diesel), and a worker thread blocked on the database serves no one else. The wait
/// for a thread is bounded (see [`crate::admission`]).
pub(crate) async fn run<T: Send + 'static>(
    service: &web::Data<Service>,
    use_case: impl FnOnce(&Service) -> Result<T, TicketError> + Send + 'static,
) -> Result<Result<T, TicketError>, ApiError> {
    let service = service.clone();
    // The span goes along, so that anything the use case logs carries the request id.
    let span = tracing::Span::current();
    let use_case = move || span.in_scope(|| use_case(&service));
    Ok(crate::admission::run_blocking(use_case).await?)
}

/// The body of a successful readiness check.
#[derive(Debug, Serialize, ToSchema)]
#[schema(example = json!({"status": "ok", "database": "ok"}))]
pub(crate) struct HealthJson {
    #[schema(value_type = String, example = "ok")]
    status: &'static str,
    #[schema(value_type = String, example = "ok")]
    database: &'static str,
}

/// `GET /api/health`: 200 when storage answers, 503 when it does not.
#[utoipa::path(
    tag = "operations",
    description = "Readiness: answers 200 when the database answers within a short timeout.",
    responses(
        (status = 200, description = "The service and its database are ready", body = HealthJson),
        (status = 503, description = "`SERVICE_UNAVAILABLE`: the database does not answer", body = ErrorBody,
            headers(("Retry-After" = u32, description = "Seconds to wait before retrying"))),
        (status = 500, description = "`INTERNAL_ERROR`", body = ErrorBody),
    )
)]
#[get("/health")]
async fn health(service: web::Data<Service>) -> Result<HttpResponse, ApiError> {
    run(&service, |service| service.repository().check_health())
        .await?
        .map_err(ApiError::Unready)?;
    Ok(HttpResponse::Ok().json(HealthJson {
        status: "ok",
        database: "ok",
    }))
}

/// `POST /api/tickets`: 201 with the new ticket and its `Location`.
#[utoipa::path(
    tag = "tickets",
    request_body(content = NewTicketJson, content_type = "application/json"),
    responses(
        (status = 201, description = "The new, unreserved ticket", body = TicketJson,
            headers(("Location" = String, description = "`/api/tickets/{id}` of the new ticket"))),
        (status = 400, description = "`VALIDATION_ERROR`: the body is not JSON, not an object, \
            misses or mistypes a field, has an unknown one, or breaks a limit", body = ErrorBody),
        (status = 413, description = "`PAYLOAD_TOO_LARGE`: a body over 64 KiB", body = ErrorBody),
        (status = 415, description = "`UNSUPPORTED_MEDIA_TYPE`: a body declared as something other than JSON", body = ErrorBody),
        (status = 503, description = "`SERVICE_UNAVAILABLE`", body = ErrorBody),
        (status = 500, description = "`INTERNAL_ERROR`", body = ErrorBody),
    )
)]
#[post("/tickets")]
async fn create_ticket(
    service: web::Data<Service>,
    NewTicketBody(new_ticket): NewTicketBody,
) -> Result<HttpResponse, ApiError> {
    let view = run(&service, move |service| service.create_ticket(&new_ticket)).await??;
    Ok(HttpResponse::Created()
        .insert_header((header::LOCATION, location(view.ticket.id)))
        .json(TicketJson::from(&view)))
}

/// `GET /api/tickets/{id}`.
#[utoipa::path(
    tag = "tickets",
    params(TicketIdParam),
    responses(
        (status = 200, description = "The ticket, with its status as seen now", body = TicketJson),
        (status = 400, description = "`INVALID_TICKET_ID`", body = ErrorBody),
        (status = 404, description = "`TICKET_NOT_FOUND`", body = ErrorBody),
        (status = 503, description = "`SERVICE_UNAVAILABLE`", body = ErrorBody),
        (status = 500, description = "`INTERNAL_ERROR`", body = ErrorBody),
    )
)]
#[get("/tickets/{id}")]
async fn ticket(
    service: web::Data<Service>,
    TicketIdPath(id): TicketIdPath,
) -> Result<HttpResponse, ApiError> {
    let view = ticket_use_case(&service, id, move |service| service.ticket(id)).await?;
    Ok(HttpResponse::Ok().json(TicketJson::from(&view)))
}

/// `POST /api/tickets/{id}/reservation`: places a tentative hold.
#[utoipa::path(
    tag = "tickets",
    params(TicketIdParam),
    description = "Places a tentative hold lasting the configured TTL, also over an expired or lapsed one.",
    responses(
        (status = 201, description = "The ticket, `TENTATIVE`, with `reservation_expires_at`", body = TicketJson),
        (status = 400, description = "`INVALID_TICKET_ID`", body = ErrorBody),
        (status = 404, description = "`TICKET_NOT_FOUND`", body = ErrorBody),
        (status = 409, description = "`RESERVATION_ALREADY_ACTIVE` (`details.expires_at`) or \
            `TICKET_ALREADY_CONFIRMED` (`details.confirmed_at`)", body = ErrorBody),
        (status = 503, description = "`SERVICE_UNAVAILABLE`", body = ErrorBody),
        (status = 500, description = "`INTERNAL_ERROR`", body = ErrorBody),
    )
)]
#[post("/tickets/{id}/reservation")]
async fn reserve(
    service: web::Data<Service>,
    TicketIdPath(id): TicketIdPath,
) -> Result<HttpResponse, ApiError> {
    let view = ticket_use_case(&service, id, move |service| service.reserve(id)).await?;
    Ok(HttpResponse::Created().json(TicketJson::from(&view)))
}

/// `DELETE /api/tickets/{id}/reservation`: gives up the active hold.
#[utoipa::path(
    tag = "tickets",
    params(TicketIdParam),
    responses(
        (status = 200, description = "The ticket, reservable again (`reservation_status` null)", body = TicketJson),
        (status = 400, description = "`INVALID_TICKET_ID`", body = ErrorBody),
        (status = 404, description = "`TICKET_NOT_FOUND`", body = ErrorBody),
        (status = 409, description = "`NO_ACTIVE_RESERVATION` or `TICKET_ALREADY_CONFIRMED`", body = ErrorBody),
        (status = 503, description = "`SERVICE_UNAVAILABLE`", body = ErrorBody),
        (status = 500, description = "`INTERNAL_ERROR`", body = ErrorBody),
    )
)]
#[delete("/tickets/{id}/reservation")]
async fn release(
    service: web::Data<Service>,
    TicketIdPath(id): TicketIdPath,
) -> Result<HttpResponse, ApiError> {
    let view = ticket_use_case(&service, id, move |service| service.release(id)).await?;
    Ok(HttpResponse::Ok().json(TicketJson::from(&view)))
}

/// `POST /api/tickets/{id}/confirm`: sells the held ticket; 200 again once sold.
#[utoipa::path(
    tag = "tickets",
    params(TicketIdParam),
    description = "Confirms the active hold. Idempotent: a sold ticket answers 200 unchanged.",
    responses(
        (status = 200, description = "The ticket, `CONFIRMED`", body = TicketJson),
        (status = 400, description = "`INVALID_TICKET_ID`", body = ErrorBody),
        (status = 404, description = "`TICKET_NOT_FOUND`", body = ErrorBody),
        (status = 409, description = "`NO_ACTIVE_RESERVATION`, or `RESERVATION_EXPIRED` \
            (`details.expired_at`; a lapsed hold is written `EXPIRED` in the same step)", body = ErrorBody),
        (status = 503, description = "`SERVICE_UNAVAILABLE`", body = ErrorBody),
        (status = 500, description = "`INTERNAL_ERROR`", body = ErrorBody),
    )
)]
#[post("/tickets/{id}/confirm")]
async fn confirm(
    service: web::Data<Service>,
    TicketIdPath(id): TicketIdPath,
) -> Result<HttpResponse, ApiError> {
    let view = ticket_use_case(&service, id, move |service| service.confirm(id)).await?;
    Ok(HttpResponse::Ok().json(TicketJson::from(&view)))
}

async fn ticket_use_case(
    service: &web::Data<Service>,
    id: TicketId,
    use_case: impl FnOnce(&Service) -> Result<TicketView, TicketError> + Send + 'static,
) -> Result<TicketView, ApiError> {
    run(service, use_case)
        .await?
        .map_err(ApiError::on_ticket(id))
}

fn location(id: TicketId) -> String {
    format!("/api/tickets/{id}")
}
