//! Release tag names: what a valid one looks like, and how releases order
//! (by version, so `v1.10.0` comes after `v1.3.0`, not before it).

use crate::error::TagError;
use std::cmp::Ordering;

/// Longest tag name accepted.
pub const MAX_TAG_LEN: usize = 64;

/// A release version parsed from a tag: `v1.10.0`, `1.3.0`, `v2.0.0-rc.1`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Version {
    pub major: u64,
    pub minor: u64,
    pub patch: u64,
    /// Pre-release identifiers (`rc.1`); empty for a release.
    pub pre: Vec<String>,
}

impl Version {
    /// A release, as opposed to a pre-release (`-rc.1`), which is never
    /// picked as a known-good target by itself.
    pub fn is_release(&self) -> bool {
        self.pre.is_empty()
    }

    fn parse(tag: &str) -> Option<Version> {
        let body = tag.strip_prefix('v').unwrap_or(tag);
        let body = body.split_once('+').map_or(body, |(b, _build)| b);
        let (core, pre) = match body.split_once('-') {
            Some((c, p)) => (c, Some(p)),
            None => (body, None),
        };
        let mut nums = core.split('.');
        let mut next = || -> Option<u64> {
            let n = nums.next()?;
            if n.is_empty() || !n.bytes().all(|b| b.is_ascii_digit()) || n.len() > 18 {
                return None;
            }
            n.parse().ok()
        };
        let (major, minor, patch) = (next()?, next()?, next()?);
        if nums.next().is_some() {
            return None;
        }
        let pre = match pre {
            None => Vec::new(),
            Some(p) if p.split('.').all(|id| !id.is_empty()) => {
                p.split('.').map(str::to_owned).collect()
            }
            Some(_) => return None,
        };
        Some(Version {
            major,
            minor,
            patch,
            pre,
        })
    }
}

impl Ord for Version {
    fn cmp(&self, other: &Self) -> Ordering {
        (self.major, self.minor, self.patch)
            .cmp(&(other.major, other.minor, other.patch))
            .then_with(|| match (self.pre.is_empty(), other.pre.is_empty()) {
                (true, true) => Ordering::Equal,
                (true, false) => Ordering::Greater,
                (false, true) => Ordering::Less,
                (false, false) => cmp_pre(&self.pre, &other.pre),
            })
    }
}

impl PartialOrd for Version {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

/// Semver pre-release order: numeric identifiers numerically and below
/// alphanumeric ones; a shorter list of equal prefix first.
fn cmp_pre(a: &[String], b: &[String]) -> Ordering {
    for (x, y) in a.iter().zip(b) {
        let ord = match (x.parse::<u64>(), y.parse::<u64>()) {
            (Ok(m), Ok(n)) => m.cmp(&n),
            (Ok(_), Err(_)) => Ordering::Less,
            (Err(_), Ok(_)) => Ordering::Greater,
            (Err(_), Err(_)) => x.cmp(y),
        };
        if ord != Ordering::Equal {
            return ord;
        }
    }
    a.len().cmp(&b.len())
}

/// Check a tag name before it goes anywhere near a command line: a release
/// version (`v1.3.0`), ASCII letters, digits and `.`, `-`, `+`, `_` only,
/// never starting with `-` or `.`, at most [`MAX_TAG_LEN`] bytes. Returns the
/// parsed version, or why the name was refused.
pub fn validate_tag(tag: &str) -> Result<Version, TagError> {
    if tag.is_empty() {
        return Err(TagError::Empty);
    }
    if tag.len() > MAX_TAG_LEN {
        return Err(TagError::TooLong(MAX_TAG_LEN));
    }
    if let Some(bad) = tag
        .chars()
        .find(|c| !(c.is_ascii_alphanumeric() || matches!(c, '.' | '-' | '+' | '_')))
    {
        return Err(TagError::BadChar(bad));
    }
    if tag.starts_with('-') {
        return Err(TagError::LeadingDash);
    }
    if tag.starts_with('.') || tag.contains("..") {
        return Err(TagError::Dots);
    }
    Version::parse(tag).ok_or(TagError::NotVersion)
}

/// A value from the input, shortened and made printable for a record or a
/// message. Serialisation escapes it; this only bounds it.
pub fn shown(value: &str) -> String {
    let mut out: String = value.chars().take(80).collect();
    if value.chars().count() > 80 {
        out.push('…');
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn v(tag: &str) -> Version {
        validate_tag(tag).expect("valid")
    }

    #[test]
    fn version_order_is_numeric_not_lexical() {
        assert!(v("v1.10.0") > v("v1.3.0"));
        assert!(v("v1.3.0") > v("v1.2.0"));
        assert!(v("v2.0.0") > v("v1.99.99"));
        assert!(v("v1.3.0") > v("v1.3.0-rc.2"));
        assert!(v("v1.3.0-rc.10") > v("v1.3.0-rc.2"));
        assert!(v("v1.3.0-rc.1") > v("v1.3.0-alpha"));
        assert_eq!(v("1.3.0").cmp(&v("v1.3.0")), Ordering::Equal);
    }

    #[test]
    fn hostile_names_are_refused() {
        for bad in [
            "v1;rm -rf /",
            "--upload-pack=x",
            "../../etc",
            "v1.0.0/../x",
            "$(reboot)",
            "v1.0.0\n",
            "-v1.0.0",
            ".v1.0.0",
            "",
            "latest",
            "v1.2",
            "v1.2.3.4",
            "v1.2.3-",
        ] {
            assert!(validate_tag(bad).is_err(), "{bad:?} accepted");
        }
        assert!(validate_tag(&format!("v1.0.0-{}", "a".repeat(80))).is_err());
    }

    #[test]
    fn shown_bounds_values() {
        assert_eq!(shown("abc"), "abc");
        assert_eq!(shown(&"x".repeat(100)).chars().count(), 81);
    }
}
