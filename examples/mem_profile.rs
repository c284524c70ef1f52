//! Where the registry's bytes go, per structure, measured with a counting global
//! allocator (issue 15).
//!
//! Fills `Tables` and a `SnapshotBuilder` through the server's register path in
//! the shape of `tuning/compare.sh`'s memory step (T/10,000 master brokers, one
//! cluster, 10,000 topics each, one QueueData per topic, 8 queues, no system
//! topics), publishing after every registration as the writer does per batch
//! (the previous snapshot is dropped once the next is out, as `arc-swap` does).
//! Then it takes the structures apart one by one and prints the live bytes each
//! held.
//!
//! `cargo run --release --example mem_profile -- 1000000`
//!
//! "chunk" bytes are what glibc malloc takes for the requests (8 bytes of header,
//! rounded up to 16, at least 32): that, not the requested size, is what RSS sees.

use std::alloc::{GlobalAlloc, Layout, System};
use std::sync::atomic::{AtomicIsize, AtomicUsize, Ordering::Relaxed};
use std::sync::Arc;
use std::time::Instant;

use futures_lite::future::block_on;
use namesrv::config::Config;
use namesrv::kv::KvNamespaces;
use namesrv::registry::snapshot::SnapshotBuilder;
use namesrv::registry::tables::{Registration, TableSettings, Tables};
use namesrv::registry::ConnId;
use protocol::body::RegisterBrokerBody;

#[path = "../benches/fixtures/mod.rs"]
mod fixtures;

struct Counting;

static LIVE: AtomicIsize = AtomicIsize::new(0);
static CHUNKS: AtomicIsize = AtomicIsize::new(0);
static ALLOCS: AtomicIsize = AtomicIsize::new(0);
static PEAK: AtomicUsize = AtomicUsize::new(0);

fn chunk(size: usize) -> isize {
    ((size + 8).div_ceil(16) * 16).max(32) as isize
}

unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, l: Layout) -> *mut u8 {
        let c = CHUNKS.fetch_add(chunk(l.size()), Relaxed) + chunk(l.size());
        PEAK.fetch_max(c.max(0) as usize, Relaxed);
        LIVE.fetch_add(l.size() as isize, Relaxed);
        ALLOCS.fetch_add(1, Relaxed);
        System.alloc(l)
    }
    unsafe fn dealloc(&self, p: *mut u8, l: Layout) {
        CHUNKS.fetch_sub(chunk(l.size()), Relaxed);
        LIVE.fetch_sub(l.size() as isize, Relaxed);
        ALLOCS.fetch_sub(1, Relaxed);
        System.dealloc(p, l)
    }
    unsafe fn realloc(&self, p: *mut u8, l: Layout, new: usize) -> *mut u8 {
        let c =
            CHUNKS.fetch_add(chunk(new) - chunk(l.size()), Relaxed) + chunk(new) - chunk(l.size());
        PEAK.fetch_max(c.max(0) as usize, Relaxed);
        LIVE.fetch_add(new as isize - l.size() as isize, Relaxed);
        System.realloc(p, l, new)
    }
}

#[global_allocator]
static GLOBAL: Counting = Counting;

#[derive(Clone, Copy)]
struct Mark {
    live: isize,
    chunks: isize,
    allocs: isize,
}

fn mark() -> Mark {
    Mark {
        live: LIVE.load(Relaxed),
        chunks: CHUNKS.load(Relaxed),
        allocs: ALLOCS.load(Relaxed),
    }
}

const TOPICS_PER_BROKER: usize = 10_000;

/// One row: bytes freed (or taken) between `from` and now.
fn row(what: &str, from: Mark, topics: usize) -> Mark {
    let now = mark();
    let (live, chunks, allocs) = (
        (from.live - now.live).abs(),
        (from.chunks - now.chunks).abs(),
        (from.allocs - now.allocs).abs(),
    );
    println!(
        "| {what} | {:.1} | {:.1} | {:.0} | {:.2} |",
        chunks as f64 / 1048576.0,
        live as f64 / 1048576.0,
        chunks as f64 / topics as f64,
        allocs as f64 / topics as f64,
    );
    now
}

fn body(group: usize, counter: i64, prefix: &str) -> RegisterBrokerBody {
    let first = group * TOPICS_PER_BROKER;
    let topics = (first..first + TOPICS_PER_BROKER).map(|i| format!("{prefix}Topic{i}"));
    fixtures::body_with(topics, counter)
}

fn registration(group: usize, body: RegisterBrokerBody) -> Registration {
    fixtures::registration(group, format!("127.0.0.1:{}", 20000 + group), body)
}

#[cfg(target_env = "gnu")]
fn mallinfo() -> String {
    // SAFETY: mallinfo2 only reads glibc's arena statistics.
    let m = unsafe { libc::mallinfo2() };
    format!(
        "glibc mallinfo2: arena {:.1} MiB, in use {:.1} MiB, free in arena {:.1} MiB, mmapped {:.1} MiB, releasable top {:.1} MiB",
        m.arena as f64 / 1048576.0,
        m.uordblks as f64 / 1048576.0,
        m.fordblks as f64 / 1048576.0,
        m.hblkhd as f64 / 1048576.0,
        m.keepcost as f64 / 1048576.0
    )
}

#[cfg(not(target_env = "gnu"))]
fn mallinfo() -> String {
    String::new()
}

fn rss() -> String {
    let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    status
        .lines()
        .filter(|l| l.starts_with("VmRSS") || l.starts_with("VmHWM"))
        .map(|l| l.split_whitespace().collect::<Vec<_>>().join(" "))
        .collect::<Vec<_>>()
        .join(", ")
}

fn main() {
    let topics: usize = std::env::args()
        .nth(1)
        .and_then(|a| a.parse().ok())
        .unwrap_or(100_000);
    let groups = topics.div_ceil(TOPICS_PER_BROKER);
    // loadgen's run prefix is about this long.
    let prefix = "lg3f9a2c1d7e-";
    let config = Config::default();
    let kv = KvNamespaces::new();
    let start = mark();
    let mut tables = Tables::default();
    let mut builder = SnapshotBuilder::new(
        Arc::new(config.clone()),
        Arc::new(kv.clone()),
        Instant::now(),
    );
    let mut snap = builder.snapshot();

    // The transient of one registration: its encoded body and the decoded one.
    let before = mark();
    let wire = body(0, 1, prefix).encode_plain();
    let wire_bytes = mark().chunks - before.chunks;
    let decoded = RegisterBrokerBody::decode(Some(&wire), false, 479).expect("decode");
    let decoded_bytes = mark().chunks - before.chunks - wire_bytes;
    drop((wire, decoded));

    let started = Instant::now();
    let fill = mark();
    PEAK.store(fill.chunks.max(0) as usize, Relaxed);
    // MEM_SLICE=N: put each body's topics N at a time with a publish after each
    // slice, as a busy writer does (its batches end mid-body); default: whole bodies.
    let slice: usize = std::env::var("MEM_SLICE")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(TOPICS_PER_BROKER);
    for g in 0..groups {
        let reg = registration(g, body(g, 1, prefix));
        let settings = TableSettings::default();
        let (_, puts) = tables
            .register_broker_except_topics(&reg, ConnId(g as u64), Instant::now(), settings)
            .expect("registered");
        for chunk in reg.body.topic_configs.chunks(slice) {
            if let Some(puts) = &puts {
                tables.put_topics(&reg, puts, chunk);
            }
            // The old snapshot goes once the new one is swapped in.
            snap = block_on(builder.publish(&mut tables, &config, &kv));
        }
        drop(reg);
    }
    let filled = mark();
    let peak = PEAK.load(Relaxed);
    println!(
        "# {topics} topics, {groups} brokers x {TOPICS_PER_BROKER}: filled in {:.1} s",
        started.elapsed().as_secs_f64()
    );
    println!(
        "live after fill: {:.1} MiB in glibc chunks ({:.1} MiB requested, {} allocations), {:.0} B per topic; peak during fill {:.1} MiB",
        (filled.chunks - fill.chunks) as f64 / 1048576.0,
        (filled.live - fill.live) as f64 / 1048576.0,
        filled.allocs - fill.allocs,
        (filled.chunks - fill.chunks) as f64 / topics as f64,
        (peak as isize - fill.chunks) as f64 / 1048576.0,
    );
    println!(
        "one registration in flight (10,000 topics): wire body {:.1} MiB, decoded body {:.1} MiB",
        wire_bytes as f64 / 1048576.0,
        decoded_bytes as f64 / 1048576.0
    );
    println!("{}", mallinfo());
    println!("process: {}", rss());
    println!();
    println!(
        "| structure | MiB (glibc chunks) | MiB requested | B per topic | allocations per topic |"
    );
    println!("|---|---|---|---|---|");

    // Snapshot: the builder's parts first (its route map is shared with `snap`).
    let routes = std::mem::take(&mut snap.routes);
    let m = mark();
    drop(snap);
    drop(builder);
    row(
        "snapshot: everything but the route map (cluster view, fragments, ...)",
        m,
        topics,
    );
    // Own references to every key and entry, so dropping the map frees its nodes
    // alone; then the entries and keys themselves (`clear` keeps the vectors).
    let (mut keys, mut values): (Vec<_>, Vec<_>) =
        routes.iter().map(|(k, v)| (k.clone(), v.clone())).unzip();
    let mut m = mark();
    drop(routes);
    m = row(
        "snapshot: route map nodes (fan-out arrays and leaves)",
        m,
        topics,
    );
    values.clear();
    m = row(
        "snapshot: route entries (RouteEntry and what it alone holds)",
        m,
        topics,
    );
    keys.clear();
    row("snapshot: route map keys (topic names)", m, topics);
    drop((keys, values));

    let mut last = mark();
    tables.dismantle(|part| {
        last = row(&format!("tables: {part}"), last, topics);
    });
    row("tables: the rest (brokers, live table, ...)", last, topics);
    let end = mark();
    println!(
        "\nleft after everything was dropped: {:.1} MiB (the loop's vectors, statics)",
        (end.chunks - start.chunks) as f64 / 1048576.0
    );
}
