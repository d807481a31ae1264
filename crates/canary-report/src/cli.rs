//! Command line of `canary-report`.

use canary_core::phase::RunPhase;
use clap::Parser;
use std::path::PathBuf;

/// The tool's name, in its diagnostics and records.
pub const TOOL: &str = "canary-report";

/// Turn a recorded canary window log (NDJSON records of any canary-kit tool,
/// merged in any order) into one self-contained HTML page: judge's verdict,
/// the table of criteria with their evidence, and charts of the four runbook
/// §3.1 signals against their WARN/CRIT lines and of the order count against
/// the window's target.
///
/// The page fetches nothing when viewed: inline CSS, inline SVG, no
/// JavaScript. Every string from the log is HTML-escaped. Lines that are not
/// records are counted, listed in the report and skipped.
///
/// Exit: 0 the report was written; 2 the input could not be read or the
/// report could not be written.
#[derive(Debug, Parser)]
#[command(name = "canary-report", version, after_help = EXAMPLES)]
pub struct Cli {
    /// Log files to read, in order (`-` is stdin); stdin when none.
    #[arg(value_name = "FILE")]
    pub files: Vec<PathBuf>,

    /// Write the page to FILE (atomically) instead of stdout.
    #[arg(short, long, value_name = "FILE")]
    pub output: Option<PathBuf>,

    /// The phase whose order target the order chart shows (Phase A 10, Phase
    /// B 50); default: the verdict's phase.
    #[arg(long, value_enum, ignore_case = true)]
    pub phase: Option<RunPhase>,
}

const EXAMPLES: &str = "Examples:
  canary-report canary-$(date +%F).ndjson -o report.html
  { probe-health --phase b; scrape-metrics; } >> window.ndjson; judge --phase b window.ndjson >> window.ndjson
  canary-report window.ndjson > report.html
  cat logs/*.ndjson | canary-report --phase a -o /var/www/canary/index.html";
