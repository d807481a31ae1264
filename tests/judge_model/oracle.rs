//! The oracle: runbook §4 over the abstract stream, written from the
//! evidence model of issue 10, not from judge's code. Small on purpose: it
//! is a second opinion, and its worth is that it can be read in one go.
//!
//! Per bot, in the runbook's order: a CRIT signal (held for its `for`) or a
//! NO-GO row anywhere in the window stops the phase; guard trips >= 10
//! pause Phase B; a window that is not complete continues; a window that is
//! complete but not proven clean extends; otherwise advance / promote.
//! "Proven clean" is an allow-list: every required criterion has known
//! evidence that covers the window, and nothing holds it.

use super::model::*;

/// Ordered as a fleet combines them: the worst bot decides.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum Decision {
    Advance,
    Continue,
    Extend,
    Pause,
    Stop,
}

impl Decision {
    /// judge's word for it in this phase.
    pub fn word(self, phase: Phase) -> &'static str {
        match (self, phase) {
            (Decision::Advance, Phase::A) => "advance",
            (Decision::Advance, Phase::B) => "promote",
            (Decision::Continue, _) => "continue",
            (Decision::Extend, _) => "extend",
            (Decision::Pause, Phase::A) | (Decision::Stop, Phase::A) => "stop",
            (Decision::Pause, Phase::B) => "pause",
            (Decision::Stop, Phase::B) => "rollback",
        }
    }
}

/// What one known-or-not evaluation says.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Obs {
    Clean,
    Warn,
    Crit,
    Unknown,
}

#[derive(Clone, Copy, Debug)]
struct Eval {
    t: i64,
    obs: Obs,
}

/// What a CRIT observation does.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Action {
    Stop,
    Pause,
    /// Holds (Phase B): non-recoverable trips.
    Hold,
    Note,
}

/// What evidence the criterion needs before advance / promote.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Need {
    /// Known evaluations from the window start to now, no gap > max age,
    /// the newest known and fresh.
    Coverage,
    /// At least one known evaluation in the window, and the newest
    /// evaluation fresh (the 5 m rates are unknown while no order was
    /// submitted, so an unknown one is no hold by itself).
    Window,
    /// The bot's own checks and signals, which not every bot reports: any
    /// unknown one in the window holds.
    AllKnown,
    Nothing,
}

/// One row of the criteria table.
#[derive(Clone, Copy, Debug)]
struct Criterion {
    name: &'static str,
    action: Action,
    /// How long a CRIT must hold to be a CRIT signal (runbook §3.2 `for:`).
    for_s: i64,
    need: Need,
    /// Phase B: a WARN in the window holds promotion ("< 5% sustained").
    warn_holds_b: bool,
}

const fn crit(name: &'static str, need: Need) -> Criterion {
    Criterion {
        name,
        action: Action::Stop,
        for_s: 0,
        need,
        warn_holds_b: false,
    }
}

/// The table: one row per probe-health row, then per scrape-metrics signal.
fn row_criterion(row: Row) -> Criterion {
    match row {
        Row::Status => crit("health.status", Need::Coverage),
        Row::Broker => crit("health.broker", Need::Coverage),
        Row::WsConnected => crit("health.websocket.connected", Need::Coverage),
        Row::WsStale => crit("health.websocket.stale", Need::Coverage),
        Row::WsStaleness => crit("health.websocket.staleness", Need::Coverage),
        Row::GlobalPaused => crit("health.degradation.global_paused", Need::Coverage),
        Row::ReduceOnly => crit("health.degradation.reduce_only_mode", Need::Coverage),
        Row::CheckTicker => crit("health.check.ticker_freshness", Need::AllKnown),
        Row::SignalErrorRate => crit("health.signal.order_error_rate", Need::AllKnown),
        Row::SignalGuardTrips => Criterion {
            action: Action::Note,
            ..crit("health.signal.guard_trip_count", Need::AllKnown)
        },
    }
}

fn sig_criterion(sig: Sig) -> Criterion {
    match sig {
        Sig::ErrorRate => Criterion {
            for_s: 60,
            warn_holds_b: true,
            ..crit("metrics.order_error_rate", Need::Window)
        },
        Sig::RetryRate => Criterion {
            for_s: 120,
            ..crit("metrics.order_retry_rate", Need::Window)
        },
        Sig::P95 => Criterion {
            for_s: 120,
            warn_holds_b: true,
            ..crit("metrics.broker_latency_p95", Need::Window)
        },
        Sig::GuardTrips => Criterion {
            action: Action::Pause,
            ..crit("metrics.guard_trips", Need::Coverage)
        },
    }
}

const NONRECOVERABLE: Criterion = Criterion {
    name: "metrics.guard_trips.nonrecoverable",
    action: Action::Hold,
    for_s: 0,
    need: Need::Coverage,
    warn_holds_b: false,
};

/// The oracle's verdict for one bot, with why it holds or stops.
#[derive(Clone, Debug)]
pub struct Verdict {
    pub decision: Decision,
    pub reasons: Vec<String>,
}

/// Where one record stands against the window.
enum Dated<T> {
    In(i64, T),
    /// Dated hours before the window: not evidence, never moves the window
    /// start; without --since it holds (where the window starts is then in
    /// doubt), with --since it is simply out of the window.
    Before,
    /// A day after the moment judged: not evidence. Judged live it holds
    /// the bot (a wrong clock); replayed with --at it has not happened yet.
    Future,
}

fn dated_ev(ev: Ev, t: i64) -> Option<Dated<Obs>> {
    Some(match ev {
        Ev::Ok => Dated::In(t, Obs::Clean),
        Ev::Warn => Dated::In(t, Obs::Warn),
        Ev::Crit => Dated::In(t, Obs::Crit),
        Ev::Unknown | Ev::Bad => Dated::In(t, Obs::Unknown),
        Ev::Missing => return None,
        Ev::Stale => Dated::Before,
        Ev::Future => Dated::Future,
    })
}

fn dated_count(c: Count, t: i64) -> Option<Dated<Option<u64>>> {
    Some(match c {
        Count::Val(v) => Dated::In(t, Some(v)),
        Count::Unknown => Dated::In(t, None),
        Count::Missing => return None,
        Count::Stale(_) => Dated::Before,
        Count::Future(_) => Dated::Future,
    })
}

/// A 503 the bot serves because its lifetime guard-trip count reached 10:
/// the status is CRIT, the bot's own guard_trip_count signal is CRIT, and
/// no other record of the round is CRIT or unknown. The runbook's branch
/// for it is "guard trips > 10/hr: pause", not rollback.
fn guard_trip_503(h: &[Ev; 10]) -> bool {
    if h[0] != Ev::Crit {
        return false;
    }
    for (row, ev) in ROWS.iter().zip(h).skip(1) {
        match (row, ev) {
            // A record dated outside the round ends it.
            (_, Ev::Future) => return false,
            (_, Ev::Missing | Ev::Stale) => {}
            (Row::SignalGuardTrips, ev) => return *ev == Ev::Crit,
            (_, Ev::Unknown | Ev::Bad) => return false,
            // probe-health leaves reduce_only_mode ok; judge re-judges it.
            (Row::ReduceOnly, _) => {}
            (_, Ev::Crit) => return false,
            _ => {}
        }
    }
    false
}

const GUARD_TRIP_503: Criterion = Criterion {
    name: "health.status (guard trips)",
    action: Action::Pause,
    for_s: 0,
    need: Need::Nothing,
    warn_holds_b: false,
};

/// Judge one bot of a stream.
pub fn judge_bot(set: &Setting, bot: &Bot) -> Verdict {
    let mut stops = Vec::new();
    let mut pauses = Vec::new();
    let mut holds = Vec::new();

    // The window starts at --since, or at the bot's earliest record that
    // is neither stale nor from the future.
    let start = set
        .since
        .unwrap_or_else(|| first_record(bot).unwrap_or(set.at));

    // Each criterion's evaluations in the window, in stream order.
    let mut table: Vec<(Criterion, Vec<Eval>)> = Vec::new();
    let (mut future, mut before) = (false, false);
    let mut push = |c: Criterion, d: Option<Dated<Obs>>| {
        let i = match table.iter().position(|(k, _)| k.name == c.name) {
            Some(i) => i,
            None => {
                table.push((c, Vec::new()));
                table.len() - 1
            }
        };
        match d {
            Some(Dated::In(t, obs)) if t >= start => table[i].1.push(Eval { t, obs }),
            Some(Dated::Future) => future |= set.live,
            Some(Dated::Before) => before = true,
            _ => {}
        }
    };
    for r in &bot.rounds {
        if let Some(h) = &r.health {
            let paused_by_trips = guard_trip_503(h);
            for (row, ev) in ROWS.iter().zip(h.iter()) {
                if *row == Row::Status && paused_by_trips {
                    push(row_criterion(*row), dated_ev(Ev::Ok, r.t));
                    push(GUARD_TRIP_503, dated_ev(Ev::Crit, r.t));
                } else {
                    push(row_criterion(*row), dated_ev(*ev, r.t));
                }
            }
        }
        if let Some(m) = &r.metrics {
            let t = r.t + METRICS_LAG_S;
            for (sig, ev) in SIGS.iter().zip(m.sig.iter()) {
                push(sig_criterion(*sig), dated_ev(*ev, t));
            }
            if set.phase == Phase::B {
                let d = match (m.sig[3], m.nonrec) {
                    (Ev::Missing, _) => None,
                    (Ev::Stale, _) => Some(Dated::Before),
                    (Ev::Future, _) => Some(Dated::Future),
                    (Ev::Unknown | Ev::Bad, _) => Some(Dated::In(t, Obs::Unknown)),
                    (_, NonRec::Zero) => Some(Dated::In(t, Obs::Clean)),
                    (_, NonRec::Some) => Some(Dated::In(t, Obs::Crit)),
                    (_, _) => Some(Dated::In(t, Obs::Unknown)),
                };
                push(NONRECOVERABLE, d);
            }
        }
    }
    for (c, evals) in &table {
        judge_criterion(set, start, c, evals, &mut stops, &mut pauses, &mut holds);
    }

    // Orders: counted only from increases; a decrease is a restart only
    // when the other lifetime counter falls with it.
    let mut errors = 0u64;
    let orders = count_orders(
        bot,
        start,
        set.live,
        &mut holds,
        &mut future,
        &mut before,
        &mut errors,
    );
    if future {
        holds.push("a record is dated in the future".to_owned());
    }
    if before && set.since.is_none() {
        holds.push("a record is dated before the window".to_owned());
    }

    // Evidence about the whole canary: the profile and the risk env.
    for (name, cfg) in [("profile", set.profile), ("risk env", set.risk)] {
        match cfg {
            Cfg::Crit => stops.push(format!("{name} is crit")),
            Cfg::Unknown => holds.push(format!("{name} could not be evaluated")),
            Cfg::Ok | Cfg::Absent => {}
        }
    }
    if set.malformed > 0 {
        holds.push("an input line is unreadable".to_owned());
    }

    let (min_s, min_orders) = set.phase.window();
    let complete = (set.at - start >= min_s || orders.is_some_and(|n| n >= min_orders))
        && set.at - start >= set.phase.evidence_floor();
    // The window's error rate must be proven below the phase's line at
    // 95 %: seeing as few errors as it did would be rarer than 1 in 20 if
    // the true rate were at the line. (An inconsistent count holds already.)
    if let Some(n) = orders
        && !proven_below(errors, n, set.phase.error_line())
    {
        holds.push(format!(
            "the window's error rate ({errors} in {n} orders) is not proven below {}",
            set.phase.error_line()
        ));
    }
    let (decision, reasons) = if !stops.is_empty() {
        (Decision::Stop, stops)
    } else if !pauses.is_empty() {
        (Decision::Pause, pauses)
    } else if !complete {
        (Decision::Continue, holds)
    } else if !holds.is_empty() {
        (Decision::Extend, holds)
    } else {
        (
            Decision::Advance,
            vec!["every required criterion is proven clean".to_owned()],
        )
    };
    Verdict { decision, reasons }
}

/// The earliest record of the bot that is neither stale nor from the future.
fn first_record(bot: &Bot) -> Option<i64> {
    bot.rounds
        .iter()
        .filter_map(|r| {
            let h = r.health.as_ref().and_then(|h| {
                h.iter()
                    .any(|e| matches!(e, Ev::Ok | Ev::Warn | Ev::Crit | Ev::Unknown | Ev::Bad))
                    .then_some(r.t)
            });
            let m = r.metrics.as_ref().and_then(|m| {
                let any = m
                    .sig
                    .iter()
                    .any(|e| matches!(e, Ev::Ok | Ev::Warn | Ev::Crit | Ev::Unknown | Ev::Bad))
                    || matches!(m.orders, Count::Val(_) | Count::Unknown)
                    || matches!(m.trips, Count::Val(_) | Count::Unknown);
                any.then_some(r.t + METRICS_LAG_S)
            });
            h.or(m)
        })
        .min()
}

#[allow(clippy::too_many_arguments)]
fn judge_criterion(
    set: &Setting,
    start: i64,
    c: &Criterion,
    evals: &[Eval],
    stops: &mut Vec<String>,
    pauses: &mut Vec<String>,
    holds: &mut Vec<String>,
) {
    let name = c.name;
    // CRIT: a run of consecutive CRIT evaluations spanning `for`.
    let mut run_start: Option<i64> = None;
    let mut fired = false;
    for e in evals {
        if e.obs == Obs::Crit {
            let s = *run_start.get_or_insert(e.t);
            fired |= e.t - s >= c.for_s;
        } else {
            run_start = None;
        }
    }
    let pending = !fired && run_start.is_some();
    match c.action {
        Action::Stop if fired => stops.push(format!("{name}: CRIT in the window")),
        Action::Pause if fired => match set.phase {
            Phase::A => stops.push(format!("{name}: CRIT in the window")),
            Phase::B => pauses.push(format!("{name}: CRIT in the window")),
        },
        Action::Stop | Action::Pause if pending => {
            holds.push(format!("{name}: CRIT not yet held for its for"))
        }
        Action::Hold if evals.iter().any(|e| e.obs == Obs::Crit) => {
            holds.push(format!("{name}: fired in the window"))
        }
        _ => {}
    }
    if set.phase == Phase::B
        && c.warn_holds_b
        && evals.iter().any(|e| matches!(e.obs, Obs::Warn | Obs::Crit))
    {
        holds.push(format!("{name}: not below WARN in the whole window"));
    }

    // Evidence.
    let known: Vec<i64> = evals
        .iter()
        .filter(|e| e.obs != Obs::Unknown)
        .map(|e| e.t)
        .collect();
    let newest_unknown = evals.last().is_some_and(|e| e.obs == Obs::Unknown);
    let fresh = |t: i64| set.at - t <= MAX_AGE_S;
    let hold = match c.need {
        Need::Nothing => None,
        Need::AllKnown => evals
            .iter()
            .any(|e| e.obs == Obs::Unknown)
            .then_some("unknown in the window"),
        Need::Window => {
            if known.is_empty() {
                Some("no known evidence in the window")
            } else if !evals.last().is_some_and(|e| fresh(e.t)) {
                Some("the newest evidence is stale")
            } else {
                None
            }
        }
        Need::Coverage => {
            if known.is_empty() {
                Some("no known evidence in the window")
            } else if newest_unknown {
                Some("the newest evaluation is unknown")
            } else if !known.last().is_some_and(|t| fresh(*t)) {
                Some("the newest known evidence is stale")
            } else if known[0] - start > MAX_AGE_S
                || known.windows(2).any(|w| w[1] - w[0] > MAX_AGE_S)
            {
                Some("the known evidence does not cover the window")
            } else {
                None
            }
        }
    };
    if let Some(why) = hold {
        holds.push(format!("{name}: {why}"));
    }
}

/// Orders in the window, or None when the counters are inconsistent.
fn count_orders(
    bot: &Bot,
    start: i64,
    live: bool,
    holds: &mut Vec<String>,
    future: &mut bool,
    before: &mut bool,
    errors: &mut u64,
) -> Option<u64> {
    let mut prev: [Option<u64>; 2] = [None, None];
    let mut prev_t = start;
    let mut orders = 0u64;
    let (mut consistent, mut unknown) = (true, false);
    // process.restart records not yet spent: each explains one fall.
    let mut restarts: Vec<i64> = Vec::new();
    for r in &bot.rounds {
        if r.restarted && r.t >= start {
            restarts.push(r.t);
        }
        let Some(m) = &r.metrics else { continue };
        let mut now: [Option<u64>; 2] = [None, None];
        for (i, c) in [m.orders, m.trips].into_iter().enumerate() {
            match dated_count(c, r.t + METRICS_LAG_S) {
                Some(Dated::In(t, v)) if t >= start => {
                    now[i] = v;
                    unknown |= v.is_none();
                }
                Some(Dated::Future) => *future |= live,
                Some(Dated::Before) => *before = true,
                _ => {}
            }
        }
        // Each counter against its own previous known value. A fall is a
        // restart if a restart record dates it, or if the other counter fell
        // too; one that held at 0 says nothing, so alone it cannot vouch.
        let fell = |i: usize| matches!((prev[i], now[i]), (Some(p), Some(n)) if n < p);
        let t = r.t + METRICS_LAG_S;
        let recorded = fell(0)
            && match restarts
                .iter()
                .position(|rt| (prev_t - MAX_AGE_S..=t).contains(rt))
            {
                Some(i) => {
                    restarts.remove(i);
                    true
                }
                None => false,
            };
        let restart = recorded || (fell(0) && fell(1));
        if fell(0) && !restart {
            consistent = false;
        }
        if let (Some(p), Some(n)) = (prev[0], now[0]) {
            orders += if restart { n } else { n.saturating_sub(p) };
            // The failed orders the same way, from by_result.
            *errors += if restart {
                failed_of(n)
            } else {
                failed_of(n).saturating_sub(failed_of(p))
            };
        }
        if now[0].is_some() {
            prev_t = t;
        }
        for i in 0..2 {
            if now[i].is_some() {
                prev[i] = now[i];
            }
        }
    }
    if unknown {
        holds.push("metrics.orders: a lifetime counter is unknown".to_owned());
    }
    if consistent {
        Some(orders)
    } else {
        holds.push("metrics.orders: a lifetime counter fell without a coherent restart".to_owned());
        None
    }
}

/// P(X <= k) for X ~ Binomial(n, p), summed term by term.
fn binomial_cdf(k: u64, n: u64, p: f64) -> f64 {
    let mut term = (1.0 - p).powi(n as i32);
    let mut sum = term;
    for j in 1..=k.min(n) {
        term *= (n - j + 1) as f64 / j as f64 * p / (1.0 - p);
        sum += term;
    }
    sum
}

/// `k` errors in `n` orders prove the true rate below `line` at 95 %:
/// at the line, k or fewer errors would have probability under 5 %.
fn proven_below(k: u64, n: u64, line: f64) -> bool {
    n > 0 && k < n && binomial_cdf(k, n, line) < 0.05
}

/// The weaker invariant, on its own: the necessary conditions for any
/// advance / promote, however the details are read. A judge that advances
/// or promotes where this is false has failed open.
pub fn proven_clean(set: &Setting, bot: &Bot) -> Result<(), String> {
    if set.malformed > 0 {
        return Err("an input line is unreadable".into());
    }
    if set.profile == Cfg::Crit || set.profile == Cfg::Unknown {
        return Err("profile evidence is crit or unknown".into());
    }
    if set.risk == Cfg::Crit || set.risk == Cfg::Unknown {
        return Err("risk env evidence is crit or unknown".into());
    }
    let start = set.since.unwrap_or(i64::MIN);
    let in_window: Vec<&Round> = bot.rounds.iter().filter(|r| r.t >= start).collect();
    let fresh = |t: i64| set.at - t <= MAX_AGE_S;
    // Every §2.1 row: no NO-GO in the window, the newest known and fresh.
    for (i, row) in ROWS.iter().enumerate() {
        let c = row_criterion(*row);
        if c.need != Need::Coverage {
            continue;
        }
        let evs: Vec<(i64, Ev)> = in_window
            .iter()
            .filter_map(|r| r.health.as_ref().map(|h| (r.t, h[i])))
            .filter(|(_, e)| !matches!(e, Ev::Missing | Ev::Stale))
            .filter(|(_, e)| set.live || *e != Ev::Future)
            .collect();
        if evs.iter().any(|(_, e)| matches!(e, Ev::Crit | Ev::Future)) {
            return Err(format!("{}: CRIT or future-dated in the window", c.name));
        }
        match evs.last() {
            Some((t, Ev::Ok | Ev::Warn)) if fresh(*t) => {}
            _ => return Err(format!("{}: the newest is not known and fresh", c.name)),
        }
    }
    // Guard trips: never >= 10, and in Phase B never a non-recoverable one.
    let guard: Vec<(i64, &Metrics)> = in_window
        .iter()
        .filter_map(|r| r.metrics.as_ref().map(|m| (r.t + METRICS_LAG_S, m)))
        .filter(|(_, m)| !matches!(m.sig[3], Ev::Missing | Ev::Stale))
        .filter(|(_, m)| set.live || m.sig[3] != Ev::Future)
        .collect();
    if guard
        .iter()
        .any(|(_, m)| matches!(m.sig[3], Ev::Crit | Ev::Future))
    {
        return Err("metrics.guard_trips: CRIT or future-dated in the window".into());
    }
    match guard.last() {
        Some((t, m)) if fresh(*t) && matches!(m.sig[3], Ev::Ok | Ev::Warn) => {
            if set.phase == Phase::B && m.nonrec != NonRec::Zero {
                return Err("non-recoverable guard trips: the newest is not 0".into());
            }
        }
        _ => return Err("metrics.guard_trips: the newest is not known and fresh".into()),
    }
    if set.phase == Phase::B && guard.iter().any(|(_, m)| m.nonrec == NonRec::Some) {
        return Err("non-recoverable guard trips in the window".into());
    }
    // A lone counter that falls is never a restart (unless the process
    // manager recorded one).
    if bot.rounds.iter().any(|r| r.restarted) {
        return Ok(());
    }
    let mut prev: Option<(u64, u64)> = None;
    for (_, m) in &guard {
        if let (Count::Val(o), Count::Val(g)) = (m.orders, m.trips) {
            if let Some((po, pg)) = prev
                && o < po
                && g >= pg
            {
                return Err("a lone counter fell".into());
            }
            prev = Some((o, g));
        }
    }
    Ok(())
}

/// The oracle on hand-built streams: it must be right before it judges judge.
#[cfg(test)]
mod sanity {
    use super::*;

    fn clean(n: usize, orders_per_round: u64) -> Bot {
        let last = super::super::generate::AT - 20;
        Bot {
            rounds: (0..n)
                .map(|k| Round {
                    t: last - ROUND_S * (n - 1 - k) as i64,
                    health: Some([Ev::Ok; 10]),
                    metrics: Some(Metrics {
                        sig: [Ev::Ok; 4],
                        nonrec: NonRec::Zero,
                        orders: Count::Val(100 + orders_per_round * k as u64),
                        trips: Count::Val(3),
                    }),
                    restarted: false,
                })
                .collect(),
        }
    }

    fn setting(phase: Phase) -> Setting {
        Setting {
            phase,
            at: super::super::generate::AT,
            since: None,
            profile: Cfg::Absent,
            risk: Cfg::Absent,
            malformed: 0,
            live: false,
        }
    }

    fn decide(phase: Phase, bot: &Bot) -> Decision {
        judge_bot(&setting(phase), bot).decision
    }

    fn set_orders(bot: &mut Bot, k: usize, orders: u64, trips: u64) {
        let m = bot.rounds[k].metrics.as_mut().expect("metrics");
        m.orders = Count::Val(orders);
        m.trips = Count::Val(trips);
    }

    #[test]
    fn a_clean_complete_window_advances_and_a_short_one_continues() {
        assert_eq!(decide(Phase::B, &clean(12, 6)), Decision::Advance);
        assert_eq!(decide(Phase::B, &clean(5, 1)), Decision::Continue);
        assert!(proven_clean(&setting(Phase::B), &clean(12, 6)).is_ok());
    }

    #[test]
    fn a_complete_window_must_prove_its_error_rate() {
        // The table: 0 errors in 58 orders do not prove < 5 %, 59 do.
        assert!(!proven_below(0, 58, 0.05) && proven_below(0, 59, 0.05));
        assert!(!proven_below(0, 10, 0.15) && proven_below(0, 19, 0.15));
        assert!(!proven_below(0, 0, 0.05) && !proven_below(3, 3, 0.15));
        // Phase A, 12 rounds: 11 clean orders cannot advance, 22 can.
        assert_eq!(decide(Phase::A, &clean(12, 1)), Decision::Extend);
        assert_eq!(decide(Phase::A, &clean(12, 2)), Decision::Advance);
        // Phase B: 50 orders by round 10 but the window is 9 minutes; with
        // 10 orders a round they are in by minute 5, under the 7 m floor.
        assert_eq!(decide(Phase::B, &clean(6, 10)), Decision::Continue);
        assert_eq!(decide(Phase::B, &clean(9, 10)), Decision::Advance);
    }

    #[test]
    fn a_global_pause_anywhere_stops() {
        let mut bot = clean(12, 6);
        bot.rounds[3].health.as_mut().expect("health")[5] = Ev::Crit;
        assert_eq!(decide(Phase::B, &bot), Decision::Stop);
    }

    #[test]
    fn a_dip_is_no_restart_but_a_coherent_or_recorded_fall_is() {
        // 5 rounds, 5 min: complete only by 10 orders.
        let mut dip = clean(5, 1);
        set_orders(&mut dip, 2, 100, 3);
        assert_eq!(decide(Phase::A, &dip), Decision::Continue);
        // (30 orders after the restart: enough to prove the rate below CRIT.)
        let mut restart = clean(5, 1);
        set_orders(&mut restart, 2, 30, 0);
        set_orders(&mut restart, 3, 31, 0);
        set_orders(&mut restart, 4, 32, 0);
        assert_eq!(decide(Phase::A, &restart), Decision::Advance);
        let mut recorded = dip.clone();
        set_orders(&mut recorded, 2, 11, 3);
        set_orders(&mut recorded, 3, 12, 3);
        assert_eq!(decide(Phase::A, &recorded), Decision::Continue);
        recorded.rounds[2].restarted = true;
        assert_eq!(decide(Phase::A, &recorded), Decision::Advance);
    }

    #[test]
    fn unknown_stale_or_missing_evidence_never_advances() {
        let mut unknown = clean(12, 6);
        unknown.rounds[11].health.as_mut().expect("health")[2] = Ev::Unknown;
        assert_eq!(decide(Phase::A, &unknown), Decision::Extend);
        let mut gap = clean(12, 6);
        for k in 4..8 {
            gap.rounds[k].health = None;
        }
        assert_eq!(decide(Phase::A, &gap), Decision::Extend);
        let mut nonrec = clean(12, 6);
        nonrec.rounds[6].metrics.as_mut().expect("metrics").nonrec = NonRec::Null;
        assert_eq!(
            decide(Phase::B, &nonrec),
            Decision::Advance,
            "tolerated as one lost round"
        );
        nonrec.rounds[11].metrics.as_mut().expect("metrics").nonrec = NonRec::Absent;
        assert_eq!(decide(Phase::B, &nonrec), Decision::Extend);
    }

    #[test]
    fn a_stale_record_holds_without_since_and_decides_nothing() {
        let mut bot = clean(12, 6);
        bot.rounds[6].health.as_mut().expect("health")[5] = Ev::Stale;
        assert_eq!(decide(Phase::B, &bot), Decision::Extend);
        let since = Setting {
            since: Some(bot.rounds[0].t - 5),
            ..setting(Phase::B)
        };
        assert_eq!(judge_bot(&since, &bot).decision, Decision::Advance);
    }

    #[test]
    fn a_503_from_guard_trips_alone_pauses() {
        let mut bot = clean(12, 6);
        let h = bot.rounds[8].health.as_mut().expect("health");
        h[0] = Ev::Crit;
        h[9] = Ev::Crit;
        assert_eq!(decide(Phase::B, &bot), Decision::Pause);
        bot.rounds[8].health.as_mut().expect("health")[1] = Ev::Crit;
        assert_eq!(decide(Phase::B, &bot), Decision::Stop);
    }
}
