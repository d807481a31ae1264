//! The canary against production (the baseline), docs/judge.md "Against
//! production".
//!
//! Records marked `"role": "baseline"`, or of the bot named by
//! `--baseline`, are production's: they are taken here and never reach
//! the canary's state, so they can never count as the canary's evidence.
//! The canary's records are read here too (and judged as always). For each
//! compared signal the newest windowed record of each side gives exact
//! counts (counter deltas) or bucket deltas; one `judge.comparison` record
//! per signal says canary vs baseline, the effect size, the p-value and
//! better/same/worse. A significant regression beyond its tolerance holds
//! advance and promotion; a large one in Phase B rolls back.

use crate::target::bot_key;
use crate::verdict::{Judged, Judging};
use canary_core::compare::{self, CompareError, Counts, LatencyTest, RateTest};
use canary_core::role::Role;
use canary_core::verdict::{Reason, Scope};
use canary_core::{Decision, Exit, Kind, Level, Phase, Record};
use jiff::Timestamp;
use serde_json::{Value, json};
use std::collections::{BTreeMap, BTreeSet};

/// The record judge writes, one per compared signal.
pub const RECORD: &str = "judge.comparison";

/// The criterion the comparison proves.
const CRITERION: &str = "the canary is no worse than production";

/// Bots kept per side: past it, a new bot's records are not compared.
const MAX_BOTS: usize = 64;

/// The comparison's options.
#[derive(Debug, Clone, clap::Args)]
pub struct Args {
    /// Production's bot (host:port, or a URL of it): its records are the
    /// baseline the canary is compared with, never the canary's evidence.
    /// Records marked "role": "baseline" are the baseline too.
    #[arg(long, value_name = "TARGET")]
    pub baseline: Option<String>,

    /// One-sided significance level of a regression against the baseline.
    #[arg(long, default_value_t = 0.05, value_parser = parse_alpha, value_name = "P")]
    pub baseline_alpha: f64,

    /// Significance level a large regression needs to roll back (Phase B).
    #[arg(long, default_value_t = 0.01, value_parser = parse_alpha, value_name = "P")]
    pub baseline_rollback_alpha: f64,

    /// What a large, significant regression does in Phase B.
    #[arg(long, value_enum, default_value_t = Large::Rollback, value_name = "ACTION")]
    pub baseline_large: Large,

    /// Override a signal's tolerances (repeatable): SIGNAL=HOLD:LARGE, the
    /// effect beyond which a significant regression holds, and from which
    /// it is large; SIGNAL is order_error_rate, order_retry_rate or
    /// broker_latency (e.g. order_error_rate=0.02:0.08).
    #[arg(long, value_parser = parse_tolerance, value_name = "SIGNAL=HOLD:LARGE")]
    pub baseline_tolerance: Vec<Tolerance>,
}

/// A signal's tolerances set on the command line.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Tolerance {
    pub signal: Signal,
    pub hold: f64,
    pub large: f64,
}

fn parse_tolerance(s: &str) -> Result<Tolerance, String> {
    let bad = || {
        format!(
            "'{s}' is not SIGNAL=HOLD:LARGE with 0 <= HOLD <= LARGE (e.g. order_error_rate=0.02:0.08)"
        )
    };
    let (name, rest) = s.split_once('=').ok_or_else(bad)?;
    let spec = SPECS
        .iter()
        .find(|x| x.name == name.trim())
        .ok_or_else(|| {
            let names: Vec<&str> = SPECS.iter().map(|x| x.name).collect();
            format!(
                "unknown signal '{}' (one of {})",
                name.trim(),
                names.join(", ")
            )
        })?;
    let (hold, large) = rest.split_once(':').ok_or_else(bad)?;
    let num = |t: &str| {
        t.trim()
            .parse::<f64>()
            .ok()
            .filter(|x| x.is_finite() && *x >= 0.0)
    };
    let (Some(hold), Some(large)) = (num(hold), num(large)) else {
        return Err(bad());
    };
    // Cliff's delta and rate differences never exceed 1.
    if hold > large || large > 1.0 {
        return Err(bad());
    }
    Ok(Tolerance {
        signal: spec.signal,
        hold,
        large,
    })
}

/// A large regression's decision in Phase B.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Large {
    /// Roll back.
    Rollback,
    /// Only hold promotion, as any significant regression does.
    Hold,
}

fn parse_alpha(s: &str) -> Result<f64, String> {
    match s.trim().parse::<f64>() {
        Ok(p) if p > 0.0 && p < 0.5 => Ok(p),
        _ => Err(format!("'{s}' is not a significance level in (0, 0.5)")),
    }
}

/// The compared signals.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Signal {
    ErrorRate,
    RetryRate,
    Latency,
}

/// How a signal is tested.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Test {
    /// Errors among orders: Fisher's exact test.
    Fisher,
    /// Retries per order: the exact conditional Poisson test.
    Poisson,
    /// Histogram buckets: Mann-Whitney U.
    MannWhitney,
}

/// One signal's facts, in one table: its record, its test, and the
/// effect beyond which a significant regression holds (`hold`) or, in
/// Phase B, rolls back (`large`).
#[derive(Debug, Clone, Copy)]
struct Spec {
    signal: Signal,
    name: &'static str,
    record: &'static str,
    test: Test,
    /// The effect measure: a rate difference, or Cliff's delta.
    effect: &'static str,
    hold: f64,
    large: f64,
}

const SPECS: [Spec; 3] = [
    // 1 point of errors over production; 10 points (WARN to CRIT) is large.
    Spec {
        signal: Signal::ErrorRate,
        name: "order_error_rate",
        record: "metrics.order_error_rate",
        test: Test::Fisher,
        effect: "difference",
        hold: 0.01,
        large: 0.10,
    },
    // 5 retries per 100 orders over production; 15 (WARN to CRIT) is large.
    Spec {
        signal: Signal::RetryRate,
        name: "order_retry_rate",
        record: "metrics.order_retry_rate",
        test: Test::Poisson,
        effect: "difference",
        hold: 0.05,
        large: 0.15,
    },
    // Cliff's delta: beyond negligible (0.147) holds; large from 0.474
    // (Romano et al.'s bounds).
    Spec {
        signal: Signal::Latency,
        name: "broker_latency",
        record: "metrics.broker_latency_p95",
        test: Test::MannWhitney,
        effect: "cliffs_delta",
        hold: 0.147,
        large: 0.474,
    },
];

fn spec_of(record: &str) -> Option<&'static Spec> {
    SPECS.iter().find(|s| s.record == record)
}

/// What one side's newest record of a signal says.
#[derive(Debug, Clone, PartialEq)]
enum Sample {
    Rate(Counts),
    /// Cumulative counts per bound, the last bound +Inf.
    Buckets(Vec<(f64, u64)>),
}

#[derive(Debug, Clone)]
struct Seen {
    ts: Timestamp,
    sample: Result<Sample, String>,
    window: Value,
}

/// Everything one side said: per bot, per signal, the newest record.
type Side = BTreeMap<String, BTreeMap<Signal, Seen>>;

/// Where a record goes.
#[derive(Debug, PartialEq)]
pub enum Route {
    /// The canary's: judge it as always.
    Canary,
    /// Production's: compared only, never the canary's evidence.
    Baseline,
    /// Neither: an invalid role, or a role against `--baseline`. Not
    /// evidence for either side; held as an unreadable input.
    Refused(String),
}

/// The comparison's state over the stream.
#[derive(Debug)]
pub struct Against {
    args: Args,
    /// `--baseline` as a bot key.
    named: Option<String>,
    canary: Side,
    baseline: Side,
    /// Every bot each side's records came from, whatever their name
    /// (bounded by MAX_BOTS per side).
    canary_bots: BTreeSet<String>,
    baseline_bots: BTreeSet<String>,
    /// Bots whose records claimed both roles.
    both: Vec<String>,
}

fn key_of(target: &str) -> String {
    bot_key(target).unwrap_or_else(|| target.trim().to_owned())
}

impl Against {
    pub fn new(args: &Args) -> Against {
        Against {
            args: args.clone(),
            named: args.baseline.as_deref().map(key_of),
            canary: Side::new(),
            baseline: Side::new(),
            canary_bots: BTreeSet::new(),
            baseline_bots: BTreeSet::new(),
            both: Vec::new(),
        }
    }

    /// Route one record, noting what it says of a compared signal.
    pub fn take(&mut self, rec: &Record) -> Route {
        let role = match Role::of(rec) {
            Ok(r) => r,
            Err(why) => return Route::Refused(format!("{why}: not evidence for either side")),
        };
        let key = key_of(&rec.target);
        let named = self.named.as_deref() == Some(key.as_str());
        let explicit = rec.extra.contains_key(canary_core::role::FIELD);
        let route = match (role, explicit, named) {
            (Role::Baseline, _, _) => Route::Baseline,
            (Role::Canary, true, true) => {
                return Route::Refused(format!(
                    "{} from {}: marked role canary, but --baseline names that bot: not \
                     evidence for either side",
                    rec.name, rec.target
                ));
            }
            (Role::Canary, false, true) => Route::Baseline,
            (Role::Canary, _, false) => Route::Canary,
        };
        let (mine, bots, other) = match route {
            Route::Baseline => (
                &mut self.baseline,
                &mut self.baseline_bots,
                &self.canary_bots,
            ),
            _ => (&mut self.canary, &mut self.canary_bots, &self.baseline_bots),
        };
        if other.contains(&key) && !self.both.contains(&key) {
            self.both.push(key.clone());
        }
        if bots.len() < MAX_BOTS {
            bots.insert(key.clone());
        }
        if let Some(spec) = spec_of(&rec.name) {
            if mine.len() < MAX_BOTS || mine.contains_key(&key) {
                let seen = Seen {
                    ts: rec.ts,
                    sample: sample_of(spec, rec),
                    window: rec.extra.get("window").cloned().unwrap_or(Value::Null),
                };
                let slot = mine.entry(key).or_default();
                match slot.get(&spec.signal) {
                    Some(old) if old.ts > rec.ts => {}
                    _ => {
                        slot.insert(spec.signal, seen);
                    }
                }
            }
        }
        route
    }

    /// Whether the stream asks for a comparison at all.
    fn active(&self) -> bool {
        self.named.is_some() || !self.baseline_bots.is_empty()
    }

    /// Compare, write nothing yet: the comparison records, and the
    /// verdicts adjusted (a regression holds or rolls back; an unknown
    /// comparison holds).
    pub fn settle(&self, judged: &mut [Judged<'_>], how: &Judging) -> Vec<Record> {
        if !self.active() {
            return Vec::new();
        }
        let fleet = judged.iter().any(|j| j.scope == Scope::Target);
        let baseline_key = self.baseline_key();
        // The canary's bots: each judged bot, or the one overall verdict.
        let bots: Vec<String> = if fleet {
            judged
                .iter()
                .filter(|j| j.scope == Scope::Target)
                .map(|j| j.target.clone())
                .collect()
        } else {
            vec![
                judged
                    .first()
                    .map_or_else(|| "canary".into(), |j| j.target.clone()),
            ]
        };
        let mut out = Vec::new();
        for bot in &bots {
            // A lone bot's verdict reads canary evidence of any target (a
            // file, stdin); a fleet's bot only its own.
            let canary = if fleet {
                self.canary.get(bot).cloned().unwrap_or_default()
            } else {
                self.lone_canary()
            };
            for spec in &self.specs() {
                let c = self.compare(spec, bot, canary.get(&spec.signal), &baseline_key, how);
                out.push(c.record(spec, bot, &baseline_key, how, &self.args));
                for j in judged.iter_mut() {
                    let mine = j.target == *bot || j.scope == Scope::Overall;
                    if mine {
                        apply(
                            j,
                            &c,
                            spec,
                            bot,
                            fleet && j.scope == Scope::Overall,
                            how,
                            &self.args,
                        );
                    }
                }
            }
        }
        out
    }

    /// The signal table with the command line's tolerances.
    fn specs(&self) -> Vec<Spec> {
        SPECS
            .iter()
            .map(|s| {
                let mut s = *s;
                if let Some(t) = self
                    .args
                    .baseline_tolerance
                    .iter()
                    .rfind(|t| t.signal == s.signal)
                {
                    s.hold = t.hold;
                    s.large = t.large;
                }
                s
            })
            .collect()
    }

    /// The baseline bot: the one named, or the one bot records marked.
    fn baseline_key(&self) -> Result<String, String> {
        if let Some(k) = &self.named {
            return Ok(k.clone());
        }
        let keys: Vec<&String> = self.baseline_bots.iter().collect();
        match keys.as_slice() {
            [one] => Ok((*one).clone()),
            [] => Err("no baseline record".into()),
            many => Err(format!(
                "records of {} bots are marked baseline ({}): which one is production cannot \
                 be told; name it with --baseline",
                many.len(),
                many.iter()
                    .map(|k| k.as_str())
                    .collect::<Vec<_>>()
                    .join(", ")
            )),
        }
    }

    /// A single canary's evidence: its one bot, or none when several
    /// targets speak for it (compared nowhere: unknown).
    fn lone_canary(&self) -> BTreeMap<Signal, Seen> {
        let mut merged: BTreeMap<Signal, Seen> = BTreeMap::new();
        for seen in self.canary.values() {
            for (sig, s) in seen {
                match merged.get(sig) {
                    Some(old) if old.ts > s.ts => {}
                    _ => {
                        merged.insert(*sig, s.clone());
                    }
                }
            }
        }
        merged
    }

    fn compare(
        &self,
        spec: &Spec,
        bot: &str,
        canary: Option<&Seen>,
        baseline_key: &Result<String, String>,
        how: &Judging,
    ) -> Comparison {
        let unknown = |why: String| Comparison {
            class: Class::Unknown(why),
            canary: canary.cloned(),
            baseline: None,
            test: None,
        };
        let key = match baseline_key {
            Ok(k) => k,
            Err(why) => return unknown(why.clone()),
        };
        if self.both.contains(key) || self.both.iter().any(|b| b == bot) {
            return unknown(format!(
                "records of {} are marked both canary and baseline: neither side can be trusted",
                if self.both.contains(key) { key } else { bot }
            ));
        }
        let baseline = self.baseline.get(key).and_then(|m| m.get(&spec.signal));
        let fresh = |side: &str, seen: Option<&Seen>| -> Result<Sample, String> {
            let Some(s) = seen else {
                return Err(format!("no {} record from the {side}", spec.record));
            };
            if how.since.is_some_and(|since| s.ts < since) {
                return Err(format!(
                    "the {side}'s newest {} is before the window",
                    spec.record
                ));
            }
            let age = how.at.duration_since(s.ts);
            if age.is_negative() && age.unsigned_abs() > how.max_skew {
                return Err(format!(
                    "the {side}'s newest {} is from the future ({})",
                    spec.record, s.ts
                ));
            }
            if age.unsigned_abs() > how.max_age && !age.is_negative() {
                return Err(format!(
                    "the {side}'s newest {} ({}) is older than the max age {}",
                    spec.record,
                    s.ts,
                    canary_core::duration::format_duration(how.max_age)
                ));
            }
            s.sample
                .clone()
                .map_err(|why| format!("the {side}'s newest {}: {why}", spec.record))
        };
        let c = fresh("canary", canary);
        let b = fresh("baseline", baseline);
        let mut cmp = Comparison {
            class: Class::Same,
            canary: canary.cloned(),
            baseline: baseline.cloned(),
            test: None,
        };
        let (c, b) = match (c, b) {
            (Ok(c), Ok(b)) => (c, b),
            (Err(why), _) | (_, Err(why)) => {
                cmp.class = Class::Unknown(why);
                return cmp;
            }
        };
        let result = match (spec.test, &c, &b) {
            (Test::Fisher, Sample::Rate(c), Sample::Rate(b)) => {
                compare::fisher(*c, *b).map(Outcome::Rate)
            }
            (Test::Poisson, Sample::Rate(c), Sample::Rate(b)) => {
                compare::poisson_rates(*c, *b).map(Outcome::Rate)
            }
            (Test::MannWhitney, Sample::Buckets(c), Sample::Buckets(b)) => {
                latency(c, b).map(Outcome::Latency)
            }
            _ => Err(CompareError::Bounds),
        };
        match result {
            Err(e) => cmp.class = Class::Unknown(e.to_string()),
            Ok(t) => {
                let (effect, p_worse, p_better) = t.effect();
                let alpha = self.args.baseline_alpha;
                // Effects are differences of floats: 0.15 - 0.05 must reach 0.10.
                let large = effect >= spec.large - 1e-9;
                cmp.class = if p_worse < alpha && effect > spec.hold {
                    if p_worse < self.args.baseline_rollback_alpha && large {
                        Class::Worse { large: true }
                    } else {
                        Class::Worse { large: false }
                    }
                } else if p_better < alpha && -effect > spec.hold {
                    Class::Better
                } else {
                    Class::Same
                };
                cmp.test = Some(t);
            }
        }
        cmp
    }
}

/// Mann-Whitney U over two cumulative bucket lists with the same bounds.
fn latency(c: &[(f64, u64)], b: &[(f64, u64)]) -> Result<LatencyTest, CompareError> {
    let same = c.len() == b.len() && c.iter().zip(b).all(|(x, y)| x.0 == y.0);
    if !same {
        return Err(CompareError::Bounds);
    }
    let per = |v: &[(f64, u64)]| {
        compare::decumulate(&v.iter().map(|x| x.1).collect::<Vec<_>>()).ok_or(CompareError::Bounds)
    };
    compare::mann_whitney(&per(c)?, &per(b)?)
}

/// A test's result.
#[derive(Debug, Clone, Copy)]
enum Outcome {
    Rate(RateTest),
    Latency(LatencyTest),
}

impl Outcome {
    /// (effect, p worse, p better); the effect is positive when the canary is worse.
    fn effect(&self) -> (f64, f64, f64) {
        match self {
            Outcome::Rate(t) => (t.difference, t.p_worse, t.p_better),
            Outcome::Latency(t) => (t.cliffs_delta, t.p_worse, t.p_better),
        }
    }
}

/// better / same / worse, or why the comparison cannot be made.
#[derive(Debug, Clone, PartialEq)]
enum Class {
    Better,
    Same,
    Worse { large: bool },
    Unknown(String),
}

impl Class {
    fn word(&self) -> &'static str {
        match self {
            Class::Better => "better",
            Class::Same => "same",
            Class::Worse { .. } => "worse",
            Class::Unknown(_) => "unknown",
        }
    }
}

#[derive(Debug, Clone)]
struct Comparison {
    class: Class,
    canary: Option<Seen>,
    baseline: Option<Seen>,
    test: Option<Outcome>,
}

/// Whether a large regression rolls back here.
fn rolls_back(class: &Class, how: &Judging, args: &Args) -> bool {
    matches!(class, Class::Worse { large: true })
        && how.phase == Phase::B
        && args.baseline_large == Large::Rollback
}

fn level_of(class: &Class, how: &Judging, args: &Args) -> Level {
    match class {
        Class::Unknown(_) => Level::Unknown,
        Class::Worse { .. } if rolls_back(class, how, args) => Level::Crit,
        Class::Worse { .. } => Level::Warn,
        Class::Better | Class::Same => Level::Ok,
    }
}

fn side_json(seen: &Option<Seen>) -> Value {
    let Some(s) = seen else { return Value::Null };
    let mut v = match &s.sample {
        Ok(Sample::Rate(c)) => json!({"events": c.events, "trials": c.trials, "rate": c.rate()}),
        Ok(Sample::Buckets(b)) => json!({
            "observations": b.last().map_or(0, |x| x.1),
            "p95_ms": p95_ms(b),
        }),
        Err(why) => json!({"unknown": why}),
    };
    if let Some(m) = v.as_object_mut() {
        m.insert("ts".into(), json!(s.ts.to_string()));
        m.insert("window".into(), s.window.clone());
    }
    v
}

/// The p95 bucket bound of cumulative buckets (the bound that contains it),
/// in ms; `None` for +Inf or no observation.
fn p95_ms(b: &[(f64, u64)]) -> Option<f64> {
    let n = b.last()?.1;
    if n == 0 {
        return None;
    }
    let rank = 0.95 * n as f64;
    b.iter()
        .find(|x| x.1 as f64 >= rank)
        .map(|x| x.0 * 1000.0)
        .filter(|v| v.is_finite())
}

impl Comparison {
    fn record(
        &self,
        spec: &Spec,
        bot: &str,
        baseline_key: &Result<String, String>,
        how: &Judging,
        args: &Args,
    ) -> Record {
        let level = level_of(&self.class, how, args);
        let mut rec = Record::new(crate::TOOL, bot, Kind::Check, RECORD, level)
            .at(how.at)
            .value(self.class.word())
            .extra("signal", spec.name)
            .extra(
                "test",
                match spec.test {
                    Test::Fisher => "fisher-exact",
                    Test::Poisson => "poisson-exact",
                    Test::MannWhitney => "mann-whitney",
                },
            )
            .extra(
                "baseline_target",
                baseline_key.as_ref().map_or(Value::Null, |k| json!(k)),
            )
            .extra("canary", side_json(&self.canary))
            .extra("baseline", side_json(&self.baseline))
            .extra("effect", spec.effect)
            .extra("tolerance", spec.hold)
            .extra("large", spec.large)
            .extra("alpha", args.baseline_alpha);
        if let Some(t) = &self.test {
            let (effect, p_worse, p_better) = t.effect();
            rec = rec
                .extra("effect_size", effect)
                .extra("p_value", if effect < 0.0 { p_better } else { p_worse })
                .extra("p_worse", p_worse)
                .extra("p_better", p_better);
            if let Outcome::Rate(r) = t {
                rec = rec.extra("ratio", r.ratio.map_or(Value::Null, |x| json!(x)));
            }
            if let Outcome::Latency(l) = t {
                rec = rec.extra("u", l.u).extra("z", l.z);
            }
        }
        rec.msg(self.message(spec, how, args))
    }

    fn message(&self, spec: &Spec, how: &Judging, args: &Args) -> String {
        let what = match spec.signal {
            Signal::ErrorRate => "order error rate",
            Signal::RetryRate => "order retry rate",
            Signal::Latency => "broker submit latency",
        };
        let figures = match &self.test {
            Some(Outcome::Rate(r)) => {
                let (c, b) = match (&self.canary, &self.baseline) {
                    (
                        Some(Seen {
                            sample: Ok(Sample::Rate(c)),
                            ..
                        }),
                        Some(Seen {
                            sample: Ok(Sample::Rate(b)),
                            ..
                        }),
                    ) => (*c, *b),
                    _ => (
                        Counts {
                            events: 0,
                            trials: 0,
                        },
                        Counts {
                            events: 0,
                            trials: 0,
                        },
                    ),
                };
                format!(
                    "canary {}/{} ({:.2} %) vs production {}/{} ({:.2} %), {:+.2} points, one-sided p {}",
                    c.events,
                    c.trials,
                    r.canary * 100.0,
                    b.events,
                    b.trials,
                    r.baseline * 100.0,
                    r.difference * 100.0,
                    p_text(if r.difference < 0.0 {
                        r.p_better
                    } else {
                        r.p_worse
                    })
                )
            }
            Some(Outcome::Latency(l)) => format!(
                "canary {} vs production {} submits, Cliff's delta {:+.3} (P(canary slower) - \
                 P(faster)), one-sided p {}",
                l.n_canary,
                l.n_baseline,
                l.cliffs_delta,
                p_text(if l.cliffs_delta < 0.0 {
                    l.p_better
                } else {
                    l.p_worse
                })
            ),
            None => String::new(),
        };
        match &self.class {
            Class::Unknown(why) => {
                format!("{what} against production unknown: {why}; advance and promotion are held")
            }
            Class::Worse { .. } if rolls_back(&self.class, how, args) => format!(
                "{what}: the canary is significantly and largely worse than production ({figures}; \
                 large from {} at p < {}): roll back",
                spec.large, args.baseline_rollback_alpha
            ),
            Class::Worse { .. } => format!(
                "{what}: the canary is significantly worse than production ({figures}; tolerance \
                 {} at p < {}): promotion is held",
                spec.hold, args.baseline_alpha
            ),
            Class::Better => format!("{what}: the canary is better than production ({figures})"),
            Class::Same => format!(
                "{what}: no significant difference from production ({figures}); small samples \
                 cannot prove the two equal"
            ),
        }
    }
}

/// A p-value as text: three decimals, or two significant digits below 0.001.
fn p_text(p: f64) -> String {
    if p >= 0.001 {
        format!("{p:.3}")
    } else {
        format!("{p:.1e}")
    }
}

/// Fold one comparison into a verdict.
fn apply(
    j: &mut Judged<'_>,
    c: &Comparison,
    spec: &Spec,
    bot: &str,
    tag: bool,
    how: &Judging,
    args: &Args,
) {
    let level = level_of(&c.class, how, args);
    let reason = Reason {
        rule: format!("baseline.{}", spec.name),
        criterion: Some(CRITERION.into()),
        level,
        value: Value::from(c.class.word()),
        threshold: Some(spec.hold),
        ts: Some(how.at),
        msg: c.message(spec, how, args),
        target: tag.then(|| bot.to_owned()),
    };
    let passing = matches!(j.decision, Decision::Advance | Decision::Promote);
    let before = j.decision;
    match (&c.class, level) {
        (_, Level::Crit) => {
            if j.decision.severity() < Decision::Rollback.severity() {
                j.decision = Decision::Rollback;
            }
            j.exit = j.exit.worst(Exit::Blocking);
        }
        (Class::Worse { .. }, _) if passing => {
            j.decision = Decision::Extend;
            j.exit = j.exit.worst(Exit::Hold);
        }
        (Class::Unknown(_), _) => {
            if passing {
                j.decision = Decision::Extend;
            }
            // For want of evidence: as a required criterion missing.
            if matches!(j.decision, Decision::Continue | Decision::Extend) {
                j.exit = j.exit.worst(Exit::Unevaluable);
            }
        }
        _ => {}
    }
    // A comparison that changed the decision leads: the verdict's message names it.
    if j.decision != before {
        j.reasons.insert(0, reason);
    } else {
        j.reasons.push(reason);
    }
}

/// Read one side's sample from its record.
fn sample_of(spec: &Spec, rec: &Record) -> Result<Sample, String> {
    if rec.kind != Kind::Signal {
        return Err(format!("a record of kind {:?}, not a signal", rec.kind));
    }
    if !matches!(rec.level, Level::Ok | Level::Warn | Level::Crit) {
        return Err(format!("unknown ({})", rec.msg));
    }
    match spec.test {
        Test::Fisher | Test::Poisson => {
            let events = count(rec.extra.get("numerator"), "numerator")?;
            let trials = count(rec.extra.get("denominator"), "denominator")?;
            Ok(Sample::Rate(Counts { events, trials }))
        }
        Test::MannWhitney => buckets(rec.extra.get("buckets")).map(Sample::Buckets),
    }
}

/// An exact count: finite, not negative, whole, not huge.
fn count(v: Option<&Value>, what: &str) -> Result<u64, String> {
    let x = v
        .and_then(Value::as_f64)
        .ok_or_else(|| format!("no {what} (an exact count is needed)"))?;
    let r = x.round();
    if !x.is_finite() || x < 0.0 || (x - r).abs() > 1e-6 || r > compare::MAX_COUNT as f64 {
        return Err(format!("{what} {x} is not an exact count"));
    }
    Ok(r as u64)
}

/// `[[le, count], ...]`: bounds ascending, counts cumulative, the last +Inf.
fn buckets(v: Option<&Value>) -> Result<Vec<(f64, u64)>, String> {
    let list = v
        .and_then(Value::as_array)
        .ok_or("no buckets (windowed p95 records carry them)")?;
    if list.is_empty() || list.len() > 1024 {
        return Err(format!("{} buckets", list.len()));
    }
    let mut out: Vec<(f64, u64)> = Vec::with_capacity(list.len());
    for item in list {
        let pair = item
            .as_array()
            .filter(|p| p.len() == 2)
            .ok_or("a bucket is not [le, count]")?;
        let le = match &pair[0] {
            Value::String(s) if s == "+Inf" => f64::INFINITY,
            v => v
                .as_f64()
                .filter(|x| x.is_finite())
                .ok_or("a bucket bound is not a number")?,
        };
        let n = count(Some(&pair[1]), "a bucket count")?;
        if let Some(prev) = out.last() {
            if le <= prev.0 || n < prev.1 {
                return Err("buckets are not ascending and cumulative".into());
            }
        }
        out.push((le, n));
    }
    if out.last().is_some_and(|x| x.0.is_finite()) {
        return Err("no +Inf bucket".into());
    }
    Ok(out)
}

pub mod power;

#[cfg(test)]
mod tests;
