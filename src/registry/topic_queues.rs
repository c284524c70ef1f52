//! One topic's queue list as the writer's tables keep it and snapshots share it: a
//! compact slot per broker, in upstream's iteration order, with the broker name
//! interned (shared by every topic of that broker).

use std::sync::Arc;

use protocol::body::QueueData;
use protocol::java_table::{java_bucket, java_string_hash};

use super::HashSet;

/// One topic's QueueData, one slot per broker, plus the topic's rank in its chain
/// of upstream's topicQueueTable.
///
/// Upstream keeps them in a `new HashMap<>()` per topic
/// (`RouteInfoManager#createAndUpdateQueueData`), whose iteration order routes
/// show. The slots are kept in that order: by bucket, each bucket's chain by
/// rank (a new broker goes to the tail of its chain; the table's size, never
/// shrinking, is kept as its log2). So publishing takes the slots as they are,
/// without a sort or a copy: the snapshot's entry shares this `Arc` (the writer
/// copies it on its next change, `Arc::make_mut`), and a topic's queue list
/// exists once. A lookup by name is a binary search for the name's bucket, then
/// a walk of its chain (mostly one slot).
#[derive(Debug, Clone)]
pub struct TopicQueues {
    /// The topic's rank in its chain of upstream's topicQueueTable (a
    /// ConcurrentHashMap; see `Tables::put_queue`), rewritten when that table
    /// resizes; the topic-list codes show it.
    pub chain_rank: u64,
    slots: Arc<[QueueSlot]>,
    /// The rank the next new broker of this topic gets (appended to its chain).
    next_rank: u32,
    /// log2 of the per-topic HashMap's bucket count (0 read as 16).
    cap_log2: u8,
}

/// A QueueData whose broker name is interned: one allocation per broker, not
/// per (topic, broker).
#[derive(Debug, Clone)]
pub struct QueueSlot {
    broker: Arc<str>,
    /// Java `hashCode` of the broker name (its bucket in the per-topic map).
    hash: i32,
    /// Place in the per-topic HashMap's bucket chain (lower first).
    rank: u32,
    perm: i32,
    read_queue_nums: i32,
    topic_sys_flag: i32,
    write_queue_nums: i32,
}

impl QueueSlot {
    pub fn broker_name(&self) -> &str {
        &self.broker
    }

    pub fn perm(&self) -> i32 {
        self.perm
    }

    pub fn topic_sys_flag(&self) -> i32 {
        self.topic_sys_flag
    }

    pub fn to_queue_data(&self) -> QueueData {
        QueueData {
            broker_name: self.broker.to_string(),
            perm: self.perm,
            read_queue_nums: self.read_queue_nums,
            topic_sys_flag: self.topic_sys_flag,
            write_queue_nums: self.write_queue_nums,
        }
    }

    fn numbers(&self) -> (i32, i32, i32, i32) {
        (
            self.perm,
            self.read_queue_nums,
            self.topic_sys_flag,
            self.write_queue_nums,
        )
    }
}

fn numbers_of(qd: &QueueData) -> (i32, i32, i32, i32) {
    (
        qd.perm,
        qd.read_queue_nums,
        qd.topic_sys_flag,
        qd.write_queue_nums,
    )
}

impl TopicQueues {
    /// An empty queue list for a topic entering the table with `chain_rank`.
    pub(super) fn new(chain_rank: u64) -> TopicQueues {
        TopicQueues {
            chain_rank,
            slots: Arc::new([]),
            next_rank: 0,
            cap_log2: 4,
        }
    }

    /// The per-topic HashMap's bucket count (`new HashMap<>()`: 16, doubled once
    /// it holds more than 3/4 of it; tables never shrink).
    fn capacity(&self) -> usize {
        1usize << self.cap_log2.max(4)
    }

    fn bucket(&self, hash: i32) -> usize {
        java_bucket(hash, self.capacity())
    }

    /// A new broker goes to the tail of its chain: its rank.
    fn next_rank(&mut self) -> u32 {
        if self.next_rank == u32::MAX {
            self.compact_ranks();
        }
        let rank = self.next_rank;
        self.next_rank += 1;
        rank
    }

    /// Renumbers ranks 0.. keeping their order (only after 4 billion re-adds).
    fn compact_ranks(&mut self) {
        let mut slots = self.slots.to_vec();
        let mut order: Vec<usize> = (0..slots.len()).collect();
        order.sort_unstable_by_key(|&i| slots[i].rank);
        for (rank, i) in order.into_iter().enumerate() {
            slots[i].rank = rank as u32;
        }
        self.slots = slots.into();
        self.next_rank = self.slots.len() as u32;
    }

    /// Sets one broker's QueueData; a new broker's name is taken from `interned`
    /// (added there on first sight).
    pub(super) fn put(&mut self, qd: &QueueData, interned: &mut HashSet<Arc<str>>) -> Put {
        let hash = java_string_hash(&qd.broker_name);
        match self.find_hashed(&qd.broker_name, hash) {
            Ok(i) if self.slots[i].numbers() == numbers_of(qd) => Put::Same,
            Ok(i) => {
                // Copies the list only while a snapshot still shares it.
                let slot = &mut Arc::make_mut(&mut self.slots)[i];
                (
                    slot.perm,
                    slot.read_queue_nums,
                    slot.topic_sys_flag,
                    slot.write_queue_nums,
                ) = numbers_of(qd);
                Put::Changed
            }
            Err(i) => {
                let slot = QueueSlot {
                    broker: intern(interned, &qd.broker_name),
                    hash,
                    rank: self.next_rank(),
                    perm: qd.perm,
                    read_queue_nums: qd.read_queue_nums,
                    topic_sys_flag: qd.topic_sys_flag,
                    write_queue_nums: qd.write_queue_nums,
                };
                let old = &self.slots;
                self.slots = old[..i]
                    .iter()
                    .cloned()
                    .chain(std::iter::once(slot))
                    .chain(old[i..].iter().cloned())
                    .collect();
                // HashMap#putVal: `++size > threshold` doubles the table.
                let cap_before = self.cap_log2;
                while self.slots.len() > self.capacity() * 3 / 4 && self.cap_log2 < 30 {
                    self.cap_log2 = self.cap_log2.max(4) + 1;
                }
                if self.cap_log2 != cap_before {
                    self.reorder();
                }
                Put::NewBroker
            }
        }
    }

    /// The table doubled: slots move to their buckets in the new table, each
    /// chain keeping its rank order (`HashMap#resize` splits chains in order).
    fn reorder(&mut self) {
        let cap = self.capacity();
        let mut slots = self.slots.to_vec();
        slots.sort_unstable_by_key(|q| (java_bucket(q.hash, cap), q.rank));
        self.slots = slots.into();
    }

    /// The slot of `broker_name`, or where a new one goes (the tail of its
    /// bucket's chain).
    fn find_hashed(&self, broker_name: &str, hash: i32) -> Result<usize, usize> {
        let bucket = self.bucket(hash);
        let first = self.slots.partition_point(|q| self.bucket(q.hash) < bucket);
        let mut i = first;
        while i < self.slots.len() && self.bucket(self.slots[i].hash) == bucket {
            if &*self.slots[i].broker == broker_name {
                return Ok(i);
            }
            i += 1;
        }
        Err(i)
    }

    fn find(&self, broker_name: &str) -> Option<usize> {
        self.find_hashed(broker_name, java_string_hash(broker_name))
            .ok()
    }

    pub fn get(&self, broker_name: &str) -> Option<QueueData> {
        self.find(broker_name)
            .map(|i| self.slots[i].to_queue_data())
    }

    pub fn contains_key(&self, broker_name: &str) -> bool {
        self.find(broker_name).is_some()
    }

    /// Broker names in upstream's iteration order (`queueDataMap.keySet()`).
    pub fn keys(&self) -> impl Iterator<Item = &str> {
        self.slots.iter().map(|q| q.broker.as_ref())
    }

    /// Broker names in upstream's iteration order.
    #[cfg(test)]
    pub fn java_keys(&self) -> Vec<&str> {
        self.keys().collect()
    }

    /// The slots in upstream's iteration order (`queueDataMap.values()`;
    /// `keySet()` walks the same order), shared, not copied.
    pub fn java_slots(&self) -> Arc<[QueueSlot]> {
        self.slots.clone()
    }

    /// The QueueData in upstream's iteration order (`new
    /// ArrayList<>(queueDataMap.values())`), owned: the reference encoder's input.
    #[cfg(test)]
    pub fn java_queue_datas(&self) -> Vec<QueueData> {
        self.slots.iter().map(QueueSlot::to_queue_data).collect()
    }

    pub fn len(&self) -> usize {
        self.slots.len()
    }

    pub fn is_empty(&self) -> bool {
        self.slots.is_empty()
    }

    /// Removes a broker's queues; says whether it had any.
    pub(super) fn remove(&mut self, broker_name: &str) -> bool {
        let Some(i) = self.find(broker_name) else {
            return false;
        };
        // An emptied list is dropped whole by the caller (`Tables::remove_queue`).
        let old = &self.slots;
        self.slots = old[..i].iter().chain(&old[i + 1..]).cloned().collect();
        true
    }
}

/// The shared copy of `name`, made on first sight.
pub(super) fn intern(names: &mut HashSet<Arc<str>>, name: &str) -> Arc<str> {
    if let Some(n) = names.get(name) {
        return n.clone();
    }
    let n: Arc<str> = Arc::from(name);
    names.insert(n.clone());
    n
}

/// What [`TopicQueues::put`] did to a topic.
#[derive(PartialEq, Eq)]
pub(super) enum Put {
    Same,
    Changed,
    NewBroker,
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The order kept incrementally is the one a sort by (bucket, rank) gives,
    /// through adds, updates, removals and re-adds across table resizes.
    #[test]
    fn kept_order_is_the_sorted_java_order() {
        let mut q = TopicQueues::new(0);
        let mut interned = HashSet::default();
        let mut seed = 0x9e37_79b9_7f4a_7c15u64;
        for step in 0..4000 {
            seed ^= seed << 13;
            seed ^= seed >> 7;
            seed ^= seed << 17;
            let name = format!("broker-{}", seed % 61);
            if seed.is_multiple_of(5) {
                q.remove(&name);
            } else {
                let qd = QueueData {
                    broker_name: name,
                    perm: (seed % 7) as i32,
                    read_queue_nums: 8,
                    topic_sys_flag: 0,
                    write_queue_nums: 8,
                };
                q.put(&qd, &mut interned);
            }
            let cap = q.capacity();
            let mut sorted = q.slots.to_vec();
            sorted
                .sort_unstable_by_key(|s| (java_bucket(java_string_hash(&s.broker), cap), s.rank));
            let want: Vec<&str> = sorted.iter().map(|s| &*s.broker).collect();
            assert_eq!(q.java_keys(), want, "step {step}");
            for s in q.slots.iter() {
                assert!(q.contains_key(&s.broker), "step {step}");
            }
        }
    }
}
