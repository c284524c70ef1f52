//! REGISTER_BROKER: upstream's `RouteInfoManager#registerBroker`, one function
//! per step, in upstream's order.

use std::collections::BTreeMap;
use std::time::{Duration, Instant};

use protocol::body::{BrokerData, DataVersion, QueueData, RegisterBrokerBody, TopicConfig};
use protocol::codes::perm;

use super::{AddrKey, AppliedBody, ConnId, LiveBroker, NameSet, Tables, DEFAULT_BROKER_TIMEOUT};
use crate::registry::reregister::BodyPrint;
use crate::registry::HashSet;

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
    /// The TCP peer of the connection the registration came over (for the
    /// console; upstream keeps the channel in `BrokerLiveInfo`).
    pub peer: Option<std::net::SocketAddr>,
}

/// What a registration answers (upstream's `RegisterBrokerResult`): `None` from
/// [`Tables::register_broker`] means "register broker failed".
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

/// Who the registering address is in its group, once its address is put.
struct Standing {
    /// The lowest id of a master-less group, from a broker that knows acting
    /// masters (upstream's `isPrimeSlave`).
    prime_slave: bool,
    /// The group's acting-master flag.
    group_acting: bool,
}

impl Tables {
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
        // 1-2. cluster membership; the group, created on first sight
        self.join_cluster(reg);
        let mut register_first = self.create_group(reg);

        // 3-4. the group takes the acting flag and zone; a master/slave switch
        // drops the address's other id
        let bd = self.broker_addr.get_mut(&reg.name)?;
        let mut changed = take_acting_flag_and_zone(bd, reg);
        changed |= drop_addr_under_other_ids(bd, reg);
        let old_addr_at_id = bd.broker_addrs.get(&reg.broker_id).cloned();

        // 5. stateVersion fence: a live, newer holder of this id wins
        if self.fenced_by_state_version(reg, old_addr_at_id.as_deref()) {
            self.live_changed |= self
                .live
                .remove(&(reg.cluster.clone(), reg.addr.clone()))
                .is_some();
            if changed {
                self.broker_changed(&reg.name);
            }
            return Some((RegisterResult::default(), None));
        }
        // 6. a single-topic registration may not be a broker's first
        if refuses_single_topic(reg, old_addr_at_id.is_none()) {
            if changed {
                self.broker_changed(&reg.name);
            }
            return None;
        }

        // 7. put the address; who it is in the group now
        let bd = self.broker_addr.get_mut(&reg.name)?;
        let (addr_moved, first_at_id) = put_addr(bd, reg);
        changed |= addr_moved;
        register_first |= first_at_id;
        let standing = standing(bd, reg);
        if changed {
            self.broker_changed(&reg.name);
        }

        // 8-10. a master or prime slave writes topic routes: stale topics,
        // mapping infos, and which QueueData to put
        let puts = if writes_topic_routes(reg, &standing) {
            Some(self.update_topic_routes(reg, settings, register_first, &standing))
        } else {
            None
        };
        // 11-13. liveness, filter servers, a slave learns its master
        self.refresh_liveness(reg, conn, now);
        self.put_filter_servers(reg);
        Some((self.master_of(reg), puts))
    }

    /// The cluster lists the broker name (`clusterAddrTable`).
    fn join_cluster(&mut self, reg: &Registration) {
        let names = self
            .cluster_addr
            .get_or_insert_with(reg.cluster.clone(), NameSet::default);
        if names.insert(reg.name.clone(), ()).0.is_none() {
            self.cluster_changed(&reg.cluster);
        }
    }

    /// The broker group, created on first sight (`brokerAddrTable`); says whether
    /// it was (upstream's `registerFirst`).
    fn create_group(&mut self, reg: &Registration) -> bool {
        if self.broker_addr.contains_key(&reg.name) {
            return false;
        }
        let (_, reranked) = self.broker_addr.insert(
            reg.name.clone(),
            BrokerData {
                cluster: reg.cluster.clone(),
                broker_name: reg.name.clone(),
                broker_addrs: BTreeMap::new(),
                enable_acting_master: false,
                zone_name: None,
                addr_order: Vec::new(),
            },
        );
        self.dirty.broker_order |= reranked;
        self.group_changed(&reg.name);
        true
    }

    /// A live address already at this id with a newer `stateVersion` keeps it:
    /// the registration is answered but changes nothing more.
    fn fenced_by_state_version(&self, reg: &Registration, old_addr_at_id: Option<&str>) -> bool {
        let Some(old_addr) = old_addr_at_id.filter(|a| *a != reg.addr) else {
            return false;
        };
        self.live
            .get(&(reg.cluster.clone(), old_addr.to_string()))
            .is_some_and(|old| old.data_version.state_version > reg.body.data_version.state_version)
    }

    /// The topic-route part of a registration from a master or a prime slave:
    /// with `deleteTopicWithBrokerRegistration`, the broker's topics missing from
    /// the body go; the static-topic mappings of a new DataVersion are put; and
    /// what [`Self::put_topics`] is to put is decided.
    fn update_topic_routes(
        &mut self,
        reg: &Registration,
        settings: TableSettings,
        register_first: bool,
        standing: &Standing,
    ) -> TopicPuts {
        // Upstream's `isBrokerTopicConfigChanged`, read before liveness is refreshed.
        let key: AddrKey = (reg.cluster.clone(), reg.addr.clone());
        let prev_version = self.live.get(&key).map(|l| l.data_version);
        let version_changed = prev_version != Some(reg.body.data_version);

        if settings.delete_topic_with_broker_registration && reg.body.mapping_infos.is_empty() {
            self.remove_topics_missing_from(reg);
        }
        let puts = TopicPuts {
            all: register_first || version_changed,
            read_only: standing.prime_slave && standing.group_acting,
        };
        if version_changed || register_first {
            self.put_mapping_infos(reg);
        }
        puts
    }

    /// The broker's topics that its registration no longer lists (upstream's
    /// `topicSetOfBrokerName` minus the body's topics) lose its QueueData.
    fn remove_topics_missing_from(&mut self, reg: &Registration) {
        let keep: HashSet<&str> = reg
            .body
            .topic_configs
            .iter()
            .map(|t| t.topic_name.as_str())
            .collect();
        let stale: Vec<std::sync::Arc<str>> = self
            .topics_of_broker(&reg.name)
            .filter(|t| !keep.contains(&***t))
            .cloned()
            .collect();
        for t in stale {
            self.remove_queue(&t, &reg.name);
        }
    }

    /// `topicQueueMappingInfoTable`: the body's mappings, by topic and broker name.
    fn put_mapping_infos(&mut self, reg: &Registration) {
        for (topic, info) in &reg.body.mapping_infos {
            let bname = info.bname.clone().unwrap_or_default();
            let per_topic = self.mapping.entry(topic.clone()).or_default();
            if per_topic.get(&bname) != Some(info) {
                per_topic.insert(bname, info.clone());
                self.topic_changed(topic);
            }
        }
    }

    /// `brokerLiveTable`: the address is live, bound to this connection.
    fn refresh_liveness(&mut self, reg: &Registration, conn: ConnId, now: Instant) {
        let timeout = reg
            .heartbeat_timeout_ms
            .filter(|ms| *ms > 0)
            .map(|ms| Duration::from_millis(ms as u64))
            .unwrap_or(DEFAULT_BROKER_TIMEOUT);
        let prev = self.live.insert(
            (reg.cluster.clone(), reg.addr.clone()),
            LiveBroker {
                last_update: now,
                timeout,
                data_version: reg.body.data_version,
                conn,
                ha_server_addr: reg.ha_server_addr.clone(),
                peer: reg.peer,
                // Set again by the writer once the body is applied.
                applied: None,
            },
        );
        // A re-registration that changes nothing is a heartbeat: the console's
        // live view picks its time up on the next scan tick.
        let same = prev.is_some_and(|p| {
            p.conn == conn
                && p.timeout == timeout
                && p.data_version == reg.body.data_version
                && p.peer == reg.peer
        });
        self.live_changed |= !same;
    }

    /// `filterServerTable`: a listed set replaces the address's, an empty one
    /// removes it, an absent one leaves it.
    fn put_filter_servers(&mut self, reg: &Registration) {
        let Some(list) = &reg.body.filter_server_list else {
            return;
        };
        let key: AddrKey = (reg.cluster.clone(), reg.addr.clone());
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

    /// A slave learns its group's master, when that master is live.
    fn master_of(&self, reg: &Registration) -> RegisterResult {
        let mut result = RegisterResult::default();
        if reg.broker_id == 0 {
            return result;
        }
        let master = self
            .broker_addr
            .get(&reg.name)
            .and_then(|bd| bd.broker_addrs.get(&0));
        if let Some(master) = master {
            if let Some(ml) = self.live.get(&(reg.cluster.clone(), master.clone())) {
                result.ha_server_addr = ml.ha_server_addr.clone();
                result.master_addr = Some(master.clone());
            }
        }
        result
    }

    /// The body `reg`'s address last applied in full, when this registration
    /// (its body still undecoded, `reg.body` holding only its DataVersion) may be
    /// applied without it: upstream's `isBrokerTopicConfigChanged` is false, the
    /// body is the same bytes, no QueueData went since, and neither
    /// `registerFirst`, `deleteTopicWithBrokerRegistration` nor a standing that
    /// newly writes topic routes needs its topics.
    pub fn unchanged_body(
        &self,
        reg: &Registration,
        print: &BodyPrint,
        settings: TableSettings,
    ) -> Option<AppliedBody> {
        if settings.delete_topic_with_broker_registration {
            return None;
        }
        let live = self.live.get(&(reg.cluster.clone(), reg.addr.clone()))?;
        let applied = live.applied.filter(|a| {
            live.data_version == reg.body.data_version
                && a.print == *print
                && a.removals == self.queue_removals
        })?;
        // Not a first registration: the group exists with this address at this id.
        let bd = self.broker_addr.get(&reg.name)?;
        if bd.broker_addrs.get(&reg.broker_id) != Some(&reg.addr) {
            return None;
        }
        // The group's lowest id once the address is dropped from other ids.
        let min = bd
            .broker_addrs
            .iter()
            .filter(|(id, a)| **id == reg.broker_id || **a != reg.addr)
            .map(|(id, _)| *id)
            .min()
            .unwrap_or(reg.broker_id);
        let prime_slave =
            reg.enable_acting_master.is_some() && reg.broker_id != 0 && reg.broker_id == min;
        let writes_routes = reg.broker_id == 0 || prime_slave;
        (!writes_routes || applied.routes_written).then_some(applied)
    }

    /// Records the body the address just registered (in full, or recognized by
    /// [`Self::unchanged_body`]).
    /// Says whether the address is live (a fenced registration is not).
    pub fn remember_body(
        &mut self,
        reg: &Registration,
        print: BodyPrint,
        routes_written: bool,
    ) -> bool {
        let removals = self.queue_removals;
        let Some(live) = self.live.get_mut(&(reg.cluster.clone(), reg.addr.clone())) else {
            return false;
        };
        live.applied = Some(AppliedBody {
            print,
            routes_written,
            removals,
        });
        true
    }

    /// Every live address's applied body, for the shards' hints.
    pub fn applied_bodies(&self) -> impl Iterator<Item = (&str, &str, DataVersion, BodyPrint)> {
        let removals = self.queue_removals;
        self.live.iter().filter_map(move |((c, a), l)| {
            let applied = l.applied.filter(|x| x.removals == removals)?;
            Some((c.as_str(), a.as_str(), l.data_version, applied.print))
        })
    }

    /// The QueueData puts of a registration (upstream's `createAndUpdateQueueData`
    /// for each topic `isTopicConfigChanged` lets through) for `topics`, a slice
    /// of `reg`'s topic configs.
    pub fn put_topics(&mut self, reg: &Registration, puts: &TopicPuts, topics: &[TopicConfig]) {
        for tc in topics {
            let lacks = || {
                !self
                    .topic_queue
                    .get(tc.topic_name.as_str())
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
}

/// The acting-master flag and the zone follow the latest registration. Says
/// whether the group changed.
fn take_acting_flag_and_zone(bd: &mut BrokerData, reg: &Registration) -> bool {
    let mut changed = false;
    let acting = reg.enable_acting_master == Some(true);
    if bd.enable_acting_master != acting {
        bd.enable_acting_master = acting;
        changed = true;
    }
    if bd.zone_name != reg.zone_name {
        bd.zone_name = reg.zone_name.clone();
        changed = true;
    }
    changed
}

/// The same address under another id is a master/slave switch: the old id goes
/// before the new one is put. Says whether the group changed.
fn drop_addr_under_other_ids(bd: &mut BrokerData, reg: &Registration) -> bool {
    let before = bd.broker_addrs.len();
    bd.retain_addrs(|id, a| !(a == &reg.addr && *id != reg.broker_id));
    bd.broker_addrs.len() != before
}

/// A registration listing a single topic may not be a broker's first at its id
/// (upstream logs "Can't register topicConfigWrapper" and fails it).
fn refuses_single_topic(reg: &Registration, no_addr_at_id: bool) -> bool {
    let refused = no_addr_at_id && reg.body.topic_configs.len() == 1;
    if refused {
        tracing::warn!(
            broker = %reg.name, addr = %reg.addr, broker_id = reg.broker_id,
            "single-topic registration before the broker's full registration refused"
        );
    }
    refused
}

/// Puts the address at its id. Says whether the group changed, and whether no
/// address was at that id before (which makes it a first registration too).
fn put_addr(bd: &mut BrokerData, reg: &Registration) -> (bool, bool) {
    let old = bd.put_addr(reg.broker_id, reg.addr.clone());
    (old.as_deref() != Some(reg.addr.as_str()), old.is_none())
}

/// Where the registering address stands once its address is put.
fn standing(bd: &BrokerData, reg: &Registration) -> Standing {
    let min = bd.broker_addrs.keys().next().copied().unwrap_or(0);
    Standing {
        prime_slave: reg.enable_acting_master.is_some()
            && reg.broker_id != 0
            && reg.broker_id == min,
        group_acting: bd.enable_acting_master,
    }
}

/// Only a master or a prime slave writes topic routes.
fn writes_topic_routes(reg: &Registration, standing: &Standing) -> bool {
    reg.broker_id == 0 || standing.prime_slave
}
