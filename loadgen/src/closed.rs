//! Closed loop: C connections per target, each keeping P route lookups in
//! flight and sending a new one as each reply arrives, to find the maximum
//! throughput. One task per connection owns both directions (no locks, no
//! channels), so loadgen spends its CPU on requests and verification.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::{Duration, Instant};

use bytes::BytesMut;
use protocol::frame::{self, DEFAULT_MAX_FRAME};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

use crate::client::ClientEnv;
use crate::conn::record_route;
use crate::rng::{Rng, Zipf};
use crate::stats::{ErrKind, Local, Op, Outcome};

pub async fn run_closed(env: Arc<ClientEnv>, end: Instant) {
    let zipf = Arc::new(Zipf::new(
        env.topo.user_topics as usize,
        env.sc.clients.zipf,
    ));
    let mut tasks = Vec::new();
    for t in 0..env.targets.len() {
        for j in 0..env.sc.clients.closed_connections as usize {
            let salt = 5000 + (t * 1000 + j) as u64;
            tasks.push(tokio::spawn(one_conn(
                env.clone(),
                zipf.clone(),
                t,
                salt,
                end,
            )));
        }
    }
    for t in tasks {
        let _ = t.await;
    }
}

struct Loop {
    env: Arc<ClientEnv>,
    zipf: Arc<Zipf>,
    rng: Rng,
    inflight: HashMap<i32, (u32, Instant)>,
    wbuf: BytesMut,
    opaque: i32,
}

impl Loop {
    fn push(&mut self, now: Instant) {
        let topic = self.zipf.sample(&mut self.rng) as u32;
        let mut cmd = self.env.route(topic);
        self.opaque = self.opaque.wrapping_add(1).max(1);
        cmd.opaque = self.opaque;
        frame::encode(&cmd, self.env.serialize(), None, &mut self.wbuf);
        self.inflight.insert(self.opaque, (topic, now));
    }
}

async fn one_conn(env: Arc<ClientEnv>, zipf: Arc<Zipf>, t: usize, salt: u64, end: Instant) {
    let hub = env.shared.hub.clone();
    let mut local = Local::new(t);
    let timeout = env.sc.clients.request_timeout.0;
    let in_flight = env.sc.clients.closed_in_flight as usize;
    let legacy = env.legacy();
    let mut stream = match TcpStream::connect(env.targets[t]).await {
        Ok(s) => s,
        Err(e) => {
            local.example(Op::Route, format!("connect: {e}"));
            local.record_count(&hub, Op::Route, Instant::now(), Outcome::Err(ErrKind::Send));
            local.maybe_flush(&hub, true);
            return;
        }
    };
    let _ = stream.set_nodelay(true);
    let mut lp = Loop {
        rng: Rng::derive(env.sc.seed, salt),
        env: env.clone(),
        zipf,
        inflight: HashMap::with_capacity(in_flight * 2),
        wbuf: BytesMut::with_capacity(in_flight * 128),
        opaque: 0,
    };
    let now = Instant::now();
    for _ in 0..in_flight {
        lp.push(now);
    }
    let mut rbuf = BytesMut::with_capacity(256 * 1024);
    let mut fail: Option<ErrKind> = None;
    'run: while !lp.inflight.is_empty() {
        if !lp.wbuf.is_empty() {
            if stream.write_all(&lp.wbuf).await.is_err() {
                fail = Some(ErrKind::Send);
                break;
            }
            lp.wbuf.clear();
        }
        if rbuf.capacity() - rbuf.len() < 16 * 1024 {
            rbuf.reserve(256 * 1024);
        }
        match tokio::time::timeout(timeout, stream.read_buf(&mut rbuf)).await {
            Err(_) => {
                fail = Some(ErrKind::Timeout);
                break;
            }
            Ok(Ok(0)) | Ok(Err(_)) => {
                fail = Some(ErrKind::Closed);
                break;
            }
            Ok(Ok(_)) => {}
        }
        let now = Instant::now();
        loop {
            let (cmd, _, body) = match frame::next_request(&mut rbuf, DEFAULT_MAX_FRAME) {
                Ok(Some(decoded)) => decoded,
                Ok(None) => break,
                Err(_) => {
                    fail = Some(ErrKind::Decode);
                    break 'run;
                }
            };
            if !cmd.is_response() {
                continue;
            }
            let Some((topic, sent)) = lp.inflight.remove(&cmd.opaque) else {
                continue;
            };
            let v =
                env.shared
                    .verifier
                    .check_route(topic, t, legacy, cmd.code, body.as_deref(), now);
            record_route(&mut local, &hub, sent, now, v);
            if now < end {
                lp.push(now);
            }
        }
        local.maybe_flush(&hub, false);
    }
    if let Some(kind) = fail {
        let now = Instant::now();
        for _ in lp.inflight.drain() {
            local.record_count(&hub, Op::Route, now, Outcome::Err(kind));
        }
        if now < end {
            local.example(
                Op::Route,
                format!("closed-loop connection ended early: {}", kind.name()),
            );
        }
    }
    local.maybe_flush(&hub, true);
    let _ = tokio::time::timeout(Duration::from_millis(200), stream.shutdown()).await;
}
