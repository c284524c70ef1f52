//! `jsonCompatRelease` through the wire: the default writes strings as RocketMQ
//! 5.5 (fastjson2) does, `5.3` as fastjson 1.2.83 does, in route bodies and in
//! the JSON reply header alike; and 318 cannot switch it. The per-char rules are
//! pinned against the real encoders in `protocol/tests/escape_golden.rs`.

mod common;

use std::io::Read;

use common::*;
use protocol::codes::{request as rq, response};
use protocol::RemotingCommand;

const CLUSTER: &str = "C\u{e9}/1";
const BROKER: &str = "broker-\u{e9}t\u{e9}";

/// The raw JSON header of the reply to `cmd` (sent with a fresh opaque).
fn raw_reply_header(c: &mut Client, mut cmd: RemotingCommand) -> String {
    cmd.opaque = 77;
    c.send(&cmd, None);
    let mut len = [0u8; 4];
    c.stream.read_exact(&mut len).expect("frame length");
    let mut rest = vec![0u8; u32::from_be_bytes(len) as usize];
    c.stream.read_exact(&mut rest).expect("frame");
    let info = u32::from_be_bytes([rest[0], rest[1], rest[2], rest[3]]);
    assert_eq!(info >> 24, 0, "a JSON header");
    let header_len = (info & 0x00FF_FFFF) as usize;
    String::from_utf8(rest[4..4 + header_len].to_vec()).expect("UTF-8 header")
}

/// (standard-dialect route body of `esc-t1`, the 105 reply header of a missing
/// topic) from a server started with `props`.
fn route_and_miss(props: &[(&str, &str)]) -> (String, String) {
    let server = TestServer::start(props);
    let mut c = server.client();
    let reg = BrokerReg::new(
        CLUSTER,
        BROKER,
        "127.0.0.1:10911",
        0,
        vec![topic("esc-t1", 6, 4), topic("esc-t2", 6, 4)],
    );
    c.register_ok(&reg);
    let (cmd, body) = c.ask(rq::GET_ROUTEINFO_BY_TOPIC, &[("topic", "esc-t1")], None);
    assert_eq!(cmd.code, response::SUCCESS);
    let body = String::from_utf8(body.expect("route body")).expect("UTF-8 body");
    let miss = raw_reply_header(
        &mut c,
        request(
            rq::GET_ROUTEINFO_BY_TOPIC,
            &[("topic", "esc-\u{85}\u{2028}")],
        ),
    );
    (body, miss)
}

fn route_body(broker: &str, cluster: &str) -> String {
    format!(
        "{{\"brokerDatas\":[{{\"brokerAddrs\":{{\"0\":\"127.0.0.1:10911\"}},\"brokerName\":\"{broker}\",\
         \"cluster\":\"{cluster}\",\"enableActingMaster\":false}}],\"filterServerTable\":{{}},\
         \"queueDatas\":[{{\"brokerName\":\"{broker}\",\"perm\":6,\"readQueueNums\":4,\
         \"topicSysFlag\":0,\"writeQueueNums\":4}}]}}"
    )
}

fn miss_header(topic_in_remark: &str) -> String {
    format!(
        "{{\"code\":17,\"flag\":1,\"language\":\"JAVA\",\"opaque\":77,\"remark\":\
         \"No topic route info in name server for the topic: {topic_in_remark}\\n\
         See https://rocketmq.apache.org/docs/bestPractice/06FAQ for further details.\",\
         \"serializeTypeCurrentRPC\":\"JSON\",\"version\":479}}"
    )
}

#[test]
fn default_writes_as_5_5() {
    let (body, miss) = route_and_miss(&[]);
    assert_eq!(body, route_body(BROKER, CLUSTER));
    assert_eq!(miss, miss_header("esc-\u{85}\u{2028}"));
}

#[test]
fn release_5_3_writes_as_fastjson_1() {
    let (body, miss) = route_and_miss(&[("jsonCompatRelease", "5.3.3")]);
    assert_eq!(body, route_body("broker-\\u00E9t\\u00E9", "C\\u00E9\\/1"));
    assert_eq!(miss, miss_header("esc-\\u0085\\u2028"));
}

#[test]
fn update_cannot_switch_the_release() {
    let server = TestServer::start(&[]);
    let mut c = server.client();
    assert_eq!(
        try_update(&mut c, b"jsonCompatRelease=5.3\n"),
        (
            response::NO_PERMISSION,
            "Can not update config in black list.".to_string()
        )
    );
    assert!(
        config_text(&mut c)
            .lines()
            .any(|l| l == "jsonCompatRelease=5.5"),
        "319 still shows 5.5"
    );
}
