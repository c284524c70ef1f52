//! TopicRouteData and its parts: the body of a route lookup (105) and of 217.

use std::collections::BTreeMap;

use serde::Deserialize;

use super::error::BodyError;
use super::lenient::{long_or_string, map_skip_nulls, null_default, vec_skip_nulls};
use crate::java_table::{
    java_hash_order_in, java_long_hash, java_string_cmp, order_int_keys, order_str_keys, JavaTable,
};
use crate::json::{parse_dialect, Dialect, JsonOut};

/// One broker's queues for a topic. Equality compares all five fields, as upstream.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct QueueData {
    pub broker_name: String,
    pub perm: i32,
    pub read_queue_nums: i32,
    pub topic_sys_flag: i32,
    pub write_queue_nums: i32,
}

/// A broker group: its addresses by broker id (0 = master).
///
/// Equal when content and put order are: a removal and a re-put of an id
/// changes the order alone, and the order shows in the bodies.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct BrokerData {
    pub cluster: String,
    pub broker_name: String,
    pub broker_addrs: BTreeMap<i64, String>,
    pub enable_acting_master: bool,
    pub zone_name: Option<String>,
    /// The ids in the order they went into upstream's `brokerAddrs` HashMap (ids
    /// 0, 16, 32... share a bucket, whose chain keeps that order). Ids missing here
    /// (a decoded BrokerData) count as put after these, in id order. Kept by
    /// [`BrokerData::put_addr`] and [`BrokerData::retain_addrs`].
    pub addr_order: Vec<i64>,
}

/// Static-topic queue mapping of one broker for one topic.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct TopicQueueMappingInfo {
    pub bname: Option<String>,
    pub curr_id_map: Option<BTreeMap<i32, i32>>,
    pub dirty: bool,
    pub epoch: i64,
    pub scope: Option<String>,
    pub topic: Option<String>,
    pub total_queues: i32,
}

/// The route of one topic.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct TopicRouteData {
    pub broker_datas: Vec<BrokerData>,
    /// broker address -> filter server addresses. Always written (`{}` when empty).
    pub filter_server_table: BTreeMap<String, Vec<String>>,
    pub order_topic_conf: Option<String>,
    pub queue_datas: Vec<QueueData>,
    /// brokerName -> mapping; left out when `None`.
    pub topic_queue_mapping_by_broker: Option<BTreeMap<String, TopicQueueMappingInfo>>,
}

impl TopicRouteData {
    pub fn encode(&self, dialect: Dialect, out: &mut Vec<u8>) {
        self.write_json(&mut JsonOut::new(out, dialect));
    }

    /// Writes the route as the next value of `w`. Map orders follow how
    /// `pickupTopicRouteData` builds them: each BrokerData is a copy
    /// (`new HashMap<>(addrs)`), the filter table and the per-broker mapping are
    /// plain `new HashMap<>()`.
    pub fn write_json(&self, w: &mut JsonOut<'_>) {
        // Decoded routes carry no put order: key order stands in for it.
        let mapping: Option<Vec<(String, TopicQueueMappingInfo)>> =
            self.topic_queue_mapping_by_broker.as_ref().map(|m| {
                let mut v: Vec<(String, TopicQueueMappingInfo)> =
                    m.iter().map(|(k, v)| (k.clone(), v.clone())).collect();
                order_str_keys(&mut v, Dialect::Legacy, JavaTable::HashMap);
                v
            });
        let filters: Vec<(String, Option<Vec<String>>)> = self
            .filter_server_table
            .iter()
            .map(|(k, v)| (k.clone(), Some(v.clone())))
            .collect();
        let rest = RouteRest {
            filter_server_table: &filters,
            order_topic_conf: self.order_topic_conf.as_deref(),
            queue_datas: &self.queue_datas,
            topic_queue_mapping_by_broker: mapping.as_deref(),
        };
        write_route_json(
            w,
            |w| {
                for bd in &self.broker_datas {
                    bd.write_route_member(w);
                }
            },
            &rest,
        );
    }

    /// Parses a route in either dialect (also accepts `topicSynFlag`).
    pub fn decode(bytes: &[u8]) -> Result<Self, super::BodyError> {
        let wire: TopicRouteDataWire = parse_dialect(bytes).map_err(BodyError::Json)?;
        Ok(wire.into())
    }
}

/// Everything of a route body but its `brokerDatas`, borrowed. With
/// [`write_route_json`] a caller can splice BrokerData it encoded earlier
/// (each with [`BrokerData::write_route_member`]) and get the same bytes as
/// [`TopicRouteData::encode`].
pub struct RouteRest<'a> {
    /// In the order `pickupTopicRouteData` puts them into its `new HashMap<>()`,
    /// with the addresses that have none (`None`): fastjson skips null values, but
    /// those puts sized the table, which decides the order of the rest.
    pub filter_server_table: &'a [(String, Option<Vec<String>>)],
    pub order_topic_conf: Option<&'a str>,
    pub queue_datas: &'a [QueueData],
    /// In the iteration order of upstream's per-topic HashMap (the legacy
    /// dialect writes it as given).
    pub topic_queue_mapping_by_broker: Option<&'a [(String, TopicQueueMappingInfo)]>,
}

/// Writes a route whose `brokerDatas` array members come from `broker_datas`.
pub fn write_route_json(
    w: &mut JsonOut<'_>,
    broker_datas: impl FnOnce(&mut JsonOut<'_>),
    rest: &RouteRest<'_>,
) {
    let dialect = w.dialect();
    w.begin_object();

    w.key("brokerDatas");
    w.begin_array();
    broker_datas(w);
    w.end_array();

    w.key("filterServerTable");
    let mut filters: Vec<(&String, Option<&Vec<String>>)> = rest
        .filter_server_table
        .iter()
        .map(|(k, v)| (k, v.as_ref()))
        .collect();
    order_str_keys(&mut filters, dialect, JavaTable::HashMap);
    w.begin_object();
    for (addr, servers) in filters {
        if let Some(servers) = servers {
            w.key(addr);
            w.str_array(servers);
        }
    }
    w.end_object();

    w.field_opt_str("orderTopicConf", rest.order_topic_conf);

    w.key("queueDatas");
    w.begin_array();
    for qd in rest.queue_datas {
        qd.write_json(w);
    }
    w.end_array();

    if let Some(by_broker) = rest.topic_queue_mapping_by_broker {
        w.key("topicQueueMappingByBroker");
        let mut entries: Vec<(&String, &TopicQueueMappingInfo)> =
            by_broker.iter().map(|(k, v)| (k, v)).collect();
        if dialect == Dialect::Standard {
            entries.sort_by(|(a, _), (b, _)| java_string_cmp(a, b));
        }
        w.begin_object();
        for (name, info) in entries {
            w.key(name);
            info.write_json(w);
        }
        w.end_object();
    }

    w.end_object();
}

impl QueueData {
    pub fn encode(&self, dialect: Dialect, out: &mut Vec<u8>) {
        self.write_json(&mut JsonOut::new(out, dialect));
    }

    pub fn write_json(&self, w: &mut JsonOut<'_>) {
        w.begin_object();
        w.field_str("brokerName", &self.broker_name);
        w.field_i32("perm", self.perm);
        w.field_i32("readQueueNums", self.read_queue_nums);
        w.field_i32("topicSysFlag", self.topic_sys_flag);
        w.field_i32("writeQueueNums", self.write_queue_nums);
        w.end_object();
    }
}

impl BrokerData {
    /// `brokerAddrs.put(id, addr)`: a new id goes to its chain's tail.
    pub fn put_addr(&mut self, id: i64, addr: String) -> Option<String> {
        let old = self.broker_addrs.insert(id, addr);
        if old.is_none() {
            self.addr_order.retain(|x| *x != id);
            self.addr_order.push(id);
        }
        old
    }

    /// `remove(id)`: the id leaves the put order too.
    pub fn remove_addr(&mut self, id: i64) -> Option<String> {
        let old = self.broker_addrs.remove(&id)?;
        self.addr_order.retain(|x| *x != id);
        Some(old)
    }

    /// Removes the addresses `keep` says no to (`removeIf`).
    pub fn retain_addrs(&mut self, mut keep: impl FnMut(&i64, &String) -> bool) {
        self.broker_addrs.retain(|id, a| keep(id, a));
        let addrs = &self.broker_addrs;
        self.addr_order.retain(|id| addrs.contains_key(id));
    }

    /// Encodes with `brokerAddrs` ordered as a `new HashMap<>()` filled by puts
    /// (the live BrokerData of ClusterInfo); routes use [`Self::write_json`] with
    /// [`JavaTable::HashMapCopy`].
    pub fn encode(&self, dialect: Dialect, out: &mut Vec<u8>) {
        self.write_json(&mut JsonOut::new(out, dialect), JavaTable::HashMap);
    }

    /// The addresses as a route's copy (`new HashMap<>(addrs)`) iterates them.
    pub fn route_addrs(&self) -> Vec<(i64, &String)> {
        long_map_order(&self.broker_addrs, &self.addr_order, JavaTable::HashMapCopy)
    }

    /// Writes this BrokerData as a member of a route's `brokerDatas` (its
    /// `brokerAddrs` is a copy of the live map, `new HashMap<>(addrs)`).
    pub fn write_route_member(&self, w: &mut JsonOut<'_>) {
        self.write_json(w, JavaTable::HashMapCopy);
    }

    /// Writes this BrokerData as the next value of `w`; `addrs_table` says how
    /// the Java `brokerAddrs` map was built (it fixes the legacy key order).
    pub fn write_json(&self, w: &mut JsonOut<'_>, addrs_table: JavaTable) {
        let dialect = w.dialect();
        w.begin_object();
        w.key("brokerAddrs");
        write_long_map(
            w,
            &self.broker_addrs,
            &self.addr_order,
            dialect,
            addrs_table,
        );
        self.write_fields_after_addrs(w);
    }

    /// [`Self::write_route_member`] with the legacy `brokerAddrs` order given as
    /// ids in iteration order (a copy rewritten after it was made, which no
    /// fresh-table order describes); the standard dialect sorts as always.
    pub fn write_route_member_in(&self, w: &mut JsonOut<'_>, legacy_ids: &[i64]) {
        let ids: Vec<i64> = match w.dialect() {
            Dialect::Legacy => legacy_ids.to_vec(),
            Dialect::Standard => self.broker_addrs.keys().copied().collect(),
        };
        w.begin_object();
        w.key("brokerAddrs");
        w.begin_object();
        for id in ids {
            if let Some(addr) = self.broker_addrs.get(&id) {
                w.int_key(id);
                w.str(addr);
            }
        }
        w.end_object();
        self.write_fields_after_addrs(w);
    }

    fn write_fields_after_addrs(&self, w: &mut JsonOut<'_>) {
        w.field_str("brokerName", &self.broker_name);
        w.field_str("cluster", &self.cluster);
        w.field_bool("enableActingMaster", self.enable_acting_master);
        w.field_opt_str("zoneName", self.zone_name.as_deref());
        w.end_object();
    }
}

/// The entries of a `Map<Long, String>` in its legacy (Java iteration) order;
/// see [`write_long_map`].
pub fn long_map_order<'a>(
    map: &'a BTreeMap<i64, String>,
    order: &[i64],
    table: JavaTable,
) -> Vec<(i64, &'a String)> {
    let rank = |id: i64| order.iter().position(|x| *x == id).unwrap_or(usize::MAX);
    let mut entries: Vec<(i64, &String)> = map.iter().map(|(k, v)| (*k, v)).collect();
    // Stable sorts: ids never put in `order` stay in id order, at the end.
    entries.sort_by_key(|(id, _)| rank(*id));
    java_hash_order_in(&mut entries, JavaTable::HashMap, |(id, _)| {
        java_long_hash(*id)
    });
    if table != JavaTable::HashMap {
        java_hash_order_in(&mut entries, table, |(id, _)| java_long_hash(*id));
    }
    entries
}

/// A `Map<Long, String>` as fastjson writes it (`{0:"a"}` / `{"0":"a"}`). `order`:
/// the ids in the order they were put into the live HashMap (see
/// [`BrokerData::addr_order`]); `table`: how the map written was built from it
/// (the live map itself, or a copy filled in its order).
pub(crate) fn write_long_map(
    w: &mut JsonOut<'_>,
    map: &BTreeMap<i64, String>,
    order: &[i64],
    dialect: Dialect,
    table: JavaTable,
) {
    let entries = match dialect {
        Dialect::Legacy => long_map_order(map, order, table),
        Dialect::Standard => map.iter().map(|(k, v)| (*k, v)).collect(),
    };
    w.begin_object();
    for (id, addr) in entries {
        w.int_key(id);
        w.str(addr);
    }
    w.end_object();
}

impl TopicQueueMappingInfo {
    pub fn encode(&self, dialect: Dialect, out: &mut Vec<u8>) {
        self.write_json(&mut JsonOut::new(out, dialect));
    }

    /// Writes this info as the next value of `w`. `currIdMap` is a
    /// `ConcurrentHashMap<Integer, Integer>` as fastjson deserialized it.
    pub fn write_json(&self, w: &mut JsonOut<'_>) {
        let dialect = w.dialect();
        w.begin_object();
        w.field_opt_str("bname", self.bname.as_deref());
        if let Some(map) = &self.curr_id_map {
            w.key("currIdMap");
            let mut entries: Vec<(i32, i32)> = map.iter().map(|(k, v)| (*k, *v)).collect();
            order_int_keys(&mut entries, dialect, JavaTable::ConcurrentHashMap);
            w.begin_object();
            for (logic, physical) in entries {
                w.int_key(i64::from(logic));
                w.i32(physical);
            }
            w.end_object();
        }
        w.field_bool("dirty", self.dirty);
        w.field_i64("epoch", self.epoch);
        w.field_opt_str("scope", self.scope.as_deref());
        w.field_opt_str("topic", self.topic.as_deref());
        w.field_i32("totalQueues", self.total_queues);
        w.end_object();
    }

    /// Parses one info (either dialect). Missing `scope`/`currIdMap` take the
    /// Java field defaults (`"__global__"`, empty); explicit nulls stay `None`.
    pub fn decode(bytes: &[u8]) -> Result<Self, BodyError> {
        let wire: MappingInfoWire = parse_dialect(bytes).map_err(BodyError::Json)?;
        Ok(wire.into())
    }
}

// ---------------------------------------------------------------------------
// Decoding (serde wire structs; lenient like fastjson)
// ---------------------------------------------------------------------------

#[derive(Deserialize, Default)]
#[serde(rename_all = "camelCase", default)]
pub(crate) struct QueueDataWire {
    #[serde(deserialize_with = "null_default")]
    broker_name: String,
    #[serde(deserialize_with = "null_default")]
    perm: i32,
    #[serde(deserialize_with = "null_default")]
    read_queue_nums: i32,
    #[serde(deserialize_with = "null_default")]
    write_queue_nums: i32,
    topic_sys_flag: Option<i32>,
    /// The pre-4.9.0 spelling; two fields rather than a serde alias so a body
    /// carrying both is not a "duplicate field" error.
    topic_syn_flag: Option<i32>,
}

impl From<QueueDataWire> for QueueData {
    fn from(w: QueueDataWire) -> Self {
        QueueData {
            broker_name: w.broker_name,
            perm: w.perm,
            read_queue_nums: w.read_queue_nums,
            topic_sys_flag: w.topic_sys_flag.or(w.topic_syn_flag).unwrap_or(0),
            write_queue_nums: w.write_queue_nums,
        }
    }
}

#[derive(Deserialize, Default)]
#[serde(rename_all = "camelCase", default)]
pub(crate) struct BrokerDataWire {
    #[serde(deserialize_with = "null_default")]
    cluster: String,
    #[serde(deserialize_with = "null_default")]
    broker_name: String,
    #[serde(deserialize_with = "map_skip_nulls")]
    broker_addrs: BTreeMap<i64, String>,
    #[serde(deserialize_with = "null_default")]
    enable_acting_master: bool,
    zone_name: Option<String>,
}

impl From<BrokerDataWire> for BrokerData {
    fn from(w: BrokerDataWire) -> Self {
        BrokerData {
            cluster: w.cluster,
            broker_name: w.broker_name,
            broker_addrs: w.broker_addrs,
            enable_acting_master: w.enable_acting_master,
            zone_name: w.zone_name,
            addr_order: Vec::new(),
        }
    }
}

fn global_scope() -> Option<String> {
    Some("__global__".to_string())
}

fn empty_id_map() -> Option<BTreeMap<i32, i32>> {
    Some(BTreeMap::new())
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct MappingInfoWire {
    #[serde(default)]
    bname: Option<String>,
    #[serde(default = "empty_id_map")]
    curr_id_map: Option<BTreeMap<i32, i32>>,
    #[serde(default, deserialize_with = "null_default")]
    dirty: bool,
    #[serde(default, deserialize_with = "long_or_string")]
    epoch: i64,
    #[serde(default = "global_scope")]
    scope: Option<String>,
    #[serde(default)]
    topic: Option<String>,
    #[serde(default, deserialize_with = "null_default")]
    total_queues: i32,
}

impl From<MappingInfoWire> for TopicQueueMappingInfo {
    fn from(w: MappingInfoWire) -> Self {
        TopicQueueMappingInfo {
            bname: w.bname,
            curr_id_map: w.curr_id_map,
            dirty: w.dirty,
            epoch: w.epoch,
            scope: w.scope,
            topic: w.topic,
            total_queues: w.total_queues,
        }
    }
}

#[derive(Deserialize, Default)]
#[serde(rename_all = "camelCase", default)]
struct TopicRouteDataWire {
    #[serde(deserialize_with = "vec_skip_nulls")]
    broker_datas: Vec<BrokerDataWire>,
    #[serde(deserialize_with = "map_skip_nulls")]
    filter_server_table: BTreeMap<String, Vec<String>>,
    order_topic_conf: Option<String>,
    #[serde(deserialize_with = "vec_skip_nulls")]
    queue_datas: Vec<QueueDataWire>,
    topic_queue_mapping_by_broker: Option<BTreeMap<String, Option<MappingInfoWire>>>,
}

impl From<TopicRouteDataWire> for TopicRouteData {
    fn from(w: TopicRouteDataWire) -> Self {
        TopicRouteData {
            broker_datas: w.broker_datas.into_iter().map(Into::into).collect(),
            filter_server_table: w.filter_server_table,
            order_topic_conf: w.order_topic_conf,
            queue_datas: w.queue_datas.into_iter().map(Into::into).collect(),
            topic_queue_mapping_by_broker: w.topic_queue_mapping_by_broker.map(|m| {
                m.into_iter()
                    .filter_map(|(k, v)| Some((k, v?.into())))
                    .collect()
            }),
        }
    }
}
