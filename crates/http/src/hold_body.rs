//! The bodies of `POST /api/holds` (a list of ticket ids, or an event and a quantity) and
//! of `POST /api/holds/{hold_id}/extend`, read like every body ([`json_object`]) and checked
//! field by field. How many tickets a hold may cover and how long it may last are the
//! policy's, which the use cases apply.

use std::borrow::Cow;
use std::future::Future;
use std::pin::Pin;

use actix_web::dev::Payload;
use actix_web::{FromRequest, HttpRequest};
use serde_json::{Map, Value};
use ticketing_domain::{EventName, TicketId};
use utoipa::openapi::schema::{KnownFormat, ObjectBuilder, Schema, SchemaFormat, Type};
use utoipa::openapi::RefOr;
use utoipa::{PartialSchema, ToSchema};

use crate::body::{event_name, json_object, kind, refuse_unknown};
use crate::error::ApiError;

// The bodies as the OpenAPI document describes them; parsing is done by hand below.
/// A hold to place: either `ticket_ids`, or `event_name` and `quantity` (best available).
#[derive(serde::Deserialize, ToSchema)]
#[serde(untagged)]
#[schema(as = NewHold)]
#[allow(dead_code)] // only its documentation is used
pub(crate) enum NewHoldJson {
    Tickets(HoldTicketsJson),
    BestAvailable(HoldBestAvailableJson),
}

/// Hold exactly these tickets, all or none.
#[derive(serde::Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(as = HoldTickets, example = json!({"ticket_ids": [1, 2]}))]
#[allow(dead_code)]
pub(crate) struct HoldTicketsJson {
    /// 1 to `reservation.max_tickets_per_hold` (10) distinct ticket ids.
    #[schema(min_items = 1, value_type = Vec<TicketIdSchema>)]
    ticket_ids: Vec<i64>,
}

/// The schema of a ticket id in a list: a positive 64-bit integer.
pub(crate) enum TicketIdSchema {}

impl PartialSchema for TicketIdSchema {
    fn schema() -> RefOr<Schema> {
        ObjectBuilder::new()
            .schema_type(Type::Integer)
            .format(Some(SchemaFormat::KnownFormat(KnownFormat::Int64)))
            .minimum(Some(1))
            .description(Some("A ticket's id: a positive 64-bit integer."))
            .into()
    }
}

impl ToSchema for TicketIdSchema {
    fn name() -> Cow<'static, str> {
        Cow::Borrowed("TicketId")
    }
}

/// Hold the `quantity` lowest-id tickets of `event_name` that are reservable now.
#[derive(serde::Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(as = HoldBestAvailable, example = json!({"event_name": "Opening Night", "quantity": 2}))]
#[allow(dead_code)]
pub(crate) struct HoldBestAvailableJson {
    // The pattern of `NewTicketJson::event_name`; the documentation tests hold them together.
    /// 1 to 200 characters, not only whitespace, without U+0000.
    #[schema(
        min_length = 1,
        max_length = 200,
        pattern = "^[^\\u0000]*[^\\u0000\\t-\\r \\u0085\\u00a0\\u1680\\u2000-\\u200a\\u2028\\u2029\\u202f\\u205f\\u3000][^\\u0000]*$"
    )]
    event_name: String,
    /// 1 to `reservation.max_tickets_per_hold` (10).
    #[schema(minimum = 1)]
    quantity: u32,
}

/// How far to extend a hold.
#[derive(serde::Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(as = HoldExtension, example = json!({"ttl_seconds": 300}))]
#[allow(dead_code)]
pub(crate) struct HoldExtensionJson {
    /// The hold expires this many seconds from now: 1 to `reservation.max_hold_seconds`
    /// (900), and no later than `created_at + max_hold_seconds`.
    #[schema(minimum = 1)]
    ttl_seconds: i64,
}

/// The fields of `POST /api/holds`, either shape.
const NEW_HOLD_FIELDS: [&str; 3] = ["ticket_ids", "event_name", "quantity"];

/// A validated request to place a hold.
#[derive(Debug)]
pub(crate) enum NewHoldBody {
    /// These tickets (the use case checks that they form a hold: some, distinct, few enough).
    Tickets(Vec<TicketId>),
    /// The `quantity` best available tickets of `event`.
    BestAvailable { event: EventName, quantity: usize },
}

impl FromRequest for NewHoldBody {
    type Error = ApiError;
    type Future = Pin<Box<dyn Future<Output = Result<Self, ApiError>>>>;

    fn from_request(request: &HttpRequest, payload: &mut Payload) -> Self::Future {
        let body = json_object(request, payload);
        Box::pin(async move { parse_new_hold(body.await?) })
    }
}

fn parse_new_hold(mut fields: Map<String, Value>) -> Result<NewHoldBody, ApiError> {
    refuse_unknown(&fields, &NEW_HOLD_FIELDS, "a hold")?;
    let by_event = fields.contains_key("event_name") || fields.contains_key("quantity");
    match (fields.remove("ticket_ids"), by_event) {
        (Some(_), true) => Err(ApiError::validation(
            "body",
            "give either ticket_ids, or event_name and quantity, not both",
        )),
        (Some(ids), false) => ticket_ids(ids).map(NewHoldBody::Tickets),
        (None, true) => Ok(NewHoldBody::BestAvailable {
            event: event_name("event_name", fields.remove("event_name"))?,
            quantity: quantity(fields.remove("quantity"))?,
        }),
        (None, false) => Err(ApiError::validation(
            "body",
            "must have ticket_ids, or event_name and quantity",
        )),
    }
}

fn ticket_ids(value: Value) -> Result<Vec<TicketId>, ApiError> {
    let Value::Array(items) = value else {
        return Err(ApiError::validation(
            "ticket_ids",
            format!("must be an array of ticket ids, got {}", kind(&value)),
        ));
    };
    items
        .iter()
        .enumerate()
        .map(|(index, item)| {
            let refuse = |reason: String| {
                ApiError::validation("ticket_ids", format!("item {index}: {reason}"))
            };
            match item {
                // Only integers: 1.0 and 1e0 are numbers serde_json does not read as one.
                Value::Number(number) => match number.as_i64() {
                    Some(id) => TicketId::new(id).map_err(|error| refuse(error.to_string())),
                    None => Err(refuse(format!(
                        "{number} is not a ticket id (a positive 64-bit integer)"
                    ))),
                },
                other => Err(refuse(format!(
                    "must be a ticket id (a positive integer), got {}",
                    kind(other)
                ))),
            }
        })
        .collect()
}

fn quantity(value: Option<Value>) -> Result<usize, ApiError> {
    let refuse = |got: &str| {
        ApiError::validation("quantity", format!("must be a positive integer, got {got}"))
    };
    match value {
        None => Err(ApiError::validation("quantity", "is required")),
        // A quantity beyond usize is too many whatever the policy: saturating keeps the
        // policy's own refusal (0 too is the use case's to refuse).
        Some(Value::Number(number)) => match number.as_u64() {
            Some(quantity) => Ok(usize::try_from(quantity).unwrap_or(usize::MAX)),
            None => Err(refuse(&number.to_string())),
        },
        Some(other) => Err(refuse(kind(&other))),
    }
}

/// The fields of an extension.
const EXTENSION_FIELDS: [&str; 1] = ["ttl_seconds"];

/// A validated request to extend a hold: `ttl_seconds` from now (the use case checks it
/// against the policy).
#[derive(Debug, Clone, Copy)]
pub(crate) struct ExtensionBody {
    pub(crate) ttl_seconds: i64,
}

impl FromRequest for ExtensionBody {
    type Error = ApiError;
    type Future = Pin<Box<dyn Future<Output = Result<Self, ApiError>>>>;

    fn from_request(request: &HttpRequest, payload: &mut Payload) -> Self::Future {
        let body = json_object(request, payload);
        Box::pin(async move { parse_extension(body.await?) })
    }
}

fn parse_extension(mut fields: Map<String, Value>) -> Result<ExtensionBody, ApiError> {
    refuse_unknown(&fields, &EXTENSION_FIELDS, "an extension")?;
    let refuse = |got: String| {
        ApiError::validation(
            "ttl_seconds",
            format!("must be a whole number of seconds, got {got}"),
        )
    };
    match fields.remove("ttl_seconds") {
        None => Err(ApiError::validation("ttl_seconds", "is required")),
        Some(Value::Number(number)) => match number.as_i64() {
            Some(ttl_seconds) => Ok(ExtensionBody { ttl_seconds }),
            None => Err(refuse(number.to_string())),
        },
        Some(other) => Err(refuse(kind(&other).to_owned())),
    }
}
