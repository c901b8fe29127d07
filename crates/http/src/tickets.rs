//! The ticket routes: each handler parses the request into domain values (extractors),
//! runs one use case, and renders the ticket or the error. Confirming and releasing take
//! the hold's token from the `Hold-Token` header.

use actix_web::http::header;
use actix_web::{delete, get, post, web, HttpResponse};
use ticketing_domain::TicketId;
use ticketing_ports::TicketError;

use crate::admission::{run_use_case, TicketUseCases};
use crate::body::{NewTicketBody, NewTicketJson};
use crate::error::{ApiError, ErrorBody};
use crate::hold_json::ReservedTicketJson;
use crate::hold_token::{HoldTokenParam, PresentedToken};
use crate::path::{TicketIdParam, TicketIdPath};
use crate::ticket_json::TicketJson;

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
pub(crate) async fn create_ticket(
    use_cases: web::Data<TicketUseCases>,
    NewTicketBody(new_ticket): NewTicketBody,
) -> Result<HttpResponse, ApiError> {
    let view = run_use_case(&use_cases, move |use_cases| {
        use_cases.create_ticket(&new_ticket)
    })
    .await??;
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
pub(crate) async fn ticket(
    use_cases: web::Data<TicketUseCases>,
    TicketIdPath(id): TicketIdPath,
) -> Result<HttpResponse, ApiError> {
    let view = run_on_ticket(&use_cases, id, move |use_cases| use_cases.ticket(id)).await?;
    Ok(HttpResponse::Ok().json(TicketJson::from(&view)))
}

/// `POST /api/tickets/{id}/reservation`: places a tentative hold of this one ticket.
#[utoipa::path(
    tag = "tickets",
    params(TicketIdParam),
    description = "Places a tentative hold lasting the configured TTL, also over an expired or lapsed one. \
        The answer carries the hold's token, this once: send it as `Hold-Token` to confirm or release.",
    responses(
        (status = 201, description = "The ticket, `TENTATIVE`, with `reservation_expires_at`, and \
            `hold`: its id, token, expiry and seconds left", body = ReservedTicketJson),
        (status = 400, description = "`INVALID_TICKET_ID`", body = ErrorBody),
        (status = 404, description = "`TICKET_NOT_FOUND`", body = ErrorBody),
        (status = 409, description = "`RESERVATION_ALREADY_ACTIVE` (`details.expires_at`) or \
            `TICKET_ALREADY_CONFIRMED` (`details.confirmed_at`)", body = ErrorBody),
        (status = 503, description = "`SERVICE_UNAVAILABLE`", body = ErrorBody),
        (status = 500, description = "`INTERNAL_ERROR`", body = ErrorBody),
    )
)]
#[post("/tickets/{id}/reservation")]
pub(crate) async fn reserve(
    use_cases: web::Data<TicketUseCases>,
    TicketIdPath(id): TicketIdPath,
) -> Result<HttpResponse, ApiError> {
    let issued = run_on_ticket(&use_cases, id, move |use_cases| use_cases.reserve(id)).await?;
    let reserved = ReservedTicketJson::new(&issued)
        .ok_or_else(|| ApiError::from(TicketError::unexpected(HoldWithoutTicket)))?;
    Ok(HttpResponse::Created().json(reserved))
}

/// `DELETE /api/tickets/{id}/reservation`: gives up the active hold.
#[utoipa::path(
    tag = "tickets",
    params(TicketIdParam, HoldTokenParam),
    responses(
        (status = 200, description = "The ticket, reservable again (`reservation_status` null)", body = TicketJson),
        (status = 400, description = "`INVALID_TICKET_ID`", body = ErrorBody),
        (status = 401, description = "`HOLD_TOKEN_REQUIRED`: the ticket is held and no `Hold-Token` was sent", body = ErrorBody),
        (status = 403, description = "`HOLD_TOKEN_INVALID`: the `Hold-Token` is not the ticket's hold's", body = ErrorBody),
        (status = 404, description = "`TICKET_NOT_FOUND`", body = ErrorBody),
        (status = 409, description = "`NO_ACTIVE_RESERVATION` or `TICKET_ALREADY_CONFIRMED`", body = ErrorBody),
        (status = 503, description = "`SERVICE_UNAVAILABLE`", body = ErrorBody),
        (status = 500, description = "`INTERNAL_ERROR`", body = ErrorBody),
    )
)]
#[delete("/tickets/{id}/reservation")]
pub(crate) async fn release(
    use_cases: web::Data<TicketUseCases>,
    TicketIdPath(id): TicketIdPath,
    PresentedToken(token): PresentedToken,
) -> Result<HttpResponse, ApiError> {
    let view = run_on_ticket(&use_cases, id, move |use_cases| {
        use_cases.release(id, token.as_ref())
    })
    .await?;
    Ok(HttpResponse::Ok().json(TicketJson::from(&view)))
}

/// `POST /api/tickets/{id}/confirm`: sells the held ticket; 200 again once sold.
#[utoipa::path(
    tag = "tickets",
    params(TicketIdParam, HoldTokenParam),
    description = "Confirms the active hold. Idempotent: a sold ticket answers 200 unchanged, \
        for its own hold's token only.",
    responses(
        (status = 200, description = "The ticket, `CONFIRMED`", body = TicketJson),
        (status = 400, description = "`INVALID_TICKET_ID`", body = ErrorBody),
        (status = 401, description = "`HOLD_TOKEN_REQUIRED`: the ticket is held or sold and no `Hold-Token` was sent", body = ErrorBody),
        (status = 403, description = "`HOLD_TOKEN_INVALID`: the `Hold-Token` is not the ticket's hold's", body = ErrorBody),
        (status = 404, description = "`TICKET_NOT_FOUND`", body = ErrorBody),
        (status = 409, description = "`NO_ACTIVE_RESERVATION`, or `RESERVATION_EXPIRED` \
            (`details.expired_at`; a lapsed hold is written `EXPIRED` in the same step)", body = ErrorBody),
        (status = 503, description = "`SERVICE_UNAVAILABLE`", body = ErrorBody),
        (status = 500, description = "`INTERNAL_ERROR`", body = ErrorBody),
    )
)]
#[post("/tickets/{id}/confirm")]
pub(crate) async fn confirm(
    use_cases: web::Data<TicketUseCases>,
    TicketIdPath(id): TicketIdPath,
    PresentedToken(token): PresentedToken,
) -> Result<HttpResponse, ApiError> {
    let view = run_on_ticket(&use_cases, id, move |use_cases| {
        use_cases.confirm(id, token.as_ref())
    })
    .await?;
    Ok(HttpResponse::Ok().json(TicketJson::from(&view)))
}

/// Runs a use case about the ticket `id`: its failure is answered as about that ticket.
async fn run_on_ticket<T: Send + 'static>(
    use_cases: &web::Data<TicketUseCases>,
    id: TicketId,
    use_case: impl FnOnce(&TicketUseCases) -> Result<T, TicketError> + Send + 'static,
) -> Result<T, ApiError> {
    run_use_case(use_cases, use_case)
        .await?
        .map_err(ApiError::on_ticket(id))
}

fn location(id: TicketId) -> String {
    format!("/api/tickets/{id}")
}

/// A reservation answered a hold without its ticket or expiry: a bug in a use case.
#[derive(Debug, thiserror::Error)]
#[error("the hold placed on one ticket came back without it")]
struct HoldWithoutTicket;
