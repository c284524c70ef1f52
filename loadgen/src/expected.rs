//! What the simulated brokers have told the name servers: the ground truth route
//! replies are verified against.
//!
//! Each broker group keeps its live members and the queue counts last written by
//! a route-writing registration (a master, or the prime slave of a 5.x group),
//! mirroring the NameServer's rules (`RouteInfoManager#registerBroker`,
//! `RouteInfoManager#pickupTopicRouteData`). A change bumps the group's
//! generation and stamps its time; a mismatch within `settle` of a change is "in
//! transition", later it is an error.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::{Duration, Instant};

use crate::topology::Topology;

#[derive(Debug, Clone)]
pub struct GroupState {
    /// Per member (index = position in `Group::members`): registered and not
    /// crashed or shut down.
    pub live: Vec<bool>,
    /// The server holds QueueData for this group (set by a route-writing
    /// registration, cleared when the last member is gone).
    pub has_queue_data: bool,
    /// Queue counts (per position in `Group::topics`) as last written.
    pub queues: Vec<i32>,
}

struct GroupSlot {
    gen: AtomicU64,
    /// Milliseconds since `epoch` of the last change, plus one (0 = never).
    last_change: AtomicU64,
    state: Mutex<GroupState>,
}

pub struct Expected {
    pub topo: Arc<Topology>,
    epoch: Instant,
    settle: Duration,
    /// Brokers send the `enableActingMaster` header: a slave that is the lowest
    /// live id writes routes too (prime slave).
    acting_header: bool,
    groups: Vec<GroupSlot>,
}

impl Expected {
    pub fn new(topo: Arc<Topology>, settle: Duration, acting_header: bool) -> Self {
        let groups = topo
            .groups
            .iter()
            .map(|g| GroupSlot {
                gen: AtomicU64::new(0),
                last_change: AtomicU64::new(0),
                state: Mutex::new(GroupState {
                    live: vec![false; g.members.len()],
                    has_queue_data: false,
                    queues: g
                        .topics
                        .iter()
                        .map(|&t| topo.topics[t as usize].queues)
                        .collect(),
                }),
            })
            .collect();
        Expected {
            topo,
            epoch: Instant::now(),
            settle,
            acting_header,
            groups,
        }
    }

    pub fn settle(&self) -> Duration {
        self.settle
    }

    fn lock(&self, g: u32) -> MutexGuard<'_, GroupState> {
        // A panic elsewhere never leaves the state half-written: recover it.
        self.groups[g as usize]
            .state
            .lock()
            .unwrap_or_else(|e| e.into_inner())
    }

    pub fn state(&self, g: u32) -> GroupState {
        self.lock(g).clone()
    }

    /// Marks a change of group `g` now (call before sending and after the
    /// server acknowledged).
    pub fn touch(&self, g: u32) {
        let slot = &self.groups[g as usize];
        slot.gen.fetch_add(1, Ordering::AcqRel);
        let ms = self.epoch.elapsed().as_millis() as u64 + 1;
        slot.last_change.fetch_max(ms, Ordering::AcqRel);
    }

    /// Member `m` registers with the queue counts `queues`. Returns whether
    /// the expected routes changed (and stamps the change if so).
    pub fn registered(&self, g: u32, m: usize, queues: &[i32]) -> bool {
        let changed = {
            let mut st = self.lock(g);
            let mut changed = !st.live[m];
            st.live[m] = true;
            let id = self.topo.groups[g as usize].members[m].id;
            let min_live = st.live.iter().position(|&l| l).unwrap_or(m);
            let writer = id == 0 || (self.acting_header && min_live == m);
            if writer && (!st.has_queue_data || st.queues != queues) {
                changed = true;
                st.has_queue_data = true;
                st.queues.clear();
                st.queues.extend_from_slice(queues);
            }
            changed
        };
        if changed {
            self.touch(g);
        }
        changed
    }

    /// Member `m` is gone (crashed, shut down or disconnected at exit).
    pub fn gone(&self, g: u32, m: usize) {
        {
            let mut st = self.lock(g);
            st.live[m] = false;
            if !st.live.iter().any(|&l| l) {
                st.has_queue_data = false;
            }
        }
        self.touch(g);
    }

    /// Sum of the generations of the groups hosting `topic` (monotonic).
    pub fn topic_gen(&self, topic: u32) -> u64 {
        self.topo.topics[topic as usize]
            .groups
            .iter()
            .map(|&g| self.groups[g as usize].gen.load(Ordering::Acquire))
            .fold(0u64, u64::wrapping_add)
    }

    /// True while some group is within `settle` of its last change.
    pub fn group_settling(&self, g: u32, now: Instant) -> bool {
        let last = self.groups[g as usize].last_change.load(Ordering::Acquire);
        if last == 0 {
            return false;
        }
        let now_ms = now.saturating_duration_since(self.epoch).as_millis() as u64 + 1;
        now_ms.saturating_sub(last) < self.settle.as_millis() as u64
    }

    pub fn topic_settling(&self, topic: u32, now: Instant) -> bool {
        self.topo.topics[topic as usize]
            .groups
            .iter()
            .any(|&g| self.group_settling(g, now))
    }
}
