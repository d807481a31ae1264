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
use canary_core::Record;
use canary_core::compare::{self, CompareError};
use canary_core::role::Role;
use canary_core::verdict::Scope;
use serde_json::Value;
use std::collections::{BTreeMap, BTreeSet};

mod args;
mod evidence;
mod report;
pub(crate) mod signals;
mod unknown;

pub use args::{Args, Large, Tolerance};
use evidence::*;
pub use report::RECORD;
use report::*;
pub use signals::Signal;
use signals::*;
use unknown::Unknown;

/// Bots kept per side: past it, a new bot's records are not compared.
const MAX_BOTS: usize = 64;

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
    /// The last record's target and its bot key: producers write a bot's
    /// records together, so the key is worked out once per run of them.
    last_target: String,
    last_key: String,
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
            last_target: String::new(),
            last_key: key_of(""),
        }
    }

    /// Route one record, noting what it says of a compared signal.
    pub fn take(&mut self, rec: &Record) -> Route {
        let role = match Role::of(rec) {
            Ok(r) => r,
            Err(why) => return Route::Refused(format!("{why}: not evidence for either side")),
        };
        if self.last_target != rec.target {
            self.last_key = key_of(&rec.target);
            self.last_target.clone_from(&rec.target);
        }
        let key = self.last_key.as_str();
        let named = self.named.as_deref() == Some(key);
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
        if other.contains(key) && !self.both.iter().any(|b| b == key) {
            self.both.push(key.to_owned());
        }
        if bots.len() < MAX_BOTS && !bots.contains(key) {
            bots.insert(key.to_owned());
        }
        if let Some(spec) = spec_of(&rec.name)
            && (mine.len() < MAX_BOTS || mine.contains_key(key))
        {
            let seen = Seen {
                ts: rec.ts,
                sample: sample_of(spec, rec),
                window: rec
                    .extra
                    .get("window")
                    .and_then(Value::as_str)
                    .map(str::to_owned),
            };
            if !mine.contains_key(key) {
                mine.insert(key.to_owned(), BTreeMap::new());
            }
            let Some(slot) = mine.get_mut(key) else {
                return route;
            };
            match slot.get(&spec.signal) {
                Some(old) if old.ts > rec.ts => {}
                _ => {
                    slot.insert(spec.signal, seen);
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
    fn baseline_key(&self) -> Result<String, Unknown> {
        if let Some(k) = &self.named {
            return Ok(k.clone());
        }
        let keys: Vec<&String> = self.baseline_bots.iter().collect();
        match keys.as_slice() {
            [one] => Ok((*one).clone()),
            [] => Err(Unknown::NoBaseline),
            many => Err(Unknown::ManyBaselines(
                many.iter().map(|k| (*k).clone()).collect(),
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
        baseline_key: &Result<String, Unknown>,
        how: &Judging,
    ) -> Comparison {
        let unknown = |why: Unknown| Comparison {
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
            let both = if self.both.contains(key) { key } else { bot };
            return unknown(Unknown::BothRoles(both.to_owned()));
        }
        let baseline = self.baseline.get(key).and_then(|m| m.get(&spec.signal));
        let record = spec.record;
        let fresh = |side: Role, seen: Option<&Seen>| -> Result<Sample, Unknown> {
            let Some(s) = seen else {
                return Err(Unknown::Missing { side, record });
            };
            if how.since.is_some_and(|since| s.ts < since) {
                return Err(Unknown::BeforeWindow { side, record });
            }
            let age = how.at.duration_since(s.ts);
            if age.is_negative() && age.unsigned_abs() > how.max_skew {
                return Err(Unknown::Future {
                    side,
                    record,
                    ts: s.ts,
                });
            }
            if age.unsigned_abs() > how.max_age && !age.is_negative() {
                return Err(Unknown::TooOld {
                    side,
                    record,
                    ts: s.ts,
                    max_age: how.max_age,
                });
            }
            s.sample
                .clone()
                .map_err(|why| Unknown::Sample { side, record, why })
        };
        let c = fresh(Role::Canary, canary);
        let b = fresh(Role::Baseline, baseline);
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
            Err(e) => cmp.class = Class::Unknown(Unknown::Test(e)),
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

pub mod power;

#[cfg(test)]
mod tests;
