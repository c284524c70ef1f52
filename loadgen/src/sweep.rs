//! The route sweep after the startup registrations (scenario `sweep`): looks
//! the given topics up on every target, pipelined, round after round, until
//! every reply is verified correct or the deadline passes. It answers "how long
//! until every route is served" for a registration storm: a server that
//! acknowledges a registration before its routes are visible is caught here.

use std::sync::Arc;
use std::time::{Duration, Instant};

use bytes::BytesMut;
use protocol::frame::{self, DEFAULT_MAX_FRAME};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

use crate::client::ClientEnv;
use crate::verify::Verdict;

/// Requests in flight per target.
const WINDOW: usize = 256;

/// The outcome of a sweep, over all targets.
#[derive(Debug, Clone, Default)]
pub struct SweepOutcome {
    /// When the last topic (on the slowest target) was first served correctly;
    /// `None` when some topic never was before the deadline.
    pub done_at: Option<Instant>,
    /// Rounds of the slowest target.
    pub rounds: u32,
    /// Topics (times targets) still not served at the deadline.
    pub unserved: u64,
    /// An example of what was wrong with an unserved topic.
    pub example: Option<String>,
}

/// Sweeps `topics` on every target until each is served or `deadline` passes.
pub async fn sweep(env: Arc<ClientEnv>, topics: Arc<Vec<u32>>, deadline: Instant) -> SweepOutcome {
    let tasks: Vec<_> = (0..env.targets.len())
        .map(|t| tokio::spawn(sweep_target(env.clone(), t, topics.clone(), deadline)))
        .collect();
    let mut out = SweepOutcome {
        done_at: Some(Instant::now()),
        ..Default::default()
    };
    for task in tasks {
        let one = task.await.unwrap_or_else(|_| SweepOutcome {
            unserved: topics.len() as u64,
            example: Some("sweep task failed".into()),
            ..Default::default()
        });
        out.rounds = out.rounds.max(one.rounds);
        out.unserved += one.unserved;
        out.done_at = match (out.done_at, one.done_at) {
            (Some(a), Some(b)) => Some(a.max(b)),
            _ => None,
        };
        if out.example.is_none() {
            out.example = one.example;
        }
    }
    out
}

async fn sweep_target(
    env: Arc<ClientEnv>,
    t: usize,
    topics: Arc<Vec<u32>>,
    deadline: Instant,
) -> SweepOutcome {
    let mut pending: Vec<u32> = topics.to_vec();
    let mut out = SweepOutcome::default();
    let mut last_ok = Instant::now();
    let mut stream: Option<TcpStream> = None;
    while !pending.is_empty() && Instant::now() < deadline {
        out.rounds += 1;
        if stream.is_none() {
            match TcpStream::connect(env.targets[t]).await {
                Ok(s) => {
                    let _ = s.set_nodelay(true);
                    stream = Some(s);
                }
                Err(e) => {
                    out.example = Some(format!("connect: {e}"));
                    tokio::time::sleep(Duration::from_millis(50)).await;
                    continue;
                }
            }
        }
        let Some(s) = stream.as_mut() else { continue };
        match one_round(&env, t, s, &pending, deadline).await {
            Ok((still, at, example)) => {
                if let Some(at) = at {
                    last_ok = last_ok.max(at);
                }
                if example.is_some() {
                    out.example = example;
                }
                pending = still;
            }
            Err(e) => {
                out.example = Some(e);
                stream = None;
            }
        }
        if !pending.is_empty() {
            tokio::time::sleep(Duration::from_millis(1)).await;
        }
    }
    out.unserved = pending.len() as u64;
    out.done_at = pending.is_empty().then_some(last_ok);
    out
}

/// One pass over `pending`: returns the topics still not served, the time of
/// the last correct reply, and an example of a wrong one.
async fn one_round(
    env: &ClientEnv,
    t: usize,
    stream: &mut TcpStream,
    pending: &[u32],
    deadline: Instant,
) -> Result<(Vec<u32>, Option<Instant>, Option<String>), String> {
    let legacy = env.legacy();
    let verifier = &env.shared.verifier;
    let mut inflight: std::collections::HashMap<i32, u32> = std::collections::HashMap::new();
    let mut next = 0usize;
    let mut opaque = 0i32;
    let mut still = Vec::new();
    let mut last_ok = None;
    let mut example = None;
    let mut wbuf = BytesMut::with_capacity(WINDOW * 128);
    let mut rbuf = BytesMut::with_capacity(256 * 1024);
    while next < pending.len() || !inflight.is_empty() {
        while next < pending.len() && inflight.len() < WINDOW {
            let topic = pending[next];
            next += 1;
            let mut cmd = env.route(topic);
            opaque = opaque.wrapping_add(1).max(1);
            cmd.opaque = opaque;
            frame::encode(&cmd, env.serialize(), None, &mut wbuf);
            inflight.insert(opaque, topic);
        }
        if !wbuf.is_empty() {
            stream
                .write_all(&wbuf)
                .await
                .map_err(|e| format!("send: {e}"))?;
            wbuf.clear();
        }
        if rbuf.capacity() - rbuf.len() < 16 * 1024 {
            rbuf.reserve(256 * 1024);
        }
        let wait = deadline
            .saturating_duration_since(Instant::now())
            .max(Duration::from_millis(100));
        match tokio::time::timeout(wait, stream.read_buf(&mut rbuf)).await {
            Err(_) => return Err("timeout".into()),
            Ok(Ok(0)) => return Err("connection closed".into()),
            Ok(Err(e)) => return Err(format!("read: {e}")),
            Ok(Ok(_)) => {}
        }
        let now = Instant::now();
        loop {
            let (cmd, _, body) = match frame::next_request(&mut rbuf, DEFAULT_MAX_FRAME) {
                Ok(Some(decoded)) => decoded,
                Ok(None) => break,
                Err(e) => return Err(format!("undecodable frame: {e}")),
            };
            if !cmd.is_response() {
                continue;
            }
            let Some(topic) = inflight.remove(&cmd.opaque) else {
                continue;
            };
            match verifier.check_route(topic, t, legacy, cmd.code, body.as_deref(), now) {
                Verdict::Ok => last_ok = Some(now),
                Verdict::InTransition => still.push(topic),
                Verdict::Wrong(kind, msg) => {
                    example = Some(format!("{}: {msg}", kind.name()));
                    still.push(topic);
                }
            }
        }
    }
    Ok((still, last_ok, example))
}
