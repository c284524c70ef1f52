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
use super::limits::ConnPermit;
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
    /// The client's address: from the PROXY header if there was one, else the
    /// socket's peer. Logs, metrics and the console show this one.
    pub peer: Option<SocketAddr>,
    /// Bytes read and not yet consumed: the start of the first frame.
    pub buf: BytesMut,
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
}

impl OpenError {
    fn close_reason(&self) -> CloseReason {
        match self {
            OpenError::PeerClosed => CloseReason::Peer,
            OpenError::Closed => CloseReason::Shutdown,
            OpenError::Io(e) if e.kind() == io::ErrorKind::TimedOut => CloseReason::Idle,
            OpenError::Io(_) => CloseReason::Peer,
            OpenError::Proxy(_)
            | OpenError::PlaintextRefused
            | OpenError::TlsFailed(_)
            | OpenError::TlsTimeout(_) => CloseReason::BadFrame,
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
    let opened = match open(stream, peer, &ctx, &close).await {
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
            if let OpenError::TlsTimeout(_) = e {
                ctx.stats().frame_rejected(FrameReject::Timeout);
            }
            ctx.stats().closed(reason);
            return;
        }
    };
    let Opened { stream, peer, buf } = opened;
    match stream {
        Stream::Plain(s) => {
            Connection::new(id, s, peer, buf, ctx, permit)
                .run(close)
                .await
        }
        Stream::Tls(s) => {
            Connection::new(id, *s, peer, buf, ctx, permit)
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
    read_more(&mut stream, &mut buf, ctx, close).await?;
    let real = proxy::take_header(&mut stream, &mut buf, ctx).await?;
    let peer = real.or(peer);
    if buf.is_empty() {
        // The header was all there was so far.
        read_more(&mut stream, &mut buf, ctx, close).await?;
    }
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

/// Appends at least one byte to `buf`, unless the peer leaves, the read deadline
/// passes or the connection is closed first.
async fn read_more(
    stream: &mut TcpStream,
    buf: &mut BytesMut,
    ctx: &ShardContext,
    close: &CloseSignal,
) -> Result<(), OpenError> {
    let len = buf.len();
    buf.resize(len + MIN_READ, 0);
    let read = {
        let window = &mut buf[len..];
        let shutdown = ctx.shutdown.clone();
        futures_lite::future::or(async { Some(stream.read(window).await) }, async {
            futures_lite::future::or(close.wait(), shutdown.wait()).await;
            None
        })
        .await
    };
    match read {
        Some(Ok(n)) if n > 0 => {
            buf.truncate(len + n);
            Ok(())
        }
        other => {
            buf.truncate(len);
            Err(match other {
                None => OpenError::Closed,
                Some(Err(e)) => OpenError::Io(e),
                Some(Ok(_)) => OpenError::PeerClosed,
            })
        }
    }
}
