//! Single-writer counting cells: each is written by one thread only (a shard's
//! executor, or the writer task) and read by the scraper. A write is a relaxed
//! load and store, not a locked read-modify-write: with one writer nothing can be
//! lost, and the cache line stays on the writer's core until a scrape reads it.

use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};

/// Adds `n` to a cell only the calling thread writes.
#[inline]
pub fn bump(cell: &AtomicU64, n: u64) {
    cell.store(
        cell.load(Ordering::Relaxed).wrapping_add(n),
        Ordering::Relaxed,
    );
}

/// Reads a cell (for the scraper).
#[inline]
pub fn read(cell: &AtomicU64) -> u64 {
    cell.load(Ordering::Relaxed)
}

/// Bucket upper bounds of the latency histograms, in seconds: 50 µs (a lookup)
/// to 10 s (a publish after a registration storm).
pub const SECONDS_BUCKETS: &[f64] = &[
    0.000_05, 0.000_1, 0.000_25, 0.000_5, 0.001, 0.002_5, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5,
    1.0, 2.5, 5.0, 10.0,
];

/// Bucket upper bounds of the writes-per-batch histogram (the writer's batch
/// limit is 4096).
pub const BATCH_BUCKETS: &[f64] = &[
    1.0, 2.0, 4.0, 8.0, 16.0, 32.0, 64.0, 128.0, 256.0, 512.0, 1024.0, 2048.0, 4096.0,
];

/// Most bounds a [`Hist`] may have.
const MAX_BOUNDS: usize = 17;

/// A histogram with fixed buckets. The counts are per bucket (not cumulative),
/// the last one for values above every bound; the sum is kept in billionths
/// of the unit (nanoseconds for durations: u64 lasts 584 years) so it stays an
/// integer cell without biasing microsecond-scale means low. Inline (no allocation of its own),
/// so it lies within its owner's cache lines.
#[derive(Debug)]
pub struct Hist {
    bounds: &'static [f64],
    counts: [AtomicU64; MAX_BOUNDS + 1],
    sum_nanos: AtomicU64,
}

/// What a scrape reads of one or more [`Hist`]s added together.
#[derive(Debug, Clone, PartialEq)]
pub struct HistValue {
    pub bounds: &'static [f64],
    /// Per bucket, the last above every bound.
    pub counts: Vec<u64>,
    pub sum: f64,
}

impl Hist {
    /// Bounds past [`MAX_BOUNDS`] are not used.
    pub fn new(bounds: &'static [f64]) -> Hist {
        Hist {
            bounds: &bounds[..bounds.len().min(MAX_BOUNDS)],
            counts: Default::default(),
            sum_nanos: AtomicU64::new(0),
        }
    }

    /// Records one value (by the cell's one writer).
    pub fn observe(&self, value: f64) {
        let i = self
            .bounds
            .iter()
            .position(|b| value <= *b)
            .unwrap_or(self.bounds.len());
        if let Some(cell) = self.counts.get(i) {
            bump(cell, 1);
        }
        bump(&self.sum_nanos, (value.max(0.0) * 1e9).round() as u64);
    }

    pub fn observe_duration(&self, d: std::time::Duration) {
        self.observe(d.as_secs_f64());
    }

    /// Adds this histogram into `into` (same bounds).
    pub fn add_to(&self, into: &mut HistValue) {
        let used = self.bounds.len() + 1;
        for (acc, cell) in into.counts.iter_mut().zip(self.counts.iter().take(used)) {
            *acc += read(cell);
        }
        into.sum += read(&self.sum_nanos) as f64 / 1e9;
    }

    pub fn value(&self) -> HistValue {
        let mut v = HistValue::zero(self.bounds);
        self.add_to(&mut v);
        v
    }
}

impl HistValue {
    pub fn zero(bounds: &'static [f64]) -> HistValue {
        HistValue {
            bounds,
            counts: vec![0; bounds.len() + 1],
            sum: 0.0,
        }
    }

    pub fn count(&self) -> u64 {
        self.counts.iter().sum()
    }

    /// Cumulative `(upper bound, count)` pairs ending with `+Inf`, as the
    /// exposition formats want them.
    pub fn cumulative(&self) -> Vec<(f64, u64)> {
        let mut total = 0;
        let mut out = Vec::with_capacity(self.counts.len());
        for (i, c) in self.counts.iter().enumerate() {
            total += c;
            out.push((self.bounds.get(i).copied().unwrap_or(f64::INFINITY), total));
        }
        out
    }

    /// `(upper bound, count)` per bucket, the last `+Inf`, not cumulated (the
    /// encoder cumulates them).
    pub fn per_bucket(&self) -> Vec<(f64, u64)> {
        self.counts
            .iter()
            .enumerate()
            .map(|(i, c)| (self.bounds.get(i).copied().unwrap_or(f64::INFINITY), *c))
            .collect()
    }

    /// The observations since `earlier` (a previous reading of the same cells).
    pub fn since(&self, earlier: &HistValue) -> HistValue {
        HistValue {
            bounds: self.bounds,
            counts: self
                .counts
                .iter()
                .zip(earlier.counts.iter())
                .map(|(a, b)| a.saturating_sub(*b))
                .collect(),
            sum: (self.sum - earlier.sum).max(0.0),
        }
    }

    /// The upper bound of the bucket holding quantile `q` (`+Inf` past the last
    /// bound); `None` without observations.
    pub fn quantile_bound(&self, q: f64) -> Option<f64> {
        let n = self.count();
        if n == 0 {
            return None;
        }
        let rank = ((n as f64) * q).ceil().max(1.0) as u64;
        self.cumulative()
            .into_iter()
            .find(|(_, c)| *c >= rank)
            .map(|(b, _)| b)
    }
}

/// Slots of a [`CodeTable`]: the known request codes times the response codes
/// they get, plus "other" times its few, stay well under this.
const CODE_SLOTS: usize = 512;

/// Slots a count looks at before giving up on a pair: bounds the lookup path's
/// cost whatever a peer sends (the table holds about 50 pairs, so a known pair
/// essentially never meets 8 collisions).
const MAX_PROBE: usize = 8;

/// The request code a pair is counted under when it is none of ours
/// (`protocol::codes::request`): made-up codes share one series, so a peer
/// cycling codes cannot fill the table or the scrape.
const OTHER_CODE: i32 = i32::MIN;

/// Whether `code` is one we serve, or it folds into `code="other"`.
fn is_known(code: i32) -> bool {
    use protocol::codes::request::*;
    matches!(
        code,
        PUT_KV_CONFIG
            | GET_KV_CONFIG
            | DELETE_KV_CONFIG
            | REGISTER_BROKER
            | UNREGISTER_BROKER
            | GET_ROUTEINFO_BY_TOPIC
            | GET_BROKER_CLUSTER_INFO
            | WIPE_WRITE_PERM_OF_BROKER
            | GET_ALL_TOPIC_LIST_FROM_NAMESERVER
            | DELETE_TOPIC_IN_NAMESRV
            | REGISTER_TOPIC_IN_NAMESRV
            | GET_KVLIST_BY_NAMESPACE
            | GET_TOPICS_BY_CLUSTER
            | GET_SYSTEM_TOPIC_LIST_FROM_NS
            | GET_UNIT_TOPIC_LIST
            | GET_HAS_UNIT_SUB_TOPIC_LIST
            | GET_HAS_UNIT_SUB_UNUNIT_TOPIC_LIST
            | UPDATE_NAMESRV_CONFIG
            | GET_NAMESRV_CONFIG
            | QUERY_DATA_VERSION
            | ADD_WRITE_PERM_OF_BROKER
            | GET_BROKER_MEMBER_GROUP
            | BROKER_HEARTBEAT
            | NOTIFY_MIN_BROKER_ID_CHANGE
    )
}

/// Requests answered, by request code (`None`: not one of ours) and response
/// code (`None` for oneway requests), as an open-addressing table: one writer
/// inserts and counts, the scraper reads what has been published (a slot's key
/// before its flag).
#[derive(Debug)]
pub struct CodeTable {
    slots: Box<Slots>,
    /// Requests whose pair found no free slot within [`MAX_PROBE`].
    overflow: AtomicU64,
}

/// The slots, in whole cache lines of their own (false sharing with another
/// core's cells would cost what the single-writer design saves).
#[derive(Debug)]
#[repr(C, align(128))]
struct Slots([Slot; CODE_SLOTS]);

#[derive(Debug, Default)]
struct Slot {
    used: AtomicBool,
    /// The request code in the high half, the response code in the low half.
    key: AtomicU64,
    /// The request was oneway (the low half is then 0).
    oneway: AtomicBool,
    count: AtomicU64,
}

fn key_of(code: i32, response: Option<i32>) -> (u64, bool) {
    let resp = response.map_or(0, |r| r as u32 as u64);
    (((code as u32 as u64) << 32) | resp, response.is_none())
}

fn unkey(key: u64, oneway: bool) -> (Option<i32>, Option<i32>) {
    let code = (key >> 32) as u32 as i32;
    let resp = (!oneway).then_some(key as u32 as i32);
    ((code != OTHER_CODE).then_some(code), resp)
}

impl Default for CodeTable {
    fn default() -> Self {
        CodeTable {
            slots: Box::new(Slots(std::array::from_fn(|_| Slot::default()))),
            overflow: AtomicU64::new(0),
        }
    }
}

impl CodeTable {
    /// Counts one request (by the table's one writer); at most [`MAX_PROBE`]
    /// slots are looked at.
    pub fn count(&self, code: i32, response: Option<i32>) {
        let code = if is_known(code) { code } else { OTHER_CODE };
        let (key, oneway) = key_of(code, response);
        let hash = (key ^ u64::from(oneway)).wrapping_mul(0x9E37_79B9_7F4A_7C15);
        let start = (hash >> 55) as usize % CODE_SLOTS;
        for i in 0..MAX_PROBE {
            let Some(slot) = self.slots.0.get((start + i) % CODE_SLOTS) else {
                break;
            };
            if slot.used.load(Ordering::Relaxed) {
                if slot.key.load(Ordering::Relaxed) == key
                    && slot.oneway.load(Ordering::Relaxed) == oneway
                {
                    bump(&slot.count, 1);
                    return;
                }
                continue;
            }
            slot.key.store(key, Ordering::Relaxed);
            slot.oneway.store(oneway, Ordering::Relaxed);
            slot.count.store(1, Ordering::Relaxed);
            // Publishes key and count to a scraper that sees the flag.
            slot.used.store(true, Ordering::Release);
            return;
        }
        bump(&self.overflow, 1);
    }

    /// Every `(code, response, count)` counted so far; a `None` code is
    /// "other" (not one of ours).
    pub fn entries(&self) -> impl Iterator<Item = (Option<i32>, Option<i32>, u64)> + '_ {
        self.slots
            .0
            .iter()
            .filter(|s| s.used.load(Ordering::Acquire))
            .map(|s| {
                let (code, resp) = unkey(
                    s.key.load(Ordering::Relaxed),
                    s.oneway.load(Ordering::Relaxed),
                );
                (code, resp, read(&s.count))
            })
    }

    /// Requests not counted by pair because their probe found no slot.
    pub fn overflow(&self) -> u64 {
        read(&self.overflow)
    }

    /// All requests counted.
    pub fn total(&self) -> u64 {
        self.entries().map(|(_, _, n)| n).sum::<u64>() + self.overflow()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn code_table_counts_pairs_and_oneway_apart() {
        let t = CodeTable::default();
        for _ in 0..3 {
            t.count(105, Some(0));
        }
        t.count(105, Some(17));
        t.count(104, None);
        t.count(-1, Some(3));
        let mut got: Vec<_> = t.entries().collect();
        got.sort();
        assert_eq!(
            got,
            vec![
                (None, Some(3), 1),
                (Some(104), None, 1),
                (Some(105), Some(0), 3),
                (Some(105), Some(17), 1)
            ]
        );
        assert_eq!(t.total(), 6);
    }

    #[test]
    fn made_up_codes_fold_into_other_and_known_pairs_still_count() {
        let t = CodeTable::default();
        // A flood of codes none of ours, each answered "not supported".
        for code in 1000..11_000 {
            t.count(code, Some(3));
        }
        t.count(-7, None);
        // Pairs first seen after the flood still get their own series.
        t.count(105, Some(17));
        t.count(105, Some(0));
        t.count(105, Some(0));
        let mut got: Vec<_> = t.entries().collect();
        got.sort();
        assert_eq!(
            got,
            vec![
                (None, None, 1),
                (None, Some(3), 10_000),
                (Some(105), Some(0), 2),
                (Some(105), Some(17), 1)
            ]
        );
        assert_eq!(t.overflow(), 0);
        assert_eq!(t.total(), 10_004);
    }

    #[test]
    fn a_probe_stops_after_max_probe_slots() {
        let t = CodeTable::default();
        // Fill every slot by hand so any new pair's probe meets only strangers.
        for slot in t.slots.0.iter() {
            slot.key.store(u64::MAX, Ordering::Relaxed);
            slot.used.store(true, Ordering::Relaxed);
        }
        t.count(105, Some(0));
        t.count(999_999, Some(3));
        assert_eq!(t.overflow(), 2);
        assert_eq!(t.entries().filter(|e| e.2 > 0).count(), 0);
    }

    #[test]
    fn histogram_buckets_cumulate_and_quantile() {
        let h = Hist::new(BATCH_BUCKETS);
        for v in [1.0, 1.0, 3.0, 5000.0] {
            h.observe(v);
        }
        let v = h.value();
        assert_eq!(v.count(), 4);
        assert_eq!(v.sum, 5005.0);
        let cum = v.cumulative();
        assert_eq!(cum[0], (1.0, 2));
        assert_eq!(cum[2], (4.0, 3));
        assert_eq!(cum.last(), Some(&(f64::INFINITY, 4)));
        assert_eq!(v.quantile_bound(0.5), Some(1.0));
        assert_eq!(v.quantile_bound(0.99), Some(f64::INFINITY));
    }
}
