//! Java's hash tables as the NameServer's output shows them.
//!
//! fastjson writes a Java `HashMap` / `ConcurrentHashMap` (and their sets) in the
//! table's iteration order, so byte parity needs Java's hashing and bucket walk.

use std::cmp::Ordering;

use crate::json::Dialect;

mod chains;
mod map;

pub use chains::{transfer, TableGrowth};
pub use map::{JavaHash, JavaMap};

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
    let mut chains = TableGrowth::new(table, items.len());
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
