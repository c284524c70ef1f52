//! Topic-list bodies (206, 224, 304, 311–313), built at most once per snapshot.
//!
//! Each list walks the whole route map, so building it per request let a client
//! pipelining 206s spend its core on them. A snapshot never changes, so the
//! first reader that asks builds the body and every later one shares it (a
//! refcount); the next publish starts from an empty cache. Racing cores may both
//! build a body: one result wins, and the bytes are the same.

use std::collections::HashMap;
use std::sync::Mutex;

use bytes::Bytes;
use once_cell::race::OnceBox;

/// The topic-list bodies of one snapshot, filled on first use.
#[derive(Debug, Default)]
pub struct ListCache {
    all: OnceBox<Bytes>,
    system: OnceBox<Bytes>,
    /// 311, 312, 313 in that order.
    unit: [OnceBox<Bytes>; 3],
    /// 224 by cluster name; only clusters the snapshot knows are kept, so the map
    /// is bounded by the cluster table whatever names clients ask for.
    by_cluster: Mutex<HashMap<String, Bytes>>,
}

fn cached(cell: &OnceBox<Bytes>, build: impl FnOnce() -> Bytes) -> Bytes {
    cell.get_or_init(|| Box::new(build())).clone()
}

impl ListCache {
    /// 206.
    pub fn all(&self, build: impl FnOnce() -> Bytes) -> Bytes {
        cached(&self.all, build)
    }

    /// 304.
    pub fn system(&self, build: impl FnOnce() -> Bytes) -> Bytes {
        cached(&self.system, build)
    }

    /// 311–313: `which` is 0, 1 or 2 (larger values share the last cell).
    pub fn unit(&self, which: usize, build: impl FnOnce() -> Bytes) -> Bytes {
        cached(&self.unit[which.min(2)], build)
    }

    /// 224 for a cluster the snapshot knows. The lock is held for the lookup and
    /// the insert only, never while building.
    pub fn by_cluster(&self, cluster: &str, build: impl FnOnce() -> Bytes) -> Bytes {
        if let Some(b) = self.lock().get(cluster) {
            return b.clone();
        }
        let body = build();
        self.lock()
            .entry(cluster.to_string())
            .or_insert(body)
            .clone()
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<String, Bytes>> {
        // A panic elsewhere cannot leave this map half-written: it holds whole bodies.
        self.by_cluster
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::cell::Cell;

    #[test]
    fn each_body_is_built_once() {
        let cache = ListCache::default();
        let builds = Cell::new(0);
        let build = |text: &'static str| {
            builds.set(builds.get() + 1);
            Bytes::from_static(text.as_bytes())
        };
        assert_eq!(cache.all(|| build("a")), "a");
        assert_eq!(cache.all(|| build("other")), "a");
        assert_eq!(cache.by_cluster("c1", || build("c1")), "c1");
        assert_eq!(cache.by_cluster("c1", || build("other")), "c1");
        assert_eq!(cache.by_cluster("c2", || build("c2")), "c2");
        assert_eq!(cache.unit(1, || build("u1")), "u1");
        assert_eq!(cache.unit(1, || build("other")), "u1");
        assert_eq!(cache.unit(2, || build("u2")), "u2");
        assert_eq!(builds.get(), 5);
    }
}
