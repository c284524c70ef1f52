//! The live configuration has one owner: a 318 (UPDATE_NAMESRV_CONFIG) on a
//! running server reaches the connections that were already open and the ones
//! opened after it, on every shard, as soon as it is acknowledged.

mod common;

use std::io::Read;
use std::net::TcpStream;
use std::thread;
use std::time::{Duration, Instant};

use common::codes::{request as rq, response};
use common::{request, update_ok, Client, TestServer};
use protocol::frame;
use protocol::{RemotingCommand, SerializeType};

/// Connections opened before the update: enough that both shards (the harness
/// runs two) hold some, whichever way SO_REUSEPORT spreads them.
const OPEN_BEFORE: usize = 6;

/// Sends GET_KV_CONFIG (101) for a key that does not exist, with `opaque`, and
/// returns the whole reply frame as it came off the wire.
fn kv_miss_frame(c: &mut Client, opaque: i32) -> Vec<u8> {
    let mut cmd = request(rq::GET_KV_CONFIG, &[("namespace", "ns"), ("key", "k")]);
    cmd.opaque = opaque;
    cmd.flag = 0;
    c.send(&cmd, None);
    read_raw_frame(&mut c.stream)
}

fn read_raw_frame(stream: &mut TcpStream) -> Vec<u8> {
    let mut len = [0u8; 4];
    stream.read_exact(&mut len).expect("reply length");
    let mut frame = len.to_vec();
    frame.resize(4 + u32::from_be_bytes(len) as usize, 0);
    stream.read_exact(&mut frame[4..]).expect("reply frame");
    frame
}

/// The exact frame upstream answers that miss with, its header serialized as `ty`.
fn expected_miss(opaque: i32, ty: SerializeType) -> Vec<u8> {
    let mut reply = RemotingCommand::response(
        response::QUERY_NOT_FOUND,
        opaque,
        Some("No config item, Namespace: ns Key: k".to_string()),
    );
    reply.ext_fields = Some(Vec::new());
    frame::encode_to_vec(&reply, ty, None)
}

/// Byte 4 of a frame: the header's serialization (0 JSON, 1 ROCKETMQ).
fn serialize_byte(frame: &[u8]) -> u8 {
    frame[4]
}

/// Every client in `clients` gets the miss reply serialized as `want(client)`.
fn assert_replies(clients: &mut [Client], want: impl Fn(&Client) -> SerializeType, when: &str) {
    for (i, c) in clients.iter_mut().enumerate() {
        let ty = want(c);
        let opaque = 1000 + i as i32;
        let got = kv_miss_frame(c, opaque);
        assert_eq!(
            got,
            expected_miss(opaque, ty),
            "{when}: connection {i} (requests as {:?})",
            c.serialize
        );
        let marker = match ty {
            SerializeType::Json => 0,
            SerializeType::Rocketmq => 1,
        };
        assert_eq!(serialize_byte(&got), marker, "{when}: connection {i}");
    }
}

#[test]
fn reply_serialize_update_reaches_open_and_new_connections() {
    let server = TestServer::start(&[]);
    // Half of them ask in ROCKETMQ, half in JSON.
    let mut open: Vec<Client> = (0..OPEN_BEFORE)
        .map(|i| {
            let ty = if i % 2 == 0 {
                SerializeType::Rocketmq
            } else {
                SerializeType::Json
            };
            server.client().with_serialize(ty)
        })
        .collect();
    // The default, JSON, whatever the request's serialization.
    assert_replies(&mut open, |_| SerializeType::Json, "before the update");

    let mut admin = server.client();
    update_ok(&mut admin, "replySerializeType=ROCKETMQ");
    // Acknowledged after the snapshot holding it was published: every
    // connection's next read batch answers in ROCKETMQ, the admin's own too.
    assert_replies(
        &mut open,
        |_| SerializeType::Rocketmq,
        "open, after ROCKETMQ",
    );
    let mut fresh: Vec<Client> = (0..OPEN_BEFORE)
        .map(|_| server.client().with_serialize(SerializeType::Json))
        .collect();
    assert_replies(
        &mut fresh,
        |_| SerializeType::Rocketmq,
        "new, after ROCKETMQ",
    );
    assert_replies(
        std::slice::from_mut(&mut admin),
        |_| SerializeType::Rocketmq,
        "the updating connection",
    );

    // MIRROR: each reply in its request's serialization.
    update_ok(&mut admin, "replySerializeType=MIRROR");
    assert_replies(&mut open, |c| c.serialize, "open, after MIRROR");
    assert_replies(&mut fresh, |c| c.serialize, "new, after MIRROR");
    let mut later = vec![
        server.client().with_serialize(SerializeType::Rocketmq),
        server.client().with_serialize(SerializeType::Json),
    ];
    assert_replies(&mut later, |c| c.serialize, "opened after MIRROR");

    // 319 shows the value every connection now uses.
    let r = admin.ask(rq::GET_NAMESRV_CONFIG, &[], None);
    let text = String::from_utf8(r.1.expect("config body")).expect("utf-8");
    assert!(text.contains("\nreplySerializeType=MIRROR\n"), "{text}");
}

/// `serverChannelMaxIdleTimeSeconds` shapes a connection when it is accepted (as
/// upstream's `NettyRemotingServer#configChannel` builds its `IdleStateHandler`):
/// a 318 applies to connections opened after it, and leaves the deadline of
/// those already open alone.
#[test]
fn idle_time_update_applies_to_new_connections() {
    let server = TestServer::start(&[]);
    let mut before = server.client();
    assert_replies(
        std::slice::from_mut(&mut before),
        |_| SerializeType::Json,
        "opened before",
    );

    let mut admin = server.client();
    update_ok(&mut admin, "serverChannelMaxIdleTimeSeconds=1");
    let mut after = server.client();
    after
        .stream
        .set_read_timeout(Some(Duration::from_secs(10)))
        .expect("timeout");
    assert_replies(
        std::slice::from_mut(&mut after),
        |_| SerializeType::Json,
        "opened after",
    );
    // Idle from here on: the server closes it after about a second.
    let idle_from = Instant::now();
    let mut byte = [0u8; 1];
    let n = after.stream.read(&mut byte).expect("closed, not reset");
    let idle_for = idle_from.elapsed();
    assert_eq!(n, 0, "the server closed the idle connection");
    assert!(
        idle_for >= Duration::from_millis(900) && idle_for < Duration::from_secs(5),
        "closed after {idle_for:?}"
    );

    // The connection opened before the update kept its 120 s.
    thread::sleep(Duration::from_millis(500));
    assert_replies(
        std::slice::from_mut(&mut before),
        |_| SerializeType::Json,
        "opened before, idle past the new limit",
    );
}
