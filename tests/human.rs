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
