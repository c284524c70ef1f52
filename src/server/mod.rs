//! The thread-per-core server: one glommio executor per core, each with its own
//! SO_REUSEPORT listener shard; shard 0 also runs the registry writer.
//!
//! - [`shard`]: accept loop, writer control messages and shutdown drain of a shard.
//! - [`context`]: what a shard's connections share.
//! - [`going_away`]: the stop poller, and the GO_AWAY window of a graceful shutdown.
//! - [`handshake`]: opening a connection (first bytes, PROXY header, TLS).
//! - [`proxy`]: PROXY protocol header.
//! - [`transport`]: the byte stream a connection is served over.
//! - [`tls`]: TLS on the same port.
//! - [`connection`]: frame loop of one client; [`conn_end`]: how it ended (log, counters).
//! - `gate`: the authentication check of each request (`authenticationEnabled`).
//! - [`signal`]: single-core stop signals.
//! - [`limits`]: process-wide connection and incomplete-frame limits.
//! - [`buffers`]: giving back buffers that grew for a large frame.

pub mod buffers;
pub mod conn_end;
pub mod connection;
pub mod context;
mod gate;
pub mod going_away;
pub mod handshake;
pub mod limits;
pub mod proxy;
mod read_buf;
pub mod shard;
pub mod signal;
pub mod tls;
pub mod transport;

use std::net::{SocketAddr, ToSocketAddrs};
use std::os::fd::IntoRawFd;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{mpsc, Arc};
use std::time::{Duration, Instant};

use arc_swap::ArcSwap;
use glommio::channels::shared_channel;
use glommio::{ExecutorJoinHandle, LocalExecutorBuilder, Placement};
use socket2::{Domain, Protocol, Socket, Type};

use crate::config::Config;
use crate::http::metrics::{Metrics, MetricsHandle};
use crate::kv::KvStore;
use crate::registry::snapshot::Snapshot;
use crate::registry::writer::run_writer;
use shard::{run_shard, ShardWiring};

/// io_uring memory per executor: a network server needs little (glommio's default
/// of 10 MiB x 3 rings exceeds many memlock limits).
const IO_MEMORY: usize = 1 << 20;
/// How long the writer's task queue may wait for the core; it is also the
/// longest any task queue of shard 0 runs before the executor looks at I/O again,
/// so it bounds how long a lookup on the writer's core waits behind a long
/// registration or publish. 2 ms did not lower the 10,000-broker estate's lookup
/// p99 against 10 ms (6.61 vs 6.63 ms, A/B in docs/performance/issue15.md) and
/// raised its registration p99s, so it stays at 10.
const WRITER_LATENCY: Duration = Duration::from_millis(10);
/// Writes queued per shard before senders wait (backpressure toward connections).
const WRITE_QUEUE: usize = 4096;

#[derive(Debug, thiserror::Error)]
pub enum ServerError {
    #[error("cannot resolve listen address {0}")]
    Address(String),
    #[error("cannot listen on {addr}: {source}")]
    Bind {
        addr: String,
        source: std::io::Error,
    },
    #[error("TLS: {0}")]
    Tls(#[from] tls::TlsError),
    #[error("cannot start executor {index}: {reason}")]
    Executor { index: usize, reason: String },
}

/// A started server.
pub struct Server {
    local_addr: SocketAddr,
    snapshot: Arc<ArcSwap<Snapshot>>,
    metrics: MetricsHandle,
    executors: Vec<ExecutorJoinHandle<()>>,
    stop: Arc<AtomicBool>,
}

impl Server {
    /// Binds every shard's listener, starts the executors and returns once all of
    /// them are serving. Setting `stop` starts a graceful shutdown.
    ///
    /// `config` is read here only for what is fixed at start: the executor count,
    /// the listeners and the connection limits (all from keys 318 may not change).
    /// From then on the writer owns the configuration and publishes it with every
    /// snapshot; shards and connections read it from there.
    ///
    /// `auth`: the accounts every request is checked against (`None` when
    /// `authenticationEnabled` is off), loaded by the caller so that a bad file
    /// stops the start before anything listens.
    pub fn start(
        config: Config,
        kv: KvStore,
        auth: Option<Arc<crate::auth::AuthService>>,
        stop: Arc<AtomicBool>,
    ) -> Result<Server, ServerError> {
        // Pin to the CPUs this process may use (taskset, systemd CPUAffinity or a
        // cpuset), not to CPUs 0..n: executor i runs on the i-th allowed CPU.
        let allowed = host::allowed_cpus();
        let cpus = allowed.len().max(1);
        let shards = if config.cores == 0 {
            cpus
        } else {
            config.cores
        };
        let started = Instant::now();
        // Before any snapshot or reply is encoded (protocol::json_escape says why
        // this one setting is process-wide).
        protocol::json_escape::set_process_release(config.json_compat_release);

        let listeners = bind_listeners(&config, shards)?;
        let local_addr = listeners
            .first()
            .and_then(|s| s.local_addr().ok())
            .and_then(|a| a.as_socket())
            .ok_or_else(|| ServerError::Address(config.bind_address.clone()))?;

        // Certificates are read and made here, off the shards.
        let tls = tls::TlsService::start(&config.raw_properties, stop.clone())?;
        let limits = limits::ConnLimits::new(&config);
        tracing::info!(
            max_connections = limits.max_total(),
            max_connections_per_address = limits.max_per_address(),
            "connection limits"
        );
        // From here on the configuration lives in the published snapshot: the
        // writer starts from it and owns it, shards and connections read it.
        let kv_view = Arc::new(kv.table().clone());
        let snapshot = Arc::new(ArcSwap::from_pointee(Snapshot::empty(
            Arc::new(config),
            kv_view,
            started,
        )));

        let metrics = Metrics::new(shards);

        let mut to_writer_rx = Vec::new();
        let mut control_tx = Vec::new();
        let mut wirings = Vec::new();
        for listener in listeners {
            let (wtx, wrx) = shared_channel::new_bounded(WRITE_QUEUE);
            let (ctx, crx) = shared_channel::new_bounded(1024);
            to_writer_rx.push(wrx);
            control_tx.push(ctx);
            wirings.push(ShardWiring {
                listener_fd: listener.into_raw_fd(),
                to_writer: wtx,
                control: crx,
                limits: limits.clone(),
                metrics: metrics.clone(),
                tls: tls.clone(),
                auth: auth.clone(),
            });
        }

        let (ready_tx, ready_rx) = mpsc::channel::<usize>();
        let mut executors = Vec::new();
        let mut writer_parts = Some((to_writer_rx, control_tx, kv, metrics.clone()));
        for (index, wiring) in wirings.into_iter().enumerate() {
            let placement = match allowed.get(index) {
                Some(&cpu) if shards <= allowed.len() => Placement::Fixed(cpu),
                _ => Placement::Unbound,
            };
            let snapshot = snapshot.clone();
            let stop = stop.clone();
            let ready = ready_tx.clone();

            let writer = if index == 0 {
                writer_parts.take()
            } else {
                None
            };
            let handle = LocalExecutorBuilder::new(placement)
                .name(&format!("namesrv-{index}"))
                .io_memory(IO_MEMORY)
                .spawn(move || async move {
                    let writer_task = writer.and_then(|(rxs, ctl, kv, metrics)| {
                        let writer = run_writer(
                            kv,
                            started,
                            snapshot.clone(),
                            rxs,
                            ctl,
                            stop.clone(),
                            metrics,
                        );
                        // Its own task queue: its latency bound makes the executor
                        // preempt every queue at least that often, so the writer's
                        // yields in long registrations and publishes let this core's
                        // connections in; half the shares of the connections' queue.
                        let queue = glommio::executor().create_task_queue(
                            glommio::Shares::Static(500),
                            glommio::Latency::Matters(WRITER_LATENCY),
                            "writer",
                        );
                        match glommio::spawn_local_into(writer, queue) {
                            Ok(task) => Some(task),
                            Err(e) => {
                                // Only a queue that does not exist fails, and it was
                                // just made; without a writer, stop rather than hang.
                                tracing::error!(error = %e, "cannot start the writer");
                                stop.store(true, Ordering::Relaxed);
                                None
                            }
                        }
                    });
                    run_shard(index, snapshot, wiring, stop, ready).await;
                    if let Some(task) = writer_task {
                        task.await;
                    }
                })
                .map_err(|e| ServerError::Executor {
                    index,
                    reason: e.to_string(),
                })?;
            executors.push(handle);
        }
        drop(ready_tx);

        // Executor setup errors surface only at join: wait for every shard's "ready".
        for _ in 0..shards {
            if ready_rx.recv_timeout(Duration::from_secs(10)).is_err() {
                stop.store(true, Ordering::Relaxed);
                let mut reason = "executor did not become ready".to_string();
                for h in executors {
                    if let Err(e) = h.join() {
                        reason = e.to_string();
                    }
                }
                return Err(ServerError::Executor { index: 0, reason });
            }
        }
        Ok(Server {
            local_addr,
            snapshot,
            metrics,
            executors,
            stop,
        })
    }

    pub fn local_addr(&self) -> SocketAddr {
        self.local_addr
    }

    /// The handle the lookup path loads snapshots from (for read-only views).
    pub fn snapshot(&self) -> Arc<ArcSwap<Snapshot>> {
        self.snapshot.clone()
    }

    /// The counters every shard and the writer write.
    pub fn metrics(&self) -> MetricsHandle {
        self.metrics.clone()
    }

    pub fn stop(&self) {
        self.stop.store(true, Ordering::Relaxed);
    }

    /// Waits for every executor to finish (after `stop`).
    pub fn join(self) {
        for h in self.executors {
            if let Err(e) = h.join() {
                tracing::error!(error = %e, "executor failed");
            }
        }
    }
}

/// One listening socket per shard on the same address (SO_REUSEPORT). The first
/// binds the configured port (0 = any); the rest bind the port it got.
fn bind_listeners(config: &Config, shards: usize) -> Result<Vec<Socket>, ServerError> {
    let spec = format!("{}:{}", config.bind_address, config.listen_port);
    let mut addr = spec
        .to_socket_addrs()
        .map_err(|_| ServerError::Address(spec.clone()))?
        .next()
        .ok_or_else(|| ServerError::Address(spec.clone()))?;
    let backlog = if config.server_socket_backlog > 0 {
        config.server_socket_backlog
    } else {
        1024
    };
    let mut sockets = Vec::with_capacity(shards);
    for _ in 0..shards {
        let bind_err = |source| ServerError::Bind {
            addr: addr.to_string(),
            source,
        };
        let socket = Socket::new(Domain::for_address(addr), Type::STREAM, Some(Protocol::TCP))
            .map_err(bind_err)?;
        socket.set_reuse_address(true).map_err(bind_err)?;
        socket.set_reuse_port(true).map_err(bind_err)?;
        socket.set_nonblocking(true).map_err(bind_err)?;
        // Accepted sockets inherit the listener's buffer sizes (0 = OS default).
        if config.server_socket_snd_buf_size > 0 {
            socket
                .set_send_buffer_size(config.server_socket_snd_buf_size as usize)
                .map_err(bind_err)?;
        }
        if config.server_socket_rcv_buf_size > 0 {
            socket
                .set_recv_buffer_size(config.server_socket_rcv_buf_size as usize)
                .map_err(bind_err)?;
        }
        socket.bind(&addr.into()).map_err(bind_err)?;
        socket.listen(backlog).map_err(bind_err)?;
        if addr.port() == 0 {
            if let Some(bound) = socket.local_addr().ok().and_then(|a| a.as_socket()) {
                addr = bound;
            }
        }
        sockets.push(socket);
    }
    Ok(sockets)
}
