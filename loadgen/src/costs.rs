//! The server's CPU per operation, as measured by `tuning/costs.sh`, and the
//! per-core model built on it (docs/PERFORMANCE.md, "How far one node goes, per
//! core"). This is the one place the constants live: `loadgen plan`'s sizing
//! sentence and the model table both read [`MEASURED`]. To refresh them after a
//! change to the registry, run `tuning/costs.sh` and copy the medians of its
//! `summary.md` here, with the commit.
//!
//! The server's shape decides the model: every core answers lookups from its own
//! snapshot and checks (and decodes) the registrations its connections receive,
//! so that work spreads over the cores; every write goes to the one writer core,
//! which applies it and publishes. The writer is the part that does not scale.
//! Heartbeats (904, 322) and cluster info (106) are not measured, so not modelled.

use std::fmt::Write;

use serde::Serialize;

use crate::scenario::{ClientMode, Scenario};
use crate::topology::SHARED_SYSTEM_TOPICS;
use crate::units::fmt_count;

/// A cost that grows with the topics of the registration: `fixed + per_topic × n`.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct Linear {
    pub fixed_us: f64,
    pub per_topic_us: f64,
}

impl Linear {
    pub fn at(&self, topics: f64) -> f64 {
        self.fixed_us + self.per_topic_us * topics
    }
}

/// Server CPU-µs per operation.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct Costs {
    /// Where and how the numbers were measured.
    pub source: &'static str,
    /// One lookup at saturation (closed loop: syscalls amortised over batches).
    pub lookup_saturated_us: f64,
    /// One lookup at a moderate open-loop rate (20,000/s: fewer frames per
    /// syscall): the figure for sizing an estate below saturation. Sparser
    /// lookups cost more each (~24 µs at 2,700/s over 200 connections: a wake-up
    /// and a syscall per request), so below ~10,000/s the model is low.
    pub lookup_open_us: f64,
    /// A changed registration (new DataVersion), on the receiving core: CRC,
    /// decode, the reply.
    pub changed_shard: Linear,
    /// The same registration on the writer core: table work and the publish
    /// (one topic's route changed).
    pub changed_writer: Linear,
    /// An unchanged re-registration (same DataVersion and bytes) on the receiving
    /// core: the CRC and the DataVersion peek, the reply.
    pub unchanged_shard: Linear,
    /// The same on the writer: the header's part of `registerBroker`, no publish.
    pub unchanged_writer: Linear,
    /// A broker removed (connection closed, or expired), all threads (nearly all
    /// of it the writer's: the removal and the publish).
    pub expiry: Linear,
}

/// Measured by `tuning/costs.sh` (see [`Costs::source`]): the medians of its
/// `summary.md`, net of the idle floor. The registration costs are straight lines
/// through the 100- and 10,000-topic medians (the 1,000-topic one is within 15 %,
/// except the unchanged writer's, which is flat and taken at its 100-topic median).
pub const MEASURED: Costs = Costs {
    source: "tuning/costs.sh at 17c8259, a 2-vCPU VM (quiet), server on cpu0",
    // closed loop 64 x 16: 1.28 µs; open loop at 20,000/s: 6.9 µs
    lookup_saturated_us: 1.28,
    lookup_open_us: 6.9,
    // changed_one: receiving shard 287 / 879 / 7,108 µs at 100 / 1,000 / 10,000 topics
    changed_shard: Linear {
        fixed_us: 218.0,
        per_topic_us: 0.69,
    },
    // changed_one: writer core 95 / 409 / 3,352 µs
    changed_writer: Linear {
        fixed_us: 62.0,
        per_topic_us: 0.33,
    },
    // unchanged: receiving shard 275 / 248 / 753 µs
    unchanged_shard: Linear {
        fixed_us: 270.0,
        per_topic_us: 0.048,
    },
    // unchanged: writer core 79 / 87 / 30 µs
    unchanged_writer: Linear {
        fixed_us: 79.0,
        per_topic_us: 0.0,
    },
    // expiry (connection closed): 329 / 1,443 / 12,651 µs, nearly all the writer's
    expiry: Linear {
        fixed_us: 204.0,
        per_topic_us: 1.24,
    },
};

/// What an estate asks of the server per second.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct Load {
    /// Open loop: the offered rate. Closed loop: 0 (see `lookups_modelled`).
    pub lookups_per_sec: f64,
    /// False for a closed loop: its lookups take whatever CPU is left, so the
    /// model has no rate to cost.
    pub lookups_modelled: bool,
    /// Registrations with a new DataVersion (data changes, rejoins).
    pub changed_per_sec: f64,
    /// Periodic re-registrations with the same DataVersion.
    pub unchanged_per_sec: f64,
    /// Brokers removed (crashes, shutdowns).
    pub expiries_per_sec: f64,
    /// Topics per registration (the mean over broker processes).
    pub topics_per_registration: f64,
}

impl Load {
    /// The steady state of a scenario: clients' refreshes, every broker's periodic
    /// re-registration, data changes (each re-registers its group's members) and
    /// churn (each crash or shutdown removes a broker, and its rejoin registers it).
    pub fn of(sc: &Scenario) -> Load {
        let b = &sc.brokers;
        let t = &sc.topics;
        let groups = b.groups.max(1) as f64;
        let clusters = b.clusters.clamp(1, b.groups.max(1));
        let per_cluster = (b.groups / clusters).max(1);
        let spread = t.groups_per_topic.clamp(1, per_cluster) as f64;
        // user topics + the cluster-name topic, the broker-name one (if on) and
        // the shared system ones (if on), as `Topology::build` lays them out
        let system = if t.system_topics {
            SHARED_SYSTEM_TOPICS.len() as f64
        } else {
            0.0
        };
        let broker = if t.broker_topics { 1.0 } else { 0.0 };
        let topics = t.count as f64 * spread / groups + 1.0 + broker + system;
        let members = 1.0 + b.slaves as f64;
        let period = sc.period(b.register_period).0.as_secs_f64();
        let periodic = if period > 0.0 {
            sc.broker_processes() as f64 / period
        } else {
            0.0
        };
        let churn = (sc.churn.crashes_per_min + sc.churn.shutdowns_per_min) / 60.0;
        Load {
            lookups_per_sec: match sc.clients.mode {
                ClientMode::Open => sc.lookup_rate(),
                _ => 0.0,
            },
            lookups_modelled: sc.clients.mode != ClientMode::Closed,
            changed_per_sec: b.data_changes_per_sec * members + churn,
            unchanged_per_sec: periodic,
            expiries_per_sec: churn,
            topics_per_registration: topics,
        }
    }
}

/// Server cores an estate needs by the model, by part.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct Demand {
    /// Lookups (spread over the cores).
    pub lookups: f64,
    /// Registrations on the receiving cores (spread over the cores).
    pub registrations_shard: f64,
    /// The writer core: changed and unchanged registrations (the header's part
    /// of `registerBroker`) and expiries; one core at most.
    pub writer: f64,
    /// Changed registrations per second of this size that fill the writer core.
    pub writer_limit_per_sec: f64,
}

impl Demand {
    pub fn total(&self) -> f64 {
        self.lookups + self.registrations_shard + self.writer
    }
}

impl Costs {
    /// The model's demand for `load`, with lookups at the open-loop cost.
    pub fn demand(&self, load: &Load) -> Demand {
        let n = load.topics_per_registration;
        let us = 1e-6;
        let writer_changed = self.changed_writer.at(n);
        Demand {
            lookups: load.lookups_per_sec * self.lookup_open_us * us,
            registrations_shard: (load.changed_per_sec * self.changed_shard.at(n)
                + load.unchanged_per_sec * self.unchanged_shard.at(n))
                * us,
            writer: (load.changed_per_sec * writer_changed
                + load.unchanged_per_sec * self.unchanged_writer.at(n)
                + load.expiries_per_sec * self.expiry.at(n))
                * us,
            writer_limit_per_sec: if writer_changed > 0.0 {
                1e6 / writer_changed
            } else {
                f64::INFINITY
            },
        }
    }

    /// Lookups per second `cores` cores answer at saturation, with `writer` of
    /// one core taken by the writer.
    pub fn lookups_at(&self, cores: u32, writer: f64) -> f64 {
        (cores as f64 - writer.min(1.0)).max(0.0) * 1e6 / self.lookup_saturated_us
    }

    /// The most registrations per second `cores` cores take, each costing `shard`
    /// on a receiving core and `writer` on the writer core. The writer shares core
    /// 0 with a shard: the whole node is bounded by `cores`, the writer by one core.
    fn rate(cores: u32, shard: f64, writer: f64) -> f64 {
        let node = cores as f64 * 1e6 / (shard + writer);
        if writer > 0.0 {
            node.min(1e6 / writer)
        } else {
            node
        }
    }

    /// What `cores` cores take of one kind of operation alone, registrations
    /// carrying `topics` topics.
    pub fn capacity(&self, cores: u32, topics: f64) -> Capacity {
        let changed = Self::rate(
            cores,
            self.changed_shard.at(topics),
            self.changed_writer.at(topics),
        );
        let unchanged = Self::rate(
            cores,
            self.unchanged_shard.at(topics),
            self.unchanged_writer.at(topics),
        );
        Capacity {
            lookups_per_sec: self.lookups_at(cores, 0.0),
            changed_per_sec: changed,
            writer_bound: changed * self.changed_writer.at(topics) >= 1e6 - 1e-6,
            unchanged_per_sec: unchanged,
        }
    }
}

/// One kind of operation alone, at saturation.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct Capacity {
    pub lookups_per_sec: f64,
    pub changed_per_sec: f64,
    /// The writer core, not the node, bounds `changed_per_sec`.
    pub writer_bound: bool,
    pub unchanged_per_sec: f64,
}

/// The model's table: what 1 to 16 cores take, for each registration size.
pub fn render_table(c: &Costs, sizes: &[u32]) -> String {
    let mut s = format!("per-core model from {}\n", c.source);
    let _ = writeln!(
        s,
        "{:>5} {:>12} {:>8} {:>22} {:>24}",
        "cores", "lookups/s", "topics", "changed regs/s", "unchanged regs/s (x30 s)"
    );
    for cores in [1, 2, 4, 8, 16] {
        for (i, &t) in sizes.iter().enumerate() {
            let cap = c.capacity(cores, t as f64);
            let lookups = if i == 0 {
                fmt_count(cap.lookups_per_sec.round() as u64)
            } else {
                String::new()
            };
            let changed = format!(
                "{}{}",
                fmt_count(cap.changed_per_sec.round() as u64),
                if cap.writer_bound { " (writer)" } else { "" }
            );
            let unchanged = format!(
                "{} ({} brokers)",
                fmt_count(cap.unchanged_per_sec.round() as u64),
                fmt_count((cap.unchanged_per_sec * 30.0).round() as u64)
            );
            let _ = writeln!(
                s,
                "{:>5} {:>12} {:>8} {:>22} {:>24}",
                if i == 0 {
                    cores.to_string()
                } else {
                    String::new()
                },
                lookups,
                fmt_count(t as u64),
                changed,
                unchanged
            );
        }
    }
    s
}

#[cfg(test)]
#[path = "costs_tests.rs"]
mod tests;
