//! Opening a connection, inside its own task (never in the accept loop: a silent
//! client must not hold the accepts behind it): the first bytes, a PROXY protocol
//! header ([`super::proxy`]), TLS detection on the first byte (upstream's
//! `TlsModeHandler#channelRead0`), then the frame loop ([`super::connection`]) over
//! the stream that came out, its read buffer starting with the bytes already read.

use std::io;
use std::net::SocketAddr;
use std::rc::Rc;
use std::time::Duration;

use bytes::BytesMut;
use futures_lite::AsyncReadExt;
use glommio::net::TcpStream;

use super::connection::{Connection, MIN_READ};
use super::context::ShardContext;
use super::limits::{BudgetExhausted, ConnPermit, FrameCharge};
use super::proxy::{self, ProxyError};
use super::signal::CloseSignal;
use super::tls::stream::{Prefixed, TlsStream};
use super::tls::{TlsMode, HANDSHAKE_RECORD};
use crate::http::metrics::{CloseReason, FrameReject, TlsHandshake};
use crate::registry::ConnId;

/// The byte stream a connection is served over.
pub enum Stream {
    Plain(TcpStream),
    Tls(Box<TlsStream>),
}

/// How long a TLS handshake may take (netty's `SslHandler` default).
pub const TLS_HANDSHAKE_TIMEOUT: Duration = Duration::from_secs(10);

/// An opened connection.
pub struct Opened {
    pub stream: Stream,
    pub peer: Peer,
    /// Bytes read and not yet consumed: the start of the first frame.
    pub buf: BytesMut,
}

/// A connection's client address, as shown and as the whitelists check it.
#[derive(Debug, Clone, Copy)]
pub struct Peer {
    /// From the PROXY header if there was one, else the socket's peer. Logs,
    /// metrics and the console show this one.
    pub shown: Option<SocketAddr>,
    /// What the authentication whitelists are matched against: the socket's own
    /// peer, or the PROXY header's source when the socket's peer is in
    /// `proxyProtocolTrustedAddresses` (anyone can write a header, so only a
    /// known load balancer may choose the address the whitelists see).
    pub checked: Option<SocketAddr>,
}

impl Peer {
    fn of(socket: Option<SocketAddr>, header: Option<SocketAddr>, ctx: &ShardContext) -> Peer {
        let Some(real) = header else {
            return Peer {
                shown: socket,
                checked: socket,
            };
        };
        let trusted = &ctx.snapshot.load().config.proxy_protocol_trusted_addresses;
        let believed = socket.is_some_and(|s| trusted.matches(s.ip()));
        Peer {
            shown: Some(real),
            checked: if believed { Some(real) } else { socket },
        }
    }
}

/// Why a connection ended before its frame loop started.
#[derive(Debug, thiserror::Error)]
pub enum OpenError {
    #[error("peer closed before sending anything")]
    PeerClosed,
    #[error("closed by the server before the first bytes arrived")]
    Closed,
    #[error("reading the first bytes failed: {0}")]
    Io(io::Error),
    #[error(transparent)]
    Proxy(#[from] ProxyError),
    #[error("plaintext connection refused: tls.server.mode=enforcing")]
    PlaintextRefused,
    #[error("TLS handshake failed: {0}")]
    TlsFailed(io::Error),
    #[error("TLS handshake not done within {0:?}")]
    TlsTimeout(Duration),
    #[error("incomplete-frame budget exhausted while opening ({} of {} bytes)", .0.wanted, .0.budget)]
    FrameBudget(#[from] BudgetExhausted),
}

impl OpenError {
    fn close_reason(&self) -> CloseReason {
        match self {
            OpenError::PeerClosed => CloseReason::Peer,
            OpenError::Closed => CloseReason::Shutdown,
            OpenError::Io(e) if e.kind() == io::ErrorKind::TimedOut => CloseReason::Idle,
            OpenError::Io(_) => CloseReason::Peer,
            OpenError::Proxy(e) => e.close_reason(),
            OpenError::PlaintextRefused
            | OpenError::TlsFailed(_)
            | OpenError::TlsTimeout(_)
            | OpenError::FrameBudget(_) => CloseReason::BadFrame,
        }
    }
}

/// The whole life of an accepted connection: open it, then serve its frames.
pub async fn run(
    id: ConnId,
    stream: TcpStream,
    peer: Option<SocketAddr>,
    ctx: Rc<ShardContext>,
    permit: ConnPermit,
    close: CloseSignal,
) {
    // Created here so the bytes read while opening count against the budget.
    let mut charge = permit.frame_charge();
    let opened = match open(stream, peer, &ctx, &close, &mut charge).await {
        Ok(opened) => opened,
        Err(e) => {
            let reason = match (&e, close.reason()) {
                (OpenError::Closed, Some(reason)) => reason,
                _ => e.close_reason(),
            };
            match reason {
                CloseReason::Idle => {
                    tracing::info!(conn = id.0, ?peer, "idle connection closed")
                }
                CloseReason::BadFrame => {
                    if let Some(suppressed) = ctx.opening_refused.admit() {
                        tracing::warn!(conn = id.0, ?peer, error = %e, suppressed, "connection refused while opening")
                    }
                }
                _ => {
                    tracing::debug!(conn = id.0, ?peer, error = %e, "connection closed while opening")
                }
            }
            match e {
                OpenError::TlsTimeout(_) => ctx.stats().frame_rejected(FrameReject::Timeout),
                OpenError::FrameBudget(_) => ctx.stats().frame_rejected(FrameReject::Budget),
                _ => {}
            }
            ctx.stats().closed(reason);
            return;
        }
    };
    let Opened { stream, peer, buf } = opened;
    match stream {
        Stream::Plain(s) => {
            Connection::new(id, s, peer, buf, ctx, permit, charge)
                .run(close)
                .await
        }
        Stream::Tls(s) => {
            Connection::new(id, *s, peer, buf, ctx, permit, charge)
                .run(close)
                .await
        }
    }
}

/// Reads the first bytes (under the idle deadline, like any read of an idle
/// connection), takes a PROXY header off them, and picks the stream to serve.
pub async fn open(
    mut stream: TcpStream,
    peer: Option<SocketAddr>,
    ctx: &ShardContext,
    close: &CloseSignal,
    charge: &mut FrameCharge,
) -> Result<Opened, OpenError> {
    let idle = ctx
        .snapshot
        .load()
        .config
        .server_channel_max_idle_time_seconds;
    let idle_timeout = (idle > 0).then(|| Duration::from_secs(idle as u64));
    if let Err(e) = stream.set_read_timeout(idle_timeout) {
        tracing::debug!(error = %e, "set_read_timeout failed");
    }
    let mut buf = BytesMut::with_capacity(MIN_READ);
    read_first(&mut stream, &mut buf, ctx, close).await?;
    charge.set_every_byte(buf.len())?;
    let real = proxy::take_header(&mut stream, &mut buf, ctx, charge).await?;
    let peer = Peer::of(peer, real, ctx);
    if buf.is_empty() {
        // The header was all there was so far.
        read_first(&mut stream, &mut buf, ctx, close).await?;
    }
    // What is left (the start of the first frame or ClientHello) stays charged
    // until the frame loop takes over the charge.
    charge.set_every_byte(buf.len())?;
    let Some(tls) = ctx.tls.as_deref() else {
        return Ok(Opened {
            stream: Stream::Plain(stream),
            peer,
            buf,
        });
    };
    if buf[0] != HANDSHAKE_RECORD {
        if tls.mode == TlsMode::Enforcing {
            return Err(OpenError::PlaintextRefused);
        }
        return Ok(Opened {
            stream: Stream::Plain(stream),
            peer,
            buf,
        });
    }
    let session = accept_tls(Prefixed::new(buf, stream), tls.current(), ctx, close).await?;
    Ok(Opened {
        stream: Stream::Tls(Box::new(session)),
        peer,
        buf: BytesMut::new(),
    })
}

/// The server side of a TLS handshake, within [`TLS_HANDSHAKE_TIMEOUT`].
async fn accept_tls(
    io: Prefixed,
    config: std::sync::Arc<rustls::ServerConfig>,
    ctx: &ShardContext,
    close: &CloseSignal,
) -> Result<TlsStream, OpenError> {
    enum Stop {
        Timeout,
        Closed,
    }
    let accept = futures_rustls::TlsAcceptor::from(config).accept(io);
    let shutdown = ctx.shutdown.clone();
    let stopped = async {
        let deadline = async {
            glommio::timer::sleep(TLS_HANDSHAKE_TIMEOUT).await;
            Stop::Timeout
        };
        let closed = async {
            futures_lite::future::or(close.wait(), shutdown.wait()).await;
            Stop::Closed
        };
        Err(futures_lite::future::or(deadline, closed).await)
    };
    let (result, count) = match futures_lite::future::or(async { Ok(accept.await) }, stopped).await
    {
        Ok(Ok(session)) => (Ok(session), Some(TlsHandshake::Ok)),
        Ok(Err(e)) => (Err(OpenError::TlsFailed(e)), Some(TlsHandshake::Failed)),
        Err(Stop::Timeout) => (
            Err(OpenError::TlsTimeout(TLS_HANDSHAKE_TIMEOUT)),
            Some(TlsHandshake::Timeout),
        ),
        Err(Stop::Closed) => (Err(OpenError::Closed), None),
    };
    if let Some(count) = count {
        ctx.stats().tls_handshake(count);
    }
    result
}

/// The first bytes of a connection, under the idle deadline, unless it is closed
/// or the shard shuts down first.
async fn read_first(
    stream: &mut TcpStream,
    buf: &mut BytesMut,
    ctx: &ShardContext,
    close: &CloseSignal,
) -> Result<(), OpenError> {
    let stop = futures_lite::future::or(close.wait(), ctx.shutdown.wait());
    read_more(stream, buf, MIN_READ, stop)
        .await
        .map_err(|e| match e {
            ReadStop::PeerClosed => OpenError::PeerClosed,
            ReadStop::Io(e) => OpenError::Io(e),
            ReadStop::Stopped(()) => OpenError::Closed,
        })
}

/// How a read while opening ended without a byte.
pub(super) enum ReadStop<T> {
    PeerClosed,
    Io(io::Error),
    /// The caller's `stop` came first, with this.
    Stopped(T),
}

/// Appends at least one byte (at most `chunk`) to `buf`, unless the peer leaves,
/// the read fails or `stop` completes first. Used for the first bytes and for the
/// rest of a PROXY header ([`super::proxy`]).
pub(super) async fn read_more<T>(
    stream: &mut TcpStream,
    buf: &mut BytesMut,
    chunk: usize,
    stop: impl std::future::Future<Output = T>,
) -> Result<(), ReadStop<T>> {
    let len = buf.len();
    buf.resize(len + chunk, 0);
    let read = {
        let window = &mut buf[len..];
        futures_lite::future::or(async { Ok(stream.read(window).await) }, async {
            Err(stop.await)
        })
        .await
    };
    let ended = match read {
        Ok(Ok(n)) if n > 0 => {
            buf.truncate(len + n);
            return Ok(());
        }
        Ok(Ok(_)) => ReadStop::PeerClosed,
        Ok(Err(e)) => ReadStop::Io(e),
        Err(t) => ReadStop::Stopped(t),
    };
    buf.truncate(len);
    Err(ended)
}
