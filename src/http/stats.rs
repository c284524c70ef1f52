//! The stats line: every `statsLogIntervalSeconds`, one `tracing` line with what
//! an operator without Prometheus wants to see (upstream's NameServer logs its
//! request counts and queue depths in the same spirit). Its own thread: it sleeps
//! almost always, and never runs on a shard.

use std::sync::Arc;
use std::time::{Duration, Instant};

use super::console::ConsoleCtx;
use super::metrics::cells::HistValue;
use super::metrics::expose::SnapshotCounts;
use super::metrics::Class;

/// Starts the stats thread; nothing when `interval_seconds` is 0 or less.
pub fn start(interval_seconds: i64, ctx: Arc<ConsoleCtx>) {
    if interval_seconds <= 0 {
        return;
    }
    let every = Duration::from_secs(interval_seconds as u64);
    let spawned = std::thread::Builder::new()
        .name("namesrv-stats".into())
        .spawn(move || run(every, &ctx));
    if let Err(e) = spawned {
        tracing::warn!(error = %e, "cannot start the stats thread; no stats lines");
    }
}

fn run(every: Duration, ctx: &ConsoleCtx) {
    let mut last: Vec<HistValue> = Class::ALL
        .iter()
        .map(|c| ctx.metrics.durations(*c))
        .collect();
    let mut last_publishes = ctx.metrics.publishes();
    let mut last_at = Instant::now();
    loop {
        std::thread::sleep(every);
        let now = Instant::now();
        let secs = now.duration_since(last_at).as_secs_f64().max(1e-9);
        let current: Vec<HistValue> = Class::ALL
            .iter()
            .map(|c| ctx.metrics.durations(*c))
            .collect();
        let window: Vec<HistValue> = current
            .iter()
            .zip(last.iter())
            .map(|(c, l)| c.since(l))
            .collect();
        let rate = |c: Class| {
            window
                .get(c as usize)
                .map_or(0.0, |h| h.count() as f64 / secs)
        };
        let p99 = |c: Class| {
            window
                .get(c as usize)
                .and_then(|h| h.quantile_bound(0.99))
                .map_or(0.0, |s| s * 1e3)
        };
        let publishes = ctx.metrics.publishes();
        let counts = SnapshotCounts::of(&ctx.snapshot.load());
        tracing::info!(
            connections = ctx.metrics.open_connections(),
            route_rps = format_args!("{:.1}", rate(Class::Route)),
            route_p99_ms = format_args!("{:.3}", p99(Class::Route)),
            broker_rps = format_args!("{:.1}", rate(Class::Broker)),
            broker_p99_ms = format_args!("{:.3}", p99(Class::Broker)),
            admin_rps = format_args!("{:.1}", rate(Class::Admin)),
            admin_p99_ms = format_args!("{:.3}", p99(Class::Admin)),
            kv_rps = format_args!("{:.1}", rate(Class::Kv)),
            kv_p99_ms = format_args!("{:.3}", p99(Class::Kv)),
            brokers = counts.brokers,
            topics = counts.topics,
            publishes = publishes.saturating_sub(last_publishes),
            write_queue = ctx.metrics.write_queue_depth(),
            "stats"
        );
        last = current;
        last_publishes = publishes;
        last_at = now;
    }
}
