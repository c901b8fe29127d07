//! `GET /api/tickets` (pages, filters, every parameter error) and `GET /api/health/live`.

use actix_web::http::StatusCode;
use chrono::TimeDelta;
use serde_json::{json, Value};
use ticketing_ports::memory::Fault;

use crate::helpers::{TestApp, TTL_SECONDS};

impl TestApp {
    async fn ticket_at(&self, event_name: &str) -> i64 {
        let answer = self.create(&json!({"event_name": event_name})).await;
        answer.json()["id"].as_i64().unwrap()
    }

    /// A page: 200, exactly `items` and `next_after_id`, each item a full ticket.
    async fn page(&self, query: &str) -> (Vec<i64>, Value) {
        let answer = self.get(&format!("/api/tickets{query}")).await;
        answer.assert_status(StatusCode::OK);
        let body = answer.json();
        let object = body.as_object().unwrap();
        assert_eq!(object.len(), 2, "{body}");
        let ids = body["items"]
            .as_array()
            .unwrap()
            .iter()
            .map(|item| {
                assert_eq!(item.as_object().unwrap().len(), 7, "{item}");
                item["id"].as_i64().unwrap()
            })
            .collect();
        (ids, body["next_after_id"].clone())
    }
}

#[actix_web::test]
async fn pages_follow_one_another_by_next_after_id_until_it_is_null() {
    let app = TestApp::new();
    for _ in 0..7 {
        app.ticket().await;
    }
    assert_eq!(app.page("?limit=3").await, (vec![1, 2, 3], json!(3)));
    assert_eq!(
        app.page("?limit=3&after_id=3").await,
        (vec![4, 5, 6], json!(6))
    );
    assert_eq!(
        app.page("?limit=3&after_id=6").await,
        (vec![7], json!(null))
    );
    // A page ending exactly at the last ticket has no next one.
    assert_eq!(
        app.page("?after_id=4&limit=3").await,
        (vec![5, 6, 7], json!(null))
    );
    assert_eq!(app.page("?after_id=7").await, (vec![], json!(null)));
    assert_eq!(app.page("?after_id=0").await.0, (1..=7).collect::<Vec<_>>());
    assert_eq!(app.page("").await.0, (1..=7).collect::<Vec<_>>());
    let far = format!("?after_id={}", i64::MAX);
    assert_eq!(app.page(&far).await, (vec![], json!(null)));
}

#[actix_web::test]
async fn a_page_holds_50_tickets_unless_told_and_at_most_500() {
    let app = TestApp::new();
    for _ in 0..501 {
        app.ticket().await;
    }
    let (ids, next) = app.page("").await;
    assert_eq!(ids, (1..=50).collect::<Vec<_>>());
    assert_eq!(next, json!(50));
    let (ids, next) = app.page("?limit=500").await;
    assert_eq!(ids.len(), 500);
    assert_eq!(next, json!(500));
    assert_eq!(app.page("?limit=1").await, (vec![1], json!(1)));
}

#[actix_web::test]
async fn status_filters_read_reservations_as_seen_now() {
    let app = TestApp::new();
    let ids: Vec<i64> = {
        let mut ids = Vec::new();
        for _ in 0..5 {
            ids.push(app.ticket().await);
        }
        ids
    };
    let reservation = |id: i64| format!("/api/tickets/{id}/reservation");
    // 1 never reserved; 2 held; 3 held, then lapses; 4 confirmed; 5 released.
    app.post(&reservation(ids[2]))
        .await
        .assert_status(StatusCode::CREATED);
    app.clock.advance(TimeDelta::seconds(TTL_SECONDS / 2));
    app.post(&reservation(ids[1]))
        .await
        .assert_status(StatusCode::CREATED);
    let token = app.reserve(ids[3]).await;
    app.post_with_token(&format!("/api/tickets/{}/confirm", ids[3]), &token)
        .await
        .assert_status(StatusCode::OK);
    let token = app.reserve(ids[4]).await;
    app.delete_with_token(&reservation(ids[4]), &token)
        .await
        .assert_status(StatusCode::OK);
    app.clock.advance(TimeDelta::seconds(TTL_SECONDS / 2));

    assert_eq!(app.page("?status=available").await.0, [1, 3, 5]);
    assert_eq!(app.page("?status=tentative").await.0, [2]);
    assert_eq!(app.page("?status=expired").await.0, [3]);
    assert_eq!(app.page("?status=confirmed").await.0, [4]);
    let body = app.get("/api/tickets?status=expired").await.json();
    assert_eq!(body["items"][0]["reservation_status"], "EXPIRED");
    // Paging within a filter.
    assert_eq!(
        app.page("?status=available&limit=2").await,
        (vec![1, 3], json!(3))
    );
    assert_eq!(
        app.page("?status=available&limit=2&after_id=3").await,
        (vec![5], json!(null))
    );
}

#[actix_web::test]
async fn event_name_is_an_exact_match_and_combines_with_status() {
    let app = TestApp::new();
    let gala = app.ticket_at("Gala Night").await;
    let matinee = app.ticket_at("Matinee").await;
    let gala_too = app.ticket_at("Gala Night").await;
    app.ticket_at("Gala").await;
    app.post(&format!("/api/tickets/{gala}/reservation"))
        .await
        .assert_status(StatusCode::CREATED);
    assert_eq!(
        app.page("?event_name=Gala%20Night").await.0,
        [gala, gala_too]
    );
    assert_eq!(app.page("?event_name=Gala+Night").await.0, [gala, gala_too]);
    assert_eq!(app.page("?event_name=Matinee").await.0, [matinee]);
    assert_eq!(app.page("?event_name=matinee").await.0, Vec::<i64>::new());
    assert_eq!(
        app.page("?event_name=Gala%20Night&status=available")
            .await
            .0,
        [gala_too]
    );
}

#[actix_web::test]
async fn every_bad_parameter_is_a_validation_error_naming_it() {
    let app = TestApp::new();
    let long_name = "x".repeat(201);
    let cases: Vec<(String, &str)> = vec![
        ("?state=available".into(), "state"),
        ("?status=available&status=expired".into(), "status"),
        ("?status=".into(), "status"),
        ("?status=sold".into(), "status"),
        ("?status=AVAILABLE".into(), "status"),
        ("?event_name=".into(), "event_name"),
        ("?event_name=%20%20".into(), "event_name"),
        (format!("?event_name={long_name}"), "event_name"),
        ("?limit=0".into(), "limit"),
        ("?limit=501".into(), "limit"),
        ("?limit=".into(), "limit"),
        ("?limit=abc".into(), "limit"),
        ("?limit=-1".into(), "limit"),
        ("?limit=1.5".into(), "limit"),
        ("?limit=%2B5".into(), "limit"),
        ("?limit=99999999999999999999999".into(), "limit"),
        ("?after_id=-1".into(), "after_id"),
        ("?after_id=abc".into(), "after_id"),
        ("?after_id=1e3".into(), "after_id"),
        ("?after_id=9223372036854775808".into(), "after_id"),
        ("?after_id=".into(), "after_id"),
        ("?limit=5&after_id=2&extra=1".into(), "extra"),
    ];
    for (query, field) in cases {
        let answer = app.get(&format!("/api/tickets{query}")).await;
        let details = answer.error(StatusCode::BAD_REQUEST, "VALIDATION_ERROR");
        assert_eq!(details["field"], field, "{query}: {details}");
        assert!(
            !details["reason"].as_str().unwrap().is_empty(),
            "{query}: {details}"
        );
        let object = details.as_object().unwrap();
        assert_eq!(object.len(), 2, "{query}: {details}");
    }
}

/// The query string refuses NUL like a body does: the rule is the domain's.
#[actix_web::test]
async fn a_nul_in_the_event_name_is_a_validation_error_naming_it() {
    let app = TestApp::new();
    for query in ["?event_name=%00", "?event_name=a%00b"] {
        let details = app
            .get(&format!("/api/tickets{query}"))
            .await
            .error(StatusCode::BAD_REQUEST, "VALIDATION_ERROR");
        assert_eq!(details["field"], "event_name", "{query}: {details}");
        assert_eq!(
            details["reason"], "event name must not contain the NUL character (U+0000)",
            "{query}: {details}"
        );
    }
}

#[actix_web::test]
async fn a_listing_fails_like_storage() {
    let app = TestApp::new();
    app.repository.set_fault(Some(Fault::Unavailable));
    app.get("/api/tickets")
        .await
        .error(StatusCode::SERVICE_UNAVAILABLE, "SERVICE_UNAVAILABLE");
}

#[actix_web::test]
async fn liveness_answers_without_storage() {
    let app = TestApp::new();
    for fault in [None, Some(Fault::Unavailable), Some(Fault::Unexpected)] {
        app.repository.set_fault(fault);
        let answer = app.get("/api/health/live").await;
        answer.assert_status(StatusCode::OK);
        assert_eq!(answer.header("content-type"), Some("application/json"));
        assert_eq!(answer.json(), json!({"status": "ok"}), "{fault:?}");
    }
    // Readiness, meanwhile, reports the failing storage.
    app.get("/api/health")
        .await
        .error(StatusCode::SERVICE_UNAVAILABLE, "SERVICE_UNAVAILABLE");
}
