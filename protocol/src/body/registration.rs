//! What a REGISTER_BROKER body carries, as plain data; [`super::register`] reads
//! and writes its wire forms.

use std::borrow::Cow;
use std::collections::BTreeMap;

use super::route::TopicQueueMappingInfo;
use super::tables::DataVersion;

/// `TopicFilterType.SINGLE_TAG`, the field's default.
pub const SINGLE_TAG: &str = "SINGLE_TAG";
/// `TopicFilterType.MULTI_TAG`.
pub const MULTI_TAG: &str = "MULTI_TAG";

/// A filter type as a static string when it is one of the two Java knows.
pub fn filter_type(s: &str) -> Cow<'static, str> {
    match s {
        SINGLE_TAG => Cow::Borrowed(SINGLE_TAG),
        MULTI_TAG => Cow::Borrowed(MULTI_TAG),
        other => Cow::Owned(other.to_string()),
    }
}

/// One topic as a broker registers it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TopicConfig {
    /// The topic name from `topicName` (not the map key).
    pub topic_name: String,
    pub read_queue_nums: i32,
    pub write_queue_nums: i32,
    pub perm: i32,
    /// "SINGLE_TAG" or "MULTI_TAG" (static: a storm's million topics allocate
    /// no copy of it).
    pub topic_filter_type: Cow<'static, str>,
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
            topic_filter_type: Cow::Borrowed(SINGLE_TAG),
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
