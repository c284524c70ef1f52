//! One topic's queue list as the writer's tables keep it: a compact, sorted slot
//! per broker with the broker name interned (shared by every topic of that broker).

use std::sync::Arc;

use protocol::body::QueueData;
use protocol::java_table::{java_bucket, java_string_hash};

use super::HashSet;

/// One topic's QueueData, by broker name, plus the topic's rank in its chain of
/// upstream's topicQueueTable.
///
/// A short Vec sorted by broker name (so lookups binary-search): most topics live
/// on a handful of brokers, and a BTreeMap's first node alone costs about 700
/// bytes, which at a million topics was most of the tables. Upstream keeps them in
/// a `new HashMap<>()` per topic (`RouteInfoManager#createAndUpdateQueueData`),
/// whose iteration order routes show: each slot carries its rank in its bucket's
/// chain, and the table's size (never shrinking) is kept as its log2.
#[derive(Debug, Default, Clone)]
pub struct TopicQueues {
    /// The topic's rank in its chain of upstream's topicQueueTable (a
    /// ConcurrentHashMap; see `Tables::put_queue`), rewritten when that table
    /// resizes; the topic-list codes show it.
    pub chain_rank: u64,
    queues: Vec<QueueSlot>,
    /// The rank the next new broker of this topic gets (appended to its chain).
    next_rank: u32,
    /// log2 of the per-topic HashMap's bucket count (0 read as 16).
    cap_log2: u8,
}

/// A QueueData whose broker name is interned: one allocation per broker, not
/// per (topic, broker), and the names a search compares stay in cache.
#[derive(Debug, Clone)]
struct QueueSlot {
    broker: Arc<str>,
    /// Place in the per-topic HashMap's bucket chain (lower first).
    rank: u32,
    perm: i32,
    read_queue_nums: i32,
    topic_sys_flag: i32,
    write_queue_nums: i32,
}

impl QueueSlot {
    fn to_queue_data(&self) -> QueueData {
        QueueData {
            broker_name: self.broker.to_string(),
            perm: self.perm,
            read_queue_nums: self.read_queue_nums,
            topic_sys_flag: self.topic_sys_flag,
            write_queue_nums: self.write_queue_nums,
        }
    }

    /// Takes the numbers of `qd` (same broker); says whether any changed.
    fn update(&mut self, qd: &QueueData) -> bool {
        let new = (
            qd.perm,
            qd.read_queue_nums,
            qd.topic_sys_flag,
            qd.write_queue_nums,
        );
        let old = (
            self.perm,
            self.read_queue_nums,
            self.topic_sys_flag,
            self.write_queue_nums,
        );
        (
            self.perm,
            self.read_queue_nums,
            self.topic_sys_flag,
            self.write_queue_nums,
        ) = new;
        new != old
    }
}

impl TopicQueues {
    /// An empty queue list for a topic entering the table with `chain_rank`.
    pub(super) fn new(chain_rank: u64) -> TopicQueues {
        TopicQueues {
            chain_rank,
            queues: Vec::with_capacity(1),
            next_rank: 0,
            cap_log2: 4,
        }
    }

    /// The per-topic HashMap's bucket count (`new HashMap<>()`: 16, doubled once
    /// it holds more than 3/4 of it; tables never shrink).
    fn capacity(&self) -> usize {
        1usize << self.cap_log2.max(4)
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
        let mut order: Vec<usize> = (0..self.queues.len()).collect();
        order.sort_unstable_by_key(|&i| self.queues[i].rank);
        for (rank, i) in order.into_iter().enumerate() {
            self.queues[i].rank = rank as u32;
        }
        self.next_rank = self.queues.len() as u32;
    }

    /// Sets one broker's QueueData; a new broker's name is taken from `interned`
    /// (added there on first sight).
    pub(super) fn put(&mut self, qd: &QueueData, interned: &mut HashSet<Arc<str>>) -> Put {
        match self.find(&qd.broker_name) {
            Ok(i) if self.queues[i].update(qd) => Put::Changed,
            Ok(_) => Put::Same,
            Err(i) => {
                let slot = QueueSlot {
                    broker: intern(interned, &qd.broker_name),
                    rank: self.next_rank(),
                    perm: qd.perm,
                    read_queue_nums: qd.read_queue_nums,
                    topic_sys_flag: qd.topic_sys_flag,
                    write_queue_nums: qd.write_queue_nums,
                };
                self.queues.insert(i, slot);
                // HashMap#putVal: `++size > threshold` doubles the table.
                while self.queues.len() > self.capacity() * 3 / 4 && self.cap_log2 < 30 {
                    self.cap_log2 = self.cap_log2.max(4) + 1;
                }
                Put::NewBroker
            }
        }
    }

    fn find(&self, broker_name: &str) -> Result<usize, usize> {
        self.queues
            .binary_search_by(|q| q.broker.as_ref().cmp(broker_name))
    }

    pub fn get(&self, broker_name: &str) -> Option<QueueData> {
        self.find(broker_name)
            .ok()
            .map(|i| self.queues[i].to_queue_data())
    }

    pub fn contains_key(&self, broker_name: &str) -> bool {
        self.find(broker_name).is_ok()
    }

    /// Broker names in ascending order.
    pub fn keys(&self) -> impl Iterator<Item = &str> {
        self.queues.iter().map(|q| q.broker.as_ref())
    }

    /// The slots in the iteration order of upstream's per-topic HashMap: by
    /// bucket, each bucket's chain in insertion order.
    fn java_ordered(&self) -> Vec<&QueueSlot> {
        let cap = self.capacity();
        let mut slots: Vec<(usize, u32, &QueueSlot)> = self
            .queues
            .iter()
            .map(|q| (java_bucket(java_string_hash(&q.broker), cap), q.rank, q))
            .collect();
        slots.sort_unstable_by_key(|(b, r, _)| (*b, *r));
        slots.into_iter().map(|(_, _, q)| q).collect()
    }

    /// Broker names in upstream's iteration order (`queueDataMap.keySet()`).
    #[cfg(test)]
    pub fn java_keys(&self) -> Vec<&str> {
        self.java_ordered()
            .into_iter()
            .map(|q| q.broker.as_ref())
            .collect()
    }

    /// The QueueData in upstream's iteration order (`queueDataMap.values()`;
    /// `keySet()` walks the same order, so their broker names are its keys).
    pub fn java_queue_datas(&self) -> Vec<QueueData> {
        self.java_ordered()
            .into_iter()
            .map(QueueSlot::to_queue_data)
            .collect()
    }

    pub fn len(&self) -> usize {
        self.queues.len()
    }

    pub fn is_empty(&self) -> bool {
        self.queues.is_empty()
    }

    /// Removes a broker's queues; says whether it had any.
    pub(super) fn remove(&mut self, broker_name: &str) -> bool {
        let Ok(i) = self.find(broker_name) else {
            return false;
        };
        // An emptied list is dropped whole by the caller (`Tables::remove_queue`).
        self.queues.remove(i);
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
