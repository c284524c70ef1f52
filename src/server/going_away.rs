//! The graceful shutdown window (`enableShutdownGracefully`): from the stop signal
//! on, requests are answered GO_AWAY for `shutdownWaitTimeSeconds`, so 5.x clients
//! move to another name server before this one closes its connections.
//!
//! Upstream: `NettyRemotingServer#shutdown` sets `isShuttingDown` and sleeps the
//! wait time before closing its event loops; meanwhile
//! `NettyRemotingAbstract#processRequestCommand` answers every request whose
//! version is above V5_3_1 with GO_AWAY (older clients do not know the code and
//! are served as usual). Oneway requests get no answer and are not processed.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::Duration;

use arc_swap::ArcSwap;
use protocol::codes::{response, version};
use protocol::RemotingCommand;

use super::signal::Signal;
use crate::registry::snapshot::Snapshot;
use crate::reply::Reply;

/// The remark upstream's GO_AWAY carries.
const REMARK: &str = "please go away";

/// Polls the process-wide stop flag (set by the signal handler); once it is set,
/// opens the GO_AWAY window if configured, then fires `shutdown`.
pub async fn watch_stop(
    stop: Arc<AtomicBool>,
    snapshot: Arc<ArcSwap<Snapshot>>,
    going_away: Signal,
    shutdown: Signal,
) {
    while !stop.load(Ordering::Relaxed) {
        glommio::timer::sleep(Duration::from_millis(50)).await;
    }
    let config = Arc::clone(&snapshot.load().config);
    if config.enable_shutdown_gracefully {
        // A negative wait makes upstream's `Thread.sleep` throw: no wait there either.
        let secs = u64::try_from(config.shutdown_wait_time_seconds).unwrap_or(0);
        tracing::debug!(wait_s = secs, "shutting down gracefully: answering GO_AWAY");
        going_away.fire();
        glommio::timer::sleep(Duration::from_secs(secs)).await;
    }
    shutdown.fire();
}

/// The GO_AWAY answer to `cmd` during the window, or `None` when its client is
/// too old to know the code and is served as usual.
pub fn reply_for(cmd: &RemotingCommand) -> Option<Reply> {
    (cmd.version > version::V5_3_1).then(|| Reply::error(response::GO_AWAY, REMARK))
}
