//! `judge`: see `crates/judge/src/cli.rs` and `--help`.

use std::process::ExitCode;

fn main() -> ExitCode {
    canary_core::run_main(judge::TOOL, || {
        let cli: judge::cli::Cli = canary_core::parse_cli(judge::TOOL);
        let mut out = canary_core::ndjson::stdout_writer_for(&cli.output, false);
        let exit = judge::run(&cli, &mut out)?;
        out.finish()?;
        Ok(exit)
    })
}
