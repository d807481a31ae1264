//! The README's commands are run, so they cannot rot: every ```sh block,
//! against the simulator serving the bot's default address
//! (localhost:8080), in the scenario its `# scenario:` line names, ending
//! with the exit code its `# exit:` line names (default 0).
//!
//! Each block runs with its simulator in a network namespace of its own
//! (`unshare --net`), so port 8080 is always free there: the suite passes
//! on a machine where the real bot, or another test run, holds 8080.

use crate::util::{TempDir, bin_dir};
use std::path::Path;
use std::process::Command;

/// Runs inside the fresh namespace: bring loopback up, start the simulator
/// on the bot's default port, wait (with a deadline) for it to print its
/// URL, run the block, and return the block's exit code.
const IN_NAMESPACE: &str = r#"
ip link set lo up
coproc SIM { exec sim-bot --port 8080 "$@" </dev/null; }
if ! read -t 20 -r url <&"${SIM[0]}"; then
  echo "readme test: sim-bot did not start" >&2
  exit 97
fi
set +e
bash -e -o pipefail -c "$README_BLOCK"
rc=$?
kill "$SIM_PID" 2>/dev/null
wait "$SIM_PID" 2>/dev/null
exit "$rc"
"#;

/// The `unshare` invocation that gives a private network namespace here:
/// plain `--net` as root, a user namespace otherwise.
fn unshare_args() -> Vec<&'static str> {
    let plain = Command::new("unshare")
        .args(["--net", "true"])
        .status()
        .is_ok_and(|s| s.success());
    if plain {
        vec!["--net"]
    } else {
        vec!["--net", "--map-root-user"]
    }
}

struct Block {
    line: usize,
    scenario: String,
    exit: i32,
    text: String,
}

fn blocks(readme: &str) -> Vec<Block> {
    let mut out = Vec::new();
    let mut current: Option<Block> = None;
    for (i, line) in readme.lines().enumerate() {
        match (&mut current, line.trim_end()) {
            (None, "```sh") => {
                current = Some(Block {
                    line: i + 1,
                    scenario: "healthy-b".into(),
                    exit: 0,
                    text: String::new(),
                })
            }
            (Some(_), "```") => out.extend(current.take()),
            (Some(b), l) => {
                if let Some(s) = l.strip_prefix("# scenario: ") {
                    b.scenario = s.trim().to_owned();
                } else if let Some(e) = l.strip_prefix("# exit: ") {
                    b.exit = e.trim().parse().expect("# exit: N");
                }
                b.text.push_str(l);
                b.text.push('\n');
            }
            (None, _) => {}
        }
    }
    out
}

#[test]
fn every_sh_block_in_the_readme_runs() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let readme = std::fs::read_to_string(root.join("README.md")).expect("README.md");
    let all = blocks(&readme);
    assert!(
        all.len() >= 10,
        "the README lost its runnable blocks ({} left)",
        all.len()
    );
    let bin_dir = bin_dir();
    let unshare = unshare_args();
    let path = format!(
        "{}:{}",
        bin_dir.display(),
        std::env::var("PATH").unwrap_or_default()
    );
    for block in all {
        let work = TempDir::new("readme");
        for dir in ["examples", "scripts"] {
            std::os::unix::fs::symlink(root.join(dir), work.path(dir)).expect("symlink");
        }
        let mut args = vec!["--scenario", block.scenario.as_str()];
        if block.scenario == "live" {
            args.extend(["--order-rate", "20"]);
        }
        // The bot's default address, as the README's commands assume it,
        // in a namespace where nothing else can hold it.
        let out = Command::new("unshare")
            .args(&unshare)
            .args(["--", "bash", "-c", IN_NAMESPACE, "readme"])
            .args(&args)
            .current_dir(&work.0)
            .env("PATH", &path)
            .env("CANARY_KIT_BIN", &bin_dir)
            .env("README_BLOCK", &block.text)
            .env_remove("NO_COLOR")
            .stdin(std::process::Stdio::null())
            .output()
            .expect("unshare");
        let stdout = String::from_utf8_lossy(&out.stdout);
        assert_eq!(
            out.status.code(),
            Some(block.exit),
            "README.md:{} (scenario {}):\n{}\n--- stdout ---\n{stdout}\n--- stderr ---\n{}",
            block.line,
            block.scenario,
            block.text,
            String::from_utf8_lossy(&out.stderr)
        );
        assert!(
            !stdout.trim().is_empty(),
            "README.md:{}: the block printed nothing",
            block.line
        );
    }
}
