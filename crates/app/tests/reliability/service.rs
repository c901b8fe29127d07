//! The real `ticketing` binary as a child process on a free port of 127.0.0.1, with its
//! configuration from environment variables and its log in a file (printed when the
//! scenario fails). Killed on drop.

use std::fs::{self, File};
use std::path::PathBuf;
use std::process::{Child, Command, ExitStatus, Stdio};
use std::time::{Duration, Instant};

use crate::cluster::{free_port, signal, tail};
use crate::http;

/// A running `ticketing serve`.
#[derive(Debug)]
pub(crate) struct Service {
    child: Child,
    port: u16,
    log: PathBuf,
}

/// Environment for a service on `database_url`, before the scenario's own settings.
pub(crate) fn base_env(database_url: &str) -> Vec<(String, String)> {
    [
        ("DATABASE_URL", database_url),
        ("RESERVATION_TTL_SECONDS", "60"),
        ("RUST_LOG", "info"),
        ("NO_COLOR", "1"),
        ("APP__SERVER__WORKERS", "2"),
    ]
    .map(|(key, value)| (key.to_owned(), value.to_owned()))
    .to_vec()
}

/// `base` with `overrides` set (later entries win).
pub(crate) fn with(base: &[(String, String)], overrides: &[(&str, &str)]) -> Vec<(String, String)> {
    let mut env = base.to_vec();
    for (key, value) in overrides {
        env.retain(|(existing, _)| existing != key);
        env.push(((*key).to_owned(), (*value).to_owned()));
    }
    env
}

impl Service {
    /// Spawns the binary with `env` on a free port; does not wait for it to be ready.
    pub(crate) fn spawn(name: &str, log_dir: &std::path::Path, env: &[(String, String)]) -> Self {
        let port = free_port();
        let log = log_dir.join(format!("{name}.log"));
        let output = File::create(&log).unwrap();
        let mut command = Command::new(env!("CARGO_BIN_EXE_ticketing"));
        command
            .arg("serve")
            .env_clear()
            .env(
                "APP_CONFIG_DIR",
                concat!(env!("CARGO_MANIFEST_DIR"), "/../../config"),
            )
            .env("PORT", port.to_string())
            .envs(env.iter().map(|(key, value)| (key, value)))
            .stdin(Stdio::null())
            .stdout(output.try_clone().unwrap())
            .stderr(output);
        let child = command.spawn().unwrap();
        Self { child, port, log }
    }

    /// Spawns the binary and waits until `/api/health` answers 200.
    pub(crate) fn start(name: &str, log_dir: &std::path::Path, env: &[(String, String)]) -> Self {
        let mut service = Self::spawn(name, log_dir, env);
        service.wait_ready(Duration::from_secs(30));
        service
    }

    pub(crate) fn port(&self) -> u16 {
        self.port
    }

    pub(crate) fn pid(&self) -> u32 {
        self.child.id()
    }

    /// Waits until `/api/health` answers 200; panics with the log after `timeout`.
    pub(crate) fn wait_ready(&mut self, timeout: Duration) {
        let deadline = Instant::now() + timeout;
        while Instant::now() < deadline {
            if let Some(status) = self.child.try_wait().unwrap() {
                panic!("the service exited with {status} before it was ready");
            }
            let answer = http::request(self.port, "GET", "/api/health", None);
            if matches!(answer, Ok(ref answer) if answer.status == 200) {
                return;
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        panic!("the service did not become ready within {timeout:?}");
    }

    /// Its resident memory in KiB (`VmRSS`).
    pub(crate) fn rss_kib(&self) -> u64 {
        rss_kib(self.child.id())
    }

    /// Its open file descriptors.
    pub(crate) fn open_files(&self) -> usize {
        fs::read_dir(format!("/proc/{}/fd", self.child.id()))
            .map(|entries| entries.count())
            .unwrap_or(0)
    }

    /// Sends a signal by name (`TERM`, `KILL`) to the service.
    pub(crate) fn signal(&self, name: &str) {
        assert!(
            signal(&[self.child.id()], name),
            "kill -{name} {}",
            self.child.id()
        );
    }

    /// Waits up to `timeout` for the process to exit.
    pub(crate) fn wait_exit(&mut self, timeout: Duration) -> Option<ExitStatus> {
        let deadline = Instant::now() + timeout;
        loop {
            if let Some(status) = self.child.try_wait().unwrap() {
                return Some(status);
            }
            if Instant::now() >= deadline {
                return None;
            }
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    pub(crate) fn log(&self) -> String {
        fs::read_to_string(&self.log).unwrap_or_default()
    }

    /// Lines of the log that contain `needle`.
    pub(crate) fn log_lines_with(&self, needle: &str) -> usize {
        self.log()
            .lines()
            .filter(|line| line.contains(needle))
            .count()
    }
}

impl Drop for Service {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
        if std::thread::panicking() {
            eprintln!(
                "--- service log ({}), last lines:\n{}",
                self.log.display(),
                tail(&self.log, 60)
            );
        }
    }
}

/// The resident memory of process `pid` in KiB (`VmRSS`), 0 once it is gone.
pub(crate) fn rss_kib(pid: u32) -> u64 {
    fs::read_to_string(format!("/proc/{pid}/status"))
        .unwrap_or_default()
        .lines()
        .find_map(|line| line.strip_prefix("VmRSS:"))
        .and_then(|value| value.split_whitespace().next()?.parse().ok())
        .unwrap_or(0)
}

/// Samples a process's resident memory every 100 ms until dropped; answers the peak.
#[derive(Debug)]
pub(crate) struct MemoryWatch {
    stop: std::sync::Arc<std::sync::atomic::AtomicBool>,
    sampler: std::thread::JoinHandle<u64>,
}

impl MemoryWatch {
    pub(crate) fn start(pid: u32) -> Self {
        let stop = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
        let stopped = std::sync::Arc::clone(&stop);
        let sampler = std::thread::spawn(move || {
            let mut peak = 0;
            let deadline = Instant::now() + Duration::from_secs(300);
            while !stopped.load(std::sync::atomic::Ordering::SeqCst) && Instant::now() < deadline {
                peak = peak.max(rss_kib(pid));
                std::thread::sleep(Duration::from_millis(100));
            }
            peak
        });
        Self { stop, sampler }
    }

    /// The highest resident memory seen, in KiB.
    pub(crate) fn peak_kib(self) -> u64 {
        self.stop.store(true, std::sync::atomic::Ordering::SeqCst);
        self.sampler.join().unwrap()
    }
}
