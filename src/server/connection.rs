//! One client connection: read frames, dispatch, write the replies of a read batch
//! with one send.

use std::net::SocketAddr;
use std::rc::Rc;
use std::time::Duration;

use bytes::{Buf, Bytes, BytesMut};
use futures_lite::{AsyncReadExt, AsyncWriteExt};
use glommio::net::TcpStream;
use protocol::codes::{request as rq, response};
use protocol::frame::{self, Frame, FrameError};
use protocol::{RemotingCommand, SerializeType};

use super::shard::ShardContext;
use super::signal::Signal;
use crate::config::ReplySerialize;
use crate::handlers::{self, Outcome};
use crate::registry::{ConnId, WriteOp, WriteRequest};
use crate::reply::Reply;

/// Bytes asked of the socket per read, adapted between these bounds: small for
/// lookups (the read window is zero-filled first, so its size is paid per read),
/// large while a big frame such as a registration streams in.
const MIN_READ: usize = 2 * 1024;
const MAX_READ: usize = 64 * 1024;

/// Why a connection ended (for the log line).
#[derive(Debug)]
enum End {
    PeerClosed,
    Io(std::io::Error),
    Frame(FrameError),
    Closed,
}

pub struct Connection {
    id: ConnId,
    peer: Option<SocketAddr>,
    stream: TcpStream,
    ctx: Rc<ShardContext>,
    read_buf: BytesMut,
    write_buf: BytesMut,
    /// Whether a broker registered over this connection (its close then matters).
    registered: bool,
    /// The next read's size: twice the last read, within [MIN_READ, MAX_READ].
    read_size: usize,
}

impl Connection {
    pub fn new(id: ConnId, stream: TcpStream, ctx: Rc<ShardContext>) -> Connection {
        let peer = stream.peer_addr().ok();
        if let Err(e) = stream.set_nodelay(true) {
            tracing::debug!(error = %e, "set_nodelay failed");
        }
        let idle = ctx.config.server_channel_max_idle_time_seconds;
        if idle > 0 {
            if let Err(e) = stream.set_read_timeout(Some(Duration::from_secs(idle as u64))) {
                tracing::debug!(error = %e, "set_read_timeout failed");
            }
        }
        Connection {
            id,
            peer,
            stream,
            ctx,
            read_buf: BytesMut::with_capacity(MIN_READ),
            write_buf: BytesMut::with_capacity(MIN_READ),
            read_size: MIN_READ,
            registered: false,
        }
    }

    /// Serves the connection until the peer leaves, an error, `close` or shutdown.
    pub async fn run(mut self, close: Signal) {
        let end = self.serve(&close).await;
        match &end {
            End::PeerClosed | End::Closed => {
                tracing::debug!(conn = self.id.0, peer = ?self.peer, reason = ?end, "connection closed")
            }
            End::Io(e) if e.kind() == std::io::ErrorKind::TimedOut => {
                tracing::info!(conn = self.id.0, peer = ?self.peer, "idle connection closed")
            }
            End::Io(e) => {
                tracing::debug!(conn = self.id.0, peer = ?self.peer, error = %e, "connection error")
            }
            End::Frame(e) => {
                tracing::warn!(conn = self.id.0, peer = ?self.peer, error = %e, "bad frame; connection closed")
            }
        }
        let _ = self.stream.shutdown(std::net::Shutdown::Both).await;
        if self.registered && !self.ctx.shutdown.is_fired() {
            let req = WriteRequest {
                op: WriteOp::ConnectionClosed,
                conn: self.id,
                reply: None,
            };
            if self.ctx.writer.send(req).await.is_err() {
                tracing::debug!(conn = self.id.0, "writer gone; close not reported");
            }
        }
    }

    async fn serve(&mut self, close: &Signal) -> End {
        let max = self.ctx.config.max_frame_length;
        loop {
            // Answer every complete frame already buffered, then send once.
            let mut bad = None;
            loop {
                let parsed = match next_request(&mut self.read_buf, max) {
                    Ok(Some((cmd, ty, body))) => self.on_frame(cmd, ty, body).await,
                    Ok(None) => break,
                    Err(e) => Err(e),
                };
                if let Err(e) = parsed {
                    bad = Some(e);
                    break;
                }
            }
            if let Some(e) = bad {
                // Frames before the bad one were good: their answers still go out.
                if !self.write_buf.is_empty() {
                    let _ = self.stream.write_all(&self.write_buf).await;
                }
                return End::Frame(e);
            }
            if !self.write_buf.is_empty() {
                if let Err(e) = self.stream.write_all(&self.write_buf).await {
                    return End::Io(e);
                }
                self.write_buf.clear();
            }
            if close.is_fired() || self.ctx.shutdown.is_fired() {
                return End::Closed;
            }
            // Wait for bytes, or for a close/shutdown while idle.
            let len = self.read_buf.len();
            self.read_buf.resize(len + self.read_size, 0);
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
                }
                Some(Err(e)) => return End::Io(e),
            }
        }
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
        let outcome = {
            let snap = self.ctx.snapshot.load();
            handlers::handle(&snap, &cmd, body)
        };
        let outcome = match outcome {
            // A large register body: decoded on this shard's blocking thread, so the
            // core keeps answering other connections meanwhile.
            Outcome::Decode(job) => {
                glommio::executor()
                    .spawn_blocking(move || job.run_blocking())
                    .await
            }
            other => other,
        };
        let reply = match outcome {
            Outcome::Reply(r) => r,
            Outcome::Decode(_) => Reply::system_error("register body decode not completed"),
            Outcome::Write(op) => {
                if cmd.code == rq::REGISTER_BROKER {
                    self.registered = true;
                }
                match self.write(op, oneway).await {
                    Some(r) => r,
                    None => return Ok(()),
                }
            }
        };
        if !oneway {
            self.encode_reply(&cmd, serialize, &reply);
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
        match rx?.await {
            Ok(r) => Some(r),
            Err(_) => Some(Reply::error(
                response::SYSTEM_ERROR,
                "name server is shutting down",
            )),
        }
    }

    fn encode_reply(&mut self, req: &RemotingCommand, req_ty: SerializeType, reply: &Reply) {
        let ty = match self.ctx.config.reply_serialize {
            ReplySerialize::Json => SerializeType::Json,
            ReplySerialize::Rocketmq => SerializeType::Rocketmq,
            ReplySerialize::Mirror => req_ty,
        };
        let mut header = RemotingCommand::response(reply.code, req.opaque, reply.remark.clone());
        header.ext_fields = reply.ext.clone();
        let body: Option<&Bytes> = reply.body.as_ref();
        frame::encode(&header, ty, body.map(|b| b.as_ref()), &mut self.write_buf);
    }
}

/// Takes the next complete request off the front of `buf`: its decoded header,
/// serialize type and body.
///
/// A frame without a body (every route lookup) is decoded where it lies and then
/// skipped. Splitting it off with [`Frame::parse`] would turn the read buffer
/// into a shared, reference-counted one: an allocation and two atomic operations
/// per request, and a copy of the unread rest at the next read. Frames with a
/// body, incomplete frames and every error case go through [`Frame::parse`],
/// which validates them.
fn next_request(
    buf: &mut BytesMut,
    max: usize,
) -> Result<Option<(RemotingCommand, SerializeType, Option<Bytes>)>, FrameError> {
    if buf.len() >= 8 {
        let total = u32::from_be_bytes([buf[0], buf[1], buf[2], buf[3]]) as usize;
        let info = u32::from_be_bytes([buf[4], buf[5], buf[6], buf[7]]);
        let hdr_len = (info & 0x00FF_FFFF) as usize;
        if total >= 4
            && hdr_len == total - 4
            && total.saturating_add(4) <= max
            && buf.len() >= total + 4
        {
            if let Some(ty) = SerializeType::from_byte((info >> 24) as u8) {
                let cmd = RemotingCommand::decode_header(ty, &buf[8..8 + hdr_len])?;
                buf.advance(total + 4);
                return Ok(Some((cmd, ty, None)));
            }
        }
    }
    match Frame::parse(buf, max)? {
        Some(frame) => {
            let cmd = frame.command()?;
            Ok(Some((cmd, frame.serialize, frame.body)))
        }
        None => Ok(None),
    }
}
