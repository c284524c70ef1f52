//! The victims: clients that keep looking up a route while an attack runs,
//! over connections opened before it (open loop, a fixed rate per
//! connection, so a stalled server cannot slow the schedule down), and a
//! probe that opens a fresh connection every 250 ms to see whether new
//! clients still get in.

use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use hdrhistogram::Histogram;
use protocol::codes::{response, version};
use protocol::SerializeType;
use serde::Serialize;
use tokio::sync::oneshot;
use tokio::task::JoinSet;

use crate::conn::{Conn, Reply, Shared, Waiter};
use crate::requests;
use crate::scenario::Scenario;
use crate::stats::{ErrKind, Hub};
use crate::topology::Topology;
use crate::verify::Verifier;

/// The topic the victim broker registers and the victims look up.
pub const VICTIM_TOPIC: &str = "AttackVictimTopic";

/// What the victims saw during one attack.
#[derive(Debug, Clone, Default, Serialize)]
pub struct VictimFigures {
    pub lookups_sent: u64,
    /// Replies with code 0 before the victim timeout.
    pub lookups_answered: u64,
    /// Replies with another code (the route was gone).
    pub lookups_wrong: u64,
    pub pct_within_100ms: f64,
    pub pct_within_1s: f64,
    pub p50_us: u64,
    pub p99_us: u64,
    pub max_us: u64,
    /// Fresh connections from 127.0.0.1 tried, and those that got a route.
    pub new_conns_tried: u64,
    pub new_conns_ok: u64,
}

#[derive(Clone, Copy)]
pub struct VictimPlan {
    pub conns: usize,
    /// Lookups per second per connection.
    pub rate: f64,
    pub timeout: Duration,
}

/// The `Shared` a [`Conn`] needs; victims match replies themselves
/// (`Waiter::Notify`), so the verifier's topology is a stand-in.
pub fn shared() -> Arc<Shared> {
    let mut sc = Scenario::default();
    sc.brokers.groups = 1;
    sc.topics.count = 1;
    let topo = Arc::new(Topology::build(&sc, "attack_"));
    let exp = Arc::new(crate::expected::Expected::new(topo, Duration::ZERO, false));
    Arc::new(Shared {
        verifier: Arc::new(Verifier::new(exp, 1)),
        hub: Arc::new(Hub::new()),
        creds: None,
    })
}

#[derive(Default)]
struct Tally {
    sent: u64,
    answered: u64,
    wrong: u64,
    within_100ms: u64,
    within_1s: u64,
    lat: Option<Histogram<u64>>,
    tried: u64,
    ok: u64,
}

type SharedTally = Arc<Mutex<Tally>>;

fn lock(t: &SharedTally) -> std::sync::MutexGuard<'_, Tally> {
    t.lock().unwrap_or_else(|e| e.into_inner())
}

fn settle(
    t: &SharedTally,
    sent_at: Instant,
    r: Result<Result<Reply, ErrKind>, oneshot::error::RecvError>,
) {
    let mut t = lock(t);
    match r {
        Ok(Ok(reply)) if reply.cmd.code == response::SUCCESS => {
            let lat = reply.at.saturating_duration_since(sent_at);
            t.answered += 1;
            if lat <= Duration::from_millis(100) {
                t.within_100ms += 1;
            }
            if lat <= Duration::from_secs(1) {
                t.within_1s += 1;
            }
            let us = (lat.as_micros() as u64).clamp(1, 600_000_000);
            if let Some(h) = t.lat.as_mut() {
                let _ = h.record(us);
            }
        }
        Ok(Ok(_)) => t.wrong += 1,
        _ => {}
    }
}

/// Runs the victims until `until`, then waits (up to the timeout) for the
/// replies still due.
pub async fn run(addr: SocketAddr, plan: VictimPlan, until: Instant) -> VictimFigures {
    let tally: SharedTally = Arc::new(Mutex::new(Tally {
        lat: Histogram::new_with_bounds(1, 600_000_000, 3).ok(),
        ..Tally::default()
    }));
    let shared = shared();
    let mut tasks = JoinSet::new();
    for _ in 0..plan.conns.max(1) {
        tasks.spawn(lookups(addr, plan, until, shared.clone(), tally.clone()));
    }
    tasks.spawn(probe(addr, until, shared.clone(), tally.clone()));
    while tasks.join_next().await.is_some() {}
    let f = figures(&lock(&tally));
    f
}

fn figures(t: &Tally) -> VictimFigures {
    let pct = |n: u64| {
        if t.sent == 0 {
            0.0
        } else {
            (n as f64 * 1000.0 / t.sent as f64).round() / 10.0
        }
    };
    let q = |v: f64| t.lat.as_ref().map(|h| h.value_at_quantile(v)).unwrap_or(0);
    VictimFigures {
        lookups_sent: t.sent,
        lookups_answered: t.answered,
        lookups_wrong: t.wrong,
        pct_within_100ms: pct(t.within_100ms),
        pct_within_1s: pct(t.within_1s),
        p50_us: q(0.5),
        p99_us: q(0.99),
        max_us: t.lat.as_ref().map(|h| h.max()).unwrap_or(0),
        new_conns_tried: t.tried,
        new_conns_ok: t.ok,
    }
}

/// A [`Conn`] whose replies may take `timeout`, if it connects within `within`.
pub async fn connect_within(
    addr: SocketAddr,
    timeout: Duration,
    within: Duration,
    shared: &Arc<Shared>,
) -> Option<Conn> {
    let c = Conn::connect(addr, 0, SerializeType::Json, timeout, shared.clone());
    tokio::time::timeout(within, c).await.ok()?.ok()
}

async fn connect(addr: SocketAddr, timeout: Duration, shared: &Arc<Shared>) -> Option<Conn> {
    connect_within(addr, timeout, Duration::from_secs(1), shared).await
}

/// One victim connection: a lookup every `1/rate` s; a broken connection is
/// reopened on the next tick (its lookups count as sent, not answered).
async fn lookups(
    addr: SocketAddr,
    plan: VictimPlan,
    until: Instant,
    shared: Arc<Shared>,
    tally: SharedTally,
) {
    let mut conn = connect(addr, plan.timeout, &shared).await;
    let every = Duration::from_secs_f64(1.0 / plan.rate.max(0.1));
    let mut tick = tokio::time::interval(every);
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Burst);
    let mut replies = JoinSet::new();
    while Instant::now() < until {
        tick.tick().await;
        lock(&tally).sent += 1;
        let Some(c) = conn.as_mut() else {
            conn = connect(addr, plan.timeout, &shared).await;
            continue;
        };
        let (tx, rx) = oneshot::channel();
        let sent_at = Instant::now();
        c.push(
            requests::route(VICTIM_TOPIC, version::CURRENT, true),
            None,
            Some(Waiter::Notify(tx)),
        );
        if c.flush().await.is_err() {
            conn = None;
            continue;
        }
        let (t, wait) = (tally.clone(), plan.timeout);
        replies.spawn(async move {
            let r = match tokio::time::timeout(wait, rx).await {
                Ok(r) => r,
                Err(_) => return,
            };
            settle(&t, sent_at, r);
        });
        while replies.try_join_next().is_some() {}
    }
    // Keep the connection until the replies still due are in (or timed out).
    while replies.join_next().await.is_some() {}
    drop(conn);
}

/// A fresh connection from 127.0.0.1 every 250 ms, one lookup on it.
async fn probe(addr: SocketAddr, until: Instant, shared: Arc<Shared>, tally: SharedTally) {
    while Instant::now() < until {
        let started = Instant::now();
        lock(&tally).tried += 1;
        if answers_on(addr, Duration::from_secs(1), &shared).await {
            lock(&tally).ok += 1;
        }
        let next = started + Duration::from_millis(250);
        tokio::time::sleep_until(next.into()).await;
    }
}

/// One lookup on a fresh connection: does the server still answer?
pub async fn answers(addr: SocketAddr, wait: Duration) -> bool {
    answers_on(addr, wait, &shared()).await
}

async fn answers_on(addr: SocketAddr, wait: Duration, shared: &Arc<Shared>) -> bool {
    let Some(mut c) = connect(addr, wait, shared).await else {
        return false;
    };
    let call = c.call(requests::route(VICTIM_TOPIC, version::CURRENT, true), None);
    matches!(tokio::time::timeout(wait, call).await, Ok(Ok(r)) if r.cmd.code == response::SUCCESS)
}
