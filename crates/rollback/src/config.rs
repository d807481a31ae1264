//! Settings: the commands each step runs (argv arrays, from flags, a JSON
//! config file or the documented defaults), timeouts and paths.

use crate::cli::{Cli, Manager};
use crate::error::ConfigError;
use canary_core::duration::parse_duration;
use serde::Deserialize;
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::time::Duration;

/// Largest config file read.
const MAX_CONFIG: u64 = 1 << 20;
/// Name of the canary instance in the runbook's process-manager commands.
pub const CANARY_UNIT: &str = "gpt-trader-canary";
/// How long the canary may take to be gone after the stop command returned
/// (the status polled until then). `systemctl stop` itself waits for the
/// unit's `TimeoutStopSec` (90s by default) and then SIGKILLs; the bot
/// ignores SIGTERM, so without that SIGKILL it would still be running.
pub const DEFAULT_STOP_GRACE: Duration = Duration::from_secs(30);
/// A verdict older than this is refused unless `--max-verdict-age` says otherwise.
pub const DEFAULT_MAX_VERDICT_AGE: Duration = Duration::from_secs(300);

/// The JSON configuration file. Unknown keys are refused (a typo must not
/// silently fall back to a default command).
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FileConfig {
    pub repo: Option<PathBuf>,
    pub manager: Option<Manager>,
    pub state_dir: Option<PathBuf>,
    pub audit_log: Option<PathBuf>,
    pub skip_close_positions: Option<bool>,
    pub step_timeout: Option<String>,
    pub start_grace: Option<String>,
    /// How long the canary may take to be gone after the stop command.
    pub stop_grace: Option<String>,
    /// The canary's health URL: a canary that answers it is not stopped.
    pub canary_health: Option<String>,
    /// Oldest verdict acted on, e.g. `"5m"`.
    pub max_verdict_age: Option<String>,
    /// Per-step timeouts, e.g. `{"sync": "10m"}`.
    #[serde(default)]
    pub timeouts: BTreeMap<String, String>,
    #[serde(default)]
    pub commands: Commands,
    pub canary_profile: Option<PathBuf>,
    pub prod_profile: Option<PathBuf>,
}

/// Commands in the config file, each an argv array. `[]` turns off an
/// optional one (status, watch gate).
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Commands {
    pub stop: Option<Vec<String>>,
    pub status: Option<Vec<String>>,
    pub close_positions: Option<Vec<String>>,
    pub sync: Option<Vec<String>>,
    pub restart: Option<Vec<String>>,
    pub deploy: Option<Vec<String>>,
    pub watch: Option<Vec<String>>,
    pub watch_gate: Option<Vec<String>>,
}

/// A command and where it came from (`flag`, `config`, `default (...)`).
#[derive(Debug, Clone, PartialEq)]
pub struct Cmd {
    pub argv: Vec<String>,
    pub source: String,
}

impl Cmd {
    fn new(argv: &[&str], source: &str) -> Cmd {
        Cmd {
            argv: argv.iter().map(|s| (*s).to_owned()).collect(),
            source: source.to_owned(),
        }
    }
}

/// Everything a run needs to know, merged: flags over config over defaults.
#[derive(Debug, Clone)]
pub struct Settings {
    pub repo: PathBuf,
    pub state_dir: Option<PathBuf>,
    pub audit_log: Option<PathBuf>,
    pub stop: Cmd,
    pub status: Option<Cmd>,
    /// How the status command's result reads (systemd, docker, generic).
    pub status_contract: crate::status::Contract,
    pub stop_grace: Duration,
    pub canary_health: Option<String>,
    pub close_positions: Option<Cmd>,
    pub skip_close_positions: bool,
    pub sync: Cmd,
    pub restart: Cmd,
    pub deploy: Cmd,
    pub watch: Cmd,
    pub watch_gate: Option<Cmd>,
    pub canary_profile: Option<PathBuf>,
    pub prod_profile: Option<PathBuf>,
    pub step_timeout: Duration,
    pub timeouts: BTreeMap<String, Duration>,
    pub start_grace: Duration,
    /// A verdict older than this is refused (never acted on).
    pub max_verdict_age: Duration,
}

impl Settings {
    /// The timeout of one step's command.
    pub fn timeout(&self, step: &str) -> Duration {
        self.timeouts
            .get(step)
            .copied()
            .unwrap_or(self.step_timeout)
    }
}

/// Parse a command given on the command line: a JSON array of strings, or
/// words split on whitespace (no quoting, no shell).
pub fn parse_cmd(text: &str) -> Result<Vec<String>, ConfigError> {
    let trimmed = text.trim();
    let argv: Vec<String> = if trimmed.starts_with('[') {
        serde_json::from_str(trimmed).map_err(ConfigError::CmdNotJson)?
    } else {
        trimmed.split_whitespace().map(str::to_owned).collect()
    };
    check_argv(argv)
}

fn check_argv(argv: Vec<String>) -> Result<Vec<String>, ConfigError> {
    match argv.first() {
        None => Err(ConfigError::EmptyCommand),
        Some(p) if p.is_empty() => Err(ConfigError::EmptyProgram),
        Some(_) if argv.iter().any(|a| a.contains('\0')) => Err(ConfigError::Nul),
        Some(_) => Ok(argv),
    }
}

fn stop_and_status(m: Manager) -> (Cmd, Cmd) {
    match m {
        Manager::Systemd => (
            Cmd::new(&["systemctl", "stop", CANARY_UNIT], "default (systemd)"),
            Cmd::new(
                &["systemctl", "is-active", "--quiet", CANARY_UNIT],
                "default (systemd)",
            ),
        ),
        Manager::Docker => (
            Cmd::new(&["docker", "stop", CANARY_UNIT], "default (docker)"),
            Cmd::new(
                &["docker", "inspect", "-f", "{{.State.Running}}", CANARY_UNIT],
                "default (docker)",
            ),
        ),
        Manager::CanaryProcess => {
            let script = "scripts/ops/canary_process.py";
            (
                Cmd::new(
                    &["uv", "run", "python", script, "--profile", "canary", "stop"],
                    "default (canary-process)",
                ),
                Cmd::new(
                    &[
                        "uv",
                        "run",
                        "python",
                        script,
                        "--profile",
                        "canary",
                        "status",
                    ],
                    "default (canary-process)",
                ),
            )
        }
    }
}

/// Read the config file, if any.
pub fn load_file(path: &Path) -> Result<FileConfig, ConfigError> {
    use std::io::Read;
    let file = std::fs::File::open(path).map_err(|e| ConfigError::FileRead(path.to_owned(), e))?;
    let mut text = String::new();
    file.take(MAX_CONFIG + 1)
        .read_to_string(&mut text)
        .map_err(|e| ConfigError::FileRead(path.to_owned(), e))?;
    if text.len() as u64 > MAX_CONFIG {
        return Err(ConfigError::FileTooBig(path.to_owned()));
    }
    let mut cfg: FileConfig =
        serde_json::from_str(&text).map_err(|e| ConfigError::FileJson(path.to_owned(), e))?;
    // Relative paths in the file are relative to the file.
    let base = path.parent().unwrap_or(Path::new("."));
    for p in [
        &mut cfg.repo,
        &mut cfg.state_dir,
        &mut cfg.audit_log,
        &mut cfg.canary_profile,
        &mut cfg.prod_profile,
    ]
    .into_iter()
    .flatten()
    {
        if p.is_relative() {
            *p = base.join(&*p);
        }
    }
    Ok(cfg)
}

/// Pick a command: the flag, else the config file, else the default.
fn pick(
    name: &str,
    flag: Option<&String>,
    file: Option<&Vec<String>>,
    default: Option<Cmd>,
) -> Result<Option<Cmd>, ConfigError> {
    if let Some(text) = flag {
        let argv = parse_cmd(text).map_err(|e| ConfigError::FlagCmd {
            name: name.to_owned(),
            source: Box::new(e),
        })?;
        return Ok(Some(Cmd {
            argv,
            source: "flag".into(),
        }));
    }
    if let Some(argv) = file {
        if argv.is_empty() {
            return Ok(None);
        }
        let argv = check_argv(argv.clone()).map_err(|e| ConfigError::FileCmd {
            name: name.to_owned(),
            source: Box::new(e),
        })?;
        return Ok(Some(Cmd {
            argv,
            source: "config".into(),
        }));
    }
    Ok(default)
}

fn duration(field: &str, text: &str) -> Result<Duration, ConfigError> {
    parse_duration(text).map_err(|why| ConfigError::Duration {
        field: field.to_owned(),
        why,
    })
}

/// Merge flags, the config file and the defaults.
pub fn settings(cli: &Cli, file: FileConfig) -> Result<Settings, ConfigError> {
    let repo = cli
        .repo
        .clone()
        .or(file.repo.clone())
        .ok_or(ConfigError::NoRepo)?;
    let manager = cli.manager.or(file.manager).unwrap_or(Manager::Systemd);
    let (stop_d, status_d) = stop_and_status(manager);
    let c = &file.commands;
    let req = |o: Option<Cmd>| o.ok_or(ConfigError::RequiredEmpty);
    let stop = req(pick(
        "stop",
        cli.stop_cmd.as_ref(),
        c.stop.as_ref(),
        Some(stop_d),
    )?)?;
    // A custom stop command does not get a preset status command it does not match.
    let status_default = (stop.source.starts_with("default")).then_some(status_d);
    let status = pick(
        "status",
        cli.status_cmd.as_ref(),
        c.status.as_ref(),
        status_default,
    )?;
    let close_positions = pick(
        "close-positions",
        cli.close_positions_cmd.as_ref(),
        c.close_positions.as_ref(),
        None,
    )?;
    let prod = ["uv", "run", "gpt-trader", "run", "--profile", "prod"];
    let sync = req(pick(
        "sync",
        cli.sync_cmd.as_ref(),
        c.sync.as_ref(),
        Some(Cmd::new(&["uv", "sync"], "default")),
    )?)?;
    let restart = req(pick(
        "restart",
        cli.restart_cmd.as_ref(),
        c.restart.as_ref(),
        Some(Cmd::new(&prod, "default")),
    )?)?;
    let deploy = req(pick(
        "deploy",
        cli.deploy_cmd.as_ref(),
        c.deploy.as_ref(),
        Some(Cmd::new(&prod, "default")),
    )?)?;
    let watch = req(pick(
        "watch",
        cli.watch_cmd.as_ref(),
        c.watch.as_ref(),
        Some(Cmd::new(
            &[
                "probe-health",
                "--phase",
                "b",
                "--every",
                "30s",
                "--count",
                "120",
            ],
            "default",
        )),
    )?)?;
    let watch_gate = pick(
        "watch-gate",
        cli.watch_gate_cmd.as_ref(),
        c.watch_gate.as_ref(),
        Some(Cmd::new(&["judge", "--phase", "b"], "default")),
    )?;
    let step_timeout = match (cli.step_timeout, &file.step_timeout) {
        (Some(d), _) => d,
        (None, Some(t)) => duration("step_timeout", t)?,
        (None, None) => Duration::from_secs(300),
    };
    let stop_grace = match (cli.stop_grace, &file.stop_grace) {
        (Some(d), _) => d,
        (None, Some(t)) => duration("stop_grace", t)?,
        (None, None) => DEFAULT_STOP_GRACE,
    };
    let canary_health = cli.canary_health.clone().or(file.canary_health);
    if let Some(u) = &canary_health
        && !u.starts_with("http://")
    {
        return Err(ConfigError::HealthUrl(u.clone()));
    }
    use crate::status::Contract;
    let status_contract = match (&status, manager) {
        (Some(s), Manager::Systemd) if s.source.starts_with("default") => Contract::Systemd,
        (Some(s), Manager::Docker) if s.source.starts_with("default") => Contract::Docker,
        _ => Contract::Generic,
    };
    let start_grace = match (cli.start_grace, &file.start_grace) {
        (Some(d), _) => d,
        (None, Some(t)) => duration("start_grace", t)?,
        (None, None) => Duration::from_secs(15),
    };
    let max_verdict_age = match (cli.max_verdict_age, &file.max_verdict_age) {
        (Some(d), _) => d,
        (None, Some(t)) => duration("max_verdict_age", t)?,
        (None, None) => DEFAULT_MAX_VERDICT_AGE,
    };
    if max_verdict_age.is_zero() {
        return Err(ConfigError::ZeroVerdictAge);
    }
    let mut timeouts = BTreeMap::new();
    for (step, text) in &file.timeouts {
        if crate::procedure::Step::parse(step).is_none() {
            let names: Vec<&str> = crate::procedure::Step::ALL
                .iter()
                .map(|s| s.name())
                .collect();
            return Err(ConfigError::UnknownStep {
                step: crate::version::shown(step),
                steps: names.join(", "),
            });
        }
        timeouts.insert(step.clone(), duration(&format!("timeouts.{step}"), text)?);
    }
    Ok(Settings {
        repo,
        state_dir: cli.state_dir.clone().or(file.state_dir),
        audit_log: cli.audit_log.clone().or(file.audit_log),
        stop,
        status,
        status_contract,
        stop_grace,
        canary_health,
        close_positions,
        skip_close_positions: cli.skip_close_positions || file.skip_close_positions == Some(true),
        sync,
        restart,
        deploy,
        watch,
        watch_gate,
        canary_profile: cli.canary_profile.clone().or(file.canary_profile),
        prod_profile: cli.prod_profile.clone().or(file.prod_profile),
        step_timeout,
        timeouts,
        start_grace,
        max_verdict_age,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn commands_parse_as_arrays_or_words_never_shell() {
        assert_eq!(
            parse_cmd("systemctl stop gpt-trader-canary").ok(),
            Some(vec![
                "systemctl".into(),
                "stop".into(),
                "gpt-trader-canary".into()
            ])
        );
        assert_eq!(
            parse_cmd(r#"["/opt/my tools/flatten", "a b"]"#).ok(),
            Some(vec!["/opt/my tools/flatten".into(), "a b".into()])
        );
        assert_eq!(
            parse_cmd("echo $(id); rm").ok(),
            Some(vec!["echo".into(), "$(id);".into(), "rm".into()])
        );
        assert!(parse_cmd("").is_err());
        assert!(parse_cmd("[]").is_err());
        assert!(parse_cmd("[1]").is_err());
        assert!(parse_cmd(r#"[""]"#).is_err());
    }

    #[test]
    fn config_refuses_unknown_keys() {
        let err = serde_json::from_str::<FileConfig>(r#"{"comands": {}}"#).expect_err("typo");
        assert!(err.to_string().contains("unknown field"), "{err}");
        let err =
            serde_json::from_str::<FileConfig>(r#"{"commands": {"stop": "systemctl stop x"}}"#)
                .expect_err("a string, not an array");
        assert!(err.to_string().contains("sequence"), "{err}");
    }
}
