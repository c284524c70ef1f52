//! One small, pure test per rule of upstream's `RouteInfoManager`: no process, no
//! sockets, no executor. Each test drives [`Tables`] through its public operations
//! and reads the outcome only as readers do, from a published [`Snapshot`] (route
//! bodies, QueueData, the cluster view), so the tests hold whatever the tables look
//! like inside.
//!
//! - [`membership`]: masters, slaves and prime slaves; id and address swaps;
//!   stateVersion fencing; the single-topic refusal; what a slave learns; unregistering.
//! - [`acting`]: acting masters in routes, and the write permission they lose.
//! - [`liveness`]: connection-close fencing, expiry, heartbeats.
//! - [`topics`]: permissions, topic deletes, admin topic registration, the topic
//!   puts of a re-registration, filter servers, static-topic mappings, `orderTopicConf`.

mod acting;
mod liveness;
mod membership;
mod topics;

use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;
use std::time::{Duration, Instant};

use futures_lite::future::block_on;
use protocol::body::{DataVersion, QueueData, RegisterBrokerBody, TopicConfig};
use protocol::json::Dialect;

use crate::config::Config;
use crate::registry::snapshot::{Snapshot, SnapshotBuilder};
use crate::registry::tables::{RegisterResult, Registration, TableSettings, Tables};
use crate::registry::ConnId;

/// The KV namespaces as the snapshot builder takes them (named here, so these
/// tests do not depend on what the registry calls the type).
type Kv = crate::kv::KvNamespaces;

const CLUSTER: &str = "DefaultCluster";

/// A topic as a broker registers it: 8 read and 8 write queues, `perm`.
fn topic(name: &str, perm: i32) -> TopicConfig {
    TopicConfig {
        topic_name: name.to_string(),
        read_queue_nums: 8,
        write_queue_nums: 8,
        perm,
        ..TopicConfig::default()
    }
}

/// The QueueData a [`topic`] of broker `name` becomes.
fn queue(name: &str, perm: i32) -> QueueData {
    QueueData {
        broker_name: name.to_string(),
        perm,
        read_queue_nums: 8,
        topic_sys_flag: 0,
        write_queue_nums: 8,
    }
}

fn version(counter: i64, state_version: i64) -> DataVersion {
    DataVersion {
        counter,
        state_version,
        timestamp: 1_700_000_000_000,
    }
}

/// A registration of `name`'s broker `id` at `addr` in [`CLUSTER`], from a broker
/// old enough to send no `enableActingMaster`, with read-write `topics` at
/// DataVersion (1, 0) and an empty filter-server list.
fn broker(name: &str, id: i64, addr: &str, topics: &[&str]) -> Registration {
    Registration {
        cluster: CLUSTER.to_string(),
        addr: addr.to_string(),
        name: name.to_string(),
        broker_id: id,
        ha_server_addr: None,
        heartbeat_timeout_ms: None,
        enable_acting_master: None,
        peer: None,
        zone_name: None,
        body: RegisterBrokerBody {
            data_version: version(1, 0),
            topic_configs: topics.iter().map(|t| topic(t, 6)).collect(),
            mapping_infos: BTreeMap::new(),
            filter_server_list: Some(Vec::new()),
        },
    }
}

/// The tables and a snapshot builder over them: writes go to the tables, reads
/// come from a freshly published snapshot.
struct Registry {
    tables: Tables,
    builder: SnapshotBuilder,
    config: Config,
    kv: Kv,
    settings: TableSettings,
    /// The clock at which [`Registry::register`] registers.
    start: Instant,
}

impl Registry {
    fn new() -> Self {
        Self::with(Config::default(), TableSettings::default())
    }

    fn with(config: Config, settings: TableSettings) -> Self {
        Self::with_kv(config, settings, Kv::new())
    }

    fn with_kv(config: Config, settings: TableSettings, kv: Kv) -> Self {
        let start = Instant::now();
        let builder = SnapshotBuilder::new(Arc::new(config.clone()), Arc::new(kv.clone()), start);
        Registry {
            tables: Tables::default(),
            builder,
            config,
            kv,
            settings,
            start,
        }
    }

    /// With `supportActingMaster` on.
    fn acting() -> Self {
        let config = Config {
            support_acting_master: true,
            ..Config::default()
        };
        Self::with(config, TableSettings::default())
    }

    /// Registers at [`Registry::start`] over connection `conn`.
    fn register(&mut self, reg: &Registration, conn: u64) -> Option<RegisterResult> {
        self.register_at(reg, conn, self.start)
    }

    fn register_at(
        &mut self,
        reg: &Registration,
        conn: u64,
        now: Instant,
    ) -> Option<RegisterResult> {
        self.tables
            .register_broker(reg, ConnId(conn), now, self.settings)
    }

    /// [`Registry::start`] plus `ms` milliseconds.
    fn at(&self, ms: u64) -> Instant {
        self.start + Duration::from_millis(ms)
    }

    fn snapshot(&mut self) -> Snapshot {
        block_on(
            self.builder
                .publish(&mut self.tables, &self.config, &self.kv),
        )
    }

    /// The route body a new client gets (sorted keys), `None` for no route.
    fn route(&mut self, topic: &str) -> Option<String> {
        let snap = self.snapshot();
        let body = snap.routes.get(topic)?.body(Dialect::Standard)?;
        Some(String::from_utf8_lossy(&body).into_owned())
    }

    /// The topic's QueueData in route order; empty when the topic is unknown.
    fn queues(&mut self, topic: &str) -> Vec<QueueData> {
        let snap = self.snapshot();
        snap.routes
            .get(topic)
            .map(|e| e.queue_datas())
            .unwrap_or_default()
    }

    /// Every broker group's addresses by id, from the cluster view.
    fn groups(&mut self) -> BTreeMap<String, BTreeMap<i64, String>> {
        let snap = self.snapshot();
        snap.cluster
            .tables()
            .info
            .broker_addr_table
            .iter()
            .map(|(name, bd)| (name.clone(), bd.broker_addrs.clone()))
            .collect()
    }

    /// Every cluster's broker names, from the cluster view.
    fn clusters(&mut self) -> BTreeMap<String, BTreeSet<String>> {
        self.snapshot()
            .cluster
            .tables()
            .info
            .cluster_addr_table
            .clone()
    }
}

/// `{id: addr, ..}` as a map, for comparing with [`Registry::groups`].
fn addrs(pairs: &[(i64, &str)]) -> BTreeMap<i64, String> {
    pairs.iter().map(|(id, a)| (*id, a.to_string())).collect()
}

/// `{name: addrs(..), ..}`, for comparing with [`Registry::groups`].
fn groups(list: &[(&str, &[(i64, &str)])]) -> BTreeMap<String, BTreeMap<i64, String>> {
    list.iter()
        .map(|(name, pairs)| (name.to_string(), addrs(pairs)))
        .collect()
}

/// `{cluster: {names}, ..}`, for comparing with [`Registry::clusters`].
fn clusters(list: &[(&str, &[&str])]) -> BTreeMap<String, BTreeSet<String>> {
    list.iter()
        .map(|(c, names)| (c.to_string(), names.iter().map(|n| n.to_string()).collect()))
        .collect()
}

/// The route body of one broker group with `queues` (a new client's dialect).
fn one_group_route(
    name: &str,
    addrs: &str,
    acting: bool,
    filters: &str,
    queues: &[QueueData],
) -> String {
    let queues: Vec<String> = queues
        .iter()
        .map(|q| {
            format!(
                r#"{{"brokerName":"{}","perm":{},"readQueueNums":{},"topicSysFlag":{},"writeQueueNums":{}}}"#,
                q.broker_name, q.perm, q.read_queue_nums, q.topic_sys_flag, q.write_queue_nums
            )
        })
        .collect();
    format!(
        r#"{{"brokerDatas":[{{"brokerAddrs":{addrs},"brokerName":"{name}","cluster":"{CLUSTER}","enableActingMaster":{acting}}}],"filterServerTable":{filters},"queueDatas":[{}]}}"#,
        queues.join(",")
    )
}
