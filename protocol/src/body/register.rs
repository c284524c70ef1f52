//! REGISTER_BROKER bodies: plain JSON (`RegisterBrokerBody`, or a bare
//! `TopicConfigSerializeWrapper` before V3_0_11) and the zlib-compressed binary form.

use std::collections::BTreeMap;

use super::route::TopicQueueMappingInfo;
use super::tables::DataVersion;
use super::BodyError;

/// One topic as a broker registers it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TopicConfig {
    /// The topic name from `topicName` (not the map key).
    pub topic_name: String,
    pub read_queue_nums: i32,
    pub write_queue_nums: i32,
    pub perm: i32,
    /// "SINGLE_TAG" or "MULTI_TAG".
    pub topic_filter_type: String,
    pub topic_sys_flag: i32,
    pub order: bool,
    pub attributes: BTreeMap<String, String>,
}

impl Default for TopicConfig {
    fn default() -> Self {
        TopicConfig {
            topic_name: String::new(),
            read_queue_nums: 16,
            write_queue_nums: 16,
            perm: 6,
            topic_filter_type: "SINGLE_TAG".to_string(),
            topic_sys_flag: 0,
            order: false,
            attributes: BTreeMap::new(),
        }
    }
}

/// What a registration carries, whatever its wire form.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct RegisterBrokerBody {
    pub data_version: DataVersion,
    /// In the order the body lists them.
    pub topic_configs: Vec<TopicConfig>,
    /// topic -> mapping info (`topicQueueMappingInfoMap`).
    pub mapping_infos: BTreeMap<String, TopicQueueMappingInfo>,
    /// `None` when the body format has no filter list (version < 37).
    pub filter_server_list: Option<Vec<String>>,
}

impl RegisterBrokerBody {
    /// Decodes a body as the Java NameServer would for a request of `version`
    /// with the header's `compressed` flag. `None` or empty → empty table and a
    /// zero DataVersion.
    pub fn decode(body: Option<&[u8]>, compressed: bool, version: i32) -> Result<Self, BodyError> {
        let _ = (body, compressed, version);
        todo!()
    }

    /// The plain JSON form a 5.x broker sends (legacy dialect).
    pub fn encode_plain(&self) -> Vec<u8> {
        todo!()
    }

    /// The zlib-compressed form for a request of `version`.
    pub fn encode_compressed(&self, version: i32) -> Vec<u8> {
        let _ = version;
        todo!()
    }
}

/// `bodyCrc32` as brokers compute it: CRC32 of the body bytes `& 0x7FFFFFFF`.
pub fn body_crc32(body: &[u8]) -> i32 {
    (crc32fast::hash(body) & 0x7FFF_FFFF) as i32
}
