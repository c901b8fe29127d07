//! The checker: every acknowledged answer (201 hold, 200 confirm, and any answer that
//! reports a sale) against the rows in the database at the end, and the invariants: at
//! most one active hold per ticket at any time, and a sale is never lost or changed.
//! Answers that are not acknowledgements (503, transport errors) may or may not have
//! taken effect; they are only checked through the rows they left.

use std::collections::{BTreeMap, BTreeSet};

use serde_json::Value;

use crate::cluster::Cluster;
use crate::load::{Op, Record};

/// A ticket's reservation as stored; timestamps in the API's format
/// (`2026-11-26T12:00:00.000000Z`), which sorts as it reads.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Row {
    pub(crate) status: Option<String>,
    pub(crate) created_at: Option<String>,
    pub(crate) expires_at: Option<String>,
    pub(crate) confirmed_at: Option<String>,
}

/// Every ticket's row, read with psql.
pub(crate) fn rows(cluster: &Cluster, database: &str) -> BTreeMap<i64, Row> {
    let format = r#"'YYYY-MM-DD"T"HH24:MI:SS.US"Z"'"#;
    let column = |name: &str| format!("coalesce(to_char({name} AT TIME ZONE 'UTC', {format}), '')");
    let sql = format!(
        "SELECT id, coalesce(reservation_status, ''), {}, {}, {} FROM tickets ORDER BY id",
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
            assert_eq!(fields.len(), 5, "unexpected psql line {line:?}");
            let row = Row {
                status: some(fields[1]),
                created_at: some(fields[2]),
                expires_at: some(fields[3]),
                confirmed_at: some(fields[4]),
            };
            (fields[0].parse().unwrap(), row)
        })
        .collect()
}

/// What the checker saw, for the scenario's own assertions and its report.
#[derive(Debug, Default)]
pub(crate) struct Summary {
    /// 201 answers to reserve.
    pub(crate) holds: usize,
    /// 200 answers to confirm.
    pub(crate) confirms: usize,
    /// Tickets sold, in the database.
    pub(crate) sold: usize,
    /// Distinct holds seen in answers and rows.
    pub(crate) distinct_holds: usize,
}

/// Checks `records` against `rows`; panics listing every violation found.
pub(crate) fn check(records: &[Record], rows: &BTreeMap<i64, Row>) -> Summary {
    let mut violations = Vec::new();
    let mut summary = Summary::default();
    let mut holds: BTreeMap<i64, BTreeSet<(String, String)>> = BTreeMap::new();
    let mut acknowledged_holds: BTreeMap<i64, Vec<String>> = BTreeMap::new();
    let mut sales: BTreeMap<i64, BTreeSet<String>> = BTreeMap::new();

    for record in records {
        let Ok(answer) = &record.outcome else {
            continue;
        };
        let body = &answer.body;
        let ticket = record.ticket;
        if answer.status == 500 {
            violations.push(format!("ticket {ticket}: 500 answer {body}"));
        }
        let acknowledged = matches!(
            (record.op, answer.status),
            (Op::Reserve, 201) | (Op::Confirm, 200) | (Op::Read, 200)
        );
        if acknowledged {
            if record.op == Op::Reserve {
                summary.holds += 1;
                match (text(body, "reservation_status"), hold_of(body)) {
                    (Some("TENTATIVE"), Some(hold)) => {
                        acknowledged_holds
                            .entry(ticket)
                            .or_default()
                            .push(hold.0.clone());
                        holds.entry(ticket).or_default().insert(hold);
                    }
                    _ => {
                        violations.push(format!("ticket {ticket}: 201 hold without a hold {body}"))
                    }
                }
            }
            if record.op == Op::Confirm {
                summary.confirms += 1;
                if text(body, "reservation_status") != Some("CONFIRMED") {
                    violations.push(format!("ticket {ticket}: 200 confirm not CONFIRMED {body}"));
                }
            }
            // Any answer showing a hold shows one that was stored.
            if let Some(hold) = hold_of(body) {
                holds.entry(ticket).or_default().insert(hold);
            }
            if text(body, "reservation_status") == Some("CONFIRMED") {
                if let Some(confirmed_at) = text(body, "reservation_confirmed_at") {
                    sales
                        .entry(ticket)
                        .or_default()
                        .insert(confirmed_at.to_owned());
                }
            }
        }
        // A refusal that names the sale also acknowledges it.
        if answer.error_code() == Some("TICKET_ALREADY_CONFIRMED") {
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
            holds
                .entry(*ticket)
                .or_default()
                .insert((created.clone(), expires.clone()));
        }
        if row.status.as_deref() == Some("CONFIRMED") {
            summary.sold += 1;
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
                violations.push(format!(
                    "ticket {ticket}: two holds overlap: {:?} and {:?}",
                    pair[0], pair[1]
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

fn text<'a>(body: &'a Value, key: &str) -> Option<&'a str> {
    body[key].as_str()
}

fn hold_of(body: &Value) -> Option<(String, String)> {
    Some((
        text(body, "reservation_created_at")?.to_owned(),
        text(body, "reservation_expires_at")?.to_owned(),
    ))
}
