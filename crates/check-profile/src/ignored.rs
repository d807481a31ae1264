//! Keys the bot's `ProfileLoader` never reads, which
//! operators believe protect them.

use crate::schema::SPECS;
use crate::yaml::{Node, NodeKind};

/// One key the bot ignores, at the root of the ignored subtree.
#[derive(Debug, Clone, PartialEq)]
pub struct Ignored {
    pub key: String,
    pub line: u64,
    pub hint: String,
}

/// What the operator probably meant, for keys that look protective.
fn hint_for(key: &str) -> Option<&'static str> {
    Some(match key {
        "trading.position_sizing" => {
            "not mapped: position size comes from risk_management.position_fraction (default 0.1) and risk_management.max_position_size (default 10000)"
        }
        "trading.position_sizing.position_size_pct" => {
            "not mapped: the bot sizes with risk_management.position_fraction (default 0.1), set that instead"
        }
        "trading.order_limits" => "not mapped: the bot has no per-order limits from the profile",
        "risk_management.daily_loss_limit" => {
            "the bot has no absolute daily loss limit; only risk_management.daily_loss_limit_pct (a fraction of start-of-day equity) is read"
        }
        "risk_management.max_exposure_pct" => {
            "not mapped from the profile; the bot keeps RiskConfig's default"
        }
        "risk_management.circuit_breakers" => "not mapped: the bot has no profile circuit breakers",
        "risk_management.daily_profit_target" => "not mapped: the bot has no daily profit target",
        "features.reduce_only_mode" => {
            "not read: reduce-only comes only from trading.mode: reduce_only"
        }
        "strategy.enabled_strategies" => {
            "not read: the strategy is strategy.type (default baseline)"
        }
        "monitoring.event_store" => "not read: the bot's event store is SQLite whatever this says",
        "monitoring.alerts" => "not read: the bot raises no alerts from the profile",
        _ => return None,
    })
}

const GENERIC: &str = "the bot's ProfileLoader never reads this key";

/// Sections the loader descends into; every other key under them is ignored.
fn is_section(path: &str, execution_from_trading: bool) -> bool {
    match path {
        "trading" | "strategy" | "risk_management" | "session" | "monitoring"
        | "monitoring.metrics" => true,
        "execution" => !execution_from_trading,
        "trading.execution" => execution_from_trading,
        _ => false,
    }
}

fn is_read(path: &str, execution_from_trading: bool) -> bool {
    if is_section(path, execution_from_trading) {
        return true;
    }
    let as_spec = match path.strip_prefix("trading.execution.") {
        Some(rest) if execution_from_trading => format!("execution.{rest}"),
        Some(_) => return false,
        None if path.starts_with("execution.") && execution_from_trading => return false,
        None => path.to_owned(),
    };
    SPECS.iter().any(|s| s.key == as_spec)
}

/// Every ignored key, in file order.
pub fn find(root: &Node, execution_from_trading: bool) -> Vec<Ignored> {
    let mut out = Vec::new();
    walk(root, "", execution_from_trading, &mut out);
    out
}

fn walk(node: &Node, prefix: &str, exec_trading: bool, out: &mut Vec<Ignored>) {
    let NodeKind::Map(entries) = &node.kind else {
        return;
    };
    for (k, v) in entries {
        let Some(name) = k.key_text() else {
            out.push(Ignored {
                key: join(prefix, &k.display_key()),
                line: k.line,
                hint: format!(
                    "YAML 1.1 reads the key `{}` as a non-string, so the bot never finds it; quote it",
                    k.display_key()
                ),
            });
            continue;
        };
        let path = join(prefix, &name);
        if is_read(&path, exec_trading) {
            if is_section(&path, exec_trading) {
                walk(v, &path, exec_trading, out);
            } else if path == "execution.use_limit_orders"
                || path == "execution.market_order_fallback"
                || path == "trading.execution.use_limit_orders"
                || path == "trading.execution.market_order_fallback"
            {
                out.push(Ignored {
                    key: path,
                    line: k.line,
                    hint: "read into the schema but never copied onto the running config: the bot keeps use_limit_orders=false, market_order_fallback=true".into(),
                });
            }
            continue;
        }
        let hint = hint_for(&path).map(str::to_owned).unwrap_or_else(|| {
            if path == "trading.execution" {
                "ignored because a non-empty top-level execution section wins".to_owned()
            } else {
                GENERIC.to_owned()
            }
        });
        out.push(Ignored {
            key: path.clone(),
            line: k.line,
            hint,
        });
        hinted_descendants(v, &path, out);
    }
}

/// Inside an ignored subtree, name the keys that look protective.
fn hinted_descendants(node: &Node, prefix: &str, out: &mut Vec<Ignored>) {
    let NodeKind::Map(entries) = &node.kind else {
        return;
    };
    for (k, v) in entries {
        let Some(name) = k.key_text() else { continue };
        let path = join(prefix, &name);
        if let Some(hint) = hint_for(&path) {
            out.push(Ignored {
                key: path.clone(),
                line: k.line,
                hint: hint.to_owned(),
            });
        }
        hinted_descendants(v, &path, out);
    }
}

fn join(prefix: &str, name: &str) -> String {
    if prefix.is_empty() {
        name.to_owned()
    } else {
        format!("{prefix}.{name}")
    }
}
