//! The console's view of broker liveness (upstream's `BrokerLiveInfo`: last
//! update, timeout, data version and channel), beside the snapshot.
//!
//! Heartbeats do not publish snapshots, and must not: a 1000-broker estate sends
//! dozens a second. So the liveness the console shows is a separate value behind
//! its own `ArcSwap`, shared by every snapshot, which the writer replaces after a
//! batch that changed what it shows (an address came, went, or changed connection
//! or version) and on an expiry-scan tick (upstream's
//! `RouteInfoManager#scanNotActiveBroker` period) when a broker was heard from
//! since the last one, which is what refreshes the heartbeat times. Without a
//! console (`httpPort=-1`) the writer never builds it. Route lookups never touch it; the console reads it with one
//! atomic load. A heartbeat's time is therefore at most one scan period old.

use std::net::SocketAddr;
use std::time::{Duration, Instant};

use arc_swap::ArcSwap;
use protocol::body::DataVersion;

use crate::registry::tables::{AddrKey, Tables};
use crate::registry::HashMap;

/// One live address as the console shows it.
#[derive(Debug, Clone)]
pub struct LiveInfo {
    pub last_update: Instant,
    pub timeout: Duration,
    pub data_version: DataVersion,
    /// The TCP peer of the connection of its latest registration.
    pub peer: Option<SocketAddr>,
}

/// Liveness of every address, and topic counts by broker group, as of `built`.
#[derive(Debug, Default)]
pub struct LiveView {
    pub brokers: HashMap<AddrKey, LiveInfo>,
    pub topics_by_group: HashMap<String, usize>,
    pub built: Option<Instant>,
}

/// The shared handle every snapshot carries.
pub type LiveBoard = ArcSwap<LiveView>;

impl LiveView {
    /// The view of these tables now (O(live addresses + groups)).
    pub fn of(tables: &Tables, now: Instant) -> LiveView {
        let mut brokers = HashMap::default();
        let mut topics_by_group = HashMap::default();
        for (key, live) in tables.live_brokers() {
            brokers.insert(
                key.clone(),
                LiveInfo {
                    last_update: live.last_update,
                    timeout: live.timeout,
                    data_version: live.data_version,
                    peer: live.peer,
                },
            );
        }
        for (name, count) in tables.topic_counts() {
            topics_by_group.insert(name.to_string(), count);
        }
        LiveView {
            brokers,
            topics_by_group,
            built: Some(now),
        }
    }

    pub fn get(&self, cluster: &str, addr: &str) -> Option<&LiveInfo> {
        self.brokers.get(&(cluster.to_string(), addr.to_string()))
    }
}
