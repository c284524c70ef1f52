//! The immutable view readers answer from, and how the writer builds it.
//!
//! Routes live in a persistent hash map (`im::HashMap`) of per-topic `Arc`s, so a
//! new snapshot shares every untouched topic with the previous one: publishing
//! costs what changed, not the size of the tables.

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::Instant;

use bytes::Bytes;
use protocol::body::{BrokerData, ClusterInfo, QueueData, TopicRouteData};
use protocol::json::{java_hash_order, java_hash_order_in, java_string_hash, Dialect, JavaTable};

use super::tables::Tables;
use crate::config::Config;

/// The namespace whose entries become a route's `orderTopicConf`.
pub const ORDER_TOPIC_CONFIG: &str = "ORDER_TOPIC_CONFIG";
/// Topics for broker-member sync never get acting-master rewriting.
const SYNC_BROKER_MEMBER_PREFIX: &str = "rmq_sys_SYNC_BROKER_MEMBER_";

pub type KvTableMap = BTreeMap<String, BTreeMap<String, String>>;

/// One topic as readers see it.
#[derive(Debug)]
pub struct RouteEntry {
    /// In route order; used by the topic-list codes.
    pub queue_datas: Vec<QueueData>,
    /// `None` when no broker of the topic is known (a lookup answers 17).
    pub bodies: Option<RouteBodies>,
    /// Insertion rank in upstream's topicQueueTable (ties in a bucket iterate in it).
    pub seq: u64,
}

/// A route's body, pre-encoded in both dialects.
#[derive(Debug)]
pub struct RouteBodies {
    pub legacy: Bytes,
    pub standard: Bytes,
}

/// Brokers and clusters, for 106, 224, 304 and 901.
#[derive(Debug, Default)]
pub struct ClusterView {
    pub info: ClusterInfo,
    /// The 106 body (always the legacy dialect).
    pub body: Bytes,
}

/// Everything a read needs, frozen at one point of the writer's history.
pub struct Snapshot {
    pub routes: im::HashMap<Arc<str>, Arc<RouteEntry>>,
    pub cluster: Arc<ClusterView>,
    pub kv: Arc<KvTableMap>,
    pub config: Arc<Config>,
    /// When the server started (the readiness gate counts from here).
    pub started: Instant,
}

impl Snapshot {
    /// The snapshot of an empty registry.
    pub fn empty(config: Arc<Config>, kv: Arc<KvTableMap>, started: Instant) -> Snapshot {
        SnapshotBuilder::new(config, kv, started).snapshot()
    }

    pub fn kv_get(&self, namespace: &str, key: &str) -> Option<&str> {
        self.kv.get(namespace)?.get(key).map(String::as_str)
    }
}

/// The writer's half of publishing: the parts of the last snapshot, each replaced
/// only when something in it changed.
pub struct SnapshotBuilder {
    routes: im::HashMap<Arc<str>, Arc<RouteEntry>>,
    cluster: Arc<ClusterView>,
    kv: Arc<KvTableMap>,
    config: Arc<Config>,
    started: Instant,
}

impl SnapshotBuilder {
    pub fn new(config: Arc<Config>, kv: Arc<KvTableMap>, started: Instant) -> Self {
        SnapshotBuilder {
            routes: im::HashMap::new(),
            cluster: Arc::new(build_cluster_view(&Tables::default())),
            kv,
            config,
            started,
        }
    }

    /// The current state as a snapshot (cheap: shares everything).
    pub fn snapshot(&self) -> Snapshot {
        Snapshot {
            routes: self.routes.clone(),
            cluster: self.cluster.clone(),
            kv: self.kv.clone(),
            config: self.config.clone(),
            started: self.started,
        }
    }

    /// Takes what the tables mark dirty, re-encodes exactly that, and returns the
    /// next snapshot. `config` and `kv` are the writer's current values.
    pub fn publish(&mut self, tables: &mut Tables, config: &Config, kv: &KvTableMap) -> Snapshot {
        let mut dirty = std::mem::take(&mut tables.dirty);
        if dirty.config {
            self.config = Arc::new(config.clone());
            // Acting-master and order-topic settings shape every route.
            tables.all_topics_dirty();
            let again = std::mem::take(&mut tables.dirty);
            dirty.topics.extend(again.topics);
            dirty.brokers = true;
        }
        if dirty.kv {
            self.kv = Arc::new(kv.clone());
        }
        for topic in dirty.topics.drain() {
            match build_route_entry(tables, &topic, config, &self.kv) {
                Some(entry) => {
                    self.routes
                        .insert(Arc::from(topic.as_str()), Arc::new(entry));
                }
                None => {
                    self.routes.remove(topic.as_str());
                }
            }
        }
        if dirty.brokers {
            self.cluster = Arc::new(build_cluster_view(tables));
        }
        self.snapshot()
    }
}

/// Orders names as a Java `HashMap<String, _>` of them would iterate.
pub fn java_order<T: AsRef<str>>(items: &mut [T]) {
    java_hash_order(items, |s| java_string_hash(s.as_ref()));
}

/// A topic's QueueData in the order of upstream's per-topic HashMap (grown by inserts).
fn ordered_queue_datas(queues: &BTreeMap<String, QueueData>) -> Vec<QueueData> {
    let mut names: Vec<&String> = queues.keys().collect();
    java_order(&mut names);
    names
        .iter()
        .filter_map(|n| queues.get(*n).cloned())
        .collect()
}

/// Assembles a topic's route as upstream's `pickupTopicRouteData` does (spec §5.6),
/// including `orderTopicConf`. `None` = no route (17).
pub fn assemble_route(
    t: &Tables,
    topic: &str,
    cfg: &Config,
    kv: &KvTableMap,
) -> Option<TopicRouteData> {
    let queues = t.topic_queue.get(topic)?;
    let queue_datas = ordered_queue_datas(queues);
    let mut names: Vec<&String> = queues.keys().collect();
    // brokerDatas follow a HashSet copied from the topic's keys, which Java sizes
    // differently from the map itself (orders differ from 12 brokers up).
    let copy_capacity = ((names.len() as f32 / 0.75) as usize + 1).max(16);
    java_hash_order_in(&mut names, JavaTable::HashMapWith(copy_capacity), |n| {
        java_string_hash(n)
    });
    let mut broker_datas: Vec<BrokerData> = names
        .iter()
        .filter_map(|n| t.broker_addr.get(*n).cloned())
        .collect();
    if queue_datas.is_empty() || broker_datas.is_empty() {
        return None;
    }
    let mut filter_server_table = BTreeMap::new();
    if !t.filter_server.is_empty() {
        for bd in &broker_datas {
            for addr in bd.broker_addrs.values() {
                if let Some(list) = t.filter_server.get(&(bd.cluster.clone(), addr.clone())) {
                    filter_server_table.insert(addr.clone(), list.clone());
                }
            }
        }
    }
    if cfg.support_acting_master && !topic.starts_with(SYNC_BROKER_MEMBER_PREFIX) {
        apply_acting_master(&mut broker_datas, &queue_datas);
    }
    let order_topic_conf = if cfg.order_message_enable {
        kv.get(ORDER_TOPIC_CONFIG)
            .and_then(|m| m.get(topic))
            .cloned()
    } else {
        None
    };
    Some(TopicRouteData {
        broker_datas,
        filter_server_table,
        order_topic_conf,
        queue_datas,
        topic_queue_mapping_by_broker: t.mapping.get(topic).cloned(),
    })
}

/// A group with no master whose queues for this topic are read-only: its lowest id
/// is shown as the master (id 0) so clients can still read from it.
fn apply_acting_master(broker_datas: &mut [BrokerData], queue_datas: &[QueueData]) {
    let need = broker_datas
        .iter()
        .any(|b| !b.broker_addrs.is_empty() && !b.broker_addrs.contains_key(&0));
    if !need {
        return;
    }
    for bd in broker_datas.iter_mut() {
        if bd.broker_addrs.is_empty()
            || bd.broker_addrs.contains_key(&0)
            || !bd.enable_acting_master
        {
            continue;
        }
        let Some(qd) = queue_datas.iter().find(|q| q.broker_name == bd.broker_name) else {
            continue;
        };
        if qd.perm & protocol::codes::perm::WRITE == 0 {
            if let Some((&min_id, _)) = bd.broker_addrs.iter().next() {
                if let Some(addr) = bd.broker_addrs.remove(&min_id) {
                    bd.broker_addrs.insert(0, addr);
                }
            }
        }
    }
}

/// Builds a topic's snapshot entry, or `None` when the topic has no QueueData.
pub fn build_route_entry(
    t: &Tables,
    topic: &str,
    cfg: &Config,
    kv: &KvTableMap,
) -> Option<RouteEntry> {
    let queues = t.topic_queue.get(topic)?;
    let route = assemble_route(t, topic, cfg, kv);
    let queue_datas = match &route {
        Some(r) => r.queue_datas.clone(),
        None => ordered_queue_datas(queues),
    };
    let bodies = route.map(|r| {
        let mut legacy = Vec::with_capacity(256);
        r.encode(Dialect::Legacy, &mut legacy);
        let mut standard = Vec::with_capacity(256);
        r.encode(Dialect::Standard, &mut standard);
        RouteBodies {
            legacy: Bytes::from(legacy),
            standard: Bytes::from(standard),
        }
    });
    Some(RouteEntry {
        queue_datas,
        bodies,
        seq: t.topic_seq(topic),
    })
}

/// The cluster view: every broker group and cluster, and the 106 body.
pub fn build_cluster_view(t: &Tables) -> ClusterView {
    let info = ClusterInfo {
        broker_addr_table: t
            .broker_addr
            .iter()
            .map(|(k, v)| (k.clone(), v.clone()))
            .collect(),
        cluster_addr_table: t
            .cluster_addr
            .iter()
            .map(|(k, v)| (k.clone(), v.clone()))
            .collect(),
    };
    let mut body = Vec::with_capacity(256);
    info.encode(Dialect::Legacy, &mut body);
    ClusterView {
        info,
        body: Bytes::from(body),
    }
}
