//! The variables `RiskConfig.from_env` reads, in its order,
//! and the extra ones `BotConfig.from_env` parses at bot start (§3.3).

/// How a variable's string becomes a value.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Parse {
    /// Python `int()`.
    Int,
    /// Python `float()`.
    Float,
    /// True only for exactly `"1"`.
    Bool01,
    /// Python `decimal.Decimal()`.
    Decimal,
    /// The bot's tolerant boolean (`1 true t yes y on` / `0 false f no n off`).
    TolerantBool,
    /// The bot's strict integer: an optional sign and ASCII digits only.
    /// `2_0`, `2.5`, ` 2` and `abc` stop `gpt-trader run` although Python's
    /// `int()` accepts some of them. What exactly it tolerates beyond that
    /// is not known, so canary-kit accepts no more than this.
    StrictInt,
}

impl Parse {
    pub fn rule(self) -> &'static str {
        match self {
            Parse::Int => "int()",
            Parse::Float => "float()",
            Parse::Bool01 => "== \"1\"",
            Parse::Decimal => "Decimal()",
            Parse::TolerantBool => "tolerant bool",
            Parse::StrictInt => "strict int",
        }
    }
}

/// One variable of `RiskConfig.from_env`.
#[derive(Debug, Clone, Copy)]
pub struct Var {
    pub name: &'static str,
    pub field: &'static str,
    pub parse: Parse,
    pub default: &'static str,
    pub meaning: &'static str,
}

const fn v(
    name: &'static str,
    field: &'static str,
    parse: Parse,
    default: &'static str,
    meaning: &'static str,
) -> Var {
    Var {
        name,
        field,
        parse,
        default,
        meaning,
    }
}

/// `RiskConfig.from_env`, top to bottom; it stops at the first bad value.
pub const FROM_ENV: &[Var] = &[
    v(
        "RISK_MAX_LEVERAGE",
        "max_leverage",
        Parse::Int,
        "5",
        "maximum leverage multiplier",
    ),
    v(
        "RISK_DAILY_LOSS_LIMIT_PCT",
        "daily_loss_limit_pct",
        Parse::Float,
        "0.05",
        "daily loss limit, fraction of start-of-day equity",
    ),
    v(
        "RISK_MAX_EXPOSURE_PCT",
        "max_exposure_pct",
        Parse::Float,
        "0.8",
        "maximum total exposure, fraction of equity",
    ),
    v(
        "RISK_MAX_POSITION_PCT_PER_SYMBOL",
        "max_position_pct_per_symbol",
        Parse::Float,
        "0.2",
        "maximum position per symbol, fraction of equity",
    ),
    v(
        "RISK_MIN_LIQUIDATION_BUFFER_PCT",
        "min_liquidation_buffer_pct",
        Parse::Float,
        "0.1",
        "minimum distance to liquidation",
    ),
    v(
        "RISK_SLIPPAGE_GUARD_BPS",
        "slippage_guard_bps",
        Parse::Int,
        "50",
        "slippage guard, basis points",
    ),
    v(
        "RISK_KILL_SWITCH_ENABLED",
        "kill_switch_enabled",
        Parse::Bool01,
        "0",
        "kill switch",
    ),
    v(
        "RISK_REDUCE_ONLY_MODE",
        "reduce_only_mode",
        Parse::Bool01,
        "0",
        "reduce-only mode (preflight's reading)",
    ),
    v(
        "CFM_MAX_LEVERAGE",
        "cfm_max_leverage",
        Parse::Int,
        "5",
        "CFM futures maximum leverage",
    ),
    v(
        "CFM_MIN_LIQUIDATION_BUFFER_PCT",
        "cfm_min_liquidation_buffer_pct",
        Parse::Float,
        "0.15",
        "CFM minimum liquidation buffer",
    ),
    v(
        "CFM_MAX_EXPOSURE_PCT",
        "cfm_max_exposure_pct",
        Parse::Float,
        "0.8",
        "CFM maximum exposure",
    ),
    v(
        "CFM_MAX_POSITION_SIZE_PCT",
        "cfm_max_position_size_pct",
        Parse::Float,
        "0.25",
        "CFM maximum position size",
    ),
    v(
        "RISK_API_ERROR_RATE_THRESHOLD",
        "api_error_rate_threshold",
        Parse::Float,
        "0.2",
        "API error rate that degrades trading",
    ),
    v(
        "RISK_API_RATE_LIMIT_USAGE_THRESHOLD",
        "api_rate_limit_usage_threshold",
        Parse::Float,
        "0.9",
        "API rate-limit usage that degrades trading",
    ),
    v(
        "RISK_API_HEALTH_COOLDOWN_SECONDS",
        "api_health_cooldown_seconds",
        Parse::Int,
        "300",
        "cooldown after API health degradation",
    ),
    v(
        "RISK_MARK_STALENESS_COOLDOWN_SECONDS",
        "mark_staleness_cooldown_seconds",
        Parse::Int,
        "120",
        "cooldown after stale marks",
    ),
    v(
        "RISK_MARK_STALENESS_THRESHOLD_SECONDS",
        "mark_staleness_threshold_seconds",
        Parse::Float,
        "30",
        "mark price age counted as stale",
    ),
    v(
        "RISK_MARK_STALENESS_ALLOW_REDUCE_ONLY",
        "mark_staleness_allow_reduce_only",
        Parse::Bool01,
        "1",
        "allow reduce-only orders on stale marks",
    ),
    v(
        "RISK_SLIPPAGE_FAILURE_PAUSE_AFTER",
        "slippage_failure_pause_after",
        Parse::Int,
        "3",
        "slippage failures before a pause",
    ),
    v(
        "RISK_SLIPPAGE_PAUSE_SECONDS",
        "slippage_pause_seconds",
        Parse::Int,
        "60",
        "pause after slippage failures",
    ),
    v(
        "RISK_VALIDATION_FAILURE_COOLDOWN_SECONDS",
        "validation_failure_cooldown_seconds",
        Parse::Int,
        "180",
        "cooldown after validation failures",
    ),
    v(
        "RISK_PREVIEW_FAILURE_DISABLE_AFTER",
        "preview_failure_disable_after",
        Parse::Int,
        "5",
        "preview failures before previews are disabled",
    ),
    v(
        "RISK_BROKER_OUTAGE_MAX_FAILURES",
        "broker_outage_max_failures",
        Parse::Int,
        "3",
        "broker failures counted as an outage",
    ),
    v(
        "RISK_BROKER_OUTAGE_COOLDOWN_SECONDS",
        "broker_outage_cooldown_seconds",
        Parse::Int,
        "120",
        "cooldown after a broker outage",
    ),
    v(
        "RISK_UNFILLED_ORDER_ALERT_SECONDS",
        "unfilled_order_alert_seconds",
        Parse::Int,
        "300",
        "age of an unfilled order that alerts",
    ),
    v(
        "RISK_WS_HEALTH_INTERVAL_SECONDS",
        "ws_health_interval_seconds",
        Parse::Int,
        "5",
        "websocket health check interval",
    ),
    v(
        "RISK_WS_MESSAGE_STALE_SECONDS",
        "ws_message_stale_seconds",
        Parse::Int,
        "15",
        "websocket message age counted as stale",
    ),
    v(
        "RISK_WS_HEARTBEAT_STALE_SECONDS",
        "ws_heartbeat_stale_seconds",
        Parse::Int,
        "30",
        "websocket heartbeat age counted as stale",
    ),
    v(
        "RISK_WS_RECONNECT_PAUSE_SECONDS",
        "ws_reconnect_pause_seconds",
        Parse::Int,
        "30",
        "pause after a websocket reconnect",
    ),
];

/// What `BotConfig.from_env` parses when set, crashing `gpt-trader run` on a
/// bad value. An empty string is parsed, not defaulted.
pub const BOT_START: &[(&str, Parse)] = &[
    ("RISK_MAX_POSITION_SIZE", Parse::Decimal),
    ("RISK_MAX_LEVERAGE", Parse::Int),
    ("RISK_TARGET_LEVERAGE", Parse::Int),
    ("RISK_STOP_LOSS_PCT", Parse::Decimal),
    ("RISK_TAKE_PROFIT_PCT", Parse::Decimal),
    ("RISK_MAX_POSITION_PCT_PER_SYMBOL", Parse::Decimal),
    ("RISK_DAILY_LOSS_LIMIT_PCT", Parse::Float),
    ("RISK_REDUCE_ONLY_MODE", Parse::TolerantBool),
    ("CFM_MAX_LEVERAGE", Parse::StrictInt),
];

/// Read by the bot at start (futures settings), with rules canary-kit does
/// not model: known, so never reported as unread, and not checked.
pub const READ_UNCHECKED: &[&str] = &["CFM_ENABLED", "CFM_SYMBOLS", "CFM_MARGIN_WINDOW"];

/// The ranges preflight's risk check (on `RiskConfig.from_env()`) enforces:
/// a value outside its range is a preflight error, so preflight exits 1.
/// (variable, low, low inclusive, high).
pub const PREFLIGHT_RANGES: &[(&str, f64, bool, f64)] = &[
    ("RISK_MAX_LEVERAGE", 1.0, true, 10.0),
    ("RISK_MIN_LIQUIDATION_BUFFER_PCT", 0.10, true, f64::INFINITY),
    ("RISK_MAX_POSITION_PCT_PER_SYMBOL", 0.0, false, 0.25),
    ("RISK_SLIPPAGE_GUARD_BPS", 10.0, true, 100.0),
    ("RISK_DAILY_LOSS_LIMIT_PCT", 0.0, false, 0.20),
];

pub fn from_env_var(name: &str) -> Option<&'static Var> {
    FROM_ENV.iter().find(|v| v.name == name)
}

/// Every name the bot reads.
pub fn known(name: &str) -> bool {
    from_env_var(name).is_some()
        || BOT_START.iter().any(|(n, _)| *n == name)
        || READ_UNCHECKED.contains(&name)
}

/// Does canary-kit look at this variable at all?
pub fn in_scope(name: &str) -> bool {
    name.starts_with("RISK_") || name.starts_with("CFM_")
}

/// The known name closest to a typo (Levenshtein distance, at most 4).
pub fn closest(name: &str) -> Option<&'static str> {
    FROM_ENV
        .iter()
        .map(|v| v.name)
        .chain(BOT_START.iter().map(|(n, _)| *n))
        .chain(READ_UNCHECKED.iter().copied())
        .map(|k| (levenshtein(name, k), k))
        .filter(|(d, _)| *d <= 4)
        .min_by_key(|(d, _)| *d)
        .map(|(_, k)| k)
}

fn levenshtein(a: &str, b: &str) -> usize {
    let b: Vec<char> = b.chars().collect();
    let mut prev: Vec<usize> = (0..=b.len()).collect();
    for (i, ca) in a.chars().enumerate() {
        let mut cur = vec![i + 1];
        for (j, cb) in b.iter().enumerate() {
            let cost = usize::from(ca != *cb);
            cur.push((prev[j] + cost).min(prev[j + 1] + 1).min(cur[j] + 1));
        }
        prev = cur;
    }
    prev[b.len()]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn table_matches_the_bot() {
        assert_eq!(FROM_ENV.len(), 29);
        assert_eq!(closest("RISK_MAX_LEVARAGE"), Some("RISK_MAX_LEVERAGE"));
        assert_eq!(closest("RISK_SOMETHING_ELSE_ENTIRELY"), None);
        assert!(known("RISK_TARGET_LEVERAGE"));
        assert!(known("CFM_ENABLED"));
    }
}
