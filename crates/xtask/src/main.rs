//! Project chores. `cargo run -p xtask -- docs DIR` writes a man page and
//! bash, zsh and fish completions for every tool, from the same clap
//! definitions the binaries parse with, so they never drift.

use anyhow::{Context, bail};
use clap::CommandFactory;
use clap_complete::Shell;
use std::fs;
use std::path::Path;

fn tools() -> Vec<clap::Command> {
    vec![
        probe_health::cli::Cli::command(),
        scrape_metrics::cli::Cli::command(),
        check_profile::cli::Cli::command(),
        check_risk_env::cli::Cli::command(),
        check_preflight::cli::Cli::command(),
        judge::cli::Cli::command(),
        rollback::cli::Cli::command(),
        sim_bot::cli::Cli::command(),
        canary_report::cli::Cli::command(),
        notify::cli::Cli::command(),
        canary_rules::cli::Cli::command(),
        daily_report::cli::Cli::command(),
    ]
}

fn docs(dir: &Path) -> anyhow::Result<()> {
    let man = dir.join("man");
    fs::create_dir_all(&man).with_context(|| format!("creating {}", man.display()))?;
    for cmd in tools() {
        let name = cmd.get_name().to_owned();
        let mut page = Vec::new();
        clap_mangen::Man::new(cmd.clone())
            .render(&mut page)
            .with_context(|| format!("rendering the man page of {name}"))?;
        fs::write(man.join(format!("{name}.1")), page)?;
        for shell in [Shell::Bash, Shell::Zsh, Shell::Fish] {
            let out = dir.join("completions").join(shell.to_string());
            fs::create_dir_all(&out)?;
            clap_complete::generate_to(shell, &mut cmd.clone(), &name, &out)
                .with_context(|| format!("writing {shell} completions of {name}"))?;
        }
    }
    Ok(())
}

fn main() -> anyhow::Result<()> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    match args.as_slice() {
        [cmd, dir] if cmd == "docs" => docs(Path::new(dir)),
        _ => bail!("usage: cargo run -p xtask -- docs DIR"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_tool_gets_a_man_page_and_completions() {
        let dir = std::env::temp_dir().join(format!("canary-kit-xtask-{}", std::process::id()));
        let _ = fs::remove_dir_all(&dir);
        docs(&dir).expect("docs");
        for cmd in tools() {
            let name = cmd.get_name().to_owned();
            let page =
                fs::read_to_string(dir.join("man").join(format!("{name}.1"))).expect("man page");
            assert!(
                page.contains(".SH NAME") && page.contains("Examples:"),
                "{name}: man page lacks its name or examples"
            );
            assert!(
                dir.join("completions/bash")
                    .join(format!("{name}.bash"))
                    .exists(),
                "{name}"
            );
            assert!(
                dir.join("completions/zsh")
                    .join(format!("_{name}"))
                    .exists(),
                "{name}"
            );
            assert!(
                dir.join("completions/fish")
                    .join(format!("{name}.fish"))
                    .exists(),
                "{name}"
            );
        }
        let _ = fs::remove_dir_all(&dir);
    }

    /// Every binary of the root package gets its man page and completions:
    /// a new tool missing from `tools()` fails here.
    #[test]
    fn every_tool_is_listed() {
        let bins = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../src/bin");
        let mut want: Vec<String> = std::fs::read_dir(&bins)
            .expect("src/bin")
            .filter_map(|e| {
                let name = e.ok()?.file_name().into_string().ok()?;
                Some(name.strip_suffix(".rs")?.to_owned())
            })
            .collect();
        want.sort();
        let mut have: Vec<String> = tools().iter().map(|c| c.get_name().to_owned()).collect();
        have.sort();
        assert_eq!(have, want);
    }
}
