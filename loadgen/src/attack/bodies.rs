//! Requests and bodies the hostile clients send. Big bodies are streamed into
//! the zlib encoder, so loadgen never holds what the server will inflate.

use std::io::Write;

use bytes::{Bytes, BytesMut};
use flate2::write::ZlibEncoder;
use flate2::Compression;
use protocol::body::{body_crc32, DataVersion, RegisterBrokerBody, TopicConfig};
use protocol::codes::{request, version};
use protocol::frame;
use protocol::{RemotingCommand, SerializeType};

use crate::requests::RegisterFields;

/// The cluster every simulated broker of the harness joins.
pub const CLUSTER: &str = "AttackCluster";

/// REGISTER_BROKER (103) for broker `name` (id 0) at `addr`, as
/// `BrokerOuterAPI#registerBroker` sends it.
pub fn register(name: &str, addr: &str, compressed: bool, body: &[u8]) -> RemotingCommand {
    let mut cmd = RemotingCommand::request(
        request::REGISTER_BROKER,
        0,
        RegisterFields {
            broker_name: name,
            broker_addr: addr,
            cluster: CLUSTER,
            ha_addr: addr,
            broker_id: 0,
            // Long enough that no registration of a run expires mid-run.
            heartbeat_timeout_millis: 3_600_000,
            compressed,
            crc: body_crc32(body),
        }
        .ext(),
    );
    cmd.version = version::CURRENT;
    cmd
}

/// A plain register body naming `topics`.
pub fn plain_topics(topics: impl Iterator<Item = String>) -> Vec<u8> {
    RegisterBrokerBody {
        data_version: DataVersion {
            counter: 1,
            state_version: 0,
            timestamp: 1_700_000_000_000,
        },
        topic_configs: topics
            .map(|t| TopicConfig {
                topic_name: t,
                read_queue_nums: 4,
                write_queue_nums: 4,
                ..TopicConfig::default()
            })
            .collect(),
        mapping_infos: Default::default(),
        filter_server_list: Some(Vec::new()),
    }
    .encode_plain()
}

const DATA_VERSION_JSON: &[u8] = br#"{"counter":1,"stateVersion":0,"timestamp":1700000000000}"#;

fn part(enc: &mut ZlibEncoder<Vec<u8>>, bytes: &[u8]) {
    let _ = enc.write_all(&(bytes.len() as i32).to_be_bytes());
    let _ = enc.write_all(bytes);
}

/// A compressed register body (the `RegisterBrokerBody#encode(true)` layout)
/// that inflates to about `inflated` bytes: its DataVersion part is that many
/// spaces before a valid DataVersion, so a server that accepts it has inflated
/// and parsed all of it. Zeros and spaces deflate about 1000:1.
pub fn inflate_bomb(inflated: usize) -> Vec<u8> {
    let mut enc = ZlibEncoder::new(Vec::new(), Compression::best());
    let pad = inflated.saturating_sub(DATA_VERSION_JSON.len() + 64);
    let _ = enc.write_all(&((pad + DATA_VERSION_JSON.len()) as i32).to_be_bytes());
    let chunk = vec![b' '; 1 << 20];
    let mut left = pad;
    while left > 0 {
        let n = left.min(chunk.len());
        let _ = enc.write_all(&chunk[..n]);
        left -= n;
    }
    let _ = enc.write_all(DATA_VERSION_JSON);
    let _ = enc.write_all(&0i32.to_be_bytes()); // no topics
    part(&mut enc, b"[]"); // filter servers
    let _ = enc.write_all(&0i32.to_be_bytes()); // no mappings (V5_0_0+)
    enc.finish().unwrap_or_default()
}

/// A compressed register body of `count` distinct topics (`TopicConfig#encode`
/// lines), streamed: 2 M topics deflate to about 2.6 MB.
pub fn topic_flood(count: usize) -> Vec<u8> {
    let mut enc = ZlibEncoder::new(Vec::new(), Compression::best());
    part(&mut enc, DATA_VERSION_JSON);
    let _ = enc.write_all(&(count.min(i32::MAX as usize) as i32).to_be_bytes());
    let mut line = Vec::with_capacity(64);
    for i in 0..count {
        line.clear();
        let _ = write!(line, "F{i:07} 1 1 6 SINGLE_TAG {{}}");
        part(&mut enc, &line);
    }
    part(&mut enc, b"[]");
    let _ = enc.write_all(&0i32.to_be_bytes());
    enc.finish().unwrap_or_default()
}

/// `count` pipelined GET_ALL_TOPIC_LIST_FROM_NAMESERVER (206) frames in one
/// buffer.
pub fn topic_list_burst(count: usize) -> Bytes {
    let mut out = BytesMut::new();
    for i in 0..count {
        let mut cmd = RemotingCommand::request(
            request::GET_ALL_TOPIC_LIST_FROM_NAMESERVER,
            i as i32 + 1,
            Vec::new(),
        );
        cmd.version = version::CURRENT;
        frame::encode(&cmd, SerializeType::Json, None, &mut out);
    }
    out.freeze()
}

/// PUT_KV_CONFIG (100): the value travels in the header.
pub fn kv_put(namespace: &str, key: &str, value: String) -> RemotingCommand {
    RemotingCommand::request(
        request::PUT_KV_CONFIG,
        0,
        vec![
            ("namespace".to_string(), namespace.to_string()),
            ("key".to_string(), key.to_string()),
            ("value".to_string(), value),
        ],
    )
}

/// DELETE_KV_CONFIG (102).
pub fn kv_delete(namespace: &str, key: &str) -> RemotingCommand {
    RemotingCommand::request(
        request::DELETE_KV_CONFIG,
        0,
        vec![
            ("namespace".to_string(), namespace.to_string()),
            ("key".to_string(), key.to_string()),
        ],
    )
}

/// The first 8 bytes of a frame announcing `total` bytes after the length
/// prefix (JSON header of `hdr_len` bytes); what follows is never completed.
pub fn frame_start(total: u32, hdr_len: u32) -> [u8; 8] {
    frame::prefix(total, SerializeType::Json, hdr_len)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bomb_decodes_to_an_empty_registration() {
        let body = inflate_bomb(1 << 20);
        assert!(body.len() < 4096, "{}", body.len());
        let b = RegisterBrokerBody::decode(Some(&body), true, version::CURRENT).unwrap();
        assert_eq!(b.data_version.counter, 1);
        assert!(b.topic_configs.is_empty());
    }

    #[test]
    fn flood_decodes_to_every_topic() {
        let body = topic_flood(1000);
        let b = RegisterBrokerBody::decode(Some(&body), true, version::CURRENT).unwrap();
        // Every topic once; they come in topicConfigTable's (Java hash) order.
        let mut names: Vec<&str> = b
            .topic_configs
            .iter()
            .map(|t| t.topic_name.as_str())
            .collect();
        names.sort_unstable();
        let expected: Vec<String> = (0..1000).map(|i| format!("F{i:07}")).collect();
        assert_eq!(names, expected);
    }
}
