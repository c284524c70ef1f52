//! Header codecs: the remoting command header in either serialization, as
//! `RemotingCommand#headerEncode` / `RemotingCommand#headerDecode` choose by the
//! frame's serialize type.
//!
//! - [`json`] (type 0): fastjson's form, with a fast path for the headers real
//!   clients send (`json_fast`) and the property names both JSON readers share
//!   (`json_keys`).
//! - [`binary`] (type 1): `RocketMQSerializable`.
//! - `ext_order`: the Java `HashMap` order both codecs write ext fields in.
//!
//! Neither codec knows about frames; their one error is [`HeaderError`].

pub mod binary;
mod ext_order;
pub mod json;
mod json_fast;
mod json_keys;

use crate::command::{RemotingCommand, SerializeType};
use crate::error::HeaderError;

/// Appends `cmd`'s header in serialization `ty` to `out`.
pub fn encode(cmd: &RemotingCommand, ty: SerializeType, out: &mut Vec<u8>) {
    match ty {
        SerializeType::Json => json::encode(cmd, out),
        SerializeType::Rocketmq => binary::encode(cmd, out),
    }
}

/// Reads a header of serialization `ty` occupying all of `bytes`.
pub fn decode(ty: SerializeType, bytes: &[u8]) -> Result<RemotingCommand, HeaderError> {
    match ty {
        SerializeType::Json => json::decode(bytes),
        SerializeType::Rocketmq => binary::decode(bytes),
    }
}
