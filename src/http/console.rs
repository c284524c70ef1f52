//! The console at `/` and its JSON under `/api/…`: what the listener hands it
//! (the pages themselves are `crate::console`).

use std::sync::Arc;
use std::time::Instant;

use arc_swap::ArcSwap;

use super::metrics::MetricsHandle;
use super::probes::Readiness;
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
    pub started: Instant,
    pub version: &'static str,
    pub ready: Readiness,
}

/// The page at `path` (`query` is the part after `?`, if any); `None` is a 404.
pub fn respond(path: &str, query: Option<&str>, ctx: &ConsoleCtx) -> Option<Page> {
    let snap = ctx.snapshot.load();
    let live = snap.live.load();
    let shards = ctx
        .metrics
        .shards()
        .iter()
        .enumerate()
        .map(|(shard, m)| ShardStat {
            shard,
            connections: m.open_connections(),
            requests: m.requests.total(),
        })
        .collect();
    let view = ServerView {
        snap: &snap,
        live: &live,
        now: Instant::now(),
        uptime: ctx.started.elapsed(),
        version: ctx.version,
        ready: ctx.ready.is_ready(),
        shards,
    };
    crate::console::respond(path, query, &view)
}
