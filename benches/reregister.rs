//! End to end on the wire: what a broker's re-registration costs when its
//! DataVersion is unchanged (the every-30-s case) against one that changed.
//!
//! `cargo bench --bench reregister` starts the release `namesrv`, registers one
//! broker with `REREG_TOPICS` topics (10,000), then alternates, `REREG_ROUNDS`
//! times (30): a *changed* registration (a new DataVersion and one topic's queue
//! count flipped, as when a broker updates one topic) and an *unchanged* one
//! (the same bytes again). Each is timed from the first byte sent to the reply
//! read (wall), and by the CPU time the server's threads used for it (from
//! `/proc/PID/task/*/schedstat`, read after a short pause so work that follows
//! the reply counts too); the medians and their ratios are printed. On a busy
//! machine the CPU figure is the steadier one.

#[path = "../tests/common/mod.rs"]
mod common;

use std::time::{Duration, Instant};

use common::{dv, topic, BrokerReg, Client, TestServer};
use protocol::{frame, SerializeType};

fn env_usize(key: &str, default: usize) -> usize {
    std::env::var(key)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

fn median(v: &mut [Duration]) -> Duration {
    v.sort();
    v[v.len() / 2]
}

/// CPU time all threads of `pid` have used so far.
fn cpu_of(pid: u32) -> Duration {
    let mut ns = 0u64;
    if let Ok(tasks) = std::fs::read_dir(format!("/proc/{pid}/task")) {
        for t in tasks.flatten() {
            let stat = std::fs::read_to_string(t.path().join("schedstat")).unwrap_or_default();
            ns += stat
                .split_whitespace()
                .next()
                .and_then(|v| v.parse::<u64>().ok())
                .unwrap_or(0);
        }
    }
    Duration::from_nanos(ns)
}

/// Wall time to the reply, and the server's CPU time for the request. The frame
/// is encoded before the clock starts: a broker's own encoding is not the
/// server's cost.
fn timed(client: &mut Client, reg: &BrokerReg, pid: u32) -> (Duration, Duration) {
    let (mut cmd, body) = reg.request();
    cmd.opaque = 7;
    let frame = frame::encode_to_vec(&cmd, SerializeType::Json, Some(&body));
    let cpu_before = cpu_of(pid);
    let started = Instant::now();
    client.send_raw(&frame).expect("send");
    let reply = client.read_frame().expect("reply");
    let took = started.elapsed();
    assert_eq!(reply.0.opaque, 7);
    assert_eq!(reply.0.code, 0, "register failed: {:?}", reply.0.remark);
    std::thread::sleep(Duration::from_millis(30));
    (took, cpu_of(pid).saturating_sub(cpu_before))
}

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1e3
}

fn main() {
    // `cargo bench` passes `--bench`; nothing here takes arguments.
    let topics = env_usize("REREG_TOPICS", 10_000);
    let rounds = env_usize("REREG_ROUNDS", 30);
    let server = TestServer::start(&[]);
    let mut client = Client::connect(server.addr);
    let mut reg = BrokerReg::new(
        "bench-cluster",
        "bench-broker",
        "127.0.0.1:10911",
        0,
        (0..topics)
            .map(|i| topic(&format!("bench-topic-{i:06}"), 6, 8))
            .collect(),
    );
    reg.heartbeat_timeout_ms = Some(600_000);
    let pid = server.pid();
    timed(&mut client, &reg, pid);

    let (mut changed, mut unchanged) = (Vec::new(), Vec::new());
    let (mut changed_cpu, mut unchanged_cpu) = (Vec::new(), Vec::new());
    // For profiling one kind alone: `REREG_ONLY=unchanged` skips the changed ones.
    let only_unchanged = std::env::var("REREG_ONLY").is_ok_and(|v| v == "unchanged");
    for round in 0..rounds {
        if only_unchanged {
            unchanged.push(timed(&mut client, &reg, pid).0);
            continue;
        }
        reg.data_version = dv(2 + round as i64, 0);
        reg.topics[0].read_queue_nums = if round % 2 == 0 { 4 } else { 8 };
        let (wall, cpu) = timed(&mut client, &reg, pid);
        changed.push(wall);
        changed_cpu.push(cpu);
        let (wall, cpu) = timed(&mut client, &reg, pid);
        unchanged.push(wall);
        unchanged_cpu.push(cpu);
    }
    if only_unchanged {
        println!(
            "reregister: unchanged only, wall median {:.3} ms",
            ms(median(&mut unchanged))
        );
        return;
    }
    let (c, u) = (median(&mut changed), median(&mut unchanged));
    let (cc, uc) = (median(&mut changed_cpu), median(&mut unchanged_cpu));
    let body_len = reg.request().1.len();
    println!(
        "reregister: {topics} topics ({body_len} body bytes), {rounds} rounds, medians: \
         wall changed {:.3} ms, unchanged {:.3} ms ({:.1} %); \
         server CPU changed {:.3} ms, unchanged {:.3} ms ({:.1} %)",
        ms(c),
        ms(u),
        100.0 * ms(u) / ms(c),
        ms(cc),
        ms(uc),
        100.0 * ms(uc) / ms(cc),
    );
}
