//! The load driver: client threads reserving, confirming and reading random tickets, and
//! holding and confirming two or three at once, through one or more services, recording
//! every request with its answer (or transport error) and its timing, for the checker and
//! for the scenarios' timing assertions.
//!
//! Each client keeps the token of every hold it was answered and sends it to confirm that
//! hold. Now and then it confirms a ticket or a hold that is not its own, without a token
//! or with a wrong one (forged, or the token of another of its holds): those must be
//! refused and change nothing, which the checker verifies.

use std::collections::BTreeMap;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use serde_json::{json, Value};

use crate::http::{self, Answer, Connection};

/// No load runs longer than this, whatever the scenario forgets.
const MAX_DURATION: Duration = Duration::from_secs(120);
/// Nor sends more requests per client.
const MAX_REQUESTS_PER_CLIENT: usize = 50_000;
/// Holds a client remembers of each kind, the newest (older ones have lapsed by then).
const REMEMBERED_HOLDS: usize = 32;

/// What a request asked for. Releases are left out: a released hold ends before its
/// `expires_at`, which the checker could not tell from an overlap.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub(crate) enum Op {
    /// `POST /api/tickets/{id}/reservation`.
    Reserve,
    /// `POST /api/tickets/{id}/confirm`.
    Confirm,
    /// `GET /api/tickets/{id}`.
    Read,
    /// `POST /api/holds {"ticket_ids": [..]}`: two or three tickets at once.
    HoldTickets,
    /// `POST /api/holds/{hold_id}/confirm`.
    ConfirmHold,
}

/// One request and what came back.
#[derive(Debug, Clone)]
pub(crate) struct Record {
    pub(crate) port: u16,
    pub(crate) op: Op,
    /// The ticket asked about; for a hold request, the first of `tickets`.
    pub(crate) ticket: i64,
    /// The tickets a hold request listed, or those of the hold a hold confirm is for (as
    /// its 201 answered them); `[ticket]` otherwise.
    pub(crate) tickets: Vec<i64>,
    /// The hold a hold confirm is for.
    pub(crate) hold_id: Option<String>,
    /// The `Hold-Token` sent, if any.
    pub(crate) token: Option<String>,
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

/// Relative weights of the requests.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Mix {
    pub(crate) reserve: usize,
    pub(crate) confirm: usize,
    pub(crate) read: usize,
    /// Holds of two or three tickets.
    pub(crate) hold: usize,
    /// Confirms of such holds (a client with none places one instead).
    pub(crate) confirm_hold: usize,
}

impl Default for Mix {
    fn default() -> Self {
        Self {
            reserve: 5,
            confirm: 4,
            read: 1,
            hold: 2,
            confirm_hold: 2,
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

/// A hold a client was answered 201 for.
#[derive(Debug, Clone)]
struct Held {
    hold_id: String,
    token: String,
    tickets: Vec<i64>,
}

/// The holds one client placed, newest last: single tickets (confirmed one at a time)
/// and holds of several (confirmed together, never ticket by ticket, so that a hold's
/// tickets are sold at one instant).
#[derive(Debug, Default)]
struct Holdings {
    singles: Vec<Held>,
    groups: Vec<Held>,
}

impl Holdings {
    fn remember(list: &mut Vec<Held>, held: Held) {
        list.retain(|old| old.tickets != held.tickets);
        list.push(held);
        if list.len() > REMEMBERED_HOLDS {
            list.remove(0);
        }
    }

    fn single(&self, ticket: i64) -> Option<&Held> {
        self.singles.iter().find(|held| held.tickets == [ticket])
    }

    /// A real token of one of this client's holds that covers none of `tickets`: the
    /// most convincing wrong token.
    fn token_not_for(&self, tickets: &[i64], random: &mut Random) -> Option<String> {
        let others: Vec<&Held> = self
            .singles
            .iter()
            .chain(&self.groups)
            .filter(|held| !held.tickets.iter().any(|t| tickets.contains(t)))
            .collect();
        (!others.is_empty()).then(|| others[random.below(others.len())].token.clone())
    }
}

/// One request to send.
struct Request {
    op: Op,
    method: &'static str,
    path: String,
    body: Option<String>,
    tickets: Vec<i64>,
    hold_id: Option<String>,
    token: Option<String>,
}

fn run_client(client: usize, plan: &Plan, stop: &AtomicBool, started: Instant) -> Vec<Record> {
    let port = plan.ports[client % plan.ports.len()];
    let mut connection = Connection::new(port);
    let mut random = Random::new(client as u64);
    let mut holdings = Holdings::default();
    let mut records = Vec::new();
    while !stop.load(Ordering::SeqCst)
        && started.elapsed() < MAX_DURATION
        && records.len() < MAX_REQUESTS_PER_CLIENT
    {
        let request = next_request(plan, &holdings, &mut random);
        let sent = Instant::now();
        let outcome = if plan.fresh_connections {
            http::request_with_token(
                port,
                request.method,
                &request.path,
                request.body.as_deref(),
                request.token.as_deref(),
            )
        } else {
            connection.send_with_token(
                request.method,
                &request.path,
                request.body.as_deref(),
                request.token.as_deref(),
            )
        };
        let elapsed = sent.elapsed();
        if let Ok(answer) = &outcome {
            learn(&mut holdings, &request, answer, &mut random);
        }
        records.push(Record {
            port,
            op: request.op,
            ticket: request.tickets[0],
            tickets: request.tickets,
            hold_id: request.hold_id,
            token: request.token,
            sent_at: sent.duration_since(started),
            elapsed,
            outcome: outcome.map_err(|error| error.to_string()),
        });
        std::thread::sleep(plan.pause);
    }
    records
}

fn next_request(plan: &Plan, holdings: &Holdings, random: &mut Random) -> Request {
    let mix = plan.mix;
    let weights = [
        (Op::Reserve, mix.reserve),
        (Op::Confirm, mix.confirm),
        (Op::Read, mix.read),
        (Op::HoldTickets, mix.hold),
        (Op::ConfirmHold, mix.confirm_hold),
    ];
    let mut draw = random.below(weights.iter().map(|(_, weight)| weight).sum());
    let mut op = Op::Read;
    for (candidate, weight) in weights {
        if draw < weight {
            op = candidate;
            break;
        }
        draw -= weight;
    }
    let ticket = plan.tickets[random.below(plan.tickets.len())];
    let on_ticket = |op, method, path: String, token| Request {
        op,
        method,
        path,
        body: None,
        tickets: vec![ticket],
        hold_id: None,
        token,
    };
    match op {
        Op::Reserve => on_ticket(
            op,
            "POST",
            format!("/api/tickets/{ticket}/reservation"),
            None,
        ),
        Op::Read => on_ticket(op, "GET", format!("/api/tickets/{ticket}"), None),
        Op::Confirm => {
            // Mostly one of this client's own holds; otherwise a random ticket, which it
            // confirms with its token if it holds it, and else without one or with a
            // wrong one.
            let own = match holdings.singles.len() {
                0 => None,
                held if random.below(4) != 0 => Some(&holdings.singles[random.below(held)]),
                _ => holdings.single(ticket),
            };
            match own {
                Some(held) => {
                    let ticket = held.tickets[0];
                    Request {
                        tickets: vec![ticket],
                        ..on_ticket(
                            op,
                            "POST",
                            format!("/api/tickets/{ticket}/confirm"),
                            Some(held.token.clone()),
                        )
                    }
                }
                None => on_ticket(
                    op,
                    "POST",
                    format!("/api/tickets/{ticket}/confirm"),
                    not_the_token(holdings, &[ticket], random),
                ),
            }
        }
        Op::ConfirmHold if !holdings.groups.is_empty() => {
            let held = &holdings.groups[random.below(holdings.groups.len())];
            // One in six tries someone else's way in: no token, or a wrong one.
            let token = if random.below(6) == 0 {
                not_the_token(holdings, &held.tickets, random)
            } else {
                Some(held.token.clone())
            };
            Request {
                op,
                method: "POST",
                path: format!("/api/holds/{}/confirm", held.hold_id),
                body: None,
                tickets: held.tickets.clone(),
                hold_id: Some(held.hold_id.clone()),
                token,
            }
        }
        Op::HoldTickets | Op::ConfirmHold => {
            let mut tickets = vec![ticket];
            let wanted = 2 + random.below(2);
            while tickets.len() < wanted.min(plan.tickets.len()) {
                let more = plan.tickets[random.below(plan.tickets.len())];
                if !tickets.contains(&more) {
                    tickets.push(more);
                }
            }
            Request {
                op: Op::HoldTickets,
                method: "POST",
                path: "/api/holds".to_owned(),
                body: Some(json!({ "ticket_ids": tickets }).to_string()),
                tickets,
                hold_id: None,
                token: None,
            }
        }
    }
}

/// What a client that does not hold `tickets` sends: no token, a forged one, or the
/// token of another of its holds.
fn not_the_token(holdings: &Holdings, tickets: &[i64], random: &mut Random) -> Option<String> {
    match random.below(3) {
        0 => None,
        1 => holdings
            .token_not_for(tickets, random)
            .or_else(|| Some(forged_token(random))),
        _ => Some(forged_token(random)),
    }
}

/// 43 URL-safe characters: what a minted token looks like, and none is.
fn forged_token(random: &mut Random) -> String {
    const ALPHABET: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
    (0..43)
        .map(|_| char::from(ALPHABET[random.below(ALPHABET.len())]))
        .collect()
}

/// Keeps the holds a client was answered, and forgets those it is done with.
fn learn(holdings: &mut Holdings, request: &Request, answer: &Answer, random: &mut Random) {
    let body = &answer.body;
    match (request.op, answer.status) {
        (Op::Reserve, 201) => {
            if let Some(held) = held(&body["hold"], vec![request.tickets[0]]) {
                Holdings::remember(&mut holdings.singles, held);
            }
        }
        (Op::HoldTickets, 201) => {
            let tickets = body["tickets"]
                .as_array()
                .map(|tickets| tickets.iter().filter_map(|t| t["id"].as_i64()).collect())
                .unwrap_or_default();
            if let Some(held) = held(body, tickets) {
                Holdings::remember(&mut holdings.groups, held);
            }
        }
        (Op::Confirm | Op::ConfirmHold, status) => {
            let list = if request.op == Op::Confirm {
                &mut holdings.singles
            } else {
                &mut holdings.groups
            };
            let Some(position) = list.iter().position(|held| {
                held.tickets == request.tickets && Some(&held.token) == request.token.as_ref()
            }) else {
                return;
            };
            // Sold (kept now and then, to confirm again), or refused for good.
            let done = match status {
                200 => random.below(4) != 0,
                401 | 403 | 404 | 409 => true,
                _ => false,
            };
            if done {
                list.remove(position);
            }
        }
        _ => {}
    }
}

/// The hold an answer created: its id and token (`hold` is the hold object).
fn held(hold: &Value, tickets: Vec<i64>) -> Option<Held> {
    Some(Held {
        hold_id: hold["hold_id"].as_str()?.to_owned(),
        token: hold["hold_token"].as_str()?.to_owned(),
        tickets,
    })
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
