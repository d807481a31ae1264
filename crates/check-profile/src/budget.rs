//! What a profile may cost to parse. The real canary profile has a few
//! hundred events; these limits refuse alias bombs and pathological nesting
//! in milliseconds instead of composing them.

use thiserror::Error;

const MAX_EVENTS: usize = 200_000;
/// Nodes composed, an alias counted as every node it repeats.
const MAX_NODES: usize = 50_000;
const MAX_DEPTH: usize = 32;
const MAX_ALIASES: usize = 1_000;
const MAX_ANCHORS: usize = 1_000;
const MAX_MERGE_KEYS: usize = 1_000;
/// Nodes repeated by aliases, across the document.
const MAX_REPLAYED: usize = 20_000;
const MAX_SCALAR_BYTES: usize = 4 << 20;

/// The limit a document broke.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Error)]
pub(crate) enum Breach {
    #[error("budget breached: more than {MAX_EVENTS} parser events")]
    Events,
    #[error(
        "budget breached: more than {MAX_NODES} nodes, aliases counted as the nodes they repeat"
    )]
    Nodes,
    #[error("budget breached: nested deeper than {MAX_DEPTH} levels")]
    Depth,
    #[error("budget breached: more than {MAX_ALIASES} aliases")]
    Aliases,
    #[error("budget breached: more than {MAX_ANCHORS} anchors")]
    Anchors,
    #[error("budget breached: more than {MAX_MERGE_KEYS} merge keys")]
    MergeKeys,
    #[error("budget breached: aliases repeat more than {MAX_REPLAYED} nodes")]
    Replayed,
    #[error("budget breached: more than {MAX_SCALAR_BYTES} bytes of scalar text")]
    ScalarBytes,
}

/// Running totals for one document.
#[derive(Debug, Default)]
pub(crate) struct Budget {
    events: usize,
    nodes: usize,
    aliases: usize,
    anchors: usize,
    merge_keys: usize,
    replayed: usize,
    scalar_bytes: usize,
}

fn within(total: usize, max: usize, breach: Breach) -> Result<(), Breach> {
    if total > max { Err(breach) } else { Ok(()) }
}

impl Budget {
    pub(crate) fn event(&mut self) -> Result<(), Breach> {
        self.events += 1;
        within(self.events, MAX_EVENTS, Breach::Events)
    }

    pub(crate) fn node(&mut self, count: usize) -> Result<(), Breach> {
        self.nodes = self.nodes.saturating_add(count);
        within(self.nodes, MAX_NODES, Breach::Nodes)
    }

    /// A collection opened at nesting `depth` (1 for the root).
    pub(crate) fn open(&self, depth: usize) -> Result<(), Breach> {
        within(depth, MAX_DEPTH, Breach::Depth)
    }

    /// An alias repeating `size` nodes.
    pub(crate) fn alias(&mut self, size: usize) -> Result<(), Breach> {
        self.aliases += 1;
        within(self.aliases, MAX_ALIASES, Breach::Aliases)?;
        self.replayed = self.replayed.saturating_add(size);
        within(self.replayed, MAX_REPLAYED, Breach::Replayed)
    }

    pub(crate) fn anchor(&mut self) -> Result<(), Breach> {
        self.anchors += 1;
        within(self.anchors, MAX_ANCHORS, Breach::Anchors)
    }

    pub(crate) fn merge_key(&mut self) -> Result<(), Breach> {
        self.merge_keys += 1;
        within(self.merge_keys, MAX_MERGE_KEYS, Breach::MergeKeys)
    }

    pub(crate) fn scalar(&mut self, bytes: usize) -> Result<(), Breach> {
        self.scalar_bytes = self.scalar_bytes.saturating_add(bytes);
        within(self.scalar_bytes, MAX_SCALAR_BYTES, Breach::ScalarBytes)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_limit_is_exclusive_of_its_maximum() {
        let mut b = Budget::default();
        assert_eq!(b.node(MAX_NODES), Ok(()));
        assert_eq!(b.node(1), Err(Breach::Nodes));
        assert_eq!(b.open(MAX_DEPTH), Ok(()));
        assert_eq!(b.open(MAX_DEPTH + 1), Err(Breach::Depth));
        let mut b = Budget::default();
        assert_eq!(b.alias(MAX_REPLAYED), Ok(()));
        assert_eq!(b.alias(1), Err(Breach::Replayed));
        let mut b = Budget::default();
        assert_eq!(b.scalar(MAX_SCALAR_BYTES), Ok(()));
        assert_eq!(b.scalar(1), Err(Breach::ScalarBytes));
    }
}
