//! Command line of `notify`.

use canary_core::duration::parse_duration;
use clap::Parser;
use std::path::PathBuf;
use std::time::Duration;

/// The tool's name: the command, and the `tool` of every record it writes.
pub const TOOL: &str = "notify";

/// Tell people when judge's decision changes: a JSON webhook, a Slack
/// incoming webhook, or Alertmanager (API v2).
///
/// Reads verdict records (NDJSON) from FILEs or stdin and sends one
/// notification per change of decision per verdict scope and target: a
/// repeated `continue` is not news, a new `rollback` is. Only `judge.verdict`
/// records written by judge count; any other record is refused with a
/// `notify.rejected` record.
///
/// Alertmanager receives an alert (labels alertname, phase, decision,
/// target, scope, severity; annotations with the reasons) while the decision
/// calls for a person (rollback, stop, no-go, pause, extend), re-asserted on
/// every run that repeats it, and resolved (endsAt now) when the decision
/// returns to a healthy one.
///
/// The last decision sent per target lives in --state: written atomically,
/// locked against concurrent runs, never followed through a symlink, and
/// never silently reset when it is foreign or corrupt. A send is retried a
/// bounded number of times within a bounded time; a change that could not be
/// sent is not recorded as sent, so the next run sends it again.
///
/// Exit: 0 every change sent (or nothing new); 2 a send failed, the state
/// file was refused or locked, an input record was refused, or no verdict
/// was read.
#[derive(Debug, Parser)]
#[command(name = TOOL, version, after_help = EXAMPLES)]
pub struct Cli {
    /// Verdict streams to read (NDJSON); stdin when none.
    #[arg(value_name = "FILE")]
    pub files: Vec<PathBuf>,

    /// POST a JSON document per change to this URL (repeatable).
    #[arg(long, value_name = "URL")]
    pub webhook: Vec<String>,

    /// POST a Slack-compatible `{"text": ...}` message per change to this incoming-webhook URL (repeatable).
    #[arg(long, value_name = "URL")]
    pub slack: Vec<String>,

    /// Alertmanager's base URL (e.g. http://127.0.0.1:9093); alerts go to URL/api/v2/alerts (repeatable).
    #[arg(long, value_name = "URL")]
    pub alertmanager: Vec<String>,

    /// The file holding the last decision sent per target (required unless --dry-run).
    #[arg(long, value_name = "FILE")]
    pub state: Option<PathBuf>,

    /// Print what would be sent (status `planned`) without sending or touching the state.
    #[arg(long)]
    pub dry_run: bool,

    /// Timeout of one HTTP request.
    #[arg(long, value_parser = parse_duration, value_name = "DUR", default_value = "5s")]
    pub timeout: Duration,

    /// Retries after a failed send (so 1 + N attempts at most).
    #[arg(long, value_name = "N", default_value_t = 2)]
    pub retries: u32,

    /// Total time one send may take, retries and back-off included.
    #[arg(long, value_parser = parse_duration, value_name = "DUR", default_value = "30s")]
    pub retry_budget: Duration,

    /// How long an Alertmanager alert stays firing unless a later run re-asserts it.
    #[arg(long, value_parser = parse_duration, value_name = "DUR", default_value = "1h")]
    pub alert_ttl: Duration,

    #[command(flatten)]
    pub output: canary_core::human::OutputArgs,
}

const EXAMPLES: &str = "Examples:
  judge --phase b window.ndjson | notify --state /var/lib/canary-kit/notify.json \\
      --alertmanager http://127.0.0.1:9093
  judge --phase b window.ndjson | notify --state notify.json --slack https://hooks.slack.com/services/T/B/X
  judge --phase b window.ndjson | notify --state notify.json --webhook http://127.0.0.1:8099/hook --retries 5
  notify --dry-run --webhook http://127.0.0.1:8099/hook verdicts.ndjson
  notify --state notify.json --webhook http://127.0.0.1:8099/hook verdicts.ndjson | jq -c 'select(.kind == \"step\")'";
