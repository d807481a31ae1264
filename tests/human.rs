//! Human output: a table on request or on a terminal, colour only on a
//! terminal and never with NO_COLOR, NDJSON whenever stdout is a pipe.

use crate::util::{Sim, bin, cmd};
use std::process::Command;

/// Run a command line under a pseudo-terminal (util-linux `script`).
fn on_a_terminal(line: &str, no_color: bool) -> String {
    let mut c = Command::new("script");
    c.args(["-qec", line, "/dev/null"]).env_remove("NO_COLOR");
    if no_color {
        c.env("NO_COLOR", "1");
    }
    let out = c.output().expect("running script(1)");
    String::from_utf8_lossy(&out.stdout).into_owned()
}

#[test]
fn a_pipe_gets_ndjson_and_text_is_on_request() {
    let sim = Sim::start("real-canary");
    let piped = cmd("probe-health").args(["--url", &sim.url]).run();
    assert!(piped.stdout.lines().all(|l| l.starts_with('{')));
    let text = cmd("probe-health")
        .args(["--url", &sim.url, "--format", "text"])
        .run();
    let first = text.stdout.lines().next().unwrap_or_default();
    assert!(
        first.starts_with("LEVEL") && first.contains("MESSAGE"),
        "{first}"
    );
    assert!(
        text.stdout.contains("CRIT    health.status"),
        "{}",
        text.stdout
    );
    assert!(!text.stdout.contains('\x1b'), "no colour into a pipe");
}

#[test]
fn a_terminal_gets_a_coloured_table_unless_no_color() {
    let sim = Sim::start("real-canary");
    let line = format!("'{}' --url {}", bin("probe-health").display(), sim.url);
    let tty = on_a_terminal(&line, false);
    assert!(
        tty.contains("LEVEL") && tty.contains("\x1b[1;31m"),
        "{tty:?}"
    );
    let plain = on_a_terminal(&line, true);
    assert!(
        plain.contains("LEVEL") && !plain.contains('\x1b'),
        "{plain:?}"
    );
    let forced = on_a_terminal(&format!("{line} --format json"), false);
    assert!(forced.trim_start().starts_with('{'), "{forced:?}");
}

#[test]
fn every_record_writing_tool_has_the_table() {
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR"));
    let ex = |p: &str| root.join("examples").join(p).to_string_lossy().into_owned();
    let runs: [(&str, Vec<String>); 5] = [
        (
            "check-profile",
            vec![ex("profiles/canary.yaml"), "--phase".into(), "a".into()],
        ),
        (
            "check-risk-env",
            vec![
                "--env-file".into(),
                ex("env/phase-a.env"),
                "--phase".into(),
                "a".into(),
            ],
        ),
        (
            "judge",
            vec![
                "--phase".into(),
                "b".into(),
                ex("streams/clean-canary-b.ndjson"),
            ],
        ),
        ("rollback", vec![ex("rollback/verdict-promote.ndjson")]),
        (
            "notify",
            vec![
                "--dry-run".into(),
                "--webhook".into(),
                "http://127.0.0.1:1/hook".into(),
                ex("rollback/verdict-promote.ndjson"),
            ],
        ),
    ];
    for (tool, args) in runs {
        let out = cmd(tool)
            .args(
                args.iter()
                    .chain(["--format".to_owned(), "text".to_owned()].iter()),
            )
            .run();
        let mut lines = out.stdout.lines();
        assert!(
            lines.next().is_some_and(|h| h.starts_with("LEVEL ")),
            "{tool}: {}",
            out.stdout
        );
        assert!(lines.next().is_some(), "{tool}: no rows");
        assert!(
            out.stdout.lines().all(|l| !l.starts_with('{')),
            "{tool}: JSON in the table: {}",
            out.stdout
        );
    }
}
