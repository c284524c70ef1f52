//! One topic's queue list as the writer's tables keep it: a compact, sorted slot
//! per broker with the broker name interned (shared by every topic of that broker).

use std::sync::Arc;

use protocol::body::QueueData;

use super::HashSet;

/// One topic's QueueData, by broker name, plus the topic's insertion rank.
///
/// A short Vec sorted by broker name (the order a `BTreeMap` would iterate in):
/// most topics live on a handful of brokers, and a BTreeMap's first node alone
/// costs about 700 bytes, which at a million topics was most of the tables.
#[derive(Debug, Default, Clone)]
pub struct TopicQueues {
    /// When the topic last entered `topic_queue`. Upstream's topicQueueTable is a
    /// ConcurrentHashMap, which iterates colliding keys in insertion order; the
    /// topic-list codes show that order.
    pub seq: u64,
    queues: Vec<QueueSlot>,
}

/// A QueueData whose broker name is interned: one allocation per broker, not
/// per (topic, broker), and the names a search compares stay in cache.
#[derive(Debug, Clone)]
struct QueueSlot {
    broker: Arc<str>,
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
    /// An empty queue list for a topic entering the table with rank `seq`.
    pub(super) fn new(seq: u64) -> TopicQueues {
        TopicQueues {
            seq,
            queues: Vec::with_capacity(1),
        }
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
                    perm: qd.perm,
                    read_queue_nums: qd.read_queue_nums,
                    topic_sys_flag: qd.topic_sys_flag,
                    write_queue_nums: qd.write_queue_nums,
                };
                self.queues.insert(i, slot);
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

    /// (broker name, its QueueData) in ascending name order.
    pub fn queue_datas(&self) -> impl Iterator<Item = (&str, QueueData)> {
        self.queues
            .iter()
            .map(|q| (q.broker.as_ref(), q.to_queue_data()))
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
