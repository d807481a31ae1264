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
                r#""window":{"start":"2026-11-25T03:30:00Z","elapsed_s":86400,"orders":60,"complete":true,"min_duration_s":86400,"min_orders":50}"#,
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
    // Lines that read as verdicts but are not judge's promote: no exit 0,
    // a value that is not the decision, a crit or unknown reason, a window
    // without its start or its minimums, or short of both.
    let good = promote_verdict();
    let swap = |from: &str, to: &str| {
        let line = good.replacen(from, to, 1);
        assert_ne!(line, good, "{from}");
        line
    };
    let crit_reason = r#""reasons":[{"rule":"r","level":"crit","value":null,"threshold":null,"ts":null,"msg":"m"}]"#;
    let unknown_reason = crit_reason.replace("crit", "unknown");
    for line in [
        swap(r#","exit":0"#, ""),
        swap(r#""exit":0"#, r#""exit":3"#),
        swap(r#""value":"promote""#, r#""value":"rollback""#),
        swap(r#""reasons":[]"#, crit_reason),
        swap(r#""reasons":[]"#, &unknown_reason),
        swap(r#""start":"2026-11-25T03:30:00Z""#, r#""start":null"#),
        swap(r#","min_duration_s":86400"#, ""),
        swap(
            r#""elapsed_s":86400,"orders":60"#,
            r#""elapsed_s":60,"orders":3"#,
        ),
    ] {
        let out = fx
            .rollback()
            .args(["--promote", "--execute"])
            .stdin(line.clone())
            .run();
        out.code(2);
        assert_eq!(result(&out).value, "refused", "{line}\n{}", out.stdout);
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

/// A newer verdict that does not read never leaves an older one as the last
/// word: a rollback line refused for a field it does not need, after a
/// `continue`, is not "nothing to roll back".
#[test]
fn an_unreadable_newer_verdict_is_never_nothing_to_do() {
    let fx = Fx::new("unread-after");
    let older = crate::rollback::verdict_at(&crate::rollback::ts_ago(60), "continue", "");
    let newer = crate::rollback::verdict("rollback", "").replacen(r#","phase":"b""#, "", 1);
    for tail in [newer.clone(), "{not json\n".to_owned()] {
        let out = fx
            .rollback()
            .args(["--execute"])
            .stdin(format!("{older}{tail}"))
            .run();
        out.code(2);
        assert_eq!(result(&out).value, "refused", "{}", out.stdout);
        assert!(fx.calls().is_empty(), "{:?}", fx.calls());
    }
    // The same continue as the last word is nothing to do, exit 0.
    let out = fx.rollback().args(["--execute"]).stdin(older).run();
    out.code(0);
}

/// A key given twice is read as neither: a rollback verdict that repeats
/// `"decision":"promote"` after its own never promotes.
#[test]
fn a_duplicated_decision_is_refused_not_read_as_the_last() {
    let fx = Fx::new("dup-key");
    let line = crate::rollback::verdict("rollback", r#","decision":"promote""#)
        .replace(r#""level":"crit""#, r#""level":"ok""#);
    let out = fx
        .rollback()
        .args(["--promote", "--execute"])
        .stdin(line.clone())
        .run();
    out.code(2);
    assert!(
        out.records().iter().any(|r| r.name == "input.malformed"),
        "{line}\n{}",
        out.stdout
    );
    assert_eq!(result(&out).value, "refused");
    assert!(!fx.calls().iter().any(|c| c == "deploy"));
}
