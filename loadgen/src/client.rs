//! Open-loop clients: tens of thousands of logical producers/consumers, each
//! refreshing the routes of its K topics every period at its own phase,
//! multiplexed over a few connections. Latency counts from the scheduled time,
//! so a slow server (or a late loadgen) cannot hide queueing: no coordinated
//! omission.

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::{Duration, Instant};

use protocol::codes::version;
use protocol::SerializeType;

use crate::auth::RouteRequests;
use crate::conn::{Conn, Shared, Waiter};
use crate::rng::{Rng, Zipf};
use crate::scenario::{HeaderKind, Scenario, TargetMode};
use crate::stats::{ErrKind, Local, Op, Outcome};
use crate::topology::Topology;

pub struct ClientEnv {
    pub sc: Arc<Scenario>,
    pub topo: Arc<Topology>,
    pub shared: Arc<Shared>,
    pub targets: Arc<Vec<SocketAddr>>,
    /// The route lookups, signed once per topic when the run signs.
    pub routes: RouteRequests,
}

impl ClientEnv {
    pub fn serialize(&self) -> SerializeType {
        match self.sc.clients.header {
            HeaderKind::Json => SerializeType::Json,
            HeaderKind::Binary => SerializeType::Rocketmq,
        }
    }

    /// The GET_ROUTEINFO_BY_TOPIC request for `topic`, signed if the run signs.
    pub fn route(&self, topic: u32) -> protocol::RemotingCommand {
        self.routes
            .get(topic, &self.topo.topics[topic as usize].name)
    }

    /// Whether route replies (code 105) must come in the legacy dialect: below
    /// V4_9_4 without `acceptStandardJsonOnly` (`ClientRequestProcessor#getRouteInfoByTopic`).
    pub fn legacy(&self) -> bool {
        self.sc.clients.version < version::V4_9_4 && !self.sc.clients.accept_standard_json
    }
}

/// Tokio timers fire up to ~1 ms late; that much lateness is loadgen's, not
/// the server's.
const TIMER_SLACK: Duration = Duration::from_millis(2);

struct Logical {
    phase: Duration,
    topics: Vec<u32>,
}

/// Runs the open-loop clients from `start` until `end`, then waits for the
/// last replies.
pub async fn run_open(env: Arc<ClientEnv>, start: Instant, end: Instant) {
    let c = &env.sc.clients;
    let period = env.sc.period(c.refresh_period).0;
    let zipf = Zipf::new(env.topo.user_topics as usize, c.zipf);
    let mut rng = Rng::derive(env.sc.seed, 3);
    let conns = c.connections.max(1) as usize;
    let mut per_conn: Vec<Vec<Logical>> = (0..conns).map(|_| Vec::new()).collect();
    for i in 0..c.count as usize {
        let topics = zipf
            .sample_distinct(&mut rng, c.topics_per_client as usize)
            .into_iter()
            .map(|r| r as u32)
            .collect();
        per_conn[i % conns].push(Logical {
            phase: period.mul_f64(rng.f64()),
            topics,
        });
    }
    let per_conn: Vec<Arc<Vec<Logical>>> = per_conn
        .into_iter()
        .map(|mut v| {
            v.sort_by_key(|l| l.phase);
            Arc::new(v)
        })
        .collect();
    let targets = env.targets.len();
    let mut tasks = Vec::new();
    for (j, clients) in per_conn.iter().enumerate() {
        let which: Vec<usize> = match c.target_mode {
            TargetMode::Split => vec![j % targets],
            TargetMode::Each => (0..targets).collect(),
        };
        for t in which {
            tasks.push(tokio::spawn(drive(
                env.clone(),
                t,
                clients.clone(),
                start,
                end,
                period,
            )));
        }
    }
    for t in tasks {
        let _ = t.await;
    }
}

async fn connect(env: &ClientEnv, t: usize) -> Option<Conn> {
    let timeout = env.sc.clients.request_timeout.0;
    Conn::connect(
        env.targets[t],
        t,
        env.serialize(),
        timeout,
        env.shared.clone(),
    )
    .await
    .ok()
}

async fn drive(
    env: Arc<ClientEnv>,
    t: usize,
    clients: Arc<Vec<Logical>>,
    start: Instant,
    end: Instant,
    period: Duration,
) {
    let hub = env.shared.hub.clone();
    let legacy = env.legacy();
    let mut conn = connect(&env, t).await;
    let mut local = Local::new(t);
    let mut retry_at = Instant::now();
    let mut round: u32 = 0;
    'rounds: loop {
        let base = start + period * round;
        if base >= end {
            break;
        }
        let mut i = 0;
        while i < clients.len() {
            let due = base + clients[i].phase;
            if due >= end {
                break 'rounds;
            }
            if due > Instant::now() {
                tokio::time::sleep_until(due.into()).await;
            }
            let now = Instant::now();
            if conn.is_none() && now >= retry_at {
                conn = connect(&env, t).await;
                retry_at = now + Duration::from_millis(200);
            }
            // Everything due by now goes out in one write.
            let first = i;
            while i < clients.len() && base + clients[i].phase <= now {
                let due_i = base + clients[i].phase;
                // Latency counts from the schedule. Only the timer's own
                // wake-up slack (<= TIMER_SLACK, reported as send lag) is
                // excluded; anything later (loadgen overloaded, socket
                // backpressure) counts against the request.
                let due_i = if now.saturating_duration_since(due_i) <= TIMER_SLACK {
                    now
                } else {
                    due_i
                };
                for &topic in &clients[i].topics {
                    match conn.as_mut() {
                        Some(c) => {
                            c.push_signed(
                                env.route(topic),
                                None,
                                Some(Waiter::Route {
                                    topic,
                                    legacy,
                                    due: due_i,
                                }),
                            );
                        }
                        None => {
                            local.record_count(&hub, Op::Route, now, Outcome::Err(ErrKind::Send))
                        }
                    }
                }
                i += 1;
            }
            if let Some(c) = conn.as_mut() {
                if c.flush().await.is_err() {
                    conn = None;
                }
            }
            let sent = Instant::now();
            for cl in &clients[first..i] {
                hub.record_lag(base + cl.phase, sent);
            }
            local.maybe_flush(&hub, false);
        }
        round += 1;
    }
    local.maybe_flush(&hub, true);
    if let Some(c) = conn {
        c.drain_and_close().await;
    }
}
