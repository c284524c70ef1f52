//! Churn and data changes: a Poisson process that tells broker groups to crash,
//! shut down, rejoin (after `down_time`) or change a topic's queue count.

use std::collections::HashSet;
use std::sync::Arc;
use std::time::{Duration, Instant};

use tokio::sync::{mpsc, watch};

use crate::broker::GroupCmd;
use crate::rng::Rng;
use crate::scenario::Scenario;

/// Counts of what the churn driver did.
#[derive(Debug, Default, Clone, Copy, serde::Serialize)]
pub struct ChurnCounts {
    pub crashes: u64,
    pub shutdowns: u64,
    pub rejoins: u64,
    pub data_changes: u64,
}

pub async fn run(
    sc: Arc<Scenario>,
    groups: Vec<mpsc::Sender<GroupCmd>>,
    members_per_group: usize,
    mut stop: watch::Receiver<bool>,
) -> ChurnCounts {
    let mut counts = ChurnCounts::default();
    let mut rng = Rng::derive(sc.seed, 7);
    let crash = sc.churn.crashes_per_min / 60.0;
    let shut = sc.churn.shutdowns_per_min / 60.0;
    let data = sc.brokers.data_changes_per_sec;
    let total = crash + shut + data;
    if groups.is_empty() || total <= 0.0 {
        let _ = stop.changed().await;
        return counts;
    }
    let down_time = sc.churn.down_time.0;
    let first_member = if sc.churn.masters { 0 } else { 1 };
    let mut down: HashSet<(usize, usize)> = HashSet::new();
    let mut rejoins: Vec<(Instant, usize, usize)> = Vec::new();
    let mut next_event = Instant::now() + Duration::from_secs_f64(rng.exp(1.0 / total));
    loop {
        let next_rejoin = rejoins.iter().map(|r| r.0).min();
        let next = next_rejoin.map_or(next_event, |r| r.min(next_event));
        tokio::select! {
            _ = tokio::time::sleep_until(next.into()) => {}
            _ = stop.changed() => break,
        }
        let now = Instant::now();
        let (due, later): (Vec<_>, Vec<_>) = rejoins.drain(..).partition(|r| r.0 <= now);
        rejoins = later;
        for (_, g, m) in due {
            down.remove(&(g, m));
            if groups[g].try_send(GroupCmd::Rejoin(m)).is_ok() {
                counts.rejoins += 1;
            }
        }
        if now < next_event {
            continue;
        }
        next_event += Duration::from_secs_f64(rng.exp(1.0 / total));
        let g = rng.below(groups.len() as u64) as usize;
        let pick = rng.f64() * total;
        if pick < data {
            if groups[g].try_send(GroupCmd::ChangeData).is_ok() {
                counts.data_changes += 1;
            }
            continue;
        }
        if first_member >= members_per_group {
            continue;
        }
        let m = rng.range(first_member as u64, members_per_group as u64 - 1) as usize;
        if !down.insert((g, m)) {
            continue;
        }
        let cmd = if pick < data + crash {
            counts.crashes += 1;
            GroupCmd::Crash(m)
        } else {
            counts.shutdowns += 1;
            GroupCmd::Shutdown(m)
        };
        if groups[g].try_send(cmd).is_ok() {
            rejoins.push((now + down_time, g, m));
        } else {
            down.remove(&(g, m));
        }
    }
    counts
}
