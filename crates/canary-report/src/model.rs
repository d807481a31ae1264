//! What the report is made of, gathered from the log in one pass: the
//! verdict, the latest record per (target, name), the signal and order
//! series, and the counts the header shows.

use canary_core::lenient::{LenientReason, LenientVerdict, LenientWindow};
use canary_core::ndjson::BadLine;
use canary_core::signal_fields::MoneyFields;
use canary_core::signals::{CHARTED, Signal};
use canary_core::thresholds::Threshold;
use canary_core::{Kind, Level, Record, Thresholds};
use jiff::Timestamp;
use serde_json::Value;
use std::collections::{BTreeMap, BTreeSet};

/// The signals the report charts: the rows of the one signal table
/// (`canary_core::signals`) that name a chart, with their thresholds,
/// titles and chart ids.
pub fn signals() -> impl Iterator<Item = &'static Signal> {
    canary_core::signals::charted()
}

/// The order-count samples the order chart reads.
pub const ORDERS: &str = "metrics.orders";

/// Bad lines listed in the report; the rest are only counted.
pub const MAX_LISTED_BAD: usize = 100;

/// One observation of a charted series. `value` is `None` when the record
/// carried no number (null, a string) or its level was `unknown`.
#[derive(Debug, Clone, PartialEq)]
pub struct Point {
    pub series: String,
    pub ts: Timestamp,
    pub value: Option<f64>,
}

/// A verdict record, read leniently (canary-core's `LenientVerdict`): any
/// field may be missing or mistyped, and the report still shows the rest.
#[derive(Debug, Clone)]
pub struct Verdict {
    pub ts: Timestamp,
    pub target: String,
    pub level: Level,
    pub msg: String,
    pub decision: String,
    pub phase: Option<String>,
    pub scope: Option<String>,
    pub reasons: Vec<Reason>,
    pub window: Option<Window>,
}

/// A verdict's reason as far as it reads; an unreadable level is `unknown`.
pub type Reason = LenientReason;

/// A verdict's window as far as it reads.
pub type Window = LenientWindow;

/// Everything the report shows, gathered from the log.
#[derive(Debug, Default)]
pub struct Log {
    pub records: u64,
    pub by_level: BTreeMap<&'static str, u64>,
    pub targets: BTreeSet<String>,
    pub first: Option<Timestamp>,
    pub last: Option<Timestamp>,
    pub verdict: Option<Verdict>,
    pub verdicts: u64,
    /// Latest check, signal or error record per (target, name).
    pub latest: BTreeMap<(String, String), Record>,
    /// Points per charted signal, in `signals()` order.
    pub signals: [Vec<Point>; CHARTED],
    /// Records of each charted signal whose thresholds differ from the table.
    pub mismatched: [u64; CHARTED],
    /// `metrics.orders` samples; `series` is the target.
    pub orders: Vec<Point>,
    /// `metrics.equity` samples and the loss-limit lines' basis (`crate::equity`).
    pub equity: Vec<Point>,
    pub loss_basis: Option<Basis>,
    pub bad_count: u64,
    pub bad: Vec<BadLine>,
}

impl Verdict {
    fn from_record(rec: &Record) -> Verdict {
        // A lenient reading cannot fail; should it ever, the envelope alone
        // is still a verdict to show.
        let p: LenientVerdict = rec.payload().unwrap_or_default();
        // Without a decision field, the record's value says it.
        let decision = match (p.decision.is_empty(), rec.value.as_str()) {
            (true, Some(v)) => v.to_owned(),
            _ => p.decision,
        };
        Verdict {
            ts: rec.ts,
            target: rec.target.clone(),
            level: rec.level,
            msg: rec.msg.clone(),
            decision,
            phase: p.phase,
            scope: p.scope,
            reasons: p.reasons,
            window: p.window,
        }
    }

    fn is_overall(&self) -> bool {
        self.scope.as_deref() != Some("target")
    }
}

/// The charted value of a record: a finite number whose level is known.
fn charted(rec: &Record) -> Option<f64> {
    if rec.level == Level::Unknown {
        return None;
    }
    rec.value.as_f64().filter(|v| v.is_finite())
}

/// The series a record belongs to: its target, and its window when it names one
/// (a lifetime value and a 5-minute rate are different lines).
fn series_of(rec: &Record) -> String {
    let who = bot_of(rec);
    match rec.extra.get("window").and_then(Value::as_str) {
        Some(w) => format!("{who} ({w})"),
        None => who,
    }
}

/// The bot a record speaks for, production's named as such: the canary's
/// and production's lines share a chart, never a name.
pub(crate) fn bot_of(rec: &Record) -> String {
    match canary_core::role::Role::of(rec) {
        Ok(canary_core::role::Role::Canary) => rec.target.clone(),
        Ok(canary_core::role::Role::Baseline) => format!("{} (production)", rec.target),
        Err(_) => format!("{} (role unreadable)", rec.target),
    }
}

fn same(a: f64, b: f64) -> bool {
    (a - b).abs() <= 1e-9 * a.abs().max(b.abs()).max(1.0)
}

fn matches_table(t: Option<Thresholds>, table: &Threshold) -> bool {
    t.is_none_or(|t| same(t.warn, table.warn) && same(t.crit, table.crit))
}

impl Log {
    /// Take one record into account.
    pub fn add(&mut self, rec: Record) {
        self.records += 1;
        *self.by_level.entry(rec.level.as_str()).or_default() += 1;
        if !self.targets.contains(&rec.target) {
            self.targets.insert(rec.target.clone());
        }
        self.first = Some(self.first.map_or(rec.ts, |f| f.min(rec.ts)));
        self.last = Some(self.last.map_or(rec.ts, |l| l.max(rec.ts)));

        if let Some((i, sig)) = signals().enumerate().find(|(_, s)| s.record == rec.name) {
            if !matches_table(rec.thresholds, &sig.threshold) {
                self.mismatched[i] += 1;
            }
            self.signals[i].push(Point {
                series: series_of(&rec),
                ts: rec.ts,
                value: charted(&rec),
            });
        }
        take_equity(self, &rec);
        if rec.name == ORDERS && rec.kind == Kind::Sample {
            self.orders.push(Point {
                series: bot_of(&rec),
                ts: rec.ts,
                value: charted(&rec),
            });
        }
        match rec.kind {
            Kind::Verdict if rec.name == "judge.verdict" => self.add_verdict(&rec),
            Kind::Check | Kind::Signal | Kind::Error => self.add_latest(rec),
            _ => {}
        }
    }

    fn add_verdict(&mut self, rec: &Record) {
        self.verdicts += 1;
        let v = Verdict::from_record(rec);
        // The last by time; an overall verdict wins over a per-target one.
        let better = match &self.verdict {
            None => true,
            Some(cur) => (v.is_overall(), v.ts) >= (cur.is_overall(), cur.ts),
        };
        if better {
            self.verdict = Some(v);
        }
    }

    fn add_latest(&mut self, rec: Record) {
        let key = (rec.target.clone(), rec.name.clone());
        match self.latest.get(&key) {
            Some(cur) if cur.ts > rec.ts => {}
            _ => {
                self.latest.insert(key, rec);
            }
        }
    }

    /// Count a bad line, listing the first `MAX_LISTED_BAD`.
    pub fn add_bad(&mut self, bad: BadLine) {
        self.bad_count += 1;
        if self.bad.len() < MAX_LISTED_BAD {
            self.bad.push(bad);
        }
    }

    /// Sort every series by time (merged logs need not be in order).
    pub fn finish(&mut self) {
        for s in &mut self.signals {
            s.sort_by_key(|p| p.ts);
        }
        self.orders.sort_by_key(|p| p.ts);
    }
}

/// The records of the equity chart (docs/money.md#drawdown).
pub const EQUITY: &str = "metrics.equity";
pub const DRAWDOWN: &str = "metrics.drawdown";

/// The basis of the loss-limit lines: when it was seen, start-of-window
/// equity and the daily loss limit (a fraction).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Basis {
    pub ts: Timestamp,
    pub start: f64,
    pub limit_pct: f64,
}

/// Take one record into the log's equity series and loss-limit basis.
fn take_equity(log: &mut Log, rec: &Record) {
    if rec.name == EQUITY && rec.kind == Kind::Sample {
        let value = rec
            .value
            .as_f64()
            .filter(|v| v.is_finite() && rec.level != Level::Unknown);
        log.equity.push(Point {
            series: bot_of(rec),
            ts: rec.ts,
            value,
        });
    }
    if rec.name == DRAWDOWN {
        // For display: fields that do not read as scrape-metrics writes
        // them give no basis, and no lines are drawn.
        let f: MoneyFields = rec.payload().unwrap_or_default();
        let finite = |v: Option<f64>| v.filter(|v| v.is_finite());
        if let (Some(start), Some(limit_pct)) = (
            finite(f.equity_start),
            finite(f.daily_loss_limit_pct.flatten()),
        ) {
            let newer = log.loss_basis.is_none_or(|b| b.ts <= rec.ts);
            if newer && start > 0.0 && limit_pct > 0.0 {
                log.loss_basis = Some(Basis {
                    ts: rec.ts,
                    start,
                    limit_pct,
                });
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rec(line: &str) -> Record {
        serde_json::from_str(line).expect("record")
    }

    #[test]
    fn productions_series_are_named_as_production() {
        let mut log = Log::default();
        let canary = r#"{"v":1,"ts":"2026-11-26T00:00:00Z","tool":"scrape-metrics","target":"bot:8080","kind":"signal","name":"metrics.order_error_rate","level":"ok","value":0.01,"msg":"m","window":"5m"}"#;
        let prod = canary
            .replace("bot:8080", "prod:8080")
            .replace(r#""msg":"m""#, r#""msg":"m","role":"baseline""#);
        log.add(rec(canary));
        log.add(rec(&prod));
        let i = signals()
            .position(|s| s.record == "metrics.order_error_rate")
            .expect("a signal");
        let names: Vec<&str> = log.signals[i].iter().map(|p| p.series.as_str()).collect();
        assert_eq!(names, ["bot:8080 (5m)", "prod:8080 (production) (5m)"]);
    }

    #[test]
    fn the_last_overall_verdict_wins() {
        let mut log = Log::default();
        log.add(rec(r#"{"v":1,"ts":"2026-11-26T02:00:00Z","tool":"judge","target":"fleet","kind":"verdict","name":"judge.verdict","level":"ok","value":"continue","decision":"continue","scope":"overall"}"#));
        log.add(rec(r#"{"v":1,"ts":"2026-11-26T03:00:00Z","tool":"judge","target":"b1","kind":"verdict","name":"judge.verdict","level":"crit","value":"rollback","decision":"rollback","scope":"target"}"#));
        log.add(rec(r#"{"v":1,"ts":"2026-11-26T01:00:00Z","tool":"judge","target":"fleet","kind":"verdict","name":"judge.verdict","level":"ok","value":"go","decision":"go","scope":"overall"}"#));
        let v = log.verdict.expect("verdict");
        assert_eq!(v.decision, "continue");
        assert_eq!(log.verdicts, 3);
    }

    #[test]
    fn mistyped_verdict_fields_are_tolerated() {
        let mut log = Log::default();
        log.add(rec(r#"{"v":1,"ts":"2026-11-26T02:00:00Z","tool":"judge","target":"t","kind":"verdict","name":"judge.verdict","level":"ok","value":7,"decision":[1],"reasons":"nope","window":{"start":5,"orders":"x"}}"#));
        let v = log.verdict.expect("verdict");
        assert_eq!(v.decision, "");
        assert!(v.reasons.is_empty());
        assert!(v.window.expect("window").start.is_none());
    }

    #[test]
    fn unknown_and_null_points_are_gaps_and_thresholds_are_checked() {
        let mut log = Log::default();
        log.add(rec(r#"{"v":1,"ts":"2026-11-26T02:00:00Z","tool":"s","target":"t","kind":"signal","name":"metrics.order_error_rate","level":"unknown","value":null,"thresholds":{"warn":0.05,"crit":0.15}}"#));
        log.add(rec(r#"{"v":1,"ts":"2026-11-26T01:00:00Z","tool":"s","target":"t","kind":"signal","name":"metrics.order_error_rate","level":"ok","value":0.01,"thresholds":{"warn":0.5,"crit":0.15},"window":"5m"}"#));
        log.finish();
        let s = &log.signals[0];
        assert_eq!(s[0].value, Some(0.01));
        assert_eq!(s[0].series, "t (5m)");
        assert_eq!(s[1].value, None);
        assert_eq!(log.mismatched[0], 1);
        assert_eq!(log.latest.len(), 1);
        assert_eq!(
            log.latest[&("t".into(), "metrics.order_error_rate".into())].level,
            Level::Unknown
        );
    }
}
