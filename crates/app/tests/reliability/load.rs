//! The load driver: client threads reserving, confirming and reading random tickets
//! through one or more services, recording every request with its answer (or transport
//! error) and its timing, for the checker and for the scenarios' timing assertions.

use std::collections::BTreeMap;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use serde_json::json;

use crate::http::{self, Answer, Connection};

/// No load runs longer than this, whatever the scenario forgets.
const MAX_DURATION: Duration = Duration::from_secs(120);
/// Nor sends more requests per client.
const MAX_REQUESTS_PER_CLIENT: usize = 50_000;

/// What a request asked for. Releases are left out: a released hold ends before its
/// `expires_at`, which the checker could not tell from an overlap.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub(crate) enum Op {
    Reserve,
    Confirm,
    Read,
}

/// One request and what came back.
#[derive(Debug, Clone)]
pub(crate) struct Record {
    pub(crate) port: u16,
    pub(crate) op: Op,
    pub(crate) ticket: i64,
    /// When it was sent, since the load started.
    pub(crate) sent_at: Duration,
    pub(crate) elapsed: Duration,
    /// The answer, or why none came (refused, reset, timed out).
    pub(crate) outcome: Result<Answer, String>,
}

impl Record {
    pub(crate) fn status(&self) -> Option<u16> {
        self.outcome.as_ref().ok().map(|answer| answer.status)
    }

    pub(crate) fn answered_at(&self) -> Duration {
        self.sent_at + self.elapsed
    }
}

/// Client threads at work until [`Load::finish`].
#[derive(Debug)]
pub(crate) struct Load {
    started: Instant,
    stop: Arc<AtomicBool>,
    clients: Vec<JoinHandle<Vec<Record>>>,
}

/// What the clients do.
#[derive(Debug, Clone)]
pub(crate) struct Plan {
    /// Services to spread the clients over (client `i` talks to `ports[i % len]`).
    pub(crate) ports: Vec<u16>,
    pub(crate) tickets: Vec<i64>,
    pub(crate) clients: usize,
    /// Between two requests of one client, so the service is busy, not saturated.
    pub(crate) pause: Duration,
    /// A fresh connection per request instead of keep-alive.
    pub(crate) fresh_connections: bool,
    /// How often each request is chosen, relative to the others.
    pub(crate) mix: Mix,
}

/// Relative weights of reserve, confirm and read requests.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Mix {
    pub(crate) reserve: usize,
    pub(crate) confirm: usize,
    pub(crate) read: usize,
}

impl Default for Mix {
    fn default() -> Self {
        Self {
            reserve: 5,
            confirm: 4,
            read: 1,
        }
    }
}

impl Load {
    pub(crate) fn start(plan: Plan) -> Self {
        let started = Instant::now();
        let stop = Arc::new(AtomicBool::new(false));
        let plan = Arc::new(plan);
        let clients = (0..plan.clients)
            .map(|client| {
                let plan = Arc::clone(&plan);
                let stop = Arc::clone(&stop);
                std::thread::spawn(move || run_client(client, &plan, &stop, started))
            })
            .collect();
        Self {
            started,
            stop,
            clients,
        }
    }

    /// Time since the load started, on the records' clock.
    pub(crate) fn now(&self) -> Duration {
        self.started.elapsed()
    }

    /// Stops the clients (each finishes its current request) and answers every record,
    /// in the order they were sent.
    pub(crate) fn finish(self) -> Vec<Record> {
        self.stop.store(true, Ordering::SeqCst);
        let mut records: Vec<Record> = self
            .clients
            .into_iter()
            .flat_map(|client| client.join().unwrap())
            .collect();
        records.sort_by_key(|record| record.sent_at);
        records
    }
}

fn run_client(client: usize, plan: &Plan, stop: &AtomicBool, started: Instant) -> Vec<Record> {
    let port = plan.ports[client % plan.ports.len()];
    let mut connection = Connection::new(port);
    let mut random = Random::new(client as u64);
    let mut records = Vec::new();
    while !stop.load(Ordering::SeqCst)
        && started.elapsed() < MAX_DURATION
        && records.len() < MAX_REQUESTS_PER_CLIENT
    {
        let ticket = plan.tickets[random.below(plan.tickets.len())];
        let mix = plan.mix;
        let draw = random.below(mix.reserve + mix.confirm + mix.read);
        let op = if draw < mix.reserve {
            Op::Reserve
        } else if draw < mix.reserve + mix.confirm {
            Op::Confirm
        } else {
            Op::Read
        };
        let (method, path) = match op {
            Op::Reserve => ("POST", format!("/api/tickets/{ticket}/reservation")),
            Op::Confirm => ("POST", format!("/api/tickets/{ticket}/confirm")),
            Op::Read => ("GET", format!("/api/tickets/{ticket}")),
        };
        let sent = Instant::now();
        let outcome = if plan.fresh_connections {
            http::request(port, method, &path, None)
        } else {
            connection.send(method, &path, None)
        };
        records.push(Record {
            port,
            op,
            ticket,
            sent_at: sent.duration_since(started),
            elapsed: sent.elapsed(),
            outcome: outcome.map_err(|error| error.to_string()),
        });
        std::thread::sleep(plan.pause);
    }
    records
}

/// Creates `count` tickets through the service and answers their ids.
pub(crate) fn create_tickets(port: u16, count: usize) -> Vec<i64> {
    let mut connection = Connection::new(port);
    (0..count)
        .map(|seat| {
            let body = json!({"event_name": "Reliability Night", "seat": format!("R-{seat}")});
            let answer = connection
                .send("POST", "/api/tickets", Some(&body.to_string()))
                .unwrap();
            assert_eq!(answer.status, 201, "creating a ticket: {answer:?}");
            answer.body["id"].as_i64().unwrap()
        })
        .collect()
}

/// How many records had each status (0 for transport errors).
pub(crate) fn status_counts(records: &[Record]) -> BTreeMap<u16, usize> {
    let mut counts = BTreeMap::new();
    for record in records {
        *counts.entry(record.status().unwrap_or(0)).or_insert(0) += 1;
    }
    counts
}

/// Records answered with a server error other than 503, or not answered at all.
pub(crate) fn failures(records: &[Record]) -> Vec<&Record> {
    records
        .iter()
        .filter(|record| match &record.outcome {
            Ok(answer) => answer.status >= 500 && answer.status != 503,
            Err(_) => true,
        })
        .collect()
}

/// A small deterministic generator (xorshift), so a failing run can be reasoned about.
#[derive(Debug)]
struct Random(u64);

impl Random {
    fn new(seed: u64) -> Self {
        Self(seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1)
    }

    fn below(&mut self, bound: usize) -> usize {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        (self.0 % bound as u64) as usize
    }
}
