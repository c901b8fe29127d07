//! The hold routes: place a hold of several tickets (by id, or best available), and read,
//! confirm, release or extend it with its `Hold-Token`. Each handler parses the request
//! into domain values (extractors), runs one use case, and renders the hold or the error.

use actix_web::http::header;
use actix_web::{delete, get, post, web, HttpResponse};
use ticketing_domain::HoldId;
use ticketing_ports::{HoldView, TicketError};

use crate::admission::{run_use_case, TicketUseCases};
use crate::error::{ApiError, ErrorBody};
use crate::hold_body::{ExtensionBody, HoldExtensionJson, NewHoldBody, NewHoldJson};
use crate::hold_json::{HoldJson, IssuedHoldJson};
use crate::hold_token::{HoldTokenParam, PresentedToken};
use crate::path::{HoldIdParam, HoldIdPath};

/// `POST /api/holds`: holds the tickets listed, or the best available of an event.
#[utoipa::path(
    tag = "holds",
    request_body(content = NewHoldJson, content_type = "application/json"),
    description = "Holds every ticket listed in `ticket_ids`, or none; or, given `event_name` and \
        `quantity`, the `quantity` lowest-id tickets of that event that are reservable now. \
        The answer carries the hold's token, this once.",
    responses(
        (status = 201, description = "The new hold, with its `hold_token`", body = IssuedHoldJson,
            headers(("Location" = String, description = "`/api/holds/{hold_id}` of the new hold"))),
        (status = 400, description = "`VALIDATION_ERROR`: not JSON or not an object, an unknown \
            field, both shapes or neither, ids that are not positive integers, an empty list, a \
            duplicate, more tickets than a hold may cover, a quantity below 1 or too big", body = ErrorBody),
        (status = 404, description = "`TICKET_NOT_FOUND`: `details.ticket_ids` lists the ids with no ticket", body = ErrorBody),
        (status = 409, description = "`TICKETS_UNAVAILABLE`: `details.tickets` (`ticket_id`, \
            `error_code`) for every ticket that cannot be held; for best available, \
            `details.available` (and `requested`)", body = ErrorBody),
        (status = 413, description = "`PAYLOAD_TOO_LARGE`: a body over 64 KiB", body = ErrorBody),
        (status = 415, description = "`UNSUPPORTED_MEDIA_TYPE`: a body declared as something other than JSON", body = ErrorBody),
        (status = 503, description = "`SERVICE_UNAVAILABLE`", body = ErrorBody),
        (status = 500, description = "`INTERNAL_ERROR`", body = ErrorBody),
    )
)]
#[post("/holds")]
pub(crate) async fn place_hold(
    use_cases: web::Data<TicketUseCases>,
    body: NewHoldBody,
) -> Result<HttpResponse, ApiError> {
    let issued = match body {
        NewHoldBody::Tickets(ids) => {
            run_use_case(&use_cases, move |use_cases| use_cases.hold_tickets(&ids))
                .await?
                .map_err(ApiError::on_new_hold("ticket_ids"))?
        }
        NewHoldBody::BestAvailable { event, quantity } => {
            run_use_case(&use_cases, move |use_cases| {
                use_cases.hold_best_available(&event, quantity)
            })
            .await?
            .map_err(ApiError::on_new_hold("quantity"))?
        }
    };
    Ok(HttpResponse::Created()
        .insert_header((header::LOCATION, location(issued.hold.id)))
        .json(IssuedHoldJson::from(&issued)))
}

/// `GET /api/holds/{hold_id}`: the hold and its tickets, for its owner.
#[utoipa::path(
    tag = "holds",
    params(HoldIdParam, HoldTokenParam),
    responses(
        (status = 200, description = "The hold, its tickets' statuses as seen now", body = HoldJson),
        (status = 400, description = "`INVALID_HOLD_ID`", body = ErrorBody),
        (status = 401, description = "`HOLD_TOKEN_REQUIRED`: no `Hold-Token` was sent", body = ErrorBody),
        (status = 403, description = "`HOLD_TOKEN_INVALID`: the `Hold-Token` is not this hold's", body = ErrorBody),
        (status = 404, description = "`HOLD_NOT_FOUND`: no ticket carries this hold (never placed, or released)", body = ErrorBody),
        (status = 503, description = "`SERVICE_UNAVAILABLE`", body = ErrorBody),
        (status = 500, description = "`INTERNAL_ERROR`", body = ErrorBody),
    )
)]
#[get("/holds/{hold_id}")]
pub(crate) async fn hold(
    use_cases: web::Data<TicketUseCases>,
    HoldIdPath(id): HoldIdPath,
    PresentedToken(token): PresentedToken,
) -> Result<HttpResponse, ApiError> {
    let view = run_on_hold(&use_cases, id, move |use_cases| {
        use_cases.hold(id, token.as_ref())
    })
    .await?;
    Ok(HttpResponse::Ok().json(HoldJson::from(&view)))
}

/// `POST /api/holds/{hold_id}/confirm`: sells every ticket of the hold at once.
#[utoipa::path(
    tag = "holds",
    params(HoldIdParam, HoldTokenParam),
    description = "Confirms every ticket of the hold, atomically, with one `confirmed_at`. \
        Idempotent: a sold hold answers 200 unchanged.",
    responses(
        (status = 200, description = "The hold, every ticket `CONFIRMED`", body = HoldJson),
        (status = 400, description = "`INVALID_HOLD_ID`", body = ErrorBody),
        (status = 401, description = "`HOLD_TOKEN_REQUIRED`: no `Hold-Token` was sent", body = ErrorBody),
        (status = 403, description = "`HOLD_TOKEN_INVALID`: the `Hold-Token` is not this hold's", body = ErrorBody),
        (status = 404, description = "`HOLD_NOT_FOUND`", body = ErrorBody),
        (status = 409, description = "`RESERVATION_EXPIRED` (`details.expired_at`; every ticket \
            of a lapsed hold is written `EXPIRED` in the same step)", body = ErrorBody),
        (status = 503, description = "`SERVICE_UNAVAILABLE`", body = ErrorBody),
        (status = 500, description = "`INTERNAL_ERROR`", body = ErrorBody),
    )
)]
#[post("/holds/{hold_id}/confirm")]
pub(crate) async fn confirm_hold(
    use_cases: web::Data<TicketUseCases>,
    HoldIdPath(id): HoldIdPath,
    PresentedToken(token): PresentedToken,
) -> Result<HttpResponse, ApiError> {
    let view = run_on_hold(&use_cases, id, move |use_cases| {
        use_cases.confirm_hold(id, token.as_ref())
    })
    .await?;
    Ok(HttpResponse::Ok().json(HoldJson::from(&view)))
}

/// `DELETE /api/holds/{hold_id}`: gives the hold up; its tickets are reservable again.
#[utoipa::path(
    tag = "holds",
    params(HoldIdParam, HoldTokenParam),
    responses(
        (status = 200, description = "The hold as released: its tickets reservable again, \
            `created_at`, `expires_at` and `expires_in_seconds` null", body = HoldJson),
        (status = 400, description = "`INVALID_HOLD_ID`", body = ErrorBody),
        (status = 401, description = "`HOLD_TOKEN_REQUIRED`: no `Hold-Token` was sent", body = ErrorBody),
        (status = 403, description = "`HOLD_TOKEN_INVALID`: the `Hold-Token` is not this hold's", body = ErrorBody),
        (status = 404, description = "`HOLD_NOT_FOUND`", body = ErrorBody),
        (status = 409, description = "`TICKET_ALREADY_CONFIRMED` (`details.confirmed_at`) or \
            `NO_ACTIVE_RESERVATION` (the hold lapsed)", body = ErrorBody),
        (status = 503, description = "`SERVICE_UNAVAILABLE`", body = ErrorBody),
        (status = 500, description = "`INTERNAL_ERROR`", body = ErrorBody),
    )
)]
#[delete("/holds/{hold_id}")]
pub(crate) async fn release_hold(
    use_cases: web::Data<TicketUseCases>,
    HoldIdPath(id): HoldIdPath,
    PresentedToken(token): PresentedToken,
) -> Result<HttpResponse, ApiError> {
    let view = run_on_hold(&use_cases, id, move |use_cases| {
        use_cases.release_hold(id, token.as_ref())
    })
    .await?;
    Ok(HttpResponse::Ok().json(HoldJson::from(&view)))
}

/// `POST /api/holds/{hold_id}/extend`: makes the hold expire `ttl_seconds` from now.
#[utoipa::path(
    tag = "holds",
    params(HoldIdParam, HoldTokenParam),
    request_body(content = HoldExtensionJson, content_type = "application/json"),
    description = "Moves the hold's expiry, for all its tickets, to `ttl_seconds` from now; a hold \
        lasts at most `reservation.max_hold_seconds` from its creation.",
    responses(
        (status = 200, description = "The hold, `expires_at` now + `ttl_seconds`", body = HoldJson),
        (status = 400, description = "`INVALID_HOLD_ID`, or `VALIDATION_ERROR`: the body is not an \
            object with one integer `ttl_seconds` from 1 to `reservation.max_hold_seconds`", body = ErrorBody),
        (status = 401, description = "`HOLD_TOKEN_REQUIRED`: no `Hold-Token` was sent", body = ErrorBody),
        (status = 403, description = "`HOLD_TOKEN_INVALID`: the `Hold-Token` is not this hold's", body = ErrorBody),
        (status = 404, description = "`HOLD_NOT_FOUND`", body = ErrorBody),
        (status = 409, description = "`HOLD_EXTENSION_LIMIT` (`details.max_expires_at`), \
            `RESERVATION_EXPIRED` (`details.expired_at`) or `TICKET_ALREADY_CONFIRMED`", body = ErrorBody),
        (status = 413, description = "`PAYLOAD_TOO_LARGE`: a body over 64 KiB", body = ErrorBody),
        (status = 415, description = "`UNSUPPORTED_MEDIA_TYPE`: a body declared as something other than JSON", body = ErrorBody),
        (status = 503, description = "`SERVICE_UNAVAILABLE`", body = ErrorBody),
        (status = 500, description = "`INTERNAL_ERROR`", body = ErrorBody),
    )
)]
#[post("/holds/{hold_id}/extend")]
pub(crate) async fn extend_hold(
    use_cases: web::Data<TicketUseCases>,
    HoldIdPath(id): HoldIdPath,
    PresentedToken(token): PresentedToken,
    ExtensionBody { ttl_seconds }: ExtensionBody,
) -> Result<HttpResponse, ApiError> {
    let view = run_on_hold(&use_cases, id, move |use_cases| {
        use_cases.extend_hold(id, token.as_ref(), ttl_seconds)
    })
    .await?;
    Ok(HttpResponse::Ok().json(HoldJson::from(&view)))
}

/// Runs a use case about the hold `id`: its failure is answered as about that hold.
async fn run_on_hold(
    use_cases: &web::Data<TicketUseCases>,
    id: HoldId,
    use_case: impl FnOnce(&TicketUseCases) -> Result<HoldView, TicketError> + Send + 'static,
) -> Result<HoldView, ApiError> {
    run_use_case(use_cases, use_case)
        .await?
        .map_err(ApiError::on_hold(id))
}

fn location(id: HoldId) -> String {
    format!("/api/holds/{id}")
}
