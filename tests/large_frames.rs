//! Large frames read into room reserved from their length prefix
//! (`src/server/read_buf.rs`): split across many writes, followed by small
//! frames in the same write, at the frame limit, and when the reservation pool
//! (`maxIncompleteFrameBytes`) cannot cover one. Each test drives the real binary.

mod common;

use std::collections::BTreeMap;
use std::thread;
use std::time::Duration;

use common::codes::request as rq;
use common::*;
use protocol::frame;
use protocol::SerializeType;

/// A request code no handler knows: answered with an error, its body ignored.
const UNKNOWN_CODE: i32 = 9999;

fn unknown_frame(opaque: i32, body_len: usize) -> Vec<u8> {
    let mut cmd = request(UNKNOWN_CODE, &[]);
    cmd.opaque = opaque;
    frame::encode_to_vec(&cmd, SerializeType::Json, Some(&vec![b'z'; body_len]))
}

fn assert_unknown(reply: &Reply, opaque: i32) {
    assert_eq!(reply.0.code, codes::response::REQUEST_CODE_NOT_SUPPORTED);
    assert_eq!(reply.0.opaque, opaque);
    assert_eq!(
        remark(reply),
        format!(" request type {UNKNOWN_CODE} not supported")
    );
}

#[test]
fn a_registration_split_across_many_writes_is_decoded_whole() {
    let server = TestServer::start(&[]);
    let topics: Vec<_> = (0..4000)
        .map(|i| topic(&format!("split-frame-topic-{i:05}"), 6, 8))
        .collect();
    let reg = BrokerReg::new("C", "b1", "10.0.0.1:10911", 0, topics);
    let (mut cmd, body) = reg.request();
    cmd.opaque = 7;
    let bytes = frame::encode_to_vec(&cmd, SerializeType::Json, Some(&body));
    assert!(bytes.len() > 256 * 1024, "frame of {} bytes", bytes.len());
    let mut broker = server.client();
    // The prefix alone first, then odd-sized pieces (nodelay: one segment each).
    broker.send_raw(&bytes[..3]).expect("send");
    thread::sleep(Duration::from_millis(20));
    for (i, piece) in bytes[3..].chunks(1499).enumerate() {
        broker.send_raw(piece).expect("send");
        if i % 64 == 0 {
            thread::sleep(Duration::from_millis(2));
        }
    }
    let reply = broker.read_frame().expect("registration reply");
    assert_eq!(reply.0.code, 0, "{:?}", reply.0.remark);
    assert_eq!(reply.0.opaque, 7);
    let mut reader = server.client();
    for name in ["split-frame-topic-00000", "split-frame-topic-03999"] {
        let route = reader.route(name).expect("route registered");
        assert_eq!(route.queue_datas, vec![queue_data("b1", 6, 8)]);
        assert_eq!(route.broker_datas.len(), 1);
        assert_eq!(
            route.broker_datas[0].broker_addrs,
            BTreeMap::from([(0, "10.0.0.1:10911".to_string())])
        );
    }
    assert!(reader.route("split-frame-topic-04000").is_none());
}

#[test]
fn small_frames_behind_a_large_one_in_the_same_write_are_answered_in_order() {
    let server = TestServer::start(&[]);
    let mut bytes = unknown_frame(1, 1 << 20);
    for opaque in 2..=6 {
        let mut cmd = request(rq::GET_ALL_TOPIC_LIST_FROM_NAMESERVER, &[]);
        cmd.opaque = opaque;
        bytes.extend(frame::encode_to_vec(&cmd, SerializeType::Json, None));
    }
    bytes.extend(unknown_frame(7, 300 * 1024));
    let mut c = server.client();
    c.send_raw(&bytes).expect("send");
    assert_unknown(&c.read_frame().expect("reply 1"), 1);
    for opaque in 2..=6 {
        let reply = c.read_frame().expect("206 reply");
        assert_eq!(reply.0.code, 0);
        assert_eq!(reply.0.opaque, opaque);
        assert_eq!(reply.1.as_deref(), Some(&b"{\"topicList\":[]}"[..]));
    }
    assert_unknown(&c.read_frame().expect("reply 7"), 7);
}

#[test]
fn a_frame_at_the_limit_is_read_and_one_byte_more_is_refused() {
    let limit = 1 << 20;
    let server = TestServer::start(&[("maxFrameLength", "1048576")]);
    let at = unknown_frame(3, 0);
    // Body length chosen so the whole frame, prefix included, is the limit.
    let at = unknown_frame(3, limit - at.len());
    assert_eq!(at.len(), limit);
    let mut c = server.client();
    c.send_raw(&at).expect("send");
    assert_unknown(&c.read_frame().expect("reply at the limit"), 3);

    let over = unknown_frame(4, limit - unknown_frame(4, 0).len() + 1);
    assert_eq!(over.len(), limit + 1);
    let mut d = server.client();
    // Only the prefix and header: the length alone is refused.
    let _ = d.send_raw(&over[..64]);
    d.expect_closed(Duration::from_secs(3));
    // The server still answers.
    assert!(server.client().route("no-such-topic").is_none());
}

#[test]
fn a_large_frame_the_reservation_pool_cannot_cover_still_arrives() {
    // Room for one 2 MiB reservation, not two; held bytes stay far below.
    let server = TestServer::start(&[("maxIncompleteFrameBytes", "3145728")]);
    let a_bytes = unknown_frame(1, 2 << 20);
    let b_bytes = unknown_frame(2, 2 << 20);
    let part = 100 * 1024;
    let mut a = server.client();
    a.send_raw(&a_bytes[..part]).expect("send a");
    thread::sleep(Duration::from_millis(200));
    let mut b = server.client();
    b.send_raw(&b_bytes[..part]).expect("send b");
    thread::sleep(Duration::from_millis(200));
    a.send_raw(&a_bytes[part..]).expect("rest of a");
    assert_unknown(&a.read_frame().expect("reply to a"), 1);
    b.send_raw(&b_bytes[part..]).expect("rest of b");
    assert_unknown(&b.read_frame().expect("reply to b"), 2);
}
