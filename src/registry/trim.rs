//! Giving freed memory back to the OS after a large publish.
//!
//! glibc keeps what the process frees for reuse, so after a bulk fill (the old
//! snapshots' route maps, the registrations' bodies and read buffers) VmRSS stays
//! at the fill's peak although the live size is far lower. `malloc_trim(0)`
//! returns it: since glibc 2.8 it walks every arena and `madvise`s away the free
//! pages inside it, not only the top of the main heap.
//!
//! It runs on its own thread, never on a shard: it takes each arena's lock in
//! turn, and a shard allocating from that arena meanwhile waits. The writer asks
//! for it after a publish that replaced many routes, once the old snapshot is
//! freed ([`super::writer`]); requests that arrive within [`SETTLE`] of each
//! other (a fill publishes many times a second) make one trim, and trims are at
//! least `memoryTrimIntervalSeconds` apart.

use std::sync::mpsc::{self, Receiver, RecvTimeoutError, Sender};
use std::sync::{Arc, OnceLock};
use std::time::{Duration, Instant};

/// Quiet time after a request before the trim runs: long enough that a bulk
/// fill, which publishes every second or two at 1M topics, is trimmed once at
/// its end rather than in the middle (a trim there took 80-500 ms of the
/// writer's arena lock).
const SETTLE: Duration = Duration::from_secs(3);

/// The writer's handle: asks the trim thread (started on the first request) to
/// trim. Off when `memoryTrimIntervalSeconds` is 0.
#[derive(Clone, Default)]
pub struct Trim(Option<Arc<Inner>>);

struct Inner {
    interval: Duration,
    /// `None` when the thread could not be started.
    tx: OnceLock<Option<Sender<()>>>,
}

impl Trim {
    pub fn new(interval_seconds: i64) -> Trim {
        if interval_seconds <= 0 || !cfg!(all(target_os = "linux", target_env = "gnu")) {
            return Trim(None);
        }
        Trim(Some(Arc::new(Inner {
            interval: Duration::from_secs(interval_seconds as u64),
            tx: OnceLock::new(),
        })))
    }

    /// Asks for a trim soon; never blocks.
    pub fn request(&self) {
        let Some(inner) = &self.0 else { return };
        let tx = inner.tx.get_or_init(|| {
            let (tx, rx) = mpsc::channel();
            let interval = inner.interval;
            let started = std::thread::Builder::new()
                .name("namesrv-trim".into())
                .spawn(move || run(rx, interval));
            match started {
                Ok(_) => Some(tx),
                Err(e) => {
                    tracing::warn!(error = %e, "memory trim thread not started; freed memory stays with the process");
                    None
                }
            }
        });
        if let Some(tx) = tx {
            let _ = tx.send(());
        }
    }
}

/// The trim thread: ends when the writer's handles are gone.
fn run(rx: Receiver<()>, interval: Duration) {
    let mut last: Option<Instant> = None;
    while rx.recv().is_ok() {
        // Wait until the requests settle and the interval since the last trim is
        // over, taking every request that comes meanwhile.
        let mut due = Instant::now() + SETTLE;
        if let Some(t) = last {
            due = due.max(t + interval);
        }
        loop {
            let left = due.saturating_duration_since(Instant::now());
            if left.is_zero() {
                break;
            }
            match rx.recv_timeout(left) {
                Ok(()) => due = due.max(Instant::now() + SETTLE),
                Err(RecvTimeoutError::Timeout) => break,
                Err(RecvTimeoutError::Disconnected) => return,
            }
        }
        let before = resident_bytes();
        let started = Instant::now();
        let released = trim_now();
        let took = started.elapsed();
        last = Some(Instant::now());
        tracing::info!(
            took_ms = took.as_secs_f64() * 1e3,
            released,
            rss_before_mib = before / (1 << 20),
            rss_after_mib = resident_bytes() / (1 << 20),
            "freed memory returned to the OS (malloc_trim)"
        );
    }
}

/// `malloc_trim(0)`: whether glibc gave memory back.
#[cfg(all(target_os = "linux", target_env = "gnu"))]
fn trim_now() -> bool {
    // SAFETY: malloc_trim takes no pointers and is thread-safe (it locks each
    // arena while it trims it).
    unsafe { libc::malloc_trim(0) == 1 }
}

#[cfg(not(all(target_os = "linux", target_env = "gnu")))]
fn trim_now() -> bool {
    false
}

/// VmRSS in bytes (0 if `/proc/self/statm` cannot be read).
fn resident_bytes() -> u64 {
    // SAFETY: sysconf takes no pointers.
    let page = unsafe { libc::sysconf(libc::_SC_PAGESIZE) }.max(1) as u64;
    std::fs::read_to_string("/proc/self/statm")
        .ok()
        .and_then(|s| s.split_whitespace().nth(1)?.parse::<u64>().ok())
        .map_or(0, |pages| pages * page)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn zero_turns_it_off_and_requests_then_do_nothing() {
        let off = Trim::new(0);
        assert!(off.0.is_none());
        off.request();
        assert!(Trim::new(-1).0.is_none());
    }

    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    #[test]
    fn requests_start_the_trim_thread_once() {
        let on = Trim::new(30);
        let inner = on.0.as_ref().expect("on").clone();
        assert_eq!(inner.interval, Duration::from_secs(30));
        on.request();
        on.clone().request();
        assert!(matches!(inner.tx.get(), Some(Some(_))));
    }
}
