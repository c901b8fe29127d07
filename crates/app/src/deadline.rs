//! The response deadline: a request whose handler has not answered within
//! `server.response_deadline_ms` is answered 503 `SERVICE_UNAVAILABLE`.
//!
//! A database that stops answering without closing its connections (a frozen server, a
//! host gone silent) blocks the query's thread; PostgreSQL's statement timeout cannot
//! fire on a server that does not run and TCP keepalives see nothing wrong while the
//! peer's kernel still acknowledges. The handler's blocking work keeps running (and its
//! connection returns to the pool when the database answers), but the client is told in
//! time; a 503 means the outcome is unknown, as it always may.

use std::time::Duration;

use actix_web::body::MessageBody;
use actix_web::dev::{ServiceRequest, ServiceResponse};
use actix_web::middleware::Next;
use actix_web::web;
use ticketing_http::ApiError;
use ticketing_ports::TicketError;

/// The longest any request may take to be answered.
#[derive(Debug, Clone, Copy)]
pub struct ResponseDeadline(pub Duration);

/// Why a request was answered 503 by the deadline (logged with the 503).
#[derive(Debug, thiserror::Error)]
#[error("no answer within the response deadline of {0:?}")]
struct DeadlinePassed(Duration);

/// Middleware (`App::wrap(from_fn(enforce))`, with [`ResponseDeadline`] as app data):
/// answers 503 when the rest of the app has not answered within the deadline.
pub async fn enforce(
    request: ServiceRequest,
    next: Next<impl MessageBody>,
) -> Result<ServiceResponse<impl MessageBody>, actix_web::Error> {
    let Some(ResponseDeadline(limit)) = request
        .app_data::<web::Data<ResponseDeadline>>()
        .map(|deadline| *deadline.get_ref())
    else {
        return next.call(request).await;
    };
    match actix_web::rt::time::timeout(limit, next.call(request)).await {
        Ok(answer) => answer,
        Err(_elapsed) => {
            Err(ApiError::from(TicketError::unavailable(DeadlinePassed(limit))).into())
        }
    }
}

#[cfg(test)]
mod tests {
    use actix_web::middleware::from_fn;
    use actix_web::{test, web, App, HttpResponse};

    use super::*;

    async fn slow() -> HttpResponse {
        actix_web::rt::time::sleep(Duration::from_secs(5)).await;
        HttpResponse::Ok().finish()
    }

    #[actix_web::test]
    async fn a_request_not_answered_by_the_deadline_is_answered_503() {
        let app = test::init_service(
            App::new()
                .app_data(web::Data::new(ResponseDeadline(Duration::from_millis(200))))
                .wrap(from_fn(enforce))
                .route("/slow", web::get().to(slow))
                .route("/fast/{id}", web::get().to(HttpResponse::Ok)),
        )
        .await;

        let fast = test::call_service(&app, test::TestRequest::get().uri("/fast/7").to_request());
        assert_eq!(fast.await.status(), 200);

        let started = std::time::Instant::now();
        let slow = test::TestRequest::get().uri("/slow").to_request();
        let answer = match test::try_call_service(&app, slow).await {
            Ok(response) => response.status(),
            Err(error) => error.as_response_error().status_code(),
        };
        assert_eq!(answer, 503);
        assert!(started.elapsed() < Duration::from_secs(2));
    }
}
