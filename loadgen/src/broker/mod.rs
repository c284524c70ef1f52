//! Simulated brokers: one task per broker group (master + slaves), each member
//! holding one connection per target, as real brokers do.
//!
//! A group registers at startup, re-registers every period (at a random phase,
//! or all groups at once in a storm), sends heartbeats and cluster-info queries,
//! and obeys churn commands: a data change (queue count + DataVersion bump, then
//! an immediate re-registration), a crash (connections dropped), a clean
//! shutdown (104 to every target) and a rejoin.

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use bytes::Bytes;
use protocol::body::DataVersion;
use protocol::codes::response;
use protocol::SerializeType;
use tokio::sync::{mpsc, oneshot, watch, Semaphore};
use tokio::task::JoinHandle;

mod periodic;

use crate::conn::{Conn, Reply, Shared};
use crate::expected::Expected;
use crate::requests;
use crate::rng::Rng;
use crate::scenario::{Heartbeat, OnExit, Scenario};
use crate::stats::{ErrKind, Op, Outcome};
use crate::topology::Topology;

/// A churn or data command for one group.
#[derive(Debug, Clone, Copy)]
pub enum GroupCmd {
    ChangeData,
    Crash(usize),
    Shutdown(usize),
    Rejoin(usize),
}

/// Everything a group task needs.
pub struct BrokerEnv {
    pub sc: Arc<Scenario>,
    pub topo: Arc<Topology>,
    pub exp: Arc<Expected>,
    pub shared: Arc<Shared>,
    pub targets: Arc<Vec<SocketAddr>>,
    /// The last cluster-info body decoded (crc32, length, parsed): every broker
    /// asks for the same body until something changes, so it is parsed once.
    pub cluster_info_cache: ClusterInfoCache,
    /// Register bodies by `Group::body_class`: the groups that host the same
    /// topics send the very same bytes (one encoding, one allocation), until a
    /// data change gives a group its own.
    pub bodies: BodyCache,
    /// The DataVersion every group starts with: equal bodies need equal
    /// versions (the server keys them per broker address, so sharing is
    /// invisible to it).
    pub start_dv: DataVersion,
}

pub type BodyCache = std::sync::Mutex<std::collections::HashMap<u32, (Bytes, i32)>>;

/// The DataVersion a run's groups start with.
pub fn start_data_version() -> DataVersion {
    DataVersion {
        counter: 1,
        state_version: 0,
        timestamp: now_ms(),
    }
}

pub type ClusterInfoCache =
    std::sync::Mutex<Option<(u32, usize, Arc<protocol::body::ClusterInfo>)>>;

/// How the initial registration of one group went.
#[derive(Debug, Default, Clone, Copy)]
pub struct StartupReport {
    pub registrations: u64,
    pub errors: u64,
}

/// What a group sent over the whole run (startup included), window or not:
/// exact, for tests and for the report's registration line.
#[derive(Debug, Default, Clone, Copy, serde::Serialize)]
pub struct RegTotals {
    /// Registrations answered SUCCESS carrying data new to the connection
    /// (startup, data change, rejoin, reconnect).
    pub changed: u64,
    /// Registrations answered SUCCESS repeating the last body byte for byte.
    pub unchanged: u64,
    pub errors: u64,
    /// Data changes the group applied (each re-registers every live member).
    pub data_changes: u64,
    /// Members brought back after a crash or shutdown.
    pub rejoins: u64,
}

impl RegTotals {
    pub fn add(&mut self, o: &RegTotals) {
        self.changed += o.changed;
        self.unchanged += o.unchanged;
        self.errors += o.errors;
        self.data_changes += o.data_changes;
        self.rejoins += o.rejoins;
    }
}

pub struct GroupHandle {
    pub tx: mpsc::Sender<GroupCmd>,
    pub join: JoinHandle<RegTotals>,
}

type ReplyRx = oneshot::Receiver<Result<Reply, ErrKind>>;

struct GroupSim {
    env: Arc<BrokerEnv>,
    g: u32,
    dv: DataVersion,
    queues: Vec<i32>,
    body: Option<(Bytes, i32)>,
    /// A data change made this group's body its own (not the class's).
    own_body: bool,
    /// `[member][target]`
    conns: Vec<Vec<Option<Conn>>>,
    /// `[member][target]`: the DataVersion counter this member last registered
    /// successfully on the current connection. Equal to the current one, the
    /// next registration sends the same bytes again (`Op::RegisterUnchanged`).
    sent: Vec<Vec<Option<i64>>>,
    up: Vec<bool>,
    rng: Rng,
    totals: RegTotals,
}

/// What the server holds for a member after one registration reply, as far
/// as the next one's changed/unchanged split goes (`prev`: before it).
fn sent_after(prev: Option<i64>, outcome: Outcome, counter: i64) -> Option<i64> {
    match outcome {
        // SUCCESS (a wrong masterAddr still means the body was taken).
        Outcome::Ok | Outcome::InTransition | Outcome::Err(ErrKind::WrongReply) => Some(counter),
        // No verdict: the server may or may not have taken it; what it held
        // before is still the best guess.
        Outcome::Err(ErrKind::Timeout | ErrKind::Decode) => prev,
        // Dropped connection (the server forgets its registrations) or a
        // refusal (non-SUCCESS code): the next send is new to the server.
        Outcome::Err(_) => None,
    }
}

fn now_ms() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_millis() as i64)
        .unwrap_or(0)
}

/// Starts a group: it builds its register body, waits at `go` (shared with
/// every group and the caller), registers (holding a `startup` permit),
/// reports on `ready`, then runs until `stop` turns true. Storm phases align on
/// `align`.
pub fn spawn_group(
    env: Arc<BrokerEnv>,
    g: u32,
    startup: Arc<Semaphore>,
    ready: mpsc::Sender<StartupReport>,
    stop: watch::Receiver<bool>,
    align: Instant,
    go: Arc<tokio::sync::Barrier>,
) -> GroupHandle {
    let (tx, rx) = mpsc::channel(64);
    let join = tokio::spawn(async move {
        let mut sim = GroupSim::new(env, g);
        // Bodies are built before the start line, so the startup (a storm when
        // every group holds a permit) times the servers, not loadgen's encoding.
        sim.body();
        go.wait().await;
        let report = {
            let _permit = startup.acquire().await;
            sim.startup().await
        };
        let _ = ready.send(report).await;
        sim.run(rx, stop, align).await;
        sim.totals
    });
    GroupHandle { tx, join }
}

impl GroupSim {
    fn new(env: Arc<BrokerEnv>, g: u32) -> Self {
        let grp = &env.topo.groups[g as usize];
        let queues = grp
            .topics
            .iter()
            .map(|&t| env.topo.topics[t as usize].queues)
            .collect();
        let members = grp.members.len();
        let targets = env.targets.len();
        GroupSim {
            rng: Rng::derive(env.sc.seed, 1000 + g as u64),
            dv: env.start_dv,
            queues,
            body: None,
            own_body: false,
            conns: (0..members)
                .map(|_| (0..targets).map(|_| None).collect())
                .collect(),
            sent: vec![vec![None; targets]; members],
            up: vec![false; members],
            totals: RegTotals::default(),
            env,
            g,
        }
    }

    fn cluster(&self) -> &str {
        let grp = &self.env.topo.groups[self.g as usize];
        &self.env.topo.clusters[grp.cluster as usize]
    }

    async fn startup(&mut self) -> StartupReport {
        let mut rep = StartupReport::default();
        for m in 0..self.up.len() {
            let (ok, err) = self.bring_up(m).await;
            rep.registrations += ok;
            rep.errors += err;
        }
        rep
    }

    /// Connects member `m` to every target and registers it.
    async fn bring_up(&mut self, m: usize) -> (u64, u64) {
        self.up[m] = true;
        for t in 0..self.env.targets.len() {
            self.ensure_conn(m, t).await;
        }
        self.register_members(&[m], Instant::now()).await
    }

    async fn ensure_conn(&mut self, m: usize, t: usize) -> bool {
        if self.conns[m][t].is_some() {
            return true;
        }
        let timeout = self.env.sc.brokers.request_timeout.0;
        match Conn::connect(
            self.env.targets[t],
            t,
            SerializeType::Json,
            timeout,
            self.env.shared.clone(),
        )
        .await
        {
            Ok(c) => {
                self.conns[m][t] = Some(c);
                // A new connection: the server dropped what the old one registered.
                self.sent[m][t] = None;
                true
            }
            Err(e) => {
                let now = Instant::now();
                self.env.shared.hub.record(
                    t,
                    Op::Register,
                    now,
                    now,
                    Outcome::Err(ErrKind::Send),
                    Some(format!("connect: {e}")),
                );
                false
            }
        }
    }

    fn body(&mut self) -> (Bytes, i32) {
        if let Some(b) = &self.body {
            return b.clone();
        }
        let grp = &self.env.topo.groups[self.g as usize];
        let encode = || {
            requests::register_body(
                &self.env.topo,
                grp,
                &self.queues,
                self.dv,
                &self.env.sc.brokers,
            )
        };
        // A body no other group shares (a data change, or a class of one as
        // with broker-name topics) stays out of the cache, which never evicts.
        let b = if self.own_body || grp.class_size == 1 {
            encode()
        } else {
            // Held while encoding: the class's other groups wait for this body
            // instead of encoding their own copy.
            let mut cache = self.env.bodies.lock().unwrap_or_else(|e| e.into_inner());
            cache.entry(grp.body_class).or_insert_with(encode).clone()
        };
        self.body = Some(b.clone());
        b
    }

    /// Registers members `ms` with every target; latency counts from `due`.
    async fn register_members(&mut self, ms: &[usize], due: Instant) -> (u64, u64) {
        let (body, crc) = self.body();
        let exp = self.env.exp.clone();
        let mut waits: Vec<(usize, usize, Op, ReplyRx)> = Vec::new();
        let mut changed = false;
        for &m in ms {
            if !self.up[m] {
                continue;
            }
            changed |= exp.registered(self.g, m, &self.queues);
            let grp = &self.env.topo.groups[self.g as usize];
            let cmd = requests::register(
                self.cluster(),
                grp,
                &grp.members[m],
                &self.env.sc.brokers,
                crc,
            );
            for t in 0..self.env.targets.len() {
                if !self.ensure_conn(m, t).await {
                    continue;
                }
                let op = if self.sent[m][t] == Some(self.dv.counter) {
                    Op::RegisterUnchanged
                } else {
                    Op::Register
                };
                if let Some(c) = self.conns[m][t].as_mut() {
                    waits.push((m, t, op, c.start(cmd.clone(), Some(&body)).await));
                }
            }
        }
        let (mut ok, mut err) = (0, 0);
        for (m, t, op, rx) in waits {
            let res = rx.await.unwrap_or(Err(ErrKind::Closed));
            let (outcome, example) = self.check_register(m, res.as_ref());
            self.sent[m][t] = sent_after(self.sent[m][t], outcome, self.dv.counter);
            if let Outcome::Err(k) = outcome {
                err += 1;
                self.totals.errors += 1;
                if matches!(k, ErrKind::Closed | ErrKind::Send) {
                    self.conns[m][t] = None;
                }
            } else {
                ok += 1;
                match op {
                    Op::RegisterUnchanged => self.totals.unchanged += 1,
                    _ => self.totals.changed += 1,
                }
            }
            let at = res
                .as_ref()
                .map(|r| r.at)
                .unwrap_or_else(|_| Instant::now());
            self.env.shared.hub.record(t, op, due, at, outcome, example);
        }
        if changed {
            // Applied: a second stamp starts the settle time from the reply.
            exp.touch(self.g);
        }
        (ok, err)
    }

    fn check_register(&self, m: usize, res: Result<&Reply, &ErrKind>) -> (Outcome, Option<String>) {
        let r = match res {
            Ok(r) => r,
            Err(k) => return (Outcome::Err(*k), None),
        };
        if r.cmd.code != response::SUCCESS {
            let why = format!(
                "register {}: code {} {:?}",
                self.env.topo.groups[self.g as usize].name, r.cmd.code, r.cmd.remark
            );
            return (Outcome::Err(ErrKind::Code(r.cmd.code)), Some(why));
        }
        let grp = &self.env.topo.groups[self.g as usize];
        let member = &grp.members[m];
        if !self.env.sc.verify
            || member.id == 0
            || self.env.exp.group_settling(self.g, Instant::now())
        {
            return (Outcome::Ok, None);
        }
        // A slave learns its master's address when the master is live
        // (`RouteInfoManager#registerBroker` sets it on the result only then).
        let st = self.env.exp.state(self.g);
        let master = grp
            .members
            .iter()
            .position(|x| x.id == 0)
            .filter(|&i| st.live[i]);
        let want = master.map(|i| grp.members[i].addr.as_str());
        let got = r.cmd.ext("masterAddr").filter(|s| !s.is_empty());
        if want != got {
            let why = format!(
                "register {} id {}: masterAddr {got:?}, expected {want:?}",
                grp.name, member.id
            );
            return (Outcome::Err(ErrKind::WrongReply), Some(why));
        }
        (Outcome::Ok, None)
    }

    async fn run(
        &mut self,
        mut rx: mpsc::Receiver<GroupCmd>,
        mut stop: watch::Receiver<bool>,
        align: Instant,
    ) {
        let sc = self.env.sc.clone();
        let period = sc.period(sc.brokers.register_period).0;
        let mut next_reg = if sc.brokers.aligned {
            let mut t = align;
            while t <= Instant::now() {
                t += period;
            }
            t
        } else {
            Instant::now() + period.mul_f64(self.rng.f64())
        };
        let hb_period = sc.period(sc.brokers.heartbeat_period).0;
        let hb_on = sc.brokers.heartbeat != Heartbeat::None && !hb_period.is_zero();
        let mut next_hb = Instant::now() + hb_period.mul_f64(self.rng.f64());
        let ci_period = sc.period(sc.brokers.cluster_info_period).0;
        let ci_on = !ci_period.is_zero();
        let mut next_ci = Instant::now() + ci_period.mul_f64(self.rng.f64());
        let far = Instant::now() + Duration::from_secs(86_400 * 365);
        loop {
            let next = next_reg
                .min(if hb_on { next_hb } else { far })
                .min(if ci_on { next_ci } else { far });
            tokio::select! {
                _ = tokio::time::sleep_until(next.into()) => {
                    let now = Instant::now();
                    if now >= next_reg {
                        let all: Vec<usize> = (0..self.up.len()).collect();
                        self.register_members(&all, next_reg).await;
                        next_reg += period;
                    }
                    if hb_on && now >= next_hb {
                        self.heartbeats().await;
                        next_hb += hb_period;
                    }
                    if ci_on && now >= next_ci {
                        self.cluster_infos().await;
                        next_ci += ci_period;
                    }
                }
                cmd = rx.recv() => match cmd {
                    Some(c) => self.command(c).await,
                    None => break,
                },
                _ = stop.changed() => break,
            }
        }
        self.exit().await;
    }

    async fn command(&mut self, c: GroupCmd) {
        match c {
            GroupCmd::ChangeData => {
                let grp = &self.env.topo.groups[self.g as usize];
                let user: Vec<usize> = (0..grp.topics.len())
                    .filter(|&i| grp.topics[i] < self.env.topo.user_topics)
                    .collect();
                let pos = if user.is_empty() {
                    self.rng.below(grp.topics.len() as u64) as usize
                } else {
                    user[self.rng.below(user.len() as u64) as usize]
                };
                let base = self.env.topo.topics[grp.topics[pos] as usize].queues;
                self.queues[pos] = if self.queues[pos] == base {
                    base * 2
                } else {
                    base
                };
                self.dv.counter += 1;
                self.dv.timestamp = now_ms();
                self.body = None;
                self.own_body = true;
                self.totals.data_changes += 1;
                let all: Vec<usize> = (0..self.up.len()).collect();
                self.register_members(&all, Instant::now()).await;
            }
            GroupCmd::Crash(m) if m < self.up.len() && self.up[m] => {
                self.up[m] = false;
                self.env.exp.gone(self.g, m);
                for c in self.conns[m].iter_mut() {
                    if let Some(c) = c.take() {
                        c.crash();
                    }
                }
            }
            GroupCmd::Shutdown(m) if m < self.up.len() && self.up[m] => {
                self.shutdown(m, true).await
            }
            GroupCmd::Rejoin(m) if m < self.up.len() && !self.up[m] => {
                self.totals.rejoins += 1;
                self.bring_up(m).await;
            }
            _ => {}
        }
    }

    /// Takes member `m` down; with `unregister`, sends 104 to every target first.
    async fn shutdown(&mut self, m: usize, unregister: bool) {
        self.up[m] = false;
        self.env.exp.gone(self.g, m);
        if unregister {
            let grp = &self.env.topo.groups[self.g as usize];
            let cmd = requests::unregister(
                self.cluster(),
                grp,
                &grp.members[m],
                self.env.sc.brokers.version,
            );
            let mut waits = Vec::new();
            for (t, c) in self.conns[m].iter_mut().enumerate() {
                if let Some(c) = c.as_mut() {
                    waits.push((t, Instant::now(), c.start(cmd.clone(), None).await));
                }
            }
            for (t, sent, rx) in waits {
                let res = rx.await.unwrap_or(Err(ErrKind::Closed));
                let (at, outcome) = match &res {
                    Ok(r) if r.cmd.code == response::SUCCESS => (r.at, Outcome::Ok),
                    Ok(r) => (r.at, Outcome::Err(ErrKind::Code(r.cmd.code))),
                    Err(k) => (Instant::now(), Outcome::Err(*k)),
                };
                self.env
                    .shared
                    .hub
                    .record(t, Op::Unregister, sent, at, outcome, None);
            }
        }
        for c in self.conns[m].iter_mut() {
            if let Some(c) = c.take() {
                c.drain_and_close().await;
            }
        }
        self.env.exp.touch(self.g);
    }

    async fn exit(&mut self) {
        let unregister = self.env.sc.brokers.on_exit == OnExit::Unregister;
        for m in 0..self.up.len() {
            if self.up[m] {
                self.shutdown(m, unregister).await;
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Only a dropped connection or a refusal makes the next identical body
    /// count as changed; a timeout or a wrong-content SUCCESS does not.
    #[test]
    fn sent_resets_only_when_the_server_dropped_it() {
        let e = |k| Outcome::Err(k);
        assert_eq!(sent_after(Some(3), Outcome::Ok, 4), Some(4));
        assert_eq!(sent_after(None, e(ErrKind::WrongReply), 4), Some(4));
        assert_eq!(sent_after(Some(3), e(ErrKind::Timeout), 4), Some(3));
        assert_eq!(sent_after(Some(4), e(ErrKind::Timeout), 4), Some(4));
        assert_eq!(sent_after(Some(4), e(ErrKind::Decode), 4), Some(4));
        assert_eq!(sent_after(Some(4), e(ErrKind::Closed), 4), None);
        assert_eq!(sent_after(Some(4), e(ErrKind::Send), 4), None);
        assert_eq!(sent_after(Some(4), e(ErrKind::Code(1)), 4), None);
    }
}
