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
    Duration { field: String, why: String },
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
