//! The console at `/` and its JSON under `/api/…` (filled in by the console work;
//! until then every path outside the probes and `/metrics` is a 404).

use std::sync::Arc;
use std::time::Instant;

use arc_swap::ArcSwap;

use super::metrics::MetricsHandle;
use super::probes::Readiness;
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
    let _ = (path, query, ctx);
    None
}
