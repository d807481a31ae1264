//! scripts/demo, the README's first command, walks a whole canary.

use crate::util::{TempDir, bin_dir};
use std::path::Path;
use std::process::Command;
use std::time::{Duration, Instant};

#[test]
fn the_demo_walks_a_to_b_to_promote_then_rollback_in_under_a_minute() {
    let out_dir = TempDir::new("demo");
    let started = Instant::now();
    let out = Command::new("bash")
        .arg(Path::new(env!("CARGO_MANIFEST_DIR")).join("scripts/demo"))
        .env("CANARY_KIT_BIN", bin_dir())
        .env("CANARY_DEMO_OUT", &out_dir.0)
        .output()
        .expect("running the demo");
    let elapsed = started.elapsed();
    let text = String::from_utf8_lossy(&out.stdout);
    assert_eq!(
        out.status.code(),
        Some(0),
        "{text}\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    // The decisions come in the runbook's order.
    let mut at = 0;
    for step in [
        "=> GO",
        "=> ADVANCE",
        "=> PROMOTE",
        "promote.result: planned",
        "=> ROLLBACK",
        "rollback.step.checkout: planned",
    ] {
        let found = text[at..]
            .find(step)
            .unwrap_or_else(|| panic!("no {step:?} after byte {at}:\n{text}"));
        at += found + step.len();
    }
    assert!(
        text.contains("refs/tags/v1.2.0"),
        "rollback targets the release before the canary's"
    );
    assert!(out_dir.path("report.html").exists());
    assert!(
        elapsed < Duration::from_secs(60),
        "the demo took {elapsed:?}"
    );
    // Everything it started is stopped: the last simulator's port is closed.
    let url = std::fs::read_to_string(out_dir.path("sim.url")).expect("sim url");
    let addr = url.trim().trim_start_matches("http://");
    assert!(
        std::net::TcpStream::connect(addr).is_err(),
        "sim-bot still listening on {addr}"
    );
}
