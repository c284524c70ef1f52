//! One table's growth and its keys' places in their chains.

use super::{java_bucket, JavaTable, MAX_TABLE};

/// The growth state of one Java table: its bucket count (grown from the most
/// entries it ever held) and the rank the next new key gets. A key's place in its
/// bucket's chain is its rank's order among the bucket's keys: `put` of a new key
/// appends to the chain, `remove` unlinks, a re-put of a removed key appends again.
#[derive(Debug, Clone)]
pub struct TableGrowth {
    concurrent: bool,
    cap: u32,
    len: u32,
    next_rank: u64,
}

impl TableGrowth {
    /// A fresh table as `table` builds it (`copied`: the entries a
    /// [`JavaTable::HashMapCopy`] is sized for).
    pub fn new(table: JavaTable, copied: usize) -> TableGrowth {
        TableGrowth {
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

    /// A new key goes in: its rank. Follow with [`TableGrowth::grow`] until `None`.
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
    /// [`transfer`] and hands back the next rank with [`TableGrowth::set_next_rank`].
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
