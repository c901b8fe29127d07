//! Random sequences of commands at random times, checked against the invariants; and
//! random states, commands, proofs and instants, checked against the rules of ownership,
//! extension and of commands on several tickets at once.

// Tests panic on purpose when something is wrong.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use chrono::{TimeDelta, TimeZone, Utc};
use proptest::prelude::*;
use ticketing_domain::{
    Command, Decision, GuardedWrite, Hold, HoldId, NewHold, Phase, Proof, Reservation,
    ReservationError, ReservationPolicy, TicketId, Timestamp, Together, TokenDigest,
};

const MINE: TokenDigest = TokenDigest::from_bytes([1; 32]);
const THEIRS: TokenDigest = TokenDigest::from_bytes([2; 32]);

/// The two clients of these tests.
const HOLDS: [NewHold; 2] = [
    NewHold {
        id: HoldId::from_uuid(uuid::Uuid::from_u128(1)),
        owner: MINE,
    },
    NewHold {
        id: HoldId::from_uuid(uuid::Uuid::from_u128(2)),
        owner: THEIRS,
    },
];

/// The hold every sequence of commands places.
const OWNER: NewHold = HOLDS[0];

#[derive(Debug, Clone, Copy)]
enum Op {
    Reserve,
    Confirm,
    Release,
    Expire,
}

fn op() -> impl Strategy<Value = Op> {
    prop_oneof![
        Just(Op::Reserve),
        Just(Op::Confirm),
        Just(Op::Release),
        Just(Op::Expire)
    ]
}

fn start() -> Timestamp {
    Utc.with_ymd_and_hms(2026, 11, 26, 12, 0, 0).unwrap()
}

/// `seconds` after [`start`], nudged by a nanosecond either way (or not) to land on, just
/// before and just after the instants the rules compare.
fn at(seconds: i64, nudge: i64) -> Timestamp {
    start() + TimeDelta::seconds(seconds) + TimeDelta::nanoseconds(nudge)
}

fn nudge() -> impl Strategy<Value = i64> {
    prop_oneof![Just(0i64), Just(-1i64), Just(1i64)]
}

/// Applies a decision the way a repository does, returning the stored state after it.
fn store(current: Reservation, command: Command, now: Timestamp) -> Reservation {
    match command.decide(&current, now) {
        Decision::Write(next) => next,
        Decision::AlreadyDone | Decision::Refuse(_) => current,
        Decision::RecordThenRefuse { record, .. } => store(current, record, now),
    }
}

/// The token a request carries, relative to the hold it acts on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Token {
    /// The hold's own token.
    Owners,
    /// Somebody else's token.
    Strangers,
    /// No token at all.
    Missing,
}

fn token() -> impl Strategy<Value = Token> {
    prop_oneof![
        Just(Token::Owners),
        Just(Token::Strangers),
        Just(Token::Missing)
    ]
}

/// The proof a request with `token` presents against `current` (whose hold, if it has
/// none, is taken to be `MINE`), under a deployment that does or does not `require` one.
fn proof_for(current: &Reservation, token: Token, required: bool) -> Proof {
    let owner = current.hold().map_or(MINE, |hold| *hold.owner());
    let stranger = if owner == MINE { THEIRS } else { MINE };
    let presented = match token {
        Token::Owners => Some(owner),
        Token::Strangers => Some(stranger),
        Token::Missing => None,
    };
    Proof::new(presented, required)
}

/// How far an extension asks to go.
#[derive(Debug, Clone, Copy)]
enum Span {
    /// This far from now.
    Fixed(TimeDelta),
    /// To the hold's cap, give or take a nanosecond (at least a second from now).
    ToCap(i64),
}

impl Span {
    fn by(self, current: &Reservation, policy: ReservationPolicy, now: Timestamp) -> TimeDelta {
        match (self, current.hold()) {
            (Self::Fixed(by), _) => by,
            (Self::ToCap(nudge), Some(hold)) => {
                let to_cap =
                    hold.created_at() + policy.max_hold() - now + TimeDelta::nanoseconds(nudge);
                to_cap.max(TimeDelta::seconds(1))
            }
            (Self::ToCap(_), None) => TimeDelta::seconds(60),
        }
    }
}

fn span() -> impl Strategy<Value = Span> {
    prop_oneof![
        (1i64..=1_100, nudge()).prop_map(|(seconds, nudge)| Span::Fixed(
            TimeDelta::seconds(seconds) + TimeDelta::nanoseconds(nudge)
        )),
        nudge().prop_map(Span::ToCap),
    ]
}

/// A command, with its proof (and the span of an extension) still to be made against the
/// state it is decided on.
#[derive(Debug, Clone, Copy)]
enum Cmd {
    Reserve(usize),
    Confirm(Token, bool),
    Release(Token, bool),
    Extend(Token, bool, Span),
    Expire,
}

/// A command on a hold: one that carries a proof.
fn cmd_on_a_hold() -> impl Strategy<Value = Cmd> {
    prop_oneof![
        (token(), any::<bool>()).prop_map(|(token, required)| Cmd::Confirm(token, required)),
        (token(), any::<bool>()).prop_map(|(token, required)| Cmd::Release(token, required)),
        (token(), any::<bool>(), span())
            .prop_map(|(token, required, span)| Cmd::Extend(token, required, span)),
    ]
}

fn cmd() -> impl Strategy<Value = Cmd> {
    prop_oneof![
        1 => (0..HOLDS.len()).prop_map(Cmd::Reserve),
        3 => cmd_on_a_hold(),
        1 => Just(Cmd::Expire),
    ]
}

impl Cmd {
    fn against(self, current: &Reservation, policy: ReservationPolicy, now: Timestamp) -> Command {
        match self {
            Self::Reserve(who) => Command::Reserve {
                hold: HOLDS[who],
                policy,
            },
            Self::Confirm(token, required) => Command::Confirm(proof_for(current, token, required)),
            Self::Release(token, required) => Command::Release(proof_for(current, token, required)),
            Self::Extend(token, required, span) => Command::Extend {
                proof: proof_for(current, token, required),
                by: span.by(current, policy, now),
                policy,
            },
            Self::Expire => Command::Expire,
        }
    }

    /// The same command with the proof made of `token` and `required` instead.
    fn with_token(self, token: Token, required: bool) -> Self {
        match self {
            Self::Confirm(..) => Self::Confirm(token, required),
            Self::Release(..) => Self::Release(token, required),
            Self::Extend(_, _, span) => Self::Extend(token, required, span),
            other => other,
        }
    }

    fn token(self) -> Option<(Token, bool)> {
        match self {
            Self::Confirm(token, required)
            | Self::Release(token, required)
            | Self::Extend(token, required, _) => Some((token, required)),
            Self::Reserve(_) | Self::Expire => None,
        }
    }
}

/// Every proof a request may present, relative to the hold it acts on.
fn every_token() -> [(Token, bool); 6] {
    [
        (Token::Owners, true),
        (Token::Owners, false),
        (Token::Strangers, true),
        (Token::Strangers, false),
        (Token::Missing, true),
        (Token::Missing, false),
    ]
}

/// Whether a request with this token may act on a hold: its own, or none where none is
/// required.
fn proves_ownership(token: Token, required: bool) -> bool {
    match token {
        Token::Owners => true,
        Token::Strangers => false,
        Token::Missing => !required,
    }
}

fn policy() -> impl Strategy<Value = ReservationPolicy> {
    (1i64..=120, 0i64..=1_000).prop_map(|(ttl, extra)| {
        ReservationPolicy::from_ttl_seconds(ttl)
            .unwrap()
            .with_max_hold_seconds(ttl + extra)
            .unwrap()
    })
}

/// A hold of either client, starting within the first 100 s and lasting up to 200 s.
fn hold() -> impl Strategy<Value = Hold> {
    (0..HOLDS.len(), 0i64..100, 1i64..=200).prop_map(|(who, created, length)| {
        Hold::new(HOLDS[who], at(created, 0), at(created + length, 0)).unwrap()
    })
}

fn reservation() -> impl Strategy<Value = Reservation> {
    prop_oneof![
        Just(Reservation::Unreserved),
        hold().prop_map(Reservation::Tentative),
        hold().prop_map(Reservation::Expired),
        (hold(), 0i64..200).prop_map(|(hold, offset)| {
            // Whole seconds within the hold: `created_at <= confirmed_at < expires_at`.
            let length = (hold.expires_at() - hold.created_at()).num_seconds();
            let confirmed_at = hold.created_at() + TimeDelta::seconds(offset % length);
            Reservation::confirmed(hold, confirmed_at).unwrap()
        }),
    ]
}

/// The tickets of a request on several at once: of any holds, mostly of one, or all held
/// or sold by one.
fn tickets() -> impl Strategy<Value = Vec<Reservation>> {
    prop_oneof![
        prop::collection::vec(reservation(), 1..8),
        (hold(), prop::collection::vec(any::<bool>(), 1..8)).prop_map(|(hold, sold)| {
            sold.into_iter()
                .map(|sold| {
                    if sold {
                        Reservation::confirmed(hold, hold.created_at()).unwrap()
                    } else {
                        Reservation::Tentative(hold)
                    }
                })
                .collect()
        }),
        (hold(), prop::collection::vec((0u8..5, reservation()), 1..8)).prop_map(|(hold, kinds)| {
            kinds
                .into_iter()
                .map(|(kind, other)| match kind {
                    0 => Reservation::Tentative(hold),
                    1 => Reservation::Expired(hold),
                    2 => Reservation::confirmed(hold, hold.created_at()).unwrap(),
                    3 => Reservation::Unreserved,
                    _ => other,
                })
                .collect()
        }),
    ]
}

/// An instant, before any hold starts (a lagging clock) to long after every cap, or a
/// few seconds around the start or the expiry of the hold it is resolved against.
#[derive(Debug, Clone, Copy)]
enum When {
    At(i64, i64),
    FromStart(i64, i64),
    FromExpiry(i64, i64),
}

fn when() -> impl Strategy<Value = When> {
    prop_oneof![
        (-10i64..1_400, nudge()).prop_map(|(seconds, nudge)| When::At(seconds, nudge)),
        (-3i64..=3, nudge()).prop_map(|(seconds, nudge)| When::FromStart(seconds, nudge)),
        (-3i64..=3, nudge()).prop_map(|(seconds, nudge)| When::FromExpiry(seconds, nudge)),
    ]
}

impl When {
    fn resolve(self, current: &Reservation) -> Timestamp {
        let offset = |seconds, nudge| TimeDelta::seconds(seconds) + TimeDelta::nanoseconds(nudge);
        match (self, current.hold()) {
            (Self::FromStart(seconds, nudge), Some(hold)) => {
                hold.created_at() + offset(seconds, nudge)
            }
            (Self::FromExpiry(seconds, nudge), Some(hold)) => {
                hold.expires_at() + offset(seconds, nudge)
            }
            (Self::At(seconds, nudge) | Self::FromStart(seconds, nudge), _)
            | (Self::FromExpiry(seconds, nudge), None) => at(seconds, nudge),
        }
    }
}

fn error_of(decision: Decision) -> Option<ReservationError> {
    match decision {
        Decision::Refuse(error) | Decision::RecordThenRefuse { error, .. } => Some(error),
        Decision::Write(_) | Decision::AlreadyDone => None,
    }
}

/// Whether the guard alone (what a storage adapter turns into its `WHERE` clause) admits
/// `current` at `now`: the phase, the hold's owner, and the hold's start.
fn guard_admits(guarded: &GuardedWrite, current: &Reservation, now: Timestamp) -> bool {
    guarded.from.contains(&current.phase_at(now))
        && current.hold().is_none_or(|hold| {
            guarded.owner.is_none_or(|owner| owner == *hold.owner())
                && guarded
                    .started_since
                    .is_none_or(|since| hold.created_at() >= since)
        })
}

proptest! {
    #[test]
    fn invariants_hold_for_any_sequence_of_commands(
        ttl_seconds in 1i64..=600,
        steps in prop::collection::vec((op(), 0i64..120_000_000), 1..60),
    ) {
        let policy = ReservationPolicy::from_ttl_seconds(ttl_seconds).unwrap();
        let mut now = start();
        let mut state = Reservation::Unreserved;
        let mut sale: Option<Reservation> = None;

        for (op, step_micros) in steps {
            // Time never runs backwards within one ticket's history here.
            now += TimeDelta::microseconds(step_micros);
            let command = match op {
                Op::Reserve => Command::Reserve { hold: OWNER, policy },
                Op::Confirm => Command::Confirm(Proof::ANONYMOUS),
                Op::Release => Command::Release(Proof::ANONYMOUS),
                Op::Expire => Command::Expire,
            };
            let before = state;
            state = store(state, command, now);

            // Once sold, nothing changes: neither the state nor `confirmed_at`.
            if let Some(sold) = sale {
                prop_assert_eq!(state, sold);
            }
            if let Reservation::Confirmed { .. } = state {
                sale.get_or_insert(state);
            }

            if let Some(hold) = state.hold() {
                prop_assert!(hold.created_at() < hold.expires_at());
                if state != before {
                    // Every hold the rules create lasts exactly the TTL.
                    prop_assert_eq!(hold.expires_at() - hold.created_at(), policy.ttl());
                }
            }
            if let Some(confirmed_at) = state.confirmed_at() {
                let hold = state.hold().unwrap();
                prop_assert!(hold.created_at() <= confirmed_at);
                prop_assert!(confirmed_at < hold.expires_at());
            }
            // A reserve that succeeds never takes over an active hold or a sale.
            if matches!(command, Command::Reserve { .. }) && state != before {
                prop_assert!(!matches!(before.phase_at(now), Phase::Held | Phase::Confirmed));
            }
        }
    }

    /// At most one active hold: while a hold is active, no reserve at any later instant
    /// before its expiry can produce a second one.
    #[test]
    fn an_active_hold_excludes_every_other_reserve(
        ttl_seconds in 1i64..=600,
        offset_micros in 0i64..600_000_000,
    ) {
        let policy = ReservationPolicy::from_ttl_seconds(ttl_seconds).unwrap();
        let reserve = Command::Reserve { hold: OWNER, policy };
        let held = store(Reservation::Unreserved, reserve, start());
        let later = start() + TimeDelta::microseconds(offset_micros);
        let second = Command::Reserve { hold: HOLDS[1], policy }.decide(&held, later);
        let active = held.hold().unwrap().is_active_at(later);
        prop_assert_eq!(matches!(second, Decision::Write(_)), !active);
    }

    /// The same invariants with extensions and with strangers' commands in the mix: a hold
    /// never outlasts its cap, only a reserve changes whose it is, and nobody but its
    /// owner changes it.
    #[test]
    fn invariants_hold_with_extensions_and_strangers(
        policy in policy(),
        steps in prop::collection::vec((cmd(), 0i64..120_000_000), 1..60),
    ) {
        let mut now = start();
        let mut state = Reservation::Unreserved;
        let mut sale: Option<Reservation> = None;

        for (cmd, step_micros) in steps {
            now += TimeDelta::microseconds(step_micros);
            let command = cmd.against(&state, policy, now);
            let before = state;
            state = store(state, command, now);

            if let Some(sold) = sale {
                prop_assert_eq!(state, sold);
            }
            if let Reservation::Confirmed { .. } = state {
                sale.get_or_insert(state);
            }
            if let Some(hold) = state.hold() {
                prop_assert!(hold.created_at() < hold.expires_at());
                prop_assert!(hold.expires_at() - hold.created_at() <= policy.max_hold());
            }
            if let Some(confirmed_at) = state.confirmed_at() {
                let hold = state.hold().unwrap();
                prop_assert!(hold.created_at() <= confirmed_at);
                prop_assert!(confirmed_at < hold.expires_at());
            }
            if state != before {
                match (cmd, before.hold(), state.hold()) {
                    (Cmd::Reserve(who), _, Some(hold)) => {
                        prop_assert_eq!(hold.new_hold(), HOLDS[who]);
                    }
                    (_, Some(was), Some(is)) => {
                        prop_assert_eq!(was.new_hold(), is.new_hold());
                        prop_assert_eq!(was.created_at(), is.created_at());
                    }
                    _ => {}
                }
                if let Some((token, required)) = cmd.token() {
                    prop_assert!(
                        proves_ownership(token, required),
                        "{:?} changed {:?} into {:?}", command, before, state
                    );
                }
            }
        }
    }
}

// Random single states are cheap to decide: many more of them, to reach the edges.
proptest! {
    #![proptest_config(ProptestConfig {
        cases: 2_048,
        max_global_rejects: 65_536,
        ..ProptestConfig::default()
    })]

    /// `decide` writes exactly what the guarded write applies, keeps the hold's owner, and
    /// never lets a wrong or missing-but-required token act on a hold.
    #[test]
    fn decide_writes_what_the_guarded_write_applies(
        policy in policy(),
        current in reservation(),
        cmd in cmd(),
        when in when(),
    ) {
        let now = when.resolve(&current);
        let command = cmd.against(&current, policy, now);
        let decision = command.decide(&current, now);
        let applied = command.write(now).apply(&current, now);
        match decision {
            Decision::Write(next) => prop_assert_eq!(applied, Some(next)),
            _ => prop_assert_eq!(applied, None),
        }

        if let Decision::Write(next) = decision {
            match (command, current.hold(), next.hold()) {
                (Command::Reserve { hold, policy }, _, _) => {
                    prop_assert_eq!(next, Reservation::Tentative(Hold::starting(hold, now, &policy)));
                }
                (Command::Release(_), _, _) => prop_assert_eq!(next, Reservation::Unreserved),
                (_, Some(was), Some(is)) => {
                    prop_assert_eq!(was.id(), is.id());
                    prop_assert_eq!(was.owner(), is.owner());
                    prop_assert_eq!(was.created_at(), is.created_at());
                }
                (_, was, is) => prop_assert!(false, "{:?} wrote {:?} over {:?}", command, is, was),
            }
        }

        if let (Some((token, required)), Some(_)) = (cmd.token(), current.hold()) {
            if !proves_ownership(token, required) {
                prop_assert!(
                    !matches!(decision, Decision::Write(_) | Decision::AlreadyDone),
                    "{:?} on {:?}: {:?}", command, current, decision
                );
            }
        }
        if let (Some((Token::Strangers, _)), Some(_)) = (cmd.token(), current.hold()) {
            prop_assert!(
                !matches!(decision, Decision::RecordThenRefuse { .. }),
                "a stranger recorded a lapse: {:?} on {:?}", command, current
            );
        }
    }

    /// What any reader can see for themselves is answered whatever the token: only an
    /// active hold, or a sale its owner confirms again, depends on the proof.
    #[test]
    fn refusals_any_reader_sees_come_before_the_token(
        policy in policy(),
        current in reservation(),
        cmd in cmd_on_a_hold(),
        when in when(),
    ) {
        let now = when.resolve(&current);
        let phase = current.phase_at(now);
        let confirm_of_a_sale = matches!(cmd, Cmd::Confirm(..)) && phase == Phase::Confirmed;
        prop_assume!(phase != Phase::Held && !confirm_of_a_sale);
        let errors: Vec<_> = every_token()
            .into_iter()
            .map(|(token, required)| {
                let command = cmd.with_token(token, required).against(&current, policy, now);
                error_of(command.decide(&current, now))
            })
            .collect();
        prop_assert!(errors[0].is_some());
        prop_assert!(errors.iter().all(|error| *error == errors[0]), "{:?}", errors);
    }

    /// An owner's extension writes `now + by` when that is within the cap, and is refused
    /// for the cap exactly when it is not.
    #[test]
    fn extensions_reach_the_cap_and_no_further(
        policy in policy(),
        hold in hold(),
        seconds in 1i64..=1_100,
        by_nudge in nudge(),
        into_hold in -2i64..200,
        now_nudge in nudge(),
        required in any::<bool>(),
    ) {
        let current = Reservation::Tentative(hold);
        // Any instant the hold is active at, from a clock lagging its start a little.
        let length = (hold.expires_at() - hold.created_at()).num_seconds();
        let now = hold.created_at()
            + TimeDelta::seconds(if into_hold < 0 { into_hold } else { into_hold % length })
            + TimeDelta::nanoseconds(now_nudge);
        prop_assert_eq!(current.phase_at(now), Phase::Held);
        let by = TimeDelta::seconds(seconds) + TimeDelta::nanoseconds(by_nudge);
        // A clock lagging the hold's start by more than `by` is a known gap (see
        // `an_extension_by_a_lagging_clock_is_guarded_like_it_is_decided`).
        prop_assume!(now + by > hold.created_at());
        let command = Cmd::Extend(Token::Owners, required, Span::Fixed(by))
            .against(&current, policy, now);
        let max_expires_at = hold.created_at() + policy.max_hold();
        let expected = if now + by <= max_expires_at {
            Decision::Write(Reservation::Tentative(hold.until(now + by).unwrap()))
        } else {
            Decision::Refuse(ReservationError::ExtensionLimit { max_expires_at })
        };
        prop_assert_eq!(command.decide(&current, now), expected);
    }

    /// The guard alone (phases, owner, start) admits a state exactly when `decide` writes,
    /// so an adapter's conditional update agrees with the rules.
    #[test]
    fn the_whole_guard_admits_exactly_what_decide_writes(
        policy in policy(),
        current in reservation(),
        cmd in cmd(),
        when in when(),
    ) {
        let now = when.resolve(&current);
        let command = cmd.against(&current, policy, now);
        if let (Command::Extend { by, .. }, Some(hold)) = (command, current.hold()) {
            // The known gap of a lagging clock, as above.
            prop_assume!(now + by > hold.created_at());
        }
        let writes = matches!(command.decide(&current, now), Decision::Write(_));
        prop_assert_eq!(guard_admits(&command.write(now), &current, now), writes);
    }

    /// Several tickets decided together: all or nothing, each decided as if alone.
    #[test]
    fn tickets_decided_together_are_decided_each_alone(
        policy in policy(),
        states in tickets(),
        cmd in cmd(),
        when in when(),
    ) {
        let tickets: Vec<(TicketId, Reservation)> = (1i64..)
            .zip(states)
            .map(|(id, state)| (TicketId::new(id).unwrap(), state))
            .collect();
        // One command for all: its proof, its span and now are made against the first
        // ticket's hold.
        let now = when.resolve(&tickets[0].1);
        let command = cmd.against(&tickets[0].1, policy, now);
        let alone: Vec<Decision> = tickets
            .iter()
            .map(|(_, state)| command.decide(state, now))
            .collect();
        let accepted = alone
            .iter()
            .all(|decision| matches!(decision, Decision::Write(_) | Decision::AlreadyDone));

        match command.decide_together(&tickets, now) {
            Together::Write { next, written } => {
                prop_assert!(accepted);
                let expected: Vec<(TicketId, Reservation)> = tickets
                    .iter()
                    .zip(&alone)
                    .map(|((id, state), decision)| match decision {
                        Decision::Write(next) => (*id, *next),
                        _ => (*id, *state),
                    })
                    .collect();
                prop_assert_eq!(next, expected);
                prop_assert_eq!(
                    written,
                    alone.iter().any(|decision| matches!(decision, Decision::Write(_)))
                );
            }
            Together::Refuse { refusals, records } => {
                prop_assert!(!accepted);
                let expected: Vec<(TicketId, ReservationError)> = tickets
                    .iter()
                    .zip(&alone)
                    .filter_map(|((id, _), decision)| error_of(*decision).map(|error| (*id, error)))
                    .collect();
                prop_assert_eq!(refusals, expected);
                let lapsed: Vec<(TicketId, Reservation)> = tickets
                    .iter()
                    .zip(&alone)
                    .filter(|(_, decision)| matches!(decision, Decision::RecordThenRefuse { .. }))
                    .map(|((id, state), _)| (*id, *state))
                    .collect();
                prop_assert_eq!(records.len(), lapsed.len());
                for ((id, record), (lapsed_id, was)) in records.iter().zip(&lapsed) {
                    prop_assert_eq!(id, lapsed_id);
                    prop_assert_eq!(was.phase_at(now), Phase::Lapsed);
                    let Reservation::Tentative(hold) = was else {
                        return Err(TestCaseError::fail(format!("{was:?} is not tentative")));
                    };
                    prop_assert_eq!(*record, Reservation::Expired(*hold));
                }
            }
        }
    }
}
