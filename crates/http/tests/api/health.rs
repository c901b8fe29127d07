//! `GET /api/health`: ready when storage answers, 503 when it does not.

use actix_web::http::StatusCode;
use serde_json::json;
use ticketing_ports::memory::Fault;

use crate::helpers::TestApp;

#[actix_web::test]
async fn health_is_ok_when_storage_answers() {
    let app = TestApp::new();
    let answer = app.get("/api/health").await;
    answer.assert_status(StatusCode::OK);
    assert_eq!(answer.header("content-type"), Some("application/json"));
    assert_eq!(answer.json(), json!({"status": "ok", "database": "ok"}));
}

#[actix_web::test]
async fn health_is_unavailable_whenever_storage_fails() {
    for fault in [Fault::Unavailable, Fault::Unexpected] {
        let app = TestApp::new();
        app.repository.set_fault(Some(fault));
        let answer = app.get("/api/health").await;
        let details = answer.error(StatusCode::SERVICE_UNAVAILABLE, "SERVICE_UNAVAILABLE");
        assert_eq!(details, json!({"database": "unavailable"}), "{fault:?}");
        assert_eq!(answer.header("retry-after"), Some("1"));
        assert!(
            !String::from_utf8_lossy(&answer.body).contains("injected"),
            "the cause stays in the log"
        );

        app.repository.set_fault(None);
        app.get("/api/health").await.assert_status(StatusCode::OK);
    }
}
