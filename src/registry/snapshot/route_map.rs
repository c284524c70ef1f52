//! The snapshot's topic → route map: a fixed two-level fan-out (256 × 256) of
//! small sorted slices, each shared between snapshots until the writer changes it.
//!
//! Why this shape (measured with `examples/mem_profile.rs` and heaptrack; see
//! docs/performance/issue15.md, "issue 15: memory"):
//! - `imbl`'s HAMT allocated every node at full width (32 slots) however few
//!   entries it held, so at 100k–1M topics the nodes cost more than the entries;
//! - 64 × 64 leaves of hash maps fixed that, but a 10,000-topic registration
//!   touched every one of the 4,096 leaves at 1M topics, so each publish copied
//!   the whole map (~52 MB, tables at half load) while the old snapshot held the
//!   previous copy.
//!
//! Here a leaf is an exact-sized slice sorted by hash (an entry costs its 32
//! bytes: hash, name, value; a leaf one allocation), and 65,536 leaves keep them
//! small (about 15 entries at 1M topics): a publish copies the top array, the middle arrays its
//! topics reach and one leaf per changed topic, each at most once, i.e. about
//! what it changes.

use std::hash::BuildHasher;
use std::sync::Arc;

use crate::registry::FastHasher;

const TOP_BITS: u32 = 8;
const MID_BITS: u32 = 8;
const TOP: usize = 1 << TOP_BITS;
const MID: usize = 1 << MID_BITS;

/// An entry with its name's hash, which the search compares instead of the name:
/// comparing names reads each probed name's heap memory, a cache miss apiece, and
/// that doubled the writer's CPU in a 1M-topic fill (perf, memory step).
type Entry<V> = (u64, Arc<str>, V);

/// Entries of one hash slot, sorted by (hash, name); never empty (an emptied
/// leaf goes).
type Leaf<V> = Arc<[Entry<V>]>;

struct Mid<V> {
    leaves: [Option<Leaf<V>>; MID],
}

impl<V> Clone for Mid<V> {
    fn clone(&self) -> Self {
        // Shares every leaf: only the array is copied.
        Mid {
            leaves: self.leaves.clone(),
        }
    }
}

/// Topic name → `V`, cheap to clone (a snapshot's copy shares every part).
#[derive(Clone)]
pub struct ShardedMap<V> {
    /// Picks a name's leaf.
    hasher: FastHasher,
    top: Arc<[Option<Arc<Mid<V>>>; TOP]>,
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

/// Where `key` (of hash `h`) is in `leaf`, or where it would go.
fn find<V>(leaf: &[Entry<V>], h: u64, key: &str) -> Result<usize, usize> {
    leaf.binary_search_by(|(eh, k, _)| eh.cmp(&h).then_with(|| (**k).cmp(key)))
}

impl<V: Clone> ShardedMap<V> {
    /// The key's hash and its leaf's indices (the hash's top bits).
    fn slot(&self, key: &str) -> (u64, usize, usize) {
        let h = self.hasher.hash_one(key);
        (
            h,
            (h >> (64 - TOP_BITS)) as usize,
            (h >> (64 - TOP_BITS - MID_BITS)) as usize & (MID - 1),
        )
    }

    pub fn get(&self, key: &str) -> Option<&V> {
        let (h, a, b) = self.slot(key);
        let leaf = self.top[a].as_ref()?.leaves[b].as_deref()?;
        find(leaf, h, key).ok().map(|i| &leaf[i].2)
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
    /// snapshot still shares (a new key always makes its leaf anew, one longer).
    pub fn insert(&mut self, key: Arc<str>, value: V) {
        let (h, a, b) = self.slot(&key);
        let top = Arc::make_mut(&mut self.top);
        let mid = Arc::make_mut(top[a].get_or_insert_with(|| {
            Arc::new(Mid {
                leaves: std::array::from_fn(|_| None),
            })
        }));
        let slot = &mut mid.leaves[b];
        let Some(leaf) = slot else {
            *slot = Some(Arc::new([(h, key, value)]));
            self.len += 1;
            return;
        };
        match find(leaf, h, &key) {
            Ok(i) => {
                // Copies the leaf only if an older snapshot shares it.
                Arc::make_mut(leaf)[i].2 = value;
            }
            Err(i) => {
                let grown: Leaf<V> = leaf[..i]
                    .iter()
                    .cloned()
                    .chain(std::iter::once((h, key, value)))
                    .chain(leaf[i..].iter().cloned())
                    .collect();
                *leaf = grown;
                self.len += 1;
            }
        }
    }

    /// Removes `key` if present (copying its path only then); an emptied leaf
    /// goes.
    pub fn remove(&mut self, key: &str) {
        let (h, a, b) = self.slot(key);
        let Some(i) = self.top[a]
            .as_ref()
            .and_then(|m| m.leaves[b].as_deref())
            .and_then(|leaf| find(leaf, h, key).ok())
        else {
            return;
        };
        let top = Arc::make_mut(&mut self.top);
        let Some(mid) = top[a].as_mut() else {
            return;
        };
        let mid = Arc::make_mut(mid);
        let slot = &mut mid.leaves[b];
        let Some(leaf) = slot else {
            return;
        };
        *slot = if leaf.len() == 1 {
            None
        } else {
            Some(leaf[..i].iter().chain(&leaf[i + 1..]).cloned().collect())
        };
        self.len -= 1;
    }

    /// Every entry, in no particular order.
    pub fn iter(&self) -> impl Iterator<Item = (&Arc<str>, &V)> {
        self.top
            .iter()
            .flatten()
            .flat_map(|m| m.leaves.iter().flatten())
            .flat_map(|leaf| leaf.iter().map(|(_, k, v)| (k, v)))
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

    /// A tiny xorshift: the same operations on every run.
    fn next(state: &mut u64) -> u64 {
        *state ^= *state << 13;
        *state ^= *state >> 7;
        *state ^= *state << 17;
        *state
    }

    #[test]
    fn agrees_with_a_hash_map_through_random_changes() {
        let mut m: ShardedMap<u64> = ShardedMap::default();
        let mut model: std::collections::HashMap<String, u64> = Default::default();
        let mut state = 0x9e37_79b9_7f4a_7c15u64;
        let mut kept = Vec::new();
        // 300k keys over 65,536 leaves: several per leaf, so inserts land before,
        // between and after existing entries, and leaves empty and refill.
        for round in 0..300_000u64 {
            let r = next(&mut state);
            let key = format!("topic-{}", r % 200_000);
            if r.is_multiple_of(5) {
                m.remove(&key);
                model.remove(&key);
            } else {
                m.insert(Arc::from(key.as_str()), round);
                model.insert(key, round);
            }
            if round.is_multiple_of(100_000) {
                kept.push((m.clone(), model.clone()));
            }
        }
        kept.push((m, model));
        for (m, model) in &kept {
            assert_eq!(m.len(), model.len());
            let mut seen: Vec<(String, u64)> = m.iter().map(|(k, v)| (k.to_string(), *v)).collect();
            let mut want: Vec<(String, u64)> = model.iter().map(|(k, v)| (k.clone(), *v)).collect();
            seen.sort();
            want.sort();
            assert_eq!(seen, want);
            for i in 0..200_000u64 {
                let key = format!("topic-{i}");
                assert_eq!(m.get(&key), model.get(&key), "{key}");
            }
        }
    }

    /// Leaves (by address) that `a` and `b` share.
    fn shared_leaves<V>(a: &ShardedMap<V>, b: &ShardedMap<V>) -> (usize, usize) {
        let leaves = |m: &ShardedMap<V>| -> Vec<*const Entry<V>> {
            m.top
                .iter()
                .flatten()
                .flat_map(|mid| mid.leaves.iter().flatten())
                .map(|leaf| leaf.as_ptr())
                .collect()
        };
        let (la, lb) = (leaves(a), leaves(b));
        let lb: std::collections::HashSet<_> = lb.into_iter().collect();
        (la.iter().filter(|p| lb.contains(p)).count(), la.len())
    }

    #[test]
    fn a_change_copies_only_the_leaves_it_touches() {
        let mut m: ShardedMap<u32> = ShardedMap::default();
        for i in 0..100_000u32 {
            m.insert(Arc::from(format!("t{i}")), i);
        }
        let old = m.clone();
        // 100 new keys and 100 replaced values: exactly their leaves change.
        let mut touched = std::collections::HashSet::new();
        for i in 0..100u32 {
            let (new, replaced) = (format!("new{i}"), format!("t{i}"));
            let leaf = |key: &str| {
                let (_, a, b) = m.slot(key);
                (a, b)
            };
            touched.extend([leaf(&new), leaf(&replaced)]);
            m.insert(Arc::from(new), i);
            m.insert(Arc::from(replaced), i + 1);
        }
        let (shared, total) = shared_leaves(&m, &old);
        assert_eq!(total - shared, touched.len());
        assert_eq!(old.get("t5"), Some(&5));
        assert_eq!(m.get("t5"), Some(&6));
        assert_eq!((old.get("new5"), m.get("new5")), (None, Some(&5)));
    }
}
