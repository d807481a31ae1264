//! `check-preflight`: see `crates/check-preflight/src/cli.rs` and `--help`.

use std::process::ExitCode;

fn main() -> ExitCode {
    canary_core::run_main(check_preflight::TOOL, || {
        let cli: check_preflight::cli::Cli = canary_core::parse_cli(check_preflight::TOOL);
        let mut out = canary_core::ndjson::stdout_writer_for(&cli.output, false);
        let exit = check_preflight::run(&cli, &mut out)?;
        out.finish()?;
        Ok(exit)
    })
}
