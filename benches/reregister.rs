//! End to end on the wire: what a broker's re-registration costs when its
//! DataVersion is unchanged (the every-30-s case) against one that changed.
//!
//! `cargo bench --bench reregister` starts the release `namesrv`, registers one
//! broker with `REREG_TOPICS` topics (10,000), then alternates, `REREG_ROUNDS`
//! times (30): a *changed* registration (a new DataVersion and one topic's queue
//! count flipped, as when a broker updates one topic) and an *unchanged* one
//! (the same bytes again). Each is timed from the first byte sent to the reply
//! read; the medians and their ratio are printed.

#[path = "../tests/common/mod.rs"]
mod common;

use std::time::{Duration, Instant};

use common::{dv, topic, BrokerReg, Client, TestServer};

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

fn timed(client: &mut Client, reg: &BrokerReg) -> Duration {
    let (cmd, body) = reg.request();
    let started = Instant::now();
    let reply = client.call(cmd, Some(&body));
    let took = started.elapsed();
    assert_eq!(reply.0.code, 0, "register failed: {:?}", reply.0.remark);
    took
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
    timed(&mut client, &reg);

    let (mut changed, mut unchanged) = (Vec::new(), Vec::new());
    for round in 0..rounds {
        reg.data_version = dv(2 + round as i64, 0);
        reg.topics[0].read_queue_nums = if round % 2 == 0 { 4 } else { 8 };
        changed.push(timed(&mut client, &reg));
        unchanged.push(timed(&mut client, &reg));
    }
    let (c, u) = (median(&mut changed), median(&mut unchanged));
    let body_len = reg.request().1.len();
    println!(
        "reregister: {topics} topics ({body_len} body bytes), {rounds} rounds: \
         changed median {:.3} ms, unchanged median {:.3} ms, unchanged/changed {:.1} %",
        c.as_secs_f64() * 1e3,
        u.as_secs_f64() * 1e3,
        100.0 * u.as_secs_f64() / c.as_secs_f64()
    );
}
