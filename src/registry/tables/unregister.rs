//! Liveness and leaving: heartbeats, UNREGISTER_BROKER, a closed connection and
//! the expiry scan (upstream's `RouteInfoManager#updateBrokerInfoUpdateTimestamp`,
//! `#unRegisterBroker`, `#onChannelDestroy` and `#scanNotActiveBroker`).

use std::sync::Arc;
use std::time::Instant;

use protocol::body::DataVersion;
use protocol::codes::perm;

use super::{AddrKey, ConnId, Removal, Tables};

impl Tables {
    /// Refreshes a live entry; never creates one. Returns its stored DataVersion.
    pub fn heartbeat(&mut self, cluster: &str, addr: &str, now: Instant) -> Option<DataVersion> {
        let live = self
            .live
            .get_mut(&(cluster.to_string(), addr.to_string()))?;
        live.last_update = now;
        Some(live.data_version)
    }

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
        self.live_changed |= had_live;
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
            // By the request's id, as upstream's `unRegisterBroker` compares it.
            let was_min = bd.broker_addrs.keys().next() == Some(&broker_id);
            let before = bd.broker_addrs.len();
            bd.retain_addrs(|_, a| a != addr);
            let shrunk = bd.broker_addrs.len() != before;
            if bd.broker_addrs.is_empty() {
                self.broker_addr.remove(broker_name);
                removed = true;
            }
            if was_min && !removed {
                self.min_id_departures
                    .push((broker_name.to_string(), addr.to_string()));
            }
            if shrunk || removed {
                self.broker_changed(broker_name);
            }
        }
        if removed {
            self.cluster_changed(cluster);
            if let Some(names) = self.cluster_addr.get_mut(cluster) {
                names.remove(broker_name);
                if names.is_empty() {
                    self.cluster_addr.remove(cluster);
                }
            }
            // Its queues go in slices (see `settle`): a broker may hold 200k topics.
            if let Some(ids) = self.broker_topics.remove(broker_name) {
                // By name: a slot id may be reused before its removal applies.
                let topics = ids
                    .into_iter()
                    .filter_map(|id| self.topic_queue.name(id).cloned())
                    .collect();
                self.removals.push(Removal {
                    broker: broker_name.to_string(),
                    topics,
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
                let topics: Vec<Arc<str>> = self.topics_of_broker(broker_name).cloned().collect();
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
        // In the set's Java order, so the answer does not hang on our hasher.
        names.ordered().into_iter().find_map(|(n, _)| {
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
                self.live_changed = true;
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
}
