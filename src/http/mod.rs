//! The HTTP listener: `/metrics`, `/healthz`, `/readyz` and the console, on
//! `bindAddress`:`httpPort`.
//!
//! It runs on its own OS thread with a single-threaded tokio runtime, never on a
//! glommio shard: whatever an HTTP client does (a slowloris, a huge scrape), the
//! cores answering route lookups never wait for it. The thread also runs at a
//! lower priority, so on a core it shares with a shard the shard wins. It only
//! reads (the published snapshot, the counters); GET and HEAD only.
//!
//! - [`admit`]: which connections get a slot (so probes cannot be starved).
//! - [`router`]: which page a request gets, and the refusals.
//! - [`metrics`]: the counters and the `/metrics` page.
//! - [`probes`]: readiness, for `/readyz` and `rocketmq_namesrv_ready`.
//! - [`console`]: the console and `/api`.
//! - [`stats`]: the periodic stats log line.

pub mod admit;
pub mod console;
pub mod metrics;
pub mod probes;
pub mod router;
pub mod stats;

use std::net::{SocketAddr, TcpListener, ToSocketAddrs};
use std::sync::atomic::Ordering;
use std::sync::Arc;
use std::time::Duration;

use console::ConsoleCtx;

pub use admit::MAX_CONNECTIONS;

/// How long a client may take to send a later request's headers; hyper arms it
/// when it starts waiting for a head, so it also closes an idle kept-alive
/// connection. The first head has [`admit::FIRST_HEAD_TIMEOUT`].
pub const HEADER_READ_TIMEOUT: Duration = Duration::from_secs(5);
/// The longest a connection lives (idle keep-alive included); a scraper simply
/// reconnects.
pub const CONNECTION_LIFETIME: Duration = Duration::from_secs(30);
/// Largest request head accepted.
const MAX_HEAD_BYTES: usize = 16 * 1024;
/// Nice value of the HTTP thread (the shards run at 0).
const HTTP_NICE: libc::c_int = 10;

#[derive(Debug, thiserror::Error)]
pub enum HttpError {
    #[error("cannot resolve HTTP listen address {0}")]
    Address(String),
    #[error("cannot listen for HTTP on {addr}: {source}")]
    Bind {
        addr: String,
        source: std::io::Error,
    },
    #[error("cannot start the HTTP thread: {0}")]
    Thread(std::io::Error),
}

/// A running HTTP listener (it lives as long as the process).
pub struct HttpListener {
    pub local_addr: SocketAddr,
}

/// Binds `bind_address`:`port` and serves on a new thread; `Ok(None)` when `port`
/// is negative (turned off).
pub fn start(
    bind_address: &str,
    port: i32,
    ctx: Arc<ConsoleCtx>,
) -> Result<Option<HttpListener>, HttpError> {
    if port < 0 {
        return Ok(None);
    }
    let spec = format!("{bind_address}:{port}");
    let addr = spec
        .to_socket_addrs()
        .map_err(|_| HttpError::Address(spec.clone()))?
        .next()
        .ok_or_else(|| HttpError::Address(spec.clone()))?;
    let bind_err = |source| HttpError::Bind {
        addr: addr.to_string(),
        source,
    };
    let listener = TcpListener::bind(addr).map_err(bind_err)?;
    listener.set_nonblocking(true).map_err(bind_err)?;
    let local_addr = listener.local_addr().map_err(bind_err)?;
    std::thread::Builder::new()
        .name("namesrv-http".into())
        .spawn(move || run(listener, ctx))
        .map_err(HttpError::Thread)?;
    Ok(Some(HttpListener { local_addr }))
}

fn run(listener: TcpListener, ctx: Arc<ConsoleCtx>) {
    // SAFETY: setpriority(2) only reads its arguments; with who = 0 on Linux it
    // applies to the calling thread alone.
    if unsafe { libc::setpriority(libc::PRIO_PROCESS, 0, HTTP_NICE) } != 0 {
        tracing::debug!("could not lower the HTTP thread's priority");
    }
    let runtime = match tokio::runtime::Builder::new_current_thread()
        .enable_io()
        .enable_time()
        .build()
    {
        Ok(rt) => rt,
        Err(e) => {
            tracing::error!(error = %e, "cannot start the HTTP runtime; HTTP is off");
            return;
        }
    };
    runtime.block_on(async move {
        let listener = match tokio::net::TcpListener::from_std(listener) {
            Ok(l) => l,
            Err(e) => {
                tracing::error!(error = %e, "cannot register the HTTP listener; HTTP is off");
                return;
            }
        };
        accept_loop(listener, ctx).await;
    });
}

async fn accept_loop(listener: tokio::net::TcpListener, ctx: Arc<ConsoleCtx>) {
    let admission = admit::Admission::default();
    loop {
        let (stream, peer) = match listener.accept().await {
            Ok(s) => s,
            Err(e) => {
                // Usually EMFILE: back off instead of spinning.
                tracing::warn!(error = %e, "HTTP accept failed");
                tokio::time::sleep(Duration::from_millis(100)).await;
                continue;
            }
        };
        let Some(slot) = admission.admit(peer.ip()) else {
            tracing::debug!(%peer, "HTTP connection refused: no slot free");
            drop(stream);
            continue;
        };
        let ctx = ctx.clone();
        tokio::spawn(serve_connection(stream, slot, ctx));
    }
}

async fn serve_connection(
    stream: tokio::net::TcpStream,
    mut slot: admit::Admitted,
    ctx: Arc<ConsoleCtx>,
) {
    let _ = stream.set_nodelay(true);
    let io = hyper_util::rt::TokioIo::new(stream);
    let headed = slot.headed.clone();
    let has_head = slot.headed.clone();
    let service = hyper::service::service_fn(move |req| {
        // hyper calls the service once a whole head arrived.
        headed.store(true, Ordering::Relaxed);
        let ctx = ctx.clone();
        async move { Ok::<_, std::convert::Infallible>(router::route(&req, &ctx)) }
    });
    let conn = hyper::server::conn::http1::Builder::new()
        .timer(hyper_util::rt::TokioTimer::new())
        .header_read_timeout(HEADER_READ_TIMEOUT)
        .max_buf_size(MAX_HEAD_BYTES)
        .serve_connection(io, service);
    let lifetime = tokio::time::sleep(CONNECTION_LIFETIME);
    let first_head = tokio::time::sleep(admit::FIRST_HEAD_TIMEOUT);
    tokio::pin!(conn, lifetime, first_head);
    let mut head_pending = true;
    loop {
        tokio::select! {
            r = &mut conn => {
                if let Err(e) = r {
                    tracing::debug!(error = %e, "HTTP connection ended");
                }
                return;
            }
            _ = &mut lifetime => {
                tracing::debug!("HTTP connection closed at the end of its lifetime");
                return;
            }
            _ = &mut first_head, if head_pending => {
                if !has_head.load(Ordering::Relaxed) {
                    tracing::debug!("HTTP connection closed: no request head in time");
                    return;
                }
                head_pending = false;
            }
            _ = slot.evicted() => {
                tracing::debug!("HTTP connection closed: its slot went to a newer one");
                return;
            }
        }
    }
}
