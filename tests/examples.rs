//! The files in examples/ stay true: the units and the crontab name the
//! gate's real flags (examples/prometheus is kept true by canary_rules.rs).

use std::path::{Path, PathBuf};
use std::process::Command;

fn examples() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("examples")
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
