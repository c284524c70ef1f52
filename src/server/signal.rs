//! A one-shot, single-core "stop" signal (shutdown of a shard, close of a connection).

use std::cell::Cell;
use std::rc::Rc;

use event_listener::Event;

use crate::http::metrics::CloseReason;

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

/// A connection's close signal, carrying why it was fired, so the close is
/// counted under the reason of whoever closed it, not guessed.
#[derive(Clone, Default)]
pub struct CloseSignal {
    signal: Signal,
    reason: Rc<Cell<Option<CloseReason>>>,
}

impl CloseSignal {
    pub fn fire(&self, reason: CloseReason) {
        if self.reason.get().is_none() {
            self.reason.set(Some(reason));
        }
        self.signal.fire();
    }

    pub fn is_fired(&self) -> bool {
        self.signal.is_fired()
    }

    /// The reason of the first [`fire`](Self::fire), if fired.
    pub fn reason(&self) -> Option<CloseReason> {
        self.reason.get()
    }

    pub async fn wait(&self) {
        self.signal.wait().await
    }
}
