//! What every connection of a shard shares: the published snapshot (and with it
//! the live configuration), the shard's writer sender, its stop signals, the
//! process-wide limits and the close signals of its live connections.
//!
//! Its own module so that the accept loop ([`super::shard`]) and the connections
//! ([`super::connection`]) both depend on it and not on each other.

use std::cell::{Cell, RefCell};
use std::collections::HashMap;
use std::sync::Arc;

use arc_swap::ArcSwap;
use glommio::channels::shared_channel::ConnectedSender;

use super::limits::{ConnLimits, LimitWarnings, RateLimitedWarn};
use super::signal::{CloseSignal, Signal};
use super::tls::TlsService;
use crate::auth::AuthService;
use crate::http::metrics::CloseReason;
use crate::http::metrics::{MetricsHandle, ShardMetrics};
use crate::registry::snapshot::Snapshot;
use crate::registry::{ConnId, WriteRequest};

/// What every connection of a shard shares. It holds no copy of the
/// configuration: the writer owns it and publishes it with every snapshot
/// (`snapshot.load().config`), so a 318 update reaches every reader at once.
pub struct ShardContext {
    pub index: usize,
    pub snapshot: Arc<ArcSwap<Snapshot>>,
    pub writer: ConnectedSender<WriteRequest>,
    pub shutdown: Signal,
    /// Fired when a graceful shutdown begins (`enableShutdownGracefully`): requests
    /// are answered GO_AWAY until `shutdown` fires ([`super::going_away`]).
    pub going_away: Signal,
    /// Fired when a shutdown's drain time is up: connections still sending stop.
    pub force_close: Signal,
    /// Connection and frame limits shared by every shard.
    pub limits: Arc<ConnLimits>,
    /// This shard's rate-limited warnings of those limits.
    pub warnings: LimitWarnings,
    /// TLS on this port (`None`: `tls.server.mode=disabled`).
    pub tls: Option<Arc<TlsService>>,
    /// Rate-limits the warnings of connections refused while opening (TLS, PROXY).
    pub opening_refused: RateLimitedWarn,
    /// The accounts requests are checked against (`None`: `authenticationEnabled=false`).
    pub auth: Option<Arc<AuthService>>,
    /// Rate-limits the warnings of requests the authentication check refused.
    pub denied: RateLimitedWarn,
    /// The process's counters; this shard writes only its own cells.
    metrics: MetricsHandle,
    /// Close signals of live connections, so the writer can close an expired broker's.
    conns: RefCell<HashMap<ConnId, CloseSignal>>,
    next_conn: Cell<u64>,
}

/// The process's stop signals as one shard sees them.
pub struct StopSignals {
    /// The process stops: every connection is closed.
    pub shutdown: Signal,
    /// The graceful drain began: requests are answered with GO_AWAY.
    pub going_away: Signal,
}

impl ShardContext {
    pub fn new(
        index: usize,
        snapshot: Arc<ArcSwap<Snapshot>>,
        writer: ConnectedSender<WriteRequest>,
        stop: StopSignals,
        limits: Arc<ConnLimits>,
        metrics: MetricsHandle,
        tls: Option<Arc<TlsService>>,
    ) -> ShardContext {
        ShardContext {
            index,
            snapshot,
            writer,
            shutdown: stop.shutdown,
            going_away: stop.going_away,
            force_close: Signal::new(),
            limits,
            warnings: LimitWarnings::default(),
            tls,
            opening_refused: RateLimitedWarn::default(),
            auth: None,
            denied: RateLimitedWarn::default(),
            metrics,
            conns: RefCell::new(HashMap::new()),
            next_conn: Cell::new(1),
        }
    }

    /// Checks requests against `auth` (`authenticationEnabled=true`).
    pub fn with_auth(mut self, auth: Option<Arc<AuthService>>) -> ShardContext {
        self.auth = auth;
        self
    }

    /// This shard's counters (written by this shard's executor only).
    pub fn stats(&self) -> &ShardMetrics {
        self.metrics.shard(self.index)
    }

    /// A new connection's id and the signal that closes it (kept until
    /// [`ShardContext::forget`]).
    pub fn enroll(&self) -> (ConnId, CloseSignal) {
        let seq = self.next_conn.get();
        self.next_conn.set(seq + 1);
        let id = ConnId::new(self.index, seq);
        let close = CloseSignal::default();
        self.conns.borrow_mut().insert(id, close.clone());
        (id, close)
    }

    /// Drops a finished connection's close signal.
    pub fn forget(&self, id: ConnId) {
        self.conns.borrow_mut().remove(&id);
    }

    /// Fires the close signal of connection `id` for `reason`; false if it is
    /// not open here.
    pub fn close(&self, id: ConnId, reason: CloseReason) -> bool {
        match self.conns.borrow().get(&id) {
            Some(sig) => {
                sig.fire(reason);
                true
            }
            None => false,
        }
    }

    /// Connections still open on this shard.
    pub fn open_connections(&self) -> usize {
        self.conns.borrow().len()
    }
}
