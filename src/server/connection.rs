//! One client connection: read frames, dispatch, write the replies of a read batch
//! with one send.
//!
//! What keeps a connection from holding the server (issue 9): its unsent output is
//! bounded (past `connectionMaxPendingOutput` it is neither decoded nor read until
//! the output is sent, so TCP pushes back on the peer); sending has a deadline
//! (`connectionWriteTimeoutMillis`) and yields to a forced close at the end of a
//! shutdown's drain; a started frame has a deadline (`frameReadTimeoutMillis`) and
//! a share of the process-wide incomplete-frame budget ([`super::limits`]); a large
//! frame is read into one block of its length ([`super::read_buf`]); and buffers
//! that grew for a large frame or reply are given back ([`super::buffers`]).
//! Deadlines are checked per read batch, and only while a frame is pending; the
//! socket timeouts they set arm a timer only when an operation has to wait.
//!
//! The configuration is the one the writer published with the current snapshot:
//! a connection takes the reply serialization from it once per read batch, and
//! once at accept what 318 cannot change (the frame and output bounds) and what
//! shapes the socket (the idle, write and frame deadlines), as upstream's
//! `NettyRemotingServer#configChannel` builds a channel's `IdleStateHandler` when it
//! is opened.

use std::net::SocketAddr;
use std::rc::Rc;
use std::sync::Arc;
use std::time::{Duration, Instant};

use bytes::{Bytes, BytesMut};
use futures_lite::{AsyncReadExt, AsyncWriteExt};
use protocol::codes::{request as rq, response};
use protocol::frame::{self, next_request};
use protocol::{FrameError, RemotingCommand, SerializeType};

use super::buffers::{self, SHRINK_ABOVE};
use super::conn_end::End;
use super::context::ShardContext;
use super::handshake::Peer;
use super::limits::{ConnPermit, FrameCharge};
use super::read_buf;
use super::signal::CloseSignal;
use super::transport::Transport;
use crate::auth::policy::Denial;
use crate::config::ReplySerialize;
use crate::handlers::{self, Outcome};
use crate::registry::{ConnId, WriteOp, WriteRequest};
use crate::reply::Reply;

/// Bytes asked of the socket per read, adapted between these bounds: small for
/// lookups (the read window is zero-filled first, so its size is paid per read),
/// large while a big frame such as a registration streams in (into room reserved
/// for its whole length, [`read_buf`]).
pub(super) const MIN_READ: usize = 2 * 1024;
const MAX_READ: usize = 64 * 1024;

pub struct Connection<S: Transport> {
    id: ConnId,
    peer: Option<SocketAddr>,
    /// The address the authentication whitelists see ([`Peer::checked`]).
    checked_peer: Option<SocketAddr>,
    stream: S,
    ctx: Rc<ShardContext>,
    read_buf: BytesMut,
    write_buf: BytesMut,
    /// Whether a broker registered over this connection (its close then matters).
    registered: bool,
    /// The next read's size: twice the last read, within [MIN_READ, MAX_READ].
    read_size: usize,
    /// The read buffer held more than [`SHRINK_ABOVE`] since it was last replaced.
    read_grown: bool,
    /// When the incomplete frame at the end of the read buffer started (set only
    /// while one is pending and a frame deadline is configured).
    frame_started: Option<Instant>,
    frame_timeout: Option<Duration>,
    idle_timeout: Option<Duration>,
    write_timeout: Option<Duration>,
    frame_charge: FrameCharge,
    /// `replySerializeType` as of the current read batch.
    reply_serialize: ReplySerialize,
    /// `maxFrameLength` and `connectionMaxPendingOutput`.
    max_frame: usize,
    max_pending: usize,
    /// This connection's slot among the open connections.
    _permit: ConnPermit,
}

impl<S: Transport> Connection<S> {
    /// `peer` as [`super::handshake::open`] found it; `read_buf` holds the bytes it
    /// read and did not consume.
    pub fn new(
        id: ConnId,
        stream: S,
        peer: Peer,
        read_buf: BytesMut,
        ctx: Rc<ShardContext>,
        permit: ConnPermit,
        frame_charge: FrameCharge,
    ) -> Connection<S> {
        if let Err(e) = stream.set_nodelay(true) {
            tracing::debug!(error = %e, "set_nodelay failed");
        }
        let config = Arc::clone(&ctx.snapshot.load().config);
        let idle = config.server_channel_max_idle_time_seconds;
        let idle_timeout = (idle > 0).then(|| Duration::from_secs(idle as u64));
        let millis = |ms: usize| (ms > 0).then(|| Duration::from_millis(ms as u64));
        let write_timeout = millis(config.connection_write_timeout_millis);
        let frame_timeout = millis(config.frame_read_timeout_millis);
        if let Err(e) = stream.set_read_timeout(idle_timeout) {
            tracing::debug!(error = %e, "set_read_timeout failed");
        }
        if let Err(e) = stream.set_write_timeout(write_timeout) {
            tracing::debug!(error = %e, "set_write_timeout failed");
        }
        Connection {
            id,
            peer: peer.shown,
            checked_peer: peer.checked,
            stream,
            ctx,
            read_buf,
            write_buf: BytesMut::with_capacity(MIN_READ),
            read_size: MIN_READ,
            registered: false,
            read_grown: false,
            frame_started: None,
            frame_timeout,
            idle_timeout,
            write_timeout,
            frame_charge,
            reply_serialize: config.reply_serialize,
            // Protected from 318 (`Config::is_update_protected`): fixed per connection.
            max_frame: config.max_frame_length,
            max_pending: config.connection_max_pending_output.max(1),
            _permit: permit,
        }
    }

    /// Serves the connection until the peer leaves, an error, `close` or shutdown.
    pub async fn run(mut self, close: CloseSignal) {
        // The bytes the opening read count against the budget like any others.
        let end = match self.frame_charge.set(self.read_buf.len()) {
            Ok(()) => self.serve(&close).await,
            Err(e) => End::FrameBudget(e),
        };
        // Before anything the peer can see (the close): its budget is free again.
        self.frame_charge.release();
        end.log(
            self.id,
            self.peer,
            &self.ctx,
            self.write_timeout,
            self.frame_timeout,
        );
        // Counted before the peer can see the close, so a peer that saw it can
        // count on the metrics having it.
        end.count(&self.ctx, &close);
        let _ = self
            .stream
            .shutdown(end.closes_at_once(), &self.ctx.force_close)
            .await;
        if self.registered && !self.ctx.shutdown.is_fired() {
            let req = WriteRequest {
                op: WriteOp::ConnectionClosed,
                conn: self.id,
                reply: None,
            };
            if self.ctx.writer.send(req).await.is_err() {
                tracing::debug!(conn = self.id.0, "writer gone; close not reported");
            } else {
                self.ctx.stats().write_sent();
            }
        }
    }

    async fn serve(&mut self, close: &CloseSignal) -> End {
        loop {
            // The live configuration, read once per batch: a 318 update of the
            // reply serialization applies from the next batch of every open
            // connection on (an atomic load, no allocation; the guard is not held
            // across the awaits below).
            self.reply_serialize = self.ctx.snapshot.load().config.reply_serialize;
            // Answer the complete frames already buffered, until the output is over
            // its bound (the last reply goes whole), then send once.
            let mut bad = None;
            let mut decoded = false;
            let mut held_back = false;
            loop {
                if self.write_buf.len() >= self.max_pending {
                    held_back = true;
                    if let Some(suppressed) = self.ctx.warnings.output_bound.admit() {
                        tracing::warn!(
                            conn = self.id.0,
                            peer = ?self.peer,
                            pending = self.write_buf.len(),
                            bound = self.max_pending,
                            suppressed,
                            "connection output over its bound; not read until it is sent"
                        );
                    }
                    break;
                }
                // A long batch must not hold the core: let other connections run
                // when the executor's time slice is up (a cheap check).
                glommio::yield_if_needed().await;
                let parsed = match next_request(&mut self.read_buf, self.max_frame) {
                    Ok(Some((cmd, ty, body))) => {
                        decoded = true;
                        // The frame holds its bytes now: a grown buffer goes back
                        // before the writer is awaited, so its allocation is freed
                        // once the body is decoded. In a storm a thousand
                        // registrations wait on the writer at once, each holding
                        // a register body's worth of buffer otherwise.
                        self.shrink_read_buf();
                        self.frame_charge.unreserve();
                        self.on_frame(cmd, ty, body).await
                    }
                    Ok(None) => break,
                    Err(e) => Err(e),
                };
                if let Err(e) = parsed {
                    bad = Some(e);
                    break;
                }
            }
            if self.frame_charge.is_charged() {
                // Refunded before the replies go out, so a peer that saw its reply
                // can count on the budget being free. Shrinking never fails.
                let _ = self.frame_charge.set(self.read_buf.len());
            }
            if let Some(e) = bad {
                // Frames before the bad one were good: their answers still go out.
                if !self.write_buf.is_empty() {
                    let _ = self.flush().await;
                }
                return End::Frame(e);
            }
            if !self.write_buf.is_empty() {
                if let Err(end) = self.flush().await {
                    return end;
                }
            }
            if close.is_fired() || self.ctx.shutdown.is_fired() {
                return End::Closed;
            }
            if held_back {
                // More complete frames wait: answer them before reading anything.
                continue;
            }
            if let Err(end) = self.after_batch(decoded) {
                return end;
            }
            // Wait for bytes, or for a close/shutdown while idle.
            let len = self.read_buf.len();
            let (window, reserved) = read_buf::make_room(
                &mut self.read_buf,
                self.read_size,
                self.max_frame,
                &mut self.frame_charge,
            );
            self.read_grown |= reserved;
            self.read_buf.resize(len + window, 0);
            let read = {
                let stream = &mut self.stream;
                let buf = &mut self.read_buf[len..];
                let shutdown = self.ctx.shutdown.clone();
                futures_lite::future::or(async { Some(stream.read(buf).await) }, async {
                    futures_lite::future::or(close.wait(), shutdown.wait()).await;
                    None
                })
                .await
            };
            match read {
                None => {
                    self.read_buf.truncate(len);
                    return End::Closed;
                }
                Some(Ok(0)) => {
                    self.read_buf.truncate(len);
                    return End::PeerClosed;
                }
                Some(Ok(n)) => {
                    self.read_buf.truncate(len + n);
                    self.read_size = (n * 2).clamp(MIN_READ, MAX_READ);
                    let held = self.read_buf.len();
                    if held > SHRINK_ABOVE {
                        self.read_grown = true;
                    }
                    if let Err(e) = self.frame_charge.set(held) {
                        return End::FrameBudget(e);
                    }
                }
                Some(Err(e)) => {
                    self.read_buf.truncate(len);
                    if e.kind() == std::io::ErrorKind::TimedOut && self.frame_overdue() {
                        return End::FrameTimeout {
                            held: self.read_buf.len(),
                        };
                    }
                    return End::Io(e);
                }
            }
        }
    }

    /// Gives back a grown read buffer (once what it held is taken out).
    fn shrink_read_buf(&mut self) {
        if self.read_grown && buffers::shrink(&mut self.read_buf, MIN_READ, MIN_READ) {
            self.read_grown = false;
        }
    }

    /// Bookkeeping between a batch's replies and the next read: give back a grown
    /// read buffer and keep the frame deadline.
    fn after_batch(&mut self, decoded: bool) -> Result<(), End> {
        self.shrink_read_buf();
        let Some(limit) = self.frame_timeout else {
            return Ok(());
        };
        if self.read_buf.is_empty() {
            if self.frame_started.take().is_some() {
                let _ = self.stream.set_read_timeout(self.idle_timeout);
            }
            return Ok(());
        }
        // A frame is pending. If this batch completed one, the pending one started
        // within it; otherwise it is the same frame as before.
        let now = Instant::now();
        let started = match self.frame_started {
            Some(t) if !decoded => t,
            _ => {
                self.frame_started = Some(now);
                now
            }
        };
        let left = (started + limit).saturating_duration_since(now);
        if left.is_zero() {
            return Err(End::FrameTimeout {
                held: self.read_buf.len(),
            });
        }
        let wait = match self.idle_timeout {
            Some(idle) => idle.min(left),
            None => left,
        };
        let _ = self.stream.set_read_timeout(Some(wait));
        Ok(())
    }

    /// Whether the pending frame is past its deadline.
    fn frame_overdue(&self) -> bool {
        match (self.frame_started, self.frame_timeout) {
            (Some(started), Some(limit)) => started.elapsed() >= limit,
            _ => false,
        }
    }

    /// Sends the whole write buffer, within the write deadline, unless the
    /// shutdown's drain time runs out first. The deadline covers the whole buffer: a
    /// peer taking a few bytes now and then does not renew it.
    async fn flush(&mut self) -> Result<(), End> {
        let len = self.write_buf.len();
        let mut sent = 0;
        let mut deadline: Option<Instant> = None;
        while sent < len {
            let written = {
                let stream = &mut self.stream;
                let rest = &self.write_buf[sent..];
                let forced = &self.ctx.force_close;
                // The first branch is polled first: a send that completes at once
                // never touches the signal.
                futures_lite::future::or(async { Some(stream.write(rest).await) }, async {
                    forced.wait().await;
                    None
                })
                .await
            };
            match written {
                None => return Err(End::Forced { unsent: len - sent }),
                Some(Ok(0)) => {
                    return Err(End::Io(std::io::ErrorKind::WriteZero.into()));
                }
                Some(Ok(n)) => sent += n,
                Some(Err(e)) if e.kind() == std::io::ErrorKind::TimedOut => {
                    return Err(End::WriteTimeout { unsent: len - sent });
                }
                Some(Err(e)) => return Err(End::Io(e)),
            }
            if sent < len {
                if let Some(limit) = self.write_timeout {
                    // Slow path: the socket is full. Shorten the per-send timeout to
                    // what is left of the deadline of the whole buffer.
                    let now = Instant::now();
                    let end = *deadline.get_or_insert(now + limit);
                    let left = end.saturating_duration_since(now);
                    if left.is_zero() {
                        return Err(End::WriteTimeout { unsent: len - sent });
                    }
                    let _ = self.stream.set_write_timeout(Some(left));
                }
            }
        }
        if S::BUFFERS_OUTPUT {
            match super::transport::flush_unless(&mut self.stream, &self.ctx.force_close).await {
                None => return Err(End::Forced { unsent: 0 }),
                Some(Err(e)) if e.kind() == std::io::ErrorKind::TimedOut => {
                    return Err(End::WriteTimeout { unsent: 0 });
                }
                Some(Err(e)) => return Err(End::Io(e)),
                Some(Ok(())) => {}
            }
        }
        if deadline.is_some() {
            let _ = self.stream.set_write_timeout(self.write_timeout);
        }
        self.write_buf.clear();
        if self.write_buf.capacity() > SHRINK_ABOVE {
            buffers::shrink(&mut self.write_buf, 0, MIN_READ);
        }
        Ok(())
    }
    /// During a graceful shutdown's window: GO_AWAY instead of the answer, for the
    /// requests upstream sends it to (`going_away::reply_for`). Out of line and cold,
    /// so the frame path it sits on stays as small as before.
    #[cold]
    #[inline(never)]
    fn answer_going_away(
        &mut self,
        cmd: &RemotingCommand,
        serialize: SerializeType,
        decoded: Instant,
    ) -> bool {
        let Some(reply) = super::going_away::reply_for(cmd) else {
            return false;
        };
        let oneway = cmd.is_oneway();
        if !oneway {
            self.encode_reply(cmd, serialize, &reply);
        }
        let code = (!oneway).then_some(reply.code);
        self.ctx.stats().request(cmd.code, code, decoded.elapsed());
        true
    }

    /// A request the authentication check refused: code 16 with the reason (no
    /// answer to a oneway request), counted and logged. Cold, like GO_AWAY.
    #[cold]
    #[inline(never)]
    fn refuse(
        &mut self,
        cmd: &RemotingCommand,
        serialize: SerializeType,
        denial: Denial,
        decoded: Instant,
    ) {
        super::gate::count_refusal(&self.ctx, self.id, self.peer, cmd.code, &denial);
        if cmd.is_oneway() {
            self.ctx.stats().request(cmd.code, None, decoded.elapsed());
            return;
        }
        let reply = Reply::error(response::NO_PERMISSION, denial.remark);
        self.encode_reply(cmd, serialize, &reply);
        self.ctx
            .stats()
            .request(cmd.code, Some(reply.code), decoded.elapsed());
    }

    async fn on_frame(
        &mut self,
        cmd: RemotingCommand,
        serialize: SerializeType,
        body: Option<Bytes>,
    ) -> Result<(), FrameError> {
        if cmd.is_response() {
            // We send no requests that expect an answer; stray responses are dropped.
            tracing::debug!(
                conn = self.id.0,
                opaque = cmd.opaque,
                "unexpected response frame dropped"
            );
            return Ok(());
        }
        let oneway = cmd.is_oneway();
        let decoded = Instant::now();
        if self.ctx.going_away.is_fired() && self.answer_going_away(&cmd, serialize, decoded) {
            return Ok(());
        }
        let mut snap = self.ctx.snapshot.load();
        if let Some(auth) = &self.ctx.auth {
            let (peer, body) = (self.checked_peer, body.as_ref());
            let allowed = match super::gate::authorize(auth, &snap, peer, &cmd, body) {
                Some(verdict) => verdict,
                None => {
                    let anonymous = snap.config.anonymous_route_read;
                    let verdict = Box::pin(super::gate::authorize_off_shard(
                        auth, anonymous, peer, &cmd, body,
                    ))
                    .await;
                    // Newer tables may have been published meanwhile.
                    snap = self.ctx.snapshot.load();
                    verdict
                }
            };
            if let Err(denial) = allowed {
                drop(snap);
                self.refuse(&cmd, serialize, denial, decoded);
                return Ok(());
            }
        }
        let outcome = handlers::handle(&snap, &cmd, body);
        drop(snap);
        let ready = match outcome {
            Outcome::Reply(r) => Err(r),
            Outcome::Write(op) => Ok(op),
            // A large register body: decoded on this shard's blocking thread, so the
            // core keeps answering other connections meanwhile.
            Outcome::Decode(job) => {
                glommio::executor()
                    .spawn_blocking(move || job.run_blocking())
                    .await
            }
        };
        let reply = match ready {
            Err(r) => {
                if cmd.code == rq::REGISTER_BROKER && r.code != response::SUCCESS {
                    self.ctx.stats().registration_rejected();
                }
                r
            }
            Ok(mut op) => {
                if cmd.code == rq::REGISTER_BROKER {
                    self.registered = true;
                }
                if let Some(reg) = op.registration_mut() {
                    reg.peer = self.peer;
                }
                match self.write(op, oneway).await {
                    Some(r) => r,
                    None => {
                        self.ctx.stats().request(cmd.code, None, decoded.elapsed());
                        return Ok(());
                    }
                }
            }
        };
        if oneway {
            self.ctx.stats().request(cmd.code, None, decoded.elapsed());
        } else {
            self.encode_reply(&cmd, serialize, &reply);
            self.ctx
                .stats()
                .request(cmd.code, Some(reply.code), decoded.elapsed());
        }
        Ok(())
    }

    /// Sends a write to the writer; waits for its answer unless the request is oneway.
    async fn write(&self, op: WriteOp, oneway: bool) -> Option<Reply> {
        let (tx, rx) = if oneway {
            (None, None)
        } else {
            let (tx, rx) = futures_channel::oneshot::channel();
            (Some(tx), Some(rx))
        };
        let req = WriteRequest {
            op,
            conn: self.id,
            reply: tx,
        };
        if self.ctx.writer.send(req).await.is_err() {
            return Some(Reply::error(
                response::SYSTEM_ERROR,
                "name server is shutting down",
            ));
        }
        self.ctx.stats().write_sent();
        match rx?.await {
            Ok(r) => Some(r),
            Err(_) => Some(Reply::error(
                response::SYSTEM_ERROR,
                "name server is shutting down",
            )),
        }
    }

    fn encode_reply(&mut self, req: &RemotingCommand, req_ty: SerializeType, reply: &Reply) {
        let ty = self.reply_serialize.reply_type(req_ty);
        let mut header = RemotingCommand::response(reply.code, req.opaque, reply.remark.clone());
        header.ext_fields = reply.ext.clone();
        let body: Option<&Bytes> = reply.body.as_ref();
        frame::encode(&header, ty, body.map(|b| b.as_ref()), &mut self.write_buf);
    }
}
