//! The trigger: judge's verdicts read from the input, validated field by
//! field, and the one verdict the run acts on.

use crate::error::{NotPromotable, Stale};
use crate::tool::TOOL;
use crate::version::{shown, validate_tag};
use canary_core::ndjson::{Input, RecordReader};
use canary_core::side::side;
use canary_core::step::VerdictSummary;
use canary_core::verdict::{Scope, Verdict as Payload};
use canary_core::{Kind, Level, Phase, Record, diag};
use serde_json::{Value, json};
use std::io::BufRead;

pub use canary_core::Decision;

/// A verdict that passed validation.
#[derive(Debug, Clone)]
pub struct Verdict {
    pub record: Record,
    /// The payload as canary-core's strict reading took it.
    pub payload: Payload,
    pub decision: Decision,
    pub source: String,
    /// True for `"scope": "overall"`.
    pub overall: bool,
    /// A validated `to_tag` the verdict names as the rollback target.
    pub to_tag: Option<String>,
}

impl Verdict {
    /// What the audit log and the trigger record say about it.
    pub fn summary(&self) -> VerdictSummary {
        let r = &self.record;
        VerdictSummary {
            source: self.source.clone(),
            ts: r.ts,
            target: shown(&r.target),
            decision: self.decision,
            level: r.level,
            phase: self.payload.phase,
            scope: self.payload.scope,
        }
    }
}

/// Everything read from the input.
#[derive(Debug, Default)]
pub struct Intake {
    pub verdicts: Vec<Verdict>,
    /// `input.malformed` and `rollback.rejected` records, in input order.
    pub problems: Vec<Record>,
    pub malformed: usize,
    pub rejected: usize,
    /// Malformed lines and rejected records after the last verdict that
    /// read: one of them may have been a newer verdict, so the last good
    /// one is not the last word (judge writes its overall verdict last).
    pub unread_after: usize,
}

/// Read every source; bad lines and bad verdicts become records, never stop
/// the reading.
pub fn read<R: BufRead>(reader: R, source: &str, intake: &mut Intake) -> std::io::Result<()> {
    for item in RecordReader::new(reader, source) {
        match item? {
            Input::Bad(bad) => {
                diag(TOOL, "error", &bad.diagnostic());
                intake.problems.push(bad.to_record(TOOL));
                intake.malformed += 1;
                intake.unread_after += 1;
            }
            Input::Record(rec) => {
                // judge's side records (canary_core::side: its comparisons
                // with production, a replay's transitions) are never
                // verdicts: passed over, never acted on, never a rejection
                // that would stop a promotion the verdict allows. They are
                // not verdicts either, so they leave the last verdict and
                // what follows it as they were.
                if side(&rec).is_some() {
                    continue;
                }
                // A fleet's per-bot verdicts precede the overall one, which
                // already holds their worst: passed over likewise, once
                // they read as judge's verdicts.
                if rec.tool == "judge"
                    && rec.kind == Kind::Verdict
                    && rec.name == "judge.verdict"
                    && Payload::read(&rec).is_ok_and(|p| p.scope == Scope::Target)
                {
                    continue;
                }
                // Only judge's verdicts act. Anything else — another tool's
                // verdict-shaped record, judge's other records — is refused
                // with a record, never silently taken or dropped.
                let problem = if rec.tool != "judge" {
                    Some((
                        "tool",
                        Value::String(rec.tool.clone()),
                        "is not \"judge\": only judge's verdicts act",
                    ))
                } else if rec.kind != Kind::Verdict {
                    Some(("kind", json!(rec.kind), "is not \"verdict\""))
                } else if rec.name != "judge.verdict" {
                    Some((
                        "name",
                        Value::String(rec.name.clone()),
                        "is not \"judge.verdict\"",
                    ))
                } else {
                    None
                };
                if let Some((field, value, why)) = problem {
                    let rej = rejected(&rec, source, field, &value, why, Level::Unknown);
                    if intake.rejected < 10 {
                        diag(TOOL, "error", &format!("{source}: {}", rej.msg));
                    }
                    intake.problems.push(*rej);
                    intake.rejected += 1;
                    intake.unread_after += 1;
                    continue;
                }
                match validate(*rec, source) {
                    Ok(v) => {
                        intake.verdicts.push(v);
                        intake.unread_after = 0;
                    }
                    Err(rej) => {
                        diag(TOOL, "error", &format!("{source}: {}", rej.msg));
                        intake.problems.push(*rej);
                        intake.rejected += 1;
                        intake.unread_after += 1;
                    }
                }
            }
        }
    }
    Ok(())
}

fn rejected(
    rec: &Record,
    source: &str,
    field: &str,
    value: &Value,
    why: &str,
    level: Level,
) -> Box<Record> {
    let shown_value = match value {
        Value::String(s) => Value::String(shown(s)),
        Value::Null => Value::Null,
        other => Value::String(shown(&other.to_string())),
    };
    let rec = Record::new(TOOL, source, Kind::Error, "rollback.rejected", level)
        .value(shown_value)
        .msg(format!(
            "verdict of {} rejected: field '{field}' {why}; it is not acted on",
            rec.ts
        ))
        .extra("field", field)
        .extra("reason", why)
        .extra("verdict_ts", rec.ts.to_string());
    Box::new(rec)
}

/// Read the verdict through canary-core's strict reading, then check what
/// this tool adds. A verdict with a field that does not read (a decision,
/// scope or phase that is missing, mistyped or unknown; reasons, window or
/// exit of the wrong shape) is rejected as a whole: a verdict that does not
/// validate is not one to act on.
fn validate(rec: Record, source: &str) -> Result<Verdict, Box<Record>> {
    let payload = match Payload::read(&rec) {
        Ok(p) => p,
        Err(r) => {
            return Err(rejected(
                &rec,
                source,
                r.field,
                &r.value,
                &r.why,
                Level::Unknown,
            ));
        }
    };
    // Only the overall verdict acts: a per-target verdict judges one
    // instance of a fleet, not the canary.
    if payload.scope != Scope::Overall {
        return Err(rejected(
            &rec,
            source,
            "scope",
            &Value::String(payload.scope.as_str().to_owned()),
            "is not \"overall\": only judge's overall verdict acts",
            Level::Unknown,
        ));
    }
    // `to_tag` and `tag` are not judge's: an operator's pipeline may add
    // them. Anything there must be a valid release tag.
    let get = |k: &str| rec.extra.get(k).cloned().unwrap_or(Value::Null);
    let mut to_tag = None;
    for field in ["to_tag", "tag"] {
        match get(field) {
            Value::Null => {}
            Value::String(s) => match validate_tag(&s) {
                Ok(_) if field == "to_tag" => to_tag = Some(s),
                Ok(_) => {}
                Err(why) => {
                    let why = format!("is not a valid release tag: {why}");
                    return Err(rejected(
                        &rec,
                        source,
                        field,
                        &Value::String(s),
                        &why,
                        Level::Crit,
                    ));
                }
            },
            other => {
                return Err(rejected(
                    &rec,
                    source,
                    field,
                    &other,
                    "is not a string",
                    Level::Crit,
                ));
            }
        }
    }
    Ok(Verdict {
        decision: payload.decision,
        overall: true,
        payload,
        record: rec,
        source: source.to_owned(),
        to_tag,
    })
}

/// The verdict to act on: the last overall one (only overall verdicts pass
/// validation).
pub fn pick(verdicts: &[Verdict]) -> Option<&Verdict> {
    verdicts.iter().rev().find(|v| v.overall)
}

/// How far ahead of this host's clock a verdict may be dated (clock skew
/// between the host that judged and this one); further ahead is refused.
pub const MAX_FUTURE_SKEW: std::time::Duration = std::time::Duration::from_secs(60);

/// Is the verdict recent enough to act on? Its age is measured from its `ts`,
/// the moment judge judged (`--at` when replaying), to `now`. `Ok(age in
/// seconds, negative when dated slightly ahead)`; `Err(why)` when it is older
/// than `max_age` or dated more than [`MAX_FUTURE_SKEW`] ahead.
pub fn freshness(
    v: &Verdict,
    now: jiff::Timestamp,
    max_age: std::time::Duration,
) -> Result<f64, Stale> {
    let age = now.duration_since(v.record.ts);
    let age_s = age.as_secs_f64();
    if age.is_negative() {
        let ahead = std::time::Duration::try_from(-age).unwrap_or(std::time::Duration::MAX);
        if ahead > MAX_FUTURE_SKEW {
            return Err(Stale::Future {
                ahead,
                skew: MAX_FUTURE_SKEW,
            });
        }
        return Ok(age_s);
    }
    let age = std::time::Duration::try_from(age).unwrap_or(std::time::Duration::MAX);
    if age > max_age {
        return Err(Stale::Old { age, max: max_age });
    }
    Ok(age_s)
}

/// A promotion needs a clean Phase B verdict over a complete window:
/// nothing is promoted on missing evidence (an absent window reads as
/// incomplete).
pub fn promotable(v: &Verdict) -> Result<(), NotPromotable> {
    if v.payload.phase != Phase::B {
        return Err(NotPromotable::Phase);
    }
    if !matches!(v.record.level, Level::Ok | Level::Warn) {
        return Err(NotPromotable::Level(v.record.level));
    }
    if !v.payload.window.complete {
        return Err(NotPromotable::Incomplete);
    }
    // What judge's own promote verdict always holds, checked rather than
    // assumed: a line that merely says promote is not one.
    if v.payload.exit != 0 {
        return Err(NotPromotable::Exit(v.payload.exit));
    }
    if v.record.value.as_str() != Some(v.payload.decision.as_str()) {
        return Err(NotPromotable::Value);
    }
    if let Some(r) = v
        .payload
        .reasons
        .iter()
        .find(|r| matches!(r.level, Level::Crit | Level::Unknown))
    {
        return Err(NotPromotable::Reason {
            level: r.level,
            rule: r.rule.clone(),
        });
    }
    let w = &v.payload.window;
    let (Some(_), Some(min_s), Some(min_orders)) = (w.start, w.min_duration_s, w.min_orders) else {
        return Err(NotPromotable::WindowUnstated);
    };
    if w.elapsed_s < min_s && w.orders < min_orders {
        return Err(NotPromotable::WindowShort {
            elapsed_s: w.elapsed_s,
            min_s,
            orders: w.orders,
            min_orders,
        });
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn line(extra: &str) -> String {
        let mut extra = extra.to_owned();
        if !extra.contains("\"scope\"") {
            extra.push_str(r#","scope":"overall""#);
        }
        if !extra.contains("\"phase\"") {
            extra.push_str(r#","phase":"b""#);
        }
        format!(
            r#"{{"v":1,"ts":"2026-11-26T03:30:00Z","tool":"judge","target":"fleet","kind":"verdict","name":"judge.verdict","level":"crit","value":null,"msg":"m"{extra}}}"#
        )
    }

    fn intake(lines: &[String]) -> Intake {
        let text = lines.join("\n");
        let mut i = Intake::default();
        read(text.as_bytes(), "stdin", &mut i).expect("reads");
        i
    }

    #[test]
    fn judges_comparisons_are_passed_over_and_nothing_else_is() {
        let cmp = |tool: &str, kind: &str| {
            format!(
                r#"{{"v":1,"ts":"2026-11-26T03:30:00Z","tool":"{tool}","target":"b:1","kind":"{kind}","name":"judge.comparison","level":"warn","value":"worse","msg":"m"}}"#
            )
        };
        let i = intake(&[cmp("judge", "check"), line(r#","decision":"promote""#)]);
        assert_eq!((i.verdicts.len(), i.rejected, i.problems.len()), (1, 0, 0));
        // The name alone is not enough: another tool's, or another kind, is refused.
        let i = intake(&[cmp("probe-health", "check"), cmp("judge", "verdict")]);
        assert_eq!(i.rejected, 2);
    }

    #[test]
    fn hostile_tags_reject_the_verdict() {
        for bad in ["v1;rm -rf /", "--upload-pack=x", "../../etc"] {
            for field in ["to_tag", "tag"] {
                let i = intake(&[line(&format!(
                    r#","decision":"rollback","{field}":{}"#,
                    serde_json::to_string(bad).expect("json")
                ))]);
                assert!(i.verdicts.is_empty());
                assert_eq!(i.problems.len(), 1);
                assert_eq!(i.problems[0].name, "rollback.rejected");
                assert_eq!(i.problems[0].extra["field"], field);
            }
        }
    }

    #[test]
    fn wrong_types_and_unknown_decisions_are_rejected_bad_lines_skipped() {
        let i = intake(&[
            line(r#","decision":7,"scope":"overall""#),
            "{not json".into(),
            line(r#","decision":"rollback; reboot","scope":"overall""#),
            line(r#","decision":"rollback","scope":["overall"]"#),
            line(r#","decision":"rollback","to_tag":"v1.3.0","scope":"overall""#),
        ]);
        assert_eq!((i.malformed, i.rejected), (1, 3));
        assert_eq!(i.verdicts.len(), 1);
        assert_eq!(i.verdicts[0].to_tag.as_deref(), Some("v1.3.0"));
    }

    #[test]
    fn forged_promotes_are_refused_and_never_promotable() {
        let forged = [
            (r#","decision":"Promote""#, "decision"),
            (r#","decision":"promote\u0000""#, "decision"),
            (r#","decision":"promote","phase":"B""#, "phase"),
            (r#","decision":"promote","phase":null"#, "phase"),
            (r#","decision":"promote","scope":"everyone""#, "scope"),
            (
                r#","decision":"promote","window":{"complete":"true"}"#,
                "window",
            ),
            (
                r#","decision":"promote","window":{"complete":1,"elapsed_s":1,"orders":1,"start":null}"#,
                "window",
            ),
            (
                r#","decision":"promote","reasons":[{"rule":"r","level":"OK"}]"#,
                "reasons",
            ),
            (r#","decision":"promote","reasons":"none""#, "reasons"),
        ];
        for (extra, field) in forged {
            let i = intake(&[line(extra)]);
            assert!(i.verdicts.is_empty(), "{extra}");
            assert_eq!(i.rejected, 1, "{extra}");
            assert_eq!(i.problems[0].extra["field"], field, "{extra}");
            assert_eq!(i.problems[0].level, Level::Unknown);
        }
        // Read, but not promotable: no window (evidence of completeness
        // absent), an incomplete one, Phase A, or a crit level.
        let ok_window = r#","window":{"start":null,"elapsed_s":86400,"orders":60,"complete":true}"#;
        let judges_window = r#","window":{"start":"2026-11-25T03:30:00Z","elapsed_s":86400,"orders":60,"complete":true,"min_duration_s":86400,"min_orders":50}"#;
        let i = intake(&[
            line(r#","decision":"promote""#),
            line(
                r#","decision":"promote","window":{"start":null,"elapsed_s":1,"orders":1,"complete":false}"#,
            ),
            line(&format!(r#","decision":"promote","phase":"a"{ok_window}"#)),
            line(&format!(r#","decision":"promote"{ok_window}"#)),
            line(&format!(r#","decision":"promote"{ok_window}"#))
                .replace(r#""level":"crit""#, r#""level":"ok""#),
            // Judge's own promote: a clean exit, its value, a started
            // window past its minimums.
            line(&format!(r#","decision":"promote","exit":0{judges_window}"#))
                .replace(r#""level":"crit""#, r#""level":"ok""#)
                .replace(r#""value":null"#, r#""value":"promote""#),
        ]);
        assert_eq!(i.verdicts.len(), 6);
        let verdicts: Vec<Result<(), NotPromotable>> = i.verdicts.iter().map(promotable).collect();
        assert!(verdicts[..5].iter().all(Result::is_err), "{verdicts:?}");
        assert_eq!(verdicts[5], Ok(()));
    }

    #[test]
    fn stale_and_future_verdicts_are_not_fresh() {
        let i = intake(&[line(r#","decision":"rollback""#)]);
        let v = &i.verdicts[0];
        let ts = v.record.ts;
        let max = std::time::Duration::from_secs(300);
        let at = |secs: i64| {
            ts.checked_add(jiff::SignedDuration::from_secs(secs))
                .expect("ts")
        };
        assert_eq!(freshness(v, at(0), max), Ok(0.0));
        assert_eq!(freshness(v, at(300), max), Ok(300.0));
        let err = freshness(v, at(301), max).expect_err("stale");
        assert!(err.to_string().contains("5m1s old"), "{err}");
        assert!(freshness(v, at(40 * 60), max).is_err());
        assert_eq!(freshness(v, at(-60), max), Ok(-60.0));
        let err = freshness(v, at(-61), max).expect_err("future");
        assert!(err.to_string().contains("in the future"), "{err}");
    }

    #[test]
    fn only_judges_overall_verdicts_act() {
        let i = intake(&[
            line(r#","decision":"continue","scope":"overall""#),
            line(r#","decision":"rollback","scope":"target""#),
            line(r#","decision":"rollback","scope":null"#),
            line(r#","decision":"promote","scope":"overall""#)
                .replace(r#""tool":"judge""#, r#""tool":"probe-health""#),
            line(r#","decision":"rollback","scope":"overall""#)
                .replace(r#""kind":"verdict""#, r#""kind":"sample""#),
        ]);
        // The per-bot verdict is passed over (the overall one holds its
        // worst); the rest are refused.
        assert_eq!(i.rejected, 3);
        let fields: Vec<&Value> = i.problems.iter().map(|p| &p.extra["field"]).collect();
        assert_eq!(fields, ["scope", "tool", "kind"]);
        let v = pick(&i.verdicts).expect("one");
        assert_eq!(v.decision, Decision::Continue);
    }
}
