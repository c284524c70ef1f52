//! Small bodies: DataVersion, ClusterInfo, TopicList, KVTable, BrokerMemberGroup and
//! the KV config file.

use std::collections::{BTreeMap, BTreeSet};

use super::route::BrokerData;
use crate::json::Dialect;

/// `{"counter":5,"stateVersion":0,"timestamp":1700000000000}`; equal iff all three are.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Hash)]
pub struct DataVersion {
    pub counter: i64,
    pub state_version: i64,
    pub timestamp: i64,
}

impl DataVersion {
    pub fn encode(&self, out: &mut Vec<u8>) {
        let _ = out;
        todo!()
    }
    pub fn decode(bytes: &[u8]) -> Result<Self, super::BodyError> {
        let _ = bytes;
        todo!()
    }
}

/// Body of 106 (always the legacy dialect).
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct ClusterInfo {
    pub broker_addr_table: BTreeMap<String, BrokerData>,
    pub cluster_addr_table: BTreeMap<String, BTreeSet<String>>,
}

impl ClusterInfo {
    pub fn encode(&self, dialect: Dialect, out: &mut Vec<u8>) {
        let _ = (dialect, out);
        todo!()
    }
    pub fn decode(bytes: &[u8]) -> Result<Self, super::BodyError> {
        let _ = bytes;
        todo!()
    }
}

/// Body of the topic-list codes: `{"brokerAddr"?:..,"topicList":[..]}`.
/// `topic_list` is a Java Set: written in HashMap order (legacy) or sorted (standard).
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct TopicList {
    pub broker_addr: Option<String>,
    pub topic_list: Vec<String>,
}

impl TopicList {
    pub fn encode(&self, dialect: Dialect, out: &mut Vec<u8>) {
        let _ = (dialect, out);
        todo!()
    }
    pub fn decode(bytes: &[u8]) -> Result<Self, super::BodyError> {
        let _ = bytes;
        todo!()
    }
}

/// `{"table":{k:v}}`, the body of 219 and of a register reply.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct KvTable {
    pub table: BTreeMap<String, String>,
}

impl KvTable {
    pub fn encode(&self, dialect: Dialect, out: &mut Vec<u8>) {
        let _ = (dialect, out);
        todo!()
    }
    pub fn decode(bytes: &[u8]) -> Result<Self, super::BodyError> {
        let _ = bytes;
        todo!()
    }
}

/// Body of 901: `{"brokerMemberGroup":{"brokerAddrs":{..},"brokerName":..,"cluster":..}}`.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct BrokerMemberGroup {
    pub cluster: Option<String>,
    pub broker_name: Option<String>,
    pub broker_addrs: BTreeMap<i64, String>,
}

impl BrokerMemberGroup {
    pub fn encode(&self, dialect: Dialect, out: &mut Vec<u8>) {
        let _ = (dialect, out);
        todo!()
    }
}
