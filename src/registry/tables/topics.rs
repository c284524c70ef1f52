//! Topic and permission operations from admin tools (upstream's
//! `RouteInfoManager#registerTopic`, `#deleteTopic`, `#wipeWritePermOfBrokerByLock`
//! and `#addWritePermOfBrokerByLock`).

use std::sync::Arc;

use protocol::body::QueueData;
use protocol::codes::perm;

use super::Tables;

impl Tables {
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
                    .map(|s| s.keys().cloned().collect())
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
        let topics: Vec<Arc<str>> = self.topics_of_broker(broker_name).cloned().collect();
        self.change_write_perm_of(broker_name, wipe, &topics)
    }

    /// [`Self::change_write_perm`] for some of the broker's topics (the writer
    /// goes through a large broker in slices).
    pub fn change_write_perm_of(
        &mut self,
        broker_name: &str,
        wipe: bool,
        topics: &[Arc<str>],
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
