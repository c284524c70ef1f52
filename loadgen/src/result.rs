//! The outcome of one run, as printed, written to JSON and plotted.

use std::collections::BTreeMap;

use hdrhistogram::Histogram;
use serde::Serialize;

use crate::churn::ChurnCounts;
use crate::monitor::SysPoint;
use crate::scenario::Scenario;
use crate::stats::{Op, SecPoint, Series};

/// Register p99 of one target (µs): every registration, and split by whether
/// the body changed (the server rewrites its tables) or not (it only
/// refreshes the broker's liveness).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct RegP99 {
    pub all_us: u64,
    pub changed_us: u64,
    pub unchanged_us: u64,
}

/// Per target, from the merged histogram of `Register` and `RegisterUnchanged`
/// (in steady state nearly every registration is unchanged, so `Register`
/// alone would read 0).
pub fn reg_p99s(series: &BTreeMap<(usize, Op), Series>, targets: usize) -> Vec<RegP99> {
    let p99 = |h: &Histogram<u64>| {
        if h.is_empty() {
            0
        } else {
            h.value_at_quantile(0.99)
        }
    };
    (0..targets)
        .map(|t| {
            let changed = series.get(&(t, Op::Register)).map(|s| &s.total);
            let unchanged = series.get(&(t, Op::RegisterUnchanged)).map(|s| &s.total);
            let all = match (changed, unchanged) {
                (Some(a), Some(b)) => {
                    let mut m = a.clone();
                    // Same bounds (one constructor), so `add` cannot fail;
                    // if it ever did, the changed half alone is the answer.
                    let _ = m.add(b);
                    p99(&m)
                }
                (Some(h), None) | (None, Some(h)) => p99(h),
                (None, None) => 0,
            };
            RegP99 {
                all_us: all,
                changed_us: changed.map(p99).unwrap_or(0),
                unchanged_us: unchanged.map(p99).unwrap_or(0),
            }
        })
        .collect()
}

/// Percentiles of the latency curve (HTML plot and JSON).
pub const CURVE: &[f64] = &[
    0.0, 10.0, 25.0, 50.0, 75.0, 90.0, 95.0, 99.0, 99.5, 99.9, 99.95, 99.99, 99.999, 100.0,
];

#[derive(Debug, Clone, Serialize)]
pub struct OpSummary {
    pub target: usize,
    pub op: Op,
    /// Operations started inside the window.
    pub count: u64,
    pub errors: u64,
    /// Mismatches within the settle time of a broker change (tolerated).
    pub in_transition: u64,
    /// Oneway sends (no latency).
    pub oneway: u64,
    pub ops_per_sec: f64,
    pub mean_us: f64,
    pub p50_us: u64,
    pub p90_us: u64,
    pub p99_us: u64,
    pub p999_us: u64,
    pub max_us: u64,
    pub error_kinds: BTreeMap<String, u64>,
    pub examples: Vec<String>,
    /// (percentile, µs)
    pub curve: Vec<(f64, u64)>,
    pub timeline: Vec<SecPoint>,
}

impl OpSummary {
    /// Summarizes a series; the timeline keeps whole seconds before `end_sec`
    /// (the trailing partial second would read as a throughput drop).
    pub fn from_series(target: usize, op: Op, s: &Series, window_secs: f64, end_sec: u64) -> Self {
        let h: &Histogram<u64> = &s.total;
        let has = !h.is_empty();
        let q = |p: f64| if has { h.value_at_quantile(p) } else { 0 };
        OpSummary {
            target,
            op,
            count: s.count,
            errors: s.errors,
            in_transition: s.in_transition,
            oneway: s.oneway,
            ops_per_sec: if window_secs > 0.0 {
                s.count as f64 / window_secs
            } else {
                0.0
            },
            mean_us: if has { h.mean() } else { 0.0 },
            p50_us: q(0.5),
            p90_us: q(0.9),
            p99_us: q(0.99),
            p999_us: q(0.999),
            max_us: if has { h.max() } else { 0 },
            error_kinds: s.kinds.clone(),
            examples: s.examples.clone(),
            curve: if has {
                CURVE
                    .iter()
                    .map(|&p| (p, h.value_at_percentile(p)))
                    .collect()
            } else {
                Vec::new()
            },
            timeline: s
                .timeline
                .iter()
                .filter(|p| p.t < end_sec)
                .cloned()
                .collect(),
        }
    }

    /// The error rate of this operation in the window.
    pub fn error_rate(&self) -> f64 {
        if self.count == 0 {
            0.0
        } else {
            self.errors as f64 / self.count as f64
        }
    }
}

#[derive(Debug, Clone, Default, Serialize)]
pub struct Startup {
    pub broker_processes: u64,
    pub registrations: u64,
    pub errors: u64,
    /// From the first connect until every startup registration was answered.
    pub secs: f64,
    /// Distinct register bodies encoded for the startup (groups hosting the
    /// same topics share one).
    pub register_bodies: u64,
    /// Scenario `sweep`: from the first connect until every swept route was
    /// served correctly (on every target); `None` if never, or no sweep.
    pub served_secs: Option<f64>,
    /// Topics swept (timed), rounds needed, and routes never served.
    pub sweep_topics: u64,
    pub sweep_rounds: u32,
    pub sweep_unserved: u64,
    /// `sweep = "brokers"`: the untimed pass over every user topic afterwards.
    pub full_check_topics: u64,
    pub full_check_unserved: u64,
}

#[derive(Debug, Clone, Default, Serialize)]
pub struct Verification {
    /// Route replies checked in the window.
    pub routes_checked: u64,
    /// Wrong, missing or unexpected routes, wrong dialects, undecodable replies,
    /// wrong register/heartbeat/cluster-info contents.
    pub wrong: u64,
    pub in_transition: u64,
    pub settle_secs: f64,
}

#[derive(Debug, Clone, Default, Serialize)]
pub struct ProcUse {
    pub pid: Option<u32>,
    pub cores_avg: f64,
    pub cores_peak: f64,
    pub rss_mib_peak: f64,
}

#[derive(Debug, Clone, Serialize)]
pub struct RunResult {
    pub scenario: Scenario,
    pub targets: Vec<String>,
    pub name_prefix: String,
    pub started_unix_ms: u64,
    /// Window bounds, seconds since the run started.
    pub window: (f64, f64),
    pub window_secs: f64,
    pub worker_threads: usize,
    pub startup: Startup,
    pub ops: Vec<OpSummary>,
    pub verification: Verification,
    pub churn: ChurnCounts,
    /// Every registration of the run (startup included), changed vs unchanged.
    pub registrations: crate::broker::RegTotals,
    /// Register latency per target (see [`reg_p99s`]).
    pub register_p99: Vec<RegP99>,
    pub loadgen: ProcUse,
    /// Open loop: how late requests left compared with their schedule.
    pub send_lag_p99_us: u64,
    pub send_lag_max_us: u64,
    pub servers: Vec<Option<ProcUse>>,
    pub system: Vec<SysPoint>,
    pub warnings: Vec<String>,
}

impl RunResult {
    pub fn op(&self, target: usize, op: Op) -> Option<&OpSummary> {
        self.ops.iter().find(|o| o.target == target && o.op == op)
    }

    /// Register p99 of one target; 0s when it saw no registration.
    pub fn reg_p99(&self, target: usize) -> RegP99 {
        self.register_p99.get(target).copied().unwrap_or_default()
    }

    /// The worst register p99 over targets, field by field.
    pub fn reg_p99_worst(&self) -> RegP99 {
        self.register_p99
            .iter()
            .fold(RegP99::default(), |a, r| RegP99 {
                all_us: a.all_us.max(r.all_us),
                changed_us: a.changed_us.max(r.changed_us),
                unchanged_us: a.unchanged_us.max(r.unchanged_us),
            })
    }

    /// Route lookups summed over targets: (count, errors, ops/s, worst p99).
    pub fn route_totals(&self) -> (u64, u64, f64, u64) {
        self.ops
            .iter()
            .filter(|o| o.op == Op::Route)
            .fold((0, 0, 0.0, 0), |a, o| {
                (
                    a.0 + o.count,
                    a.1 + o.errors,
                    a.2 + o.ops_per_sec,
                    a.3.max(o.p99_us),
                )
            })
    }

    pub fn total_errors(&self) -> u64 {
        self.ops.iter().map(|o| o.errors).sum()
    }

    pub fn total_count(&self) -> u64 {
        self.ops.iter().map(|o| o.count).sum()
    }
}

/// Average and peak of the samples inside the window.
pub fn summarize_proc(
    points: &[SysPoint],
    window: (f64, f64),
    pick: impl Fn(&SysPoint) -> Option<(f64, f64)>,
) -> Option<(f64, f64, f64)> {
    let inside: Vec<(f64, f64)> = points
        .iter()
        .filter(|p| (p.t as f64) >= window.0.floor() && (p.t as f64) < window.1.ceil())
        .filter_map(&pick)
        .collect();
    let all: Vec<(f64, f64)> = if inside.is_empty() {
        points.iter().filter_map(&pick).collect()
    } else {
        inside
    };
    if all.is_empty() {
        return None;
    }
    let avg = all.iter().map(|p| p.0).sum::<f64>() / all.len() as f64;
    let peak = all.iter().map(|p| p.0).fold(0.0, f64::max);
    let rss = all.iter().map(|p| p.1).fold(0.0, f64::max);
    Some((avg, peak, rss))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::stats::{Hub, Local, Outcome};
    use std::time::Duration;

    /// `reg p99` covers both kinds: 99 unchanged at 100 µs and one changed at
    /// 50 ms put the merged p99 at 100 µs (Register alone would be 50 ms, and
    /// 0 in a steady state without changes).
    #[test]
    fn register_p99_merges_changed_and_unchanged() {
        let hub = Hub::new();
        let t0 = hub.epoch();
        hub.open_window(t0);
        hub.close_window(t0 + Duration::from_secs(10));
        let mut l = Local::new(0);
        for i in 0..99u64 {
            let s = t0 + Duration::from_millis(i);
            l.record(
                &hub,
                Op::RegisterUnchanged,
                s,
                s + Duration::from_micros(100),
                Outcome::Ok,
            );
        }
        let s = t0 + Duration::from_millis(200);
        l.record(
            &hub,
            Op::Register,
            s,
            s + Duration::from_millis(50),
            Outcome::Ok,
        );
        l.maybe_flush(&hub, true);
        let mut only = Local::new(1);
        only.record(
            &hub,
            Op::RegisterUnchanged,
            t0,
            t0 + Duration::from_micros(300),
            Outcome::Ok,
        );
        only.maybe_flush(&hub, true);
        let got = hub.with_series(|s, _| reg_p99s(s, 3));
        assert_eq!(got[0].all_us, 100);
        assert_eq!(got[0].unchanged_us, 100);
        assert_eq!(got[0].changed_us, 50_015);
        assert_eq!(
            got[1],
            RegP99 {
                all_us: 300,
                changed_us: 0,
                unchanged_us: 300
            }
        );
        assert_eq!(got[2], RegP99::default());
    }
}
