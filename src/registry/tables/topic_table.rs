//! The writer's topic table: topic name → [`TopicQueues`], laid out so that it
//! never moves its entries and never holds two copies of itself.
//!
//! The entries (name and queue list, 48 B) live in a slab of fixed chunks,
//! filled in order, and a topic keeps its slot id until it is removed. Lookups by
//! name go through a hash table of bare `u32` ids (4 B a bucket, plus hashbrown's
//! control byte). A hash map keyed by the name held the 48 B entries in its
//! buckets instead: at 1M topics, just past 7/8 of 2^20 buckets, that was 2^21
//! buckets × 49 B = 98 MiB, plus the old 49 MiB table alive while the last
//! resize moved every entry. Here a resize moves only the ids (10 MiB at 1M),
//! the slab grows a 192 KiB chunk at a time, and its pages are touched only as
//! topics arrive.
//!
//! The ids also let the reverse index (broker → topics) hold 4 B per topic
//! instead of a name pointer. Iteration is in slot order; nothing that reaches
//! a client depends on it (upstream's orders come from the chain ranks).

use std::fmt;
use std::hash::BuildHasher;
use std::ops::Index;
use std::sync::Arc;

use hashbrown::HashTable;

use super::super::topic_queues::TopicQueues;
use super::super::FastHasher;

/// A topic's slot in the table, stable while the topic is in it.
pub type TopicId = u32;

const CHUNK_LOG2: u32 = 12;
/// Entries per slab chunk (4096 × 48 B = 192 KiB).
const CHUNK: usize = 1 << CHUNK_LOG2;

type Entry = (Arc<str>, TopicQueues);

#[derive(Default)]
pub struct TopicTable {
    /// Ids of the live entries, hashed by their names.
    index: HashTable<TopicId>,
    /// The entries; `None` for a removed topic's slot (in `free`).
    chunks: Vec<Vec<Option<Entry>>>,
    /// Slots of removed topics, reused before the slab grows.
    free: Vec<TopicId>,
    hasher: FastHasher,
}

impl fmt::Debug for TopicTable {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("TopicTable")
            .field("len", &self.len())
            .field("free", &self.free.len())
            .finish()
    }
}

fn slot(chunks: &[Vec<Option<Entry>>], id: TopicId) -> Option<&Entry> {
    let id = id as usize;
    chunks
        .get(id >> CHUNK_LOG2)?
        .get(id & (CHUNK - 1))?
        .as_ref()
}

fn slot_mut(chunks: &mut [Vec<Option<Entry>>], id: TopicId) -> Option<&mut Option<Entry>> {
    let id = id as usize;
    chunks.get_mut(id >> CHUNK_LOG2)?.get_mut(id & (CHUNK - 1))
}

impl TopicTable {
    pub fn len(&self) -> usize {
        self.index.len()
    }

    #[cfg(test)]
    pub fn is_empty(&self) -> bool {
        self.index.is_empty()
    }

    /// The id of a topic in the table.
    pub fn id(&self, topic: &str) -> Option<TopicId> {
        let hash = self.hasher.hash_one(topic);
        let chunks = &self.chunks;
        self.index
            .find(hash, |&i| {
                slot(chunks, i).is_some_and(|(n, _)| &**n == topic)
            })
            .copied()
    }

    pub fn contains_key(&self, topic: &str) -> bool {
        self.id(topic).is_some()
    }

    pub fn get(&self, topic: &str) -> Option<&TopicQueues> {
        self.get_key_value(topic).map(|(_, q)| q)
    }

    pub fn get_key_value(&self, topic: &str) -> Option<(&Arc<str>, &TopicQueues)> {
        self.entry(self.id(topic)?)
    }

    /// The entry at `id` (None for a removed topic's slot).
    pub fn entry(&self, id: TopicId) -> Option<(&Arc<str>, &TopicQueues)> {
        slot(&self.chunks, id).map(|(n, q)| (n, q))
    }

    pub fn entry_mut(&mut self, id: TopicId) -> Option<(&Arc<str>, &mut TopicQueues)> {
        let (n, q) = slot_mut(&mut self.chunks, id)?.as_mut()?;
        Some((&*n, q))
    }

    /// The name at `id` (the table's one allocation of it).
    pub fn name(&self, id: TopicId) -> Option<&Arc<str>> {
        self.entry(id).map(|(n, _)| n)
    }

    /// Adds a topic that is not in the table; returns its id.
    pub fn insert_new(&mut self, name: Arc<str>, queues: TopicQueues) -> TopicId {
        debug_assert!(!self.contains_key(&name));
        let hash = self.hasher.hash_one(&*name);
        let id = match self.free.pop() {
            Some(id) => {
                if let Some(s) = slot_mut(&mut self.chunks, id) {
                    *s = Some((name, queues));
                }
                id
            }
            None => {
                if self.chunks.last().is_none_or(|c| c.len() == CHUNK) {
                    self.chunks.push(Vec::with_capacity(CHUNK));
                }
                // u32 ids: 4 billion topics is far beyond any estate's memory.
                let id = ((self.chunks.len() - 1) * CHUNK) as TopicId;
                let last = self.chunks.last_mut().expect("a chunk was pushed above");
                let id = id + last.len() as TopicId;
                last.push(Some((name, queues)));
                id
            }
        };
        let TopicTable {
            index,
            chunks,
            hasher,
            ..
        } = self;
        // A resize rehashes each id by its name.
        index.insert_unique(hash, id, |&i| {
            slot(chunks, i).map_or(0, |(n, _)| hasher.hash_one(&**n))
        });
        id
    }

    /// Takes a topic out; its slot is reused by a later insert.
    pub fn remove(&mut self, topic: &str) -> Option<(TopicId, TopicQueues)> {
        let hash = self.hasher.hash_one(topic);
        let TopicTable {
            index,
            chunks,
            free,
            ..
        } = self;
        let found = index.find_entry(hash, |&i| {
            slot(chunks, i).is_some_and(|(n, _)| &**n == topic)
        });
        let (id, _) = found.ok()?.remove();
        let (_, queues) = slot_mut(chunks, id)?.take()?;
        free.push(id);
        Some((id, queues))
    }

    /// Every entry, in slot order.
    pub fn iter(&self) -> impl Iterator<Item = (&Arc<str>, &TopicQueues)> {
        self.chunks
            .iter()
            .flatten()
            .filter_map(|s| s.as_ref().map(|(n, q)| (n, q)))
    }

    pub fn iter_mut(&mut self) -> impl Iterator<Item = (&Arc<str>, &mut TopicQueues)> {
        self.chunks
            .iter_mut()
            .flatten()
            .filter_map(|s| s.as_mut().map(|(n, q)| (&*n, q)))
    }

    pub fn keys(&self) -> impl Iterator<Item = &Arc<str>> {
        self.iter().map(|(n, _)| n)
    }

    #[cfg(test)]
    pub fn values(&self) -> impl Iterator<Item = &TopicQueues> {
        self.iter().map(|(_, q)| q)
    }
}

impl Index<&str> for TopicTable {
    type Output = TopicQueues;

    /// Panics if the topic is absent, as `HashMap`'s index does (tests only).
    fn index(&self, topic: &str) -> &TopicQueues {
        self.get(topic).expect("topic in the table")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Ids stay put across removals and index resizes; a removed slot is reused.
    #[test]
    fn ids_are_stable_and_slots_reused() {
        let mut t = TopicTable::default();
        let ids: Vec<TopicId> = (0..10_000)
            .map(|i| t.insert_new(Arc::from(format!("T{i}")), TopicQueues::new(i)))
            .collect();
        assert_eq!(ids[9_999], 9_999);
        assert_eq!(t.len(), 10_000);
        let (gone, q) = t.remove("T4097").expect("present");
        assert_eq!((gone, q.chain_rank), (4097, 4097));
        assert_eq!(t.remove("T4097").map(|(i, _)| i), None);
        assert_eq!(t.len(), 9_999);
        assert_eq!(t.entry(4097).map(|(n, _)| n.to_string()), None);
        for i in [0u32, 4096, 9_999] {
            assert_eq!(t.id(&format!("T{i}")), Some(i));
            assert_eq!(t["T0"].chain_rank, 0);
            assert_eq!(t.name(i).map(|n| n.to_string()), Some(format!("T{i}")));
        }
        assert_eq!(t.insert_new(Arc::from("new"), TopicQueues::new(7)), 4097);
        assert_eq!(t.get("new").map(|q| q.chain_rank), Some(7));
        assert_eq!(t.keys().count(), 10_000);
        assert_eq!(t.iter_mut().count(), 10_000);
    }
}
