//! The console at `/` and its JSON under `/api/…`: what the listener hands it
//! (the pages themselves are `crate::console`).

use std::sync::{Arc, Mutex};
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
    pub started: Instant,
    pub version: &'static str,
    pub ready: Readiness,
}

/// The page at `path` (`query` is the part after `?`, if any); `None` is a 404.
pub fn respond(path: &str, query: Option<&str>, ctx: &ConsoleCtx) -> Option<Page> {
    let snap = ctx.snapshot.load();
    let live = snap.live.load();
    let now = Instant::now();
    let uptime = ctx.started.elapsed();
    let shards = ctx.metrics.shards();
    let counts: Vec<u64> = shards.iter().map(|m| m.requests_total()).collect();
    // One listener per process, so one window of samples.
    static RATES: Mutex<RateWindow> = Mutex::new(RateWindow::new());
    let rates = match RATES.lock() {
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
    };
    crate::console::respond(path, query, &view)
}
