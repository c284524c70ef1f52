//! The HTTP listener: `/metrics`, `/healthz`, `/readyz` and the console, on
//! `bindAddress`:`httpPort`.
//!
//! It runs on its own OS thread with a single-threaded tokio runtime, never on a
//! glommio shard: whatever an HTTP client does (a slowloris, a huge scrape), the
//! cores answering route lookups never wait for it. The thread also runs at a
//! lower priority, so on a core it shares with a shard the shard wins. It only
//! reads (the published snapshot, the counters); GET and HEAD only.
//!
//! - [`router`]: which page a request gets, and the refusals.
//! - [`metrics`]: the counters and the `/metrics` page.
//! - [`probes`]: readiness, for `/readyz` and `rocketmq_namesrv_ready`.
//! - [`console`]: the console and `/api`.
//! - [`stats`]: the periodic stats log line.

pub mod console;
pub mod metrics;
pub mod probes;
pub mod router;
pub mod stats;

use std::net::{SocketAddr, TcpListener, ToSocketAddrs};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Duration;

use console::ConsoleCtx;

/// Connections served at once; more are accepted and closed at once. A scraper,
/// a probe or two and a few console users need far fewer.
pub const MAX_CONNECTIONS: usize = 32;
/// How long a client may take to send a request's headers; hyper arms it when
/// it starts waiting for a head, so it also closes an idle kept-alive connection.
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

/// Counts a served connection until it is dropped.
struct Slot(Arc<AtomicUsize>);

impl Drop for Slot {
    fn drop(&mut self) {
        self.0.fetch_sub(1, Ordering::Relaxed);
    }
}

async fn accept_loop(listener: tokio::net::TcpListener, ctx: Arc<ConsoleCtx>) {
    let open = Arc::new(AtomicUsize::new(0));
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
        if open.load(Ordering::Relaxed) >= MAX_CONNECTIONS {
            tracing::debug!(%peer, "HTTP connection refused: too many open");
            drop(stream);
            continue;
        }
        open.fetch_add(1, Ordering::Relaxed);
        let slot = Slot(open.clone());
        let ctx = ctx.clone();
        tokio::spawn(async move {
            let _slot = slot;
            serve_connection(stream, ctx).await;
        });
    }
}

async fn serve_connection(stream: tokio::net::TcpStream, ctx: Arc<ConsoleCtx>) {
    let _ = stream.set_nodelay(true);
    let io = hyper_util::rt::TokioIo::new(stream);
    let service = hyper::service::service_fn(move |req| {
        let ctx = ctx.clone();
        async move { Ok::<_, std::convert::Infallible>(router::route(&req, &ctx)) }
    });
    let conn = hyper::server::conn::http1::Builder::new()
        .timer(hyper_util::rt::TokioTimer::new())
        .header_read_timeout(HEADER_READ_TIMEOUT)
        .max_buf_size(MAX_HEAD_BYTES)
        .serve_connection(io, service);
    match tokio::time::timeout(CONNECTION_LIFETIME, conn).await {
        Ok(Ok(())) => {}
        Ok(Err(e)) => tracing::debug!(error = %e, "HTTP connection ended"),
        Err(_) => tracing::debug!("HTTP connection closed at the end of its lifetime"),
    }
}
