//! The table of criteria with their evidence: the verdict's reasons and the
//! latest record per (target, name) of every check, signal and error in the
//! log, worst first.

use crate::escape::{html, html_clipped};
use crate::model::{Log, Verdict};
use canary_core::{Level, Record};
use serde_json::Value;
use std::fmt::Write;

/// Longest value, expectation or message shown, in characters.
const MAX_CELL: usize = 400;

/// One row, as raw (unescaped) strings.
#[derive(Debug, Clone)]
pub struct Row {
    pub level: Level,
    pub source: String,
    pub target: String,
    pub name: String,
    pub value: String,
    pub expect: String,
    pub ts: String,
    pub msg: String,
}

/// A label that reads without colour: `CRIT`, `UNKNOWN`, `WARN`, `OK`.
pub fn badge(level: Level) -> String {
    format!(
        "<span class=\"lvl lvl-{l}\">{}</span>",
        level.as_str().to_uppercase(),
        l = level.as_str()
    )
}

/// A JSON value as a person reads it: strings bare, the rest compact JSON.
pub fn show(v: &Value) -> String {
    match v {
        Value::Null => "null (no evidence)".into(),
        Value::String(s) => s.clone(),
        other => serde_json::to_string(other).unwrap_or_default(),
    }
}

fn from_record(r: &Record) -> Row {
    let expect = match (&r.thresholds, &r.expect) {
        (Some(t), _) => format!(
            "warn ≥ {}, crit ≥ {}",
            crate::svg::num(t.warn),
            crate::svg::num(t.crit)
        ),
        (None, Some(e)) => show(e),
        (None, None) => String::new(),
    };
    Row {
        level: r.level,
        source: format!("{} {}", r.tool, kind_word(r)),
        target: r.target.clone(),
        name: r.name.clone(),
        value: show(&r.value),
        expect,
        ts: r.ts.to_string(),
        msg: r.msg.clone(),
    }
}

fn kind_word(r: &Record) -> &'static str {
    match r.kind {
        canary_core::Kind::Check => "check",
        canary_core::Kind::Signal => "signal",
        canary_core::Kind::Sample => "sample",
        canary_core::Kind::Verdict => "verdict",
        canary_core::Kind::Step => "step",
        canary_core::Kind::Error => "error",
    }
}

/// Every row, worst first; within a level the verdict's reasons lead.
pub fn rows(log: &Log) -> Vec<Row> {
    let mut rows: Vec<Row> = Vec::new();
    if let Some(v) = &log.verdict {
        rows.extend(reason_rows(v));
    }
    rows.extend(log.latest.values().map(from_record));
    rows.sort_by(|a, b| {
        b.level
            .rank()
            .cmp(&a.level.rank())
            .then_with(|| (a.source != "verdict reason").cmp(&(b.source != "verdict reason")))
            .then_with(|| a.name.cmp(&b.name))
            .then_with(|| a.target.cmp(&b.target))
    });
    rows
}

fn reason_rows(v: &Verdict) -> impl Iterator<Item = Row> + '_ {
    v.reasons.iter().map(|r| Row {
        level: r.level,
        source: "verdict reason".into(),
        target: v.target.clone(),
        name: r.rule.clone(),
        value: show(&r.value),
        expect: match &r.threshold {
            Value::Null => String::new(),
            t => show(t),
        },
        ts: r.ts.clone().unwrap_or_default(),
        msg: r.msg.clone(),
    })
}

/// The table as HTML.
pub fn render(rows: &[Row]) -> String {
    if rows.is_empty() {
        return "<p class=\"empty\">No checks, signals or verdict reasons in this log: \
                nothing to show as evidence.</p>"
            .into();
    }
    let mut s = String::from(
        "<table class=\"criteria\"><thead><tr><th>level</th><th>criterion</th><th>value</th>\
         <th>GO requires</th><th>time</th><th>message</th><th>source</th></tr></thead><tbody>",
    );
    for r in rows {
        let _ = write!(
            s,
            "<tr class=\"row-{}\"><td>{}</td><td><code>{}</code><br><span class=\"target\">{}</span></td>\
             <td>{}</td><td>{}</td><td class=\"ts\">{}</td><td>{}</td><td>{}</td></tr>",
            r.level.as_str(),
            badge(r.level),
            html_clipped(&r.name, 200),
            html_clipped(&r.target, 200),
            html_clipped(&r.value, MAX_CELL),
            html_clipped(&r.expect, MAX_CELL),
            html_clipped(&r.ts, 64),
            html_clipped(&r.msg, MAX_CELL * 5),
            html(&r.source),
        );
    }
    s.push_str("</tbody></table>");
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rows_are_worst_first_with_reasons_leading() {
        let mut log = Log::default();
        for (name, level) in [
            ("a.ok", "ok"),
            ("b.crit", "crit"),
            ("c.unknown", "unknown"),
            ("d.warn", "warn"),
        ] {
            let line = format!(
                r#"{{"v":1,"ts":"2026-11-26T02:00:00Z","tool":"p","target":"t","kind":"check","name":"{name}","level":"{level}","value":1}}"#
            );
            log.add(serde_json::from_str(&line).expect("record"));
        }
        log.add(serde_json::from_str(r#"{"v":1,"ts":"2026-11-26T03:00:00Z","tool":"judge","target":"fleet","kind":"verdict","name":"judge.verdict","level":"crit","value":"rollback","decision":"rollback","reasons":[{"rule":"z.rule","level":"crit","value":0.2,"threshold":0.15,"ts":"2026-11-26T02:00:00Z","msg":"m"}]}"#).expect("record"));
        let names: Vec<_> = rows(&log).into_iter().map(|r| r.name).collect();
        assert_eq!(names, ["z.rule", "b.crit", "c.unknown", "d.warn", "a.ok"]);
    }
}
