//! The route registry: one writer owns the tables, readers see immutable snapshots.
//!
//! - [`tables`]: the mutable tables and upstream's semantics (writer core only),
//!   sealed behind a narrow API.
//! - [`topic_queues`]: one topic's compact, sorted per-broker queue list.
//! - [`list_cache`]: topic-list bodies, built once per snapshot.
//! - [`snapshot`]: what readers see, published through `arc-swap`; route bodies
//!   spliced from per-broker fragments on first read.
//! - [`notify`]: NOTIFY_MIN_BROKER_ID_CHANGE (905) to the brokers of a group whose
//!   lowest id changed (`notifyMinBrokerIdChanged`).
//! - [`writer`]: the writer loop: applies writes in batches, persists KV and config
//!   changes, publishes one snapshot per batch, then acknowledges; [`scan_tick`]:
//!   the liveness scan's timer; [`trim`]: freed memory back to the OS after a large
//!   publish.

pub mod list_cache;
pub mod notify;
mod reaper;
pub mod reregister;
pub mod scan_tick;
pub mod snapshot;
pub mod tables;
pub mod topic_queues;
pub mod trim;
pub mod writer;

use bytes::Bytes;
use protocol::body::{DataVersion, QueueData};

pub use tables::Registration;

/// The registry's hash maps: foldhash (seeded per process) instead of SipHash.
/// Topic and broker names are hashed on every registration and lookup, and
/// SipHash was a tenth of a registration storm's profile.
pub type FastHasher = foldhash::fast::RandomState;
pub type HashMap<K, V> = std::collections::HashMap<K, V, FastHasher>;
pub type HashSet<K> = std::collections::HashSet<K, FastHasher>;

/// A connection, unique across shards: the shard index in the top 16 bits.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct ConnId(pub u64);

impl ConnId {
    pub fn new(shard: usize, seq: u64) -> Self {
        ConnId(((shard as u64) << 48) | (seq & 0x0000_FFFF_FFFF_FFFF))
    }

    pub fn shard(self) -> usize {
        (self.0 >> 48) as usize
    }
}

/// Every change to the registry, as sent to the writer core.
#[derive(Debug)]
pub enum WriteOp {
    Register(Box<Registration>),
    /// A registration from the wire (see [`reregister`]).
    RegisterWire(Box<reregister::WireRegistration>),
    Unregister {
        cluster: String,
        addr: String,
        name: String,
        broker_id: i64,
    },
    /// 904: refresh a live broker.
    Heartbeat {
        cluster: String,
        addr: String,
    },
    /// 322: refresh, and compare the broker's DataVersion with ours.
    QueryDataVersion {
        cluster: String,
        addr: String,
        version: DataVersion,
    },
    PutKv {
        namespace: String,
        key: String,
        value: Option<String>,
    },
    DeleteKv {
        namespace: String,
        key: String,
    },
    /// 205 (`wipe = true`) and 327.
    WritePerm {
        broker_name: String,
        wipe: bool,
    },
    RegisterTopic {
        topic: String,
        queue_datas: Vec<QueueData>,
    },
    DeleteTopic {
        topic: String,
        cluster: Option<String>,
    },
    UpdateConfig {
        body: Bytes,
    },
    /// A connection closed: unregister what its latest registrations hold.
    ConnectionClosed,
    /// The periodic liveness scan (sent by the writer's own timer).
    ScanExpired,
}

impl WriteOp {
    /// The registration this write carries, if it is one.
    pub fn registration_mut(&mut self) -> Option<&mut Registration> {
        match self {
            WriteOp::Register(reg) => Some(reg),
            WriteOp::RegisterWire(w) => Some(&mut w.reg),
            _ => None,
        }
    }
}

/// A write and where its answer goes.
pub struct WriteRequest {
    pub op: WriteOp,
    pub conn: ConnId,
    /// `None` for oneway requests and internal events.
    pub reply: Option<futures_channel::oneshot::Sender<crate::reply::Reply>>,
}

/// Messages from the writer to a shard.
#[derive(Debug)]
pub enum ShardControl {
    /// Close this connection, counted under this reason (today: its broker
    /// expired).
    CloseConnection(ConnId, crate::http::metrics::CloseReason),
}

#[cfg(test)]
mod rules_tests;
