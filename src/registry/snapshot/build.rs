//! Building a snapshot's parts from the tables: a topic's route entry (upstream's
//! `RouteInfoManager#pickupTopicRouteData`).

use std::sync::Arc;

use protocol::body::BrokerData;
use protocol::java_table::{
    java_bucket, java_hash_order_in, java_long_hash, java_string_hash, JavaTable,
};

use super::route::{BrokerFragments, FragmentCache, RouteEntry, RouteExtras};
use crate::config::Config;
use crate::kv::{KvNamespaces, ORDER_TOPIC_CONFIG};
use crate::registry::tables::Tables;
use crate::registry::topic_queues::QueueSlot;

/// Topics for broker-member sync never get acting-master rewriting.
const SYNC_BROKER_MEMBER_PREFIX: &str = "rmq_sys_SYNC_BROKER_MEMBER_";

/// How Java sizes the HashSet of a topic's broker names that `brokerDatas` follow:
/// copied from the topic's map, so sized differently from the map itself (orders
/// differ from 12 brokers up).
pub(super) fn broker_copy_table(brokers: usize) -> JavaTable {
    JavaTable::HashMapWith(((brokers as f32 / 0.75) as usize + 1).max(16))
}

/// `filterServerTable`: the filter servers of every address of these brokers, in
/// the order upstream puts them (brokers in `brokerDatas` order, each one's
/// addresses in its copy's order, before any acting-master rewrite). Upstream puts
/// every address once any filter server is known, a null list included
/// (`None`): fastjson leaves those out, but they sized the HashMap.
pub(super) fn filter_server_table<'a>(
    t: &Tables,
    brokers: impl IntoIterator<Item = &'a BrokerData>,
) -> Vec<(String, Option<Vec<String>>)> {
    let mut table: Vec<(String, Option<Vec<String>>)> = Vec::new();
    if !t.has_filter_servers() {
        return table;
    }
    for bd in brokers {
        for (_, addr) in bd.route_addrs() {
            let list = t
                .filter_servers(&(bd.cluster.clone(), addr.clone()))
                .cloned();
            // A put of a present key keeps its place.
            match table.iter_mut().find(|(a, _)| a == addr) {
                Some(slot) => slot.1 = list,
                None => table.push((addr.clone(), list)),
            }
        }
    }
    table
}

/// The settings that shape route bytes, read below: a config change that keeps
/// them rebuilds no route.
pub(super) fn shapes_routes(cfg: &Config) -> (bool, bool) {
    (cfg.order_message_enable, cfg.support_acting_master)
}

/// `orderTopicConf`: the topic's ORDER_TOPIC_CONFIG entry, when order messages are on.
pub(super) fn order_topic_conf(cfg: &Config, kv: &KvNamespaces, topic: &str) -> Option<String> {
    if !cfg.order_message_enable {
        return None;
    }
    kv.get(ORDER_TOPIC_CONFIG)
        .and_then(|m| m.get(topic))
        .cloned()
}

/// Whether routes of this topic show acting masters (upstream's
/// `RouteInfoManager#pickupTopicRouteData` skips the sync topics).
pub(super) fn acting_master_applies(cfg: &Config, topic: &str) -> bool {
    cfg.support_acting_master && !topic.starts_with(SYNC_BROKER_MEMBER_PREFIX)
}

/// A group with no master whose queues for this topic are read-only: its lowest id
/// is shown as the master (id 0) so clients can still read from it.
pub(super) fn apply_acting_master(broker_datas: &mut [BrokerData], queues: &[QueueSlot]) {
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
        let Some(q) = queues.iter().find(|q| q.broker_name() == bd.broker_name) else {
            continue;
        };
        if q.perm() & protocol::codes::perm::WRITE == 0 {
            if let Some((&min_id, _)) = bd.broker_addrs.iter().next() {
                if let Some(addr) = bd.remove_addr(min_id) {
                    bd.put_addr(0, addr);
                }
            }
        }
    }
}

/// The ids of a route's copy of `orig` (`new HashMap<>(addrs)`) as it iterates
/// after the acting-master rewrite, `remove(minId)` then `put(0L, addr)`: the
/// copy keeps its size and table, so 0 joins the tail of its bucket's chain.
pub(super) fn acting_master_order(orig: &BrokerData) -> Vec<i64> {
    let copy = orig.route_addrs();
    let Some(min) = orig.broker_addrs.keys().next().copied() else {
        return Vec::new();
    };
    let cap = JavaTable::HashMapCopy.capacity(copy.len());
    let mut ids: Vec<i64> = copy
        .iter()
        .map(|(id, _)| *id)
        .filter(|id| *id != min)
        .collect();
    ids.push(0);
    // Stable: the copy's chains keep their order, 0 comes last in its bucket.
    ids.sort_by_key(|id| java_bucket(java_long_hash(*id), cap));
    ids
}

/// Builds a topic's snapshot entry, or `None` when the topic has no QueueData.
/// The route is upstream's `RouteInfoManager#pickupTopicRouteData`, including
/// `orderTopicConf`, with each BrokerData taken from `frags`.
pub(super) fn build_route_entry(
    t: &Tables,
    topic: &str,
    cfg: &Config,
    kv: &KvNamespaces,
    frags: &mut FragmentCache,
) -> Option<RouteEntry> {
    let queues = t.queues(topic)?;
    // Shared with the tables: already in upstream's per-topic HashMap order.
    let slots = queues.java_slots();
    let chain_rank = t.topic_chain_rank(topic);
    let name_hash = java_string_hash(topic);
    // `new HashSet<>(queueDataMap.keySet())`: filled in the map's order, which
    // `values()` (the QueueData above) walks too.
    let mut brokers: Vec<Arc<BrokerFragments>> = slots
        .iter()
        .filter_map(|q| t.broker(q.broker_name()))
        .map(|bd| frags.get(bd))
        .collect();
    if slots.is_empty() || brokers.is_empty() {
        return Some(RouteEntry::new(
            slots,
            Vec::new(),
            None,
            chain_rank,
            name_hash,
        ));
    }
    java_hash_order_in(&mut brokers, broker_copy_table(queues.len()), |b| {
        b.name_hash
    });
    let filter_server_table = filter_server_table(t, brokers.iter().map(|b| &b.data));
    if acting_master_applies(cfg, topic) {
        let mut datas: Vec<BrokerData> = brokers.iter().map(|b| b.data.clone()).collect();
        apply_acting_master(&mut datas, &slots);
        for (slot, data) in brokers.iter_mut().zip(datas) {
            if slot.data != data {
                // Rewritten for this topic only: not shared, not cached.
                let order = acting_master_order(&slot.data);
                *slot = Arc::new(BrokerFragments::rewritten(data, &order));
            }
        }
    }
    let extras = RouteExtras {
        filter_server_table,
        order_topic_conf: order_topic_conf(cfg, kv, topic),
        mapping: t.mapping(topic),
    };
    let has_extras = !extras.filter_server_table.is_empty()
        || extras.order_topic_conf.is_some()
        || extras.mapping.is_some();
    Some(RouteEntry::new(
        slots,
        brokers,
        has_extras.then(|| Box::new(extras)),
        chain_rank,
        name_hash,
    ))
}
