//! Criterion benchmarks of the hot paths: framing and header codecs, the route
//! lookup, snapshot publishing after a small change, register-body decoding, and
//! the per-request metrics count.
//!
//! `cargo bench --bench hot_paths` (add `-- lookup` etc. to pick a group).
//! `NAMESRV_BENCH_1M=1` adds 1,000,000-topic tables to the lookup and publish
//! groups (building one takes several seconds and about a GiB, so it is opt-in).

use std::hint::black_box;
use std::sync::Arc;
use std::time::Instant;

use bytes::BytesMut;
use criterion::{criterion_group, criterion_main, BenchmarkId, Criterion, Throughput};
use futures_lite::future::block_on;
use namesrv::config::Config;
use namesrv::handlers::{self, Outcome};
use namesrv::kv::KvNamespaces;
use namesrv::registry::snapshot::{Snapshot, SnapshotBuilder};
use namesrv::registry::tables::{TableSettings, Tables};
use namesrv::registry::ConnId;
use protocol::body::RegisterBrokerBody;
use protocol::codes::request;

mod fixtures;
use fixtures::{body_with, registration};
use protocol::{frame, header};
use protocol::{RemotingCommand, SerializeType};

const BROKERS: usize = 8;

/// Table sizes of the lookup and publish groups.
fn sizes() -> Vec<usize> {
    let mut v = vec![1_000, 100_000];
    if std::env::var("NAMESRV_BENCH_1M").is_ok_and(|x| x == "1") {
        v.push(1_000_000);
    }
    v
}

fn topic_name(i: usize) -> String {
    format!("topic-{i:07}")
}

/// Tables with `topics` topics spread over `BROKERS` brokers, and their snapshot.
fn registry(topics: usize) -> (Tables, SnapshotBuilder, Snapshot) {
    let mut tables = Tables::default();
    let now = Instant::now();
    for b in 0..BROKERS {
        let body = body_with((b..topics).step_by(BROKERS).map(topic_name), 1);
        tables.register_broker(
            &registration(b, format!("10.0.0.{b}:10911"), body),
            ConnId(b as u64),
            now,
            TableSettings::default(),
        );
    }
    let config = Config::default();
    let mut builder =
        SnapshotBuilder::new(Arc::new(config.clone()), Arc::new(KvNamespaces::new()), now);
    let snap = block_on(builder.publish(&mut tables, &config, &KvNamespaces::new()));
    (tables, builder, snap)
}

fn route_request(topic: &str, version: i32) -> RemotingCommand {
    let mut cmd = RemotingCommand::request(
        request::GET_ROUTEINFO_BY_TOPIC,
        42,
        vec![("topic".to_string(), topic.to_string())],
    );
    cmd.version = version;
    cmd
}

fn codec(c: &mut Criterion) {
    let mut g = c.benchmark_group("codec");
    let cmd = route_request("TopicTest", 479);
    for ty in [SerializeType::Json, SerializeType::Rocketmq] {
        let wire = frame::encode_to_vec(&cmd, ty, None);
        // As the server reads: `frame::next_request` over a read buffer holding
        // many body-less frames, each decoded in place. Refilling the buffer when
        // it runs dry costs one copy per 1,024 frames, as a socket read would.
        let batch = wire.repeat(1024);
        g.bench_function(BenchmarkId::new("decode_request", ty.name()), |b| {
            let mut buf = BytesMut::with_capacity(batch.len());
            b.iter(|| {
                if buf.is_empty() {
                    buf.extend_from_slice(&batch);
                }
                let (cmd, _, body) = frame::next_request(&mut buf, 1 << 24)
                    .ok()
                    .flatten()
                    .expect("frame");
                black_box((cmd, body))
            })
        });
        let mut header = Vec::new();
        header::encode(&cmd, ty, &mut header);
        g.bench_function(BenchmarkId::new("decode_header", ty.name()), |b| {
            b.iter(|| black_box(header::decode(ty, black_box(&header)).expect("header")))
        });
        let reply = RemotingCommand::response(0, 42, None);
        let body = vec![b'x'; 300];
        g.bench_function(BenchmarkId::new("encode_reply", ty.name()), |b| {
            let mut out = BytesMut::with_capacity(1024);
            b.iter(|| {
                out.clear();
                frame::encode(&reply, ty, Some(&body), &mut out);
                black_box(out.len())
            })
        });
    }
    g.finish();
}

fn lookup(c: &mut Criterion) {
    let mut g = c.benchmark_group("lookup");
    for topics in sizes() {
        let (_, _, snap) = registry(topics);
        let hit = route_request(&topic_name(topics / 2), 479);
        let miss = route_request("no-such-topic", 479);
        g.bench_function(BenchmarkId::new("hit", topics), |b| {
            b.iter(|| match handlers::handle(&snap, black_box(&hit), None) {
                Outcome::Reply(r) => black_box(r.body.map(|b| b.len())),
                Outcome::Write(_) | Outcome::Decode(_) => None,
            })
        });
        g.bench_function(BenchmarkId::new("miss", topics), |b| {
            b.iter(|| black_box(handlers::handle(&snap, black_box(&miss), None)))
        });
    }
    g.finish();
}

/// Publishing after one topic changed must cost about the same at any table size.
fn publish(c: &mut Criterion) {
    let mut g = c.benchmark_group("publish_one_topic_change");
    g.sample_size(30);
    for topics in sizes() {
        let (mut tables, mut builder, _) = registry(topics);
        let config = Config::default();
        let kv = KvNamespaces::new();
        let mut counter = 2;
        g.bench_function(BenchmarkId::from_parameter(topics), |b| {
            b.iter(|| {
                // broker-0 re-registers one (new) topic with a new data version.
                counter += 1;
                let body = body_with(
                    [topic_name(0), format!("extra-{counter}")].into_iter(),
                    counter,
                );
                tables.register_broker(
                    &registration(0, "10.0.0.0:10911".into(), body),
                    ConnId(0),
                    Instant::now(),
                    TableSettings::default(),
                );
                black_box(block_on(builder.publish(&mut tables, &config, &kv)))
            })
        });
    }
    g.finish();
}

fn register_decode(c: &mut Criterion) {
    let mut g = c.benchmark_group("register_body_decode");
    for topics in [100usize, 10_000] {
        let body = body_with((0..topics).map(topic_name), 7);
        let plain = body.encode_plain();
        let compressed = body.encode_compressed(479);
        g.throughput(Throughput::Elements(topics as u64));
        g.bench_function(BenchmarkId::new("plain", topics), |b| {
            b.iter(|| {
                black_box(RegisterBrokerBody::decode(Some(&plain), false, 479).expect("decode"))
            })
        });
        g.bench_function(BenchmarkId::new("compressed", topics), |b| {
            b.iter(|| {
                black_box(RegisterBrokerBody::decode(Some(&compressed), true, 479).expect("decode"))
            })
        });
    }
    g.finish();
}

/// A re-registration with an unchanged DataVersion must rebuild nothing.
fn unchanged_reregister(c: &mut Criterion) {
    let (mut tables, mut builder, _) = registry(10_000);
    let config = Config::default();
    let kv = KvNamespaces::new();
    let body = body_with((0..10_000).step_by(BROKERS).map(topic_name), 1);
    let reg = registration(0, "10.0.0.0:10911".into(), body);
    c.bench_function("reregister_unchanged_10k_topics", |b| {
        b.iter(|| {
            tables.register_broker(&reg, ConnId(0), Instant::now(), TableSettings::default());
            assert!(
                tables.changed_topics() == 0,
                "unchanged re-registration dirtied routes"
            );
            black_box(block_on(builder.publish(&mut tables, &config, &kv)))
        })
    });
}

/// What every request pays for the metrics: one code-table count and one
/// histogram observation in its shard's own cells.
fn count_request(c: &mut Criterion) {
    let metrics = namesrv::http::metrics::Metrics::new(1);
    let shard = metrics.shard(0);
    let took = std::time::Duration::from_micros(40);
    c.bench_function("metrics_count_request", |b| {
        b.iter(|| shard.request(black_box(request::GET_ROUTEINFO_BY_TOPIC), Some(0), took))
    });
}

criterion_group!(
    benches,
    codec,
    lookup,
    publish,
    register_decode,
    unchanged_reregister,
    count_request
);
criterion_main!(benches);
