//! Which HTTP connections get a slot, so no client can starve the probes.
//!
//! A slowloris (connections that drip header bytes and never finish a head) must
//! not keep `/healthz` and `/readyz` from the kubelet, or it gets a healthy name
//! server restarted. Three rules:
//! - one source address holds at most [`PER_IP`] slots; its next connection takes
//!   the slot of its own oldest connection that has not sent a full head, or is
//!   refused;
//! - when every slot is taken, a newcomer takes the slot of the oldest
//!   connection (any source) that has not sent a full head; only when every
//!   connection has sent one is the newcomer refused;
//! - a connection gets [`FIRST_HEAD_TIMEOUT`] for its first head (the serving
//!   side enforces it), so drippers lose their slots quickly anyway.

use std::net::IpAddr;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use futures_channel::oneshot;

/// Connections served at once. A scraper, a probe or two and a few console
/// users need far fewer.
pub const MAX_CONNECTIONS: usize = 32;
/// Connections one source address may hold (a browser opens up to 6).
pub const PER_IP: usize = 8;
/// How long a new connection may take to send its first request head.
pub const FIRST_HEAD_TIMEOUT: Duration = Duration::from_secs(2);

/// One admitted connection, as the table sees it.
struct Entry {
    /// Admission order: the smallest is the oldest.
    seq: u64,
    ip: IpAddr,
    headed: Arc<AtomicBool>,
    /// Dropping it tells the connection to close (see [`Admitted::evicted`]).
    _evict: oneshot::Sender<()>,
}

#[derive(Default)]
struct Table {
    next: u64,
    entries: Vec<Entry>,
}

impl Table {
    /// Takes the oldest entry, among those `pick` accepts, that has no full head.
    fn evict_oldest(&mut self, pick: impl Fn(&Entry) -> bool) -> bool {
        let oldest = self
            .entries
            .iter()
            .enumerate()
            .filter(|(_, e)| pick(e) && !e.headed.load(Ordering::Relaxed))
            .min_by_key(|(_, e)| e.seq)
            .map(|(i, _)| i);
        match oldest {
            Some(i) => {
                // Dropping the sender wakes the connection's `evicted` future.
                drop(self.entries.swap_remove(i));
                true
            }
            None => false,
        }
    }
}

/// The slots, shared by the accept loop and the connections' guards.
#[derive(Clone, Default)]
pub struct Admission {
    table: Arc<Mutex<Table>>,
}

/// A connection's slot: released when dropped.
pub struct Admitted {
    table: Arc<Mutex<Table>>,
    seq: u64,
    /// Set by the service once a full request head arrived.
    pub headed: Arc<AtomicBool>,
    evicted: Option<oneshot::Receiver<()>>,
}

impl Admitted {
    /// Resolves when the table gave this connection's slot to another one.
    pub async fn evicted(&mut self) {
        match self.evicted.as_mut() {
            // Only the sender's drop resolves it; it never sends.
            Some(rx) => {
                let _ = rx.await;
                self.evicted = None;
            }
            None => std::future::pending::<()>().await,
        }
    }
}

impl Drop for Admitted {
    fn drop(&mut self) {
        if let Ok(mut t) = self.table.lock() {
            t.entries.retain(|e| e.seq != self.seq);
        }
    }
}

impl Admission {
    /// A slot for a connection from `ip`, or `None` when it is refused.
    pub fn admit(&self, ip: IpAddr) -> Option<Admitted> {
        let Ok(mut t) = self.table.lock() else {
            return None;
        };
        let from_ip = t.entries.iter().filter(|e| e.ip == ip).count();
        if from_ip >= PER_IP && !t.evict_oldest(|e| e.ip == ip) {
            return None;
        }
        if t.entries.len() >= MAX_CONNECTIONS && !t.evict_oldest(|_| true) {
            return None;
        }
        let seq = t.next;
        t.next += 1;
        let headed = Arc::new(AtomicBool::new(false));
        let (evict, evicted) = oneshot::channel();
        t.entries.push(Entry {
            seq,
            ip,
            headed: headed.clone(),
            _evict: evict,
        });
        Some(Admitted {
            table: self.table.clone(),
            seq,
            headed,
            evicted: Some(evicted),
        })
    }

    /// Connections holding a slot.
    pub fn open(&self) -> usize {
        self.table.lock().map_or(0, |t| t.entries.len())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ip(last: u8) -> IpAddr {
        IpAddr::from([127, 0, 0, last])
    }

    #[test]
    fn one_source_is_capped_and_evicts_its_own_oldest_headless() {
        let a = Admission::default();
        let first: Vec<_> = (0..PER_IP).map(|_| a.admit(ip(1))).collect();
        assert!(first.iter().all(Option::is_some));
        // The 9th evicts the 1st (no head yet).
        let ninth = a.admit(ip(1));
        assert!(ninth.is_some());
        assert_eq!(a.open(), PER_IP);
        let mut first = first.into_iter().flatten().collect::<Vec<_>>();
        let mut oldest = first.remove(0);
        let evicted = futures_lite::future::block_on(futures_lite::future::or(
            async {
                oldest.evicted().await;
                true
            },
            async { false },
        ));
        assert!(evicted);
        // Once all of that source's connections sent a head, its next is refused.
        for c in first.iter().chain(ninth.iter()) {
            c.headed.store(true, Ordering::Relaxed);
        }
        assert!(a.admit(ip(1)).is_none());
        // Another source is not affected.
        assert!(a.admit(ip(2)).is_some());
    }

    #[test]
    fn a_full_table_gives_the_oldest_headless_slot_to_a_newcomer() {
        let a = Admission::default();
        let held: Vec<_> = (0..MAX_CONNECTIONS)
            .map(|i| a.admit(ip(10 + (i / 4) as u8)))
            .collect();
        assert!(held.iter().all(Option::is_some));
        let probe = a.admit(ip(2)).expect("a probe gets a slot");
        probe.headed.store(true, Ordering::Relaxed);
        assert_eq!(a.open(), MAX_CONNECTIONS);
        for c in held.iter().flatten() {
            c.headed.store(true, Ordering::Relaxed);
        }
        // Every connection sent a head: nothing to evict.
        assert!(a.admit(ip(3)).is_none());
        drop(probe);
        assert_eq!(a.open(), MAX_CONNECTIONS - 1);
        assert!(a.admit(ip(3)).is_some());
    }
}
