//! PROXY protocol headers (HAProxy v1 text, v2 binary) in front of a connection,
//! through the real wire: the header is taken off, the client's address from it
//! becomes the connection's peer (console, log), the frames after it are served
//! exactly as on a plain connection; a bad or late header closes the connection
//! with one log line; a plain client is unaffected.

mod common;

use std::io::{Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::thread;
use std::time::{Duration, Instant};

use common::*;
use protocol::codes::request as rq;
use protocol::frame;

const SIG: &[u8; 12] = b"\r\n\r\n\0\r\nQUIT\n";

/// A v2 header: `ver_cmd`, `fam`, then `body` (addresses and TLVs).
fn v2(ver_cmd: u8, fam: u8, body: &[u8]) -> Vec<u8> {
    let mut out = SIG.to_vec();
    out.extend_from_slice(&[ver_cmd, fam]);
    out.extend_from_slice(&(body.len() as u16).to_be_bytes());
    out.extend_from_slice(body);
    out
}

/// A v2 PROXY TCP4 body: `src:sport` to 10.0.0.1:9876, then `tail`.
fn v2_tcp4(src: [u8; 4], sport: u16, tail: &[u8]) -> Vec<u8> {
    let mut body = src.to_vec();
    body.extend_from_slice(&[10, 0, 0, 1]);
    body.extend_from_slice(&sport.to_be_bytes());
    body.extend_from_slice(&9876u16.to_be_bytes());
    body.extend_from_slice(tail);
    v2(0x21, 0x11, &body)
}

fn tlv(kind: u8, value: &[u8]) -> Vec<u8> {
    let mut out = vec![kind];
    out.extend_from_slice(&(value.len() as u16).to_be_bytes());
    out.extend_from_slice(value);
    out
}

/// The bytes of a route lookup for `topic` (opaque 7).
fn lookup(topic: &str) -> Vec<u8> {
    let mut cmd = request(rq::GET_ROUTEINFO_BY_TOPIC, &[("topic", topic)]);
    cmd.opaque = 7;
    frame::encode_to_vec(&cmd, protocol::SerializeType::Json, None)
}

fn connect(addr: SocketAddr) -> TcpStream {
    let s = TcpStream::connect_timeout(&addr, Duration::from_secs(5)).expect("connect");
    s.set_read_timeout(Some(READ_TIMEOUT)).expect("timeout");
    s.set_nodelay(true).expect("nodelay");
    s
}

/// Reads one whole frame, length prefix included, as raw bytes.
fn read_raw_frame(s: &mut TcpStream) -> Vec<u8> {
    let mut len = [0u8; 4];
    s.read_exact(&mut len).expect("reply length");
    let mut rest = vec![0u8; u32::from_be_bytes(len) as usize];
    s.read_exact(&mut rest).expect("reply frame");
    [&len[..], &rest[..]].concat()
}

/// Sends `parts` one write each (a short pause between), then reads one frame.
fn exchange(addr: SocketAddr, parts: &[&[u8]]) -> Vec<u8> {
    let mut s = connect(addr);
    for (i, part) in parts.iter().enumerate() {
        if i > 0 {
            thread::sleep(Duration::from_millis(3));
        }
        s.write_all(part).expect("send");
    }
    read_raw_frame(&mut s)
}

/// A server with one broker serving topic `T` (registered over the returned
/// client, which must stay open: closing it unregisters the broker), and the exact
/// reply bytes of a lookup of it on a plain connection.
fn server_with_route(extra: &[(&str, &str)]) -> (TestServer, Client, Vec<u8>) {
    let server = TestServer::start(extra);
    let mut broker = server.client();
    broker.register_ok(&BrokerReg::new(
        "C",
        "b",
        "10.0.0.9:10911",
        0,
        vec![topic("T", 6, 4), topic("T2", 6, 4)],
    ));
    let plain = exchange(server.addr, &[&lookup("T")]);
    (server, broker, plain)
}

fn scrape_metric(server: &TestServer, name: &str, labels: &str) -> f64 {
    let http = server.http.expect("http listener");
    metric(&scrape(http), name, labels).unwrap_or(0.0)
}

#[test]
fn v1_and_v2_headers_then_a_lookup_get_the_plain_reply() {
    let (server, _broker, plain) = server_with_route(&[]);
    let v1 = b"PROXY TCP4 203.0.113.7 10.0.0.1 40001 9876\r\n".to_vec();
    let v1_6 = b"PROXY TCP6 2001:db8::7 ::1 40001 9876\r\n".to_vec();
    let unknown = b"PROXY UNKNOWN\r\n".to_vec();
    let mut tlvs = tlv(0x01, b"h2");
    tlvs.extend(tlv(
        0x20,
        &[[1, 0, 0, 0, 0].as_slice(), &tlv(0x21, b"TLSv1.3")].concat(),
    ));
    tlvs.extend(tlv(0x04, &[0; 300]));
    let v2_tlvs = v2_tcp4([203, 0, 113, 8], 40002, &tlvs);
    let local = v2(0x20, 0x00, &[]);
    let unspec = v2(0x21, 0x00, b"ignored");
    let unix = v2(0x21, 0x31, &[0u8; 216]);
    for (name, header) in [
        ("v1 TCP4", &v1),
        ("v1 TCP6", &v1_6),
        ("v1 UNKNOWN", &unknown),
        ("v2 TCP4 with TLVs", &v2_tlvs),
        ("v2 LOCAL", &local),
        ("v2 AF_UNSPEC", &unspec),
        ("v2 UNIX", &unix),
    ] {
        // Header and frame in one write, as a proxy's first segment carries them.
        let together = [header.as_slice(), &lookup("T")].concat();
        assert_eq!(exchange(server.addr, &[&together]), plain, "{name}");
    }
    assert_eq!(
        scrape_metric(
            &server,
            "rocketmq_namesrv_proxy_headers_total",
            "version=\"v1\""
        ),
        3.0
    );
    assert_eq!(
        scrape_metric(
            &server,
            "rocketmq_namesrv_proxy_headers_total",
            "version=\"v2\""
        ),
        4.0
    );
}

#[test]
fn a_header_split_at_every_byte_is_read_the_same() {
    let (server, _broker, plain) = server_with_route(&[]);
    let v1 = b"PROXY TCP4 203.0.113.7 10.0.0.1 40001 9876\r\n".to_vec();
    let v2h = v2_tcp4([203, 0, 113, 8], 40002, &tlv(0x02, b"example.com"));
    for header in [v1, v2h] {
        let whole = [header.as_slice(), &lookup("T")].concat();
        for cut in 1..=header.len() {
            let reply = exchange(server.addr, &[&whole[..cut], &whole[cut..]]);
            assert_eq!(
                reply,
                plain,
                "cut at {cut} of {:?}",
                String::from_utf8_lossy(&header)
            );
        }
    }
}

#[test]
fn the_header_address_is_the_connection_peer() {
    let server = TestServer::start(&[("serverChannelMaxIdleTimeSeconds", "2")]);
    let http = server.http.expect("http");
    // A broker registering behind a proxy: the console shows the header's source.
    for (header, broker, peer) in [
        (
            b"PROXY TCP4 203.0.113.7 10.0.0.1 40001 9876\r\n".to_vec(),
            "b1",
            "203.0.113.7:40001",
        ),
        (
            v2_tcp4([198, 51, 100, 9], 40002, &[]),
            "b2",
            "198.51.100.9:40002",
        ),
        (
            b"PROXY TCP6 2001:db8::7 ::1 40003 9876\r\n".to_vec(),
            "b3",
            "[2001:db8::7]:40003",
        ),
    ] {
        let mut s = connect(server.addr);
        s.write_all(&header).expect("header");
        let mut client = Client::from_stream(s);
        client.register_ok(&BrokerReg::new(
            "C",
            broker,
            "10.0.0.9:10911",
            0,
            vec![topic(broker, 6, 4), topic("Z", 6, 4)],
        ));
        let want = format!("\"peer\": \"{peer}\"");
        wait_for(Duration::from_secs(5), &want, || {
            let body = common::http(http, "GET", "/api/clusters", &[]).body;
            body.contains(&want).then_some(())
        });
        // The connection's log line (its idle close) names the same peer.
        wait_for(Duration::from_secs(5), "idle close log line", || {
            server
                .stderr()
                .lines()
                .any(|l| l.contains("idle connection closed") && l.contains(peer))
                .then_some(())
        });
    }
    // LOCAL and UNKNOWN keep the socket's own address (127.0.0.1).
    for header in [v2(0x20, 0x11, &[0; 12]), b"PROXY UNKNOWN\r\n".to_vec()] {
        let mut s = connect(server.addr);
        let own = s.local_addr().expect("local addr");
        s.write_all(&header).expect("header");
        let mut client = Client::from_stream(s);
        client.register_ok(&BrokerReg::new(
            "C",
            "b9",
            "10.0.0.9:10911",
            0,
            vec![topic("x", 6, 4), topic("Z", 6, 4)],
        ));
        let want = format!("\"peer\": \"{own}\"");
        wait_for(Duration::from_secs(5), &want, || {
            let body = common::http(http, "GET", "/api/clusters", &[]).body;
            body.contains(&want).then_some(())
        });
    }
}

#[test]
fn malformed_headers_close_with_one_log_line() {
    let server = TestServer::start(&[]);
    let cases: Vec<(&str, Vec<u8>)> = vec![
        (
            "v1 bad protocol",
            b"PROXY TCP5 1.2.3.4 5.6.7.8 1 2\r\n".to_vec(),
        ),
        (
            "v1 bad address",
            b"PROXY TCP4 1.2.3.400 5.6.7.8 1 2\r\n".to_vec(),
        ),
        ("v1 port 0", b"PROXY TCP4 1.2.3.4 5.6.7.8 0 2\r\n".to_vec()),
        (
            "v1 too long",
            [b"PROXY UNKNOWN ".as_slice(), &[b'x'; 120]].concat(),
        ),
        (
            "v2 version 1",
            [SIG.as_slice(), &[0x11, 0x11, 0, 0]].concat(),
        ),
        (
            "v2 bad command",
            [SIG.as_slice(), &[0x23, 0x11, 0, 0]].concat(),
        ),
        ("v2 bad family", v2(0x21, 0x41, &[0; 12])),
        ("v2 short IPv4", v2(0x21, 0x11, &[0; 11])),
        ("v2 TLV overrun", v2_tcp4([1, 2, 3, 4], 5, &[0x04, 0, 9, 1])),
    ];
    for (name, bytes) in &cases {
        let mut c = server.client();
        let _ = c.send_raw(bytes);
        c.expect_closed(Duration::from_secs(3));
        eprintln!("{name}: closed");
        // The warning is rate-limited (one a second per shard): space the cases.
        thread::sleep(Duration::from_millis(1100));
    }
    let lines = wait_for(
        Duration::from_secs(5),
        "one log line per bad header",
        || {
            let n = server
                .stderr()
                .lines()
                .filter(|l| l.contains("connection refused while opening") && l.contains("PROXY"))
                .count();
            (n >= cases.len()).then_some(n)
        },
    );
    assert_eq!(lines, cases.len());
    let malformed = scrape_metric(
        &server,
        "rocketmq_namesrv_frames_rejected_total",
        "reason=\"malformed\"",
    );
    assert_eq!(malformed, cases.len() as f64);
    let closed = scrape_metric(
        &server,
        "rocketmq_namesrv_connections_closed_total",
        "reason=\"bad_frame\"",
    );
    assert_eq!(closed, cases.len() as f64);
    // Everyone else is still served.
    assert_eq!(server.client().route("nope"), None);
}

#[test]
fn a_begun_header_must_arrive_within_the_deadline_a_plain_client_may_wait() {
    let server = TestServer::start(&[("frameReadTimeoutMillis", "800")]);
    // A plain client that connects and says nothing outlives the header deadline.
    let mut quiet = server.client();
    // A header begun and never finished is closed at the deadline.
    for begun in [
        &b"PROXY TCP4 1.2"[..],
        b"PRO",
        &SIG[..5],
        &v2_tcp4([1, 2, 3, 4], 5, &[])[..20],
    ] {
        let mut c = server.client();
        c.send_raw(begun).expect("send");
        let started = Instant::now();
        c.expect_closed(Duration::from_secs(4));
        let took = started.elapsed();
        assert!(
            took >= Duration::from_millis(700) && took < Duration::from_millis(2500),
            "{begun:?} closed after {took:?}"
        );
        // The warning is rate-limited (one a second per shard): space the cases.
        thread::sleep(Duration::from_millis(400));
    }
    assert_eq!(
        scrape_metric(
            &server,
            "rocketmq_namesrv_frames_rejected_total",
            "reason=\"timeout\""
        ),
        4.0
    );
    // Long past every deadline, the quiet client is served.
    assert_eq!(quiet.route("nope"), None);
    let logged = server
        .stderr()
        .lines()
        .filter(|l| l.contains("PROXY protocol header incomplete after 800 ms"))
        .count();
    assert_eq!(logged, 4);
}

#[test]
fn a_peer_leaving_inside_its_header_is_not_a_bad_frame() {
    let server = TestServer::start(&[]);
    let mut c = server.client();
    c.send_raw(b"PROXY TCP4 1.2.3.4").expect("send");
    c.shutdown_write();
    c.expect_closed(Duration::from_secs(3));
    let closed = |reason: &str| {
        scrape_metric(
            &server,
            "rocketmq_namesrv_connections_closed_total",
            &format!("reason=\"{reason}\""),
        )
    };
    wait_for(Duration::from_secs(3), "the close counted", || {
        (closed("peer") == 1.0).then_some(())
    });
    assert_eq!(closed("bad_frame"), 0.0);
    assert_eq!(
        scrape_metric(
            &server,
            "rocketmq_namesrv_frames_rejected_total",
            "reason=\"malformed\""
        ),
        0.0
    );
}

#[test]
fn begun_headers_count_against_the_incomplete_frame_budget() {
    let (server, _broker, plain) = server_with_route(&[("maxIncompleteFrameBytes", "100000")]);
    // One v2 header of 65 031 bytes (a custom TLV carries the bulk), sent in two parts.
    let header = v2_tcp4([192, 0, 2, 5], 4000, &tlv(0xE0, &vec![b'p'; 65_000]));
    let (first, rest) = header.split_at(60_000);

    let mut a = connect(server.addr);
    a.write_all(first).expect("send a");
    thread::sleep(Duration::from_millis(300));
    // 60 000 more bytes would hold 120 000 of begun headers: this one is closed.
    let mut b = server.client();
    let _ = b.send_raw(first);
    b.expect_closed(Duration::from_secs(3));
    assert_eq!(
        scrape_metric(
            &server,
            "rocketmq_namesrv_frames_rejected_total",
            "reason=\"budget\""
        ),
        1.0
    );
    assert_eq!(
        scrape_metric(
            &server,
            "rocketmq_namesrv_connections_closed_total",
            "reason=\"bad_frame\""
        ),
        1.0
    );

    // The first completes its header and is served; its charge is returned.
    a.write_all(rest).expect("rest of a");
    a.write_all(&lookup("T")).expect("lookup a");
    assert_eq!(read_raw_frame(&mut a), plain);
    let mut c = connect(server.addr);
    c.write_all(first).expect("send c");
    thread::sleep(Duration::from_millis(100));
    c.write_all(rest).expect("rest of c");
    c.write_all(&lookup("T")).expect("lookup c");
    assert_eq!(read_raw_frame(&mut c), plain);
    let logged = server
        .stderr()
        .lines()
        .filter(|l| l.contains("incomplete-frame budget exhausted inside a PROXY protocol header"))
        .count();
    assert_eq!(logged, 1);
}
