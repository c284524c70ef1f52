//! How a connection ended, and what its end leaves behind: one log line (the
//! warnings rate-limited per shard) and the close counters.

use std::net::SocketAddr;
use std::time::Duration;

use protocol::FrameError;

use super::context::ShardContext;
use super::limits::BudgetExhausted;
use super::signal::CloseSignal;
use crate::http::metrics::{CloseReason, FrameReject};
use crate::registry::ConnId;

/// Why a connection ended (for the log line).
#[derive(Debug)]
pub(super) enum End {
    PeerClosed,
    Io(std::io::Error),
    Frame(FrameError),
    Closed,
    /// The peer did not take its replies within the write deadline.
    WriteTimeout {
        unsent: usize,
    },
    /// A started frame did not complete within the frame deadline.
    FrameTimeout {
        held: usize,
    },
    /// The incomplete-frame budget of the process would be exceeded.
    FrameBudget(BudgetExhausted),
    /// The shutdown's drain time ran out while replies were still unsent.
    Forced {
        unsent: usize,
    },
}

/// A deadline as the config key gives it, in milliseconds (0 = none), for logs.
fn millis_of(limit: Option<Duration>) -> u128 {
    limit.map_or(0, |d| d.as_millis())
}

impl End {
    /// Whether the socket is shut at once, without a TLS session's goodbye: its
    /// peer stopped taking bytes, or the shutdown's drain is over.
    pub(super) fn closes_at_once(&self) -> bool {
        matches!(self, End::Forced { .. } | End::WriteTimeout { .. })
    }

    /// The connection's one line about its end.
    pub(super) fn log(
        &self,
        id: ConnId,
        peer: Option<SocketAddr>,
        ctx: &ShardContext,
        write_timeout: Option<Duration>,
        frame_timeout: Option<Duration>,
    ) {
        match self {
            End::PeerClosed | End::Closed => {
                tracing::debug!(conn = id.0, peer = ?peer, reason = ?self, "connection closed")
            }
            End::Io(e) if e.kind() == std::io::ErrorKind::TimedOut => {
                tracing::info!(conn = id.0, peer = ?peer, "idle connection closed")
            }
            End::Io(e) => {
                tracing::debug!(conn = id.0, peer = ?peer, error = %e, "connection error")
            }
            End::Frame(e) => {
                tracing::warn!(conn = id.0, peer = ?peer, error = %e, "bad frame; connection closed")
            }
            End::WriteTimeout { unsent } => {
                if let Some(suppressed) = ctx.warnings.write_timeout.admit() {
                    tracing::warn!(
                        conn = id.0,
                        peer = ?peer,
                        unsent,
                        timeout_ms = millis_of(write_timeout),
                        suppressed,
                        "peer did not take its replies within the write deadline; connection closed"
                    )
                }
            }
            End::FrameTimeout { held } => {
                if let Some(suppressed) = ctx.warnings.frame_timeout.admit() {
                    tracing::warn!(
                        conn = id.0,
                        peer = ?peer,
                        held,
                        timeout_ms = millis_of(frame_timeout),
                        suppressed,
                        "frame not completed within the frame deadline; connection closed"
                    )
                }
            }
            End::FrameBudget(e) => {
                if let Some(suppressed) = ctx.warnings.frame_budget.admit() {
                    tracing::warn!(
                        conn = id.0,
                        peer = ?peer,
                        wanted = e.wanted,
                        budget = e.budget,
                        suppressed,
                        "incomplete-frame budget exhausted; connection closed"
                    )
                }
            }
            End::Forced { unsent } => {
                tracing::debug!(conn = id.0, peer = ?peer, unsent, "connection closed at the end of the shutdown drain")
            }
        }
    }

    /// Counts the connection's end (and a refused frame that caused it).
    pub(super) fn count(&self, ctx: &ShardContext, close: &CloseSignal) {
        let stats = ctx.stats();
        let reason = match self {
            End::PeerClosed => CloseReason::Peer,
            End::Io(e) if e.kind() == std::io::ErrorKind::TimedOut => CloseReason::Idle,
            End::Io(_) => CloseReason::Peer,
            End::Frame(e) => {
                stats.frame_rejected(match e {
                    FrameError::TooLong { .. } => FrameReject::TooLong,
                    _ => FrameReject::Malformed,
                });
                CloseReason::BadFrame
            }
            End::FrameTimeout { .. } => {
                stats.frame_rejected(FrameReject::Timeout);
                CloseReason::BadFrame
            }
            End::FrameBudget(_) => {
                stats.frame_rejected(FrameReject::Budget);
                CloseReason::BadFrame
            }
            End::WriteTimeout { .. } => CloseReason::Limit,
            End::Forced { .. } => CloseReason::Shutdown,
            // Closed by its close signal (for the reason its sender gave) or by
            // the shutdown.
            End::Closed => match close.reason() {
                Some(reason) => reason,
                None => CloseReason::Shutdown,
            },
        };
        stats.closed(reason);
    }
}
