//! The label set of one series, packed: a scrape keeps tens of thousands.
//! A leaf: it uses nothing of the crate, so the snapshot and the money
//! gauges can both read labels.

use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// Labels of one series, sorted by name, each name once, packed: every
/// name and value in one string, with where each ends. A scrape keeps tens
/// of thousands of label sets; a map of strings costs ~850 bytes a set of
/// five, this ~200. Read, compared, hashed, printed and serialised as the
/// map it replaces.
#[derive(Clone, Default, PartialEq, Eq, Hash)]
pub struct Labels {
    /// name, value, name, value ... concatenated.
    text: Box<str>,
    /// The end of each name and each value in `text`.
    ends: Box<[usize]>,
}

impl Labels {
    pub fn new() -> Labels {
        Labels::default()
    }

    /// Pack pairs already sorted by name, each name once.
    pub(crate) fn pack<'a>(pairs: impl Iterator<Item = (&'a str, &'a str)> + Clone) -> Labels {
        let (n, len) = pairs
            .clone()
            .fold((0, 0), |(n, len), (k, v)| (n + 1, len + k.len() + v.len()));
        let mut text = String::with_capacity(len);
        let mut ends = Vec::with_capacity(n * 2);
        for (k, v) in pairs {
            text.push_str(k);
            ends.push(text.len());
            text.push_str(v);
            ends.push(text.len());
        }
        Labels {
            text: text.into_boxed_str(),
            ends: ends.into_boxed_slice(),
        }
    }

    /// Labels from borrowed pairs sorted by name, each name once (a
    /// sample's labels, sorted): no string per label.
    pub(crate) fn from_sorted(pairs: &[(&str, &str)]) -> Labels {
        Labels::pack(pairs.iter().copied())
    }

    /// The value of label `name`.
    pub fn get(&self, name: &str) -> Option<&str> {
        self.iter().find(|(k, _)| *k == name).map(|(_, v)| v)
    }

    /// The labels in name order.
    pub fn iter(
        &self,
    ) -> impl DoubleEndedIterator<Item = (&str, &str)> + ExactSizeIterator + Clone {
        let text = &*self.text;
        let ends = &*self.ends;
        (0..ends.len() / 2).map(move |i| {
            let from = if i == 0 { 0 } else { ends[2 * i - 1] };
            let mid = ends[2 * i];
            let to = ends[2 * i + 1];
            (
                text.get(from..mid).unwrap_or_default(),
                text.get(mid..to).unwrap_or_default(),
            )
        })
    }

    pub fn len(&self) -> usize {
        self.ends.len() / 2
    }

    pub fn is_empty(&self) -> bool {
        self.ends.is_empty()
    }
}

impl FromIterator<(String, String)> for Labels {
    /// As a map is collected: sorted by name, a later value of a name wins.
    fn from_iter<I: IntoIterator<Item = (String, String)>>(iter: I) -> Labels {
        let mut pairs: Vec<(String, String)> = iter.into_iter().collect();
        pairs.sort_by(|a, b| a.0.cmp(&b.0));
        let mut out: Vec<(&str, &str)> = Vec::with_capacity(pairs.len());
        for (k, v) in &pairs {
            match out.last_mut() {
                Some(last) if last.0 == k => last.1 = v,
                _ => out.push((k, v)),
            }
        }
        Labels::from_sorted(&out)
    }
}

impl<const N: usize> From<[(String, String); N]> for Labels {
    fn from(pairs: [(String, String); N]) -> Labels {
        pairs.into_iter().collect()
    }
}

impl PartialOrd for Labels {
    fn partial_cmp(&self, other: &Labels) -> Option<std::cmp::Ordering> {
        Some(self.cmp(other))
    }
}

impl Ord for Labels {
    /// As maps compare: pair by pair, in name order.
    fn cmp(&self, other: &Labels) -> std::cmp::Ordering {
        self.iter().cmp(other.iter())
    }
}

impl std::fmt::Debug for Labels {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_map().entries(self.iter()).finish()
    }
}

impl Serialize for Labels {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_map(self.iter())
    }
}

impl<'de> Deserialize<'de> for Labels {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Labels, D::Error> {
        let map = BTreeMap::<String, String>::deserialize(d)?;
        Ok(Labels::pack(
            map.iter().map(|(k, v)| (k.as_str(), v.as_str())),
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn labels_read_and_serialise_as_the_map_they_replace() {
        let pairs = [
            ("side", "buy"),
            ("result", "failed"),
            ("side", "sell"),
            ("a", "\""),
        ];
        let owned = || {
            pairs
                .iter()
                .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
        };
        let map: BTreeMap<String, String> = owned().collect();
        let labels: Labels = owned().collect();
        assert_eq!(labels.len(), map.len());
        assert_eq!(labels.get("side"), map.get("side").map(|v| v.as_str()));
        assert_eq!(labels.get("none"), None);
        assert!(
            labels
                .iter()
                .eq(map.iter().map(|(k, v)| (k.as_str(), v.as_str())))
        );
        assert_eq!(format!("{labels:?}"), format!("{map:?}"));
        let json = serde_json::to_string(&labels).expect("serialise");
        assert_eq!(json, serde_json::to_string(&map).expect("serialise"));
        let back: Labels = serde_json::from_str(&json).expect("deserialise");
        assert_eq!(back, labels);
        let dup: Labels = serde_json::from_str(r#"{"b":"1","a":"2","b":"3"}"#).expect("dup");
        assert!(dup.iter().eq([("a", "2"), ("b", "3")]));
        assert_eq!(Labels::new(), Labels::from_sorted(&[]));
        assert!(Labels::new().get("a").is_none() && Labels::new().is_empty());
        // Ordered as maps are: pair by pair.
        let of = |p: &[(&str, &str)]| Labels::from_sorted(p);
        assert!(of(&[("a", "1")]) < of(&[("a", "1"), ("b", "0")]));
        assert!(of(&[("a", "2")]) > of(&[("a", "10")]));
        assert!(of(&[("ab", "")]) > of(&[("a", "b")]));
    }
}
