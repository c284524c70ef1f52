//! The outcome of one run, as printed, written to JSON and plotted.

use std::collections::BTreeMap;

use hdrhistogram::Histogram;
use serde::Serialize;

use crate::churn::ChurnCounts;
use crate::monitor::SysPoint;
use crate::scenario::Scenario;
use crate::stats::{Op, SecPoint, Series};

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
