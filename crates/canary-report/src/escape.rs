//! HTML escaping: every string that comes from the log is hostile input.

use std::fmt::Write;

/// Escape `s` for HTML text and double- or single-quoted attribute values.
/// Control characters (other than tab and newline) become U+FFFD so that a
/// log cannot smuggle anything the parser treats specially.
pub fn html(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + s.len() / 8);
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            '\t' | '\n' => out.push(c),
            c if c.is_control() => out.push('\u{FFFD}'),
            c => out.push(c),
        }
    }
    out
}

/// At most `max` characters of `s`, with an ellipsis when cut; then escaped.
pub fn html_clipped(s: &str, max: usize) -> String {
    match s.char_indices().nth(max) {
        None => html(s),
        Some((cut, _)) => {
            let mut out = html(&s[..cut]);
            let _ = write!(out, "… ({} more characters)", s[cut..].chars().count());
            out
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn markup_and_quotes_are_neutralised() {
        let hostile = r#"<script>alert(1)</script>"><img src=x onerror='alert(2)'>&"#;
        let out = html(hostile);
        assert!(!out.contains('<') && !out.contains('>') && !out.contains('"'));
        assert!(!out.contains('\''));
        assert_eq!(html("a&b"), "a&amp;b");
        assert_eq!(html("x\u{0}y\u{1b}"), "x\u{FFFD}y\u{FFFD}");
    }

    #[test]
    fn clipping_is_on_char_boundaries() {
        assert_eq!(html_clipped("héllo", 10), "héllo");
        assert_eq!(html_clipped("héllo", 2), "hé… (3 more characters)");
        assert_eq!(html_clipped("<<<", 1), "&lt;… (2 more characters)");
    }
}
