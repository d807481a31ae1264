//! The files in examples/ stay true: generated ones match their generator,
//! Prometheus accepts the configuration and the rules, the units and the
//! crontab name the gate's real flags.

use crate::util::cmd;
use std::path::{Path, PathBuf};
use std::process::Command;

fn examples() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("examples")
}

#[test]
fn the_alert_rules_in_examples_are_what_judge_generates() {
    let dir = crate::util::TempDir::new("alerts");
    cmd("judge")
        .args(["--emit-alert-rules", &dir.0.to_string_lossy()])
        .run()
        .code(0);
    for file in ["canary_alerts.yml", "canary_alerts_test.yml"] {
        let fresh = std::fs::read_to_string(dir.path(file)).expect("generated");
        let kept =
            std::fs::read_to_string(examples().join("prometheus").join(file)).expect("example");
        assert_eq!(
            kept, fresh,
            "examples/prometheus/{file} drifted: regenerate with judge --emit-alert-rules examples/prometheus"
        );
    }
}

#[test]
fn promtool_accepts_the_example_config_rules_and_tests() {
    let dir = examples().join("prometheus");
    let run = |args: &[&str]| {
        let out = Command::new("promtool")
            .args(args)
            .current_dir(&dir)
            .output()
            .expect("promtool (installed by scripts/test)");
        assert!(
            out.status.success(),
            "promtool {args:?}: {}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
    };
    run(&["check", "config", "prometheus.yml"]);
    run(&["check", "rules", "canary_alerts.yml"]);
    run(&["test", "rules", "canary_alerts_test.yml"]);
}

#[test]
fn the_crontab_and_units_use_flags_the_gate_has() {
    let help = Command::new("bash")
        .arg(Path::new(env!("CARGO_MANIFEST_DIR")).join("scripts/canary-gate"))
        .arg("--help")
        .output()
        .expect("canary-gate --help");
    let help = String::from_utf8_lossy(&help.stdout).into_owned();
    for file in ["cron/canary-gate.crontab", "systemd/canary-gate.service"] {
        let text = std::fs::read_to_string(examples().join(file)).expect(file);
        let commands = text.lines().filter(|l| !l.trim_start().starts_with('#'));
        for flag in commands
            .flat_map(str::split_whitespace)
            .filter(|w| w.starts_with("--"))
        {
            assert!(
                help.contains(flag),
                "{file} uses {flag}, which canary-gate --help does not document"
            );
        }
    }
    let timer =
        std::fs::read_to_string(examples().join("systemd/canary-gate.timer")).expect("timer");
    assert!(timer.contains("OnUnitActiveSec=1min"));
}
