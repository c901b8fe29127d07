//! The assembled service over HTTP on a real PostgreSQL database: the wiring works end
//! to end, and start-up brings an empty database to the current schema.

// Tests panic on purpose when something is wrong.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::io::Write;
use std::sync::{Arc, Mutex, OnceLock};

use common::{token_of, TestApp};
use serde_json::{json, Value};
use ticketing_app::settings::{LogFormat, LogSettings};
use ticketing_app::telemetry;
use ticketing_domain::TicketId;
use ticketing_ports::{HoldToken, TicketRepository};
use ticketing_postgres::test_db::TestDatabase;

/// A well-formed token that is no hold's.
const OTHER_TOKEN: &str = "not-this-holds-token-but-well-formed-000000";

async fn spawn_app(database: TestDatabase, ttl_seconds: u32) -> TestApp {
    TestApp::spawn(
        database,
        &[("RESERVATION_TTL_SECONDS", &ttl_seconds.to_string())],
    )
    .await
}

/// Places a hold on ticket `id` and checks it was answered 201 TENTATIVE.
async fn hold(app: &TestApp, id: i64) -> Value {
    let (status, held) = app
        .post(&format!("/api/tickets/{id}/reservation"), None)
        .await;
    assert_eq!(
        (status, held["reservation_status"].as_str()),
        (201, Some("TENTATIVE")),
        "{held}"
    );
    held
}

/// Sends the request and checks it is refused with `status` and `error_code`.
async fn assert_refused(
    app: &TestApp,
    method: &str,
    path: &str,
    token: Option<&str>,
    status: u16,
    error_code: &str,
) {
    let (answered, body) = app.send(method, path, None, token).await;
    assert_eq!(
        (answered, body["error_code"].as_str()),
        (status, Some(error_code)),
        "{method} {path} with {token:?}: {body}"
    );
}

fn tickets(hold: &Value) -> &Vec<Value> {
    hold["tickets"].as_array().unwrap()
}

fn ticket_ids(hold: &Value) -> Vec<i64> {
    tickets(hold)
        .iter()
        .map(|ticket| ticket["id"].as_i64().unwrap())
        .collect()
}

/// `body` shows neither the hold's token nor its id, nor any field naming a hold.
fn assert_no_hold(body: &Value, token: &str, hold_id: &str) {
    let text = body.to_string();
    for hidden in [token, hold_id, "hold_token", "hold_id", "\"hold\""] {
        assert!(!text.contains(hidden), "{hidden} shown in {text}");
    }
}

/// Lines written by the subscriber, shared with the test.
#[derive(Clone, Default)]
struct Captured(Arc<Mutex<Vec<u8>>>);

impl Write for Captured {
    fn write(&mut self, bytes: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(bytes);
        Ok(bytes.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

impl Captured {
    fn text(&self) -> String {
        String::from_utf8(self.0.lock().unwrap().clone()).unwrap()
    }
}

/// Installs, once for this test binary, the application's JSON subscriber at its most
/// verbose as the global one: every line any thread writes (actix workers, blocking
/// pool threads) is captured.
fn capture_logs() -> Captured {
    static CAPTURED: OnceLock<Captured> = OnceLock::new();
    CAPTURED
        .get_or_init(|| {
            use tracing_subscriber::util::SubscriberInitExt as _;
            let captured = Captured::default();
            let writer = captured.clone();
            let settings = LogSettings {
                level: "trace".to_owned(),
                format: LogFormat::Json,
            };
            telemetry::subscriber(&settings, move || writer.clone(), false)
                .try_init()
                .unwrap();
            captured
        })
        .clone()
}

#[actix_web::test]
async fn a_ticket_is_created_held_and_sold_over_http() {
    let app = spawn_app(TestDatabase::new(), 60).await;

    let (status, body) = app.get("/api/health").await;
    assert_eq!((status, body["status"].as_str()), (200, Some("ok")));

    let (status, ticket) = app
        .post(
            "/api/tickets",
            Some(json!({"event_name": "Opening Night", "seat": "A-12"})),
        )
        .await;
    assert_eq!(status, 201, "{ticket}");
    let id = ticket["id"].as_i64().unwrap();

    let held = hold(&app, id).await;
    assert_eq!(held["hold"]["expires_at"], held["reservation_expires_at"]);
    assert_eq!(
        held["hold"]["hold_id"].as_str().unwrap().len(),
        36,
        "{held}"
    );
    let token = token_of(&held);
    let (status, refused) = app
        .post(&format!("/api/tickets/{id}/reservation"), None)
        .await;
    assert_eq!(status, 409);
    assert_eq!(refused["error_code"], "RESERVATION_ALREADY_ACTIVE");
    assert_eq!(
        refused["details"]["expires_at"],
        held["reservation_expires_at"]
    );

    // Only the hold's token sells it.
    let confirm = format!("/api/tickets/{id}/confirm");
    assert_refused(&app, "POST", &confirm, None, 401, "HOLD_TOKEN_REQUIRED").await;
    assert_refused(
        &app,
        "POST",
        &confirm,
        Some(OTHER_TOKEN),
        403,
        "HOLD_TOKEN_INVALID",
    )
    .await;
    let (status, sold) = app.send("POST", &confirm, None, Some(&token)).await;
    assert_eq!(
        (status, sold["reservation_status"].as_str()),
        (200, Some("CONFIRMED")),
        "{sold}"
    );
    let (status, again) = app.send("POST", &confirm, None, Some(&token)).await;
    assert_eq!(status, 200);
    assert_eq!(again, sold);
    // Confirming a sold ticket again is 200 only for its own hold's token.
    assert_refused(&app, "POST", &confirm, None, 401, "HOLD_TOKEN_REQUIRED").await;
    assert_refused(
        &app,
        "POST",
        &confirm,
        Some(OTHER_TOKEN),
        403,
        "HOLD_TOKEN_INVALID",
    )
    .await;

    let (status, stored) = app.get(&format!("/api/tickets/{id}")).await;
    assert_eq!(status, 200);
    assert_eq!(stored, sold);
    app.stop().await;
}

#[actix_web::test]
async fn a_lapsed_hold_is_refused_at_confirm_and_can_be_held_again() {
    let app = spawn_app(TestDatabase::new(), 1).await;
    let (_, ticket) = app
        .post("/api/tickets", Some(json!({"event_name": "Matinee"})))
        .await;
    let id = ticket["id"].as_i64().unwrap();
    let token = token_of(&hold(&app, id).await);

    actix_web::rt::time::sleep(std::time::Duration::from_millis(1_100)).await;
    let (status, seen) = app.get(&format!("/api/tickets/{id}")).await;
    assert_eq!(
        (status, seen["reservation_status"].as_str()),
        (200, Some("EXPIRED"))
    );
    let confirm = format!("/api/tickets/{id}/confirm");
    let (status, refused) = app.send("POST", &confirm, None, Some(&token)).await;
    assert_eq!(
        (status, refused["error_code"].as_str()),
        (409, Some("RESERVATION_EXPIRED"))
    );
    let again = hold(&app, id).await;
    // The old hold's token is not the new one's.
    assert_refused(
        &app,
        "POST",
        &confirm,
        Some(&token),
        403,
        "HOLD_TOKEN_INVALID",
    )
    .await;
    let (status, sold) = app
        .send("POST", &confirm, None, Some(&token_of(&again)))
        .await;
    assert_eq!(status, 200, "{sold}");
    app.stop().await;
}

#[actix_web::test]
async fn a_hold_is_released_only_with_its_token() {
    let app = spawn_app(TestDatabase::new(), 60).await;
    let (_, ticket) = app
        .post("/api/tickets", Some(json!({"event_name": "Matinee"})))
        .await;
    let id = ticket["id"].as_i64().unwrap();
    let token = token_of(&hold(&app, id).await);
    let release = format!("/api/tickets/{id}/reservation");
    assert_refused(&app, "DELETE", &release, None, 401, "HOLD_TOKEN_REQUIRED").await;
    assert_refused(
        &app,
        "DELETE",
        &release,
        Some(OTHER_TOKEN),
        403,
        "HOLD_TOKEN_INVALID",
    )
    .await;
    let (status, seen) = app.get(&format!("/api/tickets/{id}")).await;
    assert_eq!(
        (status, seen["reservation_status"].as_str()),
        (200, Some("TENTATIVE"))
    );

    let (status, released) = app.send("DELETE", &release, None, Some(&token)).await;
    assert_eq!(status, 200, "{released}");
    assert_eq!(released["reservation_status"], Value::Null, "{released}");
    hold(&app, id).await;
    app.stop().await;
}

/// A buyer's whole purchase of two seats over HTTP, against PostgreSQL: hold them
/// together, read the hold, extend it while paying, confirm it (twice: the same sale),
/// and find the tickets sold, with no trace of the hold on them. The hold's token is
/// never logged (every line the test binary writes is captured) nor listed.
#[actix_web::test]
async fn two_tickets_are_held_extended_and_bought_together_and_the_token_stays_secret() {
    let logs = capture_logs();
    let database = TestDatabase::new();
    let repository = database.repository();
    let app = spawn_app(database, 60).await;
    let mut ids = Vec::new();
    for seat in ["B-1", "B-2"] {
        let (status, ticket) = app
            .post(
                "/api/tickets",
                Some(json!({"event_name": "Premiere", "seat": seat})),
            )
            .await;
        assert_eq!(status, 201, "{ticket}");
        ids.push(ticket["id"].as_i64().unwrap());
    }

    let (status, placed) = app
        .post("/api/holds", Some(json!({"ticket_ids": [ids[1], ids[0]]})))
        .await;
    assert_eq!(status, 201, "{placed}");
    let token = token_of(&placed);
    assert!(token.len() >= 22, "a token of at least 128 bits: {token}");
    let hold_id = placed["hold_id"].as_str().unwrap().to_owned();
    let created_at = placed["created_at"].as_str().unwrap().to_owned();
    let expires_at = placed["expires_at"].as_str().unwrap().to_owned();
    assert_eq!(ticket_ids(&placed), ids, "ascending by id: {placed}");
    for ticket in tickets(&placed) {
        assert_eq!(ticket["reservation_status"], "TENTATIVE", "{placed}");
        assert_eq!(ticket["reservation_created_at"], created_at.as_str());
        assert_eq!(ticket["reservation_expires_at"], expires_at.as_str());
    }
    // Storage keeps the token's digest, never the token.
    for id in &ids {
        let stored = repository
            .find(TicketId::new(*id).unwrap())
            .unwrap()
            .reservation;
        let stored_hold = stored.hold().unwrap();
        assert_eq!(stored_hold.id().to_string(), hold_id);
        assert_eq!(*stored_hold.owner(), HoldToken::presented(&token).digest());
    }

    // Read with the token: the same hold, and no token answered again.
    let path = format!("/api/holds/{hold_id}");
    assert_refused(&app, "GET", &path, None, 401, "HOLD_TOKEN_REQUIRED").await;
    assert_refused(
        &app,
        "GET",
        &path,
        Some(OTHER_TOKEN),
        403,
        "HOLD_TOKEN_INVALID",
    )
    .await;
    let (status, read) = app.send("GET", &path, None, Some(&token)).await;
    assert_eq!(status, 200, "{read}");
    assert_eq!(read["hold_id"], hold_id.as_str());
    assert_eq!(read["expires_at"], expires_at.as_str());
    assert_eq!(read["tickets"], placed["tickets"]);
    assert!(read.get("hold_token").is_none(), "{read}");

    // Paying takes a while: two more minutes from now, for both tickets.
    let extend = format!("{path}/extend");
    let body = json!({"ttl_seconds": 120});
    let (status, refused) = app
        .send("POST", &extend, Some(body.clone()), Some(OTHER_TOKEN))
        .await;
    assert_eq!(
        (status, refused["error_code"].as_str()),
        (403, Some("HOLD_TOKEN_INVALID"))
    );
    let (status, extended) = app.send("POST", &extend, Some(body), Some(&token)).await;
    assert_eq!(status, 200, "{extended}");
    assert_eq!(extended["created_at"], created_at.as_str());
    let extended_to = extended["expires_at"].as_str().unwrap().to_owned();
    assert!(extended_to > expires_at, "{expires_at} -> {extended_to}");
    let left = extended["expires_in_seconds"].as_i64().unwrap();
    assert!((118..=120).contains(&left), "{extended}");
    for ticket in tickets(&extended) {
        assert_eq!(ticket["reservation_status"], "TENTATIVE", "{extended}");
        assert_eq!(ticket["reservation_expires_at"], extended_to.as_str());
    }

    // Sold: both tickets at one instant; again, the same sale.
    let confirm = format!("{path}/confirm");
    assert_refused(&app, "POST", &confirm, None, 401, "HOLD_TOKEN_REQUIRED").await;
    let (status, sold) = app.send("POST", &confirm, None, Some(&token)).await;
    assert_eq!(status, 200, "{sold}");
    let confirmed_at = tickets(&sold)[0]["reservation_confirmed_at"].clone();
    assert!(confirmed_at.is_string(), "{sold}");
    for ticket in tickets(&sold) {
        assert_eq!(ticket["reservation_status"], "CONFIRMED", "{sold}");
        assert_eq!(ticket["reservation_confirmed_at"], confirmed_at, "{sold}");
        assert_eq!(ticket["reservation_expires_at"], extended_to.as_str());
    }
    let (status, again) = app.send("POST", &confirm, None, Some(&token)).await;
    assert_eq!(status, 200, "{again}");
    assert_eq!(again["tickets"], sold["tickets"]);
    assert_eq!(again["hold_id"], sold["hold_id"]);
    assert!(again.get("hold_token").is_none(), "{again}");

    // The tickets, read or listed, show the sale and nothing of the hold.
    for (id, sold_ticket) in ids.iter().zip(tickets(&sold)) {
        let (status, stored) = app.get(&format!("/api/tickets/{id}")).await;
        assert_eq!(status, 200);
        assert_eq!(&stored, sold_ticket);
        assert_no_hold(&stored, &token, &hold_id);
    }
    let (status, listed) = app.get("/api/tickets?event_name=Premiere").await;
    assert_eq!(status, 200, "{listed}");
    let listed_tickets = listed["items"].as_array().unwrap();
    assert_eq!(listed_tickets.len(), 2, "{listed}");
    assert_no_hold(&listed, &token, &hold_id);
    let (status, all) = app.get("/api/tickets").await;
    assert_eq!(status, 200, "{all}");
    assert_no_hold(&all, &token, &hold_id);
    app.stop().await;

    // The server's own request lines are there (so capturing works), and no token.
    let text = logs.text();
    let lines: Vec<Value> = text
        .lines()
        .map(|line| serde_json::from_str(line).unwrap_or_else(|_| panic!("not JSON: {line}")))
        .collect();
    let confirms = lines
        .iter()
        .filter(|line| {
            line["message"] == "request completed"
                && line["span"]["route"] == "/api/holds/{hold_id}/confirm"
        })
        .count();
    assert!(
        confirms >= 3,
        "the server's request lines were not captured:\n{text}"
    );
    for secret in [token.as_str(), OTHER_TOKEN] {
        assert!(!text.contains(secret), "a hold token was logged:\n{text}");
    }
}

#[actix_web::test]
async fn start_up_migrates_an_empty_database() {
    let database = TestDatabase::empty();
    let pool = database.pool();
    let app = spawn_app(database, 60).await;
    let (status, _) = app
        .post("/api/tickets", Some(json!({"event_name": "Fresh"})))
        .await;
    assert_eq!(status, 201);
    // Applying them again finds nothing to do.
    assert_eq!(
        ticketing_postgres::run_migrations(&pool).unwrap(),
        Vec::<String>::new()
    );
    app.stop().await;
}
