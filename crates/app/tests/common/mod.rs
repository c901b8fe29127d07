//! Helpers shared by the integration test binaries: settings from the shipped `config/`
//! directory, the assembled application on a free port over its own database, and
//! reading one sample out of a Prometheus rendering.

// Each test binary compiles this module and uses only part of it.
#![allow(dead_code)]

use std::collections::HashMap;
use std::path::PathBuf;

use serde_json::Value;
use ticketing_app::settings::{Settings, SettingsError, SettingsSource};
use ticketing_app::startup::Application;
use ticketing_postgres::test_db::TestDatabase;

/// The `config/` directory the service ships with.
pub(crate) fn config_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../config")
}

/// Settings from the shipped `config/` and `env` as the environment, or why not.
pub(crate) fn try_load_settings(env: &[(&str, &str)]) -> Result<Settings, SettingsError> {
    Settings::load(&SettingsSource {
        config_dir: config_dir(),
        env: env
            .iter()
            .map(|(key, value)| ((*key).to_owned(), (*value).to_owned()))
            .collect::<HashMap<_, _>>(),
    })
}

/// Settings from the shipped `config/` and `env` as the environment.
pub(crate) fn load_settings(env: &[(&str, &str)]) -> Settings {
    try_load_settings(env).unwrap()
}

/// The value of `series` (name and labels, exactly as rendered) in a Prometheus text
/// rendering, if it is there.
pub(crate) fn sample(rendered: &str, series: &str) -> Option<f64> {
    rendered.lines().find_map(|line| {
        let (name, value) = line.rsplit_once(' ')?;
        (name == series).then(|| value.parse().unwrap())
    })
}

/// A running application on a free port of 127.0.0.1, over its own database.
pub(crate) struct TestApp {
    address: String,
    client: awc::Client,
    server: actix_web::dev::ServerHandle,
    running: actix_web::rt::task::JoinHandle<std::io::Result<()>>,
    _database: TestDatabase,
}

impl TestApp {
    /// Builds and starts the application over `database` with two workers, `env` set on
    /// top (later entries win).
    pub(crate) async fn spawn(database: TestDatabase, env: &[(&str, &str)]) -> Self {
        let mut all = vec![
            ("DATABASE_URL", database.url()),
            ("PORT", "0"),
            ("APP__SERVER__WORKERS", "2"),
        ];
        all.extend_from_slice(env);
        let application = Application::build(&load_settings(&all)).await.unwrap();
        let address = format!("http://127.0.0.1:{}", application.port());
        let server = application.handle();
        let running = actix_web::rt::spawn(application.run_until_stopped());
        Self {
            address,
            client: awc::Client::default(),
            server,
            running,
            _database: database,
        }
    }

    /// `http://127.0.0.1:<port>`.
    pub(crate) fn address(&self) -> &str {
        &self.address
    }

    /// Stops the server, closes its connections and checks it ended cleanly. A server left
    /// running when the test process exits races libpq's (OpenSSL's) exit-time cleanup
    /// and can crash it.
    pub(crate) async fn stop(self) {
        self.server.stop(true).await;
        self.running.await.unwrap().unwrap();
    }

    /// POSTs `body` as JSON (or nothing); answers the status and the JSON answer.
    pub(crate) async fn post(&self, path: &str, body: Option<Value>) -> (u16, Value) {
        self.send("POST", path, body, None).await
    }

    /// GETs `path`; answers the status and the JSON answer.
    pub(crate) async fn get(&self, path: &str) -> (u16, Value) {
        self.send("GET", path, None, None).await
    }

    /// Sends `method path` with `body` as JSON (or nothing) and, when given, `token` as
    /// the `Hold-Token` header; answers the status and the JSON answer.
    pub(crate) async fn send(
        &self,
        method: &str,
        path: &str,
        body: Option<Value>,
        token: Option<&str>,
    ) -> (u16, Value) {
        let method = awc::http::Method::from_bytes(method.as_bytes()).unwrap();
        let mut request = self
            .client
            .request(method, format!("{}{path}", self.address));
        if let Some(token) = token {
            request = request.insert_header((HOLD_TOKEN, token));
        }
        let mut response = match body {
            Some(body) => request.send_json(&body).await.unwrap(),
            None => request.send().await.unwrap(),
        };
        let json = response.json::<Value>().await.unwrap();
        (response.status().as_u16(), json)
    }
}

/// The header a request proves it owns a hold with.
pub(crate) const HOLD_TOKEN: &str = "Hold-Token";

/// The token a 201 answer to `POST /api/tickets/{id}/reservation` or `POST /api/holds`
/// handed out.
pub(crate) fn token_of(created: &Value) -> String {
    created["hold_token"]
        .as_str()
        .or_else(|| created["hold"]["hold_token"].as_str())
        .unwrap_or_else(|| panic!("no hold token in {created}"))
        .to_owned()
}
