//! The `/metrics` page: every family summed from the cells at scrape time, in the
//! Prometheus text format (0.0.4) or, when the scraper asks for it, OpenMetrics.
//! `prometheus-client` does the encoding; this module only says what to encode.

use std::fmt;
use std::sync::Arc;

use prometheus_client::collector::Collector;
use prometheus_client::encoding::{DescriptorEncoder, MetricEncoder, NoLabelSet};
use prometheus_client::metrics::MetricType;
use prometheus_client::registry::Registry;

use super::cells::{read, HistValue};
use super::process::ProcessStats;
use super::{
    Class, CloseReason, DenyReason, FrameReject, Registration, TlsHandshake, Unregistration,
};
use crate::http::console::ConsoleCtx;
use crate::registry::snapshot::Snapshot;

/// The OpenMetrics content type (what `prometheus-client`'s `text` module writes).
pub const OPENMETRICS_CONTENT_TYPE: &str =
    "application/openmetrics-text; version=1.0.0; charset=utf-8";

/// Labels of one series.
type Labels = Vec<(&'static str, String)>;

/// Renders the page; `openmetrics` picks the format.
pub fn render(ctx: &Arc<ConsoleCtx>, openmetrics: bool) -> (String, &'static str) {
    let mut registry = Registry::default();
    registry.register_collector(Box::new(Families { ctx: ctx.clone() }));
    let mut out = String::with_capacity(16 * 1024);
    let done = if openmetrics {
        prometheus_client::encoding::text::encode(&mut out, &registry)
    } else {
        prometheus_client::encoding::prometheus_text::encode(&mut out, &registry)
    };
    if let Err(e) = done {
        // Writing to a String does not fail; a collector error would be ours.
        tracing::warn!(error = %e, "metrics encoding failed");
    }
    let ty = if openmetrics {
        OPENMETRICS_CONTENT_TYPE
    } else {
        prometheus_client::encoding::prometheus_text::CONTENT_TYPE
    };
    (out, ty)
}

/// Whether an `Accept` header asks for OpenMetrics (Prometheus sends
/// `application/openmetrics-text;version=1.0.0,...;q=0.5,text/plain;...`).
pub fn wants_openmetrics(accept: Option<&str>) -> bool {
    accept.is_some_and(|a| a.contains("application/openmetrics-text"))
}

struct Families {
    ctx: Arc<ConsoleCtx>,
}

impl fmt::Debug for Families {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Families")
    }
}

fn counter(e: &mut MetricEncoder<'_>, v: u64) -> fmt::Result {
    e.encode_counter::<NoLabelSet, u64, f64>(&v, None)
}

fn histogram(e: &mut MetricEncoder<'_>, h: &HistValue) -> fmt::Result {
    e.encode_histogram::<NoLabelSet>(h.sum, h.count(), &h.per_bucket(), None)
}

/// One family whose series differ by labels.
fn family<V>(
    enc: &mut DescriptorEncoder<'_>,
    name: &str,
    help: &str,
    ty: MetricType,
    series: Vec<(Labels, V)>,
    mut write: impl FnMut(&mut MetricEncoder<'_>, &V) -> fmt::Result,
) -> fmt::Result {
    let mut m = enc.encode_descriptor(name, help, None, ty)?;
    for (labels, v) in &series {
        let mut e = m.encode_family(labels)?;
        write(&mut e, v)?;
    }
    Ok(())
}

fn single_counter(enc: &mut DescriptorEncoder<'_>, name: &str, help: &str, v: u64) -> fmt::Result {
    let mut m = enc.encode_descriptor(name, help, None, MetricType::Counter)?;
    counter(&mut m, v)
}

fn single_gauge<V: prometheus_client::encoding::EncodeGaugeValue>(
    enc: &mut DescriptorEncoder<'_>,
    name: &str,
    help: &str,
    v: V,
) -> fmt::Result {
    let mut m = enc.encode_descriptor(name, help, None, MetricType::Gauge)?;
    m.encode_gauge(&v)
}

fn single_histogram(
    enc: &mut DescriptorEncoder<'_>,
    name: &str,
    help: &str,
    h: &HistValue,
) -> fmt::Result {
    let mut m = enc.encode_descriptor(name, help, None, MetricType::Histogram)?;
    histogram(&mut m, h)
}

/// What the snapshot gauges count: the one definition `/metrics`, `/api/server`
/// and the stats line share. `brokers` is live addresses (brokerLiveTable), not
/// the addresses brokerAddrTable lists.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct SnapshotCounts {
    pub clusters: usize,
    pub broker_groups: usize,
    pub brokers: usize,
    pub topics: usize,
    pub kv_entries: usize,
}

impl SnapshotCounts {
    pub fn of(snap: &Snapshot) -> SnapshotCounts {
        // Read from the view's parts: building its tables is O(estate).
        SnapshotCounts {
            clusters: snap.cluster.cluster_count(),
            broker_groups: snap.cluster.group_count(),
            brokers: snap.live_count.load(std::sync::atomic::Ordering::Relaxed),
            topics: snap.routes.len(),
            kv_entries: snap.kv.iter().map(|(_, keys)| keys.len()).sum(),
        }
    }
}

impl Collector for Families {
    fn encode(&self, mut enc: DescriptorEncoder) -> fmt::Result {
        let m = &self.ctx.metrics;
        let shards = m.shards();

        // Requests by code and response code, summed over the shards.
        let mut by_code: std::collections::BTreeMap<(Option<i32>, Option<i32>), u64> =
            Default::default();
        for s in shards {
            for (code, resp, n) in s.requests.entries() {
                *by_code.entry((code, resp)).or_default() += n;
            }
        }
        let mut series: Vec<_> = by_code
            .into_iter()
            .map(|((code, resp), n)| {
                let code = code.map_or_else(|| "other".to_string(), |c| c.to_string());
                let resp = resp.map_or_else(|| "none".to_string(), |r| r.to_string());
                (vec![("code", code), ("response_code", resp)], n)
            })
            .collect();
        // Pairs a shard's table had no slot for: still requests answered, so the
        // family sums to shard_requests_total.
        let overflow: u64 = shards.iter().map(|s| s.requests.overflow()).sum();
        if overflow > 0 {
            let labels = vec![("code", "other".into()), ("response_code", "other".into())];
            series.push((labels, overflow));
        }
        family(
            &mut enc,
            "rocketmq_namesrv_requests",
            "Requests answered, by request code (other: not a name server code) and response code (none: oneway).",
            MetricType::Counter,
            series,
            |e, n| counter(e, *n),
        )?;
        let series = Class::ALL
            .iter()
            .map(|c| (vec![("class", c.label().to_string())], m.durations(*c)))
            .collect();
        family(
            &mut enc,
            "rocketmq_namesrv_request_duration_seconds",
            "From a request's frame decoded to its reply written into the connection's output (writes include their publish).",
            MetricType::Histogram,
            series,
            histogram,
        )?;

        single_gauge(
            &mut enc,
            "rocketmq_namesrv_connections",
            "Open client connections.",
            m.open_connections() as i64,
        )?;
        let accepted = shards.iter().map(|s| read(&s.accepted)).sum();
        single_counter(
            &mut enc,
            "rocketmq_namesrv_connections_accepted",
            "Client connections accepted (including those a limit then refused).",
            accepted,
        )?;
        let series = CloseReason::ALL
            .iter()
            .map(|r| {
                let n = shards
                    .iter()
                    .map(|s| s.closed.get(*r as usize).map_or(0, read))
                    .sum::<u64>();
                (vec![("reason", r.label().to_string())], n)
            })
            .collect();
        family(
            &mut enc,
            "rocketmq_namesrv_connections_closed",
            "Client connections closed, by reason.",
            MetricType::Counter,
            series,
            |e, n| counter(e, *n),
        )?;

        let counts = SnapshotCounts::of(&self.ctx.snapshot.load());
        for (name, help, v) in [
            (
                "rocketmq_namesrv_clusters",
                "Clusters in the current snapshot.",
                counts.clusters,
            ),
            (
                "rocketmq_namesrv_broker_groups",
                "Broker groups (broker names) in the current snapshot.",
                counts.broker_groups,
            ),
            (
                "rocketmq_namesrv_brokers",
                "Live broker addresses in the current snapshot.",
                counts.brokers,
            ),
            (
                "rocketmq_namesrv_topics",
                "Topics with a route in the current snapshot.",
                counts.topics,
            ),
            (
                "rocketmq_namesrv_kv_entries",
                "Keys in the KV store, over every namespace.",
                counts.kv_entries,
            ),
        ] {
            single_gauge(&mut enc, name, help, v as i64)?;
        }

        let w = &m.writer;
        let series = Registration::ALL
            .iter()
            .map(|r| {
                let mut n = w.registrations.get(*r as usize).map_or(0, read);
                if *r == Registration::Rejected {
                    n += shards
                        .iter()
                        .map(|s| read(&s.registrations_rejected))
                        .sum::<u64>();
                }
                (vec![("result", r.label().to_string())], n)
            })
            .collect();
        family(
            &mut enc,
            "rocketmq_namesrv_broker_registrations",
            "Broker registrations (103), by result.",
            MetricType::Counter,
            series,
            |e, n| counter(e, *n),
        )?;
        let series = Unregistration::ALL
            .iter()
            .map(|r| {
                let n = w.unregistrations.get(*r as usize).map_or(0, read);
                (vec![("reason", r.label().to_string())], n)
            })
            .collect();
        family(
            &mut enc,
            "rocketmq_namesrv_broker_unregistrations",
            "Brokers removed from the tables, by reason.",
            MetricType::Counter,
            series,
            |e, n| counter(e, *n),
        )?;

        single_counter(
            &mut enc,
            "rocketmq_namesrv_snapshot_publishes",
            "Snapshots published by the writer.",
            m.publishes(),
        )?;
        single_histogram(
            &mut enc,
            "rocketmq_namesrv_snapshot_publish_duration_seconds",
            "Time to build and swap in one snapshot.",
            &w.publish_duration.value(),
        )?;
        single_histogram(
            &mut enc,
            "rocketmq_namesrv_writer_batch_writes",
            "Writes applied per writer batch (one publish each).",
            &w.batch_writes.value(),
        )?;
        single_gauge(
            &mut enc,
            "rocketmq_namesrv_write_queue_depth",
            "Writes sent by the shards that the writer has not taken yet.",
            m.write_queue_depth() as i64,
        )?;
        single_histogram(
            &mut enc,
            "rocketmq_namesrv_kv_persist_duration_seconds",
            "Time to write the KV store file durably.",
            &w.kv_persist.value(),
        )?;

        let series = FrameReject::ALL
            .iter()
            .map(|r| {
                let n = shards
                    .iter()
                    .map(|s| s.frames_rejected.get(*r as usize).map_or(0, read))
                    .sum::<u64>();
                (vec![("reason", r.label().to_string())], n)
            })
            .collect();
        family(
            &mut enc,
            "rocketmq_namesrv_frames_rejected",
            "Frames refused (their connection closed), by reason.",
            MetricType::Counter,
            series,
            |e, n| counter(e, *n),
        )?;
        let series = ["v1", "v2"]
            .iter()
            .enumerate()
            .map(|(i, v)| {
                let n = shards
                    .iter()
                    .map(|s| read(&s.proxy_headers[i]))
                    .sum::<u64>();
                (vec![("version", v.to_string())], n)
            })
            .collect();
        family(
            &mut enc,
            "rocketmq_namesrv_proxy_headers",
            "Connections that began with a PROXY protocol header, by version.",
            MetricType::Counter,
            series,
            |e, n| counter(e, *n),
        )?;
        let series = TlsHandshake::ALL
            .iter()
            .map(|r| {
                let n = shards
                    .iter()
                    .map(|s| s.tls_handshakes.get(*r as usize).map_or(0, read))
                    .sum::<u64>();
                (vec![("result", r.label().to_string())], n)
            })
            .collect();
        family(
            &mut enc,
            "rocketmq_namesrv_tls_handshakes",
            "TLS handshakes on the RocketMQ port, by result.",
            MetricType::Counter,
            series,
            |e, n| counter(e, *n),
        )?;
        let series = DenyReason::ALL
            .iter()
            .map(|r| {
                let n = shards
                    .iter()
                    .map(|s| s.requests_denied.get(*r as usize).map_or(0, read))
                    .sum::<u64>();
                (vec![("reason", r.label().to_string())], n)
            })
            .collect();
        family(
            &mut enc,
            "rocketmq_namesrv_requests_denied",
            "Requests refused by the authentication check (code 16), by reason.",
            MetricType::Counter,
            series,
            |e, n| counter(e, *n),
        )?;
        let series = shards
            .iter()
            .enumerate()
            .map(|(i, s)| (vec![("shard", i.to_string())], s.requests.total()))
            .collect();
        family(
            &mut enc,
            "rocketmq_namesrv_shard_requests",
            "Requests answered, by the shard (core) that received them.",
            MetricType::Counter,
            series,
            |e, n| counter(e, *n),
        )?;

        single_gauge(
            &mut enc,
            "rocketmq_namesrv_ready",
            "1 while route lookups are served (see /readyz), else 0.",
            i64::from(self.ctx.ready.is_ready()),
        )?;
        family(
            &mut enc,
            "rocketmq_namesrv_build_info",
            "The running version (value 1).",
            MetricType::Gauge,
            vec![(vec![("version", self.ctx.version.to_string())], 1i64)],
            |e, v| e.encode_gauge(v),
        )?;

        let p = ProcessStats::read();
        single_gauge(
            &mut enc,
            "process_resident_memory_bytes",
            "Resident memory size in bytes.",
            p.resident_bytes as i64,
        )?;
        let mut cpu = enc.encode_descriptor(
            "process_cpu_seconds",
            "Total user and system CPU time spent in seconds.",
            None,
            MetricType::Counter,
        )?;
        cpu.encode_counter::<NoLabelSet, f64, f64>(&p.cpu_seconds, None)?;
        single_gauge(
            &mut enc,
            "process_open_fds",
            "Number of open file descriptors.",
            p.open_fds as i64,
        )?;
        single_gauge(
            &mut enc,
            "process_start_time_seconds",
            "Start time of the process since unix epoch in seconds.",
            m.start_unix,
        )?;
        Ok(())
    }
}
