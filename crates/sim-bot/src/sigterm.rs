//! `--ignore-sigterm`: the real bot logs SIGTERM and keeps running until its
//! supervisor sends SIGKILL (docs/bot.md#sigterm-is-ignored).

use signal_hook::consts::SIGTERM;
use signal_hook::iterator::Signals;
use std::io::{self, Write};
use std::thread;

/// Replace SIGTERM's default action (exit) by a log line on stderr.
pub fn ignore() -> io::Result<()> {
    let mut signals = Signals::new([SIGTERM])?;
    thread::spawn(move || {
        for sig in signals.forever() {
            let _ = writeln!(
                io::stderr().lock(),
                "sim-bot: signal {sig} received, shutting down... (ignored, as the bot does)"
            );
        }
    });
    Ok(())
}
