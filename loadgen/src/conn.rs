//! A request/response connection to one name server: the owner writes frames
//! (batched), a reader task matches replies by opaque, verifies route replies
//! and records them, and expires requests that outlive their timeout.

use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use bytes::{Bytes, BytesMut};
use protocol::frame::{self, DEFAULT_MAX_FRAME};
use protocol::{RemotingCommand, SerializeType};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::tcp::{OwnedReadHalf, OwnedWriteHalf};
use tokio::net::TcpStream;
use tokio::sync::{mpsc, oneshot};
use tokio::task::JoinHandle;

use crate::auth::Credentials;
use crate::stats::{ErrKind, Hub, Local, Op, Outcome};
use crate::verify::{Verdict, Verifier};

/// A reply as the reader received it.
#[derive(Debug)]
pub struct Reply {
    pub cmd: RemotingCommand,
    pub body: Option<Bytes>,
    pub at: Instant,
}

/// What to do with a reply.
pub enum Waiter {
    /// A route lookup due at `due` (open loop: the scheduled time, so queueing in
    /// loadgen counts against the latency; no coordinated omission).
    Route {
        topic: u32,
        legacy: bool,
        due: Instant,
    },
    /// Hand the reply to a waiting task.
    Notify(oneshot::Sender<Result<Reply, ErrKind>>),
}

struct Pending {
    waiter: Waiter,
    deadline: Instant,
}

type PendingMap = Arc<Mutex<HashMap<i32, Pending>>>;

fn lock(p: &PendingMap) -> std::sync::MutexGuard<'_, HashMap<i32, Pending>> {
    p.lock().unwrap_or_else(|e| e.into_inner())
}

/// Shared by every connection of a run.
pub struct Shared {
    pub verifier: Arc<Verifier>,
    pub hub: Arc<Hub>,
    /// Sign every request with these (`--access-key`/`--secret-key`).
    pub creds: Option<Arc<Credentials>>,
}

pub struct Conn {
    /// Frames go to a writer task, so a server that stops reading delays
    /// replies (counted as latency), never the caller's schedule.
    tx: Option<mpsc::UnboundedSender<Bytes>>,
    writer: JoinHandle<()>,
    buf: BytesMut,
    batch: Vec<i32>,
    pending: PendingMap,
    next_opaque: i32,
    closing: Arc<AtomicBool>,
    reader: JoinHandle<()>,
    shared: Arc<Shared>,
    pub target: usize,
    ser: SerializeType,
    timeout: Duration,
}

impl Drop for Conn {
    fn drop(&mut self) {
        self.closing.store(true, Ordering::Release);
        self.reader.abort();
        self.writer.abort();
    }
}

impl Conn {
    pub async fn connect(
        addr: SocketAddr,
        target: usize,
        ser: SerializeType,
        timeout: Duration,
        shared: Arc<Shared>,
    ) -> std::io::Result<Conn> {
        let stream = TcpStream::connect(addr).await?;
        stream.set_nodelay(true)?;
        let (rd, wr) = stream.into_split();
        let pending: PendingMap = Arc::new(Mutex::new(HashMap::new()));
        let closing = Arc::new(AtomicBool::new(false));
        let reader = tokio::spawn(reader_loop(
            rd,
            pending.clone(),
            closing.clone(),
            shared.clone(),
            target,
            timeout,
        ));
        let (tx, rx) = mpsc::unbounded_channel();
        let writer = tokio::spawn(writer_loop(wr, rx));
        Ok(Conn {
            tx: Some(tx),
            writer,
            buf: BytesMut::with_capacity(1024),
            batch: Vec::new(),
            pending,
            next_opaque: 1,
            closing,
            reader,
            shared,
            target,
            ser,
            timeout,
        })
    }

    /// Encodes a request into the write buffer (sent by [`Conn::flush`]),
    /// signed when the run has credentials. A `None` waiter sends it oneway.
    /// Returns the opaque.
    pub fn push(
        &mut self,
        mut cmd: RemotingCommand,
        body: Option<&[u8]>,
        waiter: Option<Waiter>,
    ) -> i32 {
        if let Some(creds) = &self.shared.creds {
            creds.sign(&mut cmd, body);
        }
        self.push_signed(cmd, body, waiter)
    }

    /// [`Conn::push`] for a request that is already signed (or needs no
    /// signature): a signature does not cover the opaque, so one made once
    /// per topic serves every lookup of it.
    pub fn push_signed(
        &mut self,
        mut cmd: RemotingCommand,
        body: Option<&[u8]>,
        waiter: Option<Waiter>,
    ) -> i32 {
        let opaque = self.next_opaque;
        self.next_opaque = self.next_opaque.wrapping_add(1).max(1);
        cmd.opaque = opaque;
        match waiter {
            Some(w) => {
                lock(&self.pending).insert(
                    opaque,
                    Pending {
                        waiter: w,
                        deadline: Instant::now() + self.timeout,
                    },
                );
                self.batch.push(opaque);
            }
            None => cmd.flag |= protocol::codes::flag::ONEWAY,
        }
        frame::encode(&cmd, self.ser, body, &mut self.buf);
        opaque
    }

    /// Hands everything pushed to the writer. Fails (and fails the batch's
    /// requests with [`ErrKind::Send`]) once the connection is broken.
    pub async fn flush(&mut self) -> std::io::Result<()> {
        if self.buf.is_empty() {
            return Ok(());
        }
        let bytes = self.buf.split().freeze();
        if bytes.len() > 16 * 1024 {
            // What is left of a big frame's allocation (a ~200 KB registration)
            // shares it: kept by the connection, it would pin all of it.
            self.buf = BytesMut::with_capacity(1024);
        }
        let sent = match &self.tx {
            Some(tx) => tx.send(bytes).is_ok(),
            None => false,
        };
        if !sent {
            let failed: Vec<Pending> = {
                let mut p = lock(&self.pending);
                self.batch.iter().filter_map(|o| p.remove(o)).collect()
            };
            self.batch.clear();
            let mut local = Local::new(self.target);
            let now = Instant::now();
            for f in failed {
                fail(f.waiter, ErrKind::Send, &self.shared.hub, &mut local, now);
            }
            local.maybe_flush(&self.shared.hub, true);
            return Err(std::io::Error::new(
                std::io::ErrorKind::BrokenPipe,
                "connection lost",
            ));
        }
        self.batch.clear();
        Ok(())
    }

    /// Sends one request and waits for its reply (or timeout).
    pub async fn call(
        &mut self,
        cmd: RemotingCommand,
        body: Option<&[u8]>,
    ) -> Result<Reply, ErrKind> {
        let (tx, rx) = oneshot::channel();
        self.push(cmd, body, Some(Waiter::Notify(tx)));
        self.flush().await.map_err(|_| ErrKind::Send)?;
        rx.await.unwrap_or(Err(ErrKind::Closed))
    }

    /// Sends one request and returns the receiver of its reply.
    pub async fn start(
        &mut self,
        cmd: RemotingCommand,
        body: Option<&[u8]>,
    ) -> oneshot::Receiver<Result<Reply, ErrKind>> {
        let (tx, rx) = oneshot::channel();
        self.push(cmd, body, Some(Waiter::Notify(tx)));
        let _ = self.flush().await;
        rx
    }

    /// Sends a oneway request.
    pub async fn oneway(
        &mut self,
        cmd: RemotingCommand,
        body: Option<&[u8]>,
    ) -> std::io::Result<()> {
        self.push(cmd, body, None);
        self.flush().await
    }

    /// Requests outstanding.
    pub fn in_flight(&self) -> usize {
        lock(&self.pending).len()
    }

    /// Drops the connection abruptly, as a crashing process would; outstanding
    /// requests are forgotten, not counted.
    pub fn crash(self) {
        drop(self);
    }

    /// Waits (up to the timeout) for outstanding replies, then closes.
    pub async fn drain_and_close(mut self) {
        let until = Instant::now() + self.timeout + Duration::from_millis(300);
        while self.in_flight() > 0 && Instant::now() < until {
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        self.closing.store(true, Ordering::Release);
        // The writer sends what is queued, then shuts the socket down.
        self.tx = None;
        let _ = tokio::time::timeout(Duration::from_millis(500), &mut self.writer).await;
        let _ = tokio::time::timeout(Duration::from_millis(500), &mut self.reader).await;
    }
}

async fn writer_loop(mut wr: OwnedWriteHalf, mut rx: mpsc::UnboundedReceiver<Bytes>) {
    let mut out = BytesMut::new();
    while let Some(first) = rx.recv().await {
        let more = match rx.try_recv() {
            Ok(more) => more,
            Err(_) => {
                // Alone (a broker's registration): written as it is, no copy.
                if wr.write_all(&first).await.is_err() {
                    return;
                }
                continue;
            }
        };
        out.extend_from_slice(&first);
        out.extend_from_slice(&more);
        // Coalesce what queued up meanwhile into one write.
        while out.len() < 256 * 1024 {
            match rx.try_recv() {
                Ok(more) => out.extend_from_slice(&more),
                Err(_) => break,
            }
        }
        if wr.write_all(&out).await.is_err() {
            return;
        }
        out.clear();
        if out.capacity() > 512 * 1024 {
            // Do not keep a big batch's buffer per connection (10,000 brokers).
            out = BytesMut::new();
        }
    }
    let _ = wr.shutdown().await;
}

fn fail(w: Waiter, kind: ErrKind, hub: &Hub, local: &mut Local, now: Instant) {
    match w {
        Waiter::Route { .. } => local.record_count(hub, Op::Route, now, Outcome::Err(kind)),
        Waiter::Notify(tx) => {
            let _ = tx.send(Err(kind));
        }
    }
}

fn fail_all(pending: &PendingMap, kind: ErrKind, hub: &Hub, local: &mut Local) {
    let now = Instant::now();
    let all: Vec<Pending> = lock(pending).drain().map(|(_, p)| p).collect();
    for p in all {
        fail(p.waiter, kind, hub, local, now);
    }
}

async fn reader_loop(
    mut rd: OwnedReadHalf,
    pending: PendingMap,
    closing: Arc<AtomicBool>,
    shared: Arc<Shared>,
    target: usize,
    timeout: Duration,
) {
    let hub = &shared.hub;
    let mut local = Local::new(target);
    // Small to start: thousands of broker connections idle most of the time.
    let mut buf = BytesMut::with_capacity(4 * 1024);
    // Expiry granularity: a tenth of the timeout (brokers: 1 s, clients:
    // 300 ms), so 10,000 idle broker connections do not wake 5 times a second.
    let mut tick = tokio::time::interval(
        (timeout / 10).clamp(Duration::from_millis(100), Duration::from_secs(1)),
    );
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    let end_kind = loop {
        if buf.is_empty() && buf.capacity() > 64 * 1024 {
            // A big reply (cluster info) grew it: do not keep that per connection.
            buf = BytesMut::with_capacity(4 * 1024);
        } else if buf.capacity() - buf.len() < 1024 {
            buf.reserve(16 * 1024);
        }
        tokio::select! {
            r = rd.read_buf(&mut buf) => match r {
                Ok(0) | Err(_) => break ErrKind::Closed,
                Ok(_) => {
                    let now = Instant::now();
                    let mut bad = false;
                    loop {
                        match frame::next_request(&mut buf, DEFAULT_MAX_FRAME) {
                            Ok(Some((cmd, _, body))) => {
                                handle(cmd, body, now, &pending, &shared, target, &mut local);
                            }
                            Ok(None) => break,
                            Err(_) => { bad = true; break; }
                        }
                    }
                    if bad {
                        break ErrKind::Decode;
                    }
                    local.maybe_flush(hub, false);
                }
            },
            _ = tick.tick() => {
                expire(&pending, hub, &mut local);
                local.maybe_flush(hub, false);
            }
        }
    };
    if !closing.load(Ordering::Acquire) {
        fail_all(&pending, end_kind, hub, &mut local);
    }
    local.maybe_flush(hub, true);
}

fn expire(pending: &PendingMap, hub: &Hub, local: &mut Local) {
    let now = Instant::now();
    let expired: Vec<Pending> = {
        let mut p = lock(pending);
        let keys: Vec<i32> = p
            .iter()
            .filter(|(_, v)| v.deadline <= now)
            .map(|(k, _)| *k)
            .collect();
        keys.iter().filter_map(|k| p.remove(k)).collect()
    };
    for p in expired {
        fail(p.waiter, ErrKind::Timeout, hub, local, now);
    }
}

/// Matches one inbound command to the request waiting for it.
fn handle(
    cmd: RemotingCommand,
    body: Option<Bytes>,
    now: Instant,
    pending: &PendingMap,
    shared: &Shared,
    target: usize,
    local: &mut Local,
) {
    if !cmd.is_response() {
        // A server-initiated request (e.g. 905): nothing to match.
        return;
    }
    let Some(p) = lock(pending).remove(&cmd.opaque) else {
        // Late (already timed out) or unknown: ignore.
        return;
    };
    match p.waiter {
        Waiter::Route { topic, legacy, due } => {
            let verdict =
                shared
                    .verifier
                    .check_route(topic, target, legacy, cmd.code, body.as_deref(), now);
            record_route(local, &shared.hub, due, now, verdict);
        }
        Waiter::Notify(tx) => {
            let _ = tx.send(Ok(Reply { cmd, body, at: now }));
        }
    }
}

/// Records a verified route reply.
pub fn record_route(local: &mut Local, hub: &Hub, start: Instant, now: Instant, verdict: Verdict) {
    let outcome = match verdict {
        Verdict::Ok => Outcome::Ok,
        Verdict::InTransition => Outcome::InTransition,
        Verdict::Wrong(kind, msg) => {
            local.example(Op::Route, format!("{}: {msg}", kind.name()));
            Outcome::Err(kind)
        }
    };
    local.record(hub, Op::Route, start, now, outcome);
}
