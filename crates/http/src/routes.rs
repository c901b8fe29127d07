//! The routes: each handler parses the request into domain values (extractors), runs one
//! use case off the actix worker threads, and renders the ticket or the error.

use std::sync::Arc;

use actix_web::http::header;
use actix_web::{web, HttpRequest, HttpResponse, Resource, Scope};
use serde_json::json;
use ticketing_domain::TicketId;
use ticketing_ports::{TicketError, TicketView};

use crate::body::NewTicketBody;
use crate::error::{json_extractor_error, path_extractor_error, query_extractor_error};
use crate::path::TicketIdPath;
use crate::ticket_json::TicketJson;
use crate::{ApiError, Service, BODY_LIMIT_BYTES};

pub(crate) fn scope(service: Arc<Service>) -> Scope {
    web::scope("/api")
        .app_data(web::Data::from(service))
        .app_data(web::PayloadConfig::new(BODY_LIMIT_BYTES))
        .app_data(
            web::JsonConfig::default()
                .limit(BODY_LIMIT_BYTES)
                .error_handler(json_extractor_error),
        )
        .app_data(web::PathConfig::default().error_handler(path_extractor_error))
        .app_data(web::QueryConfig::default().error_handler(query_extractor_error))
        .service(resource("/health", &["GET"]).route(web::get().to(health)))
        .service(resource("/tickets", &["POST"]).route(web::post().to(create_ticket)))
        .service(resource("/tickets/{id}", &["GET"]).route(web::get().to(ticket)))
        .service(
            resource("/tickets/{id}/reservation", &["POST", "DELETE"])
                .route(web::post().to(reserve))
                .route(web::delete().to(release)),
        )
        .service(resource("/tickets/{id}/confirm", &["POST"]).route(web::post().to(confirm)))
        .default_service(web::to(not_found))
}

/// A route whose other methods answer 405 with `Allow: <allowed>`; `allowed` must list
/// the methods of the routes added to it.
fn resource(path: &str, allowed: &'static [&'static str]) -> Resource {
    web::resource(path).default_service(web::to(move |request: HttpRequest| async move {
        Err::<HttpResponse, _>(ApiError::MethodNotAllowed {
            method: request.method().to_string(),
            allowed,
        })
    }))
}

/// The default service: no route has this path.
pub(crate) async fn not_found(request: HttpRequest) -> Result<HttpResponse, ApiError> {
    Err(ApiError::RouteNotFound {
        path: request.path().to_owned(),
    })
}

/// Runs a use case on actix's blocking thread pool: repositories are synchronous
/// (Diesel), and a worker thread blocked on the database serves no one else.
async fn run<T: Send + 'static>(
    service: &web::Data<Service>,
    use_case: impl FnOnce(&Service) -> Result<T, TicketError> + Send + 'static,
) -> Result<Result<T, TicketError>, ApiError> {
    let service = service.clone();
    Ok(web::block(move || use_case(&service)).await?)
}

/// `GET /api/health`: 200 when storage answers, 503 when it does not.
async fn health(service: web::Data<Service>) -> Result<HttpResponse, ApiError> {
    run(&service, |service| service.repository().check_health())
        .await?
        .map_err(ApiError::Unready)?;
    Ok(HttpResponse::Ok().json(json!({"status": "ok", "database": "ok"})))
}

/// `POST /api/tickets`: 201 with the new ticket and its `Location`.
async fn create_ticket(
    service: web::Data<Service>,
    NewTicketBody(new_ticket): NewTicketBody,
) -> Result<HttpResponse, ApiError> {
    let view = run(&service, move |service| service.create_ticket(&new_ticket))
        .await?
        .map_err(|error| ApiError::Ticket {
            ticket_id: None,
            error,
        })?;
    Ok(HttpResponse::Created()
        .insert_header((header::LOCATION, location(view.ticket.id)))
        .json(TicketJson::from(&view)))
}

/// `GET /api/tickets/{id}`.
async fn ticket(
    service: web::Data<Service>,
    TicketIdPath(id): TicketIdPath,
) -> Result<HttpResponse, ApiError> {
    let view = ticket_use_case(&service, id, move |service| service.ticket(id)).await?;
    Ok(HttpResponse::Ok().json(TicketJson::from(&view)))
}

/// `POST /api/tickets/{id}/reservation`: places a tentative hold.
async fn reserve(
    service: web::Data<Service>,
    TicketIdPath(id): TicketIdPath,
) -> Result<HttpResponse, ApiError> {
    let view = ticket_use_case(&service, id, move |service| service.reserve(id)).await?;
    Ok(HttpResponse::Created().json(TicketJson::from(&view)))
}

/// `DELETE /api/tickets/{id}/reservation`: gives up the active hold.
async fn release(
    service: web::Data<Service>,
    TicketIdPath(id): TicketIdPath,
) -> Result<HttpResponse, ApiError> {
    let view = ticket_use_case(&service, id, move |service| service.release(id)).await?;
    Ok(HttpResponse::Ok().json(TicketJson::from(&view)))
}

/// `POST /api/tickets/{id}/confirm`: sells the held ticket; 200 again once sold.
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
