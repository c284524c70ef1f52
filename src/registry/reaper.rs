//! Frees what the writer lets go of on a thread of its own.
//!
//! After a publish that replaced many routes, the old snapshot alone owns them,
//! and freeing tens of thousands of allocations would hold the writer's core. They
//! went to the executor's blocking thread before, but that one thread also decodes
//! large register bodies (`Outcome::Decode`) and runs authorization lookups, first
//! come first served: in a registration burst an old snapshot waited behind up to a
//! dozen 10,000-topic decodes, and the next publishes piled theirs behind it, each
//! keeping the parts its publish had replaced. This thread does nothing else, so an
//! old snapshot is freed as soon as the last reader lets go of it.

use std::sync::mpsc;

/// The writer's end of the reaping thread; the thread ends with it.
pub struct Reaper {
    tx: Option<mpsc::Sender<Box<dyn Send>>>,
}

impl Reaper {
    /// Starts the thread (it inherits the caller's CPU placement, as the
    /// executor's blocking thread did). Without one, values are dropped in place.
    pub fn spawn() -> Reaper {
        let (tx, rx) = mpsc::channel::<Box<dyn Send>>();
        let spawned = std::thread::Builder::new()
            .name("namesrv-reaper".into())
            .spawn(move || rx.into_iter().for_each(drop));
        match spawned {
            Ok(_) => Reaper { tx: Some(tx) },
            Err(e) => {
                tracing::warn!(error = %e, "no reaper thread; old snapshots are freed on the writer");
                Reaper { tx: None }
            }
        }
    }

    /// Drops `value` on the reaping thread.
    pub fn drop_later<T: Send + 'static>(&self, value: T) {
        if let Some(tx) = &self.tx {
            // A send fails only once the thread is gone; the value then drops here.
            let _ = tx.send(Box::new(value));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Reports whether it was dropped on another thread than the one that made it.
    struct Probe(std::thread::ThreadId, mpsc::Sender<bool>);

    impl Drop for Probe {
        fn drop(&mut self) {
            let _ = self.1.send(std::thread::current().id() != self.0);
        }
    }

    #[test]
    fn values_are_dropped_on_the_thread() {
        let reaper = Reaper::spawn();
        let (tx, rx) = mpsc::channel();
        reaper.drop_later(Probe(std::thread::current().id(), tx));
        assert_eq!(rx.recv(), Ok(true));
    }
}
