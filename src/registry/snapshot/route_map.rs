//! The snapshot's topic → route map: a fixed two-level fan-out of small hash
//! maps, each shared between snapshots until the writer changes it.
//!
//! It replaced `imbl`'s HAMT, whose nodes allocate their full width (32 slots)
//! however few entries they hold: at 100k and 1M topics most leaf nodes held two
//! or three, and the nodes cost more than the entries (measured with
//! `examples/mem_profile.rs`; see docs/performance/issue15.md, "issue 15: memory"). Here
//! an entry costs its slot in a plain hash map, and a publish copies what it
//! touches: the top array (64 pointers), one middle array (64) and one leaf per
//! changed topic (about topics / 4,096 entries), each at most once per publish.

use std::hash::BuildHasher;
use std::sync::Arc;

use crate::registry::{FastHasher, HashMap};

const BITS: u32 = 6;
const FAN: usize = 1 << BITS;

type Leaf<V> = HashMap<Arc<str>, V>;

#[derive(Clone)]
struct Mid<V> {
    leaves: [Option<Arc<Leaf<V>>>; FAN],
}

/// Topic name → `V`, cheap to clone (a snapshot's copy shares every part).
#[derive(Clone)]
pub struct ShardedMap<V> {
    /// Picks a name's leaf (its own hasher: the leaves hash with theirs).
    hasher: FastHasher,
    top: Arc<[Option<Arc<Mid<V>>>; FAN]>,
    len: usize,
}

impl<V> Default for ShardedMap<V> {
    fn default() -> Self {
        ShardedMap {
            hasher: FastHasher::default(),
            top: Arc::new(std::array::from_fn(|_| None)),
            len: 0,
        }
    }
}

impl<V: Clone + std::fmt::Debug> std::fmt::Debug for ShardedMap<V> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_map().entries(self.iter()).finish()
    }
}

impl<V: Clone> ShardedMap<V> {
    fn slot(&self, key: &str) -> (usize, usize) {
        let h = self.hasher.hash_one(key);
        (
            (h >> (64 - BITS)) as usize,
            (h >> (64 - 2 * BITS)) as usize & (FAN - 1),
        )
    }

    fn leaf(&self, key: &str) -> Option<&Leaf<V>> {
        let (a, b) = self.slot(key);
        self.top[a].as_ref()?.leaves[b].as_deref()
    }

    pub fn get(&self, key: &str) -> Option<&V> {
        self.leaf(key)?.get(key)
    }

    pub fn contains_key(&self, key: &str) -> bool {
        self.get(key).is_some()
    }

    pub fn len(&self) -> usize {
        self.len
    }

    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// Inserts or replaces; copies the parts on the key's path that an older
    /// snapshot still shares.
    pub fn insert(&mut self, key: Arc<str>, value: V) {
        let (a, b) = self.slot(&key);
        let top = Arc::make_mut(&mut self.top);
        let mid = Arc::make_mut(top[a].get_or_insert_with(|| {
            Arc::new(Mid {
                leaves: std::array::from_fn(|_| None),
            })
        }));
        let leaf = Arc::make_mut(mid.leaves[b].get_or_insert_with(Arc::default));
        if leaf.insert(key, value).is_none() {
            self.len += 1;
        }
    }

    /// Removes `key` if present (copying its path only then); an emptied leaf
    /// goes.
    pub fn remove(&mut self, key: &str) {
        if !self.contains_key(key) {
            return;
        }
        let (a, b) = self.slot(key);
        let top = Arc::make_mut(&mut self.top);
        let Some(mid) = top[a].as_mut() else {
            return;
        };
        let mid = Arc::make_mut(mid);
        let Some(leaf) = mid.leaves[b].as_mut() else {
            return;
        };
        let leaf = Arc::make_mut(leaf);
        if leaf.remove(key).is_some() {
            self.len -= 1;
        }
        if leaf.is_empty() {
            mid.leaves[b] = None;
        }
    }

    /// Every entry, in no particular order.
    pub fn iter(&self) -> impl Iterator<Item = (&Arc<str>, &V)> {
        self.top
            .iter()
            .flatten()
            .flat_map(|m| m.leaves.iter().flatten())
            .flat_map(|leaf| leaf.iter())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn snapshots_keep_their_entries_through_changes() {
        let mut m: ShardedMap<u32> = ShardedMap::default();
        for i in 0..10_000u32 {
            m.insert(Arc::from(format!("t{i}")), i);
        }
        let old = m.clone();
        for i in 0..5_000u32 {
            m.remove(&format!("t{i}"));
        }
        m.insert(Arc::from("t9999"), 7);
        m.remove("absent");
        assert_eq!((old.len(), m.len()), (10_000, 5_000));
        assert_eq!(old.iter().count(), 10_000);
        assert_eq!(m.iter().count(), 5_000);
        assert_eq!((old.get("t1"), m.get("t1")), (Some(&1), None));
        assert_eq!((old.get("t9999"), m.get("t9999")), (Some(&9999), Some(&7)));
        for i in 5_000..9_999u32 {
            assert_eq!(m.get(&format!("t{i}")), Some(&i));
        }
    }
}
