//! Hashing of series identities.
//!
//! std's default hasher (SipHash) took a tenth of a parse: every sample
//! line's identity is hashed for the duplicate check, and every bucket
//! line's to find its histogram. foldhash is several times faster on short
//! strings. Its seed is random per process, so no body can be written to
//! make two series collide on purpose; a collision, however unlikely, reads
//! as a duplicate series: an error on that line, which holds the gate as
//! unknown, never a lost sample counted as healthy.

use std::hash::{BuildHasherDefault, Hasher};

/// The hasher for identities: one per parse, so that every line of a body
/// is hashed with the same seed.
pub type Seeded = foldhash::fast::RandomState;

/// For maps and sets keyed by a hash already taken: the key is its own
/// hash, not hashed again.
pub type Prehashed = BuildHasherDefault<Identity>;

/// See [`Prehashed`].
#[derive(Debug, Default, Clone, Copy)]
pub struct Identity(u64);

impl Hasher for Identity {
    fn finish(&self) -> u64 {
        self.0
    }

    fn write(&mut self, bytes: &[u8]) {
        // Only u64 keys are expected; any other input is still hashed
        // (folded), never refused.
        for &b in bytes {
            self.0 = self.0.rotate_left(8) ^ u64::from(b);
        }
    }

    fn write_u64(&mut self, v: u64) {
        self.0 = v;
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashSet;
    use std::hash::BuildHasher;

    #[test]
    fn one_seed_hashes_alike_and_keys_are_their_own_hash() {
        let seed = Seeded::default();
        assert_eq!(seed.hash_one("a{b=\"c\"}"), seed.hash_one("a{b=\"c\"}"));
        assert_ne!(seed.hash_one("a{b=\"c\"}"), seed.hash_one("a{b=\"d\"}"));
        let mut set: HashSet<u64, Prehashed> = HashSet::default();
        assert!(set.insert(42));
        assert!(!set.insert(42));
        assert_eq!(Prehashed::default().hash_one(7_u64), 7);
    }
}
