//! A map that carries its Java counterpart's iteration order.

use super::{java_int_hash, java_long_hash, java_string_hash, transfer, JavaTable, TableGrowth};

/// A map that knows the iteration order its Java counterpart would have: each
/// value carries its key's rank in its bucket's chain (see [`TableGrowth`]). Lookups
/// are the inner map's; the Java order costs a sort, paid only by [`JavaMap::ordered`].
#[derive(Debug, Clone)]
pub struct JavaMap<K, V, S = std::collections::hash_map::RandomState> {
    chains: TableGrowth,
    map: std::collections::HashMap<K, (V, u64), S>,
}

/// Java's `hashCode` of a key type the NameServer's tables use.
pub trait JavaHash {
    fn java_hash(&self) -> i32;
}

impl JavaHash for String {
    fn java_hash(&self) -> i32 {
        java_string_hash(self)
    }
}

impl JavaHash for str {
    fn java_hash(&self) -> i32 {
        java_string_hash(self)
    }
}

impl JavaHash for i64 {
    fn java_hash(&self) -> i32 {
        java_long_hash(*self)
    }
}

impl JavaHash for i32 {
    fn java_hash(&self) -> i32 {
        java_int_hash(*self)
    }
}

impl<K, V, S> JavaMap<K, V, S>
where
    K: std::hash::Hash + Eq + JavaHash,
    S: std::hash::BuildHasher + Default,
{
    /// An empty map as `table` builds it.
    pub fn new(table: JavaTable) -> Self {
        JavaMap {
            chains: TableGrowth::new(table, 0),
            map: std::collections::HashMap::default(),
        }
    }

    pub fn len(&self) -> usize {
        self.map.len()
    }

    pub fn is_empty(&self) -> bool {
        self.map.is_empty()
    }

    /// The Java table's bucket count.
    pub fn capacity(&self) -> usize {
        self.chains.capacity()
    }

    pub fn get<Q>(&self, k: &Q) -> Option<&V>
    where
        K: std::borrow::Borrow<Q>,
        Q: std::hash::Hash + Eq + ?Sized,
    {
        self.map.get(k).map(|(v, _)| v)
    }

    pub fn get_mut<Q>(&mut self, k: &Q) -> Option<&mut V>
    where
        K: std::borrow::Borrow<Q>,
        Q: std::hash::Hash + Eq + ?Sized,
    {
        self.map.get_mut(k).map(|(v, _)| v)
    }

    pub fn contains_key<Q>(&self, k: &Q) -> bool
    where
        K: std::borrow::Borrow<Q>,
        Q: std::hash::Hash + Eq + ?Sized,
    {
        self.map.contains_key(k)
    }

    /// `put`: a present key keeps its place; a new one goes to its chain's tail.
    /// Returns the old value, and whether the table resized: then every key's
    /// [`JavaMap::order_key`] may have moved (a HashMap's keys change bucket, a
    /// ConcurrentHashMap's are re-ranked as well).
    pub fn insert(&mut self, k: K, v: V) -> (Option<V>, bool) {
        if let Some((old, _)) = self.map.get_mut(&k) {
            return (Some(std::mem::replace(old, v)), false);
        }
        let rank = self.chains.next_rank();
        self.map.insert(k, (v, rank));
        let cap = self.chains.capacity();
        while let Some(old_cap) = self.chains.grow() {
            self.rerank(old_cap);
        }
        (None, self.chains.capacity() != cap)
    }

    /// The value of `k`, put with `make()` first if absent (see [`JavaMap::insert`]).
    pub fn get_or_insert_with(&mut self, k: K, make: impl FnOnce() -> V) -> &mut V
    where
        K: Clone,
    {
        if !self.map.contains_key(&k) {
            self.insert(k.clone(), make());
        }
        match self.map.get_mut(&k) {
            Some((v, _)) => v,
            None => unreachable!("inserted above"),
        }
    }

    fn rerank(&mut self, old_cap: usize) {
        // One pass pairs each hash with its rank, so no two walks of the map
        // have to agree on their order.
        let (hashes, mut slots): (Vec<i32>, Vec<&mut u64>) = self
            .map
            .iter_mut()
            .map(|(k, (_, r))| (k.java_hash(), r))
            .unzip();
        let mut ranks: Vec<u64> = slots.iter().map(|r| **r).collect();
        let next = transfer(&hashes, &mut ranks, old_cap);
        for (slot, rank) in slots.iter_mut().zip(ranks) {
            **slot = rank;
        }
        self.chains.set_next_rank(next);
    }

    pub fn remove<Q>(&mut self, k: &Q) -> Option<V>
    where
        K: std::borrow::Borrow<Q>,
        Q: std::hash::Hash + Eq + ?Sized,
    {
        let (v, _) = self.map.remove(k)?;
        self.chains.removed();
        Some(v)
    }

    /// Entries in no particular order (for lookups and scans).
    pub fn iter(&self) -> impl Iterator<Item = (&K, &V)> {
        self.map.iter().map(|(k, (v, _))| (k, v))
    }

    pub fn values(&self) -> impl Iterator<Item = &V> {
        self.map.values().map(|(v, _)| v)
    }

    pub fn values_mut(&mut self) -> impl Iterator<Item = &mut V> {
        self.map.values_mut().map(|(v, _)| v)
    }

    pub fn keys(&self) -> impl Iterator<Item = &K> {
        self.map.keys()
    }

    /// Keeps the entries `keep` says yes to (each removal unlinks, as `remove`).
    pub fn retain(&mut self, mut keep: impl FnMut(&K, &mut V) -> bool) {
        let before = self.map.len();
        self.map.retain(|k, (v, _)| keep(k, v));
        for _ in self.map.len()..before {
            self.chains.removed();
        }
    }

    /// Where `k` sits in the Java table's iteration order: (bucket, rank in its
    /// chain). Entries sort by it as [`JavaMap::ordered`] lists them. It stays
    /// put until [`JavaMap::insert`] reports a resize (any table kind), when
    /// every key's may move; removals move no other key.
    pub fn order_key<Q>(&self, k: &Q) -> Option<(usize, u64)>
    where
        K: std::borrow::Borrow<Q>,
        Q: std::hash::Hash + Eq + JavaHash + ?Sized,
    {
        let (_, rank) = self.map.get(k)?;
        Some((self.chains.bucket(k.java_hash()), *rank))
    }

    /// Entries in the Java table's iteration order.
    pub fn ordered(&self) -> Vec<(&K, &V)> {
        let mut all: Vec<(usize, u64, &K, &V)> = self
            .map
            .iter()
            .map(|(k, (v, r))| (self.chains.bucket(k.java_hash()), *r, k, v))
            .collect();
        all.sort_unstable_by_key(|(b, r, _, _)| (*b, *r));
        all.into_iter().map(|(_, _, k, v)| (k, v)).collect()
    }
}

impl<K, V, S> Default for JavaMap<K, V, S>
where
    K: std::hash::Hash + Eq + JavaHash,
    S: std::hash::BuildHasher + Default,
{
    /// `new HashMap<>()`.
    fn default() -> Self {
        JavaMap::new(JavaTable::HashMap)
    }
}

/// Copies and content: what a table built from another one holds.
impl<K, V, S> JavaMap<K, V, S>
where
    K: std::hash::Hash + Eq + JavaHash,
    S: std::hash::BuildHasher + Default,
{
    /// This map's entries put, in this map's iteration order, into a fresh
    /// table built as `table` and sized for them: with
    /// [`JavaTable::HashMapCopy`], `new HashMap<>(m)` or `putAll` into an empty
    /// `new HashMap<>()` (`HashMap#putMapEntries`).
    pub fn copied(self, table: JavaTable) -> Self {
        let JavaMap { chains, map } = self;
        let mut all: Vec<(usize, u64, K, V)> = map
            .into_iter()
            .map(|(k, (v, r))| (chains.bucket(k.java_hash()), r, k, v))
            .collect();
        all.sort_unstable_by_key(|(b, r, _, _)| (*b, *r));
        let mut copy = JavaMap {
            chains: TableGrowth::new(table, all.len()),
            map: std::collections::HashMap::with_capacity_and_hasher(all.len(), S::default()),
        };
        for (_, _, k, v) in all {
            copy.insert(k, v);
        }
        copy
    }
}

/// Equal when they hold the same entries: the iteration order is a matter of
/// history (a reloaded store holds the same entries in tables sized anew).
impl<K, V, S> PartialEq for JavaMap<K, V, S>
where
    K: std::hash::Hash + Eq,
    V: PartialEq,
    S: std::hash::BuildHasher,
{
    fn eq(&self, other: &Self) -> bool {
        self.map.len() == other.map.len()
            && self
                .map
                .iter()
                .all(|(k, (v, _))| other.map.get(k).is_some_and(|(w, _)| v == w))
    }
}

impl<K, V, S> Eq for JavaMap<K, V, S>
where
    K: std::hash::Hash + Eq,
    V: Eq,
    S: std::hash::BuildHasher,
{
}

impl<K, V, S> FromIterator<(K, V)> for JavaMap<K, V, S>
where
    K: std::hash::Hash + Eq + JavaHash,
    S: std::hash::BuildHasher + Default,
{
    /// Puts in the given order into `new HashMap<>()`.
    fn from_iter<I: IntoIterator<Item = (K, V)>>(iter: I) -> Self {
        let mut m = Self::default();
        for (k, v) in iter {
            m.insert(k, v);
        }
        m
    }
}

impl<K, V, W, S, const N: usize> From<[(K, W); N]> for JavaMap<K, V, S>
where
    K: std::hash::Hash + Eq + JavaHash,
    W: Into<V>,
    S: std::hash::BuildHasher + Default,
{
    /// Puts in array order into `new HashMap<>()`.
    fn from(entries: [(K, W); N]) -> Self {
        entries.into_iter().map(|(k, w)| (k, w.into())).collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Fills `table` one key at a time; at each insert, checks that every other
    /// key's `order_key` stayed unless the insert reported a resize. Returns the
    /// inserts that reported one.
    fn resizes_reported(table: JavaTable, n: usize) -> Vec<usize> {
        let mut m: JavaMap<String, usize> = JavaMap::new(table);
        let mut reported = Vec::new();
        for i in 0..n {
            let before: Vec<(String, Option<(usize, u64)>)> =
                m.keys().map(|k| (k.clone(), m.order_key(k))).collect();
            let cap = m.capacity();
            let (old, resized) = m.insert(format!("broker-{i}"), i);
            assert_eq!(old, None);
            assert_eq!(resized, m.capacity() != cap, "insert {i}");
            if resized {
                reported.push(i);
                // Some key really moved: why a reader must rebuild every place.
                assert!(before.iter().any(|(k, key)| m.order_key(k) != *key));
            } else {
                for (k, key) in &before {
                    assert_eq!(m.order_key(k), *key, "{k} moved at insert {i}");
                }
            }
        }
        reported
    }

    #[test]
    fn insert_reports_every_resize_that_moves_order_keys() {
        // `new HashMap<>()`: 16 → 32 at the 13th key, → 64 at the 25th. Its
        // ranks stand, but the buckets move: still a resize to report.
        assert_eq!(resizes_reported(JavaTable::HashMap, 50), vec![12, 24, 48]);
        // `new ConcurrentHashMap<>()`: one key earlier, and re-ranked.
        assert_eq!(
            resizes_reported(JavaTable::ConcurrentHashMap, 50),
            vec![11, 23, 47]
        );
    }

    #[test]
    fn a_present_key_and_a_removal_move_no_key() {
        let mut m: JavaMap<String, usize> = JavaMap::new(JavaTable::HashMap);
        for i in 0..12 {
            m.insert(format!("b{i}"), i);
        }
        let keys: Vec<_> = (0..12).map(|i| m.order_key(&format!("b{i}"))).collect();
        assert_eq!(m.insert("b3".to_string(), 99), (Some(3), false));
        assert_eq!(m.remove("b5"), Some(5));
        for (i, key) in keys.iter().enumerate().filter(|(i, _)| *i != 5) {
            assert_eq!(m.order_key(&format!("b{i}")), *key);
        }
    }
}
