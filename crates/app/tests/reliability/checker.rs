//! The checker: every acknowledged answer (201 hold, 200 confirm, and any answer that
//! reports a sale) against the rows in the database at the end, and the invariants: at
//! most one active hold per ticket at any time, a sale is never lost or changed, and only
//! a hold's holder sells it. Answers that are not acknowledgements (503, transport
//! errors) may or may not have taken effect; they are only checked through the rows they
//! left.
//!
//! An acknowledged hold is checked ticket by ticket: each of its tickets was answered
//! TENTATIVE under the hold's `created_at`/`expires_at`, overlaps no other hold on that
//! ticket, and a 200 confirm of the hold means every one of its tickets is CONFIRMED in
//! the database under that hold, at one `confirmed_at`. Ownership is judged by the token
//! each request carried: a confirm without the token of the hold it confirmed must never
//! be answered 200, and must never have sold anything.

use std::collections::{BTreeMap, BTreeSet, HashMap};

use serde_json::Value;

use crate::cluster::Cluster;
use crate::load::{Op, Record};

/// A ticket's reservation as stored; timestamps in the API's format
/// (`2026-11-26T12:00:00.000000Z`), which sorts as it reads.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(crate) struct Row {
    pub(crate) status: Option<String>,
    pub(crate) created_at: Option<String>,
    pub(crate) expires_at: Option<String>,
    pub(crate) confirmed_at: Option<String>,
    /// The hold the ticket carries (a UUID), while it carries a reservation.
    pub(crate) hold_id: Option<String>,
}

/// Every ticket's row, read with psql.
pub(crate) fn rows(cluster: &Cluster, database: &str) -> BTreeMap<i64, Row> {
    let format = r#"'YYYY-MM-DD"T"HH24:MI:SS.US"Z"'"#;
    let column = |name: &str| format!("coalesce(to_char({name} AT TIME ZONE 'UTC', {format}), '')");
    let sql = format!(
        "SELECT id, coalesce(reservation_status, ''), {}, {}, {}, coalesce(hold_id::text, '') \
         FROM tickets ORDER BY id",
        column("reservation_created_at"),
        column("reservation_expires_at"),
        column("reservation_confirmed_at"),
    );
    let some = |text: &str| (!text.is_empty()).then(|| text.to_owned());
    cluster
        .psql(database, &sql)
        .lines()
        .map(|line| {
            let fields: Vec<&str> = line.split('|').collect();
            assert_eq!(fields.len(), 6, "unexpected psql line {line:?}");
            let row = Row {
                status: some(fields[1]),
                created_at: some(fields[2]),
                expires_at: some(fields[3]),
                confirmed_at: some(fields[4]),
                hold_id: some(fields[5]),
            };
            (fields[0].parse().unwrap(), row)
        })
        .collect()
}

/// What the checker saw, for the scenario's own assertions and its report.
#[derive(Debug, Default)]
pub(crate) struct Summary {
    /// 201 answers placing a hold: one ticket or several.
    pub(crate) holds: usize,
    /// Of those, holds of several tickets.
    pub(crate) multi_holds: usize,
    /// 200 answers to confirm: a ticket or a hold.
    pub(crate) confirms: usize,
    /// Of those, confirms of a hold of several tickets.
    pub(crate) hold_confirms: usize,
    /// Tickets sold, in the database.
    pub(crate) sold: usize,
    /// Distinct holds seen in answers and rows, counted per ticket.
    pub(crate) distinct_holds: usize,
    /// Confirms sent without the token of the hold they name (none, or a wrong one).
    pub(crate) unowned_confirms: usize,
    /// Answers to those: 401 `HOLD_TOKEN_REQUIRED`, 403 `HOLD_TOKEN_INVALID`.
    pub(crate) refused_401: usize,
    pub(crate) refused_403: usize,
}

/// Checks `records` against `rows`; panics listing every violation found.
pub(crate) fn check(records: &[Record], rows: &BTreeMap<i64, Row>) -> Summary {
    let (summary, violations) = examine(records, rows);
    assert!(
        violations.is_empty(),
        "{} violations of the invariants, first ones:\n{}",
        violations.len(),
        violations
            .iter()
            .take(20)
            .cloned()
            .collect::<Vec<_>>()
            .join("\n")
    );
    summary
}

/// A hold a 201 answered: who holds it (its token), what, and for how long.
#[derive(Debug, Clone)]
struct Acknowledged {
    hold_id: String,
    token: String,
    /// Ascending.
    tickets: Vec<i64>,
    created_at: String,
    expires_at: String,
    /// How it was asked for, for the report.
    asked: String,
}

/// Refusals any request may meet whoever sends it: what a read shows anyway.
const VISIBLE_REFUSALS: [&str; 2] = ["NO_ACTIVE_RESERVATION", "RESERVATION_EXPIRED"];

/// Every violation of the invariants in `records` and `rows`, and what was seen.
pub(crate) fn examine(records: &[Record], rows: &BTreeMap<i64, Row>) -> (Summary, Vec<String>) {
    let mut violations = Vec::new();
    let mut summary = Summary::default();

    // The acknowledged holds, by token and by id.
    let mut acknowledged: Vec<Acknowledged> = Vec::new();
    for record in records {
        let Ok(answer) = &record.outcome else {
            continue;
        };
        if answer.status != 201 {
            continue;
        }
        let found = match record.op {
            Op::Reserve => reserved_hold(record, &answer.body),
            Op::HoldTickets => placed_hold(record, &answer.body),
            _ => continue,
        };
        match found {
            Ok(mut hold) => {
                hold.asked = format!(
                    "{:?} sent at {:?} to port {}, answered after {:?}",
                    record.op, record.sent_at, record.port, record.elapsed
                );
                summary.holds += 1;
                if record.op == Op::HoldTickets {
                    summary.multi_holds += 1;
                }
                acknowledged.push(hold);
            }
            Err(why) => violations.push(format!(
                "ticket {}: 201 {why}: {}",
                record.ticket, answer.body
            )),
        }
    }
    let mut by_token: HashMap<&str, &Acknowledged> = HashMap::new();
    let mut by_id: HashMap<&str, &Acknowledged> = HashMap::new();
    for hold in &acknowledged {
        if by_token.insert(&hold.token, hold).is_some() {
            violations.push(format!(
                "two holds answered with one token ({})",
                hold.hold_id
            ));
        }
        if by_id.insert(&hold.hold_id, hold).is_some() {
            violations.push(format!("two holds answered with the id {}", hold.hold_id));
        }
    }

    let mut holds: BTreeMap<i64, BTreeSet<(String, String)>> = BTreeMap::new();
    // Where each hold of a ticket (by its start) was first seen, for the report.
    let mut seen: BTreeMap<(i64, String), String> = BTreeMap::new();
    let mut acknowledged_holds: BTreeMap<i64, Vec<String>> = BTreeMap::new();
    let mut sales: BTreeMap<i64, BTreeSet<String>> = BTreeMap::new();
    for hold in &acknowledged {
        for ticket in &hold.tickets {
            seen.entry((*ticket, hold.created_at.clone()))
                .or_insert_with(|| {
                    format!("answered 201 as hold {}, {}", hold.hold_id, hold.asked)
                });
            acknowledged_holds
                .entry(*ticket)
                .or_default()
                .push(hold.created_at.clone());
            holds
                .entry(*ticket)
                .or_default()
                .insert((hold.created_at.clone(), hold.expires_at.clone()));
        }
    }
    // Per hold (and ticket), whether a request carrying its token may have sold it: a
    // confirm answered 200, or whose outcome is unknown.
    let mut may_have_sold: BTreeSet<(String, i64)> = BTreeSet::new();

    for record in records {
        let ticket = record.ticket;
        let Ok(answer) = &record.outcome else {
            if let Some(hold) = confirmed_hold(record, &by_token, &by_id) {
                for ticket in &record.tickets {
                    may_have_sold.insert((hold.hold_id.clone(), *ticket));
                }
            }
            continue;
        };
        let body = &answer.body;
        let code = answer.error_code();
        if answer.status == 500 {
            violations.push(format!("ticket {ticket}: 500 answer {body}"));
        }
        // A token is answered once, by the 201 that creates its hold.
        let creation = answer.status == 201;
        if !creation && body.to_string().contains("hold_token") {
            violations.push(format!("ticket {ticket}: a token answered again {body}"));
        }
        if let Some(token) = &record.token {
            if body.to_string().contains(token.as_str()) {
                violations.push(format!("ticket {ticket}: the token sent was echoed {body}"));
            }
        }

        let expected = match record.op {
            Op::Reserve => matches!(
                (answer.status, code),
                (201, _)
                    | (
                        409,
                        Some("RESERVATION_ALREADY_ACTIVE" | "TICKET_ALREADY_CONFIRMED")
                    )
            ),
            Op::HoldTickets => {
                answer.status == 201 || held_refusal(record, answer, &mut violations)
            }
            Op::Read => answer.status == 200,
            Op::Confirm | Op::ConfirmHold => {
                let owner = confirmed_hold(record, &by_token, &by_id);
                if matches!(answer.status, 200 | 500 | 503) {
                    if let Some(hold) = owner {
                        for ticket in &record.tickets {
                            may_have_sold.insert((hold.hold_id.clone(), *ticket));
                        }
                    }
                }
                let unowned = owner.is_none();
                if unowned {
                    summary.unowned_confirms += 1;
                    match answer.status {
                        401 => summary.refused_401 += 1,
                        403 => summary.refused_403 += 1,
                        _ => {}
                    }
                }
                let not_found = record.op == Op::ConfirmHold && code == Some("HOLD_NOT_FOUND");
                let visible =
                    answer.status == 409 && code.is_some_and(|c| VISIBLE_REFUSALS.contains(&c));
                match (answer.status, &record.token, unowned) {
                    (200, _, false) => true,
                    (200, _, true) => {
                        violations.push(format!(
                            "ticket {ticket}: 200 confirm not by the holder (token {:?}) {body}",
                            record.token.as_deref().map(redact)
                        ));
                        true
                    }
                    (401, None, _) => code == Some("HOLD_TOKEN_REQUIRED"),
                    // A holder's own token is refused once the ticket was held again.
                    (403, Some(_), _) => code == Some("HOLD_TOKEN_INVALID"),
                    (404 | 409, _, _) => not_found || visible,
                    _ => false,
                }
            }
        };
        if !expected && answer.status != 503 && answer.status != 500 {
            violations.push(format!(
                "ticket {ticket}: {:?} with token {:?} answered {} {body}",
                record.op,
                record.token.as_deref().map(redact),
                answer.status
            ));
        }

        let acknowledged = matches!(
            (record.op, answer.status),
            (Op::Reserve | Op::HoldTickets, 201) | (Op::Confirm | Op::ConfirmHold | Op::Read, 200)
        );
        if acknowledged {
            if matches!(record.op, Op::Confirm | Op::ConfirmHold) {
                summary.confirms += 1;
                if record.op == Op::ConfirmHold {
                    summary.hold_confirms += 1;
                }
                let owner = confirmed_hold(record, &by_token, &by_id);
                confirmed(record, body, rows, owner, &mut violations);
            }
            for shown in tickets_in(body) {
                let Some(id) = shown["id"].as_i64() else {
                    violations.push(format!("ticket {ticket}: a ticket without an id {body}"));
                    continue;
                };
                if shown.get("hold_id").is_some() || shown.get("hold_token").is_some() {
                    violations.push(format!("ticket {id}: the ticket shows its hold {shown}"));
                }
                // Any answer showing a hold shows one that was stored.
                if let Some(hold) = hold_of(shown) {
                    seen.entry((id, hold.0.clone())).or_insert_with(|| {
                        format!(
                            "answered {} to {:?} sent at {:?} to port {}, after {:?}",
                            answer.status, record.op, record.sent_at, record.port, record.elapsed
                        )
                    });
                    holds.entry(id).or_default().insert(hold);
                }
                if text(shown, "reservation_status") == Some("CONFIRMED") {
                    if let Some(confirmed_at) = text(shown, "reservation_confirmed_at") {
                        sales.entry(id).or_default().insert(confirmed_at.to_owned());
                    }
                }
            }
        }
        // A refusal that names the sale also acknowledges it.
        if code == Some("TICKET_ALREADY_CONFIRMED") {
            if let Some(confirmed_at) = body["details"]["confirmed_at"].as_str() {
                sales
                    .entry(ticket)
                    .or_default()
                    .insert(confirmed_at.to_owned());
            }
        }
    }

    for (ticket, row) in rows {
        if let (Some(created), Some(expires)) = (&row.created_at, &row.expires_at) {
            seen.entry((*ticket, created.clone()))
                .or_insert_with(|| format!("in the database as {row:?}"));
            holds
                .entry(*ticket)
                .or_default()
                .insert((created.clone(), expires.clone()));
        }
        let stored_hold = row.hold_id.as_deref().and_then(|id| by_id.get(id));
        if let Some(hold) = stored_hold {
            let answered = (Some(&hold.created_at), Some(&hold.expires_at));
            if !hold.tickets.contains(ticket)
                || (row.created_at.as_ref(), row.expires_at.as_ref()) != answered
            {
                violations.push(format!(
                    "ticket {ticket}: the database has hold {} as {row:?}, answered as {hold:?}",
                    hold.hold_id
                ));
            }
        }
        if row.status.as_deref() == Some("CONFIRMED") {
            summary.sold += 1;
            // Sold: only by a request carrying its hold's token, so under a hold some
            // client was answered (nobody else has its token).
            match (stored_hold, &row.hold_id) {
                (None, hold_id) => violations.push(format!(
                    "ticket {ticket}: sold under hold {hold_id:?}, whose token nobody was answered"
                )),
                (Some(hold), _) if !may_have_sold.contains(&(hold.hold_id.clone(), *ticket)) => {
                    violations.push(format!(
                        "ticket {ticket}: sold under hold {}, but no confirm with its token \
                         succeeded (or went unanswered)",
                        hold.hold_id
                    ));
                }
                _ => {}
            }
        }
    }

    for (ticket, confirmed) in &sales {
        let Some(row) = rows.get(ticket) else {
            violations.push(format!(
                "ticket {ticket}: sold but missing from the database"
            ));
            continue;
        };
        if confirmed.len() > 1 {
            violations.push(format!(
                "ticket {ticket}: answered with several sales {confirmed:?}"
            ));
        }
        if row.status.as_deref() != Some("CONFIRMED")
            || row
                .confirmed_at
                .as_ref()
                .is_none_or(|at| !confirmed.contains(at))
        {
            violations.push(format!(
                "ticket {ticket}: sold at {confirmed:?} but the database has {row:?}"
            ));
        }
    }

    summary.distinct_holds = holds.values().map(BTreeSet::len).sum();
    for (ticket, ticket_holds) in &holds {
        let ordered: Vec<&(String, String)> = ticket_holds.iter().collect();
        for pair in ordered.windows(2) {
            let ((_, first_expires), (second_created, _)) = (pair[0], pair[1]);
            if second_created < first_expires {
                let source = |hold: &(String, String)| {
                    seen.get(&(*ticket, hold.0.clone()))
                        .cloned()
                        .unwrap_or_default()
                };
                violations.push(format!(
                    "ticket {ticket}: two holds overlap: {:?} ({}) and {:?} ({})",
                    pair[0],
                    source(pair[0]),
                    pair[1],
                    source(pair[1])
                ));
            }
        }
        let sold_hold = rows
            .get(ticket)
            .filter(|row| row.status.as_deref() == Some("CONFIRMED"))
            .and_then(|row| row.created_at.clone());
        if let Some(sold_created) = sold_hold {
            for created in acknowledged_holds.get(ticket).into_iter().flatten() {
                if *created > sold_created {
                    violations.push(format!(
                        "ticket {ticket}: held at {created} after its sale (hold of {sold_created})"
                    ));
                }
            }
        }
    }
    (summary, violations)
}

/// The hold a 201 to `POST /api/tickets/{id}/reservation` placed, or what is wrong with
/// the answer.
fn reserved_hold(record: &Record, body: &Value) -> Result<Acknowledged, &'static str> {
    if body["id"].as_i64() != Some(record.ticket) {
        return Err("for another ticket");
    }
    if text(body, "reservation_status") != Some("TENTATIVE") {
        return Err("hold not TENTATIVE");
    }
    let (created_at, expires_at) = hold_of(body).ok_or("hold without a hold")?;
    let hold = &body["hold"];
    if text(hold, "expires_at") != Some(expires_at.as_str()) {
        return Err("hold expiring at another time than its ticket");
    }
    Ok(Acknowledged {
        hold_id: text(hold, "hold_id")
            .ok_or("hold without an id")?
            .to_owned(),
        token: text(hold, "hold_token")
            .ok_or("hold without a token")?
            .to_owned(),
        tickets: vec![record.ticket],
        created_at,
        expires_at,
        asked: String::new(),
    })
}

/// The hold a 201 to `POST /api/holds` placed, checked ticket by ticket: every ticket
/// asked for, each TENTATIVE under the hold's times.
fn placed_hold(record: &Record, body: &Value) -> Result<Acknowledged, &'static str> {
    let created_at = text(body, "created_at").ok_or("hold without created_at")?;
    let expires_at = text(body, "expires_at").ok_or("hold without expires_at")?;
    let mut asked = record.tickets.clone();
    asked.sort_unstable();
    let shown = body["tickets"].as_array().ok_or("hold without tickets")?;
    let ids: Vec<i64> = shown.iter().filter_map(|t| t["id"].as_i64()).collect();
    if ids != asked {
        return Err("hold of other tickets than asked (or not in id order)");
    }
    for ticket in shown {
        if text(ticket, "reservation_status") != Some("TENTATIVE")
            || text(ticket, "reservation_created_at") != Some(created_at)
            || text(ticket, "reservation_expires_at") != Some(expires_at)
        {
            return Err("hold with a ticket not TENTATIVE under the hold's times");
        }
    }
    Ok(Acknowledged {
        hold_id: text(body, "hold_id")
            .ok_or("hold without an id")?
            .to_owned(),
        token: text(body, "hold_token")
            .ok_or("hold without a token")?
            .to_owned(),
        tickets: ids,
        created_at: created_at.to_owned(),
        expires_at: expires_at.to_owned(),
        asked: String::new(),
    })
}

/// Whether a refusal of `POST /api/holds` is the contract's 409: every ticket it names
/// is one asked for, with why it cannot be held.
fn held_refusal(
    record: &Record,
    answer: &crate::http::Answer,
    violations: &mut Vec<String>,
) -> bool {
    if (answer.status, answer.error_code()) != (409, Some("TICKETS_UNAVAILABLE")) {
        return false;
    }
    let named = answer.body["details"]["tickets"].as_array();
    let fine = named.is_some_and(|named| {
        !named.is_empty()
            && named.iter().all(|refusal| {
                refusal["ticket_id"]
                    .as_i64()
                    .is_some_and(|id| record.tickets.contains(&id))
                    && matches!(
                        refusal["error_code"].as_str(),
                        Some("RESERVATION_ALREADY_ACTIVE" | "TICKET_ALREADY_CONFIRMED")
                    )
            })
    });
    if !fine {
        violations.push(format!(
            "tickets {:?}: 409 naming other tickets or reasons {}",
            record.tickets, answer.body
        ));
    }
    true
}

/// The acknowledged hold whose token a confirm carried, if that hold is the one the
/// confirm names (covers its ticket, or is its hold): `None` for a confirm without the
/// holder's token, or for anything but a confirm.
fn confirmed_hold<'a>(
    record: &Record,
    by_token: &HashMap<&str, &'a Acknowledged>,
    by_id: &HashMap<&str, &'a Acknowledged>,
) -> Option<&'a Acknowledged> {
    let hold = *by_token.get(record.token.as_deref()?)?;
    match record.op {
        Op::Confirm => hold.tickets.contains(&record.ticket).then_some(hold),
        Op::ConfirmHold => {
            let named = *by_id.get(record.hold_id.as_deref()?)?;
            (named.hold_id == hold.hold_id).then_some(hold)
        }
        _ => None,
    }
}

/// Checks a 200 confirm (by `owner`, the holder whose token it carried, if any): the
/// sale answered is of that hold; for a hold, every ticket of it, at one instant, and so
/// in the database.
fn confirmed(
    record: &Record,
    body: &Value,
    rows: &BTreeMap<i64, Row>,
    owner: Option<&Acknowledged>,
    violations: &mut Vec<String>,
) {
    let ticket = record.ticket;
    let shown = tickets_in(body);
    if shown
        .iter()
        .any(|t| text(t, "reservation_status") != Some("CONFIRMED"))
    {
        violations.push(format!("ticket {ticket}: 200 confirm not CONFIRMED {body}"));
    }
    // A confirm not by the holder is flagged where it is classified.
    let Some(hold) = owner else {
        return;
    };
    for t in &shown {
        if text(t, "reservation_created_at") != Some(hold.created_at.as_str()) {
            violations.push(format!(
                "ticket {ticket}: 200 confirm of another hold than the token's ({}) {body}",
                hold.hold_id
            ));
        }
    }
    if record.op != Op::ConfirmHold {
        return;
    }
    let ids: Vec<i64> = shown.iter().filter_map(|t| t["id"].as_i64()).collect();
    let instants: BTreeSet<&str> = shown
        .iter()
        .filter_map(|t| text(t, "reservation_confirmed_at"))
        .collect();
    if text(body, "hold_id") != Some(hold.hold_id.as_str()) || ids != hold.tickets {
        violations.push(format!(
            "hold {}: 200 confirm answered other tickets {body}",
            hold.hold_id
        ));
    }
    let [instant] = instants.into_iter().collect::<Vec<_>>()[..] else {
        violations.push(format!(
            "hold {}: 200 confirm not sold at one instant {body}",
            hold.hold_id
        ));
        return;
    };
    for id in &hold.tickets {
        let row = rows.get(id).cloned().unwrap_or_default();
        if row.status.as_deref() != Some("CONFIRMED")
            || row.confirmed_at.as_deref() != Some(instant)
            || row.hold_id.as_deref() != Some(hold.hold_id.as_str())
        {
            violations.push(format!(
                "hold {}: confirmed at {instant}, but ticket {id} is {row:?} in the database",
                hold.hold_id
            ));
        }
    }
}

/// The tickets an answer shows: a hold's, or the answer itself when it is a ticket.
fn tickets_in(body: &Value) -> Vec<&Value> {
    match body["tickets"].as_array() {
        Some(tickets) => tickets.iter().collect(),
        None if body.get("id").is_some() => vec![body],
        None => Vec::new(),
    }
}

/// The first characters of a token, enough to tell tokens apart in a report.
fn redact(token: &str) -> String {
    format!("{}…", token.chars().take(6).collect::<String>())
}

fn text<'a>(body: &'a Value, key: &str) -> Option<&'a str> {
    body[key].as_str()
}

fn hold_of(body: &Value) -> Option<(String, String)> {
    Some((
        text(body, "reservation_created_at")?.to_owned(),
        text(body, "reservation_expires_at")?.to_owned(),
    ))
}

/// The checker on records made up by hand: it passes an honest history and flags each
/// kind of forgery.
#[cfg(test)]
mod tests {
    use std::time::Duration;

    use serde_json::json;

    use super::*;
    use crate::http::Answer;

    const CREATED: &str = "2026-11-26T12:00:00.000000Z";
    const EXPIRES: &str = "2026-11-26T12:01:00.000000Z";
    const CONFIRMED: &str = "2026-11-26T12:00:30.000000Z";
    const HOLD: &str = "00000000-0000-4000-8000-000000000001";
    const OTHER_HOLD: &str = "00000000-0000-4000-8000-000000000002";
    const TOKEN: &str = "the-holders-token-000000000000000000000000";
    const OTHER_TOKEN: &str = "somebody-elses-token-000000000000000000000";

    fn record(op: Op, tickets: &[i64], token: Option<&str>, status: u16, body: Value) -> Record {
        Record {
            port: 1,
            op,
            ticket: tickets[0],
            tickets: tickets.to_vec(),
            hold_id: None,
            token: token.map(str::to_owned),
            sent_at: Duration::ZERO,
            elapsed: Duration::ZERO,
            outcome: Ok(Answer { status, body }),
        }
    }

    fn ticket(id: i64, status: &str, confirmed_at: Option<&str>) -> Value {
        json!({
            "id": id, "event_name": "Reliability Night", "seat": null,
            "reservation_status": status,
            "reservation_created_at": CREATED, "reservation_expires_at": EXPIRES,
            "reservation_confirmed_at": confirmed_at,
        })
    }

    fn reserved(id: i64, hold_id: &str, token: &str) -> Record {
        let mut body = ticket(id, "TENTATIVE", None);
        body["hold"] = json!({
            "hold_id": hold_id, "hold_token": token, "expires_at": EXPIRES,
            "expires_in_seconds": 60,
        });
        record(Op::Reserve, &[id], None, 201, body)
    }

    fn placed(ids: &[i64], hold_id: &str, token: &str) -> Record {
        let body = json!({
            "hold_id": hold_id, "hold_token": token, "created_at": CREATED,
            "expires_at": EXPIRES, "expires_in_seconds": 60,
            "tickets": ids.iter().map(|id| ticket(*id, "TENTATIVE", None)).collect::<Vec<_>>(),
        });
        record(Op::HoldTickets, ids, None, 201, body)
    }

    fn hold_confirmed(ids: &[i64], hold_id: &str, token: Option<&str>) -> Record {
        let body = json!({
            "hold_id": hold_id, "created_at": CREATED, "expires_at": EXPIRES,
            "expires_in_seconds": 30,
            "tickets": ids.iter().map(|id| ticket(*id, "CONFIRMED", Some(CONFIRMED))).collect::<Vec<_>>(),
        });
        Record {
            hold_id: Some(hold_id.to_owned()),
            ..record(Op::ConfirmHold, ids, token, 200, body)
        }
    }

    fn row(status: &str, confirmed_at: Option<&str>, hold_id: &str) -> Row {
        Row {
            status: Some(status.to_owned()),
            created_at: Some(CREATED.to_owned()),
            expires_at: Some(EXPIRES.to_owned()),
            confirmed_at: confirmed_at.map(str::to_owned),
            hold_id: Some(hold_id.to_owned()),
        }
    }

    fn violations(records: &[Record], rows: &[(i64, Row)]) -> Vec<String> {
        examine(records, &rows.iter().cloned().collect()).1
    }

    fn assert_flags(found: &[String], expected: &str) {
        assert!(
            found.iter().any(|violation| violation.contains(expected)),
            "no violation mentions {expected:?}: {found:#?}"
        );
    }

    #[test]
    fn an_honest_history_passes() {
        let records = [
            reserved(1, HOLD, TOKEN),
            record(
                Op::Confirm,
                &[1],
                None,
                401,
                json!({"error_code": "HOLD_TOKEN_REQUIRED"}),
            ),
            record(
                Op::Confirm,
                &[1],
                Some(OTHER_TOKEN),
                403,
                json!({"error_code": "HOLD_TOKEN_INVALID"}),
            ),
            record(
                Op::Confirm,
                &[1],
                Some(TOKEN),
                200,
                ticket(1, "CONFIRMED", Some(CONFIRMED)),
            ),
            placed(&[2, 3], OTHER_HOLD, OTHER_TOKEN),
            hold_confirmed(&[2, 3], OTHER_HOLD, Some(OTHER_TOKEN)),
        ];
        let rows = [
            (1, row("CONFIRMED", Some(CONFIRMED), HOLD)),
            (2, row("CONFIRMED", Some(CONFIRMED), OTHER_HOLD)),
            (3, row("CONFIRMED", Some(CONFIRMED), OTHER_HOLD)),
        ];
        let (summary, found) = examine(&records, &rows.into_iter().collect());
        assert!(found.is_empty(), "{found:#?}");
        assert_eq!((summary.holds, summary.confirms, summary.sold), (2, 2, 3));
        assert_eq!(
            (
                summary.unowned_confirms,
                summary.refused_401,
                summary.refused_403
            ),
            (2, 1, 1)
        );
    }

    #[test]
    fn a_200_confirm_without_the_holders_token_is_flagged() {
        let sold = row("CONFIRMED", Some(CONFIRMED), HOLD);
        for token in [None, Some(OTHER_TOKEN)] {
            let records = [
                reserved(1, HOLD, TOKEN),
                reserved(2, OTHER_HOLD, OTHER_TOKEN),
                record(
                    Op::Confirm,
                    &[1],
                    token,
                    200,
                    ticket(1, "CONFIRMED", Some(CONFIRMED)),
                ),
            ];
            let found = violations(&records, &[(1, sold.clone())]);
            assert_flags(&found, "200 confirm not by the holder");
            // The sale itself came from no confirm that carried the hold's token.
            assert_flags(&found, "no confirm with its token");
        }
        let records = [
            placed(&[1, 2], HOLD, TOKEN),
            placed(&[3], OTHER_HOLD, OTHER_TOKEN),
            hold_confirmed(&[1, 2], HOLD, Some(OTHER_TOKEN)),
        ];
        let rows = [(1, sold.clone()), (2, sold)];
        assert_flags(
            &violations(&records, &rows),
            "200 confirm not by the holder",
        );
    }

    #[test]
    fn a_refused_confirm_that_sold_anyway_is_flagged() {
        let records = [
            reserved(1, HOLD, TOKEN),
            record(
                Op::Confirm,
                &[1],
                None,
                401,
                json!({"error_code": "HOLD_TOKEN_REQUIRED"}),
            ),
        ];
        let found = violations(&records, &[(1, row("CONFIRMED", Some(CONFIRMED), HOLD))]);
        assert_flags(&found, "no confirm with its token");
        // Nor may a sale appear under a hold nobody was answered.
        let found = violations(&[], &[(1, row("CONFIRMED", Some(CONFIRMED), HOLD))]);
        assert_flags(&found, "whose token nobody was answered");
    }

    #[test]
    fn token_refusals_must_match_what_was_sent() {
        let records = [
            reserved(1, HOLD, TOKEN),
            record(
                Op::Confirm,
                &[1],
                Some(OTHER_TOKEN),
                401,
                json!({"error_code": "HOLD_TOKEN_REQUIRED"}),
            ),
            record(
                Op::Confirm,
                &[1],
                None,
                403,
                json!({"error_code": "HOLD_TOKEN_INVALID"}),
            ),
            record(
                Op::Confirm,
                &[1],
                None,
                409,
                json!({"error_code": "TICKET_ALREADY_CONFIRMED"}),
            ),
        ];
        let found = violations(&records, &[(1, row("TENTATIVE", None, HOLD))]);
        assert_eq!(found.len(), 3, "{found:#?}");
    }

    #[test]
    fn a_hold_is_checked_ticket_by_ticket() {
        // A ticket of the 201 under other times than the hold's.
        let mut odd = placed(&[1, 2], HOLD, TOKEN);
        if let Ok(answer) = &mut odd.outcome {
            answer.body["tickets"][1]["reservation_created_at"] =
                json!("2026-11-26T12:00:01.000000Z");
        }
        let rows = [
            (1, row("TENTATIVE", None, HOLD)),
            (2, row("TENTATIVE", None, HOLD)),
        ];
        assert_flags(
            &violations(&[odd], &rows),
            "not TENTATIVE under the hold's times",
        );

        // Two acknowledged holds overlapping on ticket 2.
        let mut later = placed(&[2, 3], OTHER_HOLD, OTHER_TOKEN);
        if let Ok(answer) = &mut later.outcome {
            answer.body["created_at"] = json!("2026-11-26T12:00:10.000000Z");
            for ticket in answer.body["tickets"].as_array_mut().unwrap() {
                ticket["reservation_created_at"] = json!("2026-11-26T12:00:10.000000Z");
            }
        }
        let records = [placed(&[1, 2], HOLD, TOKEN), later];
        assert_flags(&violations(&records, &rows), "ticket 2: two holds overlap");

        // A 200 hold confirm while one of its tickets is not sold in the database, or sold
        // at another instant.
        let records = [
            placed(&[1, 2], HOLD, TOKEN),
            hold_confirmed(&[1, 2], HOLD, Some(TOKEN)),
        ];
        let sold = row("CONFIRMED", Some(CONFIRMED), HOLD);
        for other in [
            row("TENTATIVE", None, HOLD),
            row("CONFIRMED", Some("2026-11-26T12:00:31.000000Z"), HOLD),
        ] {
            let found = violations(&records, &[(1, sold.clone()), (2, other)]);
            assert_flags(&found, "but ticket 2 is");
        }
        assert!(violations(&records, &[(1, sold.clone()), (2, sold)]).is_empty());
    }
}
