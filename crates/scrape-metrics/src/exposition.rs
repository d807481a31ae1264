//! A Prometheus text-exposition parser (format 0.0.4 plus the common
//! OpenMetrics subset). It borrows from the body, keeps going past bad lines
//! (each reported with its line number), and cannot panic on any input.

use crate::hashing::{Prehashed, Seeded};
use std::borrow::Cow;
use std::collections::HashSet;
use std::hash::{BuildHasher, Hash, Hasher};

/// One sample line.
#[derive(Debug, Clone, PartialEq)]
pub struct Sample<'a> {
    pub name: &'a str,
    /// Labels in the order written; values unescaped.
    pub labels: Vec<(&'a str, Cow<'a, str>)>,
    pub value: f64,
    /// Milliseconds since the epoch, if the line carried a timestamp.
    pub timestamp_ms: Option<i64>,
}

impl Sample<'_> {
    pub fn label(&self, name: &str) -> Option<&str> {
        self.labels
            .iter()
            .find(|(k, _)| *k == name)
            .map(|(_, v)| v.as_ref())
    }
}

/// A line that could not be used, and why.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LineError {
    pub line: usize,
    pub msg: String,
    /// The start of the offending line, for the operator.
    pub snippet: String,
    /// The whole body is in doubt, not just this line.
    pub fatal: bool,
}

/// What a parse saw besides the samples it handed out.
#[derive(Debug, Default)]
pub struct Summary {
    pub lines: usize,
    pub samples: usize,
    pub errors: Vec<LineError>,
    /// Errors beyond the first `MAX_ERRORS` are only counted.
    pub errors_dropped: usize,
}

const MAX_ERRORS: usize = 100;

const TYPES: [&str; 9] = [
    "counter",
    "gauge",
    "histogram",
    "summary",
    "untyped",
    "unknown",
    "gaugehistogram",
    "info",
    "stateset",
];

/// Parse `body`, calling `on_sample` for every valid sample line. Duplicate
/// series (same name and label set) are errors; the first one wins, as in
/// Prometheus' scrape loop.
pub fn parse<'a>(body: &'a [u8], mut on_sample: impl FnMut(Sample<'a>)) -> Summary {
    let mut summary = Summary::default();
    let mut seen: HashSet<u64, Prehashed> = HashSet::default();
    let seed = Seeded::default();
    // `# EOF` ends an OpenMetrics body; in the 0.0.4 text format the bot
    // serves it is a comment. Text after it is read as 0.0.4 reads it (a
    // body cut there would hide every line after it, e.g. the failures),
    // and the early `# EOF` is an error that puts the whole body in doubt.
    let mut eof_at: Option<(usize, String)> = None;
    let mut eof_seen = false;
    let error = |summary: &mut Summary, line: usize, raw: &[u8], msg: String| {
        if summary.errors.len() < MAX_ERRORS {
            let snippet: String = String::from_utf8_lossy(raw).chars().take(120).collect();
            summary.errors.push(LineError {
                line,
                msg,
                snippet,
                fatal: false,
            });
        } else {
            summary.errors_dropped += 1;
        }
    };
    for (idx, raw) in body.split(|&b| b == b'\n').enumerate() {
        let line_no = idx + 1;
        let raw = raw.strip_suffix(b"\r").unwrap_or(raw);
        let Ok(text) = std::str::from_utf8(raw) else {
            error(&mut summary, line_no, raw, "not UTF-8".into());
            continue;
        };
        let text = text.trim_matches(|c| c == ' ' || c == '\t');
        if text.is_empty() {
            continue;
        }
        summary.lines += 1;
        if let Some((at, snippet)) = eof_at.take() {
            summary.errors.push(LineError {
                line: at,
                msg: "# EOF before the end of the body: the lines after it are read, but the body is not one exposition".into(),
                snippet,
                fatal: true,
            });
        }
        if let Some(comment) = text.strip_prefix('#') {
            if let Err(why) = check_comment(comment) {
                error(&mut summary, line_no, raw, why.to_string());
            }
            if comment.trim() == "EOF" && !eof_seen {
                eof_seen = true;
                eof_at = Some((line_no, text.to_owned()));
            }
            continue;
        }
        match parse_sample(text) {
            Ok(sample) => {
                let id = series_hash(&seed, &sample);
                if !seen.insert(id) {
                    error(
                        &mut summary,
                        line_no,
                        raw,
                        format!("duplicate series {}", series_text(&sample)),
                    );
                    continue;
                }
                summary.samples += 1;
                on_sample(sample);
            }
            Err(why) => error(&mut summary, line_no, raw, why.to_string()),
        }
    }
    summary
}

/// The series' identity: its name and its labels in name order (label
/// names are unique within a line). Written sorted, as exporters do, the
/// labels are hashed in place; otherwise a sorted copy is.
fn series_hash(seed: &Seeded, s: &Sample<'_>) -> u64 {
    let mut h = seed.build_hasher();
    s.name.hash(&mut h);
    s.labels.len().hash(&mut h);
    if s.labels.windows(2).all(|w| w[0].0 < w[1].0) {
        for (k, v) in &s.labels {
            (*k, v.as_ref()).hash(&mut h);
        }
    } else {
        let mut labels: Vec<(&str, &str)> =
            s.labels.iter().map(|(k, v)| (*k, v.as_ref())).collect();
        labels.sort_unstable();
        for pair in labels {
            pair.hash(&mut h);
        }
    }
    h.finish()
}

/// `name{k="v",...}` for messages.
/// The labels are written as `format!("{k}={v:?}")` writes them: the text
/// is a key of the state file, so it never changes between versions.
pub fn series_text(s: &Sample<'_>) -> String {
    use std::fmt::Write;
    if s.labels.is_empty() {
        return s.name.to_owned();
    }
    let len = s
        .labels
        .iter()
        .map(|(k, v)| k.len() + v.len() + 4)
        .sum::<usize>();
    let mut out = String::with_capacity(s.name.len() + 2 + len);
    out.push_str(s.name);
    out.push('{');
    for (i, (k, v)) in s.labels.iter().enumerate() {
        if i > 0 {
            out.push(',');
        }
        out.push_str(k);
        out.push('=');
        // Printable ASCII but `"` and `\\` is its own Debug text, quoted;
        // anything else goes through Debug's escaping.
        if v.bytes()
            .all(|b| (0x20..0x7f).contains(&b) && b != b'"' && b != b'\\')
        {
            out.push('"');
            out.push_str(v);
            out.push('"');
        } else {
            let _ = write!(out, "{:?}", v.as_ref());
        }
    }
    out.push('}');
    out
}

/// Why a line of the exposition is not a sample or a well-formed comment.
/// Each variant names what it found; the text is the `metrics.parse`
/// record's message.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub(crate) enum SyntaxError {
    #[error("# TYPE without a metric name")]
    TypeWithoutName,
    #[error("# TYPE {name} without a type")]
    TypeWithoutType { name: String },
    #[error("# TYPE {name}: unknown type '{kind}'")]
    UnknownType { name: String, kind: String },
    #[error("# HELP/# UNIT without a metric name")]
    HelpWithoutName,
    #[error("invalid metric name '{0}'")]
    MetricName(String),
    #[error("{name}: no value")]
    NoValue { name: String },
    /// The value, the timestamp or what follows it.
    #[error("{name}: {what} '{text}'")]
    Field {
        name: String,
        what: Field,
        text: String,
    },
    #[error("label without '='")]
    LabelWithoutEquals,
    #[error("invalid label name '{0}'")]
    LabelName(String),
    #[error("label {key}: value is not quoted")]
    Unquoted { key: String },
    #[error("label {key}: unterminated value")]
    Unterminated { key: String },
    #[error("label {key} given twice")]
    LabelTwice { key: String },
    #[error("expected ',' or '}}' after label {key}")]
    NoSeparator { key: String },
}

/// The field of a sample line that is not what it should be.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub(crate) enum Field {
    #[error("invalid value")]
    Value,
    #[error("invalid timestamp")]
    Timestamp,
    #[error("unexpected text after the timestamp:")]
    Trailing,
}

/// `# TYPE name type`, `# HELP name text`, `# UNIT name unit`, `# EOF`, or a free comment.
fn check_comment(comment: &str) -> Result<(), SyntaxError> {
    let mut words = comment.split_whitespace();
    match words.next() {
        Some("TYPE") => {
            let name = words.next().ok_or(SyntaxError::TypeWithoutName)?;
            check_name(name)?;
            let kind = words.next().ok_or_else(|| SyntaxError::TypeWithoutType {
                name: name.to_owned(),
            })?;
            if !TYPES.contains(&kind) {
                return Err(SyntaxError::UnknownType {
                    name: name.to_owned(),
                    kind: kind.to_owned(),
                });
            }
            Ok(())
        }
        Some("HELP") | Some("UNIT") => {
            let name = words.next().ok_or(SyntaxError::HelpWithoutName)?;
            check_name(name)
        }
        _ => Ok(()),
    }
}

fn check_name(name: &str) -> Result<(), SyntaxError> {
    let mut bytes = name.bytes();
    let first_ok = bytes
        .next()
        .is_some_and(|b| b.is_ascii_alphabetic() || b == b'_' || b == b':');
    if first_ok && bytes.all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b':') {
        Ok(())
    } else {
        Err(SyntaxError::MetricName(name.to_owned()))
    }
}

fn parse_sample(text: &str) -> Result<Sample<'_>, SyntaxError> {
    let name_end = text
        .bytes()
        .position(|b| matches!(b, b'{' | b' ' | b'\t'))
        .unwrap_or(text.len());
    let name = &text[..name_end];
    check_name(name)?;
    let mut rest = text[name_end..].trim_start_matches([' ', '\t']);
    // Room for the labels a bot writes: one allocation a line, not two or three.
    let mut labels = Vec::with_capacity(8);
    if let Some(after) = rest.strip_prefix('{') {
        rest = parse_labels(after, &mut labels)?;
    }
    let rest = rest.trim_start_matches([' ', '\t']);
    // An OpenMetrics exemplar (`# {...} v ts`) follows the sample; ignore it.
    let rest = match exemplar_at(rest.as_bytes()) {
        Some(i) => &rest[..i],
        None => rest,
    };
    let mut fields = rest.split([' ', '\t']).filter(|f| !f.is_empty());
    let bad = |what: Field, text: &str| SyntaxError::Field {
        name: name.to_owned(),
        what,
        text: text.to_owned(),
    };
    let value_text = fields.next().ok_or_else(|| SyntaxError::NoValue {
        name: name.to_owned(),
    })?;
    let value = parse_value(value_text).ok_or_else(|| bad(Field::Value, value_text))?;
    let timestamp_ms = match fields.next() {
        None => None,
        Some(ts) => Some(parse_timestamp(ts).ok_or_else(|| bad(Field::Timestamp, ts))?),
    };
    if let Some(extra) = fields.next() {
        return Err(bad(Field::Trailing, extra));
    }
    Ok(Sample {
        name,
        labels,
        value,
        timestamp_ms,
    })
}

/// Where ` #` first starts in `line` (the byte search, not a string
/// searcher built per line).
fn exemplar_at(line: &[u8]) -> Option<usize> {
    line.windows(2).position(|w| w == b" #")
}

/// Parse `k="v",...}`; returns what follows the closing brace.
fn parse_labels<'a>(
    mut s: &'a str,
    out: &mut Vec<(&'a str, Cow<'a, str>)>,
) -> Result<&'a str, SyntaxError> {
    loop {
        s = s.trim_start_matches([' ', '\t']);
        if let Some(rest) = s.strip_prefix('}') {
            return Ok(rest);
        }
        let eq = s.find('=').ok_or(SyntaxError::LabelWithoutEquals)?;
        let key = s[..eq].trim_end_matches([' ', '\t']);
        let key_ok = key
            .bytes()
            .next()
            .is_some_and(|b| b.is_ascii_alphabetic() || b == b'_')
            && key.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_');
        if !key_ok {
            return Err(SyntaxError::LabelName(key.to_owned()));
        }
        let after = s[eq + 1..].trim_start_matches([' ', '\t']);
        let key_owned = || key.to_owned();
        let body = after
            .strip_prefix('"')
            .ok_or_else(|| SyntaxError::Unquoted { key: key_owned() })?;
        let (value, rest) =
            quoted(body).ok_or_else(|| SyntaxError::Unterminated { key: key_owned() })?;
        if out.iter().any(|(k, _)| *k == key) {
            return Err(SyntaxError::LabelTwice { key: key_owned() });
        }
        out.push((key, value));
        s = rest.trim_start_matches([' ', '\t']);
        if let Some(r) = s.strip_prefix(',') {
            s = r;
        } else if !s.starts_with('}') {
            return Err(SyntaxError::NoSeparator { key: key_owned() });
        }
    }
}

/// A quoted label value up to its closing quote: `\\`, `\"` and `\n` are
/// unescaped; any other backslash pair is kept as written (as Prometheus does).
fn quoted(s: &str) -> Option<(Cow<'_, str>, &str)> {
    let bytes = s.as_bytes();
    let mut i = 0;
    let mut escaped = false;
    while i < bytes.len() {
        match bytes[i] {
            b'\\' => {
                escaped = true;
                i += 2;
            }
            b'"' => {
                let raw = &s[..i];
                let value = if escaped {
                    Cow::Owned(unescape(raw))
                } else {
                    Cow::Borrowed(raw)
                };
                return Some((value, &s[i + 1..]));
            }
            _ => i += 1,
        }
    }
    None
}

fn unescape(raw: &str) -> String {
    let mut out = String::with_capacity(raw.len());
    let mut chars = raw.chars();
    while let Some(c) = chars.next() {
        if c != '\\' {
            out.push(c);
            continue;
        }
        match chars.next() {
            Some('\\') => out.push('\\'),
            Some('"') => out.push('"'),
            Some('n') => out.push('\n'),
            Some(other) => {
                out.push('\\');
                out.push(other);
            }
            None => out.push('\\'),
        }
    }
    out
}

/// Go's `strconv.ParseFloat` as Prometheus uses it: decimals, exponents,
/// `+Inf`/`-Inf`/`NaN` in any case.
pub fn parse_value(s: &str) -> Option<f64> {
    let bytes = s.as_bytes();
    let ok = bytes
        .iter()
        .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'+' | b'-' | b'.'));
    if !ok {
        return None;
    }
    s.parse::<f64>().ok()
}

fn parse_timestamp(s: &str) -> Option<i64> {
    if let Ok(ms) = s.parse::<i64>() {
        return Some(ms);
    }
    // OpenMetrics writes seconds with a fraction.
    let secs = s.parse::<f64>().ok().filter(|v| v.is_finite())?;
    let ms = secs * 1000.0;
    (ms.abs() < 9.2e18).then_some(ms as i64)
}

#[cfg(test)]
mod tests;
