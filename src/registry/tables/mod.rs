//! The mutable route tables, owned by the writer core alone.
//!
//! These follow upstream's `RouteInfoManager` step by step. Every change records
//! what it touched in [`Dirty`], so publishing a snapshot re-encodes only the
//! topics whose route bytes can have changed.
//!
//! The tables are sealed: their fields are private to this module and its
//! children, which hold the operations:
//! - `register`: `RouteInfoManager#registerBroker`, one function per step;
//! - `unregister`: heartbeats, unregistration, connection close and expiry;
//! - `topics`: admin topic registration, deletion and permission changes.
//!
//! The writer marks what it changed outside the tables (KV, config, one
//! topic's order config) through [`Tables::kv_changed`] and its siblings, and
//! the snapshot builder takes the changes with [`Tables::take_changes`] and
//! reads the rest through the accessors below.

mod register;
mod topic_table;
mod topics;
mod unregister;

use std::sync::Arc;
use std::time::{Duration, Instant};

use protocol::body::{BrokerData, DataVersion, QueueData, TopicQueueMappingInfo};
use protocol::java_table::{transfer, JavaHash, JavaMap, JavaTable, TableGrowth};

use super::topic_queues::{Put, TopicQueues};
use super::{FastHasher, HashMap, HashSet};
use topic_table::{TopicId, TopicTable};

pub use super::reregister::AppliedBody;
pub use super::ConnId;
pub use register::{RegisterResult, Registration, TableSettings, TopicPuts};

/// Upstream's default broker timeout when the register header carries none.
pub const DEFAULT_BROKER_TIMEOUT: Duration = Duration::from_secs(120);

/// Liveness is keyed by (cluster, broker address), as upstream's `BrokerAddrInfo`.
pub type AddrKey = (String, String);

/// One live broker address: when it last spoke, and over which connection.
#[derive(Debug, Clone)]
pub struct LiveBroker {
    pub last_update: Instant,
    pub timeout: Duration,
    pub data_version: DataVersion,
    /// The connection of the *latest* registration; only its close unregisters.
    pub conn: ConnId,
    pub ha_server_addr: Option<String>,
    /// The TCP peer of that connection.
    pub peer: Option<std::net::SocketAddr>,
    /// The body this address last registered in full, while a re-registration
    /// of the same bytes may skip decoding (see [`crate::registry::reregister`]).
    pub applied: Option<AppliedBody>,
}

/// What a batch of writes changed, so the publisher knows what to rebuild.
#[derive(Debug, Default)]
pub struct Dirty {
    /// The topic names as the tables key them (one allocation per topic).
    pub topics: HashSet<Arc<str>>,
    /// The topicQueueTable resized, so chain ranks changed (every route's, but
    /// nothing a route body shows).
    pub topic_ranks: bool,
    /// Broker or cluster membership changed: rebuild cluster views.
    pub brokers: bool,
    /// The broker groups whose BrokerData changed, came or went: only their
    /// fragments and cluster-view entries are re-read, so a publish in a storm
    /// costs what changed, not the estate.
    pub broker_names: HashSet<String>,
    /// The clusters whose broker-name set changed, came or went.
    pub cluster_names: HashSet<String>,
    /// brokerAddrTable resized: every group's place in its order may have moved.
    pub broker_order: bool,
    /// The KV table changed: republish it.
    pub kv: bool,
    /// Config changed: republish it (and every route, since acting-master and
    /// order-topic settings shape route bytes).
    pub config: bool,
}

impl Dirty {
    pub fn is_empty(&self) -> bool {
        self.topics.is_empty() && !self.topic_ranks && !self.brokers && !self.kv && !self.config
    }
}

/// A Java table kept with its iteration order (see [`JavaMap`]).
pub type OrderedMap<K, V> = JavaMap<K, V, FastHasher>;

/// A broker name set of `clusterAddrTable` (upstream: `new HashSet<>()`).
pub type NameSet = OrderedMap<String, ()>;

#[derive(Debug)]
pub struct Tables {
    /// topic → its QueueData by brokerName. The key is the topic's one name
    /// allocation: the reverse index, the dirty set and the snapshot's route map
    /// share it. Entries keep their [`TopicId`] while they live (see
    /// [`TopicTable`]).
    topic_queue: TopicTable,
    /// brokerName → BrokerData (upstream: `new ConcurrentHashMap<>(128)`)
    broker_addr: OrderedMap<String, BrokerData>,
    /// cluster → brokerNames (upstream: `new ConcurrentHashMap<>(32)`)
    cluster_addr: OrderedMap<String, NameSet>,
    live: HashMap<AddrKey, LiveBroker>,
    filter_server: HashMap<AddrKey, Vec<String>>,
    /// topic → brokerName → mapping
    /// (upstream: a `new HashMap<>()` per topic)
    mapping: HashMap<String, OrderedMap<String, TopicQueueMappingInfo>>,
    /// brokerName → ids of the topics holding one of its QueueData (reverse
    /// index, so a broker change dirties exactly its topics).
    broker_topics: HashMap<Arc<str>, HashSet<TopicId>>,
    /// Broker names as shared by every [`TopicQueues`] entry.
    interned: HashSet<Arc<str>>,
    /// The bucket chains of upstream's topicQueueTable; each topic's rank in them
    /// is its `TopicQueues::chain_rank`.
    topic_chains: TopicTableGrowth,
    dirty: Dirty,
    /// Queues of removed brokers still to take out of `topic_queue`.
    removals: Vec<Removal>,
    /// Leave those to [`Tables::settle`] (the writer, which yields between
    /// slices) instead of removing them at once.
    defer_removals: bool,
    /// The live table changed in what the console shows (an entry came, went, or
    /// changed connection or version; not a bare heartbeat).
    live_changed: bool,
    /// (brokerName, address) of each unregistration that took out its group's
    /// lowest id and left the group standing, until the writer takes them
    /// ([`Tables::take_min_id_departures`]; upstream's `needNotifyBrokerMap`).
    min_id_departures: Vec<(String, String)>,
    /// QueueData removed so far (any broker's): an [`AppliedBody`] taken at
    /// another count may list topics that lost their QueueData since.
    queue_removals: u64,
}

/// Upstream's topicQueueTable is `new ConcurrentHashMap<>(1024)` (2048 buckets).
#[derive(Debug, Clone)]
struct TopicTableGrowth(TableGrowth);

impl Default for TopicTableGrowth {
    fn default() -> Self {
        TopicTableGrowth(TableGrowth::new(JavaTable::ConcurrentHashMapWith(1024), 0))
    }
}

/// A removed broker's topics whose QueueData are still to be removed. The broker
/// is already out of `broker_topics`, so nothing else touches these.
#[derive(Debug)]
struct Removal {
    broker: String,
    topics: Vec<Arc<str>>,
}

impl Default for Tables {
    fn default() -> Self {
        Tables {
            topic_queue: TopicTable::default(),
            broker_addr: JavaMap::new(JavaTable::ConcurrentHashMapWith(128)),
            cluster_addr: JavaMap::new(JavaTable::ConcurrentHashMapWith(32)),
            live: HashMap::default(),
            filter_server: HashMap::default(),
            mapping: HashMap::default(),
            broker_topics: HashMap::default(),
            interned: HashSet::default(),
            topic_chains: TopicTableGrowth::default(),
            dirty: Dirty::default(),
            removals: Vec::new(),
            defer_removals: false,
            live_changed: false,
            min_id_departures: Vec::new(),
            queue_removals: 0,
        }
    }
}

impl Tables {
    /// Tables that leave a removed broker's queues to [`Self::settle`] (the
    /// writer's, which removes them in slices with yields between).
    pub fn deferring_removals() -> Tables {
        Tables {
            defer_removals: true,
            ..Tables::default()
        }
    }

    // ----- what changed, for the publisher -----

    /// The KV table changed (the writer owns it; the tables only carry the mark).
    pub fn kv_changed(&mut self) {
        self.dirty.kv = true;
    }

    /// The config changed: the publisher republishes it and every route.
    pub fn config_changed(&mut self) {
        self.dirty.config = true;
    }

    /// This topic's route must be republished (a change in the tables, or its
    /// `ORDER_TOPIC_CONFIG` entry). Allocates only for a topic not yet marked.
    pub fn topic_changed(&mut self, topic: &str) {
        if !self.dirty.topics.contains(topic) {
            let name = match self.topic_queue.get_key_value(topic) {
                Some((name, _)) => name.clone(),
                None => Arc::from(topic),
            };
            self.dirty.topics.insert(name);
        }
    }

    /// Whether anything changed since the last [`Self::take_changes`].
    pub fn has_changes(&self) -> bool {
        !self.dirty.is_empty()
    }

    /// How many topics are marked changed.
    pub fn changed_topics(&self) -> usize {
        self.dirty.topics.len()
    }

    /// Takes the changes, leaving none.
    pub fn take_changes(&mut self) -> Dirty {
        std::mem::take(&mut self.dirty)
    }

    // ----- reads, for the publisher and tests -----

    /// A topic's queue list.
    pub fn queues(&self, topic: &str) -> Option<&TopicQueues> {
        self.topic_queue.get(topic)
    }

    /// Every topic that has a queue list.
    pub fn topic_names(&self) -> impl Iterator<Item = &Arc<str>> {
        self.topic_queue.keys()
    }

    pub fn topic_count(&self) -> usize {
        self.topic_queue.len()
    }

    /// The rank of a topic in its bucket's chain of upstream's topicQueueTable
    /// (0 if absent).
    pub fn topic_chain_rank(&self, topic: &str) -> u64 {
        self.topic_queue.get(topic).map_or(0, |q| q.chain_rank)
    }

    /// Every topic with its chain rank (see [`Self::topic_chain_rank`]).
    pub fn topic_chain_ranks(&self) -> impl Iterator<Item = (&Arc<str>, u64)> {
        self.topic_queue.iter().map(|(t, q)| (t, q.chain_rank))
    }

    /// The bucket count of upstream's topicQueueTable (grown, never shrunk).
    pub fn topic_table_capacity(&self) -> usize {
        self.topic_chains.0.capacity()
    }

    /// A broker group by broker name.
    pub fn broker(&self, broker_name: &str) -> Option<&BrokerData> {
        self.broker_addr.get(broker_name)
    }

    /// Every broker group in the iteration order of upstream's brokerAddrTable.
    pub fn brokers(&self) -> Vec<(&String, &BrokerData)> {
        self.broker_addr.ordered()
    }

    /// Where a group sits in brokerAddrTable's iteration order (see
    /// [`JavaMap::order_key`]).
    pub fn broker_order_key(&self, broker_name: &str) -> Option<(usize, u64)> {
        self.broker_addr.order_key(broker_name)
    }

    /// Every cluster name in the iteration order of upstream's clusterAddrTable.
    pub fn cluster_names(&self) -> Vec<&String> {
        self.cluster_addr
            .ordered()
            .into_iter()
            .map(|(c, _)| c)
            .collect()
    }

    /// One cluster's broker names in its HashSet's iteration order.
    pub fn cluster_members(&self, cluster: &str) -> Option<Vec<&String>> {
        let names = self.cluster_addr.get(cluster)?;
        Some(names.ordered().into_iter().map(|(n, _)| n).collect())
    }

    /// Every cluster and its broker names, both in the iteration order of
    /// upstream's clusterAddrTable and its HashSets (tests compare the
    /// snapshot's cluster view with it).
    #[cfg(test)]
    pub fn clusters(&self) -> Vec<(&String, Vec<&String>)> {
        self.cluster_addr
            .ordered()
            .into_iter()
            .map(|(c, names)| (c, names.ordered().into_iter().map(|(n, _)| n).collect()))
            .collect()
    }

    /// The live entry of an address (upstream's brokerLiveTable).
    pub fn live(&self, cluster: &str, addr: &str) -> Option<&LiveBroker> {
        self.live.get(&(cluster.to_string(), addr.to_string()))
    }

    /// Every live address (upstream's brokerLiveTable), for the console.
    pub fn live_brokers(&self) -> impl ExactSizeIterator<Item = (&AddrKey, &LiveBroker)> {
        self.live.iter()
    }

    /// Each broker group with how many topics hold one of its QueueData.
    pub fn topic_counts(&self) -> impl Iterator<Item = (&Arc<str>, usize)> + '_ {
        self.broker_topics.iter().map(|(b, t)| (b, t.len()))
    }

    /// The departures recorded since the last call (see `min_id_departures`).
    pub fn take_min_id_departures(&mut self) -> Vec<(String, String)> {
        std::mem::take(&mut self.min_id_departures)
    }

    /// Whether the live table changed for the console since the last call.
    pub fn take_live_changed(&mut self) -> bool {
        std::mem::take(&mut self.live_changed)
    }

    /// Whether any address has filter servers (most estates have none).
    pub fn has_filter_servers(&self) -> bool {
        !self.filter_server.is_empty()
    }

    /// The filter servers of an address (upstream's filterServerTable).
    pub fn filter_servers(&self, key: &AddrKey) -> Option<&Vec<String>> {
        self.filter_server.get(key)
    }

    /// A topic's static-topic mappings by broker name.
    /// In the iteration order of upstream's per-topic HashMap.
    pub fn mapping(&self, topic: &str) -> Option<Vec<(String, TopicQueueMappingInfo)>> {
        let per_topic = self.mapping.get(topic)?;
        Some(
            per_topic
                .ordered()
                .into_iter()
                .map(|(b, info)| (b.clone(), info.clone()))
                .collect(),
        )
    }

    pub fn topics_of_broker(&self, broker_name: &str) -> impl Iterator<Item = &Arc<str>> {
        self.broker_topics
            .get(broker_name)
            .into_iter()
            .flatten()
            .filter_map(|&id| self.topic_queue.name(id))
    }

    /// How many broker names are interned (for tests and diagnostics).
    pub fn interned_names(&self) -> usize {
        self.interned.len()
    }

    /// Drops the tables part by part, calling `after(part)` once each is gone: a
    /// heap profiler (`examples/mem_profile.rs`) reads its live-byte counter
    /// there, so each part's bytes are measured, not estimated. The topic table
    /// goes before the interned broker names it shares.
    #[doc(hidden)]
    pub fn dismantle(self, mut after: impl FnMut(&'static str)) {
        let Tables {
            topic_queue,
            broker_topics,
            interned,
            dirty,
            ..
        } = self;
        drop(dirty);
        after("dirty set");
        drop(broker_topics);
        after("reverse index broker_topics");
        drop(topic_queue);
        after("writer topic table (keys, TopicQueues, slots)");
        drop(interned);
        after("interned broker names");
    }

    // ----- small helpers that keep the reverse index and dirty set honest -----

    fn put_queue(&mut self, topic: &str, qd: QueueData) {
        // One lookup, and none that allocates for a storm of unchanged puts.
        let id = match self.topic_queue.id(topic) {
            Some(id) => id,
            None => {
                let fresh = TopicQueues::new(self.topic_chains.0.next_rank());
                let id = self.topic_queue.insert_new(Arc::from(topic), fresh);
                while let Some(old_cap) = self.topic_chains.0.grow() {
                    self.rerank_topics(old_cap);
                }
                id
            }
        };
        let Some((name, queues)) = self.topic_queue.entry_mut(id) else {
            return;
        };
        let put = queues.put(&qd, &mut self.interned);
        if put == Put::Same {
            return;
        }
        if !self.dirty.topics.contains(topic) {
            self.dirty.topics.insert(name.clone());
        }
        // A broker already holding this topic is in the reverse index already
        // (put_queue and remove_queue keep the two in step).
        if put != Put::NewBroker {
            return;
        }
        match self.broker_topics.get_mut(qd.broker_name.as_str()) {
            Some(set) => {
                set.insert(id);
            }
            None => {
                let broker = self
                    .interned
                    .get(qd.broker_name.as_str())
                    .cloned()
                    .unwrap_or_else(|| Arc::from(qd.broker_name.as_str()));
                let mut set = HashSet::default();
                set.insert(id);
                self.broker_topics.insert(broker, set);
            }
        }
    }

    /// Removes one broker's QueueData from a topic; drops the topic when emptied.
    fn remove_queue(&mut self, topic: &str, broker_name: &str) -> bool {
        let Some(id) = self.topic_queue.id(topic) else {
            return false;
        };
        let Some((_, queues)) = self.topic_queue.entry_mut(id) else {
            return false;
        };
        if !queues.remove(broker_name) {
            return false;
        }
        let emptied = queues.is_empty();
        self.queue_removals += 1;
        // Marked while the table still holds the name (the dirty set shares it).
        self.topic_changed(topic);
        if emptied {
            self.topic_queue.remove(topic);
            self.topic_chains.0.removed();
        }
        self.release_name(broker_name);
        self.unindex(broker_name, id);
        true
    }

    /// Takes a topic out of a broker's reverse-index set.
    fn unindex(&mut self, broker_name: &str, id: TopicId) {
        if let Some(set) = self.broker_topics.get_mut(broker_name) {
            set.remove(&id);
            if set.is_empty() {
                self.broker_topics.remove(broker_name);
            }
        }
    }

    fn remove_topic(&mut self, topic: &str) {
        if !self.topic_queue.contains_key(topic) {
            return;
        }
        self.topic_changed(topic);
        if let Some((id, queues)) = self.topic_queue.remove(topic) {
            self.queue_removals += 1;
            self.topic_chains.0.removed();
            let names: Vec<String> = queues.keys().map(str::to_string).collect();
            drop(queues);
            for name in &names {
                self.unindex(name, id);
                self.release_name(name);
            }
        }
    }

    /// The topicQueueTable doubled: `ConcurrentHashMap#transfer` reorders chains,
    /// so every topic gets a new chain rank (rare: at 1536, 3072, ... topics, so
    /// amortized O(1) per topic). Only the topic lists read it, so no route is
    /// rebuilt: the publisher re-ranks its entries, sharing their bodies.
    fn rerank_topics(&mut self, old_cap: usize) {
        // One pass pairs each hash with its rank, so no two walks of the map
        // have to agree on their order.
        let (hashes, mut slots): (Vec<i32>, Vec<&mut u64>) = self
            .topic_queue
            .iter_mut()
            .map(|(t, q)| (t.java_hash(), &mut q.chain_rank))
            .unzip();
        let mut ranks: Vec<u64> = slots.iter().map(|r| **r).collect();
        let next = transfer(&hashes, &mut ranks, old_cap);
        for (slot, rank) in slots.iter_mut().zip(ranks) {
            **slot = rank;
        }
        self.topic_chains.0.set_next_rank(next);
        self.dirty.topic_ranks = true;
    }

    /// Applies up to `budget` deferred queue removals; says whether any remain.
    /// The writer calls it until it says no before it applies the next write, so
    /// every write still sees the tables of all writes before it.
    pub fn settle(&mut self, budget: usize) -> bool {
        let mut left = budget;
        while left > 0 {
            let Some(job) = self.removals.last_mut() else {
                return false;
            };
            let Some(topic) = job.topics.pop() else {
                self.removals.pop();
                continue;
            };
            // The broker name is moved out for the call and back after: no
            // clone per topic.
            let broker = std::mem::take(&mut job.broker);
            self.remove_queue(&topic, &broker);
            if let Some(job) = self.removals.last_mut() {
                job.broker = broker;
            }
            left -= 1;
        }
        self.removals.iter().any(|r| !r.topics.is_empty())
    }

    /// Forgets the interned copy of `name` once no topic holds it any more, so a
    /// churning estate (brokers that come and go under new names) does not grow
    /// the interned set without end.
    fn release_name(&mut self, name: &str) {
        if self
            .interned
            .get(name)
            .is_some_and(|n| Arc::strong_count(n) == 1)
        {
            self.interned.remove(name);
        }
    }

    /// A broker's data changed: every route that embeds it must be re-encoded.
    fn broker_changed(&mut self, broker_name: &str) {
        self.group_changed(broker_name);
        if let Some(topics) = self.broker_topics.get(broker_name) {
            let names = topics.iter().filter_map(|&id| self.topic_queue.name(id));
            self.dirty.topics.extend(names.cloned());
        }
    }

    /// A group's BrokerData changed, came or went (its routes aside).
    fn group_changed(&mut self, broker_name: &str) {
        self.dirty.brokers = true;
        if !self.dirty.broker_names.contains(broker_name) {
            self.dirty.broker_names.insert(broker_name.to_string());
        }
    }

    /// A cluster's broker-name set changed, came or went.
    fn cluster_changed(&mut self, cluster: &str) {
        self.dirty.brokers = true;
        if !self.dirty.cluster_names.contains(cluster) {
            self.dirty.cluster_names.insert(cluster.to_string());
        }
    }

    /// Topics whose routes embed this address (through its broker's BrokerData).
    fn addr_changed(&mut self, addr: &str) {
        let names: Vec<String> = self
            .broker_addr
            .values()
            .filter(|b| b.broker_addrs.values().any(|a| a == addr))
            .map(|b| b.broker_name.clone())
            .collect();
        for n in names {
            self.broker_changed(&n);
        }
    }
}

#[cfg(test)]
mod tests;
