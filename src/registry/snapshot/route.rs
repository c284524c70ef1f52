//! A topic's entry as readers see it, and the per-broker fragments its route
//! body is spliced from.

use std::sync::Arc;

use bytes::Bytes;
use once_cell::race::OnceBox;
use protocol::body::{write_route_json, BrokerData, QueueData, RouteRest, TopicQueueMappingInfo};
use protocol::java_table::{java_string_hash, order_str_keys, JavaTable};
use protocol::json::{Dialect, JsonOut};

use crate::registry::topic_queues::QueueSlot;
use crate::registry::{HashMap, HashSet};

/// One topic as readers see it: one allocation (behind the route map's `Arc`)
/// besides the queue list it shares with the writer's tables.
///
/// A resize of upstream's topicQueueTable, which changes every topic's chain
/// rank and nothing else, re-ranks an entry with a shallow copy that keeps the
/// bodies encoded so far ([`RouteEntry::reranked`]).
#[derive(Debug)]
pub struct RouteEntry {
    /// In route order (upstream's per-topic HashMap), shared with the tables;
    /// used by the topic-list codes and the route body.
    pub queues: Arc<[QueueSlot]>,
    /// In `brokerDatas` order; empty when no broker of the topic is known (a
    /// lookup answers 17).
    pub(super) brokers: Brokers,
    /// Filter servers, `orderTopicConf`, static-topic mappings: rare, so boxed.
    pub(super) extras: Option<Box<RouteExtras>>,
    /// Filled at most once per dialect by the first reader (lock-free: racing
    /// cores may both encode, one result wins, and the bytes are identical).
    legacy: OnceBox<Bytes>,
    standard: OnceBox<Bytes>,
    /// Rank in its bucket's chain of upstream's topicQueueTable (a bucket's
    /// topics iterate in it).
    pub chain_rank: u64,
    /// Java `hashCode` of the topic name, which picks its bucket there.
    pub name_hash: i32,
}

/// A route's BrokerFragments: most topics live on one broker, which then costs
/// no allocation of its own.
#[derive(Debug, Clone)]
pub(super) enum Brokers {
    One(Arc<BrokerFragments>),
    Many(Box<[Arc<BrokerFragments>]>),
}

impl Brokers {
    pub(super) fn new(mut brokers: Vec<Arc<BrokerFragments>>) -> Brokers {
        if brokers.len() == 1 {
            if let Some(b) = brokers.pop() {
                return Brokers::One(b);
            }
        }
        Brokers::Many(brokers.into_boxed_slice())
    }

    pub(super) fn as_slice(&self) -> &[Arc<BrokerFragments>] {
        match self {
            Brokers::One(b) => std::slice::from_ref(b),
            Brokers::Many(bs) => bs,
        }
    }
}

#[derive(Debug, Default, Clone)]
pub(super) struct RouteExtras {
    /// In upstream's put order.
    pub(super) filter_server_table: Vec<(String, Option<Vec<String>>)>,
    pub(super) order_topic_conf: Option<String>,
    /// In upstream's iteration order.
    pub(super) mapping: Option<Vec<(String, TopicQueueMappingInfo)>>,
}

/// One BrokerData as a member of route bodies, encoded in both dialects.
#[derive(Debug)]
pub(super) struct BrokerFragments {
    pub(super) data: BrokerData,
    /// Java `hashCode` of the broker name (it fixes the `brokerDatas` order).
    pub(super) name_hash: i32,
    /// The legacy `brokerAddrs` order of a group an acting master rewrote for
    /// one route (`None`: the group's own order).
    legacy_ids: Option<Box<[i64]>>,
    legacy: Box<[u8]>,
    standard: Box<[u8]>,
}

impl BrokerFragments {
    pub(super) fn new(data: BrokerData) -> Self {
        let encode = |dialect| {
            let mut out = Vec::with_capacity(128);
            data.write_route_member(&mut JsonOut::new(&mut out, dialect));
            out.into_boxed_slice()
        };
        BrokerFragments {
            name_hash: java_string_hash(&data.broker_name),
            legacy_ids: None,
            legacy: encode(Dialect::Legacy),
            standard: encode(Dialect::Standard),
            data,
        }
    }

    /// Fragments of a BrokerData rewritten for one route, its legacy
    /// `brokerAddrs` in the order given (ids).
    pub(super) fn rewritten(data: BrokerData, legacy_ids: &[i64]) -> Self {
        let encode = |dialect| {
            let mut out = Vec::with_capacity(128);
            data.write_route_member_in(&mut JsonOut::new(&mut out, dialect), legacy_ids);
            out.into_boxed_slice()
        };
        BrokerFragments {
            name_hash: java_string_hash(&data.broker_name),
            legacy_ids: Some(legacy_ids.into()),
            legacy: encode(Dialect::Legacy),
            standard: encode(Dialect::Standard),
            data,
        }
    }

    /// The ids in the order this group's legacy `brokerAddrs` lists them.
    fn legacy_order(&self) -> Vec<i64> {
        match &self.legacy_ids {
            Some(ids) => ids.to_vec(),
            None => self.data.route_addrs().iter().map(|(id, _)| *id).collect(),
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
pub(super) struct FragmentCache {
    by_name: HashMap<String, Arc<BrokerFragments>>,
}

impl FragmentCache {
    /// Drops the fragments of the groups the tables marked changed (every
    /// change to a BrokerData marks its name), so they are encoded anew.
    pub(super) fn refresh(&mut self, changed: &HashSet<String>) {
        for name in changed {
            self.by_name.remove(name);
        }
    }

    /// Every cached fragment holds its group's current BrokerData: what
    /// [`Self::refresh`] trusts the Dirty marks for (debug builds, per publish).
    #[cfg(debug_assertions)]
    pub(super) fn check(&self, t: &crate::registry::tables::Tables) {
        for (name, f) in &self.by_name {
            debug_assert!(
                t.broker(name) == Some(&f.data),
                "fragment of {name} is stale: a BrokerData change went unmarked"
            );
        }
    }

    /// The fragments of `bd` (valid after [`Self::refresh`] for this publish).
    pub(super) fn get(&mut self, bd: &BrokerData) -> Arc<BrokerFragments> {
        if let Some(f) = self.by_name.get(&bd.broker_name) {
            return f.clone();
        }
        let f = Arc::new(BrokerFragments::new(bd.clone()));
        self.by_name.insert(bd.broker_name.clone(), f.clone());
        f
    }
}

impl RouteEntry {
    pub(super) fn new(
        queues: Arc<[QueueSlot]>,
        brokers: Vec<Arc<BrokerFragments>>,
        extras: Option<Box<RouteExtras>>,
        chain_rank: u64,
        name_hash: i32,
    ) -> RouteEntry {
        RouteEntry {
            queues,
            brokers: Brokers::new(brokers),
            extras,
            legacy: OnceBox::new(),
            standard: OnceBox::new(),
            chain_rank,
            name_hash,
        }
    }

    /// The same entry at another chain rank, sharing its queues, its brokers and
    /// the bodies encoded so far.
    pub(super) fn reranked(&self, chain_rank: u64) -> RouteEntry {
        let copy = |cell: &OnceBox<Bytes>| {
            let out = OnceBox::new();
            if let Some(body) = cell.get() {
                let _ = out.set(Box::new(body.clone()));
            }
            out
        };
        RouteEntry {
            queues: self.queues.clone(),
            brokers: self.brokers.clone(),
            extras: self.extras.clone(),
            legacy: copy(&self.legacy),
            standard: copy(&self.standard),
            chain_rank,
            name_hash: self.name_hash,
        }
    }

    /// The QueueData in route order (owned copies, for encoding and tests).
    pub fn queue_datas(&self) -> Vec<QueueData> {
        self.queues.iter().map(QueueSlot::to_queue_data).collect()
    }

    /// The route as upstream's `ZoneRouteRPCHook#filterByZoneName` answers it:
    /// groups with a master outside `zone` go, with their queues and their
    /// addresses' filter servers. The hook decodes the body the processor encoded
    /// (in `listed`, the dialect the request asked for) and encodes the result
    /// again with the legacy `encode()`, so each map is a fresh `HashMap` filled in
    /// the order `listed` wrote it: the stored order (legacy) or sorted (standard,
    /// `MapSortField`). Built per request (zone mode is rare).
    pub fn zone_body(&self, zone: &str, listed: Dialect) -> Option<Bytes> {
        if !self.has_route() {
            return None;
        }
        let keep = |bd: &BrokerData| {
            !bd.broker_addrs.contains_key(&0)
                || bd
                    .zone_name
                    .as_deref()
                    .is_some_and(|z| z.eq_ignore_ascii_case(zone))
        };
        let (kept, removed): (Vec<&BrokerFragments>, Vec<&BrokerFragments>) = self
            .brokers
            .as_slice()
            .iter()
            .map(|b| &**b)
            .partition(|b| keep(&b.data));
        let removed: Vec<&BrokerData> = removed.iter().map(|b| &b.data).collect();
        let gone = |name: &str| removed.iter().any(|b| b.broker_name == name);
        let queue_datas: Vec<QueueData> = self
            .queues
            .iter()
            .filter(|q| !gone(q.broker_name()))
            .map(QueueSlot::to_queue_data)
            .collect();
        let extras = self.extras.as_deref();
        // As listed: the stored table's iteration order (its null puts sized it)
        // or sorted; the decoded body has no null lists. `write_route_json` then
        // orders them as the fresh map iterates.
        let filters: Vec<(String, Option<Vec<String>>)> = extras
            .map(|e| {
                let mut table = e.filter_server_table.clone();
                order_str_keys(&mut table, listed, JavaTable::HashMap);
                table
                    .into_iter()
                    .filter(|(_, list)| list.is_some())
                    .filter(|(addr, _)| {
                        !removed
                            .iter()
                            .any(|b| b.broker_addrs.values().any(|a| a == addr))
                    })
                    .collect()
            })
            .unwrap_or_default();
        // The mapping is stored in its table's iteration order already.
        let mapping = extras.and_then(|e| e.mapping.as_deref()).map(|m| {
            let mut fresh = m.to_vec();
            if listed == Dialect::Standard {
                order_str_keys(&mut fresh, Dialect::Standard, JavaTable::HashMap);
            }
            order_str_keys(&mut fresh, Dialect::Legacy, JavaTable::HashMap);
            fresh
        });
        let rest = RouteRest {
            filter_server_table: &filters,
            order_topic_conf: extras.and_then(|e| e.order_topic_conf.as_deref()),
            queue_datas: &queue_datas,
            topic_queue_mapping_by_broker: mapping.as_deref(),
        };
        let mut out = Vec::with_capacity(256);
        let brokers = |w: &mut JsonOut<'_>| {
            for b in &kept {
                // Decoded `brokerAddrs`: a `new HashMap<>()` put in the order the
                // processor's body lists them (an acting master's rewrite included).
                let mut decoded = b.data.clone();
                decoded.addr_order = match listed {
                    Dialect::Legacy => b.legacy_order(),
                    Dialect::Standard => {
                        let mut ids = b.legacy_order();
                        ids.sort_unstable();
                        ids
                    }
                };
                decoded.write_json(w, JavaTable::HashMap);
            }
        };
        write_route_json(&mut JsonOut::new(&mut out, Dialect::Legacy), brokers, &rest);
        Some(Bytes::from(out))
    }

    /// Whether a lookup finds a route (else it answers 17).
    pub(super) fn has_route(&self) -> bool {
        !self.brokers.as_slice().is_empty()
    }

    /// The route body in `dialect`, spliced on the first call and shared after.
    pub fn body(&self, dialect: Dialect) -> Option<Bytes> {
        if !self.has_route() {
            return None;
        }
        let cell = match dialect {
            Dialect::Legacy => &self.legacy,
            Dialect::Standard => &self.standard,
        };
        Some(cell.get_or_init(|| Box::new(self.encode(dialect))).clone())
    }

    fn encode(&self, dialect: Dialect) -> Bytes {
        // Owned QueueData for the encoder: only the first read of a body pays.
        let queue_datas = &self.queue_datas()[..];
        let no_filters = Vec::new();
        let extras = self.extras.as_deref();
        let rest = RouteRest {
            filter_server_table: extras.map_or(&no_filters, |e| &e.filter_server_table),
            order_topic_conf: extras.and_then(|e| e.order_topic_conf.as_deref()),
            queue_datas,
            topic_queue_mapping_by_broker: extras.and_then(|e| e.mapping.as_deref()),
        };
        let brokers_len: usize = self
            .brokers
            .as_slice()
            .iter()
            .map(|b| b.bytes(dialect).len() + 1)
            .sum();
        let mut out = Vec::with_capacity(brokers_len + queue_datas.len() * 96 + 96);
        write_route_json(
            &mut JsonOut::new(&mut out, dialect),
            |w| {
                for b in self.brokers.as_slice() {
                    w.raw_value(b.bytes(dialect));
                }
            },
            &rest,
        );
        Bytes::from(out)
    }
}
