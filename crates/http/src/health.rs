//! The health checks: readiness (storage answers) and liveness (the process runs).

use actix_web::{get, web, HttpResponse};
use serde::Serialize;
use utoipa::ToSchema;

use crate::admission::{run_use_case, TicketUseCases};
use crate::error::{ApiError, ErrorBody};

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
pub(crate) async fn health(use_cases: web::Data<TicketUseCases>) -> Result<HttpResponse, ApiError> {
    run_use_case(&use_cases, TicketUseCases::check_health)
        .await?
        .map_err(ApiError::Unready)?;
    Ok(HttpResponse::Ok().json(HealthJson {
        status: "ok",
        database: "ok",
    }))
}

/// The body of the liveness check.
#[derive(Debug, Serialize, ToSchema)]
#[schema(example = json!({"status": "ok"}))]
pub(crate) struct LiveJson {
    #[schema(value_type = String, example = "ok")]
    status: &'static str,
}

/// `GET /api/health/live`: liveness. Answers while the process runs; touches no storage,
/// so a database outage does not get the process restarted (that is `/api/health`'s job
/// to report, for readiness).
#[utoipa::path(
    tag = "operations",
    description = "Liveness: answers 200 while the process runs, without touching the database.",
    responses((status = 200, description = "The process is alive", body = LiveJson))
)]
#[get("/health/live")]
pub(crate) async fn live() -> HttpResponse {
    HttpResponse::Ok().json(LiveJson { status: "ok" })
}
