//! Re-registrations that change nothing: brokers send their whole topic table
//! every 30 s, nearly always with the DataVersion they registered last.
//!
//! Upstream (`RouteInfoManager#registerBroker`) then skips the per-topic work
//! (`isBrokerTopicConfigChanged` is false), but for topics that lack this
//! broker's QueueData. So a body may skip decoding only when it is the very body
//! (same bytes, same way of reading them) this address last registered in full,
//! and no QueueData of its broker name has been removed since: then every topic
//! it lists still holds one, and the filter-server list it carries is the one
//! stored. The receiving core recognizes such a body from [`RegisterHints`],
//! reads its version only, and the writer checks the same against its tables
//! before it applies the header part alone.

use std::hash::BuildHasher;
use std::sync::Mutex;

use bytes::Bytes;
use protocol::body::{body_crc32, DataVersion, DecodeLimits};

use super::tables::Registration;
use super::{FastHasher, HashMap};

/// Which bytes a register body was, and how they were read.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct BodyPrint {
    pub len: usize,
    /// The bytes' `bodyCrc32` (CRC-32 without its sign bit), as the header
    /// carries it when the broker sends one.
    pub crc: i32,
    pub compressed: bool,
    pub version: i32,
    /// The limits it was decoded under (a lowered one must be checked again).
    pub limits: DecodeLimits,
}

impl BodyPrint {
    pub fn of(body: &[u8], compressed: bool, version: i32, limits: DecodeLimits) -> Self {
        BodyPrint {
            len: body.len(),
            crc: body_crc32(body),
            compressed,
            version,
            limits,
        }
    }
}

/// What the writer keeps, per live address, of the last body it applied in full.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct AppliedBody {
    pub print: BodyPrint,
    /// The address wrote topic routes then (a master or prime slave), so every
    /// topic of the body holds its broker's QueueData.
    pub routes_written: bool,
    /// [`super::tables::Tables::queue_removals`] right after.
    pub removals: u64,
}

/// A registration from the wire, with its body decoded or not yet.
#[derive(Debug)]
pub struct WireRegistration {
    /// When `deferred` is set, `reg.body` holds only the peeked DataVersion.
    pub reg: Registration,
    pub print: BodyPrint,
    pub deferred: Option<Bytes>,
}

/// What the shards may read of the writer's [`AppliedBody`]s: by (cluster,
/// address) hash, the version and print of the body last applied in full.
/// Only a hint: a stale or colliding entry costs the writer a decode, nothing
/// more, since the writer decides on its own tables.
#[derive(Debug, Default)]
pub struct RegisterHints {
    hasher: FastHasher,
    by_addr: Mutex<HashMap<u64, (DataVersion, BodyPrint)>>,
}

impl RegisterHints {
    fn key(&self, cluster: &str, addr: &str) -> u64 {
        self.hasher.hash_one((cluster, addr))
    }

    /// Whether `cluster`/`addr` last registered in full with this very body.
    pub fn matches(
        &self,
        cluster: &str,
        addr: &str,
        version: &DataVersion,
        print: &BodyPrint,
    ) -> bool {
        let key = self.key(cluster, addr);
        let Ok(map) = self.by_addr.lock() else {
            return false;
        };
        map.get(&key)
            .is_some_and(|(v, p)| v == version && p == print)
    }

    pub fn note(&self, cluster: &str, addr: &str, version: DataVersion, print: BodyPrint) {
        let key = self.key(cluster, addr);
        if let Ok(mut map) = self.by_addr.lock() {
            map.insert(key, (version, print));
        }
    }

    /// Keeps exactly `live` (the writer's live addresses with an applied body),
    /// so addresses that went away do not pile up.
    pub fn replace<'a>(
        &self,
        live: impl Iterator<Item = (&'a str, &'a str, DataVersion, BodyPrint)>,
    ) {
        let fresh: HashMap<u64, (DataVersion, BodyPrint)> =
            live.map(|(c, a, v, p)| (self.key(c, a), (v, p))).collect();
        if let Ok(mut map) = self.by_addr.lock() {
            *map = fresh;
        }
    }

    pub fn len(&self) -> usize {
        self.by_addr.lock().map_or(0, |m| m.len())
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}
