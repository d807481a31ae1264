//! Human output: the same records as a table for a person at a terminal.
//! Colour only on a terminal, never with `NO_COLOR`; NDJSON stays the
//! default whenever stdout is not a terminal.

use crate::lenient::LenientVerdict;
use crate::level::Level;
use crate::record::{Kind, Record};
use clap::{Args, ValueEnum};
use serde_json::Value;
use std::io::IsTerminal;

/// `--format`: how records are written.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum FormatArg {
    /// Text on a terminal, NDJSON otherwise.
    Auto,
    /// One JSON record per line (the wire format).
    Json,
    /// A table for people.
    Text,
}

/// The output flags every tool shares.
#[derive(Debug, Clone, Args)]
pub struct OutputArgs {
    /// Output format: ndjson records, or a table for a person.
    #[arg(long, value_enum, default_value_t = FormatArg::Auto, global = true)]
    pub(crate) format: FormatArg,

    /// Flush after every record even when stdout is a pipe.
    #[arg(long, global = true)]
    pub(crate) line_buffered: bool,
}

/// What a writer produces.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    /// NDJSON records, one per line: what a program reads.
    Json,
    /// A table for a person.
    Text {
        /// ANSI colours for the levels (a terminal without `NO_COLOR`).
        color: bool,
    },
}

impl FormatArg {
    /// Resolve `auto` against stdout and `NO_COLOR`.
    pub fn resolve(self) -> Format {
        let tty = std::io::stdout().is_terminal();
        let color = tty && std::env::var_os("NO_COLOR").is_none_or(|v| v.is_empty());
        match self {
            FormatArg::Json => Format::Json,
            FormatArg::Text => Format::Text { color },
            FormatArg::Auto if tty => Format::Text { color },
            FormatArg::Auto => Format::Json,
        }
    }
}

const NAME_WIDTH: usize = 42;
const VALUE_WIDTH: usize = 14;

/// The table's header line.
pub fn header(color: bool) -> String {
    let text = format!(
        "{:<7} {:<NAME_WIDTH$} {:<VALUE_WIDTH$} {}",
        "LEVEL", "NAME", "VALUE", "MESSAGE"
    );
    if color {
        format!("\x1b[1m{text}\x1b[0m")
    } else {
        text
    }
}

/// One record as a table row.
pub fn row(rec: &Record, color: bool) -> String {
    let level = level_label(rec.level);
    // A verdict is shown as far as it reads (the lenient reading): a
    // damaged one is still a row, with what could be read.
    let verdict: Option<LenientVerdict> =
        (rec.kind == Kind::Verdict).then(|| rec.payload().unwrap_or_default());
    let shown = match (&verdict, rec.kind) {
        (Some(v), _) if !v.decision.is_empty() => Value::String(v.decision.clone()),
        (Some(_), _) => Value::Null,
        (None, Kind::Step) => rec
            .extra
            .get("status")
            .cloned()
            .unwrap_or_else(|| rec.value.clone()),
        (None, _) => rec.value.clone(),
    };
    let mut value = match &shown {
        Value::Null => "-".to_owned(),
        Value::String(s) => one_line(s),
        Value::Number(n) => match n.as_f64() {
            Some(f) if f.fract() != 0.0 => format!("{}", (f * 10_000.0).round() / 10_000.0),
            _ => n.to_string(),
        },
        other => one_line(&other.to_string()),
    };
    if value.chars().count() > VALUE_WIDTH {
        value = value.chars().take(VALUE_WIDTH - 1).collect::<String>() + "…";
    }
    // Names carry the bot's own check and signal names: as untrusted as values.
    let name = one_line(&rec.name);
    let level_cell = format!("{level:<7}");
    let level_cell = if color {
        let code = match rec.level {
            Level::Ok => "32",
            Level::Warn => "33",
            Level::Crit => "1;31",
            Level::Unknown => "35",
        };
        format!("\x1b[{code}m{level_cell}\x1b[0m")
    } else {
        level_cell
    };
    // One line per record, whatever the message holds.
    let msg = one_line(&rec.msg);
    let mut out = format!("{level_cell} {name:<NAME_WIDTH$} {value:<VALUE_WIDTH$} {msg}");
    // A verdict rests on every one of its reasons, not just the first: one
    // indented line each.
    for r in verdict.iter().flat_map(|v| &v.reasons) {
        let target = match r.target.as_deref() {
            None | Some("") => String::new(),
            Some(t) => format!(" [{}]", one_line(t)),
        };
        out.push_str(&format!(
            "\n  - {:<7} {}{target}: {}",
            level_label(r.level),
            one_line(&r.rule),
            one_line(&r.msg)
        ));
    }
    out
}

/// A level as the table's first column shows it: the bad ones shout.
fn level_label(level: Level) -> &'static str {
    match level {
        Level::Ok => "ok",
        Level::Warn => "WARN",
        Level::Crit => "CRIT",
        Level::Unknown => "UNKNOWN",
    }
}

/// A bot- or user-supplied string on one line, without control characters
/// (no escape sequence reaches the terminal) and without the invisible
/// formatting characters that reorder or hide text (bidi overrides,
/// zero-width marks), so what the operator reads is what the record says.
fn one_line(s: &str) -> String {
    s.chars()
        .map(|c| {
            if c.is_control() || is_invisible_format(c) {
                ' '
            } else {
                c
            }
        })
        .collect()
}

/// Unicode format characters that change how a line reads: zero-width
/// marks, bidi embeddings, overrides and isolates, and the BOM.
fn is_invisible_format(c: char) -> bool {
    matches!(c,
        '\u{200B}'..='\u{200F}' | '\u{202A}'..='\u{202E}' | '\u{2060}'..='\u{2069}' | '\u{FEFF}')
}

/// A duration in whole seconds for people: its two largest units, e.g.
/// `6d 10h`, `2h 5m`, `4m 10s`, `42s`.
pub fn age(secs: u64) -> String {
    const UNITS: [(u64, &str); 4] = [(86_400, "d"), (3_600, "h"), (60, "m"), (1, "s")];
    let mut parts = Vec::new();
    let mut rest = secs;
    for (size, unit) in UNITS {
        let n = rest / size;
        rest %= size;
        if n > 0 || (!parts.is_empty() && parts.len() < 2) {
            parts.push(format!("{n}{unit}"));
        }
        if parts.len() == 2 {
            break;
        }
    }
    if parts.is_empty() {
        return "0s".into();
    }
    if parts.len() == 2 && parts[1].starts_with('0') {
        parts.pop();
    }
    parts.join(" ")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rows_are_one_line_and_colour_only_when_asked() {
        let rec = Record::new("t", "x", Kind::Check, "health.status", Level::Crit)
            .value("unhealthy")
            .msg("bad\nnews");
        let plain = row(&rec, false);
        assert!(plain.starts_with("CRIT    health.status"));
        assert!(!plain.contains('\n') && !plain.contains('\x1b'));
        assert!(row(&rec, true).contains("\x1b[1;31m"));
    }

    #[test]
    fn bot_supplied_names_and_values_cannot_drive_the_terminal() {
        let rec = Record::new(
            "t",
            "x",
            Kind::Check,
            "health.check.\u{1b}]0;owned\u{7}x",
            Level::Ok,
        )
        .value("healthy\u{1b}[2J\u{202E}yhtlaehnu")
        .msg("m");
        let plain = row(&rec, false);
        assert!(
            !plain.contains('\x1b') && !plain.contains('\u{7}'),
            "{plain:?}"
        );
        assert!(!plain.contains('\u{202E}'), "{plain:?}");
        let rec = Record::new("t", "x", Kind::Check, "n", Level::Ok)
            .value(serde_json::json!({"k": "a\u{1b}[31m"}));
        assert!(!row(&rec, false).contains('\x1b'));
    }

    #[test]
    fn ages_are_human_durations() {
        assert_eq!(age(557_762), "6d 10h");
        assert_eq!(age(0), "0s");
        assert_eq!(age(42), "42s");
        assert_eq!(age(3_600), "1h");
        assert_eq!(age(3_660), "1h 1m");
        assert_eq!(age(86_400 + 59), "1d");
        assert_eq!(age(250), "4m 10s");
    }

    #[test]
    fn verdicts_list_every_reason_on_its_own_line() {
        let reasons = serde_json::json!([
            {"rule": "health-status", "level": "crit", "msg": "first\u{1b}[31m"},
            {"rule": "metrics-evidence", "level": "unknown", "msg": "second", "target": "h:1"},
            {"rule": "window", "level": "ok", "msg": "third"},
        ]);
        let v = Record::new("judge", "x", Kind::Verdict, "judge.verdict", Level::Crit)
            .extra("decision", "stop")
            .extra("reasons", reasons)
            .msg("stop: first");
        let text = row(&v, false);
        let lines: Vec<&str> = text.lines().collect();
        assert_eq!(lines.len(), 4, "{text}");
        assert!(lines[1].contains("CRIT") && lines[1].contains("health-status: first"));
        assert!(
            lines[2].contains("UNKNOWN") && lines[2].contains("metrics-evidence [h:1]: second")
        );
        assert!(lines[3].contains("window: third"));
        assert!(!text.contains('\x1b'));
    }

    #[test]
    fn a_damaged_verdict_is_shown_as_far_as_it_reads() {
        let v = Record::new("judge", "x", Kind::Verdict, "judge.verdict", Level::Crit)
            .extra("decision", serde_json::json!(["stop"]))
            .extra(
                "reasons",
                serde_json::json!([7, {"rule": "r", "level": "fine", "msg": 3}]),
            );
        let text = row(&v, false);
        let lines: Vec<&str> = text.lines().collect();
        assert_eq!(lines.len(), 2, "{text}");
        assert!(lines[0].contains(" - "), "{text}");
        assert!(
            lines[1].contains("UNKNOWN") && lines[1].contains("r: "),
            "{text}"
        );
    }

    #[test]
    fn verdicts_show_their_decision_and_long_values_are_cut() {
        let v = Record::new("judge", "x", Kind::Verdict, "judge.verdict", Level::Ok)
            .extra("decision", "advance");
        assert!(row(&v, false).contains("advance"));
        let long =
            Record::new("t", "x", Kind::Check, "n", Level::Ok).value("a-very-long-value-indeed");
        assert!(row(&long, false).contains("a-very-long-v…"));
    }
}
