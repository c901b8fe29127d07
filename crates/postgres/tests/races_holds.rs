//! Real threads racing over holds of several tickets through a real PostgreSQL: holds
//! placed all or nothing by overlapping buyers without a deadlock, best available handing
//! concurrent buyers different tickets, a hold's confirm or extension racing the sweeper
//! at its expiry, and tokens that are not the hold's.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::collections::{HashMap, HashSet};
use std::sync::{Arc, Barrier, Mutex};
use std::thread;
use std::time::{Duration, Instant};

use chrono::TimeDelta;
use common::{at, race, warm_repository, Random};
use diesel::connection::SimpleConnection;
use diesel::{Connection, PgConnection};
use ticketing_domain::{
    Command, EventName, HoldId, NewHold, NewTicket, OwnershipError, Proof, Reservation,
    ReservationError, ReservationPolicy, Ticket, TicketId, TicketSet, Timestamp,
};
use ticketing_ports::{BestAvailable, TicketError, TicketQuery, TicketRepository, TogetherOutcome};
use ticketing_postgres::test_db::TestDatabase;
use ticketing_postgres::PgTicketRepository;

/// Connections the racing threads share; enough for real overlap at the database
/// without crowding a server other test processes use too.
const CONNECTIONS: u32 = 24;

/// The `n`-th buyer: a hold id and a token digest of its own.
fn buyer(n: u64) -> NewHold {
    let mut random = Random(0x5eed ^ n.wrapping_mul(0x9e37_79b9_7f4a_7c15));
    NewHold {
        id: HoldId::from_uuid(uuid::Uuid::from_u128(0x1_0000 + u128::from(n))),
        owner: random.digest(),
    }
}

fn proof(hold: NewHold) -> Proof {
    Proof::token(hold.owner)
}

fn create(repository: &PgTicketRepository, event: &str, count: usize) -> Vec<TicketId> {
    let ticket = NewTicket {
        event_name: EventName::parse(event).unwrap(),
        seat: None,
    };
    (0..count)
        .map(|_| repository.create(&ticket).unwrap().id)
        .collect()
}

fn reserve(hold: NewHold, ttl_seconds: i64) -> Command {
    Command::Reserve {
        hold,
        policy: ReservationPolicy::from_ttl_seconds(ttl_seconds).unwrap(),
    }
}

/// Holds `ids` together for `hold` at `now`, which must succeed.
fn hold_together(
    repository: &PgTicketRepository,
    ids: &[TicketId],
    hold: NewHold,
    ttl_seconds: i64,
    now: Timestamp,
) -> Vec<Ticket> {
    let set = TicketSet::new(ids, 10).unwrap();
    match repository.apply_together(&set, reserve(hold, ttl_seconds), now) {
        Ok(TogetherOutcome::Written(tickets)) => tickets,
        other => panic!("holding {ids:?} answered {other:?}"),
    }
}

/// What the buyers of the first race did, checked once they are done.
#[derive(Debug, Default)]
struct Holds {
    /// Every hold tried, with the tickets asked for (ascending), before it was tried.
    requested: HashMap<HoldId, Vec<TicketId>>,
    /// Every hold placed: its tickets, created_at and expires_at.
    granted: HashMap<HoldId, (Vec<TicketId>, Timestamp, Timestamp)>,
    /// Every refusal: the ticket and the expiry of the hold it was refused for.
    refusals: Vec<(TicketId, Timestamp)>,
    releases: usize,
}

/// The time of the race: the wall clock since `start` ten times as fast (a one-second
/// hold lasts 100 ms), from `at(0)`; monotonic, and the same for every thread.
fn elapsed_since(start: Instant) -> Timestamp {
    at(0) + TimeDelta::from_std(start.elapsed() * 10).unwrap()
}

/// 32 buyers for 10 s, each holding a random 2 to 5 of 20 tickets at once (and releasing
/// half its holds at once, leaving the others to lapse after 100 ms), while a checker
/// reads all 20 rows in one statement again and again: no snapshot ever shows a live hold
/// on only some of its tickets (or a hold that was refused), no call fails (no deadlock
/// between overlapping holds, no serialization error), and every refusal names tickets
/// that were asked for and that a hold granted to someone else really held at that moment.
#[test]
fn overlapping_holds_of_several_tickets_are_placed_all_or_nothing_without_deadlock() {
    const BUYERS: usize = 32;
    const TICKETS: usize = 20;
    const RUN: Duration = Duration::from_secs(10);
    let db = TestDatabase::new();
    let repository = Arc::new(warm_repository(&db, CONNECTIONS));
    let ids = Arc::new(create(&repository, "Opening Night", TICKETS));
    let holds = Arc::new(Mutex::new(Holds::default()));
    let start = Instant::now();
    let deadline = start + RUN;

    let checker = {
        let (repository, holds) = (repository.clone(), holds.clone());
        thread::spawn(move || {
            let (mut snapshots, mut live_seen) = (0, 0);
            let mut seen: HashSet<HoldId> = HashSet::new();
            while Instant::now() < deadline {
                let page = repository.list(&TicketQuery::default(), at(0)).unwrap();
                // Any write the snapshot shows was decided at a `now` before this one.
                let now = elapsed_since(start);
                let carried: HashMap<TicketId, HoldId> = page
                    .tickets
                    .iter()
                    .filter_map(|t| t.reservation.hold().map(|hold| (t.id, hold.id())))
                    .collect();
                seen.extend(carried.values());
                let holds = holds.lock().unwrap();
                for ticket in &page.tickets {
                    let Reservation::Tentative(hold) = ticket.reservation else {
                        continue;
                    };
                    if !hold.is_active_at(now) {
                        continue;
                    }
                    live_seen += 1;
                    let requested = &holds.requested[&hold.id()];
                    for id in requested {
                        assert_eq!(
                            carried.get(id),
                            Some(&hold.id()),
                            "live hold {hold:?} asked for {requested:?}: ticket {id} lacks it \
                             in {:#?}",
                            page.tickets
                        );
                    }
                }
                snapshots += 1;
            }
            (snapshots, live_seen, seen)
        })
    };

    let buyers: Vec<_> = (0..BUYERS)
        .map(|b| {
            let (repository, ids, holds) = (repository.clone(), ids.clone(), holds.clone());
            thread::spawn(move || {
                let mut random = Random(0x51ed ^ (b as u64 + 1) << 8);
                let mut tries = 0;
                while Instant::now() < deadline {
                    tries += 1;
                    let hold = buyer(((b as u64) << 32) + tries);
                    let mut wanted: Vec<TicketId> = ids.to_vec();
                    // A partial Fisher-Yates shuffle: 2 to 5 distinct tickets.
                    let count = 2 + random.below(4) as usize;
                    for i in 0..count {
                        let j = i + random.below((TICKETS - i) as u64) as usize;
                        wanted.swap(i, j);
                    }
                    wanted.truncate(count);
                    wanted.sort_unstable();
                    holds
                        .lock()
                        .unwrap()
                        .requested
                        .insert(hold.id, wanted.clone());

                    let now = elapsed_since(start);
                    let set = TicketSet::new(&wanted, 10).unwrap();
                    let outcome = repository.apply_together(&set, reserve(hold, 1), now);
                    match outcome {
                        Ok(TogetherOutcome::Written(tickets)) => {
                            let got: Vec<TicketId> = tickets.iter().map(|t| t.id).collect();
                            assert_eq!(got, wanted);
                            let Reservation::Tentative(placed) = tickets[0].reservation else {
                                panic!("a hold answers held tickets: {tickets:?}");
                            };
                            assert!(tickets
                                .iter()
                                .all(|t| t.reservation == Reservation::Tentative(placed)));
                            holds.lock().unwrap().granted.insert(
                                hold.id,
                                (wanted, placed.created_at(), placed.expires_at()),
                            );
                        }
                        Ok(TogetherOutcome::Refused { refusals, recorded }) => {
                            assert_eq!(recorded, 0);
                            assert!(!refusals.is_empty());
                            let mut holds = holds.lock().unwrap();
                            for (id, error) in refusals {
                                assert!(wanted.contains(&id), "{id} not in {wanted:?}");
                                let ReservationError::AlreadyActive { expires_at } = error else {
                                    panic!("a hold is refused for an active one: {error:?}");
                                };
                                assert!(expires_at > now, "{expires_at} <= {now}");
                                holds.refusals.push((id, expires_at));
                            }
                            continue;
                        }
                        other => panic!("a hold answered {other:?}"),
                    }
                    if random.below(2) == 0 {
                        let release = Command::Release(proof(hold));
                        let released =
                            repository.apply_to_hold(hold.id, release, elapsed_since(start));
                        match released {
                            Ok(TogetherOutcome::Written(tickets)) => {
                                assert!(tickets
                                    .iter()
                                    .all(|t| t.reservation == Reservation::Unreserved));
                                holds.lock().unwrap().releases += 1;
                            }
                            // Lapsed already (on a slow machine), maybe held by others since.
                            Ok(TogetherOutcome::Refused { .. })
                            | Err(TicketError::HoldNotFound(_)) => {}
                            other => panic!("a release answered {other:?}"),
                        }
                    }
                }
            })
        })
        .collect();
    for buyer in buyers {
        buyer.join().unwrap();
    }
    let (snapshots, live_seen, seen) = checker.join().unwrap();

    let holds = holds.lock().unwrap();
    for hold in &seen {
        assert!(
            holds.granted.contains_key(hold),
            "refused hold {hold:?} was stored"
        );
    }
    // Every refusal names a hold some buyer was granted on that ticket (live at the
    // refused call's now, as checked when it was answered; placed by a buyer whose clock
    // read later, possibly).
    let mut granted_on: HashMap<TicketId, Vec<Timestamp>> = HashMap::new();
    for (tickets, _, expires_at) in holds.granted.values() {
        for id in tickets {
            granted_on.entry(*id).or_default().push(*expires_at);
        }
    }
    for (id, expires_at) in &holds.refusals {
        let real = granted_on
            .get(id)
            .is_some_and(|expiries| expiries.contains(expires_at));
        assert!(
            real,
            "ticket {id} refused for a hold until {expires_at} nobody was granted"
        );
    }
    eprintln!(
        "{} holds granted, {} released, {} tickets refused; {snapshots} snapshots, \
         {live_seen} live holds checked",
        holds.granted.len(),
        holds.releases,
        holds.refusals.len()
    );
    assert!(holds.granted.len() > 100 && holds.refusals.len() > 100 && holds.releases > 10);
    assert!(
        snapshots > 100 && live_seen > 100,
        "{snapshots} snapshots, {live_seen} live"
    );
}

/// 100 buyers at once ask for the best 2 of a 150-ticket event: exactly 75 get a hold,
/// no two share a ticket, every ticket of the event is held, and the other 25 are told
/// there are too few; no ticket of another event is taken.
#[test]
fn of_100_best_available_buyers_of_150_tickets_75_hold_disjoint_pairs() {
    const BUYERS: usize = 100;
    let db = TestDatabase::new();
    let repository = Arc::new(warm_repository(&db, CONNECTIONS));
    let elsewhere = create(&repository, "Matinee", 10);
    let ids = create(&repository, "Opening Night", 150);
    let event = EventName::parse("Opening Night").unwrap();
    let policy = ReservationPolicy::from_ttl_seconds(60).unwrap();

    let racing = repository.clone();
    let results = race(BUYERS, move |i| {
        let hold = buyer(i as u64);
        let best = racing.hold_best_available(&event, 2, hold, &policy, at(0));
        (hold, best)
    });

    let mut owners: HashMap<TicketId, HoldId> = HashMap::new();
    let (mut held, mut too_few) = (0, 0);
    for (hold, result) in results {
        match result {
            Ok(BestAvailable::Held(tickets)) => {
                held += 1;
                assert_eq!(tickets.len(), 2);
                for ticket in tickets {
                    assert!(
                        matches!(ticket.reservation, Reservation::Tentative(h) if h.new_hold() == hold),
                        "{ticket:?}"
                    );
                    let previous = owners.insert(ticket.id, hold.id);
                    assert_eq!(previous, None, "ticket {} held twice", ticket.id);
                }
            }
            Ok(BestAvailable::TooFew { available }) => {
                too_few += 1;
                assert!(available < 2, "{available}");
            }
            Err(error) => panic!("best available failed: {error:?}"),
        }
    }
    assert_eq!((held, too_few), (75, 25));
    let mut taken: Vec<TicketId> = owners.keys().copied().collect();
    taken.sort_unstable();
    assert_eq!(taken, ids);
    for id in ids.iter().chain(&elsewhere) {
        let stored = repository.find(*id).unwrap().reservation;
        let expected = owners.get(id).copied();
        assert_eq!(stored.hold().map(|hold| hold.id()), expected, "ticket {id}");
    }
}

/// A best-available buyer skips tickets another transaction has locked (a concurrent
/// buyer, the sweeper) instead of waiting for them: it holds the next free ones at once.
#[test]
fn best_available_skips_tickets_being_written_instead_of_waiting() {
    let db = TestDatabase::new();
    let repository = db.repository();
    let ids = create(&repository, "Opening Night", 10);
    let mut other = PgConnection::establish(db.url()).unwrap();
    other
        .batch_execute(&format!(
            "BEGIN; SELECT id FROM tickets WHERE id <= {} FOR UPDATE",
            ids[4]
        ))
        .unwrap();

    let event = EventName::parse("Opening Night").unwrap();
    let policy = ReservationPolicy::from_ttl_seconds(60).unwrap();
    let started = Instant::now();
    let best = repository
        .hold_best_available(&event, 2, buyer(1), &policy, at(0))
        .unwrap();
    // Waiting for the locks would have lasted until the statement timeout (5 s).
    assert!(
        started.elapsed() < Duration::from_secs(2),
        "{:?}",
        started.elapsed()
    );
    let BestAvailable::Held(held) = best else {
        panic!("five tickets are free: {best:?}");
    };
    let held: Vec<TicketId> = held.iter().map(|t| t.id).collect();
    assert_eq!(held, ids[5..7]);
    other.batch_execute("COMMIT").unwrap();
}

/// Waits until some session of `db` waits for a lock.
fn until_a_session_waits_for_a_lock(db: &TestDatabase) {
    let deadline = Instant::now() + Duration::from_secs(5);
    let waiting = "DO $$ BEGIN IF NOT EXISTS (SELECT 1 FROM pg_stat_activity \
         WHERE datname = current_database() AND wait_event_type = 'Lock') \
         THEN RAISE EXCEPTION 'nobody waits'; END IF; END $$";
    while db.execute(waiting).is_err() {
        assert!(
            Instant::now() < deadline,
            "no session ever waited for a lock"
        );
        thread::sleep(Duration::from_millis(10));
    }
}

/// The last two tickets, one of them locked by a concurrent writer: a buyer of two,
/// short at first, waits for that one instead of being refused. If the writer lets it
/// go, the buyer holds both; if the writer keeps it, the buyer hears one is left and
/// holds nothing.
#[test]
fn a_short_pick_waits_for_the_ticket_being_written_before_it_refuses() {
    let db = TestDatabase::new();
    let repository = Arc::new(db.repository());
    let event = EventName::parse("Opening Night").unwrap();
    let policy = ReservationPolicy::from_ttl_seconds(60).unwrap();
    for writer_keeps_it in [false, true] {
        let ids = create(&repository, "Opening Night", 2);
        let mut other = PgConnection::establish(db.url()).unwrap();
        let writes = if writer_keeps_it {
            format!(
                "UPDATE tickets SET reservation_status = 'TENTATIVE', \
                 reservation_created_at = {}, reservation_expires_at = {}, \
                 hold_id = gen_random_uuid(), hold_token_digest = sha256('theirs') \
                 WHERE id = {}",
                common::sql_time(at(0)),
                common::sql_time(at(60)),
                ids[1]
            )
        } else {
            format!("SELECT id FROM tickets WHERE id = {} FOR UPDATE", ids[1])
        };
        other.batch_execute(&format!("BEGIN; {writes}")).unwrap();

        let buying = {
            let (repository, event) = (repository.clone(), event.clone());
            thread::spawn(move || {
                repository.hold_best_available(&event, 2, buyer(1), &policy, at(1))
            })
        };
        until_a_session_waits_for_a_lock(&db);
        other.batch_execute("COMMIT").unwrap();
        let best = buying.join().unwrap().unwrap();

        if writer_keeps_it {
            assert_eq!(best, BestAvailable::TooFew { available: 1 });
            let stored = repository.find(ids[0]).unwrap().reservation;
            assert_eq!(
                stored,
                Reservation::Unreserved,
                "a short pick holds nothing"
            );
        } else {
            let BestAvailable::Held(held) = best else {
                panic!("the ticket let go is held: {best:?}");
            };
            assert_eq!(held.iter().map(|t| t.id).collect::<Vec<_>>(), ids);
        }
    }
}

/// Rounds of a 3-ticket hold expiring at `E`: its owner confirms it at `E - 1 µs` while
/// a sweep runs at `E` on another thread. Whoever locks first wins for the whole hold:
/// never some tickets CONFIRMED and some EXPIRED, and the sweep counts exactly the
/// tickets it expired.
#[test]
fn a_confirm_of_a_hold_racing_the_sweeper_at_its_expiry_never_sells_part_of_it() {
    const ROUNDS: u64 = 300;
    let db = TestDatabase::new();
    let repository = Arc::new(warm_repository(&db, 4));
    let (mut sold, mut expired) = (0, 0);
    for round in 0..ROUNDS {
        let ids = create(&repository, "Opening Night", 3);
        let hold = buyer(round);
        let created = at(round as i64 * 10);
        hold_together(&repository, &ids, hold, 1, created);
        let expiry = created + TimeDelta::seconds(1);

        let barrier = Arc::new(Barrier::new(2));
        let confirm = {
            let (repository, barrier) = (repository.clone(), barrier.clone());
            thread::spawn(move || {
                barrier.wait();
                let now = expiry - TimeDelta::microseconds(1);
                repository.apply_to_hold(hold.id, Command::Confirm(proof(hold)), now)
            })
        };
        let sweep = {
            let (repository, barrier) = (repository.clone(), barrier.clone());
            thread::spawn(move || {
                barrier.wait();
                repository.expire_lapsed(expiry, 100)
            })
        };
        let confirmed = confirm.join().unwrap().unwrap();
        let mut swept = sweep.join().unwrap().unwrap();
        // Tickets the sweep skipped while the confirm had them locked.
        swept += repository.expire_lapsed(expiry, 100).unwrap();

        let stored: Vec<Reservation> = ids
            .iter()
            .map(|id| repository.find(*id).unwrap().reservation)
            .collect();
        let confirmed_count = stored
            .iter()
            .filter(|r| matches!(r, Reservation::Confirmed { .. }))
            .count();
        let expired_count = stored
            .iter()
            .filter(|r| matches!(r, Reservation::Expired(_)))
            .count();
        match confirmed {
            TogetherOutcome::Written(tickets) => {
                sold += 1;
                assert_eq!(confirmed_count, 3, "round {round}: {stored:?}");
                let answered: Vec<Reservation> = tickets.iter().map(|t| t.reservation).collect();
                assert_eq!(answered, stored, "round {round}");
                assert_eq!(swept, 0, "round {round}: the sweep counted a sold ticket");
            }
            TogetherOutcome::Refused { refusals, recorded } => {
                expired += 1;
                assert_eq!(
                    recorded, 0,
                    "round {round}: still active at the confirm's now"
                );
                assert!(refusals
                    .iter()
                    .all(|(_, e)| *e == ReservationError::Expired { expired_at: expiry }));
                assert_eq!(expired_count, 3, "round {round}: {stored:?}");
                assert_eq!(swept, 3, "round {round}: each expiry counted once");
            }
            other => panic!("round {round}: {other:?}"),
        }
    }
    eprintln!("{sold} holds sold, {expired} expired by the sweep");
    assert!(
        sold > 0 && expired > 0,
        "{sold} sold, {expired} expired: they never met"
    );
}

/// Rounds of a 3-ticket hold expiring at `E`: its owner extends it by 5 s at `E - 1 µs`
/// while a sweep runs at `E`. Either the extension wins for every ticket (and the sweep
/// expires none), or it is refused and changed nothing: every ticket still expires at
/// `E`, and the sweeps expire all three, each once.
#[test]
fn an_extension_racing_the_sweeper_wins_for_every_ticket_or_changes_nothing() {
    const ROUNDS: u64 = 300;
    let db = TestDatabase::new();
    let repository = Arc::new(warm_repository(&db, 4));
    let policy = ReservationPolicy::from_ttl_seconds(1)
        .unwrap()
        .with_max_hold_seconds(60)
        .unwrap();
    let (mut extended, mut refused) = (0, 0);
    for round in 0..ROUNDS {
        let ids = create(&repository, "Opening Night", 3);
        let hold = buyer(round);
        let created = at(round as i64 * 100);
        hold_together(&repository, &ids, hold, 1, created);
        let expiry = created + TimeDelta::seconds(1);
        let now = expiry - TimeDelta::microseconds(1);
        let new_expiry = now + TimeDelta::seconds(5);

        let barrier = Arc::new(Barrier::new(2));
        let extend = {
            let (repository, barrier) = (repository.clone(), barrier.clone());
            thread::spawn(move || {
                barrier.wait();
                let extend = Command::Extend {
                    proof: proof(hold),
                    by: TimeDelta::seconds(5),
                    policy,
                };
                repository.apply_to_hold(hold.id, extend, now)
            })
        };
        let sweep = {
            let (repository, barrier) = (repository.clone(), barrier.clone());
            thread::spawn(move || {
                barrier.wait();
                repository.expire_lapsed(expiry, 100)
            })
        };
        let outcome = extend.join().unwrap().unwrap();
        let swept = sweep.join().unwrap().unwrap();

        let stored = |repository: &PgTicketRepository| -> Vec<Reservation> {
            ids.iter()
                .map(|id| repository.find(*id).unwrap().reservation)
                .collect()
        };
        match outcome {
            TogetherOutcome::Written(tickets) => {
                extended += 1;
                assert_eq!(swept, 0, "round {round}");
                let after = stored(&repository);
                assert!(
                    after.iter().all(|r| matches!(r, Reservation::Tentative(h)
                        if h.expires_at() == new_expiry && h.id() == hold.id)),
                    "round {round}: {after:?}"
                );
                let answered: Vec<Reservation> = tickets.iter().map(|t| t.reservation).collect();
                assert_eq!(answered, after, "round {round}");
                // Out of the next rounds' sweeps.
                let release = Command::Release(proof(hold));
                let released = repository.apply_to_hold(hold.id, release, now).unwrap();
                assert!(
                    matches!(released, TogetherOutcome::Written(_)),
                    "{released:?}"
                );
            }
            TogetherOutcome::Refused { refusals, recorded } => {
                refused += 1;
                assert_eq!(recorded, 0);
                assert!(refusals
                    .iter()
                    .all(|(_, e)| *e == ReservationError::Expired { expired_at: expiry }));
                let before_settling = stored(&repository);
                assert!(
                    before_settling
                        .iter()
                        .all(|r| r.expires_at() == Some(expiry)),
                    "round {round}: a refused extension moved {before_settling:?}"
                );
                let settled = swept + repository.expire_lapsed(expiry, 100).unwrap();
                assert_eq!(settled, 3, "round {round}");
                assert!(stored(&repository)
                    .iter()
                    .all(|r| matches!(r, Reservation::Expired(_))));
            }
            other => panic!("round {round}: {other:?}"),
        }
    }
    eprintln!("{extended} extensions won, {refused} refused");
    assert!(
        extended > 0 && refused > 0,
        "{extended} won, {refused} refused: they never met"
    );
}

/// 10,000 random tokens, on four threads, try to confirm, release or extend a live hold
/// of three tickets (and to confirm or release one of its tickets): every one is refused
/// as not the hold's token, and the hold is exactly as it was.
#[test]
fn ten_thousand_wrong_tokens_never_act_on_a_live_hold() {
    const THREADS: usize = 4;
    const TOKENS_PER_THREAD: usize = 2_500;
    let db = TestDatabase::new();
    let repository = Arc::new(warm_repository(&db, THREADS as u32));
    let ids = create(&repository, "Opening Night", 3);
    let hold = buyer(7);
    let placed = hold_together(&repository, &ids, hold, 600, at(0));
    let policy = ReservationPolicy::from_ttl_seconds(600).unwrap();

    let racing = repository.clone();
    let single = ids[1];
    let refused = race(THREADS, move |thread| {
        let mut random = Random(0xbad ^ (thread as u64 + 1) << 16);
        for n in 0..TOKENS_PER_THREAD {
            let wrong = Proof::token(random.digest());
            assert_ne!(Proof::token(hold.owner), wrong);
            let now = at(1);
            let command = match n % 3 {
                0 => Command::Confirm(wrong),
                1 => Command::Release(wrong),
                _ => Command::Extend {
                    proof: wrong,
                    by: TimeDelta::seconds(300),
                    policy,
                },
            };
            let invalid = ReservationError::Ownership(OwnershipError::TokenInvalid);
            if n % 10 == 9 && !matches!(command, Command::Extend { .. }) {
                let outcome = racing.apply(single, command, now).unwrap();
                assert_eq!(outcome.into_ticket(), Err(invalid), "{command:?}");
                continue;
            }
            match racing.apply_to_hold(hold.id, command, now).unwrap() {
                TogetherOutcome::Refused { refusals, recorded } => {
                    assert_eq!(recorded, 0);
                    assert_eq!(refusals.len(), 3);
                    assert!(refusals.iter().all(|(_, e)| *e == invalid), "{refusals:?}");
                }
                other => panic!("{command:?} with a wrong token answered {other:?}"),
            }
        }
        TOKENS_PER_THREAD
    });
    assert_eq!(refused.iter().sum::<usize>(), 10_000);
    assert_eq!(repository.find_hold(hold.id).unwrap(), placed);
}
