//! Small bodies: DataVersion, ClusterInfo, TopicList, KVTable, BrokerMemberGroup and
//! the KV config file.

use std::collections::{BTreeMap, BTreeSet};

use serde::Deserialize;

use super::error::BodyError;
use super::lenient::{map_skip_nulls, null_default, vec_skip_nulls};
use super::route::{write_long_map, BrokerData, BrokerDataWire};
use crate::java_table::{
    java_hash_order_in, java_string_cmp, java_string_hash, order_str_keys, order_str_set, JavaTable,
};
use crate::json::{parse_dialect, Dialect, JsonOut};

/// `{"counter":5,"stateVersion":0,"timestamp":1700000000000}`; equal iff all three are.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Hash)]
pub struct DataVersion {
    pub counter: i64,
    pub state_version: i64,
    pub timestamp: i64,
}

impl DataVersion {
    pub fn encode(&self, out: &mut Vec<u8>) {
        self.write_json(&mut JsonOut::new(out, Dialect::Legacy));
    }

    /// Writes this version as the next value of `w`.
    pub fn write_json(&self, w: &mut JsonOut<'_>) {
        w.begin_object();
        w.field_i64("counter", self.counter);
        w.field_i64("stateVersion", self.state_version);
        w.field_i64("timestamp", self.timestamp);
        w.end_object();
    }

    /// Java's `new DataVersion()`: counter and stateVersion 0, the timestamp
    /// taken from the wall clock (its field initializer `System.currentTimeMillis()`).
    pub fn fresh() -> Self {
        DataVersion {
            counter: 0,
            state_version: 0,
            timestamp: java_now_millis(),
        }
    }

    /// A missing counter or stateVersion reads as 0 and a missing timestamp as
    /// now: fastjson2 fills a fresh `DataVersion` and sets only what it finds.
    pub fn decode(bytes: &[u8]) -> Result<Self, super::BodyError> {
        let wire: DataVersionWire = parse_dialect(bytes).map_err(BodyError::Json)?;
        Ok(wire.into())
    }
}

#[derive(Deserialize, Default)]
#[serde(rename_all = "camelCase", default)]
pub(crate) struct DataVersionWire {
    #[serde(deserialize_with = "null_default")]
    counter: i64,
    #[serde(deserialize_with = "null_default")]
    state_version: i64,
    /// Missing → now (the Java field initializer); explicit `null` → 0.
    #[serde(default = "java_now_millis", deserialize_with = "null_default")]
    timestamp: i64,
}

/// `System.currentTimeMillis()`.
fn java_now_millis() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| i64::try_from(d.as_millis()).unwrap_or(i64::MAX))
}

impl From<DataVersionWire> for DataVersion {
    fn from(w: DataVersionWire) -> Self {
        DataVersion {
            counter: w.counter,
            state_version: w.state_version,
            timestamp: w.timestamp,
        }
    }
}

/// Body of 106 (always the legacy dialect).
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct ClusterInfo {
    pub broker_addr_table: BTreeMap<String, BrokerData>,
    pub cluster_addr_table: BTreeMap<String, BTreeSet<String>>,
}

/// The iteration orders of the Java tables a [`ClusterInfo`] shows: broker names
/// as `brokerAddrTable` iterates them, each cluster as `clusterAddrTable` does,
/// with its broker names as its HashSet does.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct ClusterOrder {
    pub brokers: Vec<String>,
    pub clusters: Vec<(String, Vec<String>)>,
}

impl ClusterInfo {
    /// Upstream serializes RouteInfoManager's own tables: `brokerAddrTable` is a
    /// `new ConcurrentHashMap<>(128)` (256 buckets), `clusterAddrTable` a
    /// `new ConcurrentHashMap<>(32)` (64 buckets) of `new HashSet<>()`, and each
    /// BrokerData's `brokerAddrs` a `new HashMap<>()`. Without the tables' history
    /// their order is taken as if filled in key order ([`ClusterInfo::encode_in`]
    /// takes the real one).
    pub fn encode(&self, dialect: Dialect, out: &mut Vec<u8>) {
        self.encode_in(&self.key_order(), dialect, out);
    }

    /// The orders of tables filled in key order.
    pub fn key_order(&self) -> ClusterOrder {
        let mut brokers: Vec<String> = self.broker_addr_table.keys().cloned().collect();
        java_hash_order_in(&mut brokers, JavaTable::ConcurrentHashMapWith(128), |n| {
            java_string_hash(n)
        });
        let mut clusters: Vec<(String, Vec<String>)> = self
            .cluster_addr_table
            .iter()
            .map(|(c, names)| {
                let mut names: Vec<String> = names.iter().cloned().collect();
                order_str_set(&mut names, JavaTable::HashMap);
                (c.clone(), names)
            })
            .collect();
        java_hash_order_in(
            &mut clusters,
            JavaTable::ConcurrentHashMapWith(32),
            |(c, _)| java_string_hash(c),
        );
        ClusterOrder { brokers, clusters }
    }

    /// Writes the tables in `order` (map keys sorted instead in the standard
    /// dialect, `MapSortField`; sets keep their order in both).
    pub fn encode_in(&self, order: &ClusterOrder, dialect: Dialect, out: &mut Vec<u8>) {
        let mut w = JsonOut::new(out, dialect);
        w.begin_object();

        w.key("brokerAddrTable");
        let mut brokers: Vec<(&String, &BrokerData)> = order
            .brokers
            .iter()
            .filter_map(|n| Some((n, self.broker_addr_table.get(n)?)))
            .collect();
        if dialect == Dialect::Standard {
            brokers.sort_by(|(a, _), (b, _)| java_string_cmp(a, b));
        }
        w.begin_object();
        for (name, bd) in brokers {
            w.key(name);
            bd.write_json(&mut w, JavaTable::HashMap);
        }
        w.end_object();

        w.key("clusterAddrTable");
        let mut clusters: Vec<&(String, Vec<String>)> = order.clusters.iter().collect();
        if dialect == Dialect::Standard {
            clusters.sort_by(|(a, _), (b, _)| java_string_cmp(a, b));
        }
        w.begin_object();
        for (cluster, names) in clusters {
            w.key(cluster);
            w.str_array(names);
        }
        w.end_object();

        w.end_object();
    }

    pub fn decode(bytes: &[u8]) -> Result<Self, super::BodyError> {
        let wire: ClusterInfoWire = parse_dialect(bytes).map_err(BodyError::Json)?;
        Ok(ClusterInfo {
            broker_addr_table: wire
                .broker_addr_table
                .into_iter()
                .map(|(k, v)| (k, v.into()))
                .collect(),
            cluster_addr_table: wire
                .cluster_addr_table
                .into_iter()
                .map(|(k, v)| (k, v.into_iter().collect()))
                .collect(),
        })
    }
}

#[derive(Deserialize, Default)]
#[serde(rename_all = "camelCase", default)]
struct ClusterInfoWire {
    #[serde(deserialize_with = "map_skip_nulls")]
    broker_addr_table: BTreeMap<String, BrokerDataWire>,
    #[serde(deserialize_with = "map_skip_nulls")]
    cluster_addr_table: BTreeMap<String, StringList>,
}

/// A JSON array of strings with `null` elements dropped.
#[derive(Deserialize, Default)]
#[serde(transparent)]
struct StringList(#[serde(deserialize_with = "vec_skip_nulls")] Vec<String>);

impl IntoIterator for StringList {
    type Item = String;
    type IntoIter = std::vec::IntoIter<String>;
    fn into_iter(self) -> Self::IntoIter {
        self.0.into_iter()
    }
}

/// Body of the topic-list codes: `{"brokerAddr"?:..,"topicList":[..]}`.
/// `topic_list` is a Java Set: written in its Java iteration order (see [`TopicList::encode`]).
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct TopicList {
    pub broker_addr: Option<String>,
    pub topic_list: Vec<String>,
}

impl TopicList {
    /// `topicList` is a `ConcurrentHashMap.newKeySet()`, so it is written in that
    /// set's iteration order in both dialects (fastjson's `MapSortField` does not
    /// sort sets); duplicates are dropped, ties in a bucket keep the order held.
    pub fn encode(&self, dialect: Dialect, out: &mut Vec<u8>) {
        let mut w = JsonOut::new(out, dialect);
        w.begin_object();
        w.field_opt_str("brokerAddr", self.broker_addr.as_deref());
        w.key("topicList");
        let mut topics: Vec<&String> = self.topic_list.iter().collect();
        order_str_set(&mut topics, JavaTable::ConcurrentHashMap);
        w.str_array(topics);
        w.end_object();
    }

    pub fn decode(bytes: &[u8]) -> Result<Self, super::BodyError> {
        let wire: TopicListWire = parse_dialect(bytes).map_err(BodyError::Json)?;
        Ok(TopicList {
            broker_addr: wire.broker_addr,
            topic_list: wire.topic_list,
        })
    }
}

#[derive(Deserialize, Default)]
#[serde(rename_all = "camelCase", default)]
struct TopicListWire {
    broker_addr: Option<String>,
    #[serde(deserialize_with = "vec_skip_nulls")]
    topic_list: Vec<String>,
}

/// `{"table":{k:v}}`, the body of 219 and of a register reply.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct KvTable {
    pub table: BTreeMap<String, String>,
}

impl KvTable {
    /// `table` is KVConfigManager's per-namespace `new HashMap<>()`.
    pub fn encode(&self, dialect: Dialect, out: &mut Vec<u8>) {
        let mut w = JsonOut::new(out, dialect);
        w.begin_object();
        w.key("table");
        let mut entries: Vec<(&String, &String)> = self.table.iter().collect();
        order_str_keys(&mut entries, dialect, JavaTable::HashMap);
        w.begin_object();
        for (k, v) in entries {
            w.key(k);
            w.str(v);
        }
        w.end_object();
        w.end_object();
    }

    pub fn decode(bytes: &[u8]) -> Result<Self, super::BodyError> {
        let wire: KvTableWire = parse_dialect(bytes).map_err(BodyError::Json)?;
        Ok(KvTable { table: wire.table })
    }
}

#[derive(Deserialize, Default)]
#[serde(default)]
struct KvTableWire {
    #[serde(deserialize_with = "super::lenient::string_map")]
    table: BTreeMap<String, String>,
}

/// Body of 901: `{"brokerMemberGroup":{"brokerAddrs":{..},"brokerName":..,"cluster":..}}`.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct BrokerMemberGroup {
    pub cluster: Option<String>,
    pub broker_name: Option<String>,
    pub broker_addrs: BTreeMap<i64, String>,
    /// The order of puts into the live map the group was copied from
    /// ([`BrokerData::addr_order`]).
    pub addr_order: Vec<i64>,
}

impl BrokerMemberGroup {
    /// `brokerAddrs` is filled by `putAll` into an empty `new HashMap<>()`, which
    /// pre-sizes the table like a copy.
    pub fn encode(&self, dialect: Dialect, out: &mut Vec<u8>) {
        let mut w = JsonOut::new(out, dialect);
        w.begin_object();
        w.key("brokerMemberGroup");
        w.begin_object();
        w.key("brokerAddrs");
        write_long_map(
            &mut w,
            &self.broker_addrs,
            &self.addr_order,
            dialect,
            JavaTable::HashMapCopy,
        );
        w.field_opt_str("brokerName", self.broker_name.as_deref());
        w.field_opt_str("cluster", self.cluster.as_deref());
        w.end_object();
        w.end_object();
    }
}
