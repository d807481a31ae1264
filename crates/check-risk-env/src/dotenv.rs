//! A dotenv file as operators write them (python-dotenv, `docker --env-file`,
//! systemd `EnvironmentFile`): comments, `export`, single and double quotes.
//! A line that cannot be read is reported with its number; the others count.

use crate::error::LineError;
use canary_core::capped::{self, CappedError};
use std::path::Path;

/// Largest env file read.
pub const MAX_BYTES: u64 = 1 << 20;

/// One `KEY=value` assignment.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Assignment {
    pub key: String,
    pub value: String,
    pub line: u64,
}

/// A line that is not an assignment.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BadLine {
    pub line: u64,
    pub why: String,
}

/// Everything read from a file.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct EnvFile {
    pub vars: Vec<Assignment>,
    pub bad: Vec<BadLine>,
}

/// Read and parse a regular file of at most `MAX_BYTES`.
pub fn read(path: &Path) -> Result<EnvFile, CappedError> {
    capped::read(path, MAX_BYTES).map(|buf| parse(&buf))
}

/// Largest value an expansion may produce. Lines that reuse earlier lines
/// (`B=${A}${A}`, `C=${B}${B}` …) grow exponentially: past this, the value
/// is refused, never built.
pub const MAX_EXPANDED: usize = 64 << 10;

/// python-dotenv's interpolation of one value, refusing (None) a result
/// over `cap` bytes before building it (`load_dotenv`, whose
/// default is `interpolate=True`): every `${NAME}` and `${NAME:-default}`
/// is replaced by `lookup(NAME)`, else the default, else "". A name that
/// is set, even to "", never takes the default. The default is literal,
/// never expanded itself; `$NAME` without braces is left alone. Every
/// value is expanded, quoted or not: python-dotenv's resolver does not
/// look at the quotes.
pub fn expand_capped(
    value: &str,
    cap: usize,
    lookup: impl Fn(&str) -> Option<String>,
) -> Option<String> {
    let mut out = String::new();
    let mut rest = value;
    while let Some(start) = rest.find("${") {
        match variable(&rest[start + 2..]) {
            Some((name, default, used)) => {
                out.push_str(&rest[..start]);
                let v = lookup(name).unwrap_or_else(|| default.unwrap_or_default().to_owned());
                if out.len().saturating_add(v.len()) > cap {
                    return None;
                }
                out.push_str(&v);
                rest = &rest[start + 2 + used..];
            }
            None => {
                // No match here: the search resumes one character on.
                out.push_str(&rest[..start + 1]);
                rest = &rest[start + 1..];
            }
        }
    }
    out.push_str(rest);
    (out.len() <= cap).then_some(out)
}

/// After `${`: `NAME}` or `NAME:-default}` (python-dotenv's pattern
/// `\$\{(?P<name>[^\}:]*)(?::-(?P<default>[^\}]*))?\}`). Returns the name,
/// the default and the bytes used, closing brace included.
fn variable(s: &str) -> Option<(&str, Option<&str>, usize)> {
    let name_end = s.find(['}', ':'])?;
    let name = &s[..name_end];
    if s[name_end..].starts_with('}') {
        return Some((name, None, name_end + 1));
    }
    let after = s[name_end..].strip_prefix(":-")?;
    let close = after.find('}')?;
    Some((name, Some(&after[..close]), name_end + 2 + close + 1))
}

/// Parse dotenv bytes line by line.
pub fn parse(bytes: &[u8]) -> EnvFile {
    let mut out = EnvFile::default();
    for (i, raw) in bytes.split(|&b| b == b'\n').enumerate() {
        let line = i as u64 + 1;
        let raw = raw.strip_suffix(b"\r").unwrap_or(raw);
        let text = match std::str::from_utf8(raw) {
            Ok(t) => t,
            Err(e) => {
                out.bad.push(BadLine {
                    line,
                    why: LineError::NotUtf8 {
                        column: e.valid_up_to() + 1,
                    }
                    .to_string(),
                });
                continue;
            }
        };
        match parse_line(text) {
            Ok(None) => {}
            Ok(Some((key, value))) => out.vars.push(Assignment { key, value, line }),
            Err(why) => out.bad.push(BadLine {
                line,
                why: why.to_string(),
            }),
        }
    }
    out
}

fn parse_line(text: &str) -> Result<Option<(String, String)>, LineError> {
    let t = text.trim_start();
    if t.is_empty() || t.starts_with('#') {
        return Ok(None);
    }
    if t.contains('\0') || t.chars().any(|c| c.is_control() && c != '\t') {
        return Err(LineError::ControlCharacters);
    }
    let t = t.strip_prefix("export ").map(str::trim_start).unwrap_or(t);
    let key_end = t
        .find(|c: char| !(c.is_ascii_alphanumeric() || c == '_' || c == '.' || c == '-'))
        .unwrap_or(t.len());
    let key = &t[..key_end];
    if key.is_empty() || key.starts_with(|c: char| c.is_ascii_digit()) {
        return Err(LineError::NoName(shorten(t)));
    }
    let rest = t[key_end..].trim_start();
    let Some(rest) = rest.strip_prefix('=') else {
        return Err(LineError::NoEquals(key.to_owned()));
    };
    let rest = rest.trim_start();
    let value = match rest.chars().next() {
        Some(q @ ('"' | '\'')) => {
            let (value, after) = quoted(&rest[1..], q).ok_or_else(|| LineError::Unterminated {
                quote: q,
                key: key.to_owned(),
            })?;
            let after = after.trim_start();
            if !(after.is_empty() || after.starts_with('#')) {
                return Err(LineError::AfterQuote {
                    key: key.to_owned(),
                    after: shorten(after),
                });
            }
            value
        }
        _ => {
            let cut = rest
                .find(" #")
                .or_else(|| rest.find("\t#"))
                .unwrap_or(rest.len());
            rest[..cut].trim_end().to_owned()
        }
    };
    Ok(Some((key.to_owned(), value)))
}

/// The body of a quoted value and the text after its closing quote.
fn quoted(s: &str, q: char) -> Option<(String, &str)> {
    let mut out = String::new();
    let mut chars = s.char_indices();
    while let Some((i, c)) = chars.next() {
        if c == q {
            return Some((out, &s[i + 1..]));
        }
        if c == '\\' && q == '"' {
            match chars.next() {
                Some((_, 'n')) => out.push('\n'),
                Some((_, 't')) => out.push('\t'),
                Some((_, 'r')) => out.push('\r'),
                Some((_, other)) => out.push(other),
                None => return None,
            }
        } else {
            out.push(c);
        }
    }
    None
}

fn shorten(s: &str) -> String {
    s.chars().take(40).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn expands_like_python_dotenv() {
        let env = |n: &str| match n {
            "ONE" => Some("1".to_owned()),
            "EMPTY" => Some(String::new()),
            _ => None,
        };
        for (value, want) in [
            ("${ONE}", "1"),
            ("${ONE}_0", "1_0"),
            ("a${ONE}b${ONE}c", "a1b1c"),
            ("${MISSING}", ""),
            ("${MISSING:-2}", "2"),
            ("${EMPTY:-2}", ""),
            ("${MISSING:-${ONE}}", "${ONE}"),
            ("$ONE", "$ONE"),
            ("${ONE", "${ONE"),
            ("${ONE:2}", "${ONE:2}"),
            ("${:-d}", "d"),
            ("$${ONE}", "$1"),
            ("${ONE:-}", "1"),
        ] {
            assert_eq!(
                expand_capped(value, usize::MAX, env).as_deref(),
                Some(want),
                "{value}"
            );
        }
        assert_eq!(expand_capped("${ONE}${ONE}", 1, env), None);
        assert_eq!(expand_capped("${ONE}", 1, env).as_deref(), Some("1"));
    }

    #[test]
    fn reads_the_usual_forms() {
        let f = parse(b"# c\nexport RISK_MAX_LEVERAGE=1\nA='x y' # c\nB=\"a\\\"b\"\nC=plain # comment\nD=\n\r\n");
        let got: Vec<_> = f
            .vars
            .iter()
            .map(|a| (a.key.as_str(), a.value.as_str()))
            .collect();
        assert_eq!(
            got,
            [
                ("RISK_MAX_LEVERAGE", "1"),
                ("A", "x y"),
                ("B", "a\"b"),
                ("C", "plain"),
                ("D", "")
            ]
        );
        assert!(f.bad.is_empty());
    }

    #[test]
    fn reports_bad_lines_and_keeps_good_ones() {
        let f = parse(b"RISK_MAX_LEVERAGE 1\nA=\"open\nB=1\n\xff\xfe=1\nC=\x01\x02\n");
        let lines: Vec<_> = f.bad.iter().map(|b| b.line).collect();
        assert_eq!(lines, [1, 2, 4, 5]);
        assert_eq!(f.vars.len(), 1);
        assert!(f.bad[0].why.contains("no `=`"));
        assert!(f.bad[1].why.contains("unterminated"));
    }
}
