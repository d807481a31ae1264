//! Every tool's --help ends with an Examples section of real pipelines, and
//! --version answers.

use crate::util::{TempDir, cmd};

const TOOLS: [&str; 12] = [
    "probe-health",
    "scrape-metrics",
    "check-profile",
    "check-risk-env",
    "check-preflight",
    "judge",
    "rollback",
    "sim-bot",
    "canary-report",
    "notify",
    "canary-rules",
    "daily-report",
];

#[test]
fn every_help_has_examples_with_pipes() {
    for tool in TOOLS {
        let out = cmd(tool).args(["--help"]).run();
        out.code(0);
        let examples = out
            .stdout
            .split("Examples:")
            .nth(1)
            .unwrap_or_else(|| panic!("{tool} --help has no Examples section"));
        let lines: Vec<&str> = examples.lines().filter(|l| !l.trim().is_empty()).collect();
        assert!(lines.len() >= 2, "{tool}: too few examples");
        assert!(
            lines.iter().any(|l| l.contains(tool)),
            "{tool}: examples do not show the tool itself"
        );
        assert!(
            examples.contains(" | "),
            "{tool}: no pipeline among the examples"
        );
    }
}

#[test]
fn every_tool_has_a_version() {
    for tool in TOOLS {
        let out = cmd(tool).args(["--version"]).run();
        out.code(0);
        assert!(out.stdout.starts_with(tool), "{tool}: {}", out.stdout);
    }
}

#[test]
fn usage_errors_name_the_tool_and_exit_2() {
    for tool in TOOLS {
        let out = cmd(tool).args(["--definitely-not-a-flag"]).run();
        out.code(2);
        assert!(
            out.stderr.starts_with(&format!("{tool}: error: ")),
            "{tool}: {}",
            out.stderr
        );
        assert!(
            out.stdout.is_empty(),
            "{tool}: usage errors write no records"
        );
    }
}

/// `--phase` reads the same way in every tool that takes it: `B` is `b`,
/// and a phase that does not exist is a usage error (exit 2) that names
/// the tool, never a run that "cannot tell".
#[test]
fn every_phase_flag_ignores_case_and_refuses_unknown_phases() {
    for tool in [
        "probe-health",
        "check-profile",
        "check-risk-env",
        "judge",
        "canary-report",
    ] {
        for phase in ["B", "A", "b"] {
            cmd(tool).args(["--phase", phase, "--help"]).run().code(0);
        }
        let out = cmd(tool).args(["--phase", "c", "--help"]).run();
        out.code(2);
        assert!(
            out.stderr.starts_with(&format!("{tool}: error:")),
            "{tool}: {}",
            out.stderr
        );
    }
}

/// One phase vocabulary: judge alone takes the start gate; the tools that
/// check a trading phase refuse `start` as a usage error rather than guess,
/// and every `--help` lists the phases with what each one is.
#[test]
fn the_start_gate_is_judges_alone_and_help_lists_every_phase() {
    cmd("judge")
        .args(["--phase", "start", "--help"])
        .run()
        .code(0);
    let help = cmd("judge").args(["--help"]).run();
    for line in [
        "start:",
        "a:",
        "b:",
        "Phase A: reduce-only",
        "Phase B: micro-open",
    ] {
        assert!(help.stdout.contains(line), "judge --help lacks {line:?}");
    }
    for tool in [
        "probe-health",
        "check-profile",
        "check-risk-env",
        "canary-report",
    ] {
        let out = cmd(tool).args(["--phase", "start", "--help"]).run();
        out.code(2);
        assert!(
            out.stderr.starts_with(&format!("{tool}: error:"))
                && out.stderr.contains("[possible values: a, b]"),
            "{tool}: {}",
            out.stderr
        );
        let help = cmd(tool).args(["--help"]).run();
        assert!(
            help.stdout.contains("- a: Phase A: reduce-only")
                && help.stdout.contains("- b: Phase B: micro-open")
                && !help.stdout.contains("- start"),
            "{tool} --help: {}",
            help.stdout
        );
    }
}

/// judge only judges: its old converter and generator flags still work for
/// one release, hidden from --help, each with one deprecation line naming
/// the tool that replaced it, and the converter writes exactly what
/// check-preflight writes.
#[test]
fn judges_deprecated_aliases_still_work_and_say_what_replaced_them() {
    let report = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/tests/fixtures/judge/preflight/not-ready.json"
    );
    let new = cmd("check-preflight")
        .args([report, "--preflight-exit", "1"])
        .run();
    new.code(1);
    let old = cmd("judge")
        .args(["--from-preflight", report, "--preflight-exit", "1"])
        .run();
    old.code(1);
    assert_eq!(old.stdout, new.stdout);
    assert!(!old.records().is_empty());
    assert_eq!(
        old.stderr,
        "judge: warning: --from-preflight is deprecated; use check-preflight\n"
    );
    // An unusable report is still exit 2 and an error under judge's name.
    let bad = cmd("judge")
        .args(["--from-preflight", "/nonexistent/pf.json"])
        .run();
    bad.code(2);
    assert_eq!(
        bad.record("preflight.report").level,
        canary_core::Level::Unknown
    );
    assert!(
        bad.stderr
            .lines()
            .nth(1)
            .is_some_and(|l| l.starts_with("judge: error: /nonexistent/pf.json: ")),
        "{}",
        bad.stderr
    );

    let dir = TempDir::new("help-emit-alias");
    let rules = cmd("judge")
        .args(["--emit-alert-rules"])
        .args([&dir.0])
        .run();
    rules.code(0);
    assert!(
        rules
            .stderr
            .starts_with("judge: warning: --emit-alert-rules is deprecated: use canary-rules"),
        "{}",
        rules.stderr
    );
    assert!(std::fs::read_dir(&dir.0).map(|d| d.count()).unwrap_or(0) > 0);

    let help = cmd("judge").args(["--help"]).run();
    let options = help.stdout.split("Examples:").next().unwrap_or_default();
    for flag in ["--from-preflight", "--preflight-exit", "--emit-alert-rules"] {
        assert!(!options.contains(flag), "judge --help shows {flag}");
    }
    assert!(!help.stdout.contains("--from-preflight"));
    assert!(
        help.stdout.contains("check-preflight "),
        "examples use check-preflight"
    );
}
