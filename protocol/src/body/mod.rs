//! Bodies the NameServer reads and writes, with fastjson-identical encoders.
//!
//! Every `encode` appends to `out` in the requested [`Dialect`]; maps are ordered by
//! the encoder (Java HashMap order in the legacy dialect, sorted in the standard
//! one), lists are written in the order held.

mod register;
mod route;
mod tables;

pub use register::{body_crc32, RegisterBrokerBody, TopicConfig};
pub use route::{BrokerData, QueueData, TopicQueueMappingInfo, TopicRouteData};
pub use tables::{BrokerMemberGroup, ClusterInfo, DataVersion, KvTable, TopicList};

/// A body that could not be decoded. The message becomes the reply's remark.
#[derive(Debug, thiserror::Error)]
pub enum BodyError {
    #[error("{0}")]
    Json(#[from] serde_json::Error),
    #[error("decompress register body: {0}")]
    Inflate(std::io::Error),
    #[error("compressed register body ends early")]
    Truncated,
    #[error("bad topic config line: {0}")]
    BadTopicConfig(String),
    #[error("{0}")]
    Other(String),
}
