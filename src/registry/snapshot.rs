//! The immutable view readers answer from, and how the writer builds it.
//!
//! Routes live in a persistent hash map (`im::HashMap`) of per-topic `Arc`s, so a
//! new snapshot shares every untouched topic with the previous one: publishing
//! costs what changed, not the size of the tables.
//!
//! A route's body is not encoded when the writer publishes. Each broker group's
//! BrokerData is encoded once per change, in both dialects ([`BrokerFragments`]),
//! and shared by every route that embeds it; a route body is spliced from those
//! fragments by the first reader that asks for it, then kept with the entry. So a
//! registration storm, where a 50-broker topic changes 50 times, costs the writer
//! no JSON at all, and topics nobody looks up cost no body memory.

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::Instant;

use bytes::Bytes;
use once_cell::race::OnceBox;
use protocol::body::{
    write_route_json, BrokerData, ClusterInfo, QueueData, RouteRest, TopicQueueMappingInfo,
};
use protocol::json::{
    java_hash_order, java_hash_order_in, java_string_hash, Dialect, JavaTable, JsonOut,
};

use super::list_cache::ListCache;
use super::tables::Tables;
use super::topic_queues::TopicQueues;
use super::{FastHasher, HashMap};
use crate::config::Config;

/// The namespace whose entries become a route's `orderTopicConf`.
pub const ORDER_TOPIC_CONFIG: &str = "ORDER_TOPIC_CONFIG";
/// Topics for broker-member sync never get acting-master rewriting.
const SYNC_BROKER_MEMBER_PREFIX: &str = "rmq_sys_SYNC_BROKER_MEMBER_";

pub type KvTableMap = BTreeMap<String, BTreeMap<String, String>>;

/// Topics rebuilt between two checks for a pending yield while publishing.
const YIELD_EVERY: usize = 64;

/// Topic → route, shared between snapshots (a persistent HAMT).
pub type RouteMap = im::HashMap<Arc<str>, Arc<RouteEntry>, FastHasher>;

/// One topic as readers see it.
#[derive(Debug)]
pub struct RouteEntry {
    /// In route order; used by the topic-list codes and the route body.
    pub queue_datas: Vec<QueueData>,
    /// `None` when no broker of the topic is known (a lookup answers 17).
    route: Option<Route>,
    /// Insertion rank in upstream's topicQueueTable (ties in a bucket iterate in it).
    pub seq: u64,
}

/// What a route body is made of, and the body itself once somebody asked.
#[derive(Debug)]
struct Route {
    /// In `brokerDatas` order.
    brokers: Vec<Arc<BrokerFragments>>,
    /// Filter servers, `orderTopicConf`, static-topic mappings: rare, so boxed.
    extras: Option<Box<RouteExtras>>,
    /// Filled at most once per dialect by the first reader (lock-free: racing
    /// cores may both encode, one result wins, and the bytes are identical).
    legacy: OnceBox<Bytes>,
    standard: OnceBox<Bytes>,
}

#[derive(Debug, Default)]
struct RouteExtras {
    filter_server_table: BTreeMap<String, Vec<String>>,
    order_topic_conf: Option<String>,
    mapping: Option<BTreeMap<String, TopicQueueMappingInfo>>,
}

/// One BrokerData as a member of route bodies, encoded in both dialects.
#[derive(Debug)]
pub struct BrokerFragments {
    data: BrokerData,
    /// Java `hashCode` of the broker name (it fixes the `brokerDatas` order).
    name_hash: i32,
    legacy: Box<[u8]>,
    standard: Box<[u8]>,
}

impl BrokerFragments {
    fn new(data: BrokerData) -> Self {
        let encode = |dialect| {
            let mut out = Vec::with_capacity(128);
            data.write_route_member(&mut JsonOut::new(&mut out, dialect));
            out.into_boxed_slice()
        };
        BrokerFragments {
            name_hash: java_string_hash(&data.broker_name),
            legacy: encode(Dialect::Legacy),
            standard: encode(Dialect::Standard),
            data,
        }
    }

    fn bytes(&self, dialect: Dialect) -> &[u8] {
        match dialect {
            Dialect::Legacy => &self.legacy,
            Dialect::Standard => &self.standard,
        }
    }
}

/// The writer's fragments of the live broker groups, by broker name.
#[derive(Default)]
pub struct FragmentCache {
    by_name: HashMap<String, Arc<BrokerFragments>>,
}

impl FragmentCache {
    /// Drops fragments whose BrokerData no longer matches the tables.
    fn refresh(&mut self, t: &Tables) {
        self.by_name
            .retain(|name, f| t.broker_addr.get(name) == Some(&f.data));
    }

    /// The fragments of `bd` (valid after [`Self::refresh`] for this publish).
    fn get(&mut self, bd: &BrokerData) -> Arc<BrokerFragments> {
        if let Some(f) = self.by_name.get(&bd.broker_name) {
            return f.clone();
        }
        let f = Arc::new(BrokerFragments::new(bd.clone()));
        self.by_name.insert(bd.broker_name.clone(), f.clone());
        f
    }
}

impl RouteEntry {
    /// Whether a lookup finds a route (else it answers 17).
    #[cfg(test)]
    fn has_route(&self) -> bool {
        self.route.is_some()
    }

    /// The route body in `dialect`, spliced on the first call and shared after.
    pub fn body(&self, dialect: Dialect) -> Option<Bytes> {
        let route = self.route.as_ref()?;
        let cell = match dialect {
            Dialect::Legacy => &route.legacy,
            Dialect::Standard => &route.standard,
        };
        Some(
            cell.get_or_init(|| Box::new(route.encode(&self.queue_datas, dialect)))
                .clone(),
        )
    }
}

impl Route {
    fn encode(&self, queue_datas: &[QueueData], dialect: Dialect) -> Bytes {
        let no_filters = BTreeMap::new();
        let extras = self.extras.as_deref();
        let rest = RouteRest {
            filter_server_table: extras.map_or(&no_filters, |e| &e.filter_server_table),
            order_topic_conf: extras.and_then(|e| e.order_topic_conf.as_deref()),
            queue_datas,
            topic_queue_mapping_by_broker: extras.and_then(|e| e.mapping.as_ref()),
        };
        let brokers_len: usize = self
            .brokers
            .iter()
            .map(|b| b.bytes(dialect).len() + 1)
            .sum();
        let mut out = Vec::with_capacity(brokers_len + queue_datas.len() * 96 + 96);
        write_route_json(
            &mut JsonOut::new(&mut out, dialect),
            |w| {
                for b in &self.brokers {
                    w.raw_value(b.bytes(dialect));
                }
            },
            &rest,
        );
        Bytes::from(out)
    }
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
    pub routes: RouteMap,
    pub cluster: Arc<ClusterView>,
    pub kv: Arc<KvTableMap>,
    pub config: Arc<Config>,
    /// When the server started (the readiness gate counts from here).
    pub started: Instant,
    /// Topic-list bodies of this snapshot, built on first request.
    pub lists: ListCache,
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
    routes: RouteMap,
    frags: FragmentCache,
    cluster: Arc<ClusterView>,
    kv: Arc<KvTableMap>,
    config: Arc<Config>,
    started: Instant,
}

impl SnapshotBuilder {
    pub fn new(config: Arc<Config>, kv: Arc<KvTableMap>, started: Instant) -> Self {
        SnapshotBuilder {
            routes: RouteMap::default(),
            frags: FragmentCache::default(),
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
            lists: ListCache::default(),
        }
    }

    /// Takes what the tables mark dirty, re-encodes exactly that, and returns the
    /// next snapshot. `config` and `kv` are the writer's current values.
    ///
    /// Yields to the executor when it asks (`glommio::yield_if_needed`) between
    /// topics, so a publish of a 200k-topic registration does not hold the writer
    /// core for its whole length; nothing is visible until the snapshot returned is
    /// swapped in, and the writer, the only one to change the tables, waits here.
    pub async fn publish(
        &mut self,
        tables: &mut Tables,
        config: &Config,
        kv: &KvTableMap,
    ) -> Snapshot {
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
        if dirty.brokers {
            self.frags.refresh(tables);
        }
        for (n, topic) in dirty.topics.drain().enumerate() {
            if n % YIELD_EVERY == YIELD_EVERY - 1 {
                glommio::yield_if_needed().await;
            }
            match build_route_entry(tables, &topic, config, &self.kv, &mut self.frags) {
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
fn ordered_queue_datas(queues: &TopicQueues) -> Vec<QueueData> {
    let mut named: Vec<(&str, QueueData)> = queues.queue_datas().collect();
    java_hash_order(&mut named, |(n, _)| java_string_hash(n));
    named.into_iter().map(|(_, qd)| qd).collect()
}

/// How Java sizes the HashSet of a topic's broker names that `brokerDatas` follow:
/// copied from the topic's map, so sized differently from the map itself (orders
/// differ from 12 brokers up).
fn broker_copy_table(brokers: usize) -> JavaTable {
    JavaTable::HashMapWith(((brokers as f32 / 0.75) as usize + 1).max(16))
}

/// `filterServerTable`: the filter servers of every address of these brokers.
fn filter_server_table<'a>(
    t: &Tables,
    brokers: impl IntoIterator<Item = &'a BrokerData>,
) -> BTreeMap<String, Vec<String>> {
    let mut table = BTreeMap::new();
    if t.filter_server.is_empty() {
        return table;
    }
    for bd in brokers {
        for addr in bd.broker_addrs.values() {
            if let Some(list) = t.filter_server.get(&(bd.cluster.clone(), addr.clone())) {
                table.insert(addr.clone(), list.clone());
            }
        }
    }
    table
}

/// `orderTopicConf`: the topic's ORDER_TOPIC_CONFIG entry, when order messages are on.
fn order_topic_conf(cfg: &Config, kv: &KvTableMap, topic: &str) -> Option<String> {
    if !cfg.order_message_enable {
        return None;
    }
    kv.get(ORDER_TOPIC_CONFIG)
        .and_then(|m| m.get(topic))
        .cloned()
}

/// Whether routes of this topic show acting masters (spec §5.6).
fn acting_master_applies(cfg: &Config, topic: &str) -> bool {
    cfg.support_acting_master && !topic.starts_with(SYNC_BROKER_MEMBER_PREFIX)
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
/// The route is upstream's `pickupTopicRouteData` (spec §5.6), including
/// `orderTopicConf`, with each BrokerData taken from `frags`.
pub fn build_route_entry(
    t: &Tables,
    topic: &str,
    cfg: &Config,
    kv: &KvTableMap,
    frags: &mut FragmentCache,
) -> Option<RouteEntry> {
    let queues = t.topic_queue.get(topic)?;
    let queue_datas = ordered_queue_datas(queues);
    let seq = t.topic_seq(topic);
    let mut brokers: Vec<Arc<BrokerFragments>> = queues
        .keys()
        .filter_map(|n| t.broker_addr.get(n))
        .map(|bd| frags.get(bd))
        .collect();
    if queue_datas.is_empty() || brokers.is_empty() {
        return Some(RouteEntry {
            queue_datas,
            route: None,
            seq,
        });
    }
    java_hash_order_in(&mut brokers, broker_copy_table(queues.len()), |b| {
        b.name_hash
    });
    if acting_master_applies(cfg, topic) {
        let mut datas: Vec<BrokerData> = brokers.iter().map(|b| b.data.clone()).collect();
        apply_acting_master(&mut datas, &queue_datas);
        for (slot, data) in brokers.iter_mut().zip(datas) {
            if slot.data != data {
                // Rewritten for this topic only: not shared, not cached.
                *slot = Arc::new(BrokerFragments::new(data));
            }
        }
    }
    let extras = RouteExtras {
        filter_server_table: filter_server_table(t, brokers.iter().map(|b| &b.data)),
        order_topic_conf: order_topic_conf(cfg, kv, topic),
        mapping: t.mapping.get(topic).cloned(),
    };
    let has_extras = !extras.filter_server_table.is_empty()
        || extras.order_topic_conf.is_some()
        || extras.mapping.is_some();
    Some(RouteEntry {
        queue_datas,
        route: Some(Route {
            brokers,
            extras: has_extras.then(|| Box::new(extras)),
            legacy: OnceBox::new(),
            standard: OnceBox::new(),
        }),
        seq,
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

#[cfg(test)]
mod tests {
    //! Spliced route bodies must be byte-identical to encoding the assembled
    //! route directly (the encoder the goldens and the differential check).

    use super::*;
    use crate::registry::tables::{Registration, TableSettings};
    use crate::registry::ConnId;
    use futures_lite::future::block_on;
    use protocol::body::TopicRouteData;
    use protocol::body::{DataVersion, RegisterBrokerBody, TopicConfig};

    /// The reference: the route assembled as plain data, as upstream's
    /// `pickupTopicRouteData` does. `None` = no route (17).
    fn assemble_route(
        t: &Tables,
        topic: &str,
        cfg: &Config,
        kv: &KvTableMap,
    ) -> Option<TopicRouteData> {
        let queues = t.topic_queue.get(topic)?;
        let queue_datas = ordered_queue_datas(queues);
        let mut names: Vec<&str> = queues.keys().collect();
        java_hash_order_in(&mut names, broker_copy_table(queues.len()), |n| {
            java_string_hash(n)
        });
        let mut broker_datas: Vec<BrokerData> = names
            .iter()
            .filter_map(|n| t.broker_addr.get(*n).cloned())
            .collect();
        if queue_datas.is_empty() || broker_datas.is_empty() {
            return None;
        }
        let filter_server_table = filter_server_table(t, &broker_datas);
        if acting_master_applies(cfg, topic) {
            apply_acting_master(&mut broker_datas, &queue_datas);
        }
        Some(TopicRouteData {
            broker_datas,
            filter_server_table,
            order_topic_conf: order_topic_conf(cfg, kv, topic),
            queue_datas,
            topic_queue_mapping_by_broker: t.mapping.get(topic).cloned(),
        })
    }

    /// Broker names spread over Java hash buckets (so table sizes matter).
    fn name(i: usize) -> String {
        format!(
            "broker-{i}-{:x}",
            (i as u64).wrapping_mul(0x9E37_79B9_7F4A_7C15) >> 44
        )
    }

    fn reg(
        cluster: &str,
        i: usize,
        id: i64,
        addr: &str,
        topics: &[(String, i32)],
        counter: i64,
    ) -> Registration {
        let name = name(i);
        let mut mapping_infos = BTreeMap::new();
        if let Some((t, _)) = topics.iter().find(|(t, _)| t.ends_with("-static")) {
            mapping_infos.insert(
                t.clone(),
                TopicQueueMappingInfo {
                    bname: Some(name.clone()),
                    curr_id_map: Some(BTreeMap::from([(0, 0), (1, 1)])),
                    epoch: 7,
                    scope: Some("__global__".into()),
                    topic: Some(t.clone()),
                    total_queues: 2,
                    ..Default::default()
                },
            );
        }
        Registration {
            cluster: cluster.into(),
            addr: addr.into(),
            name: name.clone(),
            broker_id: id,
            ha_server_addr: None,
            heartbeat_timeout_ms: None,
            enable_acting_master: Some(i % 10 == 7),
            zone_name: (i % 2 == 0).then(|| "zone-a".to_string()),
            body: RegisterBrokerBody {
                data_version: DataVersion {
                    counter,
                    state_version: 0,
                    timestamp: 1,
                },
                topic_configs: topics
                    .iter()
                    .map(|(t, perm)| TopicConfig {
                        topic_name: t.clone(),
                        read_queue_nums: 4,
                        write_queue_nums: 4,
                        perm: *perm,
                        ..TopicConfig::default()
                    })
                    .collect(),
                mapping_infos,
                filter_server_list: Some(if i % 10 == 3 {
                    vec![format!("{addr}-fs")]
                } else {
                    Vec::new()
                }),
            },
        }
    }

    fn topics_of(b: usize) -> Vec<(String, i32)> {
        // Topic t lives on brokers b with b % (t % 7 + 1) == 0: from 1 to 30 brokers.
        let mut v: Vec<(String, i32)> = (0..40)
            .filter(|t| b % (t % 7 + 1) == 0)
            .map(|t| (format!("T{t}/ü"), if t % 5 == 0 { 4 } else { 6 }))
            .collect();
        v.push((name(b), 6));
        if b % 4 == 0 {
            v.push(("shared-static".into(), 6));
        }
        v
    }

    fn check_all(t: &Tables, snap: &Snapshot, cfg: &Config, kv: &KvTableMap) -> usize {
        let mut checked = 0;
        for topic in t.topic_queue.keys() {
            let entry = snap.routes.get(topic.as_str()).expect("entry published");
            let expected = assemble_route(t, topic, cfg, kv);
            assert_eq!(entry.has_route(), expected.is_some(), "{topic}");
            if let Some(route) = expected {
                for dialect in [Dialect::Legacy, Dialect::Standard] {
                    let mut direct = Vec::new();
                    route.encode(dialect, &mut direct);
                    let spliced = entry.body(dialect).expect("body");
                    assert_eq!(
                        String::from_utf8_lossy(&spliced),
                        String::from_utf8_lossy(&direct),
                        "{topic} {dialect:?}"
                    );
                    // The second read is the cached one.
                    assert_eq!(entry.body(dialect).expect("body"), spliced);
                    checked += 1;
                }
            }
        }
        assert_eq!(snap.routes.len(), t.topic_queue.len());
        checked
    }

    #[test]
    fn spliced_bodies_match_direct_encoding_through_changes() {
        let mut cfg = Config::default();
        cfg.support_acting_master = true;
        cfg.order_message_enable = true;
        let kv: KvTableMap = BTreeMap::from([(
            ORDER_TOPIC_CONFIG.to_string(),
            BTreeMap::from([("T3/ü".to_string(), "broker-3:4".to_string())]),
        )]);
        let now = Instant::now();
        let mut t = Tables::default();
        let mut b = SnapshotBuilder::new(Arc::new(cfg.clone()), Arc::new(kv.clone()), now);
        let settings = TableSettings::default();
        for i in 0..30usize {
            let cluster = if i % 2 == 0 { "c-even" } else { "c-odd" };
            // Brokers 7, 17 and 27 have only a slave: acting master applies.
            let id = if i % 10 == 7 { 1 } else { 0 };
            let r = reg(
                cluster,
                i,
                id,
                &format!("10.0.{i}.1:10911"),
                &topics_of(i),
                1,
            );
            assert!(t
                .register_broker(&r, ConnId(i as u64), now, settings)
                .is_some());
            if i % 3 == 0 {
                // Publish mid-way too, so later changes meet cached fragments.
                let snap = block_on(b.publish(&mut t, &cfg, &kv));
                check_all(&t, &snap, &cfg, &kv);
            }
        }
        let snap = block_on(b.publish(&mut t, &cfg, &kv));
        assert!(check_all(&t, &snap, &cfg, &kv) > 80);

        // Slaves join, a master moves, a broker leaves: fragments must follow.
        for i in [2usize, 4, 6] {
            let r = reg(
                "c-even",
                i,
                1,
                &format!("10.1.{i}.1:10911"),
                &topics_of(i),
                1,
            );
            t.register_broker(&r, ConnId(100 + i as u64), now, settings);
        }
        let moved = reg("c-odd", 5, 0, "10.9.9.9:10911", &topics_of(5), 2);
        t.register_broker(&moved, ConnId(200), now, settings);
        t.unregister_broker("c-odd", "10.0.9.1:10911", &name(9), 0);
        let snap2 = block_on(b.publish(&mut t, &cfg, &kv));
        check_all(&t, &snap2, &cfg, &kv);
        // The older snapshot still answers with what it had.
        check_one_unchanged(&snap, &name(9));
    }

    fn check_one_unchanged(snap: &Snapshot, topic: &str) {
        let body = snap
            .routes
            .get(topic)
            .and_then(|e| e.body(Dialect::Standard));
        let body = body.expect("old snapshot keeps its route");
        assert!(String::from_utf8_lossy(&body).contains("10.0.9.1:10911"));
    }
}
