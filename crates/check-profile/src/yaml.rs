//! The profile as a tree of nodes with line numbers, built from the event
//! stream of granit-parser under a small budget. The parser reports each
//! scalar's style, tag and span; plain scalars are resolved as PyYAML (YAML
//! 1.1, the bot's parser) resolves them, tagged ones as its `SafeLoader`
//! constructs them, and the tree is composed as PyYAML composes it (aliases,
//! merge keys, the last of repeated keys).

use crate::budget::{Breach, Budget};
use crate::pyyaml::{self, PyValue};
use crate::tags::{self, Outcome, Shape, TagUse};
use granit_parser::{Event, Marker, Parser, ScalarStyle, ScanError, Span, StructureStyle};
use std::collections::{HashMap, HashSet};

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
    /// Resolved from its text as a plain scalar is: written plain, or
    /// under the non-specific tag `!` (so `! <<` is a merge key to PyYAML).
    pub implicit: bool,
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
    /// The YAML is malformed, or PyYAML's composer or constructor rejects it
    /// (the bot's `safe_load` fails too). 1-based position.
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

/// A document as the bot's `yaml.safe_load` composes it.
#[derive(Debug, Clone, PartialEq)]
pub struct Parsed {
    /// `None` when `safe_load` gives `None`: no document, or a null one.
    pub root: Option<Node>,
    /// Every explicit tag, with what `SafeLoader` does with it.
    pub tags: Vec<TagUse>,
    /// The first key repeated within one mapping. The tree keeps the last
    /// value, as PyYAML does silently.
    pub duplicate: Option<ParseError>,
}

/// Parse `src` as the bot's `yaml.safe_load` would, within the budget.
pub fn parse(src: &str) -> Result<Parsed, ParseError> {
    if let Some(at) = odd_line_break(src) {
        return Err(syntax_in(
            src,
            at,
            "a line break other than \\n or \\r\\n (NEL, U+2028, U+2029, a lone \\r): PyYAML breaks the line there, YAML 1.2 does not, so what the bot reads cannot be told",
        ));
    }
    if let Some((at, msg)) = odd_stream_start(src) {
        return Err(syntax_in(src, at, msg));
    }
    let mut b = Builder {
        src,
        ..Builder::default()
    };
    // Anchor events carry each anchor's name, which PyYAML restricts.
    let mut options = granit_parser::Options::default();
    options.emit_anchor_events = true;
    for item in Parser::new_from_str_with_options(src, options) {
        let (event, span) = item.map_err(|e| syntax_error(&e))?;
        b.event(event, &span)?;
    }
    if let Some(at) = misplaced_tab(src, &b.texts) {
        return Err(syntax_in(
            src,
            at,
            "found a tab where PyYAML's scanner takes none (tabs belong only in quoted or block scalars and comments)",
        ));
    }
    Ok(Parsed {
        root: b.root.filter(|r| !r.is_null()),
        tags: b.tags,
        duplicate: b.duplicate,
    })
}

/// 1-based line and column of byte `at`.
/// A syntax error at byte `at` of the source.
fn syntax_in(src: &str, at: usize, msg: impl Into<String>) -> ParseError {
    let (line, col) = line_col_at(src, at);
    ParseError::Syntax {
        line,
        col,
        msg: msg.into(),
    }
}

fn line_col_at(src: &str, at: usize) -> (u64, u64) {
    let head = &src[..at];
    let line = head.matches('\n').count() as u64 + 1;
    let col = head.rsplit('\n').next().map_or(0, |l| l.chars().count()) as u64 + 1;
    (line, col)
}

/// The first line break PyYAML takes that YAML 1.2 parsers do not (NEL,
/// LINE and PARAGRAPH SEPARATOR), or a lone `\r`. PyYAML ends a line, a
/// comment or a plain key there and folds quoted text, so the document it
/// composes differs from the parser's, in ways not worth modelling: such a
/// file is refused (fail closed).
fn odd_line_break(src: &str) -> Option<usize> {
    src.char_indices()
        .find(|&(i, c)| match c {
            '\u{85}' | '\u{2028}' | '\u{2029}' => true,
            '\r' => !src[i + 1..].starts_with('\n'),
            _ => false,
        })
        .map(|(i, _)| i)
}

/// A stream start PyYAML refuses or reads differently: its scanner skips
/// one BOM only (a second starts the first key, which then is no longer
/// `trading`), and its parser wants a node or `---` before any `...`.
fn odd_stream_start(src: &str) -> Option<(usize, &'static str)> {
    let body = src.strip_prefix('\u{feff}').unwrap_or(src);
    let skipped = src.len() - body.len();
    if body.starts_with('\u{feff}') {
        return Some((
            skipped,
            "a second byte-order mark: PyYAML skips only the first and reads this one as part of the first key",
        ));
    }
    let mut at = skipped;
    for line in body.split_inclusive('\n') {
        let text = line.trim_start_matches([' ', '\t']);
        let text = text.trim_end_matches(['\n', '\r']);
        if text.is_empty() || text.starts_with('#') {
            at += line.len();
            continue;
        }
        let end_marker = line
            .strip_prefix("...")
            .is_some_and(|rest| rest.is_empty() || rest.starts_with([' ', '\t', '\r', '\n']));
        return end_marker.then_some((at, "a document end marker '...' before any document: PyYAML's parser expects a node or '---' first"));
    }
    None
}

fn syntax_error(e: &ScanError) -> ParseError {
    syntax_at(e.marker(), e.info())
}

fn line_col(m: &Marker) -> (u64, u64) {
    (m.line() as u64, m.col() as u64 + 1)
}

/// A syntax error at a parser position.
fn syntax_at(m: &Marker, msg: impl Into<String>) -> ParseError {
    let (line, col) = line_col(m);
    ParseError::Syntax {
        line,
        col,
        msg: msg.into(),
    }
}

fn error_at(node: &Node, msg: &str) -> ParseError {
    ParseError::Syntax {
        line: node.line,
        col: node.col,
        msg: msg.to_owned(),
    }
}

const MERGE_VALUE: &str = "YAML merge value must be mapping or sequence of mappings";
const MERGE_ELSEWHERE: &str = "a plain `<<` that is not a mapping key resolves to the merge tag, which yaml.safe_load cannot construct (ConstructorError)";
const VALUE_ELSEWHERE: &str = "a plain `=` that is not a mapping key resolves to the YAML value tag, which yaml.safe_load cannot construct (ConstructorError)";
const UNHASHABLE_KEY: &str =
    "found unhashable key: a mapping or sequence used as a key (ConstructorError)";
const PAIRS_ITEM: &str =
    "each item of !!omap or !!pairs must be a mapping of one key (ConstructorError)";

/// A collection whose end event has not come yet.
struct Open {
    start: Marker,
    /// A flow collection (`[...]`, `{...}`), whose plain scalars PyYAML
    /// scans more strictly.
    flow: bool,
    anchor: usize,
    /// Index of its tag in `Builder::tags`.
    tag: Option<usize>,
    /// Nodes it holds, itself included, aliases counted as what they repeat.
    size: usize,
    body: Body,
}

enum Body {
    /// `pairs`: the tag use of an `!!omap`/`!!pairs` sequence, whose items
    /// must each be a mapping of one key.
    Seq {
        items: Vec<Node>,
        pairs: Option<usize>,
    },
    Map {
        entries: Vec<(Node, Node)>,
        key: Option<Node>,
    },
}

/// A finished node on its way into its parent.
struct Done {
    node: Node,
    size: usize,
    /// Entries of a mapping as written, before merge keys are applied.
    written_pairs: Option<usize>,
}

#[derive(Default)]
struct Builder<'s> {
    /// The text parsed.
    src: &'s str,
    stack: Vec<Open>,
    /// Anchored nodes by the parser's anchor id, with their size.
    anchors: HashMap<usize, (Node, usize)>,
    tags: Vec<TagUse>,
    duplicate: Option<ParseError>,
    budget: Budget,
    documents: usize,
    root: Option<Node>,
    /// Anchor names seen: PyYAML refuses a name defined twice.
    anchor_names: HashSet<String>,
    /// Byte range and style of every scalar's text, in document order.
    texts: Vec<(usize, usize, ScalarStyle)>,
}

impl Builder<'_> {
    fn event(&mut self, event: Event<'_>, span: &Span) -> Result<(), ParseError> {
        let breach = |b: Breach| {
            let (line, col) = line_col(&span.start);
            ParseError::Budget {
                line,
                col,
                msg: b.to_string(),
            }
        };
        self.budget.event().map_err(breach)?;
        match event {
            Event::DocumentStart(..) => {
                self.documents += 1;
                if self.documents > 1 {
                    return Err(syntax_at(
                        &span.start,
                        "expected a single document in the stream, but found another document",
                    ));
                }
            }
            Event::Scalar(value, style, anchor, tag) => {
                self.budget.scalar(value.len()).map_err(breach)?;
                let in_flow = self.stack.last().is_some_and(|o| o.flow);
                if in_flow && style == ScalarStyle::Plain && value.starts_with(':') {
                    return Err(syntax_at(
                        &span.start,
                        "a plain scalar starting with ':' inside [...] or {...}: PyYAML's scanner takes no plain scalar there",
                    ));
                }
                if in_flow && style == ScalarStyle::Plain && value.contains('?') {
                    return Err(syntax_at(
                        &span.start,
                        "a '?' in a plain scalar inside [...] or {...}: PyYAML's scanner ends the scalar there and fails",
                    ));
                }
                if let (Some(from), Some(to)) = (span.start.byte_offset(), span.end.byte_offset()) {
                    self.texts.push((from, to, style));
                }
                self.budget.node(1).map_err(breach)?;
                let node = self.scalar(&value, style, tag.as_deref(), span)?;
                self.done(
                    Done {
                        node,
                        size: 1,
                        written_pairs: None,
                    },
                    anchor,
                )?;
            }
            Event::Anchor(_, name) => {
                let (line, col) = line_col(&span.start);
                let pyyaml_name = !name.is_empty()
                    && name
                        .bytes()
                        .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_');
                let msg = if !pyyaml_name {
                    format!(
                        "anchor &{name}: PyYAML takes only letters, digits, '-' and '_' in an anchor name"
                    )
                } else if let Some(c) = span
                    .end
                    .byte_offset()
                    .and_then(|end| self.src.get(end..))
                    .and_then(|rest| rest.chars().next())
                    .filter(|c| !" \t\r\n?:,]}%@`".contains(*c))
                {
                    format!(
                        "anchor &{name} is followed by {c:?}: PyYAML's scanner wants a space there"
                    )
                } else if !self.anchor_names.insert(name.into_owned()) {
                    "found duplicate anchor: PyYAML refuses a name defined twice".to_owned()
                } else {
                    return Ok(());
                };
                return Err(ParseError::Syntax { line, col, msg });
            }
            Event::Alias(id) => {
                let Some((node, size)) = self.anchors.get(&id) else {
                    return Err(syntax_at(&span.start, "found undefined alias"));
                };
                let size = *size;
                self.budget.alias(size).map_err(breach)?;
                self.budget.node(size).map_err(breach)?;
                let (line, col, at) = position(span);
                let mut node = node.clone();
                (node.line, node.col, node.span) = (line, col, at);
                let written_pairs = match &node.kind {
                    NodeKind::Map(entries) => Some(entries.len()),
                    _ => None,
                };
                self.done(
                    Done {
                        node,
                        size,
                        written_pairs,
                    },
                    0,
                )?;
            }
            Event::SequenceStart(style, anchor, tag) => {
                self.budget.open(self.stack.len() + 1).map_err(breach)?;
                self.budget.node(1).map_err(breach)?;
                let tag = tag.map(|t| self.tag(&t, span, Shape::Seq, None));
                let pairs = tag.filter(|&i| matches!(self.tags[i].core(), Some("omap" | "pairs")));
                self.stack.push(Open {
                    start: span.start,
                    flow: style == StructureStyle::Flow,
                    anchor,
                    tag,
                    size: 1,
                    body: Body::Seq {
                        items: Vec::new(),
                        pairs,
                    },
                });
            }
            Event::MappingStart(style, anchor, tag) => {
                self.budget.open(self.stack.len() + 1).map_err(breach)?;
                self.budget.node(1).map_err(breach)?;
                let tag = tag.map(|t| self.tag(&t, span, Shape::Map, None));
                self.stack.push(Open {
                    start: span.start,
                    flow: style == StructureStyle::Flow,
                    anchor,
                    tag,
                    size: 1,
                    body: Body::Map {
                        entries: Vec::new(),
                        key: None,
                    },
                });
            }
            Event::SequenceEnd | Event::MappingEnd => {
                let Some(open) = self.stack.pop() else {
                    return Ok(());
                };
                let (line, col) = line_col(&open.start);
                let span = open.start.byte_offset().zip(span.end.byte_offset());
                let (kind, written_pairs) = match open.body {
                    Body::Seq { items, .. } => (NodeKind::Seq(items), None),
                    Body::Map { entries, .. } => {
                        let written = entries.len();
                        let entries = self.compose_map(entries)?;
                        let set = open
                            .tag
                            .is_some_and(|i| self.tags[i].outcome == Outcome::SetOfKeys);
                        if set {
                            // `!!set`: Python gets a set of the keys, not a dict.
                            let keys = entries.into_iter().map(|(k, _)| k).collect();
                            (NodeKind::Seq(keys), Some(written))
                        } else {
                            (NodeKind::Map(entries), Some(written))
                        }
                    }
                };
                let node = Node {
                    line,
                    col,
                    span,
                    kind,
                };
                self.done(
                    Done {
                        node,
                        size: open.size,
                        written_pairs,
                    },
                    open.anchor,
                )?;
            }
            _ => {}
        }
        Ok(())
    }

    /// Record a tag and what `SafeLoader` does with it; its index.
    fn tag(
        &mut self,
        tag: &granit_parser::Tag,
        span: &Span,
        shape: Shape,
        scalar: Option<(&str, ScalarStyle)>,
    ) -> usize {
        let mut usage = tags::read(tag, span, shape, scalar);
        let at = span.tag_start.unwrap_or(span.start).byte_offset();
        if let Some(why) = at.and_then(|at| tags::scan_error(self.src, at)) {
            usage.outcome = Outcome::Refused(why);
        }
        self.tags.push(usage);
        self.tags.len() - 1
    }

    fn scalar(
        &mut self,
        value: &str,
        style: ScalarStyle,
        tag: Option<&granit_parser::Tag>,
        span: &Span,
    ) -> Result<Node, ParseError> {
        let written = match style {
            ScalarStyle::Plain => Style::Plain,
            ScalarStyle::SingleQuoted | ScalarStyle::DoubleQuoted => Style::Quoted,
            ScalarStyle::Literal | ScalarStyle::Folded => Style::Block,
        };
        let untagged = || {
            if written == Style::Plain {
                pyyaml::resolve_plain(value)
            } else {
                PyValue::Str(value.to_owned())
            }
        };
        let implicit = match tag {
            None => written == Style::Plain,
            Some(t) => format!("{}{}", t.handle(), t.suffix()) == "!",
        };
        let (style, py) = match tag {
            None => (written, untagged()),
            Some(t) => {
                let i = self.tag(t, span, Shape::Scalar, Some((value, style)));
                match &self.tags[i].outcome {
                    Outcome::Value(v) => (Style::Tagged, v.clone()),
                    _ => (Style::Tagged, untagged()),
                }
            }
        };
        let (line, col, span) = position(span);
        let node = Node {
            line,
            col,
            span,
            kind: NodeKind::Scalar(Scalar {
                style,
                raw: value.to_owned(),
                implicit,
                py,
            }),
        };
        match pyyaml::plain_refused(value).filter(|_| implicit) {
            Some(why) => Err(error_at(&node, why)),
            None => Ok(node),
        }
    }

    /// A finished node: remember its anchor and hand it to its parent.
    fn done(&mut self, done: Done, anchor: usize) -> Result<(), ParseError> {
        let Done {
            node,
            size,
            written_pairs,
        } = done;
        let budget_error = |b: Breach| ParseError::Budget {
            line: node.line,
            col: node.col,
            msg: b.to_string(),
        };
        let key_slot = matches!(
            self.stack.last(),
            Some(Open {
                body: Body::Map { key: None, .. },
                ..
            })
        );
        // PyYAML resolves a plain `<<` to the merge tag and a plain `=` to
        // the value tag. As a mapping key, `flatten_mapping` merges the
        // first and makes the second a string; anywhere else `SafeLoader`
        // has no constructor for them and the load fails.
        let implicit =
            |text: &str| matches!(&node.kind, NodeKind::Scalar(s) if s.implicit && s.raw == text);
        if !key_slot && implicit("<<") {
            return Err(error_at(&node, MERGE_ELSEWHERE));
        }
        if !key_slot && implicit("=") {
            return Err(error_at(&node, VALUE_ELSEWHERE));
        }
        if anchor != 0 {
            self.budget.anchor().map_err(budget_error)?;
            self.anchors.insert(anchor, (node.clone(), size));
        }
        let refused_key = match self.stack.last() {
            Some(Open {
                body: Body::Map { key, .. },
                ..
            }) => match key {
                None => self.refused_key(&node, None).filter(|_| anchor == 0),
                Some(k) => self.refused_key(k, Some(&node)),
            },
            _ => None,
        };
        let Some(parent) = self.stack.last_mut() else {
            self.root = Some(node);
            return Ok(());
        };
        parent.size += size;
        match &mut parent.body {
            Body::Seq { items, pairs } => {
                let refused = pairs.filter(|_| written_pairs != Some(1));
                items.push(node);
                if let Some(i) = refused
                    && let Some(u) = self.tags.get_mut(i)
                    && !matches!(u.outcome, Outcome::Refused(_))
                {
                    u.outcome = Outcome::Refused(PAIRS_ITEM.to_owned());
                }
            }
            Body::Map { entries, key } => match key.take() {
                None if let Some(why) = refused_key => return Err(error_at(&node, why)),
                Some(k) if let Some(why) = refused_key => return Err(error_at(&k, why)),
                None => *key = Some(node),
                Some(k) => entries.push((k, node)),
            },
        }
        Ok(())
    }

    /// Why PyYAML's parser refuses `key` with `value` as an implicit key,
    /// which YAML 1.2 takes: left out (`: value`, a null key to YAML 1.2),
    /// or spanning lines before its `:`. After an explicit `?` PyYAML takes
    /// both, and a flow entry with no `:` is no implicit key.
    fn refused_key(&self, key: &Node, value: Option<&Node>) -> Option<&'static str> {
        let NodeKind::Scalar(s) = &key.kind else {
            return None;
        };
        let (from, to) = key.span?;
        let explicit = self
            .src
            .get(..from)
            .unwrap_or_default()
            .trim_end()
            .ends_with('?');
        let empty = |n: &Node| {
            matches!(&n.kind, NodeKind::Scalar(s) if s.style == Style::Plain)
                && n.span.is_some_and(|(f, t)| f == t)
        };
        // The `:` after an implicit key on a later line (`{mode\n  : x}`).
        let colon_below = || {
            let mut rest = self.src.get(to..).unwrap_or_default();
            let mut broke = false;
            loop {
                let skipped = rest.trim_start_matches([' ', '\t', '\r', '\n']);
                broke |= rest[..rest.len() - skipped.len()].contains('\n');
                rest = skipped;
                if !rest.starts_with('#') {
                    break;
                }
                rest = &rest[rest.find('\n').unwrap_or(rest.len())..];
            }
            broke && rest.starts_with(':')
        };
        if explicit {
            None
        } else if value.is_some() && colon_below() {
            Some(
                "a key's ':' is on a later line: PyYAML's parser ends an implicit key at the line's end",
            )
        } else if value.is_none() && empty(key) {
            Some("a mapping entry has no key before its ':' (PyYAML's parser refuses it)")
        } else if value.is_some_and(|v| !empty(v))
            && s.style != Style::Block
            && self.src.get(from..to).is_some_and(|t| t.contains('\n'))
        {
            Some("a key spans lines: PyYAML's parser ends an implicit key at the line's end")
        } else {
            None
        }
    }

    /// PyYAML's `flatten_mapping` and `construct_mapping`: merge keys
    /// first, the entries written after them; of repeated keys the last
    /// wins, in its own place.
    fn compose_map(&mut self, entries: Vec<(Node, Node)>) -> Result<Vec<(Node, Node)>, ParseError> {
        let mut merged = Vec::new();
        let mut own = Vec::with_capacity(entries.len());
        for (k, v) in entries {
            if !is_merge_key(&k) {
                own.push((k, v));
                continue;
            }
            self.budget.merge_key().map_err(|b| ParseError::Budget {
                line: k.line,
                col: k.col,
                msg: b.to_string(),
            })?;
            match v.kind {
                NodeKind::Map(e) => merged.extend(e),
                // The first mapping listed wins: merge them last to first.
                NodeKind::Seq(items) => {
                    for item in items.into_iter().rev() {
                        match item.kind {
                            NodeKind::Map(e) => merged.extend(e),
                            _ => return Err(error_at(&item, MERGE_VALUE)),
                        }
                    }
                }
                NodeKind::Scalar(_) => return Err(error_at(&v, MERGE_VALUE)),
            }
        }
        let from_merge = merged.len();
        let all: Vec<(Node, Node)> = merged.into_iter().chain(own).collect();
        let mut last: HashMap<KeyId, usize> = HashMap::with_capacity(all.len());
        let mut ids = Vec::with_capacity(all.len());
        for (i, (k, _)) in all.iter().enumerate() {
            let id = key_id(k, i).ok_or_else(|| error_at(k, UNHASHABLE_KEY))?;
            if let Some(prev) = last.insert(id.clone(), i)
                && prev >= from_merge
                && self.duplicate.is_none()
            {
                self.duplicate = Some(ParseError::DuplicateKey {
                    line: k.line,
                    col: k.col,
                    msg: format!("duplicate mapping key: {}", k.display_key()),
                });
            }
            ids.push(id);
        }
        Ok(all
            .into_iter()
            .zip(ids)
            .enumerate()
            .filter(|(i, (_, id))| last.get(id) == Some(i))
            .map(|(_, (entry, _))| entry)
            .collect())
    }
}

/// The first tab PyYAML's scanner refuses, though YAML 1.2 allows it: a
/// tab is taken inside a quoted scalar, inside a block scalar past its
/// indentation, and inside a comment; anywhere else (between tokens, in a
/// plain scalar, as indentation) `safe_load` raises a `ScannerError`.
fn misplaced_tab(src: &str, texts: &[(usize, usize, ScalarStyle)]) -> Option<usize> {
    let line_start = |at: usize| src[..at].rfind('\n').map_or(0, |i| i + 1);
    // The scalar whose text holds `at`, if any.
    let holder = |at: usize| {
        let i = texts.partition_point(|&(from, _, _)| from <= at);
        texts[..i].last().filter(|&&(_, to, _)| at < to).copied()
    };
    let in_comment = |at: usize| {
        let start = line_start(at);
        src[start..at].char_indices().any(|(i, c)| {
            let pos = start + i;
            c == '#' && (i == 0 || src[..pos].ends_with([' ', '\t'])) && holder(pos).is_none()
        })
    };
    src.match_indices('\t').map(|(at, _)| at).find(|&at| {
        let ok = match holder(at) {
            Some((_, _, ScalarStyle::SingleQuoted | ScalarStyle::DoubleQuoted)) => true,
            Some((from, _, ScalarStyle::Literal | ScalarStyle::Folded)) => {
                let indent = from - line_start(from);
                let start = line_start(at);
                src[start..at].bytes().take_while(|&b| b == b' ').count() >= indent
            }
            Some((_, _, ScalarStyle::Plain)) => false,
            None => in_comment(at),
        };
        !ok
    })
}

/// Line, column and byte range of a node's text.
fn position(span: &Span) -> (u64, u64, Option<(usize, usize)>) {
    let (line, col) = line_col(&span.start);
    (
        line,
        col,
        span.start.byte_offset().zip(span.end.byte_offset()),
    )
}

/// `<<` written plain (or under `!`): PyYAML resolves it to the merge tag.
fn is_merge_key(k: &Node) -> bool {
    matches!(&k.kind, NodeKind::Scalar(s) if s.implicit && s.raw == "<<")
}

/// A mapping key as a Python dict compares it: `1`, `1.0` and `true` are
/// one key.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
enum KeyId {
    Null,
    Number(i128),
    Float(u64),
    Str(String),
    Time(String),
    Bytes(String),
    /// NaN equals nothing, not even itself.
    Unique(usize),
}

/// `None` for a key Python cannot hash (a list, dict or set).
fn key_id(k: &Node, index: usize) -> Option<KeyId> {
    let NodeKind::Scalar(s) = &k.kind else {
        return None;
    };
    Some(match &s.py {
        PyValue::Null => KeyId::Null,
        PyValue::Bool(b) => KeyId::Number(i128::from(*b)),
        PyValue::Int(i) => KeyId::Number(*i),
        PyValue::Float(f) if f.is_nan() => KeyId::Unique(index),
        PyValue::Float(f) if f.fract() == 0.0 && f.abs() < 1e30 => KeyId::Number(*f as i128),
        PyValue::Float(f) => KeyId::Float(f.to_bits()),
        PyValue::Str(t) => KeyId::Str(t.clone()),
        PyValue::Timestamp(t) => KeyId::Time(t.clone()),
        PyValue::Bytes(t) => KeyId::Bytes(t.clone()),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn root(src: &str) -> Node {
        parse(src).expect("parses").root.expect("not empty")
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
            parse("a: [1, 2\nc: 3\n"),
            Err(ParseError::Syntax { line: 2, .. })
        ));
        assert!(matches!(
            parse("a:\n\tb: 1\n"),
            Err(ParseError::Syntax { line: 2, .. })
        ));
        let dup = parse("a: 1\na: 2\n").expect("parses");
        assert!(matches!(
            dup.duplicate,
            Some(ParseError::DuplicateKey { line: 2, .. })
        ));
        assert_eq!(
            dup.root.and_then(|r| r.get("a").map(|a| a.line)),
            Some(2),
            "PyYAML keeps the last"
        );
        assert_eq!(parse("# nothing\n").map(|p| p.root), Ok(None));
    }

    #[test]
    fn quoted_text_holding_a_space_hash_is_no_comment() {
        let n = root("a: \"x #y\"\nb: 'x #y' # a comment\n'k #x': |\n  10\n\"j #x\": >\n  yes\n");
        for key in ["a", "b"] {
            assert_eq!(scalar_at(&n, key).style, Style::Quoted);
            assert_eq!(scalar_at(&n, key).py, PyValue::Str("x #y".into()));
        }
        // A block scalar after a quoted key holding ` #` is a string.
        assert_eq!(scalar_at(&n, "k #x").style, Style::Block);
        assert_eq!(scalar_at(&n, "k #x").py, PyValue::Str("10\n".into()));
        assert_eq!(scalar_at(&n, "j #x").py, PyValue::Str("yes\n".into()));
    }

    #[test]
    fn tags_and_anchors_in_any_order_and_place() {
        let n = root(
            "a:\n  !!bool yes\nb: &x\n  !!int 010\nc: *x\nd: !!str &y\n  5\ne:\n  &z !!float 1\nf: *z\ng: !!str\n",
        );
        assert_eq!(scalar_at(&n, "a").py, PyValue::Bool(true));
        assert_eq!(scalar_at(&n, "b").py, PyValue::Int(8));
        assert_eq!(scalar_at(&n, "c").py, PyValue::Int(8));
        assert_eq!(n.get("c").map(|c| c.line), Some(5), "where the alias is");
        assert_eq!(scalar_at(&n, "d").py, PyValue::Str("5".into()));
        assert_eq!(scalar_at(&n, "f").py, PyValue::Float(1.0));
        assert_eq!(scalar_at(&n, "g").py, PyValue::Str(String::new()));
        for key in ["a", "b", "c", "d", "f", "g"] {
            assert_eq!(scalar_at(&n, key).style, Style::Tagged, "{key}");
        }
    }

    #[test]
    fn merge_keys_compose_as_pyyaml_does() {
        let n = root("a: &a {m: 1, n: 1}\nb: &b {m: 2, o: 2}\nc:\n  <<: [*a, *b]\n  n: 3\n");
        let c = n.get("c").expect("c");
        let got: Vec<(String, PyValue)> = match &c.kind {
            NodeKind::Map(e) => e
                .iter()
                .map(|(k, v)| (k.display_key(), v.kind.clone()))
                .map(|(k, v)| match v {
                    NodeKind::Scalar(s) => (k, s.py),
                    other => panic!("{other:?}"),
                })
                .collect(),
            other => panic!("{other:?}"),
        };
        // The first mapping listed wins over the later one; keys written
        // in the mapping win over both.
        assert_eq!(
            got,
            vec![
                ("o".into(), PyValue::Int(2)),
                ("m".into(), PyValue::Int(1)),
                ("n".into(), PyValue::Int(3)),
            ]
        );
        assert!(parse("a: 1\nb:\n  <<: [{x: 1}, 2]\n").is_err());
        assert!(parse("<<: *nothing\n").is_err());
    }

    #[test]
    fn keys_compare_as_python_dict_keys() {
        let p = parse("1: a\n1.0: b\ntrue: c\n.nan: d\n.nan: e\n").expect("parses");
        assert!(matches!(
            p.duplicate,
            Some(ParseError::DuplicateKey { line: 2, .. })
        ));
        match p.root.map(|r| r.kind) {
            // 1, 1.0 and true are one key, the last written; NaN is never
            // equal to itself.
            Some(NodeKind::Map(e)) => assert_eq!(e.len(), 3, "{e:?}"),
            other => panic!("{other:?}"),
        }
        assert!(matches!(
            parse("? [a]\n: 1\n"),
            Err(ParseError::Syntax { line: 1, .. })
        ));
        assert!(matches!(
            parse("a: 1\n---\nb: 2\n"),
            Err(ParseError::Syntax { line: 2, .. })
        ));
        assert_eq!(parse("--- ~\n").map(|p| p.root), Ok(None));
    }

    #[test]
    fn the_budget_refuses_bombs_and_depth() {
        let mut bomb = String::from("a: &a [x, x, x, x, x, x, x, x, x, x]\n");
        for w in ["a", "b", "c", "d", "e"].windows(2) {
            let refs = vec![format!("*{}", w[0]); 10].join(", ");
            bomb.push_str(&format!("{}: &{} [{refs}]\n", w[1], w[1]));
        }
        assert!(matches!(parse(&bomb), Err(ParseError::Budget { .. })));
        let deep = format!("{}{}", "[".repeat(40), "]".repeat(40));
        assert!(matches!(parse(&deep), Err(ParseError::Budget { .. })));
        let fine = format!("{}{}", "[".repeat(30), "]".repeat(30));
        assert!(parse(&fine).is_ok());
    }

    #[test]
    fn tabs_only_where_pyyaml_takes_them() {
        // Each answer is PyYAML 6's `safe_load`.
        let taken = [
            "a: 'x\ty'\n",
            "a: \"x\n\ty\"\n",
            "a: 'x\n  \ty'\n",
            "a: |\n  x\ty\n",
            "a: |\n  \tx\n",
            "a: |\n  x\n  \t\n",
            "a: >\n  x\ty\n  z\n",
            "a: | # c\t\n  x\n",
            "# \tcomment\na: 1\n",
            "#\ta\na: 1\n",
            "a: b # c\td\n",
            "a: 1 #\t\n",
        ];
        for src in taken {
            assert!(parse(src).is_ok(), "{src:?}");
        }
        let refused = [
            "a: 1\t\n",
            "a:\t1\n",
            "a: 1 \t# c\n",
            "a: b\tc\n",
            "a: b \tc\n",
            "\t\na: 1\n",
            "a: |\n\tx\n",
            "a: |\n  x\n \t\n",
            "a: |\t# c\n  x\n",
            "a: [1,\t2]\n",
            "a:\n\t- 1\n",
            "key\t: 1\n",
            "a: b\n  \tc\n",
            "a: b#\tc\n",
        ];
        for src in refused {
            assert!(
                matches!(parse(src), Err(ParseError::Syntax { .. })),
                "{src:?}: {:?}",
                parse(src)
            );
        }
        assert!(matches!(
            parse("a: 1\nb: 2\t\n"),
            Err(ParseError::Syntax {
                line: 2,
                col: 5,
                ..
            })
        ));
    }

    #[test]
    fn line_breaks_only_yaml_11_takes_are_refused() {
        // PyYAML breaks lines at these; YAML 1.2 reads them as text.
        for src in [
            "a: x\u{85}y\n",
            "a\u{2028}b: 1\n",
            "a: 'x\u{2029}y'\n",
            "# c\u{85}d: 1\na: 1\n",
            "a: 1\rb: 2\n",
        ] {
            assert!(
                matches!(parse(src), Err(ParseError::Syntax { line: 1, .. })),
                "{src:?}: {:?}",
                parse(src)
            );
        }
        assert!(parse("a: 1\r\nb: 2\r\n").is_ok());
    }

    #[test]
    fn anchor_names_as_pyyaml_takes_them() {
        assert!(parse("a: &a-b_9 1\nb: *a-b_9\nc: [&c 1, *c]\nd: x?y\n").is_ok());
        for src in [
            "a: &x 1\nb: &x 2\n",
            "a: &a.b 1\n",
            "a: &a' 1\n",
            "a: &>- x\n",
        ] {
            assert!(
                matches!(parse(src), Err(ParseError::Syntax { line: 1 | 2, .. })),
                "{src:?}: {:?}",
                parse(src)
            );
        }
    }

    #[test]
    fn a_left_out_key_is_refused_as_pyyaml_does() {
        for src in [": a\n", "a: 1\n: b\n", "{: a}\n", "a: {: b}\n"] {
            assert!(
                matches!(parse(src), Err(ParseError::Syntax { .. })),
                "{src:?}: {:?}",
                parse(src)
            );
        }
        // After an explicit `?`, an empty key is None to PyYAML.
        assert!(parse("?\n: a\n").is_ok());
        assert!(parse("? \n: a\nb:\n").is_ok());
        for src in ["{\"a\n b\": 1}\n", "{a\n b: 1}\n", "[a\n b: 1]\n"] {
            assert!(
                matches!(parse(src), Err(ParseError::Syntax { .. })),
                "{src:?}: {:?}",
                parse(src)
            );
        }
        assert!(
            parse("? a\n  b\n: 1\n{a: 1,\n b: 2}: 3\n").is_err(),
            "unhashable"
        );
        assert!(parse("? a\n  b\n: 1\nc: {a: 1,\n b: 2}\n").is_ok());
        for src in ["{a\n : 1}\n", "[a\n : 1]\n", "{\"a\"\n # c\n : 1}\n"] {
            assert!(
                matches!(parse(src), Err(ParseError::Syntax { .. })),
                "{src:?}: {:?}",
                parse(src)
            );
        }
        assert!(parse("{? a\n : 1}\n").is_ok());
        assert!(
            parse("[:x]\n").is_err(),
            "PyYAML takes no ':' to start a flow scalar"
        );
        assert!(parse("a: [a:b]\nb: :x\n").is_ok());
        // A flow entry with no `:` is a key with a None value, on any lines.
        assert!(parse("{mode:6\n 5 x}\n").is_ok());
    }
}
