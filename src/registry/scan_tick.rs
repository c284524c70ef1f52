//! The liveness scan's timer: it queues a `ScanExpired` write on the writer's
//! inbox every `scanNotActiveBrokerInterval` (upstream's `NamesrvController`
//! schedules `RouteInfoManager#scanNotActiveBroker` the same way).

use std::rc::Rc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use arc_swap::ArcSwap;
use glommio::channels::local_channel::LocalSender;

use super::snapshot::Snapshot;
use super::{ConnId, WriteOp, WriteRequest};

/// Starts the timer on the writer's core; it ends when `stop` is set or the
/// inbox is gone.
pub(super) fn spawn(
    inbox: Rc<LocalSender<WriteRequest>>,
    live: Arc<ArcSwap<Snapshot>>,
    stop: Arc<AtomicBool>,
) {
    // The period is read from the published config on every tick, so a 318 of
    // `scanNotActiveBrokerInterval` reschedules the scan (upstream's fixed-rate
    // schedule keeps the period it started with).
    let period = move || {
        Duration::from_millis(live.load().config.scan_not_active_broker_interval.max(10) as u64)
    };
    glommio::spawn_local(async move {
        let mut last = Instant::now();
        while !stop.load(Ordering::Relaxed) {
            glommio::timer::sleep(Duration::from_millis(50).min(period())).await;
            let (now, every) = (Instant::now(), period());
            if now < last + every {
                continue;
            }
            // Fixed rate while on time; after a shorter period, from now.
            last = if now < last + every * 2 {
                last + every
            } else {
                now
            };
            let req = WriteRequest {
                op: WriteOp::ScanExpired,
                conn: ConnId(u64::MAX),
                reply: None,
            };
            if inbox.send(req).await.is_err() {
                break;
            }
        }
    })
    .detach();
}
