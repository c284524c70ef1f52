//! The immutable view readers answer from, and how the writer builds it.
//!
//! Routes live in a copy-on-write map of per-topic `Arc`s ([`route_map`]), so a
//! new snapshot shares every untouched part with the previous one: publishing
//! costs what changed, not the size of the tables.
//!
//! A route's body is not encoded when the writer publishes. Each broker group's
//! BrokerData is encoded once per change, in both dialects (`BrokerFragments`),
//! and shared by every route that embeds it; a route body is spliced from those
//! fragments by the first reader that asks for it, then kept with the entry. So a
//! registration storm, where a 50-broker topic changes 50 times, costs the writer
//! no JSON at all, and topics nobody looks up cost no body memory.
//!
//! - `route`: a topic's entry and the broker fragments its body is spliced from;
//! - `build`: those entries, built from the tables;
//! - `cluster`: the cluster view, kept per changed group, built on first read.

mod build;
mod cluster;
pub mod live;
mod route;
pub mod route_map;

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Instant;

use super::list_cache::ListCache;
use super::reregister::RegisterHints;
use super::tables::Tables;
use super::HashSet;
use crate::config::Config;
use crate::kv::KvNamespaces;

use build::build_route_entry;
use cluster::ClusterParts;
use route::FragmentCache;

pub use cluster::{ClusterTables, ClusterView};

pub use live::{LiveBoard, LiveInfo, LiveView};
pub use route::RouteEntry;

/// Topics rebuilt between two checks for a pending yield while publishing.
const YIELD_EVERY: usize = 64;

/// Topic → route, shared between snapshots (copy-on-write by part).
pub type RouteMap = route_map::ShardedMap<Arc<RouteEntry>>;

/// Everything a read needs, frozen at one point of the writer's history.
pub struct Snapshot {
    pub routes: RouteMap,
    pub cluster: Arc<ClusterView>,
    pub kv: Arc<KvNamespaces>,
    pub config: Arc<Config>,
    /// When the server started (the readiness gate counts from here).
    pub started: Instant,
    /// Topic-list bodies of this snapshot, built on first request.
    pub lists: ListCache,
    /// The bucket count of upstream's topicQueueTable, which the topic lists'
    /// order follows (with each route's `chain_rank`).
    pub topic_table_capacity: usize,
    /// Broker liveness for the console, shared by every snapshot (see [`live`]).
    pub live: Arc<LiveBoard>,
    /// Live broker addresses (brokerLiveTable's size), which the writer keeps
    /// current after every batch; shared by every snapshot, like `live`.
    pub live_count: Arc<AtomicUsize>,
    /// Which bodies the writer applied last, for re-registrations that change
    /// nothing; shared by every snapshot, like `live`.
    pub register_hints: Arc<RegisterHints>,
}

impl Snapshot {
    /// The snapshot of an empty registry.
    pub fn empty(config: Arc<Config>, kv: Arc<KvNamespaces>, started: Instant) -> Snapshot {
        SnapshotBuilder::new(config, kv, started).snapshot()
    }

    /// Whether route lookups are answered with routes: not during the
    /// `needWaitForService` window (upstream's
    /// `ClientRequestProcessor#processRequest` answers "not ready" then). The
    /// lookup handler and `/readyz` both ask this, so they cannot disagree.
    pub fn serves_routes(&self) -> bool {
        let cfg = &self.config;
        !(cfg.need_wait_for_service
            && self.started.elapsed().as_secs() < cfg.wait_seconds_for_service as u64)
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
    cluster_parts: ClusterParts,
    cluster: Arc<ClusterView>,
    kv: Arc<KvNamespaces>,
    config: Arc<Config>,
    started: Instant,
    /// Routes the last publish rebuilt or removed.
    last_replaced: usize,
    topic_table_capacity: usize,
    live: Arc<LiveBoard>,
    live_count: Arc<AtomicUsize>,
    register_hints: Arc<RegisterHints>,
}

impl SnapshotBuilder {
    pub fn new(config: Arc<Config>, kv: Arc<KvNamespaces>, started: Instant) -> Self {
        SnapshotBuilder {
            routes: RouteMap::default(),
            frags: FragmentCache::default(),
            cluster_parts: ClusterParts::default(),
            cluster: Arc::default(),
            kv,
            config,
            started,
            last_replaced: 0,
            topic_table_capacity: Tables::default().topic_table_capacity(),
            live: Arc::default(),
            live_count: Arc::default(),
            register_hints: Arc::default(),
        }
    }

    /// Publishes `hints` (those of the snapshot the shards start with).
    pub fn sharing_hints(mut self, hints: Arc<RegisterHints>) -> Self {
        self.register_hints = hints;
        self
    }

    pub fn register_hints(&self) -> &RegisterHints {
        &self.register_hints
    }

    /// How many routes the last [`Self::publish`] rebuilt or removed (what the
    /// snapshot it replaced alone still holds).
    pub fn last_replaced(&self) -> usize {
        self.last_replaced
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
            topic_table_capacity: self.topic_table_capacity,
            live: self.live.clone(),
            live_count: self.live_count.clone(),
            register_hints: self.register_hints.clone(),
        }
    }

    /// Stores how many addresses are live now (O(1)).
    pub fn count_live(&self, tables: &Tables) {
        self.live_count
            .store(tables.live_brokers().len(), Ordering::Relaxed);
    }

    /// Replaces the console's live view with the tables' current one (the
    /// writer decides when: `Writer::refresh_live`).
    pub fn refresh_live(&self, tables: &Tables) {
        self.live
            .store(Arc::new(LiveView::of(tables, Instant::now())));
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
        kv: &KvNamespaces,
    ) -> Snapshot {
        self.count_live(tables);
        let mut dirty = tables.take_changes();
        self.topic_table_capacity = tables.topic_table_capacity();
        if dirty.config {
            // Only the acting-master and order-topic settings shape route bytes
            // (the cluster view and the broker fragments read no config): a 318
            // of any other key rebuilds nothing.
            if build::shapes_routes(&self.config) != build::shapes_routes(config) {
                dirty.topics.extend(tables.topic_names().cloned());
            }
            self.config = Arc::new(config.clone());
        }
        if dirty.kv {
            self.kv = Arc::new(kv.clone());
        }
        if dirty.brokers {
            self.frags.refresh(&dirty.broker_names);
        }
        self.last_replaced = dirty.topics.len();
        if dirty.topic_ranks {
            self.last_replaced += self.rerank(tables, &dirty.topics).await;
        }
        for (n, topic) in dirty.topics.drain().enumerate() {
            if n % YIELD_EVERY == YIELD_EVERY - 1 {
                glommio::yield_if_needed().await;
            }
            match build_route_entry(tables, &topic, config, &self.kv, &mut self.frags) {
                // The key is the tables' own name allocation (see `Dirty::topics`).
                Some(entry) => {
                    self.routes.insert(topic, Arc::new(entry));
                }
                None => {
                    self.routes.remove(&topic);
                }
            }
        }
        if dirty.brokers {
            self.cluster = Arc::new(self.cluster_parts.refresh(tables, &dirty));
        }
        // O(estate), so debug builds only: a change the tables forgot to mark
        // fails the tests instead of serving stale groups.
        #[cfg(debug_assertions)]
        {
            self.frags.check(tables);
            self.cluster_parts.check(tables);
            debug_assert_eq!(self.cluster.group_count(), tables.brokers().len());
        }
        self.snapshot()
    }

    /// Gives every route whose chain rank moved (upstream's topicQueueTable
    /// resized) a shallow copy at its new rank: no route is rebuilt and every
    /// encoded body is kept. Topics in `rebuilt` are left to the rebuild.
    /// Returns how many entries it replaced.
    async fn rerank(&mut self, tables: &Tables, rebuilt: &HashSet<Arc<str>>) -> usize {
        let mut replaced = 0;
        for (n, (topic, rank)) in tables.topic_chain_ranks().enumerate() {
            if n % YIELD_EVERY == YIELD_EVERY - 1 {
                glommio::yield_if_needed().await;
            }
            if rebuilt.contains(topic) {
                continue;
            }
            let Some(entry) = self.routes.get(topic) else {
                continue;
            };
            if entry.chain_rank != rank {
                let copy = Arc::new(entry.reranked(rank));
                self.routes.insert(topic.clone(), copy);
                replaced += 1;
            }
        }
        replaced
    }
}

#[cfg(test)]
mod tests;
