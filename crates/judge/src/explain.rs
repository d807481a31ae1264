//! `--explain`: every criterion as a table a person can read, on stderr.

use crate::verdict::Judged;
use jiff::Timestamp;
use std::io::Write;

fn cell(s: &str, width: usize) -> String {
    let mut out: String = s.chars().take(width).collect();
    let len = out.chars().count();
    out.extend(std::iter::repeat_n(' ', width.saturating_sub(len) + 1));
    out
}

/// Write the table for every judged scope, then the comparisons with
/// production (`judge.comparison` records), which the verdicts already
/// include as reasons when they hold or roll back.
pub fn write_table(
    w: &mut dyn Write,
    judged: &[Judged<'_>],
    comparisons: &[canary_core::Record],
    at: Timestamp,
) -> std::io::Result<()> {
    for j in judged {
        writeln!(
            w,
            "judge: {} {} -> {} (exit {}) at {at}; {}",
            j.scope.as_str(),
            j.target,
            j.decision.as_str(),
            j.exit.code(),
            j.window.describe()
        )?;
        if j.criteria.is_empty() {
            for r in &j.reasons {
                writeln!(
                    w,
                    "  {}{}{}",
                    cell(r.target.as_deref().unwrap_or(""), 22),
                    cell(r.rule.as_str(), 28),
                    r.msg.as_str()
                )?;
            }
            continue;
        }
        writeln!(
            w,
            "  {}{}{}{}{}{}msg",
            cell("rule", 28),
            cell("action", 8),
            cell("level", 8),
            cell("status", 9),
            cell("value", 12),
            cell("threshold", 10)
        )?;
        for c in &j.criteria {
            let e = c.status.eval();
            let value = e.map_or(String::from("-"), |e| e.value.to_string());
            let threshold = e
                .and_then(|e| e.threshold)
                .map_or(String::from("-"), |t| t.to_string());
            let action = format!("{:?}", c.rule.action).to_lowercase();
            writeln!(
                w,
                "  {}{}{}{}{}{}{}",
                cell(&c.rule.name, 28),
                cell(&action, 8),
                cell(c.level().as_str(), 8),
                cell(c.status.word(), 9),
                cell(&value, 12),
                cell(&threshold, 10),
                c.message(at)
            )?;
        }
        for p in &j.proofs {
            let settled = if p.settled() { "settled" } else { "unsettled" };
            let value = p.value().to_string();
            let threshold = p.threshold().map_or(String::from("-"), |t| t.to_string());
            writeln!(
                w,
                "  {}{}{}{}{}{}{}",
                cell(p.rule(), 28),
                cell("require", 8),
                cell(p.level().as_str(), 8),
                cell(settled, 9),
                cell(&value, 12),
                cell(&threshold, 10),
                p.message()
            )?;
        }
        for r in j.reasons.iter().filter(|r| {
            let rule = r.rule.as_str();
            (rule.starts_with("input.") || rule.starts_with("window"))
                && rule != crate::proof::RULE
                && rule != crate::proof::P95_RULE
        }) {
            writeln!(w, "  {}{}", cell(r.rule.as_str(), 28), r.msg.as_str())?;
        }
    }
    if !comparisons.is_empty() {
        writeln!(w, "judge: the canary against production")?;
        writeln!(
            w,
            "  {}{}{}msg",
            cell("bot", 22),
            cell("signal", 20),
            cell("level", 8)
        )?;
        for c in comparisons {
            let signal = c
                .extra
                .get("signal")
                .and_then(serde_json::Value::as_str)
                .unwrap_or("-");
            writeln!(
                w,
                "  {}{}{}{}",
                cell(&c.target, 22),
                cell(signal, 20),
                cell(c.level.as_str(), 8),
                c.msg
            )?;
        }
    }
    Ok(())
}
