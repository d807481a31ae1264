//! The catalogue of record names. `FORMAT.md` shows it as a table; a test
//! keeps the two in step, and the end-to-end tests check that every record a
//! tool emits is named here.

use crate::record::Kind;

/// One entry of the catalogue. A `<placeholder>` segment matches one segment
/// of lower-case letters, digits and underscores.
#[derive(Debug, Clone, Copy)]
pub struct NameSpec {
    /// The record name, `<placeholder>` segments included (`rollback.step.<step>`).
    pub(crate) name: &'static str,
    /// The kind every record of this name carries.
    pub kind: Kind,
    /// The tool that writes it (`canary-gate` for the script's records).
    pub tool: &'static str,
    /// One line on what the record says, as `FORMAT.md`'s table shows it.
    pub(crate) meaning: &'static str,
}

macro_rules! spec {
    ($name:literal, $kind:ident, $tool:literal, $meaning:literal) => {
        NameSpec {
            name: $name,
            kind: Kind::$kind,
            tool: $tool,
            meaning: $meaning,
        }
    };
}

/// Every record name a canary-kit tool emits.
pub(crate) const CATALOGUE: &[NameSpec] = &[
    spec!(
        "health.status",
        Check,
        "probe-health",
        "`/health` `status`: healthy ok, degraded warn, unhealthy, starting or shutdown crit (runbook §2.1); a 5xx saying healthy or degraded is unknown"
    ),
    spec!(
        "health.broker",
        Check,
        "probe-health",
        "`checks.broker.status`: pass ok, fail crit (runbook §2.1)"
    ),
    spec!(
        "health.websocket.connected",
        Check,
        "probe-health",
        "`checks.websocket.details.connected`: true ok, false crit, absent unknown (runbook §2.1)"
    ),
    spec!(
        "health.websocket.stale",
        Check,
        "probe-health",
        "`checks.websocket.details.stale`: false ok, true crit, absent unknown (runbook §2.1)"
    ),
    spec!(
        "health.websocket.staleness",
        Check,
        "probe-health",
        "websocket message age against runbook §5: < 30 s ok, 30–60 s warn, >= 60 s crit"
    ),
    spec!(
        "health.degradation.global_paused",
        Check,
        "probe-health",
        "`checks.degradation.details.global_paused`: false ok, true crit (runbook §2.1)"
    ),
    spec!(
        "health.degradation.reduce_only_mode",
        Check,
        "probe-health",
        "`reduce_only_mode` against the phase: true in Phase A, false in Phase B (runbook §2.1)"
    ),
    spec!(
        "health.check.<check>",
        Check,
        "probe-health",
        "any other check the bot reports (`ticker_freshness`, `market_data_feed`, `performance`, ...), by the bot's own severity rules"
    ),
    spec!(
        "health.signals",
        Check,
        "probe-health",
        "the bot's summary of its own signals (`signals.status`, `signals.message`)"
    ),
    spec!(
        "health.signal.<signal>",
        Signal,
        "probe-health",
        "one of the bot's own lifetime signals (`order_error_rate`, `broker_latency_p95`, ...) with its status and thresholds"
    ),
    spec!(
        "health.live",
        Check,
        "probe-health",
        "`/live`: 200 pass true ok, 503 fail false crit, anything else unknown"
    ),
    spec!(
        "health.ready",
        Check,
        "probe-health",
        "`/ready`: ready ok, not ready crit, with the bot's reason"
    ),
    spec!(
        "health.fetch",
        Error,
        "probe-health",
        "an endpoint gave no evidence: unreachable, timeout, body over the cap, not JSON, unexpected status"
    ),
    spec!(
        "health.duplicate_key",
        Error,
        "probe-health",
        "a key the body gives twice (`key`, dotted): unknown when the values differ (the key is then unreadable, never last-wins), warn when they agree"
    ),
    spec!(
        "metrics.order_error_rate",
        Signal,
        "scrape-metrics",
        "failed and rejected order submissions over all submissions (runbook §3.1), over `window` or `lifetime`; unknown over zero orders; `numerator`, `denominator` (counts), `counts` (exact, or approximate from Prometheus), `interval` (`method`, `confidence`, `lower`, `upper`: exact bounds at --confidence) and `proven_level` (the level the evidence proves)"
    ),
    spec!(
        "metrics.order_retry_rate",
        Signal,
        "scrape-metrics",
        "broker submit calls beyond one per order, over submissions (runbook §3.1); `numerator` (retries), `denominator` (orders), `counts`, `interval` and `proven_level` as the error rate"
    ),
    spec!(
        "metrics.broker_latency_p95",
        Signal,
        "scrape-metrics",
        "p95 of successful broker submit latency in ms (runbook §3.1), from corrected buckets; `correction` names any repair; `bucket_ms` (`lower`, `upper`: the bucket holding it, upper null for +Inf), `observations` and `proven_level`"
    ),
    spec!(
        "metrics.guard_trips",
        Signal,
        "scrape-metrics",
        "guard trips in the last hour (runbook §3.1); `nonrecoverable` counts `recoverable=\"false\"` trips"
    ),
    spec!(
        "metrics.order_result",
        Check,
        "scrape-metrics",
        "orders under a `result` label value the bot never writes (it writes success, rejected, failed): unknown; they are never counted as successes"
    ),
    spec!(
        "metrics.orders",
        Sample,
        "scrape-metrics",
        "the bot's lifetime count of order submissions, `by_result`; resets to 0 when the bot restarts"
    ),
    spec!(
        "metrics.guard_trips_total",
        Sample,
        "scrape-metrics",
        "the bot's lifetime count of guard trips, `by_recoverable`"
    ),
    spec!(
        "metrics.submit_latency_buckets",
        Sample,
        "scrape-metrics",
        "the bot's lifetime cumulative buckets of successful broker submit latency (`buckets`: `[{le, count}]`, `le` in seconds, null for +Inf; corrected, `correction`); judge takes the whole window's p95 from their deltas"
    ),
    spec!(
        "metrics.histogram",
        Check,
        "scrape-metrics",
        "a histogram family's buckets, one record per family: ok cumulative, warn double-cumulated (corrected; `series`, `repaired`, `repaired_series`), unknown broken (`broken_series`)"
    ),
    spec!(
        "metrics.parse",
        Error,
        "scrape-metrics",
        "an exposition line that could not be parsed, with its line number; unknown when it names a series the signals read"
    ),
    spec!(
        "metrics.fetch",
        Error,
        "scrape-metrics",
        "no evidence from /metrics or Prometheus: unreachable, disabled (404 with the bot's hint), bad status, failed query"
    ),
    spec!(
        "metrics.equity",
        Sample,
        "scrape-metrics",
        "the bot's equity gauge (`gpt_trader_equity_dollars`) in the newest scrape, with `start`, `min` and `max` over the money window; unknown when the newest scrape has none (docs/money.md)"
    ),
    spec!(
        "metrics.drawdown",
        Signal,
        "scrape-metrics",
        "peak-to-trough equity drawdown over the money window, of start-of-window equity, as a fraction of the daily loss limit: WARN 0.5, CRIT 1.0; unknown without two equity readings, or when it fell and no limit is known (docs/money.md#drawdown)"
    ),
    spec!(
        "metrics.circuit_breaker",
        Signal,
        "scrape-metrics",
        "the worst `gpt_trader_circuit_breaker_state` of any category in the window: 0 closed ok, 1 half-open warn, 2 open crit; absent unknown"
    ),
    spec!(
        "metrics.order_rate",
        Signal,
        "scrape-metrics",
        "orders submitted per minute over the window (exact counter deltas), as a fraction of `--max-orders-per-minute`: WARN 0.8, CRIT 1.0 (docs/money.md#order-rate)"
    ),
    spec!(
        "metrics.api_error_rate",
        Signal,
        "scrape-metrics",
        "the highest `gpt_trader_api_error_rate` in the window: WARN 0.05, CRIT 0.15; absent unknown"
    ),
    spec!(
        "metrics.rate_limit_usage",
        Signal,
        "scrape-metrics",
        "the highest `gpt_trader_rate_limit_usage_ratio` in the window: WARN 0.8, CRIT 0.95; absent unknown"
    ),
    spec!(
        "daily.report",
        Error,
        "daily-report",
        "the daily report could not be used: unreadable, over the cap, not JSON, not a report, or a CLI envelope saying it failed"
    ),
    spec!(
        "daily.equity_change",
        Sample,
        "daily-report",
        "the day's `account.equity`, `equity_change` and `equity_change_pct` as the report gives them; unknown when equity is null"
    ),
    spec!(
        "daily.drawdown",
        Signal,
        "daily-report",
        "the day's loss from start-of-day equity (the worse of `-equity_change` and `performance.max_drawdown`), as a fraction of the daily loss limit: WARN 0.5, CRIT 1.0 (docs/money.md#the-daily-report)"
    ),
    spec!(
        "daily.circuit_breaker",
        Check,
        "daily-report",
        "`risk.circuit_breaker_state`: empty or not triggered ok, triggered crit (with `rule` and `action`), absent unknown"
    ),
    spec!(
        "daily.liveness",
        Check,
        "daily-report",
        "`health.liveness.status`: GREEN ok, RED crit, UNKNOWN or absent unknown"
    ),
    spec!(
        "daily.unfilled_orders",
        Check,
        "daily-report",
        "`health.unfilled_orders`: 0 ok, more warn, absent or not a count unknown"
    ),
    spec!(
        "daily.api_errors",
        Check,
        "daily-report",
        "`health.api_errors`: 0 ok, more warn, absent or not a count unknown"
    ),
    spec!(
        "input.malformed",
        Error,
        "any reader",
        "an input line that is not a valid record: its source, line number and why"
    ),
    spec!(
        "judge.verdict",
        Verdict,
        "judge",
        "the runbook §4.2 decision (`decision`, `phase`, `reasons`, `window`, `scope` overall or target; see docs/judge.md)"
    ),
    spec!(
        "judge.transition",
        Sample,
        "judge",
        "replay (--transitions): a moment the overall decision changed (`decision`, `previous`), for post-mortems; never acted on"
    ),
    spec!(
        "judge.comparison",
        Check,
        "judge",
        "against production (`--baseline`, or records marked `\"role\": \"baseline\"`): one per compared signal (`signal`, `test`, `canary` and `baseline` figures, `effect`, `effect_size`, `p_value`, `p_worse`, `p_better`, `tolerance`, `large`, `alpha`); `value` better, same, worse or unknown; see docs/judge.md#against-production"
    ),
    spec!(
        "input.unsorted",
        Error,
        "judge",
        "replay (--transitions) refused at a record older than one already replayed (`value` its time): no later transition is listed, exit 2"
    ),
    spec!(
        "process.restart",
        Sample,
        "canary-gate",
        "a process manager's record that the bot restarted at `ts` (target the bot): a fall of its order counter across it is a restart"
    ),
    spec!(
        "preflight.report",
        Error,
        "check-preflight",
        "the preflight JSON report could not be read (missing, not JSON, not a report)"
    ),
    spec!(
        "preflight.status",
        Check,
        "check-preflight",
        "the report's status: READY ok, REVIEW warn, NOT READY crit (docs/bot.md#preflight-report)"
    ),
    spec!(
        "preflight.exit",
        Check,
        "check-preflight",
        "preflight's exit code: 0 ok, 1 or 2 crit (docs/bot.md#preflight-invocation)"
    ),
    spec!(
        "preflight.diagnostic_only",
        Check,
        "check-preflight",
        "crit: a --warn-only run does not satisfy the live readiness gate (docs/bot.md#preflight-warn-only)"
    ),
    spec!(
        "preflight.warnings",
        Check,
        "check-preflight",
        "warn: the report's warning messages"
    ),
    spec!(
        "preflight.check.<check>",
        Check,
        "check-preflight",
        "crit: one failing preflight check (its `error_hints`: messages and hints)"
    ),
    spec!(
        "evidence.unknown_too_long",
        Verdict,
        "judge",
        "a reason (`rule`) of an escalated `judge.verdict`, not a record of its own: evidence unknown for longer than --max-unknown since --unknown-since turned a hold into stop (Phase A) or pause (Phase B), exit 1; `value` seconds unknown, `threshold` the limit, `ts` since when"
    ),
    spec!(
        "profile.read",
        Error,
        "check-profile",
        "the profile could not be evaluated: unreadable, over 1 MiB, not UTF-8, or over the YAML parse budget (alias bomb)"
    ),
    spec!(
        "profile.load",
        Check,
        "check-profile",
        "how the bot loads the file: as written ok; empty, YAML error, a tag `yaml.safe_load` refuses, a null or non-mapping section (silent fallback to hard-coded defaults), session error or duplicate key crit"
    ),
    spec!(
        "profile.name",
        Check,
        "check-profile",
        "warn: the file name is not a profile the bot can load by name"
    ),
    spec!(
        "profile.trading.mode",
        Check,
        "check-profile",
        "effective `trading.mode` against the phase: reduce_only in Phase A, normal in Phase B (runbook §1.2)"
    ),
    spec!(
        "profile.risk_management.max_leverage",
        Check,
        "check-profile",
        "effective `max_leverage` after int() truncation: 1 ok, else crit (runbook §1.2)"
    ),
    spec!(
        "profile.risk_management.position_fraction",
        Check,
        "check-profile",
        "effective `position_fraction` (default 0.1): <= 0.001 ok, else crit (runbook §1.2)"
    ),
    spec!(
        "profile.risk_management.daily_loss_limit_pct",
        Check,
        "check-profile",
        "what the bot enforces instead of the runbook's non-existent `daily_loss_limit`: <= 0.01 ok, else crit"
    ),
    spec!(
        "profile.execution",
        Check,
        "check-profile",
        "crit: `execution.dry_run` or `execution.mock_broker` is on, so every order is rejected and the canary validates nothing; unknown after a fallback that leaves them undocumented"
    ),
    spec!(
        "profile.yaml11_scalar",
        Check,
        "check-profile",
        "warn: a plain scalar the bot's YAML 1.1 parser reads differently from YAML 1.2 (`yes`, `010`, `14:00`, `1e3`)"
    ),
    spec!(
        "profile.ignored_key",
        Check,
        "check-profile",
        "warn: a key the bot never reads or never applies, with its line and what to set instead"
    ),
    spec!(
        "profile.session",
        Check,
        "check-profile",
        "warn: the session window is written but not enforced (BotConfig drops it)"
    ),
    spec!(
        "profile.effective",
        Sample,
        "check-profile",
        "every schema field the bot runs with, and where each value comes from"
    ),
    spec!(
        "profile.derive",
        Step,
        "check-profile",
        "the Phase B profile was written (--write-phase-b) and how to start the bot with it"
    ),
    spec!(
        "risk.env_file",
        Error,
        "check-risk-env",
        "unknown: the env file (missing, unreadable, over 1 MiB, not a regular file) or one of its lines or env entries (no `=`, unterminated quote, not UTF-8, junk) could not be read"
    ),
    spec!(
        "risk.from_env",
        Check,
        "check-risk-env",
        "does `RiskConfig.from_env()` succeed: ok, or crit naming the first bad value that aborts it"
    ),
    spec!(
        "risk.bot_start",
        Check,
        "check-risk-env",
        "would `gpt-trader run` start: crit listing every RISK_* value BotConfig.from_env() crashes on, and a CFM_MAX_LEVERAGE that is not a plain integer"
    ),
    spec!(
        "risk.preflight_ranges",
        Check,
        "check-risk-env",
        "preflight's risk check validates the `from_env` values (leverage 1–10, liquidation buffer >= 0.10, position pct in (0, 0.25], slippage 10–100 bps, daily loss pct in (0, 0.20]): ok, crit naming each value outside, unknown when from_env fails"
    ),
    spec!(
        "risk.profile_read",
        Error,
        "check-risk-env",
        "unknown: the `--profile` to compare with could not be read or evaluated"
    ),
    spec!(
        "risk.max_leverage",
        Check,
        "check-risk-env",
        "`RISK_MAX_LEVERAGE` as int(): <= 1 ok, else crit (runbook §1.3)"
    ),
    spec!(
        "risk.max_position_pct_per_symbol",
        Check,
        "check-risk-env",
        "`RISK_MAX_POSITION_PCT_PER_SYMBOL` as float(): <= 0.001 ok, else crit (runbook §1.3)"
    ),
    spec!(
        "risk.daily_loss_limit_pct",
        Check,
        "check-risk-env",
        "`RISK_DAILY_LOSS_LIMIT_PCT` as float(): <= 0.01 ok, else crit; the runbook's `daily_loss_limit` does not exist (runbook §1.3)"
    ),
    spec!(
        "risk.reduce_only_mode",
        Check,
        "check-risk-env",
        "`RISK_REDUCE_ONLY_MODE` as preflight reads it (exactly \"1\"): true in Phase A, false in Phase B; crit when misread or fatal to the bot"
    ),
    spec!(
        "risk.reduce_only_parsers",
        Check,
        "check-risk-env",
        "warn: preflight's `== \"1\"` and the bot's tolerant boolean read `RISK_REDUCE_ONLY_MODE` differently"
    ),
    spec!(
        "risk.unknown_var",
        Check,
        "check-risk-env",
        "warn: a RISK_*/CFM_* variable the bot never reads, with the closest known name"
    ),
    spec!(
        "risk.profile_mismatch.<field>",
        Check,
        "check-risk-env",
        "warn: preflight's env value and the running bot's profile value disagree (runbook §1.3)"
    ),
    spec!(
        "gate.producer",
        Error,
        "canary-gate",
        "unknown: a producer the gate ran could not evaluate (exit 2, a crash, a signal, not installed, or an exit without a single record); `value` names it; the gate holds the run"
    ),
    spec!(
        "rollback.trigger",
        Step,
        "rollback",
        "what a rollback run acts on: the verdict (decision, source, ts, scope) or `--force`, and the action: rollback, stop or none"
    ),
    spec!(
        "rollback.rejected",
        Error,
        "rollback",
        "a record refused as a trigger: not judge's (`tool`, `kind`, `name`), not the overall verdict (`scope`), a `decision`, `scope`, `phase`, `reasons`, `window` or `exit` that does not pass the strict verdict reading (the first such field), a `to_tag`/`tag` that is not a valid release tag (injection attempts), or a verdict older than `--max-verdict-age` or dated ahead of the clock (field `ts`); never acted on"
    ),
    spec!(
        "rollback.config",
        Error,
        "rollback",
        "nothing was run: bad usage or config file, not a git repository, no usable verdict, a stale verdict, tag resolution failed (no earlier release, HEAD not on a tag), close-positions hook not configured"
    ),
    spec!(
        "rollback.lock",
        Error,
        "rollback",
        "the rollback lock (an OS file lock, released when its holder dies): held by a running rollback or promotion (refused), or not usable (a symlink, a FIFO)"
    ),
    spec!(
        "rollback.journal",
        Error,
        "rollback",
        "nothing was run: the write-ahead journal cannot be read or parsed (torn, corrupt, a symlink); never taken as no progress"
    ),
    spec!(
        "rollback.interrupted",
        Error,
        "rollback",
        "an earlier run was interrupted inside a step (an intent without its done): interrupted (refused, with what to check), settled by `--resume` (present or absent, with why), unsettled (refused), or in-progress (a dry run while a run holds the lock)"
    ),
    spec!(
        "rollback.preflight",
        Error,
        "rollback",
        "a problem found before the first destructive step, in a dry run and with `--execute` (check: tree, command, status, close_positions, audit); `--execute` refuses"
    ),
    spec!(
        "rollback.step.<step>",
        Step,
        "rollback",
        "one runbook §4.3 step (`stop`, `close_positions`, `checkout`, `sync`, `restart`): planned, skipped, blocked (dry run: cannot run as configured), done or failed, with argv, times, exit status and stderr tail"
    ),
    spec!(
        "rollback.result",
        Step,
        "rollback",
        "how a rollback run ended: nothing-to-do, planned, done, already-done, refused, or failed with the state things are in and the operator's next action"
    ),
    spec!(
        "promote.trigger",
        Step,
        "rollback",
        "what a promotion run (`rollback --promote`) acts on: a Phase B `promote` verdict over a complete window, or nothing"
    ),
    spec!(
        "promote.step.<step>",
        Step,
        "rollback",
        "one runbook §4.4 step (`report`, `profile_diff`, `stop`, `deploy`, `watch`): planned, skipped, done or failed, like `rollback.step.<step>`"
    ),
    spec!(
        "promote.result",
        Step,
        "rollback",
        "how a promotion run ended: nothing-to-do, planned, done, already-done, refused, or failed with state and next action"
    ),
    spec!(
        "notify.sent",
        Step,
        "notify",
        "one notification of a change of decision to one destination (`webhook`, `slack`, `alertmanager`): `status` sent or planned (--dry-run), `action` notify, fire, resolve or replace, `previous`, `attempts`, the `body` sent; the URL shown without its path"
    ),
    spec!(
        "notify.error",
        Error,
        "notify",
        "nothing or not everything was sent: a send failed after bounded retries (the change is not recorded as sent and goes again next run), the state file was refused (foreign, corrupt, a symlink) or locked, bad usage, or no verdict read"
    ),
    spec!(
        "notify.rejected",
        Error,
        "notify",
        "an input record refused as a whole: not a `judge.verdict` written by judge, or with a `decision`, `scope`, `phase`, `reasons`, `window` or `exit` field that does not pass the strict verdict reading, or dated more than 60 s ahead of the clock (`ts`); never notified"
    ),
];

/// A free-form name (a check the bot reports, a preflight function) as one
/// `<placeholder>` segment: lower-case ASCII letters, digits and `_`.
pub fn segment(name: &str) -> String {
    let seg: String = name
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() {
                c.to_ascii_lowercase()
            } else {
                '_'
            }
        })
        .collect();
    if seg.is_empty() {
        "unnamed".into()
    } else {
        seg
    }
}

/// The catalogue entry a concrete name falls under, if any.
pub fn lookup(name: &str) -> Option<&'static NameSpec> {
    CATALOGUE.iter().find(|spec| matches(spec.name, name))
}

fn matches(pattern: &str, name: &str) -> bool {
    let mut pat = pattern.split('.');
    let mut got = name.split('.');
    loop {
        match (pat.next(), got.next()) {
            (None, None) => return true,
            (Some(p), Some(g)) => {
                let ok = if p.starts_with('<') && p.ends_with('>') {
                    !g.is_empty()
                        && g.bytes()
                            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_')
                } else {
                    p == g
                };
                if !ok {
                    return false;
                }
            }
            _ => return false,
        }
    }
}

/// The catalogue as the Markdown table `FORMAT.md` must contain.
pub fn markdown_table() -> String {
    let mut out = String::from("| name | kind | tool | meaning |\n|---|---|---|---|\n");
    for spec in CATALOGUE {
        let kind = serde_json::to_value(spec.kind)
            .ok()
            .and_then(|v| v.as_str().map(str::to_owned))
            .unwrap_or_default();
        out.push_str(&format!(
            "| `{}` | {} | {} | {} |\n",
            spec.name, kind, spec.tool, spec.meaning
        ));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn placeholders_match_one_segment() {
        assert!(lookup("health.check.ticker_freshness").is_some());
        assert!(lookup("health.signal.order_error_rate").is_some());
        assert!(lookup("health.check").is_none());
        assert!(lookup("health.check.a.b").is_none());
        assert!(lookup("health.check.Bad-Name").is_none());
    }

    #[test]
    fn format_md_shows_the_catalogue() {
        let doc = include_str!("../FORMAT.md");
        let table = markdown_table();
        assert!(
            doc.contains(&table),
            "FORMAT.md's catalogue table is out of step with catalogue.rs; it must contain:\n{table}"
        );
    }

    #[test]
    fn segments_always_match_a_placeholder() {
        for raw in ["ticker_freshness", "Market Data-Feed", "", "ünïcode"] {
            let name = format!("health.check.{}", segment(raw));
            assert!(lookup(&name).is_some(), "{name}");
        }
    }

    #[test]
    fn names_are_unique() {
        let mut names: Vec<_> = CATALOGUE.iter().map(|s| s.name).collect();
        names.sort_unstable();
        let before = names.len();
        names.dedup();
        assert_eq!(before, names.len());
    }
}
