//! Human durations on the command line: `30s`, `5m`, `2h`, `1d`, `1h30m`, `500ms`.

use std::time::Duration;

/// Why a duration was refused. Each variant carries the text as written
/// (trimmed); the parser's own error is kept as data, not as a source, so
/// a chain printer does not repeat it.
#[derive(Debug, Clone, thiserror::Error)]
pub enum DurationError {
    /// Nothing but white space.
    #[error("empty duration: write it like 30s, 5m, 2h or 1d")]
    Empty,
    /// Not a duration at all.
    #[error("invalid duration '{text}': {why} (write it like 30s, 5m, 2h or 1d)")]
    Syntax {
        /// The text as written, trimmed.
        text: String,
        /// What the span parser said.
        why: jiff::Error,
    },
    /// A span that is no fixed length (e.g. months) or too long.
    #[error("invalid duration '{text}': {why}")]
    Range {
        /// The text as written, trimmed.
        text: String,
        /// What the conversion said.
        why: jiff::Error,
    },
    /// A negative span: no window, age or interval is negative.
    #[error("invalid duration '{text}': must not be negative")]
    Negative {
        /// The text as written, trimmed.
        text: String,
    },
}

/// Parse a duration as operators write it. A day is 24 hours here: canary
/// windows are elapsed time, not calendar days.
pub fn parse_duration(text: &str) -> Result<Duration, DurationError> {
    let trimmed = text.trim();
    if trimmed.is_empty() {
        return Err(DurationError::Empty);
    }
    let span: jiff::Span = trimmed.parse().map_err(|why| DurationError::Syntax {
        text: trimmed.to_owned(),
        why,
    })?;
    let signed = span
        .to_duration(jiff::SpanRelativeTo::days_are_24_hours())
        .map_err(|why| DurationError::Range {
            text: trimmed.to_owned(),
            why,
        })?;
    Duration::try_from(signed).map_err(|_| DurationError::Negative {
        text: trimmed.to_owned(),
    })
}

/// Format a duration compactly for messages (`1h30m`, `45s`, `250ms`).
pub fn format_duration(d: Duration) -> String {
    let total_ms = d.as_millis();
    if total_ms < 1000 {
        return format!("{total_ms}ms");
    }
    let mut secs = d.as_secs();
    let mut out = String::new();
    for (unit, size) in [("d", 86_400), ("h", 3_600), ("m", 60)] {
        if secs >= size {
            out.push_str(&format!("{}{unit}", secs / size));
            secs %= size;
        }
    }
    if secs > 0 || out.is_empty() {
        out.push_str(&format!("{secs}s"));
    }
    out
}

/// An age or a span in seconds as a person reads it: the two largest units,
/// `6d 10h`, `3h 5m`, `1m 15s`, `42s`, `3.2s` (tenths below 10 s). `None`
/// for a negative or non-finite value: that is no age at all.
pub fn human_secs(secs: f64) -> Option<String> {
    if !secs.is_finite() || secs < 0.0 {
        return None;
    }
    if secs < 10.0 {
        let tenths = (secs * 10.0).round() / 10.0;
        return Some(format!("{tenths}s"));
    }
    let total = secs.round() as u64;
    let units = [("d", 86_400), ("h", 3_600), ("m", 60), ("s", 1)];
    let first = units
        .iter()
        .position(|(_, size)| total >= *size)
        .unwrap_or(units.len() - 1);
    let (big, big_size) = units[first];
    let mut out = format!("{}{big}", total / big_size);
    if let Some((small, small_size)) = units.get(first + 1) {
        let rest = total % big_size / small_size;
        if rest > 0 {
            out.push_str(&format!(" {rest}{small}"));
        }
    }
    Some(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_operator_units() {
        let ok = |t| parse_duration(t).ok();
        assert_eq!(ok("30s"), Some(Duration::from_secs(30)));
        assert_eq!(ok("5m"), Some(Duration::from_secs(300)));
        assert_eq!(ok("2h"), Some(Duration::from_secs(7200)));
        assert_eq!(ok("1d"), Some(Duration::from_secs(86_400)));
        assert_eq!(ok("1h30m"), Some(Duration::from_millis(5_400_000)));
        assert_eq!(ok("500ms"), Some(Duration::from_millis(500)));
    }

    #[test]
    fn rejects_garbage_negative_and_empty() {
        assert!(matches!(parse_duration(" "), Err(DurationError::Empty)));
        assert!(
            matches!(parse_duration("soon"), Err(DurationError::Syntax { text, .. }) if text == "soon")
        );
        assert!(
            matches!(parse_duration("-5m"), Err(DurationError::Negative { text }) if text == "-5m")
        );
        assert!(matches!(
            parse_duration("5 parsecs"),
            Err(DurationError::Syntax { .. })
        ));
        assert!(matches!(
            parse_duration("1mo"),
            Err(DurationError::Range { .. })
        ));
        // What the operator reads, unchanged by the typed error.
        assert_eq!(
            parse_duration("-5m").expect_err("negative").to_string(),
            "invalid duration '-5m': must not be negative"
        );
        assert_eq!(
            parse_duration("").expect_err("empty").to_string(),
            "empty duration: write it like 30s, 5m, 2h or 1d"
        );
        let syntax = parse_duration(" soon ").expect_err("garbage").to_string();
        assert!(
            syntax.starts_with("invalid duration 'soon': ")
                && syntax.ends_with(" (write it like 30s, 5m, 2h or 1d)"),
            "{syntax}"
        );
    }

    #[test]
    fn human_ages() {
        assert_eq!(human_secs(557_762.0).as_deref(), Some("6d 10h"));
        assert_eq!(human_secs(75.0).as_deref(), Some("1m 15s"));
        assert_eq!(human_secs(3.2).as_deref(), Some("3.2s"));
        assert_eq!(human_secs(42.4).as_deref(), Some("42s"));
        assert_eq!(human_secs(3600.0).as_deref(), Some("1h"));
        assert_eq!(human_secs(11_100.0).as_deref(), Some("3h 5m"));
        assert_eq!(human_secs(-1.0), None);
        assert_eq!(human_secs(f64::NAN), None);
    }

    #[test]
    fn formats_compactly() {
        assert_eq!(format_duration(Duration::from_secs(5400)), "1h30m");
        assert_eq!(format_duration(Duration::from_secs(45)), "45s");
        assert_eq!(format_duration(Duration::from_millis(250)), "250ms");
        assert_eq!(format_duration(Duration::from_secs(90_000)), "1d1h");
    }
}
