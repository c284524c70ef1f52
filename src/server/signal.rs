//! A one-shot, single-core "stop" signal (shutdown of a shard, close of a connection).

use std::cell::Cell;
use std::rc::Rc;

use event_listener::Event;

/// Set once, awaited by many tasks of one executor.
#[derive(Clone, Default)]
pub struct Signal {
    inner: Rc<(Cell<bool>, Event)>,
}

impl Signal {
    pub fn new() -> Self {
        Signal::default()
    }

    pub fn fire(&self) {
        self.inner.0.set(true);
        self.inner.1.notify(usize::MAX);
    }

    pub fn is_fired(&self) -> bool {
        self.inner.0.get()
    }

    /// Resolves once [`fire`](Self::fire) has been called.
    pub async fn wait(&self) {
        loop {
            if self.is_fired() {
                return;
            }
            let listener = self.inner.1.listen();
            if self.is_fired() {
                return;
            }
            listener.await;
        }
    }
}
