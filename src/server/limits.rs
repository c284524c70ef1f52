//! Process-wide limits that keep one source, or a few slow peers, from holding the
//! server: open connections (in total and per source address) and the memory of
//! incomplete frames. Shared by every shard; touched per connection and per large
//! read, never per request.
//!
//! Connections over a limit are accepted and closed at once (so the listen backlog
//! never fills with them). The total default leaves headroom under the open-files
//! limit, so accept never fails with EMFILE for everyone (upstream's
//! `NettyRemotingServer` has no such limit and does fail that way).
//!
//! Incomplete-frame budget: a connection is charged for the bytes of its pending,
//! incomplete frame once they exceed [`UNCHARGED_BYTES`] (so lookups never touch the
//! shared counter). When a read would push the process-wide total over the budget,
//! that connection is closed with a log line. We close rather than pause it: a
//! paused connection keeps its bytes and the budget stays exhausted, while closing
//! frees it at once; a broker whose registration is refused this way retries on its
//! next 30 s cycle. Peers that trickle a frame to hold budget for long are cut by
//! the frame deadline (`frameReadTimeoutMillis`).
//!
//! Reservations: a connection may allocate a large frame's whole length once its
//! length prefix is in ([`super::read_buf`]), so the buffer is not grown by
//! doubling. A prefix is 4 bytes a peer can send for free, so what those
//! reservations hold together is bounded by the same budget, separately from the
//! bytes held: a reservation the pool cannot cover is simply not made (the frame
//! then grows with its reads, as before), and never closes a connection. So
//! prefixes alone never take budget from frames whose bytes are arriving.

use std::cell::Cell;
use std::collections::HashMap;
use std::net::IpAddr;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use crate::config::Config;

/// Incomplete-frame bytes a connection may hold without being charged: about two
/// socket reads, so small frames split across reads never touch the shared counter.
pub const UNCHARGED_BYTES: usize = 128 * 1024;

/// File descriptors kept free of connections: listeners, io_uring rings, eventfds,
/// the KV and config files.
const FD_HEADROOM_MIN: u64 = 64;

/// Why a new connection was refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum Refused {
    #[error("too many connections in total (limit {limit})")]
    Total { limit: usize },
    #[error("too many connections from this address (limit {limit})")]
    PerAddress { limit: usize },
}

/// The incomplete-frame budget is used up.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("incomplete frames would hold {wanted} bytes, over the budget of {budget}")]
pub struct BudgetExhausted {
    pub wanted: usize,
    pub budget: usize,
}

/// The counters every shard shares.
#[derive(Debug)]
pub struct ConnLimits {
    max_total: usize,
    max_per_address: usize,
    open: AtomicUsize,
    per_address: Mutex<HashMap<IpAddr, usize>>,
    frame_budget: usize,
    frame_bytes: AtomicUsize,
    /// Bytes reserved ahead of their arrival (at most `frame_budget`, if set).
    reserved_bytes: AtomicUsize,
}

impl ConnLimits {
    pub fn new(config: &Config) -> Arc<ConnLimits> {
        let max_total = if config.max_connections > 0 {
            config.max_connections
        } else {
            default_max_connections()
        };
        // Auto (0): half the total. An address behind a NAT or load balancer can
        // stand for thousands of real clients, so a fixed small number would bite
        // real estates; half still leaves the other half to everyone else.
        let per_address = match config.max_connections_per_address {
            0 => (max_total / 2).max(1),
            n => n,
        };
        if per_address >= max_total {
            tracing::warn!(
                max_connections = max_total,
                max_connections_per_address = per_address,
                "the per-address connection limit does not stay below the total: one address can take every connection"
            );
        }
        let budget = config.max_incomplete_frame_bytes;
        if budget > 0 && budget < config.max_frame_length {
            tracing::warn!(
                max_incomplete_frame_bytes = budget,
                max_frame_length = config.max_frame_length,
                "the incomplete-frame budget is below the frame limit: larger frames can never arrive"
            );
        }
        Arc::new(ConnLimits {
            max_total,
            max_per_address: per_address,
            open: AtomicUsize::new(0),
            per_address: Mutex::new(HashMap::new()),
            frame_budget: config.max_incomplete_frame_bytes,
            frame_bytes: AtomicUsize::new(0),
            reserved_bytes: AtomicUsize::new(0),
        })
    }

    pub fn max_total(&self) -> usize {
        self.max_total
    }

    pub fn max_per_address(&self) -> usize {
        self.max_per_address
    }

    /// Admits a new connection from `ip` (None: address unknown, only the total
    /// counts), or says which limit it is over.
    pub fn admit(self: &Arc<Self>, ip: Option<IpAddr>) -> Result<ConnPermit, Refused> {
        let open = self.open.fetch_add(1, Ordering::Relaxed);
        if open >= self.max_total {
            self.open.fetch_sub(1, Ordering::Relaxed);
            return Err(Refused::Total {
                limit: self.max_total,
            });
        }
        let ip = match ip {
            // (The per-address limit is never 0: `new` turns 0 into its default.)
            Some(ip) => ip,
            None => {
                return Ok(ConnPermit {
                    limits: self.clone(),
                    ip: None,
                })
            }
        };
        // A poisoned lock only means another shard panicked mid-update of a counter;
        // the map is still usable.
        let mut map = self.per_address.lock().unwrap_or_else(|p| p.into_inner());
        let n = map.entry(ip).or_insert(0);
        if *n >= self.max_per_address {
            drop(map);
            self.open.fetch_sub(1, Ordering::Relaxed);
            return Err(Refused::PerAddress {
                limit: self.max_per_address,
            });
        }
        *n += 1;
        Ok(ConnPermit {
            limits: self.clone(),
            ip: Some(ip),
        })
    }

    fn release(&self, ip: Option<IpAddr>) {
        self.open.fetch_sub(1, Ordering::Relaxed);
        if let Some(ip) = ip {
            let mut map = self.per_address.lock().unwrap_or_else(|p| p.into_inner());
            if let Some(n) = map.get_mut(&ip) {
                *n -= 1;
                if *n == 0 {
                    map.remove(&ip);
                }
            }
        }
    }
}

/// A slot among the open connections; released on drop.
#[derive(Debug)]
pub struct ConnPermit {
    limits: Arc<ConnLimits>,
    ip: Option<IpAddr>,
}

impl ConnPermit {
    /// This connection's share of the incomplete-frame budget (starts at zero).
    pub fn frame_charge(&self) -> FrameCharge {
        FrameCharge {
            limits: self.limits.clone(),
            charged: 0,
            reserved: 0,
        }
    }
}

impl Drop for ConnPermit {
    fn drop(&mut self) {
        self.limits.release(self.ip);
    }
}

/// What one connection holds of the incomplete-frame budget; returned on drop.
#[derive(Debug)]
pub struct FrameCharge {
    limits: Arc<ConnLimits>,
    charged: usize,
    /// This connection's reservation in the pool (see the module comment).
    reserved: usize,
}

impl FrameCharge {
    /// Makes the charge match `held`, the bytes of the connection's incomplete
    /// frame (nothing is charged up to [`UNCHARGED_BYTES`]). Fails, charging
    /// nothing more, if the total would exceed the budget.
    pub fn set(&mut self, held: usize) -> Result<(), BudgetExhausted> {
        self.charge(if held > UNCHARGED_BYTES { held } else { 0 })
    }

    /// Like [`FrameCharge::set`], charging every byte of `held`: for the bytes read
    /// while a connection opens (a PROXY header of up to 64 KiB, the first bytes of
    /// a TLS handshake). [`UNCHARGED_BYTES`] spares the frame loop's reads the
    /// shared counter; an opening is once per connection, and many begun headers
    /// must not hold memory beyond the budget.
    pub fn set_every_byte(&mut self, held: usize) -> Result<(), BudgetExhausted> {
        self.charge(held)
    }

    fn charge(&mut self, want: usize) -> Result<(), BudgetExhausted> {
        if want == self.charged {
            return Ok(());
        }
        let counter = &self.limits.frame_bytes;
        if want < self.charged {
            counter.fetch_sub(self.charged - want, Ordering::Relaxed);
            self.charged = want;
            return Ok(());
        }
        let more = want - self.charged;
        let before = counter.fetch_add(more, Ordering::Relaxed);
        let budget = self.limits.frame_budget;
        if budget > 0 && before + more > budget {
            counter.fetch_sub(more, Ordering::Relaxed);
            return Err(BudgetExhausted {
                wanted: before + more,
                budget,
            });
        }
        self.charged = want;
        Ok(())
    }

    /// Takes `bytes` from the reservation pool for the pending frame, in place of
    /// this connection's earlier reservation. False, reserving nothing, if the pool
    /// cannot cover it: the caller then grows the buffer with its reads.
    pub fn try_reserve(&mut self, bytes: usize) -> bool {
        self.unreserve();
        let pool = &self.limits.reserved_bytes;
        let before = pool.fetch_add(bytes, Ordering::Relaxed);
        let budget = self.limits.frame_budget;
        if budget > 0 && before + bytes > budget {
            pool.fetch_sub(bytes, Ordering::Relaxed);
            return false;
        }
        self.reserved = bytes;
        true
    }

    /// Returns the reservation (its frame was taken off the buffer).
    pub fn unreserve(&mut self) {
        if self.reserved > 0 {
            self.limits
                .reserved_bytes
                .fetch_sub(self.reserved, Ordering::Relaxed);
            self.reserved = 0;
        }
    }

    /// Returns the whole charge and reservation (the connection holds no frame any
    /// more).
    pub fn release(&mut self) {
        self.unreserve();
        if self.charged > 0 {
            self.limits
                .frame_bytes
                .fetch_sub(self.charged, Ordering::Relaxed);
            self.charged = 0;
        }
    }

    /// Whether anything is charged (then `set` must follow every change).
    pub fn is_charged(&self) -> bool {
        self.charged > 0
    }
}

impl Drop for FrameCharge {
    fn drop(&mut self) {
        self.release();
    }
}

/// The default total: the open-files limit less headroom (a tenth, at least
/// `FD_HEADROOM_MIN`), read after `host::raise_nofile_limit` (main).
pub fn default_max_connections() -> usize {
    let soft = host::nofile_soft_limit().unwrap_or(1 << 20);
    let headroom = (soft / 10).max(FD_HEADROOM_MIN);
    soft.saturating_sub(headroom).max(16) as usize
}

/// Lets one warning of a kind through per interval, counting the ones held back,
/// so a flood of refused connections does not flood the log. One per shard and kind.
#[derive(Debug)]
pub struct RateLimitedWarn {
    every: Duration,
    last: Cell<Option<Instant>>,
    suppressed: Cell<u64>,
}

impl Default for RateLimitedWarn {
    fn default() -> Self {
        RateLimitedWarn {
            every: Duration::from_secs(1),
            last: Cell::new(None),
            suppressed: Cell::new(0),
        }
    }
}

impl RateLimitedWarn {
    /// `Some(n)` if a line may be logged now (`n` lines were held back since the
    /// last one), `None` if this one is to be held back.
    pub fn admit(&self) -> Option<u64> {
        let now = Instant::now();
        match self.last.get() {
            Some(t) if now.duration_since(t) < self.every => {
                self.suppressed.set(self.suppressed.get() + 1);
                None
            }
            _ => {
                self.last.set(Some(now));
                Some(self.suppressed.replace(0))
            }
        }
    }
}

/// The rate-limited warnings of one shard, one per limit.
#[derive(Debug, Default)]
pub struct LimitWarnings {
    pub refused: RateLimitedWarn,
    pub write_timeout: RateLimitedWarn,
    pub frame_timeout: RateLimitedWarn,
    pub frame_budget: RateLimitedWarn,
    pub output_bound: RateLimitedWarn,
}

#[cfg(test)]
mod tests {
    use super::*;

    fn limits(total: usize, per: usize, budget: usize) -> Arc<ConnLimits> {
        let config = Config {
            max_connections: total,
            max_connections_per_address: per,
            max_incomplete_frame_bytes: budget,
            ..Config::default()
        };
        ConnLimits::new(&config)
    }

    #[test]
    fn per_address_default_is_half_the_total() {
        let l = limits(10, 0, 0);
        assert_eq!(l.max_per_address(), 5);
        let a: IpAddr = "127.0.0.2".parse().unwrap();
        let held: Vec<_> = (0..5).map(|_| l.admit(Some(a)).unwrap()).collect();
        assert_eq!(
            l.admit(Some(a)).unwrap_err(),
            Refused::PerAddress { limit: 5 }
        );
        let b: IpAddr = "127.0.0.3".parse().unwrap();
        assert!(l.admit(Some(b)).is_ok());
        drop(held);
    }

    #[test]
    fn per_address_and_total_limits_release_on_drop() {
        let l = limits(3, 2, 0);
        let a: IpAddr = "127.0.0.2".parse().unwrap();
        let b: IpAddr = "127.0.0.3".parse().unwrap();
        let p1 = l.admit(Some(a)).unwrap();
        let _p2 = l.admit(Some(a)).unwrap();
        assert_eq!(
            l.admit(Some(a)).unwrap_err(),
            Refused::PerAddress { limit: 2 }
        );
        let _p3 = l.admit(Some(b)).unwrap();
        assert_eq!(l.admit(Some(b)).unwrap_err(), Refused::Total { limit: 3 });
        drop(p1);
        let _p4 = l.admit(Some(a)).unwrap();
        assert_eq!(l.open.load(Ordering::Relaxed), 3);
    }

    #[test]
    fn frame_budget_charges_only_large_frames_and_refunds() {
        let l = limits(10, 0, 3 * UNCHARGED_BYTES);
        let p = l.admit(None).unwrap();
        let mut a = p.frame_charge();
        let mut b = p.frame_charge();
        a.set(UNCHARGED_BYTES).unwrap();
        assert!(!a.is_charged());
        a.set(2 * UNCHARGED_BYTES).unwrap();
        let err = b.set(2 * UNCHARGED_BYTES).unwrap_err();
        assert_eq!(err.budget, 3 * UNCHARGED_BYTES);
        assert_eq!(l.frame_bytes.load(Ordering::Relaxed), 2 * UNCHARGED_BYTES);
        a.set(0).unwrap();
        b.set(2 * UNCHARGED_BYTES).unwrap();
        drop(b);
        assert_eq!(l.frame_bytes.load(Ordering::Relaxed), 0);
    }

    #[test]
    fn reservations_are_bounded_by_the_budget_apart_from_held_bytes() {
        let l = limits(10, 0, 3 * UNCHARGED_BYTES);
        let p = l.admit(None).unwrap();
        let mut a = p.frame_charge();
        let mut b = p.frame_charge();
        assert!(a.try_reserve(2 * UNCHARGED_BYTES));
        assert!(!b.try_reserve(2 * UNCHARGED_BYTES));
        assert_eq!(
            l.reserved_bytes.load(Ordering::Relaxed),
            2 * UNCHARGED_BYTES
        );
        // Held bytes are charged as before: reservations take nothing from them.
        b.set(3 * UNCHARGED_BYTES).unwrap();
        // A new reservation replaces the old one.
        assert!(a.try_reserve(3 * UNCHARGED_BYTES));
        assert_eq!(
            l.reserved_bytes.load(Ordering::Relaxed),
            3 * UNCHARGED_BYTES
        );
        a.unreserve();
        assert!(b.try_reserve(UNCHARGED_BYTES));
        drop(b);
        assert_eq!(l.reserved_bytes.load(Ordering::Relaxed), 0);
        assert_eq!(l.frame_bytes.load(Ordering::Relaxed), 0);
    }

    #[test]
    fn default_total_leaves_headroom() {
        let n = default_max_connections();
        assert!(n >= 16);
    }

    #[test]
    fn warnings_are_rate_limited() {
        let w = RateLimitedWarn::default();
        assert_eq!(w.admit(), Some(0));
        assert_eq!(w.admit(), None);
        assert_eq!(w.admit(), None);
        w.last.set(Some(Instant::now() - Duration::from_secs(2)));
        assert_eq!(w.admit(), Some(2));
    }
}
