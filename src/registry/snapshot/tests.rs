//! Spliced route bodies must be byte-identical to encoding the assembled
//! route directly (the encoder the goldens and the differential check).

use super::build::{
    acting_master_applies, acting_master_order, apply_acting_master, broker_copy_table,
    filter_server_table, order_topic_conf,
};
use super::*;
use crate::kv::ORDER_TOPIC_CONFIG;
use crate::registry::tables::{Registration, TableSettings};
use crate::registry::ConnId;
use bytes::Bytes;
use futures_lite::future::block_on;
use protocol::body::{write_route_json, QueueData, RouteRest};
use protocol::body::{BrokerData, ClusterInfo, ClusterOrder, TopicQueueMappingInfo};
use protocol::body::{DataVersion, RegisterBrokerBody, TopicConfig};
use protocol::java_table::{java_hash_order_in, java_string_hash};
use protocol::json::{Dialect, JsonOut};
use std::collections::BTreeMap;

/// The reference: the route assembled as plain data, as upstream's
/// `pickupTopicRouteData` does, with its two maps in upstream's put order (a
/// `TopicRouteData` keeps them by key). `None` = no route (17).
struct Reference {
    /// Each with the legacy id order of its acting-master rewrite, if any.
    broker_datas: Vec<(BrokerData, Option<Vec<i64>>)>,
    filter_server_table: Vec<(String, Option<Vec<String>>)>,
    order_topic_conf: Option<String>,
    queue_datas: Vec<QueueData>,
    mapping: Option<Vec<(String, TopicQueueMappingInfo)>>,
}

impl Reference {
    /// The body as `write_route_json` writes it, each BrokerData encoded here.
    fn encode(&self, dialect: Dialect, out: &mut Vec<u8>) {
        let rest = RouteRest {
            filter_server_table: &self.filter_server_table,
            order_topic_conf: self.order_topic_conf.as_deref(),
            queue_datas: &self.queue_datas,
            topic_queue_mapping_by_broker: self.mapping.as_deref(),
        };
        let brokers = |w: &mut JsonOut<'_>| {
            for (bd, rewritten) in &self.broker_datas {
                match rewritten {
                    Some(ids) => bd.write_route_member_in(w, ids),
                    None => bd.write_route_member(w),
                }
            }
        };
        write_route_json(&mut JsonOut::new(out, dialect), brokers, &rest);
    }
}

fn assemble_route(t: &Tables, topic: &str, cfg: &Config, kv: &KvNamespaces) -> Option<Reference> {
    let queues = t.queues(topic)?;
    let queue_datas = queues.java_queue_datas();
    let mut names: Vec<&str> = queues.java_keys();
    java_hash_order_in(&mut names, broker_copy_table(queues.len()), |n| {
        java_string_hash(n)
    });
    let mut broker_datas: Vec<BrokerData> =
        names.iter().filter_map(|n| t.broker(n).cloned()).collect();
    if queue_datas.is_empty() || broker_datas.is_empty() {
        return None;
    }
    let filter_server_table = filter_server_table(t, &broker_datas);
    let originals = broker_datas.clone();
    if acting_master_applies(cfg, topic) {
        apply_acting_master(&mut broker_datas, &queues.java_slots());
    }
    let broker_datas = broker_datas
        .into_iter()
        .zip(originals)
        .map(|(bd, orig)| {
            let rewritten = (bd != orig).then(|| acting_master_order(&orig));
            (bd, rewritten)
        })
        .collect();
    Some(Reference {
        broker_datas,
        filter_server_table,
        order_topic_conf: order_topic_conf(cfg, kv, topic),
        queue_datas,
        mapping: t.mapping(topic),
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
        peer: None,
        zone_name: i.is_multiple_of(2).then(|| "zone-a".to_string()),
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
        .filter(|t| b.is_multiple_of(t % 7 + 1))
        .map(|t| (format!("T{t}/ü"), if t.is_multiple_of(5) { 4 } else { 6 }))
        .collect();
    v.push((name(b), 6));
    if b.is_multiple_of(4) {
        v.push(("shared-static".into(), 6));
    }
    v
}

fn check_all(t: &Tables, snap: &Snapshot, cfg: &Config, kv: &KvNamespaces) -> usize {
    let mut checked = 0;
    for topic in t.topic_names() {
        let entry = snap.routes.get(topic).expect("entry published");
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
    assert_eq!(snap.routes.len(), t.topic_count());
    check_cluster(t, snap);
    checked
}

/// The cluster view, kept per changed group, must equal one built whole from
/// the tables (as every publish built it before), body bytes included.
fn check_cluster(t: &Tables, snap: &Snapshot) {
    let brokers = t.brokers();
    let clusters = t.clusters();
    let info = ClusterInfo {
        broker_addr_table: brokers
            .iter()
            .map(|(k, v)| ((*k).clone(), (*v).clone()))
            .collect(),
        cluster_addr_table: clusters
            .iter()
            .map(|(c, names)| ((*c).clone(), names.iter().map(|n| (*n).clone()).collect()))
            .collect(),
    };
    let order = ClusterOrder {
        brokers: brokers.into_iter().map(|(k, _)| k.clone()).collect(),
        clusters: clusters
            .into_iter()
            .map(|(c, names)| (c.clone(), names.into_iter().cloned().collect()))
            .collect(),
    };
    let mut body = Vec::new();
    info.encode_in(&order, Dialect::Legacy, &mut body);
    let view = snap.cluster.tables();
    check_accessors(&snap.cluster, view);
    assert_eq!(view.info, info);
    assert_eq!(view.order, order);
    assert_eq!(
        String::from_utf8_lossy(&view.body),
        String::from_utf8_lossy(&body)
    );
}

/// The accessors that read the view's parts (901, 224, 304, the metrics) agree
/// with the tables it builds.
fn check_accessors(cluster: &ClusterView, view: &ClusterTables) {
    assert_eq!(cluster.group_count(), view.info.broker_addr_table.len());
    assert_eq!(cluster.cluster_count(), view.info.cluster_addr_table.len());
    for (name, bd) in &view.info.broker_addr_table {
        assert_eq!(cluster.group(name), Some(bd));
    }
    assert_eq!(cluster.group("no-such-group"), None);
    let listed: Vec<(&str, &[String])> = cluster.clusters().collect();
    let ordered: Vec<(&str, &[String])> = view
        .order
        .clusters
        .iter()
        .map(|(c, names)| (c.as_str(), names.as_slice()))
        .collect();
    assert_eq!(listed, ordered);
    for (c, names) in &ordered {
        assert_eq!(cluster.members(c), Some(*names));
    }
    assert_eq!(cluster.members("no-such-cluster"), None);
    let first = view.order.brokers.iter().find_map(|n| {
        let bd = &view.info.broker_addr_table[n];
        (!bd.broker_addrs.is_empty()).then_some(bd)
    });
    assert_eq!(cluster.first_addressed_group(), first);
}

/// Hundreds of groups (brokerAddrTable resizes at 192 and 384), some leaving
/// and whole clusters emptied, published every few changes: the view kept per
/// changed group stays the one built whole.
#[test]
fn cluster_view_follows_groups_through_resizes_and_departures() {
    let cfg = Config::default();
    let kv = KvNamespaces::new();
    let now = Instant::now();
    let mut t = Tables::default();
    let mut b = SnapshotBuilder::new(Arc::new(cfg.clone()), Arc::new(kv.clone()), now);
    let settings = TableSettings::default();
    let topics = |i: usize| vec![(format!("T{}", i % 7), 6), (name(i), 6)];
    for i in 0..420usize {
        let cluster = format!("c{}", i % 9);
        let r = reg(
            &cluster,
            i,
            0,
            &format!("10.{}.{}.1:10911", i / 250, i % 250),
            &topics(i),
            1,
        );
        assert!(t
            .register_broker(&r, ConnId(i as u64), now, settings)
            .is_some());
        if i % 2 == 1 {
            let slave = reg(
                &cluster,
                i,
                1,
                &format!("10.{}.{}.2:10911", 8 + i / 250, i % 250),
                &topics(i),
                1,
            );
            t.register_broker(&slave, ConnId(1000 + i as u64), now, settings);
        }
        if i % 37 == 36 {
            for j in (i - 30..i).step_by(7) {
                let addr = format!("10.{}.{}.1:10911", j / 250, j % 250);
                t.unregister_broker(&format!("c{}", j % 9), &addr, &name(j), 0);
            }
        }
        if i % 13 == 0 || i > 380 {
            let snap = block_on(b.publish(&mut t, &cfg, &kv));
            check_cluster(&t, &snap);
        }
    }
    // Cluster c3 empties: it leaves the view.
    for i in (3..420usize).step_by(9) {
        let addr = format!("10.{}.{}.1:10911", i / 250, i % 250);
        t.unregister_broker("c3", &addr, &name(i), 0);
        t.unregister_broker(
            "c3",
            &format!("10.{}.{}.2:10911", 8 + i / 250, i % 250),
            &name(i),
            1,
        );
    }
    let snap = block_on(b.publish(&mut t, &cfg, &kv));
    check_all(&t, &snap, &cfg, &kv);
    assert!(!snap
        .cluster
        .tables()
        .info
        .cluster_addr_table
        .contains_key("c3"));
}

#[test]
fn spliced_bodies_match_direct_encoding_through_changes() {
    let cfg = Config {
        support_acting_master: true,
        order_message_enable: true,
        ..Config::default()
    };
    let kv = KvNamespaces::from([(
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
    assert_eq!(check_all(&t, &snap, &cfg, &kv), 142);
    let old_body = route_body(&snap, &name(9));
    assert!(String::from_utf8_lossy(&old_body).contains("10.0.9.1:10911"));

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
    assert_eq!(route_body(&snap, &name(9)), old_body);
}

fn route_body(snap: &Snapshot, topic: &str) -> Vec<u8> {
    let body = snap
        .routes
        .get(topic)
        .and_then(|e| e.body(Dialect::Standard));
    body.expect("old snapshot keeps its route").to_vec()
}

/// A config change republishes every route only when it changes a key that
/// shapes route bytes (`orderMessageEnable`, `supportActingMaster`); any other
/// 318 rebuilds nothing, and the routes stay the very same entries.
#[test]
fn only_route_shaping_config_changes_rebuild_routes() {
    let now = Instant::now();
    let mut cfg = Config::default();
    let kv = KvNamespaces::new();
    let mut t = Tables::default();
    let mut b = SnapshotBuilder::new(Arc::new(cfg.clone()), Arc::new(kv.clone()), now);
    for i in 0..3usize {
        let r = reg("c", i, 0, &format!("10.0.{i}.1:10911"), &topics_of(i), 1);
        t.register_broker(&r, ConnId(i as u64), now, TableSettings::default());
    }
    let first = block_on(b.publish(&mut t, &cfg, &kv));
    let topics = first.routes.len();
    // topics_of(0) lists all 40 T*/ü topics and name(0); brokers 1 and 2 add their own.
    assert_eq!((topics, b.last_replaced()), (44, 44));

    cfg.enable_topic_list = !cfg.enable_topic_list;
    t.config_changed();
    let unrelated = block_on(b.publish(&mut t, &cfg, &kv));
    assert_eq!(b.last_replaced(), 0);
    assert_eq!(unrelated.config.enable_topic_list, cfg.enable_topic_list);
    let same = |a: &Snapshot, b: &Snapshot| {
        a.routes
            .iter()
            .all(|(k, e)| b.routes.get(k).is_some_and(|o| Arc::ptr_eq(e, o)))
    };
    assert!(same(&first, &unrelated));

    cfg.order_message_enable = true;
    t.config_changed();
    let shaping = block_on(b.publish(&mut t, &cfg, &kv));
    assert_eq!(b.last_replaced(), topics);
    assert!(!same(&unrelated, &shaping));
}

#[test]
fn an_acting_master_joins_the_tail_of_its_bucket_in_the_routes_copy() {
    let mut bd = BrokerData::default();
    bd.put_addr(4, "10.0.0.4:1".into());
    bd.put_addr(8, "10.0.0.8:1".into());
    // The copy of two addresses has 4 buckets, 4 and 8 both in bucket 0 (the live
    // map of 16 has them apart): `remove(4)` leaves [8], `put(0L, ..)` appends.
    assert_eq!(acting_master_order(&bd), [8, 0]);
}

/// The order the topic-list codes walk: by bucket of upstream's topicQueueTable,
/// each chain by rank (what `handlers::lists` reads from the entries).
fn listed_order(snap: &Snapshot) -> Vec<String> {
    let cap = snap.topic_table_capacity;
    let mut all: Vec<(usize, u64, String)> = snap
        .routes
        .iter()
        .map(|(t, e)| {
            let bucket = protocol::java_table::java_bucket(e.name_hash, cap);
            (bucket, e.chain_rank, t.to_string())
        })
        .collect();
    all.sort_unstable();
    all.into_iter().map(|(_, _, t)| t).collect()
}

/// A resize of upstream's topicQueueTable (CHM(1024) doubling at 1536 topics)
/// re-ranks every route without rebuilding it: each old topic keeps its very
/// body bytes, while the lists take the order a JDK ConcurrentHashMap iterates.
#[test]
fn a_topic_table_resize_keeps_every_encoded_body() {
    use protocol::java_table::{JavaMap, JavaTable};
    let now = Instant::now();
    let cfg = Config::default();
    let kv = KvNamespaces::new();
    let mut t = Tables::default();
    let mut b = SnapshotBuilder::new(Arc::new(cfg.clone()), Arc::new(kv.clone()), now);
    let names: Vec<String> = (0..1536).map(|i| format!("ord-rs-{i}")).collect();
    let topics =
        |n: &[String]| -> Vec<(String, i32)> { n.iter().map(|t| (t.clone(), 6)).collect() };
    let first = reg("c", 0, 0, "10.0.0.1:10911", &topics(&names[..1535]), 1);
    t.register_broker(&first, ConnId(1), now, TableSettings::default());
    let before = block_on(b.publish(&mut t, &cfg, &kv));
    assert_eq!(before.topic_table_capacity, 2048);
    let bodies: Vec<(String, Bytes)> = before
        .routes
        .iter()
        .map(|(t, e)| (t.to_string(), e.body(Dialect::Standard).expect("route")))
        .collect();

    // One more topic: the 1536th (0.75 * 2048) resizes the table to 4096 buckets.
    let second = reg("c", 0, 0, "10.0.0.1:10911", &topics(&names), 2);
    t.register_broker(&second, ConnId(1), now, TableSettings::default());
    let after = block_on(b.publish(&mut t, &cfg, &kv));
    assert_eq!(after.topic_table_capacity, 4096);
    for (topic, body) in &bodies {
        let kept = after.routes.get(topic.as_str()).expect("still published");
        let now_body = kept.body(Dialect::Standard).expect("route");
        assert_eq!(now_body.as_ptr(), body.as_ptr(), "{topic} re-encoded");
        assert_eq!(now_body.len(), body.len());
    }

    // The same puts into the oracle-checked model of a CHM(1024).
    let mut model: JavaMap<String, ()> = JavaMap::new(JavaTable::ConcurrentHashMapWith(1024));
    let mut put_order: Vec<String> = Vec::new();
    for reg in [&first, &second] {
        for tc in &reg.body.topic_configs {
            if !put_order.contains(&tc.topic_name) {
                put_order.push(tc.topic_name.clone());
            }
        }
    }
    for n in put_order {
        model.insert(n, ());
    }
    let expected: Vec<String> = model
        .ordered()
        .into_iter()
        .map(|(n, _)| n.clone())
        .collect();
    assert_eq!(expected.len(), 1536);
    assert_eq!(listed_order(&after), expected);
}

/// `pickupTopicRouteData` puts every address of the route into filterServerTable,
/// null lists included: 13 puts grow its HashMap to 32 buckets, where
/// 127.0.0.1:41160 (bucket 14) comes before 127.0.0.1:41180 (bucket 16; both
/// would be the other way round in 16). Checked against Java 5.5.0.
#[test]
fn null_filter_server_puts_size_the_filter_table() {
    let now = Instant::now();
    let cfg = Config::default();
    let kv = KvNamespaces::new();
    let mut t = Tables::default();
    let mut b = SnapshotBuilder::new(Arc::new(cfg.clone()), Arc::new(kv.clone()), now);
    let topics = [("ord-Tfs".to_string(), 6), ("ord-Tfs2".to_string(), 6)];
    let mut addrs = vec!["127.0.0.1:41180".to_string(), "127.0.0.1:41160".to_string()];
    addrs.extend((0..11).map(|i| format!("127.0.0.1:{}", 41201 + i)));
    for (id, addr) in addrs.iter().enumerate() {
        let mut r = reg("ord-FsCluster", 5, id as i64, addr, &topics, 1);
        r.body.filter_server_list = Some(match id {
            0 => vec!["fs-a:1".to_string()],
            1 => vec!["fs-b:1".to_string()],
            _ => Vec::new(),
        });
        t.register_broker(&r, ConnId(id as u64), now, TableSettings::default());
    }
    let snap = block_on(b.publish(&mut t, &cfg, &kv));
    let body = snap
        .routes
        .get("ord-Tfs")
        .and_then(|e| e.body(Dialect::Legacy));
    let body = String::from_utf8(body.expect("route").to_vec()).expect("utf-8");
    let start = body.find("\"filterServerTable\"").expect("field");
    let end = start + body[start..].find('}').expect("end") + 1;
    assert_eq!(
        &body[start..end],
        r#""filterServerTable":{"127.0.0.1:41160":["fs-b:1"],"127.0.0.1:41180":["fs-a:1"]}"#
    );
}
