//! Python's `int()`, `float()` and `decimal.Decimal()` on strings, exactly as
//! the bot calls them: what they accept, what they return,
//! and the `ValueError` text they raise.

use std::fmt;

/// Python's `sys.get_int_max_str_digits()` default: longer strings raise.
const INT_MAX_STR_DIGITS: usize = 4300;

/// The first code point of every run of ten Unicode decimal digits (category
/// Nd), from Python's own `unicodedata`.
const DIGIT_ZEROS: &[u32] = &[
    0x30, 0x660, 0x6f0, 0x7c0, 0x966, 0x9e6, 0xa66, 0xae6, 0xb66, 0xbe6, 0xc66, 0xce6, 0xd66,
    0xde6, 0xe50, 0xed0, 0xf20, 0x1040, 0x1090, 0x17e0, 0x1810, 0x1946, 0x19d0, 0x1a80, 0x1a90,
    0x1b50, 0x1bb0, 0x1c40, 0x1c50, 0xa620, 0xa8d0, 0xa900, 0xa9d0, 0xa9f0, 0xaa50, 0xabf0, 0xff10,
    0x104a0, 0x10d30, 0x11066, 0x110f0, 0x11136, 0x111d0, 0x112f0, 0x11450, 0x114d0, 0x11650,
    0x116c0, 0x11730, 0x118e0, 0x11950, 0x11c50, 0x11d50, 0x11da0, 0x11f50, 0x16a60, 0x16ac0,
    0x16b50, 0x1d7ce, 0x1d7d8, 0x1d7e2, 0x1d7ec, 0x1d7f6, 0x1e140, 0x1e2f0, 0x1e4f0, 0x1e950,
    0x1fbf0,
];

/// The value of a Unicode decimal digit, if `c` is one.
fn unicode_digit(c: char) -> Option<u8> {
    let cp = c as u32;
    DIGIT_ZEROS
        .iter()
        .find(|&&zero| (zero..zero + 10).contains(&cp))
        .map(|&zero| (cp - zero) as u8)
}

/// Python's `str.isspace()`.
fn py_isspace(c: char) -> bool {
    matches!(
        c,
        '\t' | '\n'
            | '\x0b'
            | '\x0c'
            | '\r'
            | '\x1c'..='\x1f'
            | ' '
            | '\u{85}'
            | '\u{a0}'
            | '\u{1680}'
            | '\u{2000}'..='\u{200a}'
            | '\u{2028}'
            | '\u{2029}'
            | '\u{202f}'
            | '\u{205f}'
            | '\u{3000}'
    )
}

/// CPython's `_PyUnicode_TransformDecimalAndSpaceToASCII` followed by the
/// ASCII whitespace strip `int()` and `float()` do: non-ASCII spaces become
/// spaces, non-ASCII digits become ASCII digits, anything else non-ASCII
/// poisons the string. `None` when the string cannot be a number.
fn to_ascii_stripped(s: &str) -> Option<String> {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        if c.is_ascii() {
            out.push(c);
        } else if py_isspace(c) {
            out.push(' ');
        } else if let Some(d) = unicode_digit(c) {
            out.push((b'0' + d) as char);
        } else {
            return None;
        }
    }
    let trimmed =
        out.trim_matches(|c: char| matches!(c, ' ' | '\t' | '\n' | '\x0b' | '\x0c' | '\r'));
    Some(trimmed.to_owned())
}

/// A Python `ValueError` (or `decimal.InvalidOperation`), with Python's text.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PyError(pub String);

impl fmt::Display for PyError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for PyError {}

/// Python's `repr()` of a string, as it appears in `ValueError` messages.
pub fn py_repr(s: &str) -> String {
    let quote = if s.contains('\'') && !s.contains('"') {
        '"'
    } else {
        '\''
    };
    let mut out = String::with_capacity(s.len() + 2);
    out.push(quote);
    for c in s.chars() {
        match c {
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            c if c == quote => {
                out.push('\\');
                out.push(c);
            }
            c if (c as u32) < 0x20 || (0x7f..0xa1).contains(&(c as u32)) => {
                out.push_str(&format!("\\x{:02x}", c as u32));
            }
            c if py_isspace(c) && c != ' ' => {
                let cp = c as u32;
                if cp <= 0xffff {
                    out.push_str(&format!("\\u{cp:04x}"));
                } else {
                    out.push_str(&format!("\\U{cp:08x}"));
                }
            }
            c => out.push(c),
        }
    }
    out.push(quote);
    out
}

/// True if `s` is ASCII digits with single `_` separators strictly between
/// digits (PEP 515 as `int()` and `float()` apply it).
fn digits_with_underscores(s: &str) -> bool {
    let b = s.as_bytes();
    !b.is_empty()
        && b.iter().enumerate().all(|(i, &c)| {
            c.is_ascii_digit()
                || (c == b'_'
                    && i > 0
                    && i + 1 < b.len()
                    && b[i - 1].is_ascii_digit()
                    && b[i + 1].is_ascii_digit())
        })
}

/// Python `int(s)` (base 10). Values beyond `i128` saturate; the caller only
/// compares them with small bounds.
pub fn py_int(s: &str) -> Result<i128, PyError> {
    let bad = || {
        PyError(format!(
            "invalid literal for int() with base 10: {}",
            py_repr(s)
        ))
    };
    let t = to_ascii_stripped(s).ok_or_else(bad)?;
    let (neg, body) = match t.as_bytes().first() {
        Some(b'-') => (true, &t[1..]),
        Some(b'+') => (false, &t[1..]),
        _ => (false, &t[..]),
    };
    if !digits_with_underscores(body) {
        return Err(bad());
    }
    let digits: String = body.chars().filter(|&c| c != '_').collect();
    if digits.len() > INT_MAX_STR_DIGITS {
        return Err(PyError(format!(
            "Exceeds the limit ({INT_MAX_STR_DIGITS} digits) for integer string conversion: value has {} digits; use sys.set_int_max_str_digits() to increase the limit",
            digits.len()
        )));
    }
    let magnitude = digits.parse::<i128>().unwrap_or(i128::MAX);
    Ok(if neg { -magnitude } else { magnitude })
}

/// Python `float(s)`.
pub fn py_float(s: &str) -> Result<f64, PyError> {
    let bad = || PyError(format!("could not convert string to float: {}", py_repr(s)));
    let t = to_ascii_stripped(s).ok_or_else(bad)?;
    let body = t.strip_prefix(['+', '-']).unwrap_or(&t);
    let lower = body.to_ascii_lowercase();
    let neg = t.starts_with('-');
    let special = match lower.as_str() {
        "inf" | "infinity" => Some(f64::INFINITY),
        "nan" => Some(f64::NAN),
        _ => None,
    };
    if let Some(v) = special {
        return Ok(if neg { -v } else { v });
    }
    if !decimal_literal(body) {
        return Err(bad());
    }
    let plain: String = t.chars().filter(|&c| c != '_').collect();
    plain.parse::<f64>().map_err(|_| bad())
}

/// `digits [. digits] [e [sign] digits]` with PEP 515 underscores and at least
/// one mantissa digit: the decimal part of Python's float grammar.
fn decimal_literal(body: &str) -> bool {
    let (mantissa, exponent) = match body.find(['e', 'E']) {
        Some(i) => (&body[..i], Some(&body[i + 1..])),
        None => (body, None),
    };
    let (int_part, frac_part) = match mantissa.find('.') {
        Some(i) => (&mantissa[..i], Some(&mantissa[i + 1..])),
        None => (mantissa, None),
    };
    let int_ok = int_part.is_empty() || digits_with_underscores(int_part);
    let frac_ok = frac_part.is_none_or(|f| f.is_empty() || digits_with_underscores(f));
    let has_digit = !int_part.is_empty() || frac_part.is_some_and(|f| !f.is_empty());
    let exp_ok =
        exponent.is_none_or(|e| digits_with_underscores(e.strip_prefix(['+', '-']).unwrap_or(e)));
    int_ok && frac_ok && has_digit && exp_ok
}

/// A `decimal.Decimal` as far as canary-kit needs it: its text and its
/// nearest `f64` for comparisons.
#[derive(Debug, Clone, PartialEq)]
pub struct PyDecimal {
    /// Python's `str()` of the value for finite values, approximately.
    pub text: String,
    pub value: f64,
}

/// Python `decimal.Decimal(s)`: strips any Unicode whitespace, ignores every
/// `_`, accepts `Inf`, `Infinity`, `NaN`, `sNaN` (with a payload) in any case.
pub fn py_decimal(s: &str) -> Result<PyDecimal, PyError> {
    let bad = || PyError("decimal.InvalidOperation: [<class 'decimal.ConversionSyntax'>]".into());
    let mut ascii = String::with_capacity(s.len());
    for c in s.trim_matches(py_isspace).chars() {
        if c == '_' {
            continue;
        } else if c.is_ascii() {
            ascii.push(c);
        } else if let Some(d) = unicode_digit(c) {
            ascii.push((b'0' + d) as char);
        } else {
            return Err(bad());
        }
    }
    let neg = ascii.starts_with('-');
    let body = ascii.strip_prefix(['+', '-']).unwrap_or(&ascii);
    let lower = body.to_ascii_lowercase();
    let sign = if neg { -1.0 } else { 1.0 };
    if lower == "inf" || lower == "infinity" {
        return Ok(PyDecimal {
            text: format!("{}Infinity", if neg { "-" } else { "" }),
            value: sign * f64::INFINITY,
        });
    }
    for prefix in ["snan", "nan"] {
        if let Some(payload) = lower.strip_prefix(prefix)
            && payload.bytes().all(|b| b.is_ascii_digit())
        {
            return Ok(PyDecimal {
                text: "NaN".into(),
                value: f64::NAN,
            });
        }
    }
    if body.contains(['_', ' ']) || !decimal_literal(body) {
        return Err(bad());
    }
    let value = ascii.parse::<f64>().map_err(|_| bad())?;
    Ok(PyDecimal { text: ascii, value })
}

/// The bot's tolerant boolean for `RISK_REDUCE_ONLY_MODE` under
/// `BotConfig.from_env`.
pub fn tolerant_bool(s: &str) -> Option<bool> {
    match s.trim().to_ascii_lowercase().as_str() {
        "1" | "true" | "t" | "yes" | "y" | "on" => Some(true),
        "0" | "false" | "f" | "no" | "n" | "off" => Some(false),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    // Every expectation below was checked against CPython 3.11.
    #[test]
    fn int_matches_python() {
        for (s, want) in [
            ("1_0", 10),
            (" 1 ", 1),
            ("+1", 1),
            ("-1", -1),
            ("010", 10),
            ("0_0", 0),
            ("\u{661}\u{662}", 12),
            ("\u{a0}1\u{2003}", 1),
            ("1\x0b", 1),
        ] {
            assert_eq!(py_int(s), Ok(want), "{s:?}");
        }
        for s in [
            "1.0", "1e0", "0x10", "", "1__0", "_1", "1_", "- 1", "\x1c1", "one", "1 0",
        ] {
            assert!(py_int(s).is_err(), "{s:?} must be rejected");
        }
        assert_eq!(
            py_int("1.0").expect_err("fails").0,
            "invalid literal for int() with base 10: '1.0'"
        );
    }

    #[test]
    fn float_matches_python() {
        for (s, want) in [
            ("1e1_0", 1e10),
            (".5", 0.5),
            ("5.", 5.0),
            ("1.e5", 1e5),
            ("\u{661}.5", 1.5),
            (" 1 ", 1.0),
            ("1_000.000_1", 1000.0001),
            ("1e-3", 0.001),
            ("-InFiNiTy", f64::NEG_INFINITY),
            ("+inf", f64::INFINITY),
        ] {
            assert_eq!(py_float(s), Ok(want), "{s:?}");
        }
        assert!(py_float("nan").is_ok_and(f64::is_nan));
        assert!(py_float("+NaN").is_ok_and(f64::is_nan));
        for s in [
            "1_e5", "0,5", "", ".", "e5", "infinit", "\x1c1", "0x10", "1e", "1._5",
        ] {
            assert!(py_float(s).is_err(), "{s:?} must be rejected");
        }
        assert_eq!(
            py_float("0,5").expect_err("fails").0,
            "could not convert string to float: '0,5'"
        );
    }

    #[test]
    fn decimal_matches_python() {
        for (s, want) in [
            (" 1_000.5 ", 1000.5),
            ("_1", 1.0),
            ("1__0", 10.0),
            ("1_e5", 1e5),
            ("1._5", 1.5),
            ("\x1c1", 1.0),
            ("\u{3000}1", 1.0),
            ("1e-3", 0.001),
            ("5.", 5.0),
            ("-Infinity", f64::NEG_INFINITY),
            ("In_f", f64::INFINITY),
        ] {
            assert_eq!(py_decimal(s).map(|d| d.value), Ok(want), "{s:?}");
        }
        for s in ["NaN123", "snan", "Nan", "NaN_1"] {
            assert!(py_decimal(s).is_ok_and(|d| d.value.is_nan()), "{s:?}");
        }
        for s in ["_", "", "True", "1 0", "0,5", "None"] {
            assert!(py_decimal(s).is_err(), "{s:?} must be rejected");
        }
    }

    #[test]
    fn repr_quotes_like_python() {
        assert_eq!(py_repr("1.0"), "'1.0'");
        assert_eq!(py_repr("it's"), "\"it's\"");
        assert_eq!(py_repr("\x1c1"), "'\\x1c1'");
        assert_eq!(py_repr("\u{a0}1"), "'\\xa01'");
    }

    #[test]
    fn tolerant_bool_is_the_bots() {
        assert_eq!(tolerant_bool(" TRUE "), Some(true));
        assert_eq!(tolerant_bool("off"), Some(false));
        assert_eq!(tolerant_bool("maybe"), None);
        assert_eq!(tolerant_bool(""), None);
    }
}
