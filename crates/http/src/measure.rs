//! Metrics: `GET /metrics` in the Prometheus text format (the business counters are
//! counted by the use cases). Recording goes through the `metrics` facade, so this crate does
//! not know which recorder the application installs (tests install a local one).

use std::sync::Arc;

use actix_web::http::header;
use actix_web::{get, web, HttpResponse};

/// Renders the Prometheus text exposition of everything recorded (the application also
/// refreshes its gauges in it).
pub type RenderMetrics = Arc<dyn Fn() -> String + Send + Sync>;

/// The renderer `GET /metrics` answers with, as application data.
#[derive(Clone)]
pub(crate) struct MetricsEndpoint(pub(crate) RenderMetrics);

impl std::fmt::Debug for MetricsEndpoint {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("MetricsEndpoint")
    }
}

/// The content type of the Prometheus text format.
const PROMETHEUS_TEXT: &str = "text/plain; version=0.0.4; charset=utf-8";

/// `GET /metrics`: counters, histograms and gauges in the Prometheus text format.
#[utoipa::path(
    tag = "operations",
    responses(
        (status = 200, description = "Every series in the Prometheus text exposition format \
            (empty when the application installed no recorder)", content_type = "text/plain", body = String),
    )
)]
#[get("/metrics")]
pub(crate) async fn prometheus_metrics(endpoint: web::Data<MetricsEndpoint>) -> HttpResponse {
    HttpResponse::Ok()
        .insert_header((header::CONTENT_TYPE, PROMETHEUS_TEXT))
        .body((endpoint.0)())
}
