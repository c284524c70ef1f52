//! One executor's share of the server: its listener, its accept loop, the
//! control messages from the writer, and the shutdown drain of its connections.

use std::os::fd::RawFd;
use std::rc::Rc;
use std::sync::atomic::AtomicBool;
use std::sync::Arc;
use std::time::Duration;

use arc_swap::ArcSwap;
use glommio::channels::shared_channel::{SharedReceiver, SharedSender};
use glommio::net::TcpListener;
use glommio::sync::Gate;

use super::context::{ShardContext, StopSignals};
use super::handshake;
use super::limits::ConnLimits;
use super::signal::Signal;
use crate::http::metrics::{CloseReason, MetricsHandle};
use crate::registry::snapshot::Snapshot;
use crate::registry::{ShardControl, WriteRequest};

/// The channel ends a shard is started with.
pub struct ShardWiring {
    pub listener_fd: RawFd,
    pub to_writer: SharedSender<WriteRequest>,
    pub control: SharedReceiver<ShardControl>,
    pub limits: Arc<ConnLimits>,
    pub metrics: MetricsHandle,
    pub tls: Option<Arc<super::tls::TlsService>>,
    pub auth: Option<Arc<crate::auth::AuthService>>,
}

/// Runs one shard until `stop` is set and its connections have finished.
pub async fn run_shard(
    index: usize,
    snapshot: Arc<ArcSwap<Snapshot>>,
    wiring: ShardWiring,
    stop: Arc<AtomicBool>,
    ready: std::sync::mpsc::Sender<usize>,
) {
    // Safety: the fd is a listening socket created for this shard alone in `server::start`.
    let listener =
        unsafe { <TcpListener as std::os::fd::FromRawFd>::from_raw_fd(wiring.listener_fd) };

    // Polls the process-wide stop flag (set by the signal handler). Spawned before
    // anything else: glommio completes a shared-channel handshake only when the
    // executor wakes up for some other reason, and its 50 ms timer guarantees it.
    let shutdown = Signal::new();
    let going_away = Signal::new();
    let poller = glommio::spawn_local(super::going_away::watch_stop(
        stop,
        snapshot.clone(),
        going_away.clone(),
        shutdown.clone(),
    ))
    .detach();

    // Connect the control channel concurrently with the writer channel (see
    // `run_writer` for the order on the other side).
    let control_rx = glommio::spawn_local(wiring.control.connect());
    let writer = wiring.to_writer.connect().await;
    let control_rx = control_rx.await;
    let ctx = Rc::new(
        ShardContext::new(
            index,
            snapshot,
            writer,
            StopSignals {
                shutdown,
                going_away,
            },
            wiring.limits,
            wiring.metrics,
            wiring.tls,
        )
        .with_auth(wiring.auth),
    );
    // Serving from here on.
    let _ = ready.send(index);

    let control = {
        let ctx = ctx.clone();
        let rx = control_rx;
        glommio::spawn_local(async move {
            // Ends at shutdown too: this task holds `ctx` and with it the shard's
            // writer sender, and the writer only stops once every sender is gone.
            loop {
                let next = futures_lite::future::or(rx.recv(), async {
                    ctx.shutdown.wait().await;
                    None
                });
                let Some(msg) = next.await else { break };
                match msg {
                    ShardControl::CloseConnection(id, reason) => {
                        if ctx.close(id, reason) {
                            tracing::info!(conn = id.0, ?reason, "closing a connection");
                        }
                    }
                }
            }
        })
        .detach()
    };

    let gate = Gate::new();
    accept_loop(&listener, &ctx, &gate).await;
    drop(listener);
    // Drain: idle connections close at once, those still sending get the drain
    // time, then they are closed too (upstream's `NettyRemotingServer#shutdown`
    // is bounded the same way, by Netty's `shutdownGracefully` timeout).
    let drained = Signal::new();
    let drain_timer = glommio::spawn_local(drain_deadline(Rc::downgrade(&ctx), drained.clone()));
    if let Err(e) = gate.close().await {
        tracing::warn!(shard = index, error = %e, "waiting for connections failed");
    }
    drained.fire();
    drain_timer.await;
    // Both detached: dropping their handles leaves them to end on their own.
    drop(poller);
    drop(control);
    tracing::debug!(shard = index, "shard stopped");
}

/// Fires the shard's forced close once the shutdown's drain time is up, unless
/// `drained` fires first. Holds the context weakly: a strong reference would keep
/// the shard's writer sender, and so the writer, alive until the timer ends.
async fn drain_deadline(ctx: std::rc::Weak<ShardContext>, drained: Signal) {
    let millis = match ctx.upgrade() {
        Some(ctx) => ctx.snapshot.load().config.shutdown_timeout_millis,
        None => return,
    };
    let timer = async {
        glommio::timer::sleep(Duration::from_millis(millis as u64)).await;
        true
    };
    let done = async {
        drained.wait().await;
        false
    };
    if !futures_lite::future::or(done, timer).await {
        return;
    }
    if let Some(ctx) = ctx.upgrade() {
        let left = ctx.open_connections();
        tracing::warn!(
            shard = ctx.index,
            connections = left,
            timeout_ms = millis,
            "shutdown drain time is up; closing the connections still sending"
        );
        ctx.force_close.fire();
    }
}

async fn accept_loop(listener: &TcpListener, ctx: &Rc<ShardContext>, gate: &Gate) {
    loop {
        let accepted = futures_lite::future::or(async { Some(listener.accept().await) }, async {
            ctx.shutdown.wait().await;
            None
        })
        .await;
        let stream = match accepted {
            None => return,
            Some(Ok(s)) => s,
            Some(Err(e)) => {
                // Usually EMFILE: back off instead of spinning.
                tracing::warn!(shard = ctx.index, error = %e, "accept failed");
                glommio::timer::sleep(Duration::from_millis(100)).await;
                continue;
            }
        };
        let peer = stream.peer_addr().ok();
        let ip = peer.map(|a| a.ip());
        ctx.stats().accepted();
        let permit = match ctx.limits.admit(ip) {
            Ok(p) => p,
            Err(refused) => {
                ctx.stats().closed(CloseReason::Limit);
                // Accepted and dropped at once (closing it), so refused peers never
                // fill the listen backlog.
                if let Some(suppressed) = ctx.warnings.refused.admit() {
                    tracing::warn!(
                        shard = ctx.index,
                        peer = ?ip,
                        reason = %refused,
                        suppressed,
                        "connection refused by a connection limit"
                    );
                }
                drop(stream);
                continue;
            }
        };
        let (id, close) = ctx.enroll();
        let ctx2 = ctx.clone();
        // Opening (first bytes, PROXY header, TLS) runs in the connection's task:
        // a client that sends nothing holds only itself.
        let spawned = gate.spawn(async move {
            handshake::run(id, stream, peer, ctx2.clone(), permit, close).await;
            ctx2.forget(id);
        });
        match spawned {
            Ok(task) => {
                task.detach();
            }
            Err(e) => {
                tracing::warn!(error = %e, "could not start a connection task");
                ctx.stats().closed(CloseReason::Shutdown);
                ctx.forget(id);
            }
        }
    }
}
