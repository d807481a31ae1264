//! The profile as a tree of nodes with line numbers, parsed by serde-saphyr
//! under a small budget, and each plain scalar resolved as PyYAML (YAML 1.1,
//! the bot's parser) resolves it.

use crate::pyyaml::{self, PyValue};
use crate::tags::{Outcome, Tags};
use serde::de::{Deserialize, Deserializer, MapAccess, SeqAccess, Visitor};
use serde_saphyr::{DuplicateKeyPolicy, Location, NonFiniteFloatPolicy, Spanned};
use std::collections::BTreeSet;
use std::fmt;

/// How a scalar was written.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Style {
    Plain,
    Quoted,
    Block,
    Tagged,
}

/// A scalar: what was written and what PyYAML makes of it.
#[derive(Debug, Clone, PartialEq)]
pub struct Scalar {
    pub style: Style,
    /// The source text (plain) or the string value (quoted, block, tagged).
    pub raw: String,
    /// What the bot's `yaml.safe_load` yields.
    pub py: PyValue,
}

/// One YAML node with the 1-based line and column where it is used.
#[derive(Debug, Clone, PartialEq)]
pub struct Node {
    pub line: u64,
    pub col: u64,
    /// Byte range of the node's own text where it is used, when known.
    pub span: Option<(usize, usize)>,
    pub kind: NodeKind,
}

#[derive(Debug, Clone, PartialEq)]
pub enum NodeKind {
    Map(Vec<(Node, Node)>),
    Seq(Vec<Node>),
    Scalar(Scalar),
}

impl Node {
    /// The value under `key` in a mapping node.
    pub fn get(&self, key: &str) -> Option<&Node> {
        match &self.kind {
            // A Python dict keeps the last of repeated keys.
            NodeKind::Map(entries) => entries
                .iter()
                .rev()
                .find(|(k, _)| k.key_text().as_deref() == Some(key))
                .map(|(_, v)| v),
            _ => None,
        }
    }

    /// The key as the bot's dict sees it, when it is a string.
    pub fn key_text(&self) -> Option<String> {
        match &self.kind {
            NodeKind::Scalar(Scalar {
                py: PyValue::Str(s),
                ..
            }) => Some(s.clone()),
            _ => None,
        }
    }

    /// A short rendering of any key, for messages.
    pub fn display_key(&self) -> String {
        match &self.kind {
            NodeKind::Scalar(s) => s.raw.clone(),
            NodeKind::Map(_) => "{...}".into(),
            NodeKind::Seq(_) => "[...]".into(),
        }
    }

    pub fn is_null(&self) -> bool {
        matches!(
            &self.kind,
            NodeKind::Scalar(Scalar {
                py: PyValue::Null,
                ..
            })
        )
    }
}

/// Why a text could not be turned into nodes.
#[derive(Debug, Clone, PartialEq)]
pub enum ParseError {
    /// The YAML is malformed (the bot's PyYAML fails too). 1-based position.
    Syntax { line: u64, col: u64, msg: String },
    /// A key appears twice in one mapping; PyYAML keeps the last silently.
    DuplicateKey { line: u64, col: u64, msg: String },
    /// The input breaks the parse budget (alias bomb, too deep, too many nodes).
    Budget { line: u64, col: u64, msg: String },
}

impl ParseError {
    pub fn position(&self) -> (u64, u64) {
        match self {
            ParseError::Syntax { line, col, .. }
            | ParseError::DuplicateKey { line, col, .. }
            | ParseError::Budget { line, col, .. } => (*line, *col),
        }
    }

    pub fn message(&self) -> &str {
        match self {
            ParseError::Syntax { msg, .. }
            | ParseError::DuplicateKey { msg, .. }
            | ParseError::Budget { msg, .. } => msg,
        }
    }
}

/// Parse `src` into nodes. Duplicate keys are an error unless `last_wins`,
/// which reproduces PyYAML's silent choice.
pub fn parse(src: &str, last_wins: bool) -> Result<Option<Node>, ParseError> {
    let tags = crate::tags::scan(src).unwrap_or_default();
    parse_tagged(src, last_wins, &tags).map(|(node, _)| node)
}

/// Parse `src`, giving each tagged node the value `SafeLoader` constructs
/// for it. Also returns the byte offsets of the tagged nodes that could not
/// be matched to a node, which the caller must not ignore.
pub fn parse_tagged(
    src: &str,
    last_wins: bool,
    tags: &Tags,
) -> Result<(Option<Node>, Vec<usize>), ParseError> {
    let options = serde_saphyr::options! {
        strict_booleans: true,
        leading_zero_numbers_as_strings: true,
        underscored_numbers_as_strings: true,
        non_finite_float_policy: NonFiniteFloatPolicy::AsString,
        duplicate_keys: if last_wins { DuplicateKeyPolicy::LastWins } else { DuplicateKeyPolicy::Error },
        with_snippet: false,
        budget: serde_saphyr::budget! {
            max_events: 200_000,
            max_aliases: 1_000,
            max_anchors: 1_000,
            max_depth: 32,
            max_nodes: 50_000,
            max_total_scalar_bytes: 4 << 20,
            max_merge_keys: 1_000,
        },
        alias_limits: serde_saphyr::alias_limits! {
            max_total_replayed_events: 20_000,
            max_replay_stack_depth: 16,
            max_alias_expansions_per_anchor: 1_000,
        },
    };
    // serde-saphyr reads some tags its own way (a strict `!!bool`), so it
    // parses the text with the tags blanked out; `tags` holds what PyYAML
    // makes of each tagged node.
    let untagged = tags.untagged(src);
    let src = untagged.as_str();
    let raw = serde_saphyr::from_str_with_options::<Spanned<RawNode>>(src, options)
        .map_err(|e| classify(&e))?;
    let mut placed = BTreeSet::new();
    let node = match raw.value {
        RawNode::Scalar(RawScalar::Null) if is_blank(src) => None,
        _ => Some(resolve(src, raw, tags, &mut placed)),
    };
    let unplaced = tags
        .at
        .iter()
        .filter(|(at, o)| {
            !matches!(o, Outcome::Unchanged | Outcome::Refused(_)) && !placed.contains(*at)
        })
        .map(|(at, _)| *at)
        .collect();
    Ok((node, unplaced))
}

/// Only whitespace and comments: the bot's `safe_load` gives `None`.
fn is_blank(src: &str) -> bool {
    src.lines()
        .map(str::trim)
        .all(|l| l.is_empty() || l.starts_with('#') || l == "---" || l == "...")
}

fn classify(err: &serde_saphyr::Error) -> ParseError {
    let inner = match err.without_snippet() {
        serde_saphyr::Error::AliasError { error, .. } => error.without_snippet(),
        other => other,
    };
    let (line, col) = err
        .location()
        .or_else(|| inner.location())
        .map(|l| (l.line(), l.column()))
        .unwrap_or((0, 0));
    let msg = message_without_position(&inner.to_string());
    use serde_saphyr::Error as E;
    match inner {
        E::DuplicateMappingKey { .. } => ParseError::DuplicateKey { line, col, msg },
        E::Budget { .. }
        | E::AliasReplayCounterOverflow { .. }
        | E::AliasReplayLimitExceeded { .. }
        | E::AliasExpansionLimitExceeded { .. }
        | E::AliasReplayStackDepthExceeded { .. } => ParseError::Budget { line, col, msg },
        _ => ParseError::Syntax { line, col, msg },
    }
}

/// serde-saphyr prefixes "error: line N column M: "; we print our own position.
fn message_without_position(msg: &str) -> String {
    let msg = msg.strip_prefix("error: ").unwrap_or(msg);
    let first = msg.lines().next().unwrap_or(msg);
    match first.strip_prefix("line ") {
        Some(rest) => rest
            .split_once(": ")
            .map(|(_, m)| m.to_owned())
            .unwrap_or_else(|| first.to_owned()),
        None => first.to_owned(),
    }
    .replace(", set DuplicateKeyPolicy in Options if acceptable", "")
    .split(" at line ")
    .next()
    .unwrap_or_default()
    .to_owned()
}

/// A scalar as serde-saphyr typed it; only used for non-plain scalars.
#[derive(Debug)]
enum RawScalar {
    Null,
    Bool(bool),
    Int(i128),
    Float(f64),
    Str(String),
}

#[derive(Debug)]
enum RawNode {
    Map(Vec<(Spanned<RawNode>, Spanned<RawNode>)>),
    Seq(Vec<Spanned<RawNode>>),
    Scalar(RawScalar),
}

impl<'de> Deserialize<'de> for RawNode {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        d.deserialize_any(RawVisitor)
    }
}

struct RawVisitor;

impl<'de> Visitor<'de> for RawVisitor {
    type Value = RawNode;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("any YAML node")
    }
    fn visit_bool<E>(self, v: bool) -> Result<RawNode, E> {
        Ok(RawNode::Scalar(RawScalar::Bool(v)))
    }
    fn visit_i64<E>(self, v: i64) -> Result<RawNode, E> {
        Ok(RawNode::Scalar(RawScalar::Int(v.into())))
    }
    fn visit_u64<E>(self, v: u64) -> Result<RawNode, E> {
        Ok(RawNode::Scalar(RawScalar::Int(v.into())))
    }
    fn visit_i128<E>(self, v: i128) -> Result<RawNode, E> {
        Ok(RawNode::Scalar(RawScalar::Int(v)))
    }
    fn visit_u128<E>(self, v: u128) -> Result<RawNode, E> {
        Ok(RawNode::Scalar(RawScalar::Int(
            i128::try_from(v).unwrap_or(i128::MAX),
        )))
    }
    fn visit_f64<E>(self, v: f64) -> Result<RawNode, E> {
        Ok(RawNode::Scalar(RawScalar::Float(v)))
    }
    fn visit_str<E>(self, v: &str) -> Result<RawNode, E> {
        Ok(RawNode::Scalar(RawScalar::Str(v.to_owned())))
    }
    fn visit_bytes<E>(self, v: &[u8]) -> Result<RawNode, E> {
        Ok(RawNode::Scalar(RawScalar::Str(
            String::from_utf8_lossy(v).into_owned(),
        )))
    }
    fn visit_unit<E>(self) -> Result<RawNode, E> {
        Ok(RawNode::Scalar(RawScalar::Null))
    }
    fn visit_none<E>(self) -> Result<RawNode, E> {
        Ok(RawNode::Scalar(RawScalar::Null))
    }
    fn visit_some<D: Deserializer<'de>>(self, d: D) -> Result<RawNode, D::Error> {
        RawNode::deserialize(d)
    }
    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<RawNode, A::Error> {
        let mut entries = Vec::new();
        while let Some(entry) = map.next_entry()? {
            entries.push(entry);
        }
        Ok(RawNode::Map(entries))
    }
    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<RawNode, A::Error> {
        let mut items = Vec::new();
        while let Some(item) = seq.next_element()? {
            items.push(item);
        }
        Ok(RawNode::Seq(items))
    }
}

fn resolve(src: &str, node: Spanned<RawNode>, tags: &Tags, placed: &mut BTreeSet<usize>) -> Node {
    let line = node.referenced.line();
    let defined_at = node.defined.span().byte_offset().map(|o| o as usize);
    let outcome = defined_at.and_then(|at| tags.at.get(&at).map(|o| (at, o)));
    let col = node.referenced.column();
    let sp = node.referenced.span();
    let span = match (sp.byte_offset(), sp.byte_len()) {
        (Some(o), Some(l)) => Some((o as usize, (o + l) as usize)),
        _ => None,
    };
    let kind = match node.value {
        RawNode::Map(entries) => {
            let entries: Vec<(Node, Node)> = entries
                .into_iter()
                .map(|(k, v)| (resolve(src, k, tags, placed), resolve(src, v, tags, placed)))
                .collect();
            match outcome {
                // `!!set`: Python gets a set of the keys, not a dict.
                Some((at, Outcome::SetOfKeys)) => {
                    placed.insert(at);
                    NodeKind::Seq(entries.into_iter().map(|(k, _)| k).collect())
                }
                _ => NodeKind::Map(entries),
            }
        }
        RawNode::Seq(items) => NodeKind::Seq(
            items
                .into_iter()
                .map(|i| resolve(src, i, tags, placed))
                .collect(),
        ),
        RawNode::Scalar(typed) => {
            let mut s = scalar(src, &node.defined, typed);
            if let Some((at, Outcome::Value(v))) = outcome {
                placed.insert(at);
                s.style = Style::Tagged;
                s.py = v.clone();
            }
            NodeKind::Scalar(s)
        }
    };
    Node {
        line,
        col,
        span,
        kind,
    }
}

/// Decide how a scalar was written from the source around its definition,
/// then resolve plain scalars with PyYAML's rules.
fn scalar(src: &str, at: &Location, typed: RawScalar) -> Scalar {
    let span = at.span();
    let text = match (span.byte_offset(), span.byte_len()) {
        (Some(off), Some(len)) => src.get(off as usize..(off + len) as usize),
        _ => None,
    };
    let typed_value = || match &typed {
        RawScalar::Null => PyValue::Null,
        RawScalar::Bool(b) => PyValue::Bool(*b),
        RawScalar::Int(i) => PyValue::Int(*i),
        RawScalar::Float(f) => PyValue::Float(*f),
        RawScalar::Str(s) => PyValue::Str(s.clone()),
    };
    let as_string = || match &typed {
        RawScalar::Str(s) => s.clone(),
        RawScalar::Null => String::new(),
        RawScalar::Bool(b) => b.to_string(),
        RawScalar::Int(i) => i.to_string(),
        RawScalar::Float(f) => f.to_string(),
    };
    let Some(text) = text else {
        // An empty plain scalar (`key:`) has no text of its own.
        return Scalar {
            style: Style::Plain,
            raw: String::new(),
            py: typed_value(),
        };
    };
    if text.starts_with(['"', '\'']) {
        let s = as_string();
        return Scalar {
            style: Style::Quoted,
            raw: s.clone(),
            py: PyValue::Str(s),
        };
    }
    let offset = span.byte_offset().unwrap_or(0) as usize;
    match properties_before(src, offset) {
        Before::Tag => Scalar {
            style: Style::Tagged,
            raw: as_string(),
            py: typed_value(),
        },
        Before::BlockIndicator => {
            let s = as_string();
            Scalar {
                style: Style::Block,
                raw: s.clone(),
                py: PyValue::Str(s),
            }
        }
        Before::Plain => {
            let folded = fold_plain(text);
            Scalar {
                style: Style::Plain,
                py: pyyaml::resolve_plain(&folded),
                raw: folded,
            }
        }
    }
}

enum Before {
    Plain,
    Tag,
    BlockIndicator,
}

/// Look at the node properties and indicators written before a scalar's text.
fn properties_before(src: &str, offset: usize) -> Before {
    let head = src.get(..offset).unwrap_or("");
    let mut lines = head.rsplit('\n');
    let mut tokens: Vec<&str> = Vec::new();
    if let Some(current) = lines.next() {
        tokens = current.split_whitespace().collect();
    }
    if tokens.is_empty() {
        // Content on its own line: the indicator, if any, ends an earlier line.
        for line in lines {
            let code = strip_comment(line);
            if code.trim().is_empty() {
                continue;
            }
            tokens = code.split_whitespace().collect();
            break;
        }
    }
    let mut tagged = false;
    while let Some(last) = tokens.last() {
        if last.starts_with('!') {
            tagged = true;
            tokens.pop();
        } else if last.starts_with('&') {
            tokens.pop();
        } else {
            break;
        }
    }
    let block = tokens.last().is_some_and(|t| {
        t.starts_with(['|', '>'])
            && t[1..]
                .bytes()
                .all(|b| b == b'+' || b == b'-' || b.is_ascii_digit())
    });
    if block {
        Before::BlockIndicator
    } else if tagged {
        Before::Tag
    } else {
        Before::Plain
    }
}

fn strip_comment(line: &str) -> &str {
    if line.trim_start().starts_with('#') {
        return "";
    }
    match line.find(" #") {
        Some(i) => &line[..i],
        None => line,
    }
}

/// YAML line folding of a multi-line plain scalar.
fn fold_plain(text: &str) -> String {
    if !text.contains('\n') {
        return text.to_owned();
    }
    let mut out = String::new();
    let mut pending_breaks = 0usize;
    for (i, line) in text.split('\n').map(str::trim).enumerate() {
        if line.is_empty() {
            pending_breaks += 1;
            continue;
        }
        if i > 0 {
            if pending_breaks == 0 {
                out.push(' ');
            } else {
                out.push_str(&"\n".repeat(pending_breaks));
            }
        }
        pending_breaks = 0;
        out.push_str(line);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn root(src: &str) -> Node {
        parse(src, false).expect("parses").expect("not empty")
    }

    fn scalar_at<'a>(n: &'a Node, key: &str) -> &'a Scalar {
        match &n.get(key).expect("key").kind {
            NodeKind::Scalar(s) => s,
            other => panic!("not a scalar: {other:?}"),
        }
    }

    #[test]
    fn styles_and_yaml11_values() {
        let n = root(
            "a: 1.0\nb: \"1.0\"\nc: yes\nd: 010\ne: 14:00\nf: &x 0.001\ng: *x\nh: !!str 5\ni: |\n  text\nk:\nl: multi\n  line\n",
        );
        assert_eq!(scalar_at(&n, "a").py, PyValue::Float(1.0));
        assert_eq!(scalar_at(&n, "b").py, PyValue::Str("1.0".into()));
        assert_eq!(scalar_at(&n, "b").style, Style::Quoted);
        assert_eq!(scalar_at(&n, "c").py, PyValue::Bool(true));
        assert_eq!(scalar_at(&n, "d").py, PyValue::Int(8));
        assert_eq!(scalar_at(&n, "e").py, PyValue::Int(840));
        assert_eq!(scalar_at(&n, "g").py, PyValue::Float(0.001));
        assert_eq!(scalar_at(&n, "h").style, Style::Tagged);
        assert_eq!(scalar_at(&n, "h").py, PyValue::Str("5".into()));
        assert_eq!(scalar_at(&n, "i").style, Style::Block);
        assert_eq!(scalar_at(&n, "k").py, PyValue::Null);
        assert_eq!(scalar_at(&n, "l").py, PyValue::Str("multi line".into()));
        assert_eq!(n.get("e").map(|e| e.line), Some(5));
    }

    #[test]
    fn errors_are_classified() {
        assert!(matches!(
            parse("a: [1, 2\nc: 3\n", false),
            Err(ParseError::Syntax { line: 2, .. })
        ));
        assert!(matches!(
            parse("a:\n\tb: 1\n", false),
            Err(ParseError::Syntax { line: 2, .. })
        ));
        assert!(matches!(
            parse("a: 1\na: 2\n", false),
            Err(ParseError::DuplicateKey { line: 2, .. })
        ));
        assert!(matches!(parse("a: 1\na: 2\n", true), Ok(Some(_))));
        assert_eq!(parse("# nothing\n", false), Ok(None));
    }
}
