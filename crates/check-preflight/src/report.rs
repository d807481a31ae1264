//! A preflight report, and preflight's exit code, as check records
//! (docs/bot.md#preflight-report).

use crate::error::Error;
use canary_core::catalogue::segment;
use canary_core::{Kind, Level, Record};
use jiff::Timestamp;
use serde_json::{Map, Value, json};

fn check(target: &str, ts: Timestamp, name: &str, level: Level) -> Record {
    Record::new(crate::cli::TOOL, target, Kind::Check, name, level).at(ts)
}

/// The JSON report from a report file, or from preflight's stdout with
/// `--report-target stdout` (from the first line that is exactly `{`).
pub fn parse_report(text: &str) -> Result<Map<String, Value>, Error> {
    let json = match serde_json::from_str::<Value>(text) {
        Ok(v) => v,
        Err(first) => {
            let start = text
                .match_indices('\n')
                .map(|(i, _)| i + 1)
                .find(|&i| {
                    text[i..]
                        .lines()
                        .next()
                        .is_some_and(|l| l.trim_end() == "{")
                })
                .ok_or(Error::Json(first))?;
            serde_json::from_str::<Value>(&text[start..])?
        }
    };
    match json {
        Value::Object(m) => Ok(m),
        _ => Err(Error::NotObject),
    }
}

fn strings(v: Option<&Value>) -> Vec<String> {
    v.and_then(Value::as_array)
        .map(|a| {
            a.iter()
                .filter_map(|s| s.as_str().map(str::to_owned))
                .collect()
        })
        .unwrap_or_default()
}

/// The records a report (and preflight's exit code) stand for.
pub fn records(
    report: &Map<String, Value>,
    exit: Option<i32>,
    target: &str,
) -> Result<Vec<Record>, Error> {
    let status = report
        .get("status")
        .and_then(Value::as_str)
        .ok_or(Error::NoStatus)?;
    let ts = report
        .get("timestamp")
        .and_then(Value::as_str)
        .ok_or(Error::NoTimestamp)?;
    let ts: Timestamp = ts.parse().map_err(|source| Error::Timestamp {
        text: ts.to_owned(),
        source,
    })?;
    let count = |k: &str| report.get(k).and_then(Value::as_u64);
    let (errors, warnings) = (count("errors"), count("warnings"));
    let details = report.get("details").and_then(Value::as_object);
    let diagnostic_only = report
        .get("diagnostic_only")
        .and_then(Value::as_bool)
        .unwrap_or(false);
    let profile = report.get("profile").and_then(Value::as_str).unwrap_or("");
    let mut out = Vec::new();

    let (level, msg) = match status {
        "READY" => (Level::Ok, "preflight READY: no errors".to_owned()),
        "REVIEW" => (
            Level::Warn,
            format!(
                "preflight REVIEW: no errors, {} warnings to review",
                warnings.unwrap_or(0)
            ),
        ),
        "NOT READY" => (
            Level::Crit,
            format!(
                "preflight NOT READY: {} error(s); fix them and re-run preflight",
                errors.unwrap_or(0)
            ),
        ),
        other => (
            Level::Unknown,
            format!("preflight status '{other}' is not READY, REVIEW or NOT READY"),
        ),
    };
    let level = if errors.is_some_and(|e| e > 0) {
        Level::Crit
    } else {
        level
    };
    out.push(
        check(target, ts, "preflight.status", level)
            .value(status)
            .expect("READY")
            .msg(msg)
            .extra("profile", profile)
            .extra("successes", count("successes"))
            .extra("warnings", warnings)
            .extra("errors", errors)
            .extra("total_checks", count("total_checks")),
    );

    if let Some(code) = exit {
        let (level, msg) = match code {
            0 => (Level::Ok, "preflight exited 0: zero errors".to_owned()),
            1 => (
                Level::Crit,
                "preflight exited 1: errors or a check-graph error".to_owned(),
            ),
            2 => (
                Level::Crit,
                "preflight exited 2: usage error, it did not run".to_owned(),
            ),
            n => (
                Level::Unknown,
                format!("preflight exited {n}: not one of its codes (0, 1, 2)"),
            ),
        };
        let level = if code == 0 && status == "NOT READY" {
            Level::Crit
        } else {
            level
        };
        out.push(
            check(target, ts, "preflight.exit", level)
                .value(code)
                .expect(0)
                .msg(msg),
        );
    }

    if diagnostic_only {
        out.push(
            check(target, ts, "preflight.diagnostic_only", Level::Crit)
                .value(true)
                .expect(false)
                .msg("preflight ran with --warn-only: a diagnostic run does not satisfy the live readiness gate"),
        );
    }

    // Failures carry their check through error_hints: one
    // record per failing check, with every message and hint.
    let hints = details
        .and_then(|d| d.get("error_hints"))
        .and_then(Value::as_array)
        .cloned()
        .unwrap_or_default();
    let mut by_check: Vec<(String, Vec<Value>)> = Vec::new();
    for h in &hints {
        let name = segment(
            h.get("check")
                .and_then(Value::as_str)
                .unwrap_or("unattributed"),
        );
        let item = json!({"message": h.get("message"), "hint": h.get("hint")});
        match by_check.iter_mut().find(|(n, _)| *n == name) {
            Some((_, v)) => v.push(item),
            None => by_check.push((name, vec![item])),
        }
    }
    for (name, items) in &by_check {
        let first = &items[0];
        let msg = format!(
            "{}{}",
            first["message"].as_str().unwrap_or("failed"),
            first["hint"]
                .as_str()
                .map(|h| format!(" (hint: {h})"))
                .unwrap_or_default()
        );
        out.push(
            check(target, ts, &format!("preflight.check.{name}"), Level::Crit)
                .value(items.len())
                .msg(msg)
                .extra("failures", Value::Array(items.clone())),
        );
    }
    // Error messages with no hint (no check attribution).
    let errs = strings(details.and_then(|d| d.get("errors")));
    let unattributed = errs.len().saturating_sub(hints.len());
    if unattributed > 0 {
        out.push(
            check(target, ts, "preflight.check.unattributed", Level::Crit)
                .value(unattributed)
                .msg(format!(
                    "{unattributed} preflight error(s) without a check name: {}",
                    errs.join("; ")
                ))
                .extra("errors", errs.clone()),
        );
    }
    let warns = strings(details.and_then(|d| d.get("warnings")));
    if !warns.is_empty() {
        out.push(
            check(target, ts, "preflight.warnings", Level::Warn)
                .value(warns.len())
                .msg(format!(
                    "{} preflight warning(s): {}",
                    warns.len(),
                    warns.join("; ")
                ))
                .extra("warnings", warns),
        );
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn report(status: &str, errors: u64) -> Map<String, Value> {
        let text = format!(
            r#"{{"timestamp": "2026-11-25T23:55:00+00:00", "status": "{status}", "errors": {errors}}}"#
        );
        parse_report(&text).unwrap_or_default()
    }

    fn level(recs: &[Record], name: &str) -> Option<Level> {
        recs.iter().find(|r| r.name == name).map(|r| r.level)
    }

    /// Preflight's stdout: a banner, then the report from a line that is
    /// exactly `{`; anything after the report, or no such line, is refused.
    #[test]
    fn the_report_is_found_after_a_banner_and_nowhere_else() {
        let ok = "== PREFLIGHT ==\n{ not this\n{\n  \"status\": \"READY\"\n}\n";
        assert_eq!(
            parse_report(ok).ok().and_then(|m| m.get("status").cloned()),
            Some(Value::from("READY"))
        );
        assert!(parse_report("== PREFLIGHT ==\n{\"status\": \"READY\"}\n").is_err());
        assert!(parse_report("{\n\"status\": \"READY\"\n}\ntrailing log line\n").is_err());
        assert!(parse_report("[]").is_err());
    }

    /// The status, the error count and the exit code each speak; the worst wins.
    #[test]
    fn status_errors_and_exit_code_never_vouch_for_each_other() {
        let cases = [
            ("READY", 0, Some(0), Level::Ok, Some(Level::Ok)),
            ("READY", 2, Some(0), Level::Crit, Some(Level::Ok)),
            ("NOT READY", 1, Some(0), Level::Crit, Some(Level::Crit)),
            ("READY", 0, Some(1), Level::Ok, Some(Level::Crit)),
            ("READY", 0, Some(-1), Level::Ok, Some(Level::Unknown)),
            ("REVIEW", 0, None, Level::Warn, None),
            ("ready", 0, Some(0), Level::Unknown, Some(Level::Ok)),
        ];
        for (status, errors, exit, want_status, want_exit) in cases {
            let recs = records(&report(status, errors), exit, "t").unwrap_or_default();
            assert_eq!(
                level(&recs, "preflight.status"),
                Some(want_status),
                "{status} {errors} {exit:?}"
            );
            assert_eq!(
                level(&recs, "preflight.exit"),
                want_exit,
                "{status} {errors} {exit:?}"
            );
        }
        let mut no_ts = report("READY", 0);
        no_ts.remove("timestamp");
        assert!(records(&no_ts, Some(0), "t").is_err());
    }
}
