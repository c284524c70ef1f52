//! Java's hash tables as the NameServer's output shows them.
//!
//! fastjson writes a Java `HashMap` / `ConcurrentHashMap` (and their sets) in the
//! table's iteration order, so byte parity needs Java's hashing and bucket walk.

use std::cmp::Ordering;

use crate::json::Dialect;

/// Java's `String.hashCode` (over UTF-16 code units).
pub fn java_string_hash(s: &str) -> i32 {
    s.encode_utf16()
        .fold(0i32, |h, u| h.wrapping_mul(31).wrapping_add(i32::from(u)))
}

/// Java's `Long.hashCode`.
pub fn java_long_hash(v: i64) -> i32 {
    (v ^ ((v as u64) >> 32) as i64) as i32
}

/// Java's `Integer.hashCode` (the value itself); here for symmetry.
pub fn java_int_hash(v: i32) -> i32 {
    v
}

const MAX_TABLE: usize = 1 << 30;

/// How a Java map (or set) was built. Iteration order walks the table's buckets,
/// so the order depends on the final table size, which depends on the map class,
/// its constructor and the most entries it ever held (tables never shrink).
/// Sizing follows JDK 17, the runtime of upstream's 5.x releases.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum JavaTable {
    /// `new HashMap<>()` / `new HashSet<>()` filled by `put`: 16, doubled while
    /// `n > 0.75 * cap`.
    HashMap,
    /// `new HashMap<>(initialCapacity)` filled by `put` (also `new HashSet<>(c)`,
    /// which is `new HashMap<>(max((int)(c.size()/.75f) + 1, 16))`).
    HashMapWith(usize),
    /// `new HashMap<>(otherMap)`, or `putAll` into a still-empty `new HashMap<>()`:
    /// pre-sized to `tableSizeFor((int)(n / 0.75f + 1))`.
    HashMapCopy,
    /// `new ConcurrentHashMap<>()` / `ConcurrentHashMap.newKeySet()` filled by
    /// `put`: 16, doubled while `n >= 0.75 * cap` (it resizes one entry earlier).
    ConcurrentHashMap,
    /// `new ConcurrentHashMap<>(initialCapacity)`:
    /// `tableSizeFor(1 + c / 0.75)`, then grown as above.
    ConcurrentHashMapWith(usize),
}

/// `HashMap.tableSizeFor`: the smallest power of two >= `c` (at least 1).
fn table_size_for(c: usize) -> usize {
    c.max(1)
        .checked_next_power_of_two()
        .unwrap_or(MAX_TABLE)
        .min(MAX_TABLE)
}

impl JavaTable {
    /// The table size (bucket count) after `n` distinct keys went in.
    pub fn capacity(self, n: usize) -> usize {
        let initial = self.initial_capacity(n);
        if self.is_concurrent() {
            chm_grow(initial, n)
        } else {
            hashmap_grow(initial, n)
        }
    }

    /// Whether this is a `ConcurrentHashMap` (its resize reorders chains).
    pub fn is_concurrent(self) -> bool {
        matches!(
            self,
            JavaTable::ConcurrentHashMap | JavaTable::ConcurrentHashMapWith(_)
        )
    }

    /// The bucket count before any key went in; `n` (the entries copied) matters
    /// only to [`JavaTable::HashMapCopy`].
    pub fn initial_capacity(self, n: usize) -> usize {
        match self {
            JavaTable::HashMap | JavaTable::ConcurrentHashMap => 16,
            JavaTable::HashMapWith(initial) => table_size_for(initial),
            JavaTable::HashMapCopy => {
                // Float arithmetic as in `HashMap#putMapEntries` (JDK 17).
                let ft = n as f32 / 0.75f32 + 1.0f32;
                let t = if ft < MAX_TABLE as f32 {
                    ft as usize
                } else {
                    MAX_TABLE
                };
                table_size_for(t)
            }
            JavaTable::ConcurrentHashMapWith(initial) => {
                // JDK 17's `ConcurrentHashMap(int)`: `this(c, 0.75f, 1)`, which sizes
                // for `1 + c / 0.75` entries (in long arithmetic after a float divide).
                let size = (1.0f64 + (initial.max(1) as f32 / 0.75f32) as f64) as usize;
                if size >= MAX_TABLE {
                    MAX_TABLE
                } else {
                    table_size_for(size)
                }
            }
        }
    }
}

/// HashMap resizes once `size > threshold`, threshold = `(int)(cap * 0.75)`.
fn hashmap_grow(mut cap: usize, n: usize) -> usize {
    while cap < MAX_TABLE && n > cap * 3 / 4 {
        cap *= 2;
    }
    cap
}

/// ConcurrentHashMap resizes once `size >= sizeCtl`, sizeCtl = `cap - cap/4`.
fn chm_grow(mut cap: usize, n: usize) -> usize {
    while cap < MAX_TABLE && n >= cap - cap / 4 {
        cap *= 2;
    }
    cap
}

/// The bucket a key with Java hash `hash` lands in (`h ^ h >>> 16`, masked).
pub fn java_bucket(hash: i32, capacity: usize) -> usize {
    let h = hash as u32;
    ((h ^ (h >> 16)) as usize) & (capacity.max(1) - 1)
}

/// Reorders `items` into the iteration order of a Java `HashMap` filled with these
/// keys in the order given (capacity as grown from 16 by inserts). `hash` is the
/// key's Java `hashCode`.
pub fn java_hash_order<T>(items: &mut [T], hash: impl Fn(&T) -> i32) {
    java_hash_order_in(items, JavaTable::HashMap, hash);
}

/// Reorders `items`, distinct keys in insertion order, into the iteration order of
/// a fresh table built as `table` describes and filled by `put` in that order.
pub fn java_hash_order_in<T>(items: &mut [T], table: JavaTable, hash: impl Fn(&T) -> i32) {
    if items.len() < 2 {
        return;
    }
    if !table.is_concurrent() {
        // HashMap#resize splits a bin keeping its order, so the final table's
        // buckets with insertion order inside them is the whole story.
        let cap = table.capacity(items.len());
        items.sort_by_cached_key(|it| java_bucket(hash(it), cap));
        return;
    }
    let hashes: Vec<i32> = items.iter().map(&hash).collect();
    let mut ranks: Vec<u64> = Vec::with_capacity(items.len());
    let mut chains = Chains::new(table, items.len());
    for i in 0..items.len() {
        ranks.push(chains.next_rank());
        while let Some(old_cap) = chains.grow() {
            let next = transfer(&hashes[..=i], &mut ranks, old_cap);
            chains.set_next_rank(next);
        }
    }
    let cap = chains.capacity();
    let mut keyed: Vec<(usize, u64, usize)> = (0..items.len())
        .map(|i| (java_bucket(hashes[i], cap), ranks[i], i))
        .collect();
    keyed.sort_unstable();
    apply_permutation(items, keyed.into_iter().map(|(_, _, i)| i).collect());
}

/// Moves `items[order[k]]` to position `k`.
fn apply_permutation<T>(items: &mut [T], mut order: Vec<usize>) {
    // Cycle walk: each swap puts one item in its final place.
    for start in 0..order.len() {
        let mut cur = start;
        while order[cur] != start {
            let next = order[cur];
            items.swap(cur, next);
            order[cur] = cur;
            cur = next;
        }
        order[cur] = cur;
    }
}

/// The growth state of one Java table: its bucket count (grown from the most
/// entries it ever held) and the rank the next new key gets. A key's place in its
/// bucket's chain is its rank's order among the bucket's keys: `put` of a new key
/// appends to the chain, `remove` unlinks, a re-put of a removed key appends again.
#[derive(Debug, Clone)]
pub struct Chains {
    concurrent: bool,
    cap: u32,
    len: u32,
    next_rank: u64,
}

impl Chains {
    /// A fresh table as `table` builds it (`copied`: the entries a
    /// [`JavaTable::HashMapCopy`] is sized for).
    pub fn new(table: JavaTable, copied: usize) -> Chains {
        Chains {
            concurrent: table.is_concurrent(),
            cap: table.initial_capacity(copied) as u32,
            len: 0,
            next_rank: 0,
        }
    }

    pub fn capacity(&self) -> usize {
        self.cap as usize
    }

    pub fn len(&self) -> usize {
        self.len as usize
    }

    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// A new key goes in: its rank. Follow with [`Chains::grow`] until `None`.
    pub fn next_rank(&mut self) -> u64 {
        self.len = self.len.saturating_add(1);
        let rank = self.next_rank;
        self.next_rank += 1;
        rank
    }

    /// A key left the table (its bucket count stays).
    pub fn removed(&mut self) {
        self.len = self.len.saturating_sub(1);
    }

    /// Doubles the table if the entries now call for it. For a ConcurrentHashMap
    /// returns the old bucket count: the caller re-ranks every key with
    /// [`transfer`] and hands back the next rank with [`Chains::set_next_rank`].
    /// A HashMap keeps every chain's order when it splits, so ranks stand.
    pub fn grow(&mut self) -> Option<usize> {
        let cap = self.cap as usize;
        if cap >= MAX_TABLE {
            return None;
        }
        let grows = if self.concurrent {
            // ConcurrentHashMap#addCount: `s >= sizeCtl`, sizeCtl = n - n/4.
            self.len as usize >= cap - cap / 4
        } else {
            // HashMap#putVal: `++size > threshold`, threshold = (int)(n * 0.75).
            self.len as usize > cap * 3 / 4
        };
        if !grows {
            return None;
        }
        self.cap *= 2;
        if self.concurrent {
            Some(cap)
        } else {
            // The split may call for another doubling (tiny tables only).
            self.grow()
        }
    }

    /// After a [`transfer`]: the rank past the re-ranked keys.
    pub fn set_next_rank(&mut self, next: u64) {
        self.next_rank = next;
    }

    /// The bucket `hash` lands in now.
    pub fn bucket(&self, hash: i32) -> usize {
        java_bucket(hash, self.cap as usize)
    }
}

/// Re-ranks the keys of a ConcurrentHashMap as `ConcurrentHashMap#transfer`
/// rebuilds each bin when the table doubles from `old_cap`: the longest tail of
/// the chain whose keys all go to the same half (`lastRun`) moves as it is, and
/// every key before it is prepended to its half's new chain, so those come out
/// reversed. `hashes[i]` and `ranks[i]` belong to one key; returns the rank past
/// the new ones.
pub fn transfer(hashes: &[i32], ranks: &mut [u64], old_cap: usize) -> u64 {
    let mut order: Vec<usize> = (0..hashes.len()).collect();
    order.sort_unstable_by_key(|&i| (java_bucket(hashes[i], old_cap), ranks[i]));
    let high = |i: usize| {
        let h = hashes[i] as u32;
        ((h ^ (h >> 16)) as usize) & old_cap != 0
    };
    let mut next = 0u64;
    let mut start = 0;
    while start < order.len() {
        let bin_of = java_bucket(hashes[order[start]], old_cap);
        let len = order[start..]
            .iter()
            .take_while(|&&i| java_bucket(hashes[i], old_cap) == bin_of)
            .count();
        let bin = &order[start..start + len];
        let run_bit = high(bin[len - 1]);
        let last_run = len
            - bin
                .iter()
                .rev()
                .take_while(|&&i| high(i) == run_bit)
                .count();
        for half in [false, true] {
            for &i in bin[..last_run].iter().rev().filter(|&&i| high(i) == half) {
                ranks[i] = next;
                next += 1;
            }
            if run_bit == half {
                for &i in &bin[last_run..] {
                    ranks[i] = next;
                    next += 1;
                }
            }
        }
        start += len;
    }
    next
}

/// Java's `String.compareTo`: UTF-16 code unit order (differs from Rust's byte
/// order only between supplementary characters and U+E000..U+FFFF).
pub fn java_string_cmp(a: &str, b: &str) -> Ordering {
    if a.is_ascii() && b.is_ascii() {
        return a.cmp(b);
    }
    a.encode_utf16().cmp(b.encode_utf16())
}

/// Orders String-keyed map entries as the dialect writes them: Java hash order of
/// a map built as `table` (legacy) or sorted (`MapSortField`, standard).
pub fn order_str_keys<K: AsRef<str>, V>(
    entries: &mut [(K, V)],
    dialect: Dialect,
    table: JavaTable,
) {
    match dialect {
        Dialect::Legacy => {
            java_hash_order_in(entries, table, |(k, _)| java_string_hash(k.as_ref()))
        }
        Dialect::Standard => {
            entries.sort_by(|(a, _), (b, _)| java_string_cmp(a.as_ref(), b.as_ref()))
        }
    }
}

/// Orders Long-keyed map entries as the dialect writes them.
pub fn order_long_keys<V>(entries: &mut [(i64, V)], dialect: Dialect, table: JavaTable) {
    match dialect {
        Dialect::Legacy => java_hash_order_in(entries, table, |(k, _)| java_long_hash(*k)),
        Dialect::Standard => entries.sort_by_key(|(k, _)| *k),
    }
}

/// Orders Integer-keyed map entries as the dialect writes them.
pub fn order_int_keys<V>(entries: &mut [(i32, V)], dialect: Dialect, table: JavaTable) {
    match dialect {
        Dialect::Legacy => java_hash_order_in(entries, table, |(k, _)| java_int_hash(*k)),
        Dialect::Standard => entries.sort_by_key(|(k, _)| *k),
    }
}

/// Orders the elements of a Java `Set<String>` as fastjson writes it: iteration
/// order in both dialects (`MapSortField` sorts maps, not sets). Duplicates are
/// dropped, keeping the first.
pub fn order_str_set<S: AsRef<str>>(items: &mut Vec<S>, table: JavaTable) {
    let mut seen = std::collections::HashSet::with_capacity(items.len());
    items.retain(|s| seen.insert(s.as_ref().to_owned()));
    java_hash_order_in(items, table, |s| java_string_hash(s.as_ref()));
}

/// A map that knows the iteration order its Java counterpart would have: each
/// value carries its key's rank in its bucket's chain (see [`Chains`]). Lookups
/// are the inner map's; the Java order costs a sort, paid only by [`JavaMap::ordered`].
#[derive(Debug, Clone)]
pub struct JavaMap<K, V, S = std::collections::hash_map::RandomState> {
    chains: Chains,
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
            chains: Chains::new(table, 0),
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
    /// Returns the old value, and whether a ConcurrentHashMap resize re-ranked
    /// every key (iteration order may have changed for all of them).
    pub fn insert(&mut self, k: K, v: V) -> (Option<V>, bool) {
        if let Some((old, _)) = self.map.get_mut(&k) {
            return (Some(std::mem::replace(old, v)), false);
        }
        let rank = self.chains.next_rank();
        self.map.insert(k, (v, rank));
        let mut reranked = false;
        while let Some(old_cap) = self.chains.grow() {
            self.rerank(old_cap);
            reranked = true;
        }
        (None, reranked)
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
        let hashes: Vec<i32> = self.map.keys().map(JavaHash::java_hash).collect();
        let mut ranks: Vec<u64> = self.map.values().map(|(_, r)| *r).collect();
        let next = transfer(&hashes, &mut ranks, old_cap);
        // Same map, not mutated in between: values_mut walks the same order.
        for ((_, r), new) in self.map.values_mut().zip(ranks) {
            *r = new;
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

    /// The entry Java's iterator yields first.
    pub fn first(&self) -> Option<(&K, &V)> {
        self.map
            .iter()
            .min_by_key(|(k, (_, r))| (self.chains.bucket(k.java_hash()), *r))
            .map(|(k, (v, _))| (k, v))
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
