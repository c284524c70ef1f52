//! The mutable route tables, owned by the writer core alone.
//!
//! These follow upstream's `RouteInfoManager` semantics step by step (see the spec,
//! §5). Every change records what it touched in [`Dirty`], so publishing a snapshot
//! re-encodes only the topics whose route bytes can have changed.

use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;
use std::time::{Duration, Instant};

use protocol::body::{
    BrokerData, DataVersion, QueueData, RegisterBrokerBody, TopicConfig, TopicQueueMappingInfo,
};
use protocol::codes::perm;

use super::topic_queues::{Put, TopicQueues};
use super::{ConnId, HashMap, HashSet};

/// Upstream's default broker timeout when the register header carries none.
pub const DEFAULT_BROKER_TIMEOUT: Duration = Duration::from_secs(120);

/// Liveness is keyed by (cluster, broker address), as upstream's `BrokerAddrInfo`.
pub type AddrKey = (String, String);

/// One live broker address: when it last spoke, and over which connection.
#[derive(Debug, Clone)]
pub struct LiveBroker {
    pub last_update: Instant,
    pub timeout: Duration,
    pub data_version: DataVersion,
    /// The connection of the *latest* registration; only its close unregisters.
    pub conn: ConnId,
    pub ha_server_addr: Option<String>,
}

/// What a batch of writes changed, so the publisher knows what to rebuild.
#[derive(Debug, Default)]
pub struct Dirty {
    pub topics: HashSet<String>,
    /// Broker or cluster membership changed: rebuild cluster views.
    pub brokers: bool,
    /// The KV table changed: republish it.
    pub kv: bool,
    /// Config changed: republish it (and every route, since acting-master and
    /// order-topic settings shape route bytes).
    pub config: bool,
}

impl Dirty {
    pub fn is_empty(&self) -> bool {
        self.topics.is_empty() && !self.brokers && !self.kv && !self.config
    }
}

/// A broker registration as decoded on the receiving core.
#[derive(Debug, Clone)]
pub struct Registration {
    pub cluster: String,
    pub addr: String,
    pub name: String,
    pub broker_id: i64,
    pub ha_server_addr: Option<String>,
    pub heartbeat_timeout_ms: Option<i64>,
    /// `None` for old brokers that do not send the header field.
    pub enable_acting_master: Option<bool>,
    pub zone_name: Option<String>,
    pub body: RegisterBrokerBody,
}

/// What a registration answers (spec §5.2): `None` = "register broker failed".
#[derive(Debug, Default, PartialEq, Eq)]
pub struct RegisterResult {
    pub ha_server_addr: Option<String>,
    pub master_addr: Option<String>,
}

/// How a registration's topics are put (see [`Tables::put_topics`]).
#[derive(Debug, Clone, Copy)]
pub struct TopicPuts {
    /// Put every topic (first registration or a new DataVersion), not only the
    /// ones this broker lacks.
    all: bool,
    /// A prime slave of an acting-master group: its queues lose write permission.
    read_only: bool,
}

/// Settings of the tables that come from the config.
#[derive(Debug, Clone, Copy, Default)]
pub struct TableSettings {
    pub delete_topic_with_broker_registration: bool,
}

#[derive(Debug, Default)]
pub struct Tables {
    /// topic → its QueueData by brokerName
    pub topic_queue: HashMap<String, TopicQueues>,
    /// brokerName → BrokerData
    pub broker_addr: HashMap<String, BrokerData>,
    /// cluster → brokerNames
    pub cluster_addr: HashMap<String, BTreeSet<String>>,
    pub live: HashMap<AddrKey, LiveBroker>,
    pub filter_server: HashMap<AddrKey, Vec<String>>,
    /// topic → brokerName → mapping
    pub mapping: HashMap<String, BTreeMap<String, TopicQueueMappingInfo>>,
    /// brokerName → topics holding one of its QueueData (reverse index, so a broker
    /// change dirties exactly its topics).
    broker_topics: HashMap<String, HashSet<String>>,
    /// Broker names as shared by every [`TopicQueues`] entry.
    interned: HashSet<Arc<str>>,
    next_topic_seq: u64,
    pub dirty: Dirty,
    /// Queues of removed brokers still to take out of `topic_queue`.
    removals: Vec<Removal>,
    /// Leave those to [`Tables::settle`] (the writer, which yields between
    /// slices) instead of removing them at once.
    pub defer_removals: bool,
}

/// A removed broker's topics whose QueueData are still to be removed. The broker
/// is already out of `broker_topics`, so nothing else touches these.
#[derive(Debug)]
struct Removal {
    broker: String,
    topics: Vec<String>,
}

impl Tables {
    // ----- small helpers that keep the reverse index and dirty set honest -----

    fn put_queue(&mut self, topic: &str, qd: QueueData) {
        // Lookups first, so a storm of unchanged puts allocates nothing.
        if !self.topic_queue.contains_key(topic) {
            self.next_topic_seq += 1;
            let fresh = TopicQueues::new(self.next_topic_seq);
            self.topic_queue.insert(topic.to_string(), fresh);
        }
        let Some(queues) = self.topic_queue.get_mut(topic) else {
            return;
        };
        let put = queues.put(&qd, &mut self.interned);
        let name = qd.broker_name;
        if put != Put::Same && !self.dirty.topics.contains(topic) {
            self.dirty.topics.insert(topic.to_string());
        }
        // A broker already holding this topic is in the reverse index already
        // (put_queue and remove_queue keep the two in step).
        if put != Put::NewBroker {
            return;
        }
        match self.broker_topics.get_mut(&name) {
            Some(set) => {
                if !set.contains(topic) {
                    set.insert(topic.to_string());
                }
            }
            None => {
                let mut set = HashSet::default();
                set.insert(topic.to_string());
                self.broker_topics.insert(name, set);
            }
        }
    }

    /// Removes one broker's QueueData from a topic; drops the topic when emptied.
    fn remove_queue(&mut self, topic: &str, broker_name: &str) -> bool {
        let Some(queues) = self.topic_queue.get_mut(topic) else {
            return false;
        };
        if !queues.remove(broker_name) {
            return false;
        }
        if queues.is_empty() {
            self.topic_queue.remove(topic);
        }
        self.release_name(broker_name);
        if let Some(set) = self.broker_topics.get_mut(broker_name) {
            set.remove(topic);
            if set.is_empty() {
                self.broker_topics.remove(broker_name);
            }
        }
        self.dirty.topics.insert(topic.to_string());
        true
    }

    fn remove_topic(&mut self, topic: &str) {
        if let Some(queues) = self.topic_queue.remove(topic) {
            let names: Vec<String> = queues.keys().map(str::to_string).collect();
            drop(queues);
            for name in &names {
                if let Some(set) = self.broker_topics.get_mut(name) {
                    set.remove(topic);
                    if set.is_empty() {
                        self.broker_topics.remove(name);
                    }
                }
                self.release_name(name);
            }
            self.dirty.topics.insert(topic.to_string());
        }
    }

    /// Applies up to `budget` deferred queue removals; says whether any remain.
    /// The writer calls it until it says no before it applies the next write, so
    /// every write still sees the tables of all writes before it.
    pub fn settle(&mut self, budget: usize) -> bool {
        let mut left = budget;
        while left > 0 {
            let Some(job) = self.removals.last_mut() else {
                return false;
            };
            let Some(topic) = job.topics.pop() else {
                self.removals.pop();
                continue;
            };
            let broker = job.broker.clone();
            self.remove_queue(&topic, &broker);
            left -= 1;
        }
        self.removals.iter().any(|r| !r.topics.is_empty())
    }

    /// Forgets the interned copy of `name` once no topic holds it any more, so a
    /// churning estate (brokers that come and go under new names) does not grow
    /// the interned set without end.
    fn release_name(&mut self, name: &str) {
        if self
            .interned
            .get(name)
            .is_some_and(|n| Arc::strong_count(n) == 1)
        {
            self.interned.remove(name);
        }
    }

    /// How many broker names are interned (for tests and diagnostics).
    pub fn interned_names(&self) -> usize {
        self.interned.len()
    }

    /// A broker's data changed: every route that embeds it must be re-encoded.
    fn broker_changed(&mut self, broker_name: &str) {
        self.dirty.brokers = true;
        if let Some(topics) = self.broker_topics.get(broker_name) {
            self.dirty.topics.extend(topics.iter().cloned());
        }
    }

    /// Topics whose routes embed this address (through its broker's BrokerData).
    fn addr_changed(&mut self, addr: &str) {
        let names: Vec<String> = self
            .broker_addr
            .values()
            .filter(|b| b.broker_addrs.values().any(|a| a == addr))
            .map(|b| b.broker_name.clone())
            .collect();
        for n in names {
            self.broker_changed(&n);
        }
    }

    /// The insertion rank of a topic in upstream's topicQueueTable (0 if absent).
    pub fn topic_seq(&self, topic: &str) -> u64 {
        self.topic_queue.get(topic).map_or(0, |q| q.seq)
    }

    pub fn topics_of_broker(&self, broker_name: &str) -> impl Iterator<Item = &String> {
        self.broker_topics.get(broker_name).into_iter().flatten()
    }

    /// Marks every topic dirty (after a config change that shapes every route).
    pub fn all_topics_dirty(&mut self) {
        let all: Vec<String> = self.topic_queue.keys().cloned().collect();
        self.dirty.topics.extend(all);
        self.dirty.brokers = true;
    }

    // ----- REGISTER_BROKER (spec §5.2) -----

    /// Applies a registration. `None` means "register broker failed".
    pub fn register_broker(
        &mut self,
        reg: &Registration,
        conn: ConnId,
        now: Instant,
        settings: TableSettings,
    ) -> Option<RegisterResult> {
        let (result, puts) = self.register_broker_except_topics(reg, conn, now, settings)?;
        if let Some(puts) = puts {
            self.put_topics(reg, &puts, &reg.body.topic_configs);
        }
        Some(result)
    }

    /// [`Self::register_broker`] but for the per-topic QueueData puts, which the
    /// caller applies with [`Self::put_topics`] (in slices, with yields between,
    /// when a body lists many topics). The puts touch only topic rows, so putting
    /// them after the liveness and filter-server steps changes nothing.
    pub fn register_broker_except_topics(
        &mut self,
        reg: &Registration,
        conn: ConnId,
        now: Instant,
        settings: TableSettings,
    ) -> Option<(RegisterResult, Option<TopicPuts>)> {
        // 1. cluster membership
        let names = self.cluster_addr.entry(reg.cluster.clone()).or_default();
        if names.insert(reg.name.clone()) {
            self.dirty.brokers = true;
        }

        // 2. the broker group, created on first sight
        let mut register_first = false;
        if !self.broker_addr.contains_key(&reg.name) {
            register_first = true;
            self.broker_addr.insert(
                reg.name.clone(),
                BrokerData {
                    cluster: reg.cluster.clone(),
                    broker_name: reg.name.clone(),
                    broker_addrs: BTreeMap::new(),
                    enable_acting_master: false,
                    zone_name: None,
                },
            );
            self.dirty.brokers = true;
        }
        let mut changed = false;
        let (min_id_changed, old_addr_at_id) = {
            let bd = self.broker_addr.get_mut(&reg.name)?;
            // 3. acting-master flag and zone follow the latest registration
            let acting = reg.enable_acting_master == Some(true);
            if bd.enable_acting_master != acting {
                bd.enable_acting_master = acting;
                changed = true;
            }
            if bd.zone_name != reg.zone_name {
                bd.zone_name = reg.zone_name.clone();
                changed = true;
            }
            // 4. (only needed for NOTIFY_MIN_BROKER_ID_CHANGE, which is opt-in)
            let min = bd.broker_addrs.keys().next().copied().unwrap_or(0);
            let min_id_changed = reg.broker_id < min;
            // 5. the same address under another id: a master/slave switch
            let before = bd.broker_addrs.len();
            bd.broker_addrs
                .retain(|id, a| !(a == &reg.addr && *id != reg.broker_id));
            if bd.broker_addrs.len() != before {
                changed = true;
            }
            (min_id_changed, bd.broker_addrs.get(&reg.broker_id).cloned())
        };
        let _ = min_id_changed;

        // 6. stateVersion fencing: a live, newer holder of this id wins
        if let Some(old_addr) = &old_addr_at_id {
            if old_addr != &reg.addr {
                let old_key = (reg.cluster.clone(), old_addr.clone());
                if let Some(old_live) = self.live.get(&old_key) {
                    if old_live.data_version.state_version > reg.body.data_version.state_version {
                        self.live.remove(&(reg.cluster.clone(), reg.addr.clone()));
                        if changed {
                            self.broker_changed(&reg.name);
                        }
                        return Some((RegisterResult::default(), None));
                    }
                }
            }
        }

        // 7. a single-topic registration may not be a broker's first
        if old_addr_at_id.is_none() && reg.body.topic_configs.len() == 1 {
            tracing::warn!(
                broker = %reg.name, addr = %reg.addr, broker_id = reg.broker_id,
                "single-topic registration before the broker's full registration refused"
            );
            if changed {
                self.broker_changed(&reg.name);
            }
            return None;
        }

        // 8. put the address
        let is_prime_slave;
        let broker_acting;
        {
            let bd = self.broker_addr.get_mut(&reg.name)?;
            let old = bd.broker_addrs.insert(reg.broker_id, reg.addr.clone());
            if old.as_deref() != Some(reg.addr.as_str()) {
                changed = true;
            }
            register_first |= old.is_none();
            // 9. who may write topic routes
            let min = bd.broker_addrs.keys().next().copied().unwrap_or(0);
            is_prime_slave =
                reg.enable_acting_master.is_some() && reg.broker_id != 0 && reg.broker_id == min;
            broker_acting = bd.enable_acting_master;
        }
        if changed {
            self.broker_changed(&reg.name);
        }
        let is_master = reg.broker_id == 0;
        let key: AddrKey = (reg.cluster.clone(), reg.addr.clone());

        // 10. only a master or a prime slave touches topic routes
        let mut puts = None;
        if is_master || is_prime_slave {
            let prev_version = self.live.get(&key).map(|l| l.data_version);
            let version_changed = prev_version != Some(reg.body.data_version);

            if settings.delete_topic_with_broker_registration && reg.body.mapping_infos.is_empty() {
                let keep: HashSet<&str> = reg
                    .body
                    .topic_configs
                    .iter()
                    .map(|t| t.topic_name.as_str())
                    .collect();
                let stale: Vec<String> = self
                    .topics_of_broker(&reg.name)
                    .filter(|t| !keep.contains(t.as_str()))
                    .cloned()
                    .collect();
                for t in stale {
                    self.remove_queue(&t, &reg.name);
                }
            }

            puts = Some(TopicPuts {
                all: register_first || version_changed,
                read_only: is_prime_slave && broker_acting,
            });

            if version_changed || register_first {
                for (topic, info) in &reg.body.mapping_infos {
                    let bname = info.bname.clone().unwrap_or_default();
                    let per_topic = self.mapping.entry(topic.clone()).or_default();
                    if per_topic.get(&bname) != Some(info) {
                        per_topic.insert(bname, info.clone());
                        self.dirty.topics.insert(topic.clone());
                    }
                }
            }
        }

        // 11. liveness, bound to this connection
        let timeout = reg
            .heartbeat_timeout_ms
            .filter(|ms| *ms > 0)
            .map(|ms| Duration::from_millis(ms as u64))
            .unwrap_or(DEFAULT_BROKER_TIMEOUT);
        self.live.insert(
            key.clone(),
            LiveBroker {
                last_update: now,
                timeout,
                data_version: reg.body.data_version,
                conn,
                ha_server_addr: reg.ha_server_addr.clone(),
            },
        );

        // 12. filter servers
        if let Some(list) = &reg.body.filter_server_list {
            let before = self.filter_server.get(&key).cloned();
            if list.is_empty() {
                self.filter_server.remove(&key);
            } else {
                self.filter_server.insert(key.clone(), list.clone());
            }
            if before.as_ref() != self.filter_server.get(&key) {
                self.addr_changed(&reg.addr);
            }
        }

        // 13. a slave learns its live master
        let mut result = RegisterResult::default();
        if reg.broker_id != 0 {
            if let Some(master) = self
                .broker_addr
                .get(&reg.name)
                .and_then(|bd| bd.broker_addrs.get(&0))
            {
                if let Some(ml) = self.live.get(&(reg.cluster.clone(), master.clone())) {
                    result.ha_server_addr = ml.ha_server_addr.clone();
                    result.master_addr = Some(master.clone());
                }
            }
        }
        Some((result, puts))
    }

    /// Step 10's QueueData puts for `topics` (a slice of `reg`'s topic configs).
    pub fn put_topics(&mut self, reg: &Registration, puts: &TopicPuts, topics: &[TopicConfig]) {
        for tc in topics {
            let lacks = || {
                !self
                    .topic_queue
                    .get(&tc.topic_name)
                    .is_some_and(|q| q.contains_key(&reg.name))
            };
            if puts.all || lacks() {
                let mut p = tc.perm;
                if puts.read_only {
                    p &= !perm::WRITE;
                }
                let qd = QueueData {
                    broker_name: reg.name.clone(),
                    perm: p,
                    read_queue_nums: tc.read_queue_nums,
                    topic_sys_flag: tc.topic_sys_flag,
                    write_queue_nums: tc.write_queue_nums,
                };
                self.put_queue(&tc.topic_name, qd);
            }
        }
    }

    // ----- heartbeats (spec §5.3) -----

    /// Refreshes a live entry; never creates one. Returns its stored DataVersion.
    pub fn heartbeat(&mut self, cluster: &str, addr: &str, now: Instant) -> Option<DataVersion> {
        let live = self
            .live
            .get_mut(&(cluster.to_string(), addr.to_string()))?;
        live.last_update = now;
        Some(live.data_version)
    }

    // ----- unregistration (spec §5.4) -----

    /// Unregisters one broker address. Matching is by address, not by id.
    pub fn unregister_broker(
        &mut self,
        cluster: &str,
        addr: &str,
        broker_name: &str,
        broker_id: i64,
    ) {
        let key = (cluster.to_string(), addr.to_string());
        let had_live = self.live.remove(&key).is_some();
        if self.filter_server.remove(&key).is_some() {
            self.addr_changed(addr);
        }
        tracing::info!(
            cluster,
            addr,
            broker = broker_name,
            broker_id,
            had_live,
            "unregister broker"
        );

        let mut removed = false;
        if let Some(bd) = self.broker_addr.get_mut(broker_name) {
            let before = bd.broker_addrs.len();
            bd.broker_addrs.retain(|_, a| a != addr);
            let shrunk = bd.broker_addrs.len() != before;
            if bd.broker_addrs.is_empty() {
                self.broker_addr.remove(broker_name);
                removed = true;
            }
            if shrunk || removed {
                self.broker_changed(broker_name);
            }
        }
        if removed {
            self.dirty.brokers = true;
            if let Some(names) = self.cluster_addr.get_mut(cluster) {
                names.remove(broker_name);
                if names.is_empty() {
                    self.cluster_addr.remove(cluster);
                }
            }
            // Its queues go in slices (see `settle`): a broker may hold 200k topics.
            if let Some(topics) = self.broker_topics.remove(broker_name) {
                self.removals.push(Removal {
                    broker: broker_name.to_string(),
                    topics: topics.into_iter().collect(),
                });
            }
            if !self.defer_removals {
                self.settle(usize::MAX);
            }
        } else {
            // Upstream treats every group not removed as "reduced": one left without a
            // master under acting-master loses write permission.
            let acting_without_master = self
                .broker_addr
                .get(broker_name)
                .is_some_and(|bd| bd.enable_acting_master && !bd.broker_addrs.contains_key(&0));
            if acting_without_master {
                let topics: Vec<String> = self.topics_of_broker(broker_name).cloned().collect();
                for t in topics {
                    if let Some(mut qd) = self.topic_queue.get(&t).and_then(|q| q.get(broker_name))
                    {
                        qd.perm &= !perm::WRITE;
                        self.put_queue(&t, qd);
                    }
                }
            }
        }
    }

    /// The (brokerName, brokerId) a live address belongs to, looked up in its cluster.
    pub fn find_broker_of(&self, cluster: &str, addr: &str) -> Option<(String, i64)> {
        let names = self.cluster_addr.get(cluster)?;
        names.iter().find_map(|n| {
            let bd = self.broker_addr.get(n)?;
            bd.broker_addrs
                .iter()
                .find(|(_, a)| a.as_str() == addr)
                .map(|(id, _)| (n.clone(), *id))
        })
    }

    /// A connection closed: unregister the addresses whose latest registration came
    /// over it. Older connections of a re-registered broker match nothing (fencing).
    pub fn connection_closed(&mut self, conn: ConnId) -> usize {
        let keys: Vec<AddrKey> = self
            .live
            .iter()
            .filter(|(_, l)| l.conn == conn)
            .map(|(k, _)| k.clone())
            .collect();
        for (cluster, addr) in &keys {
            self.unregister_found(cluster, addr);
        }
        keys.len()
    }

    fn unregister_found(&mut self, cluster: &str, addr: &str) {
        match self.find_broker_of(cluster, addr) {
            Some((name, id)) => self.unregister_broker(cluster, addr, &name, id),
            None => {
                // Upstream lets such an entry linger; nothing routes through it, so
                // we drop it rather than scan it forever.
                self.live.remove(&(cluster.to_string(), addr.to_string()));
            }
        }
    }

    /// Expires brokers silent past their timeout. Returns the connections to close.
    pub fn expire(&mut self, now: Instant) -> Vec<(AddrKey, ConnId)> {
        let expired: Vec<(AddrKey, ConnId)> = self
            .live
            .iter()
            .filter(|(_, l)| l.last_update + l.timeout < now)
            .map(|(k, l)| (k.clone(), l.conn))
            .collect();
        for ((cluster, addr), _) in &expired {
            tracing::warn!(cluster = %cluster, addr = %addr, "broker expired: no heartbeat within its timeout");
            self.unregister_found(cluster, addr);
        }
        expired
    }

    // ----- topic and permission operations (spec §5.7) -----

    /// 217: registers QueueData sent by an admin tool.
    pub fn register_topic(&mut self, topic: &str, queue_datas: &[QueueData]) {
        if queue_datas.is_empty() {
            return;
        }
        if self.topic_queue.contains_key(topic) {
            for qd in queue_datas {
                if !self.broker_addr.contains_key(&qd.broker_name) {
                    tracing::warn!(topic, broker = %qd.broker_name, "register topic: unknown broker");
                    return;
                }
                self.put_queue(topic, qd.clone());
            }
        } else {
            if let Some(qd) = queue_datas
                .iter()
                .find(|qd| !self.broker_addr.contains_key(&qd.broker_name))
            {
                tracing::warn!(topic, broker = %qd.broker_name, "register topic: unknown broker");
                return;
            }
            for qd in queue_datas {
                self.put_queue(topic, qd.clone());
            }
        }
    }

    /// 216: deletes a topic, from one cluster's brokers or everywhere.
    pub fn delete_topic(&mut self, topic: &str, cluster: Option<&str>) {
        match cluster.filter(|c| !c.is_empty()) {
            Some(c) => {
                let names: Vec<String> = self
                    .cluster_addr
                    .get(c)
                    .map(|s| s.iter().cloned().collect())
                    .unwrap_or_default();
                for n in names {
                    self.remove_queue(topic, &n);
                }
            }
            None => self.remove_topic(topic),
        }
    }

    /// 205 (`wipe`) and 327: changes the perm of every topic of a broker.
    /// Returns how many topics were touched.
    pub fn change_write_perm(&mut self, broker_name: &str, wipe: bool) -> i32 {
        let topics: Vec<String> = self.topics_of_broker(broker_name).cloned().collect();
        self.change_write_perm_of(broker_name, wipe, &topics)
    }

    /// [`Self::change_write_perm`] for some of the broker's topics (the writer
    /// goes through a large broker in slices).
    pub fn change_write_perm_of(
        &mut self,
        broker_name: &str,
        wipe: bool,
        topics: &[String],
    ) -> i32 {
        let mut count = 0;
        for t in topics {
            if let Some(mut qd) = self.topic_queue.get(t).and_then(|q| q.get(broker_name)) {
                qd.perm = if wipe {
                    qd.perm & !perm::WRITE
                } else {
                    perm::READ | perm::WRITE
                };
                self.put_queue(t, qd);
                count += 1;
            }
        }
        count
    }
}

#[cfg(test)]
#[path = "tables_tests.rs"]
mod tests;
