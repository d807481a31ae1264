//! The comparison's outcome: its class, its `judge.comparison` record and
//! message, and how it folds into a verdict.

use super::args::{Args, Large};
use super::evidence::{Sample, Seen, p95_ms};
use super::signals::{Signal, Spec, Test};
use super::unknown::Unknown;
use crate::tool::TOOL;
use crate::verdict::{Judged, Judging};
use canary_core::compare::{Counts, LatencyTest, RateTest};
use canary_core::verdict::Reason;
use canary_core::{Decision, Exit, Kind, Level, Phase, Record};
use jiff::Timestamp;
use serde::Serialize;
use serde_json::Value;

/// The record judge writes, one per compared signal.
pub const RECORD: &str = "judge.comparison";

/// The criterion the comparison proves.
const CRITERION: &str = "the canary is no worse than production";

/// A test's result.
#[derive(Debug, Clone, Copy)]
pub(super) enum Outcome {
    Rate(RateTest),
    Latency(LatencyTest),
}

impl Outcome {
    /// (effect, p worse, p better); the effect is positive when the canary is worse.
    pub(super) fn effect(&self) -> (f64, f64, f64) {
        match self {
            Outcome::Rate(t) => (t.difference, t.p_worse, t.p_better),
            Outcome::Latency(t) => (t.cliffs_delta, t.p_worse, t.p_better),
        }
    }
}

/// better / same / worse, or why the comparison cannot be made.
#[derive(Debug, Clone, PartialEq)]
pub(super) enum Class {
    Better,
    Same,
    Worse { large: bool },
    Unknown(Unknown),
}

impl Class {
    pub(super) fn word(&self) -> &'static str {
        match self {
            Class::Better => "better",
            Class::Same => "same",
            Class::Worse { .. } => "worse",
            Class::Unknown(_) => "unknown",
        }
    }
}

#[derive(Debug, Clone)]
pub(super) struct Comparison {
    pub(super) class: Class,
    pub(super) canary: Option<Seen>,
    pub(super) baseline: Option<Seen>,
    pub(super) test: Option<Outcome>,
}

/// Whether a large regression rolls back here.
pub(super) fn rolls_back(class: &Class, how: &Judging, args: &Args) -> bool {
    matches!(class, Class::Worse { large: true })
        && how.phase == Phase::B
        && args.baseline_large == Large::Rollback
}

pub(super) fn level_of(class: &Class, how: &Judging, args: &Args) -> Level {
    match class {
        Class::Unknown(_) => Level::Unknown,
        Class::Worse { .. } if rolls_back(class, how, args) => Level::Crit,
        Class::Worse { .. } => Level::Warn,
        Class::Better | Class::Same => Level::Ok,
    }
}

/// What one side's newest record said, as the comparison record shows it.
#[derive(Serialize)]
pub(super) struct Side<'a> {
    #[serde(flatten)]
    evidence: SideEvidence,
    ts: Timestamp,
    /// The window the side's record was measured over; null when it named none.
    window: Option<&'a str>,
}

#[derive(Serialize)]
#[serde(untagged)]
enum SideEvidence {
    Rate {
        events: u64,
        trials: u64,
        rate: f64,
    },
    Latency {
        observations: u64,
        p95_ms: Option<f64>,
    },
    Unknown {
        unknown: String,
    },
}

pub(super) fn side(seen: &Option<Seen>) -> Option<Side<'_>> {
    let s = seen.as_ref()?;
    let evidence = match &s.sample {
        Ok(Sample::Rate(c)) => SideEvidence::Rate {
            events: c.events,
            trials: c.trials,
            rate: c.rate(),
        },
        Ok(Sample::Buckets(b)) => SideEvidence::Latency {
            observations: b.last().map_or(0, |x| x.1),
            p95_ms: p95_ms(b),
        },
        Err(why) => SideEvidence::Unknown {
            unknown: why.to_string(),
        },
    };
    Some(Side {
        evidence,
        ts: s.ts,
        window: s.window.as_deref(),
    })
}

/// The `judge.comparison` record's fields beyond the envelope.
#[derive(Serialize)]
struct ComparisonFields<'a> {
    signal: &'a str,
    test: &'static str,
    /// Production's target; null when it could not be told.
    baseline_target: Option<&'a str>,
    canary: Option<Side<'a>>,
    baseline: Option<Side<'a>>,
    effect: &'static str,
    tolerance: f64,
    large: f64,
    alpha: f64,
    #[serde(flatten, skip_serializing_if = "Option::is_none")]
    test_result: Option<TestFields>,
}

/// The test's figures, when it could be run.
#[derive(Serialize)]
struct TestFields {
    effect_size: f64,
    p_value: f64,
    p_worse: f64,
    p_better: f64,
    #[serde(flatten)]
    by_test: ByTest,
}

#[derive(Serialize)]
#[serde(untagged)]
enum ByTest {
    /// Rates: the canary's over production's (null when production's is 0).
    Rate { ratio: Option<f64> },
    /// Latency: Mann-Whitney's U and its z score.
    Latency { u: f64, z: f64 },
}

impl Comparison {
    pub(super) fn record(
        &self,
        spec: &Spec,
        bot: &str,
        baseline_key: &Result<String, Unknown>,
        how: &Judging,
        args: &Args,
    ) -> Record {
        let level = level_of(&self.class, how, args);
        let test_result = self.test.as_ref().map(|t| {
            let (effect, p_worse, p_better) = t.effect();
            TestFields {
                effect_size: effect,
                p_value: if effect < 0.0 { p_better } else { p_worse },
                p_worse,
                p_better,
                by_test: match t {
                    Outcome::Rate(r) => ByTest::Rate { ratio: r.ratio },
                    Outcome::Latency(l) => ByTest::Latency { u: l.u, z: l.z },
                },
            }
        });
        let fields = ComparisonFields {
            signal: spec.name,
            test: match spec.test {
                Test::Fisher => "fisher-exact",
                Test::Poisson => "poisson-exact",
                Test::MannWhitney => "mann-whitney",
            },
            baseline_target: baseline_key.as_deref().ok(),
            canary: side(&self.canary),
            baseline: side(&self.baseline),
            effect: spec.effect,
            tolerance: spec.hold,
            large: spec.large,
            alpha: args.baseline_alpha,
            test_result,
        };
        let rec = Record::new(TOOL, bot, Kind::Check, RECORD, level)
            .at(how.at)
            .value(self.class.word())
            .with_payload(&fields);
        rec.msg(self.message(spec, how, args))
    }

    pub(super) fn message(&self, spec: &Spec, how: &Judging, args: &Args) -> String {
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
pub(super) fn p_text(p: f64) -> String {
    if p >= 0.001 {
        format!("{p:.3}")
    } else {
        format!("{p:.1e}")
    }
}

/// Fold one comparison into a verdict.
pub(super) fn apply(
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
