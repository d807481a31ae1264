//! rollback's errors below the tool's edge, one enum per area. Each
//! variant's text is what the refusal record and the diagnostic say: the
//! run (lib.rs) adds what was refused and where to look.

use canary_core::Level;
use std::path::PathBuf;
use std::time::Duration;

/// Why a tag name is refused before it goes near a command line.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub(crate) enum TagError {
    #[error("empty tag name")]
    Empty,
    #[error("longer than {0} bytes")]
    TooLong(usize),
    #[error("contains {0:?}: only letters, digits, '.', '-', '+' and '_' are allowed")]
    BadChar(char),
    #[error("starts with '-' (would read as an option)")]
    LeadingDash,
    #[error("starts with '.' or contains '..'")]
    Dots,
    #[error("not a release version (expected vMAJOR.MINOR.PATCH, e.g. v1.3.0)")]
    NotVersion,
}

/// Why the repository could not be read.
#[derive(Debug, thiserror::Error)]
pub(crate) enum GitError {
    #[error("{} is not a directory", .0.display())]
    NotDir(PathBuf),
    #[error("{}: {}", .0.display(), .1)]
    Resolve(PathBuf, #[source] std::io::Error),
    /// A git query failed: its arguments, and its stderr (or how it ended).
    #[error("git {args}: {why}")]
    Failed { args: String, why: String },
    #[error("git {args}: output too large")]
    TooLarge { args: String },
    #[error("git {args}: output is not UTF-8")]
    NotUtf8 { args: String },
    #[error("HEAD does not name a commit (empty repository?): {0}")]
    NoHead(#[source] Box<GitError>),
}

/// Why no plan could be made: nothing is run.
#[derive(Debug, thiserror::Error)]
pub(crate) enum PlanError {
    #[error(transparent)]
    Git(#[from] GitError),
    /// `--to` or a verdict's `to_tag` (`from`) is not a valid tag name.
    #[error("{from} '{name}': {source}")]
    BadTarget {
        from: &'static str,
        name: String,
        source: TagError,
    },
    #[error(
        "{from} {name} is a pre-release, not a release: a rollback goes to a known-good release"
    )]
    PreRelease { from: &'static str, name: String },
    #[error(
        "tag {name} of the unfinished rollback {proc_id} is gone or moved; check the repository, then name the target with --to TAG"
    )]
    ResumedTagGone { name: String, proc_id: String },
    #[error("{from} {name}: no such release tag in {}", .repo.display())]
    NoSuchTag {
        from: &'static str,
        name: String,
        repo: PathBuf,
    },
    /// HEAD is at no release tag, so "the previous release" means nothing;
    /// `hint` names the latest releases.
    #[error(
        "HEAD ({head}) is not at a release tag, so the release it runs is unknown{hint}; name the known-good release with --to TAG"
    )]
    NotAtRelease { head: String, hint: String },
    #[error("no release tag earlier than {current} to roll back to; name one with --to TAG")]
    NoEarlier { current: String },
    #[error("no verdict to promote on")]
    NoVerdict,
}

/// Why the settings (flags over the config file over defaults) are unusable.
#[derive(Debug, thiserror::Error)]
pub(crate) enum ConfigError {
    #[error("not a JSON array of strings: {0}")]
    CmdNotJson(#[source] serde_json::Error),
    #[error("empty command")]
    EmptyCommand,
    #[error("empty program name")]
    EmptyProgram,
    #[error("contains a NUL byte")]
    Nul,
    /// A `--<name>-cmd` flag's command.
    #[error("--{name}-cmd: {source}")]
    FlagCmd {
        name: String,
        source: Box<ConfigError>,
    },
    /// A command in the config file's `commands`.
    #[error("config commands.{name}: {source}")]
    FileCmd {
        name: String,
        source: Box<ConfigError>,
    },
    #[error("{}: {}", .0.display(), .1)]
    FileRead(PathBuf, #[source] std::io::Error),
    #[error("{}: larger than 1 MiB", .0.display())]
    FileTooBig(PathBuf),
    #[error("{}: {}", .0.display(), .1)]
    FileJson(PathBuf, #[source] serde_json::Error),
    /// A duration in the config file (`field`), and why it does not read.
    #[error("config {field}: {why}")]
    Duration {
        field: String,
        why: canary_core::duration::DurationError,
    },
    #[error("no repository: pass --repo DIR (the bot's git checkout) or set \"repo\" in --config")]
    NoRepo,
    #[error("a required command is empty")]
    RequiredEmpty,
    #[error("--canary-health {0}: only http:// URLs are probed")]
    HealthUrl(String),
    #[error(
        "the maximum verdict age must be more than 0 (--max-verdict-age, config max_verdict_age)"
    )]
    ZeroVerdictAge,
    #[error("config timeouts: unknown step '{step}' (steps: {steps})")]
    UnknownStep { step: String, steps: String },
}

/// Why the journal cannot be trusted: without its history a re-run could
/// repeat a step that already ran, so nothing is run.
#[derive(Debug, thiserror::Error)]
pub(crate) enum JournalError {
    #[error("the journal cannot be read: {0}")]
    Read(#[source] std::io::Error),
    #[error("the journal {} ends in a torn line (a write was cut short)", .0.display())]
    Torn(PathBuf),
    #[error("the journal {} is not UTF-8", .0.display())]
    NotUtf8(PathBuf),
    #[error("the journal {} line {line}: {source}", .path.display())]
    Line {
        path: PathBuf,
        line: usize,
        source: serde_json::Error,
    },
    #[error("the journal {} line {line}: unknown step {step:?}", .path.display())]
    UnknownStep {
        path: PathBuf,
        line: usize,
        step: String,
    },
    /// The entries read, but do not hang together.
    #[error("the journal {}: {source}", .path.display())]
    Inconsistent { path: PathBuf, source: Inconsistent },
}

/// How the journal's entries fail to hang together.
#[derive(Debug, thiserror::Error)]
pub(crate) enum Inconsistent {
    #[error("unknown procedure {0:?}")]
    UnknownProcedure(String),
    #[error("an entry of procedure {0} that never began")]
    NeverBegan(String),
}

/// Why a verdict is not fresh enough to act on.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub(crate) enum Stale {
    #[error(
        "it is dated {} in the future (more than the {} of clock skew allowed): a clock is wrong or the verdict is not judge's",
        shown(.ahead),
        shown(.skew)
    )]
    Future { ahead: Duration, skew: Duration },
    #[error(
        "it is {} old, older than the maximum verdict age {} (--max-verdict-age): the canary it judged may have changed since",
        shown(.age),
        shown(.max)
    )]
    Old { age: Duration, max: Duration },
}

fn shown(d: &Duration) -> String {
    canary_core::duration::format_duration(*d)
}

/// Why a promote verdict is not one to promote on.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub(crate) enum NotPromotable {
    #[error("a promote verdict must come from Phase B (\"phase\":\"b\")")]
    Phase,
    #[error("a promote verdict must be ok or warn, not {0}")]
    Level(Level),
    #[error("a promote verdict must cover a complete window (\"window\":{{\"complete\":true}})")]
    Incomplete,
    #[error("a promote verdict exits 0 (\"exit\":0), not {0}")]
    Exit(u8),
    #[error("a promote verdict's value must be its decision (\"value\":\"promote\")")]
    Value,
    #[error("a promote verdict has no {level} reason, and this one has ({rule})")]
    Reason { level: Level, rule: String },
    #[error("a promote verdict's window states its start, min_duration_s and min_orders")]
    WindowUnstated,
    #[error(
        "a promote verdict's window is not complete: {elapsed_s} s of {min_s} s and {orders} of {min_orders} orders"
    )]
    WindowShort {
        elapsed_s: u64,
        min_s: u64,
        orders: u64,
        min_orders: u64,
    },
}

/// Why it cannot be told whether something answers at a URL.
#[derive(Debug, thiserror::Error)]
pub(crate) enum ProbeError {
    #[error("{0}: only http:// URLs are probed")]
    NotHttp(String),
    #[error("{hostport}: {source}")]
    Resolve {
        hostport: String,
        source: std::io::Error,
    },
    #[error("{0}: no address")]
    NoAddress(String),
    #[error("{url}: {source}")]
    Io { url: String, source: std::io::Error },
    #[error("{0}: not an HTTP answer")]
    NotHttpAnswer(String),
}

/// Why it cannot be told whether an earlier step's production bot runs.
#[derive(Debug, thiserror::Error)]
pub(crate) enum ProcessError {
    #[error("/proc: {0}")]
    Proc(#[source] std::io::Error),
    #[error(
        "pid {pid}, recorded by the {what}, is alive but its environment cannot be read: it may be that production process (check with `ps -o pid,pgid,user,args -p {pid}`)"
    )]
    Unreadable { pid: u32, what: String },
}

/// Why a command could not be started (recorded as its `NotStarted` ending).
#[derive(Debug, thiserror::Error)]
pub(crate) enum SpawnError {
    #[error("empty command")]
    EmptyCommand,
    #[error("{0}")]
    Spawn(#[source] std::io::Error),
    #[error("opening log {}: {}", .0.display(), .1)]
    Log(PathBuf, #[source] std::io::Error),
    /// The command feeding the started one (a watch piped into its gate).
    #[error("starting {feed}: {source}")]
    Feed {
        feed: String,
        source: std::io::Error,
    },
}

/// Why an interrupted step stays unsettled (the check's words).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub(crate) enum Unsettled {
    /// A command of the step is still running: nothing may run it again,
    /// not even on the operator's word.
    #[error("{0}")]
    Busy(String),
    /// Nothing proves the effect present or absent, and the operator has
    /// not said (`--resolve`).
    #[error("{0}")]
    CannotTell(String),
}

impl Unsettled {
    /// The `finding` field of the `rollback.interrupted` record.
    pub(crate) fn finding(&self) -> &'static str {
        match self {
            Unsettled::Busy(_) => "busy",
            Unsettled::CannotTell(_) => "cannot-tell",
        }
    }
}

/// Why the input (stdin or the files named) could not be read to its end.
#[derive(Debug, thiserror::Error)]
pub(crate) enum InputError {
    #[error("reading stdin: {0}")]
    Stdin(#[source] std::io::Error),
    #[error("{}: {}", .0.display(), .1)]
    Open(PathBuf, #[source] std::io::Error),
    #[error("reading {}: {}", .0.display(), .1)]
    Read(PathBuf, #[source] std::io::Error),
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The texts users see, exactly as they read before the errors were
    /// typed (each was a format string at its site).
    #[test]
    fn texts_read_as_before() {
        let cases: Vec<(String, &str)> = vec![
            (
                TagError::BadChar(';').to_string(),
                "contains ';': only letters, digits, '.', '-', '+' and '_' are allowed",
            ),
            (
                NotPromotable::Incomplete.to_string(),
                r#"a promote verdict must cover a complete window ("window":{"complete":true})"#,
            ),
            (
                NotPromotable::WindowShort {
                    elapsed_s: 60,
                    min_s: 86400,
                    orders: 3,
                    min_orders: 50,
                }
                .to_string(),
                "a promote verdict's window is not complete: 60 s of 86400 s and 3 of 50 orders",
            ),
            (
                Stale::Old {
                    age: Duration::from_secs(301),
                    max: Duration::from_secs(300),
                }
                .to_string(),
                "it is 5m1s old, older than the maximum verdict age 5m (--max-verdict-age): \
                 the canary it judged may have changed since",
            ),
            (
                ConfigError::FlagCmd {
                    name: "stop".into(),
                    source: Box::new(ConfigError::EmptyCommand),
                }
                .to_string(),
                "--stop-cmd: empty command",
            ),
            (
                PlanError::BadTarget {
                    from: "--to",
                    name: "x".into(),
                    source: TagError::NotVersion,
                }
                .to_string(),
                "--to 'x': not a release version (expected vMAJOR.MINOR.PATCH, e.g. v1.3.0)",
            ),
            (
                JournalError::Line {
                    path: "/s/journal.ndjson".into(),
                    line: 3,
                    source: serde_json::from_str::<u8>("x").expect_err("not JSON"),
                }
                .to_string(),
                "the journal /s/journal.ndjson line 3: expected value at line 1 column 1",
            ),
            (
                SpawnError::Log(
                    "/s/restart.log".into(),
                    std::io::Error::from(std::io::ErrorKind::PermissionDenied),
                )
                .to_string(),
                "opening log /s/restart.log: permission denied",
            ),
        ];
        for (got, want) in cases {
            assert_eq!(got, want);
        }
    }
}
