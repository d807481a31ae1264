//! Prometheus rule files as text: groups of recording and alerting rules.
//! Every PromQL expression is a YAML literal block, so no character of it
//! needs quoting; annotations are double-quoted with escapes.

use std::fmt::Write;

/// How urgent an alert is: the `severity` label Alertmanager routes on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Severity {
    /// For comparison only (the runbook's verbatim rules): never route it.
    Info,
    Warning,
    Critical,
}

impl Severity {
    pub fn label(self) -> &'static str {
        match self {
            Severity::Info => "info",
            Severity::Warning => "warning",
            Severity::Critical => "critical",
        }
    }
}

/// One alerting rule.
#[derive(Debug, Clone)]
pub struct Alert {
    pub name: String,
    pub expr: String,
    /// Prometheus duration text, e.g. `5m`.
    pub for_: String,
    pub severity: Severity,
    pub summary: String,
    pub description: String,
}

/// One rule of a group.
#[derive(Debug, Clone)]
pub enum Rule {
    /// A comment line before the next rule.
    Comment(String),
    Record {
        record: String,
        expr: String,
    },
    Alert(Alert),
}

/// A rule group: Prometheus evaluates its rules in order.
#[derive(Debug, Clone)]
pub struct Group {
    pub name: &'static str,
    pub rules: Vec<Rule>,
}

/// A YAML double-quoted scalar.
pub fn quoted(text: &str) -> String {
    format!("\"{}\"", text.replace('\\', "\\\\").replace('"', "\\\""))
}

fn block(out: &mut String, key: &str, text: &str, indent: usize) {
    let pad = " ".repeat(indent);
    let _ = writeln!(out, "{pad}{key}: |");
    for line in text.trim_end().lines() {
        if line.is_empty() {
            out.push('\n');
        } else {
            let _ = writeln!(out, "{pad}  {line}");
        }
    }
}

/// The rule file: `header` comment lines, then the groups.
pub fn render(header: &[String], groups: &[Group], for_override: Option<&str>) -> String {
    let mut out = String::new();
    for line in header {
        let _ = writeln!(out, "# {line}");
    }
    out.push_str("groups:\n");
    for (g, group) in groups.iter().enumerate() {
        if g > 0 {
            out.push('\n');
        }
        let _ = writeln!(out, "  - name: {}\n    rules:", group.name);
        for rule in &group.rules {
            match rule {
                Rule::Comment(c) => {
                    let _ = writeln!(out, "      # {c}");
                }
                Rule::Record { record, expr } => {
                    let _ = writeln!(out, "      - record: {record}");
                    block(&mut out, "expr", expr, 8);
                }
                Rule::Alert(a) => {
                    let _ = writeln!(out, "      - alert: {}", a.name);
                    block(&mut out, "expr", &a.expr, 8);
                    let _ = writeln!(
                        out,
                        "        for: {}\n        labels:\n          severity: {}\n          component: canary\n        annotations:\n          summary: {}\n          description: {}",
                        for_override.unwrap_or(&a.for_),
                        a.severity.label(),
                        quoted(&a.summary),
                        quoted(&a.description),
                    );
                }
            }
        }
    }
    out
}
