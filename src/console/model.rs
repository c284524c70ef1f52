//! What the console shows, as plain data: built from one snapshot and its live
//! view, serialised as is for `/api/…` and rendered by `html` for the pages, so
//! both always say the same thing.

use std::time::{Duration, Instant};

use protocol::body::{BrokerData, DataVersion, QueueData};
use protocol::json::Dialect;
use serde::Serialize;

use crate::registry::snapshot::{LiveView, Snapshot};

/// Topics per page of `/topics`.
pub const PAGE_SIZE: usize = 100;

/// One shard's counters.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ShardStat {
    pub shard: usize,
    pub connections: u64,
    pub requests: u64,
    /// Requests per second over the last minute of console views (see `rates`).
    pub requests_per_second: f64,
}

/// Everything the console reads, taken once per request.
pub struct ServerView<'a> {
    pub snap: &'a Snapshot,
    pub live: &'a LiveView,
    pub now: Instant,
    pub uptime: Duration,
    pub version: &'a str,
    pub ready: bool,
    pub shards: Vec<ShardStat>,
    /// `snap`'s topic names in name order (see [`sorted_topics`]).
    pub sorted_topics: &'a [Box<str>],
}

/// A snapshot's topic names in name order, for the topic pages. Copies, not
/// `Arc` clones of the map's keys: cloning those would write the reference
/// counts beside the key bytes every lookup compares, from another core.
pub fn sorted_topics(snap: &Snapshot) -> Vec<Box<str>> {
    let mut names: Vec<Box<str>> = snap.routes.iter().map(|(k, _)| Box::from(&**k)).collect();
    names.sort_unstable();
    names
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Clusters {
    pub clusters: Vec<Cluster>,
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Cluster {
    pub name: String,
    pub groups: Vec<Group>,
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Group {
    pub name: String,
    pub zone: Option<String>,
    pub enable_acting_master: bool,
    pub topics: usize,
    pub brokers: Vec<Broker>,
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Broker {
    pub id: i64,
    /// `master` (id 0), `acting` (the lowest id of a master-less group that
    /// allows acting masters: routes of its read-only topics show it as the
    /// master, `RouteInfoManager#pickupTopicRouteData`), or `slave`.
    pub role: &'static str,
    pub addr: String,
    /// `None` when the address has no live entry (yet).
    pub data_version: Option<Version>,
    pub last_update_ms_ago: Option<u64>,
    pub heartbeat_timeout_ms: Option<u64>,
    pub peer: Option<String>,
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Version {
    pub counter: i64,
    pub state_version: i64,
    pub timestamp: i64,
}

impl From<DataVersion> for Version {
    fn from(v: DataVersion) -> Version {
        Version {
            counter: v.counter,
            state_version: v.state_version,
            timestamp: v.timestamp,
        }
    }
}

/// Clusters, their groups and brokers, each level sorted by name (ids by number).
pub fn clusters(view: &ServerView<'_>) -> Clusters {
    let info = &view.snap.cluster.tables().info;
    let mut clusters: Vec<Cluster> = info
        .cluster_addr_table
        .iter()
        .map(|(name, members)| {
            let mut groups: Vec<Group> = members
                .iter()
                .filter_map(|g| info.broker_addr_table.get(g))
                .map(|bd| group(view, bd))
                .collect();
            groups.sort_by(|a, b| a.name.cmp(&b.name));
            Cluster {
                name: name.clone(),
                groups,
            }
        })
        .collect();
    clusters.sort_by(|a, b| a.name.cmp(&b.name));
    Clusters { clusters }
}

fn group(view: &ServerView<'_>, bd: &BrokerData) -> Group {
    let masterless = !bd.broker_addrs.contains_key(&0);
    let lowest = bd.broker_addrs.keys().next().copied();
    let brokers = bd
        .broker_addrs
        .iter()
        .map(|(&id, addr)| {
            let live = view.live.get(&bd.cluster, addr);
            let role = if id == 0 {
                "master"
            } else if masterless && bd.enable_acting_master && Some(id) == lowest {
                "acting"
            } else {
                "slave"
            };
            Broker {
                id,
                role,
                addr: addr.clone(),
                data_version: live.map(|l| l.data_version.into()),
                last_update_ms_ago: live.map(|l| {
                    view.now
                        .saturating_duration_since(l.last_update)
                        .as_millis() as u64
                }),
                heartbeat_timeout_ms: live.map(|l| l.timeout.as_millis() as u64),
                peer: live.and_then(|l| l.peer).map(|p| p.to_string()),
            }
        })
        .collect();
    Group {
        name: bd.broker_name.clone(),
        zone: bd.zone_name.clone(),
        enable_acting_master: bd.enable_acting_master,
        topics: view
            .live
            .topics_by_group
            .get(&bd.broker_name)
            .copied()
            .unwrap_or(0),
        brokers,
    }
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct TopicPage {
    pub query: String,
    pub page: usize,
    pub page_size: usize,
    /// Topics matching the query.
    pub total: usize,
    pub pages: usize,
    pub topics: Vec<TopicRow>,
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct TopicRow {
    pub name: String,
    pub broker_groups: Vec<String>,
    pub read_queues: i64,
    pub write_queues: i64,
}

/// Page `page` (from 1) of the topics whose name contains `query`, in name order.
/// The order is sorted once per snapshot (the HTTP side caches it), so a page
/// costs one pass of substring checks and the rows of that page, never a sort.
pub fn topics(view: &ServerView<'_>, query: &str, page: usize) -> TopicPage {
    let names = view.sorted_topics;
    let page = page.max(1);
    let skip = (page - 1).saturating_mul(PAGE_SIZE);
    let mut total = 0;
    let mut rows = Vec::new();
    for name in names.iter().filter(|n| n.contains(query)) {
        if total >= skip && rows.len() < PAGE_SIZE {
            rows.push(topic_row(view, name));
        }
        total += 1;
    }
    TopicPage {
        query: query.to_string(),
        page,
        page_size: PAGE_SIZE,
        total,
        pages: total.div_ceil(PAGE_SIZE).max(1),
        topics: rows,
    }
}

fn topic_row(view: &ServerView<'_>, name: &str) -> TopicRow {
    let queues = view
        .snap
        .routes
        .get(name)
        .map(|e| e.queue_datas())
        .unwrap_or_default();
    TopicRow {
        name: name.to_string(),
        broker_groups: queues.iter().map(|q| q.broker_name.clone()).collect(),
        read_queues: queues.iter().map(|q| i64::from(q.read_queue_nums)).sum(),
        write_queues: queues.iter().map(|q| i64::from(q.write_queue_nums)).sum(),
    }
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct TopicRoute {
    pub topic: String,
    pub queue_datas: Vec<Queue>,
    /// The 105 body a client of 4.9.4 or later gets (standard JSON), as text.
    pub body: String,
    /// The body older clients get (fastjson's dialect, integer map keys unquoted).
    pub legacy_body: String,
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Queue {
    pub broker_name: String,
    pub read_queue_nums: i32,
    pub write_queue_nums: i32,
    pub perm: i32,
    pub topic_sys_flag: i32,
}

impl From<&QueueData> for Queue {
    fn from(q: &QueueData) -> Queue {
        Queue {
            broker_name: q.broker_name.clone(),
            read_queue_nums: q.read_queue_nums,
            write_queue_nums: q.write_queue_nums,
            perm: q.perm,
            topic_sys_flag: q.topic_sys_flag,
        }
    }
}

/// A topic's route, the very bytes a lookup answers; `None` when a lookup would
/// answer TOPIC_NOT_EXIST.
pub fn topic_route(view: &ServerView<'_>, topic: &str) -> Option<TopicRoute> {
    let entry = view.snap.routes.get(topic)?;
    let body = entry.body(Dialect::Standard)?;
    let legacy = entry.body(Dialect::Legacy)?;
    Some(TopicRoute {
        topic: topic.to_string(),
        queue_datas: entry.queue_datas().iter().map(Queue::from).collect(),
        body: String::from_utf8_lossy(&body).into_owned(),
        legacy_body: String::from_utf8_lossy(&legacy).into_owned(),
    })
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Kv {
    pub namespaces: Vec<KvNamespace>,
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct KvNamespace {
    pub namespace: String,
    pub entries: Vec<KvEntry>,
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct KvEntry {
    pub key: String,
    pub value: String,
}

/// Every KV namespace and its entries, sorted by name and key.
pub fn kv(view: &ServerView<'_>) -> Kv {
    let mut namespaces: Vec<KvNamespace> = view
        .snap
        .kv
        .iter()
        .map(|(ns, map)| {
            let mut entries: Vec<KvEntry> = map
                .entries()
                .iter()
                // The same mask as the settings: the port is often open wider
                // than the RocketMQ one.
                .map(|(k, v)| KvEntry {
                    key: k.clone(),
                    value: shown_value(k, v.clone()),
                })
                .collect();
            entries.sort_by(|a, b| a.key.cmp(&b.key));
            KvNamespace {
                namespace: ns.clone(),
                entries,
            }
        })
        .collect();
    namespaces.sort_by(|a, b| a.namespace.cmp(&b.namespace));
    Kv { namespaces }
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Server {
    pub version: String,
    pub uptime_seconds: u64,
    pub ready: bool,
    pub clusters: usize,
    pub broker_groups: usize,
    pub live_brokers: usize,
    pub topics: usize,
    pub shards: Vec<ShardStat>,
    /// Every setting as the server runs with it, secrets masked; hidden with
    /// authentication on (see [`admin_data_hidden`]).
    pub config: Shown<Vec<Setting>>,
}

/// Data the console shows, or the reason it leaves it out (serialised as that
/// text in place of the data).
#[derive(Debug, Serialize)]
#[serde(untagged)]
pub enum Shown<T> {
    Data(T),
    Hidden(&'static str),
}

/// What `/api/server` says in place of the configuration, and `/api/kv` answers.
pub const HIDDEN_BY_AUTH: &str = "hidden: authenticationEnabled";

/// With `authenticationEnabled` the configuration (GET_NAMESRV_CONFIG, 319) and
/// the KV store (GET_KV_CONFIG 101, GET_KVLIST_BY_NAMESPACE 219) are read over
/// RocketMQ by admin accounts only; the HTTP port has no accounts, so it must not
/// answer what the RocketMQ port refuses.
pub fn admin_data_hidden(view: &ServerView<'_>) -> bool {
    view.snap.config.authentication_enabled
}

#[derive(Debug, Serialize)]
pub struct Setting {
    pub key: String,
    pub value: String,
}

/// Parts of a key naming a secret: such a setting's value is never shown. None of
/// today's settings is one; the filter is here so a future one cannot leak.
const SECRET_KEY_PARTS: &[&str] = &[
    "password",
    "passwd",
    "pwd",
    "secret",
    "accesskey",
    "privatekey",
    "token",
    "credential",
];

/// What the console shows of a setting's value: the one place secrets are masked.
pub fn shown_value(key: &str, value: String) -> String {
    let lower = key.to_ascii_lowercase();
    if SECRET_KEY_PARTS.iter().any(|p| lower.contains(p)) {
        "********".to_string()
    } else {
        value
    }
}

pub fn server(view: &ServerView<'_>) -> Server {
    let counts = crate::http::metrics::expose::SnapshotCounts::of(view.snap);
    Server {
        version: view.version.to_string(),
        uptime_seconds: view.uptime.as_secs(),
        ready: view.ready,
        clusters: counts.clusters,
        broker_groups: counts.broker_groups,
        live_brokers: counts.brokers,
        topics: counts.topics,
        shards: view.shards.clone(),
        config: if admin_data_hidden(view) {
            Shown::Hidden(HIDDEN_BY_AUTH)
        } else {
            Shown::Data(
                view.snap
                    .config
                    .all_properties()
                    .into_iter()
                    .map(|(k, v)| Setting {
                        key: k.to_string(),
                        value: shown_value(k, v),
                    })
                    .collect(),
            )
        },
    }
}
