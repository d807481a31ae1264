use std::process::ExitCode;

fn main() -> ExitCode {
    canary_core::run_main(probe_health::TOOL, || {
        let cli: probe_health::cli::Cli = canary_core::parse_cli(probe_health::TOOL);
        let mut out = canary_core::ndjson::stdout_writer_for(&cli.output, cli.every.is_some());
        let exit = probe_health::run(&cli, &mut out)?;
        out.finish()?;
        Ok(exit)
    })
}
