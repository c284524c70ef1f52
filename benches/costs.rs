//! Server CPU per write operation, on the wire, split by thread: the constants
//! of the per-core model (docs/PERFORMANCE.md, "How far one node goes, per core";
//! `loadgen/src/costs.rs`). `tuning/costs.sh` runs it; lookups are measured there
//! with loadgen (a closed loop needs many connections in flight, not this bench).
//!
//! `cargo bench --bench costs` starts the release `namesrv` (`cores=2`), moves all
//! its threads to `COSTS_SERVER_CPUS` (e.g. `0`) if set, and finds a connection the
//! kernel gave to shard 1 (`namesrv-1`): the writer runs on executor 0
//! (`namesrv-0`), so a request on shard 1 shows the receiving shard's work and the
//! writer's apart. Each executor's blocking threads count to it: executor 1's
//! decode large bodies, executor 0's free large old snapshots. For each of `COSTS_TOPICS`
//! (100 1000 10000) topics per registration, `COSTS_ROUNDS` (15) rounds of:
//! - `changed_one`: a new DataVersion with one topic's queue count flipped (a
//!   broker that updated one topic);
//! - `unchanged`: the same bytes again (the every-30-s re-registration);
//! - `changed_all`: a new DataVersion with every topic's queue count flipped (every
//!   topic's route is rebuilt and published);
//! - `expiry`: a broker registered on a fresh connection, then the connection
//!   closed, which removes its N topics (`RouteInfoManager#onChannelDestroy`; the
//!   expiry scan does the same removal). Fresh connections land on either shard.
//!
//! - `idle`: the same window with no request, the floor to subtract (the expiry's
//!   window is five of them).
//!
//! CPU is `/proc/PID/task/*/schedstat` (ns), read `COSTS_SETTLE_MS` (40) after the
//! reply so work that follows the reply counts. Prints one JSON object (medians,
//! min, max in µs per operation, per thread class) to stdout and `COSTS_OUT`.

#[path = "../tests/common/mod.rs"]
mod common;

use std::collections::BTreeMap;
use std::time::Duration;

use common::{dv, topic, BrokerReg, Client, TestServer};
use protocol::body::TopicConfig;
use protocol::{codes::request as rq, frame, SerializeType};

fn env_or(key: &str, default: &str) -> String {
    std::env::var(key).unwrap_or_else(|_| default.to_string())
}

/// CPU ns by thread class: `writer` (executor 0, the writer's, and its blocking
/// threads), `shard` (executor 1, the receiving shard's, and its blocking
/// threads), `other` (main, stats).
#[derive(Clone, Copy, Default)]
struct Cpu {
    writer: u64,
    shard: u64,
    other: u64,
}

impl Cpu {
    fn read(pid: u32) -> Cpu {
        let mut c = Cpu::default();
        let Ok(tasks) = std::fs::read_dir(format!("/proc/{pid}/task")) else {
            return c;
        };
        // glommio names executor i's thread `namesrv-i-ID`, and its blocking-pool
        // threads (large decodes, freeing large old snapshots) the same: they
        // count to their executor.
        for t in tasks.flatten() {
            let comm = std::fs::read_to_string(t.path().join("comm")).unwrap_or_default();
            let ns = std::fs::read_to_string(t.path().join("schedstat"))
                .unwrap_or_default()
                .split_whitespace()
                .next()
                .and_then(|v| v.parse::<u64>().ok())
                .unwrap_or(0);
            if comm.starts_with("namesrv-0-") {
                c.writer += ns;
            } else if comm.starts_with("namesrv-1-") {
                c.shard += ns;
            } else {
                c.other += ns;
            }
        }
        c
    }

    fn since(self, before: Cpu) -> Cpu {
        Cpu {
            writer: self.writer.saturating_sub(before.writer),
            shard: self.shard.saturating_sub(before.shard),
            other: self.other.saturating_sub(before.other),
        }
    }

    fn total(self) -> u64 {
        self.writer + self.shard + self.other
    }
}

/// Per-class samples of one operation kind.
#[derive(Default)]
struct Samples(Vec<Cpu>);

impl Samples {
    fn json(&self) -> String {
        let stat = |f: fn(&Cpu) -> u64| {
            let mut v: Vec<f64> = self.0.iter().map(|c| f(c) as f64 / 1e3).collect();
            v.sort_by(|a, b| a.total_cmp(b));
            let med = v.get(v.len() / 2).copied().unwrap_or(0.0);
            let min = v.first().copied().unwrap_or(0.0);
            let max = v.last().copied().unwrap_or(0.0);
            format!("{{\"median\": {med:.1}, \"min\": {min:.1}, \"max\": {max:.1}}}")
        };
        format!(
            "{{\"n\": {}, \"total_us\": {}, \"writer_core_us\": {}, \"shard_us\": {}, \"other_us\": {}}}",
            self.0.len(),
            stat(|c| c.total()),
            stat(|c| c.writer),
            stat(|c| c.shard),
            stat(|c| c.other)
        )
    }
}

fn settle() {
    let ms = env_or("COSTS_SETTLE_MS", "40").parse().unwrap_or(40);
    std::thread::sleep(Duration::from_millis(ms));
}

/// Server CPU of one registration on `client`. The frame is encoded before the
/// first reading: the broker's encoding is not the server's cost.
fn register(client: &mut Client, reg: &BrokerReg, pid: u32) -> Cpu {
    let (mut cmd, body) = reg.request();
    cmd.opaque = 7;
    let frame = frame::encode_to_vec(&cmd, SerializeType::Json, Some(&body));
    let before = Cpu::read(pid);
    client.send_raw(&frame).expect("send");
    let reply = client.read_frame().expect("reply");
    assert_eq!(reply.0.code, 0, "register failed: {:?}", reply.0.remark);
    settle();
    Cpu::read(pid).since(before)
}

/// A connection on shard 1: the one whose lookups moved `namesrv-1`'s clock most.
fn shard1_client(server: &TestServer, pid: u32) -> Client {
    for _ in 0..32 {
        let mut c = Client::connect(server.addr);
        let before = Cpu::read(pid);
        for _ in 0..300 {
            c.ask(
                rq::GET_ROUTEINFO_BY_TOPIC,
                &[("topic", "costs-probe")],
                None,
            );
        }
        let d = Cpu::read(pid).since(before);
        if d.shard > 2 * d.writer {
            return c;
        }
    }
    panic!("no connection landed on shard 1 in 32 tries (is cores=2?)");
}

fn topics(prefix: &str, n: usize, queues: i32) -> Vec<TopicConfig> {
    (0..n)
        .map(|i| topic(&format!("{prefix}-{i:06}"), 6, queues))
        .collect()
}

fn main() {
    let sizes: Vec<usize> = env_or("COSTS_TOPICS", "100 1000 10000")
        .split_whitespace()
        .filter_map(|s| s.parse().ok())
        .collect();
    let rounds: usize = env_or("COSTS_ROUNDS", "15").parse().unwrap_or(15);
    let server = TestServer::start(&[("cores", "2")]);
    let pid = server.pid();
    if let Ok(cpus) = std::env::var("COSTS_SERVER_CPUS") {
        let ok = std::process::Command::new("taskset")
            .args(["-a", "-p", "-c", &cpus, &pid.to_string()])
            .stdout(std::process::Stdio::null())
            .status()
            .is_ok_and(|s| s.success());
        assert!(ok, "taskset -a -p -c {cpus} {pid} failed");
    }
    let mut client = shard1_client(&server, pid);
    let mut out: BTreeMap<usize, [Samples; 6]> = BTreeMap::new();
    for &n in &sizes {
        let mut s: [Samples; 6] = Default::default();
        let mut reg = BrokerReg::new(
            "costs-cluster",
            &format!("costs-broker-{n}"),
            &format!("127.0.0.2:{}", 10_000 + n % 50_000),
            0,
            topics(&format!("costs-{n}"), n, 8),
        );
        reg.heartbeat_timeout_ms = Some(600_000);
        s[0].0.push(register(&mut client, &reg, pid)); // first registration
        for round in 0..rounds {
            let counter = 2 + 2 * round as i64;
            reg.data_version = dv(counter, 0);
            reg.topics[0].read_queue_nums = if round % 2 == 0 { 4 } else { 8 };
            s[1].0.push(register(&mut client, &reg, pid));
            s[2].0.push(register(&mut client, &reg, pid));
            reg.data_version = dv(counter + 1, 0);
            let q = if round % 2 == 0 { 16 } else { 8 };
            for t in &mut reg.topics {
                t.read_queue_nums = q;
                t.write_queue_nums = q;
            }
            s[3].0.push(register(&mut client, &reg, pid));
            // Idle: the same window with no request (executor wake-ups, timers).
            let before = Cpu::read(pid);
            settle();
            s[5].0.push(Cpu::read(pid).since(before));
            // Expiry: a broker of its own on a fresh connection, then closed.
            let mut gone = BrokerReg::new(
                "costs-cluster",
                &format!("costs-exp-{n}-{round}"),
                &format!("127.0.0.3:{}", 10_000 + round),
                0,
                topics(&format!("costs-exp-{n}-{round}"), n, 8),
            );
            gone.heartbeat_timeout_ms = Some(600_000);
            let mut conn = Client::connect(server.addr);
            register(&mut conn, &gone, pid);
            let before = Cpu::read(pid);
            drop(conn);
            // No lookups while it is measured: they would count.
            for _ in 0..5 {
                settle();
            }
            s[4].0.push(Cpu::read(pid).since(before));
            let name = format!("costs-exp-{n}-{round}-000000");
            common::wait_for(Duration::from_secs(10), "expired route gone", || {
                client.route(&name).is_none().then_some(())
            });
        }
        out.insert(n, s);
    }
    let kinds = [
        "first",
        "changed_one",
        "unchanged",
        "changed_all",
        "expiry",
        "idle",
    ];
    let mut json = format!(
        "{{\"bench\": \"costs\", \"rounds\": {rounds}, \"server_cpus\": \"{}\", \"sizes\": {{",
        env_or("COSTS_SERVER_CPUS", "")
    );
    for (i, (n, s)) in out.iter().enumerate() {
        if i > 0 {
            json.push_str(", ");
        }
        json.push_str(&format!("\"{n}\": {{"));
        for (k, (kind, samples)) in kinds.iter().zip(s.iter()).enumerate() {
            if k > 0 {
                json.push_str(", ");
            }
            json.push_str(&format!("\"{kind}\": {}", samples.json()));
        }
        json.push('}');
    }
    json.push_str("}}");
    println!("{json}");
    if let Ok(path) = std::env::var("COSTS_OUT") {
        std::fs::write(&path, format!("{json}\n")).expect("write COSTS_OUT");
    }
}
