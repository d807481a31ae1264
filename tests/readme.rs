//! The README's commands are run, so they cannot rot: every ```sh block,
//! against the simulator serving the bot's default address
//! (localhost:8080), in the scenario its `# scenario:` line names, ending
//! with the exit code its `# exit:` line names (default 0).

use crate::util::{Sim, TempDir, bin_dir};
use std::path::Path;
use std::process::Command;

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
        // The bot's default address, as the README's commands assume it.
        let sim = Sim::on_port(8080, &args);
        let out = Command::new("bash")
            .args(["-e", "-o", "pipefail", "-c", &block.text])
            .current_dir(&work.0)
            .env("PATH", &path)
            .env("CANARY_KIT_BIN", &bin_dir)
            .env_remove("NO_COLOR")
            .output()
            .expect("bash");
        drop(sim);
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
