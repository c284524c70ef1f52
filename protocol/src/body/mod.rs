//! Bodies the NameServer reads and writes, with fastjson-identical encoders.
//!
//! Every `encode` appends to `out` in the requested
//! [`Dialect`](crate::json::Dialect); maps are ordered by the encoder (Java
//! HashMap order in the legacy dialect, sorted in the standard one), lists are
//! written in the order held.

mod error;
mod lenient;
mod peek;
mod register;
mod register_plain;
mod registration;
mod route;
mod tables;

pub use error::BodyError;
pub use register::{body_crc32, DecodeLimits, MAX_INFLATED_REGISTER_BODY};
pub use registration::{RegisterBrokerBody, TopicConfig};
pub use route::{
    long_map_order, write_route_json, BrokerData, QueueData, RouteRest, TopicQueueMappingInfo,
    TopicRouteData,
};
pub use tables::{BrokerMemberGroup, ClusterInfo, ClusterOrder, DataVersion, KvTable, TopicList};
