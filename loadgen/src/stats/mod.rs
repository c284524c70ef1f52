//! Latency and error accounting: HDR histograms per (target, operation) for the
//! measured window, plus a per-second timeline for the live line and the plots.
//!
//! Hot paths (connection readers, closed loops) append raw records to a
//! [`Local`] buffer and hand it to the shared [`Hub`] a few times per second.

use std::collections::BTreeMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Mutex;
use std::time::Instant;

use hdrhistogram::Histogram;
use serde::Serialize;

/// Longest latency a histogram holds exactly (µs); longer ones saturate.
const MAX_US: u64 = 120_000_000;
const MAX_EXAMPLES: usize = 8;

mod kinds;

pub use kinds::{ErrKind, Op, Outcome};

#[derive(Debug, Clone, Copy)]
struct Rec {
    op: Op,
    /// Completion second since the run's epoch.
    sec: u32,
    in_window: bool,
    /// Latency in µs; `None` for oneway sends.
    lat_us: Option<u32>,
    outcome: Outcome,
}

/// A per-task buffer of records for one target.
pub struct Local {
    target: usize,
    recs: Vec<Rec>,
    examples: Vec<(Op, String)>,
    last_flush: Instant,
}

impl Local {
    pub fn new(target: usize) -> Self {
        Local {
            target,
            recs: Vec::with_capacity(1024),
            examples: Vec::new(),
            last_flush: Instant::now(),
        }
    }

    /// Records an operation sent (or due) at `start` and completed at `done`.
    pub fn record(&mut self, hub: &Hub, op: Op, start: Instant, done: Instant, outcome: Outcome) {
        let lat = done
            .saturating_duration_since(start)
            .as_micros()
            .min(u32::MAX as u128) as u32;
        self.recs.push(Rec {
            op,
            sec: hub.sec_of(done),
            in_window: hub.in_window(start),
            lat_us: Some(lat.max(1)),
            outcome,
        });
    }

    /// Records an operation with no latency (oneway, or failed before a reply).
    pub fn record_count(&mut self, hub: &Hub, op: Op, at: Instant, outcome: Outcome) {
        self.recs.push(Rec {
            op,
            sec: hub.sec_of(at),
            in_window: hub.in_window(at),
            lat_us: None,
            outcome,
        });
    }

    pub fn example(&mut self, op: Op, msg: String) {
        if self.examples.len() < MAX_EXAMPLES {
            self.examples.push((op, msg));
        }
    }

    /// Hands the buffer to the hub if it is older than 200 ms (or `force`).
    pub fn maybe_flush(&mut self, hub: &Hub, force: bool) {
        if self.recs.is_empty() && self.examples.is_empty() {
            return;
        }
        if force || self.last_flush.elapsed().as_millis() >= 200 || self.recs.len() >= 65_536 {
            hub.absorb(self.target, &self.recs, &mut self.examples);
            self.recs.clear();
            self.last_flush = Instant::now();
        }
    }
}

/// One second of one series.
#[derive(Debug, Clone, Serialize)]
pub struct SecPoint {
    /// Seconds since the run started.
    pub t: u64,
    pub count: u64,
    pub errors: u64,
    pub p50_us: u64,
    pub p99_us: u64,
    pub max_us: u64,
}

struct SecAcc {
    hist: Histogram<u64>,
    count: u64,
    errors: u64,
}

/// Everything measured for one (target, operation).
pub struct Series {
    /// Latencies of operations started inside the window (µs).
    pub total: Histogram<u64>,
    pub count: u64,
    pub errors: u64,
    pub in_transition: u64,
    /// Operations without a reply to time (oneway).
    pub oneway: u64,
    pub kinds: BTreeMap<String, u64>,
    pub examples: Vec<String>,
    open: BTreeMap<u64, SecAcc>,
    pub timeline: Vec<SecPoint>,
}

fn hist(sigfig: u8) -> Histogram<u64> {
    Histogram::new_with_bounds(1, MAX_US, sigfig).expect("constant histogram bounds are valid")
}

impl Series {
    fn new() -> Self {
        Series {
            total: hist(3),
            count: 0,
            errors: 0,
            in_transition: 0,
            oneway: 0,
            kinds: BTreeMap::new(),
            examples: Vec::new(),
            open: BTreeMap::new(),
            timeline: Vec::new(),
        }
    }

    fn close_before(&mut self, sec: u64) {
        while let Some((&t, _)) = self.open.iter().next() {
            if t >= sec {
                break;
            }
            let Some(acc) = self.open.remove(&t) else {
                break;
            };
            let next = self.timeline.last().map(|p| p.t + 1).unwrap_or(t);
            for gap in next..t {
                self.timeline.push(SecPoint {
                    t: gap,
                    count: 0,
                    errors: 0,
                    p50_us: 0,
                    p99_us: 0,
                    max_us: 0,
                });
            }
            let has = !acc.hist.is_empty();
            self.timeline.push(SecPoint {
                t,
                count: acc.count,
                errors: acc.errors,
                p50_us: if has {
                    acc.hist.value_at_quantile(0.5)
                } else {
                    0
                },
                p99_us: if has {
                    acc.hist.value_at_quantile(0.99)
                } else {
                    0
                },
                max_us: if has { acc.hist.max() } else { 0 },
            });
        }
    }
}

#[derive(Default)]
struct HubInner {
    series: BTreeMap<(usize, Op), Series>,
    lag: Option<Histogram<u64>>,
}

/// Shared accounting for one run.
pub struct Hub {
    epoch: Instant,
    /// ms since epoch; `u64::MAX` = not yet open / not yet closed.
    window_start: AtomicU64,
    window_end: AtomicU64,
    inner: Mutex<HubInner>,
}

impl Default for Hub {
    fn default() -> Self {
        Self::new()
    }
}

impl Hub {
    pub fn new() -> Self {
        Hub {
            epoch: Instant::now(),
            window_start: AtomicU64::new(u64::MAX),
            window_end: AtomicU64::new(u64::MAX),
            inner: Mutex::new(HubInner::default()),
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, HubInner> {
        self.inner.lock().unwrap_or_else(|e| e.into_inner())
    }

    pub fn epoch(&self) -> Instant {
        self.epoch
    }

    fn ms_of(&self, t: Instant) -> u64 {
        t.saturating_duration_since(self.epoch).as_millis() as u64
    }

    pub fn sec_of(&self, t: Instant) -> u32 {
        (self.ms_of(t) / 1000) as u32
    }

    pub fn open_window(&self, at: Instant) {
        self.window_start.store(self.ms_of(at), Ordering::Release);
    }

    pub fn close_window(&self, at: Instant) {
        self.window_end.store(self.ms_of(at), Ordering::Release);
    }

    /// Window bounds in seconds since the epoch, once both are set.
    pub fn window(&self) -> Option<(f64, f64)> {
        let s = self.window_start.load(Ordering::Acquire);
        let e = self.window_end.load(Ordering::Acquire);
        (s != u64::MAX && e != u64::MAX).then(|| (s as f64 / 1e3, e as f64 / 1e3))
    }

    pub fn in_window(&self, t: Instant) -> bool {
        let ms = self.ms_of(t);
        ms >= self.window_start.load(Ordering::Relaxed)
            && ms < self.window_end.load(Ordering::Relaxed)
    }

    /// Records directly (low-rate callers: broker tasks).
    pub fn record(
        &self,
        target: usize,
        op: Op,
        start: Instant,
        done: Instant,
        outcome: Outcome,
        example: Option<String>,
    ) {
        let mut l = Local::new(target);
        l.record(self, op, start, done, outcome);
        if let Some(e) = example {
            l.example(op, e);
        }
        l.maybe_flush(self, true);
    }

    pub fn record_count(&self, target: usize, op: Op, at: Instant, outcome: Outcome) {
        let mut l = Local::new(target);
        l.record_count(self, op, at, outcome);
        l.maybe_flush(self, true);
    }

    /// How late an open-loop request went out compared with its schedule (µs).
    pub fn record_lag(&self, due: Instant, sent: Instant) {
        if !self.in_window(due) {
            return;
        }
        let us = sent.saturating_duration_since(due).as_micros() as u64;
        let mut g = self.lock();
        g.lag
            .get_or_insert_with(|| hist(2))
            .saturating_record(us.max(1));
    }

    fn absorb(&self, target: usize, recs: &[Rec], examples: &mut Vec<(Op, String)>) {
        let mut g = self.lock();
        for r in recs {
            let s = g.series.entry((target, r.op)).or_insert_with(Series::new);
            let acc = s.open.entry(r.sec as u64).or_insert_with(|| SecAcc {
                hist: hist(2),
                count: 0,
                errors: 0,
            });
            acc.count += 1;
            if let Some(l) = r.lat_us {
                acc.hist.saturating_record(l as u64);
            }
            if let Outcome::Err(_) = r.outcome {
                acc.errors += 1;
            }
            if !r.in_window {
                continue;
            }
            s.count += 1;
            match r.lat_us {
                Some(l) => s.total.saturating_record(l as u64),
                None => s.oneway += 1,
            }
            match r.outcome {
                Outcome::Ok => {}
                Outcome::InTransition => s.in_transition += 1,
                Outcome::Err(k) => {
                    s.errors += 1;
                    *s.kinds.entry(k.name()).or_insert(0) += 1;
                }
            }
        }
        for (op, msg) in examples.drain(..) {
            let s = g.series.entry((target, op)).or_insert_with(Series::new);
            if s.examples.len() < MAX_EXAMPLES {
                s.examples.push(msg);
            }
        }
    }

    /// Closes every second before `sec` into the timelines.
    pub fn close_before(&self, sec: u64) {
        let mut g = self.lock();
        for s in g.series.values_mut() {
            s.close_before(sec);
        }
    }

    /// The closed second `t` of `op`, summed over targets: (count, errors, worst p99).
    pub fn second(&self, op: Op, t: u64) -> (u64, u64, u64) {
        let g = self.lock();
        let mut out = (0, 0, 0);
        for ((_, o), s) in g.series.iter() {
            if *o != op {
                continue;
            }
            if let Some(p) = s.timeline.iter().rev().find(|p| p.t == t) {
                out.0 += p.count;
                out.1 += p.errors;
                out.2 = out.2.max(p.p99_us);
            }
        }
        out
    }

    /// Runs `f` over the series (after the run).
    pub fn with_series<R>(
        &self,
        f: impl FnOnce(&BTreeMap<(usize, Op), Series>, Option<&Histogram<u64>>) -> R,
    ) -> R {
        let g = self.lock();
        f(&g.series, g.lag.as_ref())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    #[test]
    fn window_and_timeline() {
        let hub = Hub::new();
        let t0 = hub.epoch();
        hub.open_window(t0 + Duration::from_millis(1000));
        hub.close_window(t0 + Duration::from_millis(3000));
        let mut l = Local::new(0);
        // Before the window: timeline only.
        l.record(
            &hub,
            Op::Route,
            t0,
            t0 + Duration::from_micros(500),
            Outcome::Ok,
        );
        for i in 0..100u64 {
            let s = t0 + Duration::from_millis(1000 + i * 10);
            l.record(
                &hub,
                Op::Route,
                s,
                s + Duration::from_micros(100 + i),
                Outcome::Ok,
            );
        }
        l.record(
            &hub,
            Op::Route,
            t0 + Duration::from_millis(2500),
            t0 + Duration::from_millis(2600),
            Outcome::Err(ErrKind::WrongRoute),
        );
        l.maybe_flush(&hub, true);
        hub.close_before(10);
        hub.with_series(|s, _| {
            let r = &s[&(0, Op::Route)];
            assert_eq!(r.count, 101);
            assert_eq!(r.errors, 1);
            assert_eq!(r.kinds["wrong_route"], 1);
            assert_eq!(r.timeline.len(), 3);
            assert_eq!(r.timeline[0].count, 1);
            assert_eq!(r.timeline[1].count, 100);
        });
        assert_eq!(hub.second(Op::Route, 1).0, 100);
    }
}
