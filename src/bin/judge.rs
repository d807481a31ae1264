//! `judge`: see `crates/judge/src/cli.rs` and `--help`.

use std::process::ExitCode;

fn main() -> ExitCode {
    canary_core::run_main(judge::TOOL, || {
        let cli: judge::cli::Cli = canary_core::parse_cli(judge::TOOL);
        // --follow writes a live stream: every line flushed as it is written.
        let mut out = canary_core::ndjson::stdout_writer_for(&cli.output, cli.follow);
        let exit = judge::run(&cli, &mut out)?;
        out.finish()?;
        Ok(exit)
    })
}
