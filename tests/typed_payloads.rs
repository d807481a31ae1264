//! Forged and garbled verdicts through the real binaries: rollback and
//! notify read a verdict through canary-core's strict reading, so a verdict
//! whose decision, scope, phase, reasons or window does not read is refused
//! with the field named, and never promotes, deploys or notifies. The
//! report shows the same lines for what they are.

use crate::rollback::{Fx, promote_verdict, result};
use crate::util::{TempDir, cmd};

/// A fresh promote verdict with one field replaced (or dropped when `to`
/// is empty), and the field rollback and notify must name.
fn forged() -> Vec<(String, &'static str)> {
    let good = promote_verdict();
    let swap = |from: &str, to: &str| good.replacen(from, to, 1);
    vec![
        (
            swap(r#""decision":"promote""#, r#""decision":"Promote""#),
            "decision",
        ),
        (
            swap(r#""decision":"promote""#, r#""decision":"promote ""#),
            "decision",
        ),
        (
            swap(r#""decision":"promote""#, r#""decision":["promote"]"#),
            "decision",
        ),
        (swap(r#","scope":"overall""#, ""), "scope"),
        (swap(r#""phase":"b""#, r#""phase":"B""#), "phase"),
        (swap(r#","phase":"b""#, ""), "phase"),
        (
            swap(
                r#""reasons":[]"#,
                r#""reasons":[{"msg":"no rule, no level"}]"#,
            ),
            "reasons",
        ),
        (swap(r#""reasons":[]"#, r#""reasons":"none""#), "reasons"),
        (swap(r#""complete":true"#, r#""complete":"true""#), "window"),
        (
            swap(
                r#""window":{"start":"2026-11-25T03:30:00Z","elapsed_s":86400,"orders":60,"complete":true}"#,
                r#""window":["2026-11-25T03:30:00Z",86400,60,true]"#,
            ),
            "window",
        ),
    ]
}

#[test]
fn rollback_never_promotes_on_a_forged_verdict() {
    let fx = Fx::new("forged-promote");
    // The unforged verdict promotes (dry run): the forgeries are what refuse.
    let out = fx
        .rollback()
        .args(["--promote"])
        .stdin(promote_verdict())
        .run();
    assert_eq!(result(&out).value, "planned", "{}", out.stdout);
    for (line, field) in forged() {
        let out = fx
            .rollback()
            .args(["--promote", "--execute"])
            .stdin(line.clone())
            .run();
        out.code(2);
        let rej = out.record("rollback.rejected");
        assert_eq!(rej.extra["field"], field, "{line}\n{}", out.stdout);
        assert_eq!(result(&out).value, "refused", "{line}");
        assert!(
            out.records()
                .iter()
                .all(|r| !r.name.starts_with("promote.step.")),
            "{line}\n{}",
            out.stdout
        );
        assert!(!fx.calls().iter().any(|c| c == "deploy"), "{line}");
    }
}

#[test]
fn notify_sends_nothing_for_a_forged_verdict() {
    let dir = TempDir::new("notify-forged");
    let state = dir.path("state.json");
    for (line, field) in forged() {
        let out = cmd("notify")
            .args([
                "--dry-run",
                "--state",
                &state.display().to_string(),
                "--webhook",
                "http://127.0.0.1:1/hook",
            ])
            .stdin(line.clone())
            .run();
        out.code(2);
        let rej = out.record("notify.rejected");
        assert_eq!(rej.extra["field"], field, "{line}\n{}", out.stdout);
        assert!(
            out.records().iter().all(|r| r.name != "notify.sent"),
            "{line}\n{}",
            out.stdout
        );
    }
}
