//! JSON header codec (serialize type 0): the fastjson form of Java's `RemotingCommand`.
//!
//! Written with properties in alphabetical order, nulls left out and no whitespace;
//! read leniently (any order, unknown keys ignored, numbers/booleans in `extFields`
//! turned into strings, language by name or ordinal).

use crate::command::RemotingCommand;
use crate::frame::FrameError;

pub fn encode(cmd: &RemotingCommand, out: &mut Vec<u8>) {
    let _ = (cmd, out);
    todo!("header_json::encode")
}

pub fn decode(bytes: &[u8]) -> Result<RemotingCommand, FrameError> {
    let _ = bytes;
    todo!("header_json::decode")
}
