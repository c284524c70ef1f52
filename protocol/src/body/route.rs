//! TopicRouteData and its parts: the body of a route lookup (105) and of 217.

use std::collections::BTreeMap;

use crate::json::Dialect;

/// One broker's queues for a topic. Equality compares all five fields, as upstream.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct QueueData {
    pub broker_name: String,
    pub perm: i32,
    pub read_queue_nums: i32,
    pub topic_sys_flag: i32,
    pub write_queue_nums: i32,
}

/// A broker group: its addresses by broker id (0 = master).
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct BrokerData {
    pub cluster: String,
    pub broker_name: String,
    pub broker_addrs: BTreeMap<i64, String>,
    pub enable_acting_master: bool,
    pub zone_name: Option<String>,
}

/// Static-topic queue mapping of one broker for one topic.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct TopicQueueMappingInfo {
    pub bname: Option<String>,
    pub curr_id_map: Option<BTreeMap<i32, i32>>,
    pub dirty: bool,
    pub epoch: i64,
    pub scope: Option<String>,
    pub topic: Option<String>,
    pub total_queues: i32,
}

/// The route of one topic.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct TopicRouteData {
    pub broker_datas: Vec<BrokerData>,
    /// broker address -> filter server addresses. Always written (`{}` when empty).
    pub filter_server_table: BTreeMap<String, Vec<String>>,
    pub order_topic_conf: Option<String>,
    pub queue_datas: Vec<QueueData>,
    /// brokerName -> mapping; left out when `None`.
    pub topic_queue_mapping_by_broker: Option<BTreeMap<String, TopicQueueMappingInfo>>,
}

impl TopicRouteData {
    pub fn encode(&self, dialect: Dialect, out: &mut Vec<u8>) {
        let _ = (dialect, out);
        todo!()
    }

    /// Parses a route in either dialect (also accepts `topicSynFlag`).
    pub fn decode(bytes: &[u8]) -> Result<Self, super::BodyError> {
        let _ = bytes;
        todo!()
    }
}

impl BrokerData {
    pub fn encode(&self, dialect: Dialect, out: &mut Vec<u8>) {
        let _ = (dialect, out);
        todo!()
    }
}

impl TopicQueueMappingInfo {
    pub fn encode(&self, dialect: Dialect, out: &mut Vec<u8>) {
        let _ = (dialect, out);
        todo!()
    }
}
