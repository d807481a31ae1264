//! The input: judge's verdicts, validated field by field. Anything else is
//! refused with a record, never quietly turned into a notification.

use crate::cli::TOOL;
use canary_core::ndjson::Input;
use canary_core::side::side;
use canary_core::verdict::{Scope, Verdict as Payload};
use canary_core::{Decision, Kind, Level, Phase, Record, diag};
use jiff::Timestamp;

/// How far ahead of this host's clock a verdict may be dated.
const MAX_AHEAD_S: i64 = 60;

/// Longest text taken from a verdict into a label, a message or the state.
const MAX_TEXT: usize = 200;

/// A verdict that passed validation.
#[derive(Debug, Clone)]
pub struct Verdict {
    pub ts: Timestamp,
    pub target: String,
    pub scope: Scope,
    pub decision: Decision,
    pub phase: Phase,
    pub msg: String,
    /// The `msg` of each reason, in judge's order.
    pub reasons: Vec<String>,
    /// The whole record, for the JSON webhook.
    pub record: Record,
}

impl Verdict {
    /// What changes of decision are tracked per: one scope of one target.
    pub fn key(&self) -> String {
        format!("{} {}", self.scope.as_str(), self.target)
    }
}

/// Everything read from the input.
#[derive(Debug, Default)]
pub struct Intake {
    pub verdicts: Vec<Verdict>,
    /// `input.malformed` and `notify.rejected` records, in input order.
    pub problems: Vec<Record>,
}

/// Sort one input item into a verdict or a problem.
pub fn take(item: Input, source: &str, intake: &mut Intake) {
    match item {
        Input::Bad(bad) => {
            diag(TOOL, "error", &bad.diagnostic());
            intake.problems.push(bad.to_record(TOOL));
        }
        // judge's side records (canary_core::side) are not for notify:
        // passed over quietly, never sent and never an input problem.
        Input::Record(rec) if side(&rec).is_some() => {}
        Input::Record(rec) => match validate(*rec) {
            Ok(v) => intake.verdicts.push(v),
            Err(rej) => {
                diag(TOOL, "error", &format!("{source}: {}", rej.msg));
                intake.problems.push((*rej).extra("source", source));
            }
        },
    }
}

/// A string cut to `MAX_TEXT` characters, control characters made spaces.
pub fn clip(text: &str) -> String {
    let mut out: String = text
        .chars()
        .take(MAX_TEXT)
        .map(|c| if c.is_control() { ' ' } else { c })
        .collect();
    if text.chars().count() > MAX_TEXT {
        out.push('…');
    }
    out
}

fn rejected(rec: &Record, field: &str, why: &str) -> Box<Record> {
    Box::new(
        Record::new(
            TOOL,
            &clip(&rec.target),
            Kind::Error,
            "notify.rejected",
            Level::Unknown,
        )
        .value(clip(&rec.name))
        .msg(format!(
            "record {} of {} ({}) refused: {field} {why}; nothing is sent for it",
            clip(&rec.name),
            rec.ts,
            clip(&rec.tool)
        ))
        .extra("field", field)
        .extra("reason", why)
        .extra("record_ts", rec.ts.to_string()),
    )
}

/// Check that a record is a verdict judge wrote, with the fields used here.
fn validate(rec: Record) -> Result<Verdict, Box<Record>> {
    if rec.kind != Kind::Verdict {
        return Err(rejected(&rec, "kind", "is not \"verdict\""));
    }
    if rec.tool != "judge" {
        return Err(rejected(&rec, "tool", "is not \"judge\""));
    }
    if rec.name != "judge.verdict" {
        return Err(rejected(&rec, "name", "is not \"judge.verdict\""));
    }
    // canary-core's strict reading: a decision, scope or phase that is
    // missing, mistyped or unknown refuses the verdict, as does a reasons
    // list, window or exit of the wrong shape. Nothing garbled is notified.
    let payload = match Payload::read(&rec) {
        Ok(p) => p,
        Err(r) => return Err(rejected(&rec, r.field, &r.why)),
    };
    // A verdict from the future would outrank every real one after it (an
    // older verdict is never news) and silence them all.
    let now = Timestamp::now();
    if rec.ts.duration_since(now) > jiff::SignedDuration::from_secs(MAX_AHEAD_S) {
        return Err(rejected(
            &rec,
            "ts",
            &format!("is more than {MAX_AHEAD_S}s ahead of this host's clock"),
        ));
    }
    if rec.target.is_empty() {
        return Err(rejected(&rec, "target", "is empty"));
    }
    let reasons = payload
        .reasons
        .iter()
        .take(20)
        .map(|r| clip(if r.msg.is_empty() { &r.rule } else { &r.msg }))
        .collect();
    Ok(Verdict {
        ts: rec.ts,
        target: clip(&rec.target),
        scope: payload.scope,
        decision: payload.decision,
        phase: payload.phase,
        msg: clip(&rec.msg),
        reasons,
        record: rec,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use canary_core::ndjson::RecordReader;

    fn line(tool: &str, kind: &str, extra: &str) -> String {
        format!(
            r#"{{"v":1,"ts":"2026-11-26T03:30:00Z","tool":"{tool}","target":"t","kind":"{kind}","name":"judge.verdict","level":"crit","value":"rollback","msg":"m","phase":"b"{extra}}}"#
        )
    }

    #[test]
    fn judges_comparisons_and_transitions_are_passed_over() {
        let comparison = r#"{"v":1,"ts":"2026-11-26T03:30:00Z","tool":"judge","target":"t","kind":"check","name":"judge.comparison","level":"warn","value":"worse","msg":"m"}"#;
        let transition = r#"{"v":1,"ts":"2026-11-26T03:30:00Z","tool":"judge","target":"t","kind":"sample","name":"judge.transition","level":"ok","value":"continue","msg":"m"}"#;
        let i = intake(&format!("{comparison}\n{transition}\n"));
        assert!(i.verdicts.is_empty() && i.problems.is_empty(), "{i:?}");
        // The same names from another tool are still refused.
        let forged = comparison.replace(r#""tool":"judge""#, r#""tool":"x""#);
        assert_eq!(intake(&forged).problems.len(), 1);
    }

    fn intake(text: &str) -> Intake {
        let mut i = Intake::default();
        for item in RecordReader::new(text.as_bytes(), "stdin") {
            take(item.expect("reads"), "stdin", &mut i);
        }
        i
    }

    #[test]
    fn only_judge_verdicts_count() {
        let good = line(
            "judge",
            "verdict",
            r#","decision":"rollback","scope":"overall""#,
        );
        let forged = line("sim-bot", "verdict", r#","decision":"rollback""#);
        let check = line("judge", "check", r#","decision":"rollback""#);
        let bad_decision = line("judge", "verdict", r#","decision":"Rollback""#);
        let i = intake(&format!(
            "{good}\n{forged}\n{check}\n{bad_decision}\nnot json\n"
        ));
        assert_eq!(i.verdicts.len(), 1);
        assert_eq!(i.verdicts[0].decision, Decision::Rollback);
        assert_eq!(i.verdicts[0].key(), "overall t");
        let names: Vec<_> = i.problems.iter().map(|p| p.name.as_str()).collect();
        assert_eq!(
            names,
            [
                "notify.rejected",
                "notify.rejected",
                "notify.rejected",
                "input.malformed"
            ]
        );
    }

    #[test]
    fn future_verdicts_are_refused() {
        let ahead = Timestamp::now()
            .checked_add(jiff::SignedDuration::from_hours(24))
            .expect("ts");
        let text = line(
            "judge",
            "verdict",
            r#","decision":"continue","scope":"overall""#,
        )
        .replace("2026-11-26T03:30:00Z", &ahead.to_string());
        let i = intake(&text);
        assert!(i.verdicts.is_empty());
        assert_eq!(i.problems[0].extra["field"], "ts");
    }

    #[test]
    fn forged_and_garbled_verdicts_are_never_notified() {
        let forged = [
            (r#","decision":"Promote","scope":"overall""#, "decision"),
            (r#","decision":"promote","scope":"everyone""#, "scope"),
            (r#","decision":"promote""#, "scope"),
            (
                r#","decision":"promote","scope":"overall","reasons":[{"msg":"no rule"}]"#,
                "reasons",
            ),
            (
                r#","decision":"promote","scope":"overall","window":{"complete":"yes"}"#,
                "window",
            ),
        ];
        for (extra, field) in forged {
            let i = intake(&line("judge", "verdict", extra));
            assert!(i.verdicts.is_empty(), "{extra}");
            assert_eq!(i.problems[0].extra["field"], field, "{extra}");
        }
        let i = intake(
            &line(
                "judge",
                "verdict",
                r#","decision":"promote","scope":"overall""#,
            )
            .replace(r#""phase":"b""#, r#""phase":"c""#),
        );
        assert_eq!(i.problems[0].extra["field"], "phase");
        // A reason without a message is shown by its rule.
        let i = intake(&line(
            "judge",
            "verdict",
            r#","decision":"stop","scope":"overall","reasons":[{"rule":"health-status","level":"crit"}]"#,
        ));
        assert_eq!(i.verdicts[0].reasons, ["health-status"]);
        assert_eq!(i.verdicts[0].phase, Phase::B);
    }

    #[test]
    fn texts_are_bounded_and_on_one_line() {
        let long = "x".repeat(1000);
        assert_eq!(clip(&long).chars().count(), MAX_TEXT + 1);
        assert_eq!(clip("a\nb"), "a b");
    }
}
