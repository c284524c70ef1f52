//! `/healthz` and `/readyz`: liveness is "this thread answers"; readiness is
//! "route lookups are answered with routes".

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;

use arc_swap::ArcSwap;

use crate::registry::snapshot::Snapshot;

/// Whether route lookups are served: not during the `needWaitForService` window
/// (the lookup handler answers "name server not ready" then, as upstream's
/// `ClientRequestProcessor#processRequest` does), and not from the moment a
/// shutdown begins (SIGTERM sets the stop flag), so a load balancer takes this
/// instance out before its connections are drained.
#[derive(Clone)]
pub struct Readiness {
    stop: Arc<AtomicBool>,
    snapshot: Arc<ArcSwap<Snapshot>>,
}

impl Readiness {
    pub fn new(stop: Arc<AtomicBool>, snapshot: Arc<ArcSwap<Snapshot>>) -> Readiness {
        Readiness { stop, snapshot }
    }

    pub fn is_ready(&self) -> bool {
        if self.stop.load(Ordering::Relaxed) {
            return false;
        }
        self.snapshot.load().serves_routes()
    }
}
