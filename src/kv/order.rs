//! A String-keyed map that remembers what a Java `HashMap` filled by the same
//! puts and removes would iterate in (upstream's `KVConfigManager` keeps
//! `HashMap<String, HashMap<String, String>>`, and fastjson writes maps in
//! iteration order).
//!
//! A `HashMap` walks its buckets in index order; keys sharing a bucket come in
//! the order they were linked in, which is insertion order: a new key goes to
//! its chain's tail, a re-put of a present key keeps its place, a removed then
//! re-put key goes to the tail again, and `HashMap#resize` splits each chain into
//! two keeping their relative order. The table never shrinks. So each entry
//! keeps an insertion rank, the map keeps its table size, and the iteration
//! order is (bucket at that size, rank). Not modelled: a chain of 8 or more keys
//! in a table of 64 or more buckets becomes a tree (`HashMap#treeifyBin`), whose
//! later insertions are linked after their tree parent, not at the tail.

use std::collections::BTreeMap;

use protocol::java_table::{java_bucket, java_string_hash};

/// `HashMap`'s table size before its first resize.
const INITIAL_TABLE: usize = 16;
/// `HashMap`'s largest table (`MAXIMUM_CAPACITY`).
const MAX_TABLE: usize = 1 << 30;

/// A map with the iteration order of a Java `HashMap` (see the module doc).
#[derive(Debug, Clone)]
pub struct JavaOrdered<V> {
    entries: BTreeMap<String, (V, u64)>,
    next_rank: u64,
    /// The Java table's bucket count, as grown by the most entries ever held.
    table: usize,
}

impl<V> Default for JavaOrdered<V> {
    fn default() -> Self {
        JavaOrdered {
            entries: BTreeMap::new(),
            next_rank: 0,
            table: INITIAL_TABLE,
        }
    }
}

/// Equal when they hold the same entries (the order is a matter of history:
/// a reloaded store holds the same entries, yet its tables may be sized anew).
impl<V: PartialEq> PartialEq for JavaOrdered<V> {
    fn eq(&self, other: &Self) -> bool {
        self.iter().eq(other.iter())
    }
}

impl<V: Eq> Eq for JavaOrdered<V> {}

impl<V> JavaOrdered<V> {
    /// An empty map as `new HashMap<>()` makes it.
    pub fn new() -> Self {
        Self::default()
    }

    /// An empty map whose table already has `table` buckets (a power of two),
    /// e.g. a `HashMap` pre-sized by `putAll`.
    fn with_table(table: usize) -> Self {
        JavaOrdered {
            table: table.clamp(1, MAX_TABLE),
            ..Self::default()
        }
    }

    pub fn len(&self) -> usize {
        self.entries.len()
    }

    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    pub fn get(&self, key: &str) -> Option<&V> {
        self.entries.get(key).map(|(v, _)| v)
    }

    pub fn get_mut(&mut self, key: &str) -> Option<&mut V> {
        self.entries.get_mut(key).map(|(v, _)| v)
    }

    pub fn contains_key(&self, key: &str) -> bool {
        self.entries.contains_key(key)
    }

    /// `HashMap#put`: a present key keeps its place, a new one goes last in its
    /// bucket (and may grow the table). Returns the previous value.
    pub fn insert(&mut self, key: String, value: V) -> Option<V> {
        if let Some((old, _)) = self.entries.get_mut(&key) {
            return Some(std::mem::replace(old, value));
        }
        self.entries.insert(key, (value, self.next_rank));
        self.next_rank += 1;
        // `HashMap#putVal`: resize once size > threshold (0.75 of the table).
        while self.table < MAX_TABLE && self.entries.len() > self.table * 3 / 4 {
            self.table *= 2;
        }
        None
    }

    /// The value at `key`, inserting `make()` first when absent.
    pub fn get_or_insert_with(&mut self, key: &str, make: impl FnOnce() -> V) -> &mut V {
        if !self.entries.contains_key(key) {
            self.insert(key.to_string(), make());
        }
        match self.entries.get_mut(key) {
            Some((v, _)) => v,
            None => unreachable!("inserted above"),
        }
    }

    /// `HashMap#remove` (the table keeps its size).
    pub fn remove(&mut self, key: &str) -> Option<V> {
        self.entries.remove(key).map(|(v, _)| v)
    }

    /// Entries in key order (for counting; not what Java iterates).
    pub fn iter(&self) -> impl Iterator<Item = (&String, &V)> {
        self.entries.iter().map(|(k, (v, _))| (k, v))
    }

    /// Entries in the Java `HashMap`'s iteration order.
    pub fn java_order(&self) -> impl Iterator<Item = (&String, &V)> {
        let mut ranked: Vec<(usize, u64, &String, &V)> = self
            .entries
            .iter()
            .map(|(k, (v, rank))| (java_bucket(java_string_hash(k), self.table), *rank, k, v))
            .collect();
        ranked.sort_unstable_by_key(|&(bucket, rank, _, _)| (bucket, rank));
        ranked.into_iter().map(|(_, _, k, v)| (k, v))
    }

    /// What `new HashMap<>().putAll(self)` holds (`HashMap#putMapEntries`: the
    /// table pre-sized for the entries, filled in this map's iteration order).
    pub fn java_put_all_copy(self) -> Self {
        let n = self.entries.len();
        // Float arithmetic as in `putMapEntries`.
        let wanted = (n as f32 / 0.75f32 + 1.0f32) as usize;
        let mut table = wanted
            .max(1)
            .checked_next_power_of_two()
            .unwrap_or(MAX_TABLE);
        table = table.min(MAX_TABLE);
        let order: Vec<String> = self.java_order().map(|(k, _)| k.clone()).collect();
        let mut entries = self.entries;
        let mut copy = Self::with_table(table);
        for k in order {
            if let Some((v, _)) = entries.remove(&k) {
                copy.insert(k, v);
            }
        }
        copy
    }
}

impl<V> FromIterator<(String, V)> for JavaOrdered<V> {
    /// Puts in the given order into `new HashMap<>()`.
    fn from_iter<I: IntoIterator<Item = (String, V)>>(iter: I) -> Self {
        let mut m = Self::new();
        for (k, v) in iter {
            m.insert(k, v);
        }
        m
    }
}

impl<V, W: Into<V>, const N: usize> From<[(String, W); N]> for JavaOrdered<V> {
    /// Puts in array order into `new HashMap<>()`.
    fn from(entries: [(String, W); N]) -> Self {
        entries.into_iter().map(|(k, w)| (k, w.into())).collect()
    }
}

impl<V> From<BTreeMap<String, V>> for JavaOrdered<V> {
    /// Puts in key order into `new HashMap<>()`.
    fn from(entries: BTreeMap<String, V>) -> Self {
        entries.into_iter().collect()
    }
}
