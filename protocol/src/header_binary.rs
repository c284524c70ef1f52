//! ROCKETMQ binary header codec (serialize type 1).

use crate::command::RemotingCommand;
use crate::frame::FrameError;

pub fn encode(cmd: &RemotingCommand, out: &mut Vec<u8>) {
    let _ = (cmd, out);
    todo!("header_binary::encode")
}

pub fn decode(bytes: &[u8]) -> Result<RemotingCommand, FrameError> {
    let _ = bytes;
    todo!("header_binary::decode")
}
