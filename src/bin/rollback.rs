use std::io::{self, ErrorKind};
use std::process::ExitCode;

fn main() -> ExitCode {
    canary_core::run_main(rollback::TOOL, || {
        let cli: rollback::cli::Cli = canary_core::parse_cli("rollback");
        let mut out = canary_core::ndjson::stdout_writer_for(&cli.output, false);
        let exit = rollback::run(&cli, io::stdin().lock(), &mut out);
        // The outcome stands even when stdout is gone (`| head -1`).
        if let Err(e) = out.finish()
            && e.kind() != ErrorKind::BrokenPipe
        {
            canary_core::diag(rollback::TOOL, "error", &format!("writing stdout: {e}"));
        }
        Ok(exit)
    })
}
