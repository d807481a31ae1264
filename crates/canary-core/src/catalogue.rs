//! The catalogue of record names. `FORMAT.md` shows it as a table; a test
//! keeps the two in step, and the end-to-end tests check that every record a
//! tool emits is named here.

use crate::record::Kind;

/// One entry of the catalogue. A `<placeholder>` segment matches one segment
/// of lower-case letters, digits and underscores.
#[derive(Debug, Clone, Copy)]
pub struct NameSpec {
    pub name: &'static str,
    pub kind: Kind,
    pub tool: &'static str,
    pub meaning: &'static str,
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
pub const CATALOGUE: &[NameSpec] = &[
    spec!(
        "health.status",
        Check,
        "probe-health",
        "`/health` `status`: healthy ok, degraded warn, unhealthy or starting crit (runbook §2.1)"
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
        "`/live`: live ok, not live crit"
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
        "input.malformed",
        Error,
        "any reader",
        "an input line that is not a valid record: its source, line number and why"
    ),
];

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
    fn names_are_unique() {
        let mut names: Vec<_> = CATALOGUE.iter().map(|s| s.name).collect();
        names.sort_unstable();
        let before = names.len();
        names.dedup();
        assert_eq!(before, names.len());
    }
}
