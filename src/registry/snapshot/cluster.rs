//! The cluster view (upstream's `RouteInfoManager#getAllClusterInfo`): kept by
//! the writer as persistent parts updated per changed group, built into a
//! [`ClusterInfo`] and the 106 body by the first reader that asks.
//!
//! In a registration storm every publish changes a group, and building the
//! view then cost every group's BrokerData clone and JSON per publish: O(estate)
//! per registration, so the storm grew with the square of the estate. Now a
//! publish costs what changed (a persistent-map insert per group), and the
//! O(estate) build is paid once per snapshot that is read, by the reader: 106
//! and the console. 901 (each broker's, every second with acting master), 224,
//! 304 and the metrics read the parts directly and never pay it.

use std::sync::Arc;

use bytes::Bytes;
use once_cell::race::OnceBox;
use protocol::body::{BrokerData, ClusterInfo, ClusterOrder};
use protocol::json::Dialect;

use crate::registry::tables::{Dirty, Tables};
use crate::registry::{FastHasher, HashMap};

/// A group and its place in brokerAddrTable's iteration order (bucket, chain rank).
type Group = (Arc<BrokerData>, (usize, u64));

/// Broker name → its [`Group`] (shared between snapshots).
type GroupMap = imbl::GenericHashMap<String, Group, FastHasher, imbl::shared_ptr::DefaultSharedPtr>;

/// Every cluster with its broker names, both in upstream's iteration order.
type ClusterList = Arc<[(String, Arc<[String]>)]>;

/// Brokers and clusters, for 106, 224, 304 and 901: what a snapshot holds.
#[derive(Default)]
pub struct ClusterView {
    groups: GroupMap,
    clusters: ClusterList,
    built: OnceBox<ClusterTables>,
}

/// The view as readers use it.
#[derive(Debug, Default)]
pub struct ClusterTables {
    pub info: ClusterInfo,
    /// The iteration orders of upstream's brokerAddrTable and clusterAddrTable.
    pub order: ClusterOrder,
    /// The 106 body (always the legacy dialect).
    pub body: Bytes,
}

impl std::fmt::Debug for ClusterView {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ClusterView")
            .field("groups", &self.groups.len())
            .field("clusters", &self.clusters.len())
            .finish()
    }
}

impl ClusterView {
    /// The info, orders and body, built on the first call (lock-free: racing
    /// cores may both build, one result wins, and they are identical).
    pub fn tables(&self) -> &ClusterTables {
        self.built.get_or_init(|| Box::new(self.build()))
    }

    /// One group's BrokerData (901), read from the parts without building.
    pub fn group(&self, name: &str) -> Option<&BrokerData> {
        self.groups.get(name).map(|(bd, _)| &**bd)
    }

    /// How many groups brokerAddrTable holds (the metrics).
    pub fn group_count(&self) -> usize {
        self.groups.len()
    }

    /// How many clusters clusterAddrTable holds (the metrics).
    pub fn cluster_count(&self) -> usize {
        self.clusters.len()
    }

    /// One cluster's broker names in its HashSet's order (224).
    pub fn members(&self, cluster: &str) -> Option<&[String]> {
        self.clusters
            .iter()
            .find(|(c, _)| c == cluster)
            .map(|(_, names)| &**names)
    }

    /// Every cluster with its broker names, in clusterAddrTable's order (304).
    pub fn clusters(&self) -> impl Iterator<Item = (&str, &[String])> {
        self.clusters
            .iter()
            .map(|(c, names)| (c.as_str(), &**names))
    }

    /// The first group in brokerAddrTable's order that lists an address (304),
    /// found by one pass without the sort.
    pub fn first_addressed_group(&self) -> Option<&BrokerData> {
        self.groups
            .values()
            .filter(|(bd, _)| !bd.broker_addrs.is_empty())
            .min_by_key(|(_, key)| *key)
            .map(|(bd, _)| &**bd)
    }

    fn build(&self) -> ClusterTables {
        let mut groups: Vec<(&String, &Group)> = self.groups.iter().collect();
        groups.sort_unstable_by_key(|(_, (_, key))| *key);
        let info = ClusterInfo {
            broker_addr_table: groups
                .iter()
                .map(|(n, (bd, _))| ((*n).clone(), BrokerData::clone(bd)))
                .collect(),
            cluster_addr_table: self
                .clusters
                .iter()
                .map(|(c, names)| (c.clone(), names.iter().cloned().collect()))
                .collect(),
        };
        let order = ClusterOrder {
            brokers: groups.into_iter().map(|(n, _)| n.clone()).collect(),
            clusters: self
                .clusters
                .iter()
                .map(|(c, names)| (c.clone(), names.to_vec()))
                .collect(),
        };
        let mut body = Vec::with_capacity(256);
        info.encode_in(&order, Dialect::Legacy, &mut body);
        ClusterTables {
            info,
            order,
            body: Bytes::from(body),
        }
    }
}

/// The writer's half: the parts of the last view, each replaced only when the
/// tables mark it changed.
#[derive(Default)]
pub(super) struct ClusterParts {
    groups: GroupMap,
    /// Each cluster's broker names in its HashSet's order.
    members: HashMap<String, Arc<[String]>>,
    clusters: ClusterList,
}

impl ClusterParts {
    /// Takes in what `dirty` marks changed; returns the view to publish.
    pub(super) fn refresh(&mut self, t: &Tables, dirty: &Dirty) -> ClusterView {
        if dirty.broker_order {
            // A resize moved every group in brokerAddrTable's order (rare).
            self.groups = GroupMap::default();
            for (name, bd) in t.brokers() {
                self.put_group(t, name, bd);
            }
        } else {
            for name in &dirty.broker_names {
                match t.broker(name) {
                    Some(bd) => self.put_group(t, name, bd),
                    None => {
                        self.groups.remove(name);
                    }
                }
            }
        }
        if !dirty.cluster_names.is_empty() {
            for c in &dirty.cluster_names {
                match t.cluster_members(c) {
                    Some(names) => {
                        let names: Arc<[String]> = names.into_iter().cloned().collect();
                        self.members.insert(c.clone(), names);
                    }
                    None => {
                        self.members.remove(c);
                    }
                }
            }
            // Few clusters: their order is taken whole.
            self.clusters = t
                .cluster_names()
                .into_iter()
                .filter_map(|c| Some((c.clone(), self.members.get(c)?.clone())))
                .collect();
        }
        ClusterView {
            groups: self.groups.clone(),
            clusters: self.clusters.clone(),
            built: OnceBox::new(),
        }
    }

    /// The parts equal the tables, each group at its place in brokerAddrTable's
    /// order: what [`Self::refresh`] trusts the Dirty marks for (debug builds).
    #[cfg(debug_assertions)]
    pub(super) fn check(&self, t: &Tables) {
        debug_assert_eq!(self.groups.len(), t.brokers().len(), "group count");
        for (name, (bd, key)) in &self.groups {
            debug_assert!(
                t.broker(name) == Some(&**bd) && t.broker_order_key(name) == Some(*key),
                "group {name} is stale: a brokerAddrTable change went unmarked"
            );
        }
    }

    fn put_group(&mut self, t: &Tables, name: &str, bd: &BrokerData) {
        if let Some(key) = t.broker_order_key(name) {
            self.groups
                .insert(name.to_string(), (Arc::new(bd.clone()), key));
        }
    }
}
