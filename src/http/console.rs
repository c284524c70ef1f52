//! The console at `/` and its JSON under `/api/…`: what the listener hands it
//! (the pages themselves are `crate::console`).

use std::sync::{Arc, Mutex, Weak};
use std::time::Instant;

use arc_swap::ArcSwap;

use super::metrics::MetricsHandle;
use super::probes::Readiness;
use crate::console::rates::RateWindow;
use crate::console::{ServerView, ShardStat};
use crate::registry::snapshot::Snapshot;

/// One answered page.
pub struct Page {
    pub status: u16,
    pub content_type: &'static str,
    pub body: Vec<u8>,
}

/// What the console (and `/metrics`) read: the same snapshot handle the lookup
/// path loads from, the counters, and the facts of this process.
pub struct ConsoleCtx {
    pub snapshot: Arc<ArcSwap<Snapshot>>,
    pub metrics: MetricsHandle,
    pub version: &'static str,
    pub ready: Readiness,
    /// The topic pages' name order, for the snapshot it was sorted from.
    pub sorted: SortedCache,
    /// The per-shard request rates' window of samples (one per listener).
    pub rates: Mutex<RateWindow>,
}

/// The last snapshot's sorted topic names, kept on the HTTP side (not in the
/// snapshot the lookups read). Keyed by a `Weak` of the snapshot: it cannot be
/// mistaken for a new snapshot at the same address, and does not keep the old
/// routes alive.
#[derive(Default)]
pub struct SortedCache(Mutex<Option<(Weak<Snapshot>, SortedNames)>>);

/// Topic names in name order.
pub type SortedNames = Arc<Vec<Box<str>>>;

impl SortedCache {
    /// `snap`'s topic names in name order, sorted at most once per snapshot.
    pub fn of(&self, snap: &Arc<Snapshot>) -> SortedNames {
        let mut cached = match self.0.lock() {
            Ok(c) => c,
            Err(poisoned) => poisoned.into_inner(),
        };
        if let Some((key, names)) = cached.as_ref() {
            if std::ptr::eq(key.as_ptr(), Arc::as_ptr(snap)) {
                return names.clone();
            }
        }
        let names = Arc::new(crate::console::sorted_topics(snap));
        *cached = Some((Arc::downgrade(snap), names.clone()));
        names
    }
}

/// The page at `path` (`query` is the part after `?`, if any); `None` is a 404.
pub fn respond(path: &str, query: Option<&str>, ctx: &ConsoleCtx) -> Option<Page> {
    let snap = ctx.snapshot.load_full();
    let sorted_topics = ctx.sorted.of(&snap);
    let live = snap.live.load();
    let now = Instant::now();
    // The start the readiness gate counts from, the one owner of "started".
    let uptime = snap.started.elapsed();
    let shards = ctx.metrics.shards();
    let counts: Vec<u64> = shards.iter().map(|m| m.requests_total()).collect();
    let rates = match ctx.rates.lock() {
        Ok(mut w) => w.observe(now, &counts, uptime),
        Err(poisoned) => poisoned.into_inner().observe(now, &counts, uptime),
    };
    let shards = shards
        .iter()
        .zip(counts.iter().zip(rates))
        .enumerate()
        .map(|(shard, (m, (&requests, rate)))| ShardStat {
            shard,
            connections: m.open_connections(),
            requests,
            requests_per_second: rate,
        })
        .collect();
    let view = ServerView {
        snap: &snap,
        live: &live,
        now,
        uptime,
        version: ctx.version,
        ready: ctx.ready.is_ready(),
        shards,
        sorted_topics: &sorted_topics,
    };
    crate::console::respond(path, query, &view)
}
