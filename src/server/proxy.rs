//! The PROXY protocol header (HAProxy's v1 text or v2 binary form) a load
//! balancer may send before a connection's first frame. Always on, as in
//! upstream 5.x, whose `NettyRemotingServer$HandshakeHandler` looks for one on
//! every connection (`HAProxyMessageDecoder#detectProtocol`) before TLS; its
//! `HAProxyMessageHandler` then makes the header's source the channel's remote
//! address (`RemotingHelper#parseChannelRemoteAddr`). Here the address returned
//! becomes the connection's peer: its log lines, the console and the broker
//! view show it. The authentication whitelists believe it only from a socket
//! peer in `proxyProtocolTrustedAddresses` ([`super::handshake::Peer`]): any
//! client can write a header.
//!
//! The parsing is [`protocol::proxy_header`]'s; this module only reads the rest
//! of a header that has begun, under a deadline, so a slow or silent client
//! that started one cannot hold a connection slot for the whole idle timeout.
//! A client that has not begun one (its first bytes are not a prefix of either
//! signature) is left alone at once.

use std::io;
use std::net::SocketAddr;
use std::time::{Duration, Instant};

use bytes::{Buf, BytesMut};
use glommio::net::TcpStream;
use protocol::proxy_header::{self, Parse, ProxyHeaderError, Version};

use super::context::ShardContext;
use super::handshake::{read_more, ReadStop};
use super::limits::{BudgetExhausted, FrameCharge};
use crate::http::metrics::{CloseReason, FrameReject};

/// How long a begun header may take to arrive whole. Netty has no such bound
/// (a trickled header waits for the idle timeout); a real proxy sends the
/// header in its first segment, so a few seconds are plenty. A shorter
/// `frameReadTimeoutMillis` shortens it too.
pub const HEADER_DEADLINE: Duration = Duration::from_secs(3);

/// Bytes asked of the socket per read while a header is incomplete. The
/// buffer stays bounded: a header never spans more than
/// [`proxy_header::V2_MAX_HEADER`] bytes, and parsing decides before that.
const READ_CHUNK: usize = 4096;

/// Why a connection's PROXY header could not be taken.
#[derive(Debug, thiserror::Error)]
pub enum ProxyError {
    #[error("bad PROXY protocol header: {0}")]
    Malformed(#[from] ProxyHeaderError),
    #[error("PROXY protocol header incomplete after {millis} ms ({held} bytes)")]
    Timeout { millis: u128, held: usize },
    #[error("peer closed inside its PROXY protocol header ({held} bytes)")]
    PeerClosed { held: usize },
    #[error("shutdown while a PROXY protocol header was incomplete")]
    Shutdown,
    #[error("reading a PROXY protocol header failed: {0}")]
    Io(io::Error),
    #[error("incomplete-frame budget exhausted inside a PROXY protocol header ({} of {} bytes)", .0.wanted, .0.budget)]
    FrameBudget(BudgetExhausted),
}

impl ProxyError {
    /// How the connection's close is counted: a bad or late header as a bad
    /// frame, a peer leaving or a shutdown as such.
    pub fn close_reason(&self) -> CloseReason {
        match self {
            ProxyError::Malformed(_) | ProxyError::Timeout { .. } | ProxyError::FrameBudget(_) => {
                CloseReason::BadFrame
            }
            ProxyError::PeerClosed { .. } | ProxyError::Io(_) => CloseReason::Peer,
            ProxyError::Shutdown => CloseReason::Shutdown,
        }
    }
}

/// Takes a PROXY protocol header off the front of `buf` (the bytes read so far),
/// reading more from `stream` while it is incomplete, within [`HEADER_DEADLINE`].
/// `Ok(Some)` is the client's address as the header gives it; `Ok(None)` when
/// there is no header, or one that keeps the socket's own address (v1 `UNKNOWN`,
/// v2 `LOCAL` or `AF_UNSPEC`, a UNIX source, port 0: upstream's
/// `RemotingHelper#getProxyProtocolAddress` falls back in each case). Bytes after
/// the header stay in `buf`.
pub async fn take_header(
    stream: &mut TcpStream,
    buf: &mut BytesMut,
    ctx: &ShardContext,
    charge: &mut FrameCharge,
) -> Result<Option<SocketAddr>, ProxyError> {
    let mut started: Option<(Instant, Duration)> = None;
    loop {
        let parsed = proxy_header::parse(buf).inspect_err(|_| {
            ctx.stats().frame_rejected(FrameReject::Malformed);
        })?;
        match parsed {
            Parse::NotProxy => return Ok(None),
            Parse::Header(header) => {
                buf.advance(header.len);
                ctx.stats().proxy_header(header.version == Version::V2);
                let client = header.client();
                tracing::debug!(
                    shard = ctx.index,
                    version = ?header.version,
                    command = ?header.command,
                    client = ?client,
                    tlvs = header.tlvs,
                    "PROXY protocol header"
                );
                return Ok(client);
            }
            // Nothing read yet is nothing begun: the idle timeout applies.
            Parse::NeedMore if buf.is_empty() => return Ok(None),
            Parse::NeedMore => {}
        }
        let (since, limit) = *started.get_or_insert_with(|| (Instant::now(), deadline(ctx)));
        let Some(left) = limit.checked_sub(since.elapsed()) else {
            ctx.stats().frame_rejected(FrameReject::Timeout);
            return Err(ProxyError::Timeout {
                millis: limit.as_millis(),
                held: buf.len(),
            });
        };
        read_some(stream, buf, ctx, left).await?;
        charge.set_every_byte(buf.len()).map_err(|e| {
            ctx.stats().frame_rejected(FrameReject::Budget);
            ProxyError::FrameBudget(e)
        })?;
    }
}

/// [`HEADER_DEADLINE`], or `frameReadTimeoutMillis` if that is shorter.
fn deadline(ctx: &ShardContext) -> Duration {
    let frame = ctx.snapshot.load().config.frame_read_timeout_millis;
    match frame {
        0 => HEADER_DEADLINE,
        ms => HEADER_DEADLINE.min(Duration::from_millis(ms as u64)),
    }
}

/// Appends at least one byte to `buf` within `left`, unless the peer leaves or
/// the shard shuts down first.
async fn read_some(
    stream: &mut TcpStream,
    buf: &mut BytesMut,
    ctx: &ShardContext,
    left: Duration,
) -> Result<(), ProxyError> {
    let held = buf.len();
    let stop = async {
        let timer = async {
            glommio::timer::sleep(left).await;
            ProxyError::Timeout {
                millis: deadline(ctx).as_millis(),
                held,
            }
        };
        let shut = async {
            ctx.shutdown.wait().await;
            ProxyError::Shutdown
        };
        futures_lite::future::or(timer, shut).await
    };
    let got = read_more(stream, buf, READ_CHUNK, stop)
        .await
        .map_err(|e| match e {
            ReadStop::PeerClosed => ProxyError::PeerClosed { held },
            ReadStop::Io(e) => ProxyError::Io(e),
            ReadStop::Stopped(e) => e,
        });
    if matches!(got, Err(ProxyError::Timeout { .. })) {
        ctx.stats().frame_rejected(FrameReject::Timeout);
    }
    got
}
