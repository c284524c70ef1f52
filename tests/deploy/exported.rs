//! What `namesrv` exports on `/metrics` (issue 12, item 2): the families the rules and
//! the dashboard may read, with their types and labels. One list, checked both ways:
//! every query reads only these, and `/metrics` declares exactly these.

use std::collections::BTreeSet;

pub const COUNTERS: &[&str] = &[
    "rocketmq_namesrv_requests_total",
    "rocketmq_namesrv_connections_accepted_total",
    "rocketmq_namesrv_connections_closed_total",
    "rocketmq_namesrv_broker_registrations_total",
    "rocketmq_namesrv_broker_unregistrations_total",
    "rocketmq_namesrv_snapshot_publishes_total",
    "rocketmq_namesrv_frames_rejected_total",
    "rocketmq_namesrv_proxy_headers_total",
    "rocketmq_namesrv_tls_handshakes_total",
    "rocketmq_namesrv_requests_denied_total",
    "rocketmq_namesrv_shard_requests_total",
    "process_cpu_seconds_total",
];

pub const GAUGES: &[&str] = &[
    "rocketmq_namesrv_connections",
    "rocketmq_namesrv_clusters",
    "rocketmq_namesrv_broker_groups",
    "rocketmq_namesrv_brokers",
    "rocketmq_namesrv_topics",
    "rocketmq_namesrv_kv_entries",
    "rocketmq_namesrv_write_queue_depth",
    "rocketmq_namesrv_ready",
    "rocketmq_namesrv_build_info",
    "process_resident_memory_bytes",
    "process_open_fds",
    "process_start_time_seconds",
];

pub const HISTOGRAMS: &[&str] = &[
    "rocketmq_namesrv_request_duration_seconds",
    "rocketmq_namesrv_snapshot_publish_duration_seconds",
    "rocketmq_namesrv_writer_batch_writes",
    "rocketmq_namesrv_kv_persist_duration_seconds",
];

/// The labels of item 2, plus `le` (histogram buckets) and the target labels
/// Prometheus adds to every series it scrapes.
pub const LABELS: &[&str] = &[
    "code",
    "response_code",
    "class",
    "reason",
    "result",
    "shard",
    "version",
    "le",
    "job",
    "instance",
];

/// Every series name a scrape of `/metrics` can store.
pub fn exported_series() -> BTreeSet<String> {
    let mut names: BTreeSet<String> = COUNTERS
        .iter()
        .chain(GAUGES)
        .map(|s| s.to_string())
        .collect();
    for h in HISTOGRAMS {
        for suffix in ["_bucket", "_sum", "_count"] {
            names.insert(format!("{h}{suffix}"));
        }
    }
    names
}

/// `(name, type)` of every `# TYPE` line; counters named with `_total`, which the
/// Prometheus text format includes and OpenMetrics leaves out.
pub fn declared_families(exposition: &str) -> BTreeSet<(String, String)> {
    exposition
        .lines()
        .filter_map(|l| l.strip_prefix("# TYPE "))
        .filter_map(|l| l.split_once(' '))
        .map(|(name, ty)| {
            let name = if ty == "counter" && !name.ends_with("_total") {
                format!("{name}_total")
            } else {
                name.to_string()
            };
            (name, ty.to_string())
        })
        .collect()
}

pub fn expected_families() -> BTreeSet<(String, String)> {
    let typed = |names: &[&str], ty: &str| -> Vec<(String, String)> {
        names
            .iter()
            .map(|n| (n.to_string(), ty.to_string()))
            .collect()
    };
    typed(COUNTERS, "counter")
        .into_iter()
        .chain(typed(GAUGES, "gauge"))
        .chain(typed(HISTOGRAMS, "histogram"))
        .collect()
}
