//! `GET /api/tickets`: tickets a page at a time, filtered by status (as seen now) and
//! event name, keyed on the id. The query string is parsed here, parameter by parameter,
//! so that every refusal names the parameter (a derived `Query<T>` names neither
//! reliably) and an unknown parameter is refused rather than silently ignored.

use std::future::{ready, Ready};

use actix_web::dev::Payload;
use actix_web::{get, web, FromRequest, HttpRequest, HttpResponse};
use serde::Serialize;
use ticketing_domain::{EventName, StatusFilter, TicketId};
use ticketing_ports::{PageLimit, TicketQuery};
use utoipa::openapi::schema::{ObjectBuilder, Schema, Type};
use utoipa::openapi::RefOr;
use utoipa::{IntoParams, PartialSchema, ToSchema};

use crate::admission::{run_use_case, TicketUseCases};
use crate::error::{ApiError, ErrorBody};
use crate::ticket_json::TicketJson;

/// The parameters a listing takes; any other is refused.
const PARAMETERS: [&str; 4] = ["status", "event_name", "limit", "after_id"];

/// The query string of a listing, validated.
#[derive(Debug)]
pub(crate) struct TicketListQuery(pub(crate) TicketQuery);

impl FromRequest for TicketListQuery {
    type Error = ApiError;
    type Future = Ready<Result<Self, ApiError>>;

    fn from_request(request: &HttpRequest, _: &mut Payload) -> Self::Future {
        ready(parse_query(request.query_string()).map(Self))
    }
}

fn parse_query(query_string: &str) -> Result<TicketQuery, ApiError> {
    let pairs = web::Query::<Vec<(String, String)>>::from_query(query_string)
        .map_err(|error| ApiError::validation("query", error.to_string()))?
        .into_inner();
    let mut seen: Vec<&str> = Vec::new();
    let mut query = TicketQuery::default();
    for (name, value) in &pairs {
        if !PARAMETERS.contains(&name.as_str()) {
            return Err(ApiError::validation(
                name.as_str(),
                format!(
                    "is not a parameter of this listing (expected {})",
                    PARAMETERS.join(", ")
                ),
            ));
        }
        if seen.contains(&name.as_str()) {
            return Err(ApiError::validation(
                name.as_str(),
                "must be given at most once",
            ));
        }
        seen.push(name);
        let invalid = |reason: String| ApiError::validation(name.as_str(), reason);
        match name.as_str() {
            "status" => {
                query.status = Some(
                    value
                        .parse::<StatusFilter>()
                        .map_err(|e| invalid(e.to_string()))?,
                );
            }
            "event_name" => {
                query.event_name =
                    Some(EventName::parse(value.as_str()).map_err(|e| invalid(e.to_string()))?);
            }
            "limit" => {
                let limit = decimal(value).ok_or_else(|| {
                    invalid(format!(
                        "must be an integer from {} to {}, got {value:?}",
                        PageLimit::MIN,
                        PageLimit::MAX
                    ))
                })?;
                query.limit = PageLimit::new(limit).map_err(|e| invalid(e.to_string()))?;
            }
            // "after_id": 0 (or absent) starts at the first ticket.
            _ => {
                let after = decimal(value)
                    .and_then(|after| i64::try_from(after).ok())
                    .ok_or_else(|| {
                        invalid(format!(
                            "must be an integer from 0 to {}, got {value:?}",
                            i64::MAX
                        ))
                    })?;
                query.after = TicketId::new(after).ok();
            }
        }
    }
    Ok(query)
}

/// A number written in ASCII digits only: no sign, space, fraction or exponent.
fn decimal(text: &str) -> Option<u64> {
    if text.is_empty() || !text.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    text.parse().ok()
}

/// The parameters, for the document only (the handler parses them with [`TicketListQuery`]).
#[derive(Debug, IntoParams)]
#[into_params(parameter_in = Query)]
#[allow(dead_code)]
pub(crate) struct TicketListParameters {
    /// Reservation status as seen now: `available` (reservable: never reserved, released,
    /// expired, or held past its expiry), `tentative` (held), `confirmed`, `expired`
    /// (recorded or not).
    #[param(inline)]
    status: Option<StatusFilterSchema>,
    /// Exactly this event name (1 to 200 characters, not blank, without U+0000).
    // The pattern of `NewTicketJson::event_name` (utoipa takes only a literal here); the
    // documentation tests hold the two together.
    #[param(
        min_length = 1,
        max_length = 200,
        pattern = "^[^\\u0000]*[^\\u0000\\t-\\r \\u0085\\u00a0\\u1680\\u2000-\\u200a\\u2028\\u2029\\u202f\\u205f\\u3000][^\\u0000]*$"
    )]
    event_name: Option<String>,
    /// Tickets per page, 1 to 500.
    #[param(minimum = 1, maximum = 500, default = 50)]
    limit: Option<u32>,
    /// List tickets with an id above this one: the `next_after_id` of the previous page
    /// (0 or absent: from the first ticket).
    #[param(minimum = 0, maximum = 9_223_372_036_854_775_807_i64)]
    after_id: Option<i64>,
}

/// The schema of `status`, listing the domain's own names.
#[derive(Debug)]
pub(crate) enum StatusFilterSchema {}

impl PartialSchema for StatusFilterSchema {
    fn schema() -> RefOr<Schema> {
        ObjectBuilder::new()
            .schema_type(Type::String)
            .description(Some("The values of `status`, for the document only."))
            .enum_values(Some(StatusFilter::ALL.map(StatusFilter::as_str)))
            .into()
    }
}

/// A page of tickets.
#[derive(Debug, Serialize, ToSchema)]
#[schema(as = TicketPage)]
pub(crate) struct TicketPageJson<'a> {
    /// In ascending id order.
    items: Vec<TicketJson<'a>>,
    /// The `after_id` of the next page; `null` on the last page.
    #[schema(minimum = 1, required = true)]
    next_after_id: Option<i64>,
}

/// `GET /api/tickets`: a page of tickets.
#[utoipa::path(
    tag = "tickets",
    params(TicketListParameters),
    responses(
        (status = 200, description = "A page of tickets, in ascending id order", body = TicketPageJson),
        (status = 400, description = "`VALIDATION_ERROR`: an unknown, repeated or invalid \
            query parameter (`details.field` names it)", body = ErrorBody),
        (status = 503, description = "`SERVICE_UNAVAILABLE`", body = ErrorBody),
        (status = 500, description = "`INTERNAL_ERROR`", body = ErrorBody),
    )
)]
#[get("/tickets")]
pub(crate) async fn list_tickets(
    use_cases: web::Data<TicketUseCases>,
    TicketListQuery(query): TicketListQuery,
) -> Result<HttpResponse, ApiError> {
    let page = run_use_case(&use_cases, move |use_cases| use_cases.list_tickets(&query)).await??;
    Ok(HttpResponse::Ok().json(TicketPageJson {
        items: page.tickets.iter().map(TicketJson::from).collect(),
        next_after_id: page.next_after.map(TicketId::get),
    }))
}
