//! Connections that cannot hold the server (issue 9): clients that never read their
//! replies, floods of connections, trickled frames, many large incomplete frames,
//! buffers kept after one large frame. Each test drives the real binary.

mod common;

use std::io::{self, Read, Write};
use std::net::{IpAddr, SocketAddr, TcpStream};
use std::thread;
use std::time::{Duration, Instant};

use common::codes::request as rq;
use common::*;
use protocol::body::BrokerData;
use protocol::frame;
use protocol::SerializeType;
use socket2::{Domain, Protocol, SockAddr, Socket, Type};

/// A request code no handler knows: answered with an error, its body ignored.
const UNKNOWN_CODE: i32 = 9999;

/// Small socket send buffers and a small output bound: the stuck point comes after
/// a few replies (a 206 reply of 2000 topics takes ~50 ms to build in a debug
/// build, and the kernel would otherwise buffer megabytes first).
const STUCK_SOON: [(&str, &str); 2] = [
    ("serverSocketSndBufSize", "32768"),
    ("connectionMaxPendingOutput", "131072"),
];

fn with(extra: &[(&'static str, &'static str)]) -> Vec<(&'static str, &'static str)> {
    let mut all = STUCK_SOON.to_vec();
    all.extend_from_slice(extra);
    all
}

/// Connects to `addr` from `source` (port 0), with SO_RCVBUF set to `rcvbuf`
/// before the handshake when given (so the window the peer sees stays small).
fn connect_from(source: IpAddr, addr: SocketAddr, rcvbuf: Option<usize>) -> TcpStream {
    let socket = Socket::new(Domain::IPV4, Type::STREAM, Some(Protocol::TCP)).expect("socket");
    if let Some(size) = rcvbuf {
        socket.set_recv_buffer_size(size).expect("SO_RCVBUF");
    }
    socket
        .bind(&SockAddr::from(SocketAddr::new(source, 0)))
        .expect("bind source address");
    socket
        .connect_timeout(&SockAddr::from(addr), Duration::from_secs(5))
        .expect("connect");
    socket.into()
}

fn localhost(last: u8) -> IpAddr {
    IpAddr::from([127, 0, 0, last])
}

/// One GET_ALL_TOPIC_LIST_FROM_NAMESERVER (206) reply body, asked on a new connection.
fn topic_list(server: &TestServer) -> Vec<u8> {
    let (cmd, body) = server
        .client()
        .ask(rq::GET_ALL_TOPIC_LIST_FROM_NAMESERVER, &[], None);
    assert_eq!(cmd.code, 0);
    body.expect("topic list body").to_vec()
}

/// Registers one broker with `n` topics of longish names (so a 206 reply is about
/// 36 bytes per topic); the broker stays registered while the returned client lives.
#[must_use]
fn register_topics(server: &TestServer, n: usize) -> Client {
    let topics = (0..n)
        .map(|i| topic(&format!("hardening-topic-with-a-long-name-{i:07}"), 6, 8))
        .collect();
    let reg = BrokerReg::new("C", "b1", "10.0.0.1:10911", 0, topics);
    let mut broker = server.client();
    broker.register_ok(&reg);
    broker
}

/// The reply to an `UNKNOWN_CODE` request (see tests/route.rs).
fn assert_unknown_code(reply: &Reply) {
    assert_eq!(reply.0.code, codes::response::REQUEST_CODE_NOT_SUPPORTED);
    assert_eq!(
        remark(reply),
        format!(" request type {UNKNOWN_CODE} not supported")
    );
}

fn frame_bytes(code: i32, body: Option<&[u8]>) -> Vec<u8> {
    frame::encode_to_vec(&request(code, &[]), SerializeType::Json, body)
}

/// `n` pipelined 206 requests.
fn topic_list_requests(n: usize) -> Vec<u8> {
    let mut out = Vec::new();
    for i in 0..n {
        let mut cmd = request(rq::GET_ALL_TOPIC_LIST_FROM_NAMESERVER, &[]);
        cmd.opaque = i as i32 + 1;
        out.extend(frame::encode_to_vec(&cmd, SerializeType::Json, None));
    }
    out
}

/// Writes `bytes` from a thread (the server may stop reading), returning the
/// stream, which the caller never reads until it chooses to.
fn send_in_background(stream: &TcpStream, bytes: Vec<u8>) -> thread::JoinHandle<()> {
    let mut w = stream.try_clone().expect("clone");
    w.set_write_timeout(Some(Duration::from_secs(10)))
        .expect("write timeout");
    thread::spawn(move || {
        let _ = w.write_all(&bytes);
    })
}

/// A client that connects with a 4 KiB receive buffer, pipelines `requests` 206
/// requests and never reads.
fn non_reader(server: &TestServer, requests: Vec<u8>) -> (TcpStream, thread::JoinHandle<()>) {
    let stream = connect_from(localhost(1), server.addr, Some(4096));
    let writer = send_in_background(&stream, requests);
    (stream, writer)
}

/// Reads until EOF or reset; `Ok(bytes read)` then, `Err` if the connection is
/// still open at `within`.
fn read_until_closed(stream: &mut TcpStream, within: Duration) -> Result<usize, usize> {
    stream
        .set_read_timeout(Some(Duration::from_millis(100)))
        .expect("timeout");
    let deadline = Instant::now() + within;
    let mut total = 0;
    let mut chunk = vec![0u8; 256 * 1024];
    loop {
        match stream.read(&mut chunk) {
            Ok(0) => return Ok(total),
            Ok(n) => total += n,
            Err(e)
                if e.kind() == io::ErrorKind::WouldBlock || e.kind() == io::ErrorKind::TimedOut =>
            {
                if Instant::now() >= deadline {
                    return Err(total);
                }
            }
            Err(_) => return Ok(total),
        }
    }
}

/// Whether a route lookup on `client` is answered (17 TOPIC_NOT_EXIST: no test
/// that uses it registers `T`), or the connection is closed instead.
fn answered(client: &mut Client) -> bool {
    let mut cmd = request(rq::GET_ROUTEINFO_BY_TOPIC, &[("topic", "T")]);
    cmd.opaque = 7;
    let bytes = frame::encode_to_vec(&cmd, SerializeType::Json, None);
    if client.send_raw(&bytes).is_err() {
        return false;
    }
    match client.read_frame() {
        Ok((reply, _)) => {
            assert_eq!(reply.opaque, 7);
            assert_eq!(
                (reply.code, reply.remark.as_deref()),
                (
                    codes::response::TOPIC_NOT_EXIST,
                    Some("No topic route info in name server for the topic: T\nSee https://rocketmq.apache.org/docs/bestPractice/06FAQ for further details.")
                ),
                "the route lookup of T"
            );
            true
        }
        Err(e) => {
            assert_ne!(
                e.kind(),
                io::ErrorKind::WouldBlock,
                "neither answered nor closed"
            );
            false
        }
    }
}

/// Asks `client` for the route of a topic `register_topics` registered and checks
/// it is exactly that broker's (lookup `n`, for the messages).
fn assert_known_route(client: &mut Client, n: usize) {
    let route = client
        .route("hardening-topic-with-a-long-name-0000001")
        .unwrap_or_else(|| panic!("lookup {n}: no route"));
    assert_eq!(
        route.queue_datas,
        vec![queue_data("b1", 6, 8)],
        "lookup {n}"
    );
    assert_eq!(
        route.broker_datas,
        vec![BrokerData {
            cluster: "C".into(),
            broker_name: "b1".into(),
            broker_addrs: [(0, "10.0.0.1:10911".to_string())].into(),
            enable_acting_master: false,
            zone_name: None,
            addr_order: Vec::new(),
        }],
        "lookup {n}"
    );
}

/// Route lookups on fresh connections (both shards) for `during`, at least one
/// even when `during` is over before the first: every one must be answered with
/// the exact route (a lookup that is not panics). Returns how many there were.
fn lookups_keep_working(server: &TestServer, during: Duration) -> usize {
    let end = Instant::now() + during;
    let mut n = 0;
    while n == 0 || (Instant::now() < end && n < 500) {
        assert_known_route(&mut server.client(), n);
        n += 1;
        thread::sleep(Duration::from_millis(10));
    }
    n
}

#[test]
fn sigterm_exits_zero_within_the_drain_time_while_a_client_never_reads() {
    let mut server = TestServer::start(&with(&[("shutdownTimeoutMillis", "1000")]));
    let _broker = register_topics(&server, 2000);
    // About 72 KB per reply, 14 MB in all: far more than the socket buffers hold.
    let (_stuck, writer) = non_reader(&server, topic_list_requests(200));
    thread::sleep(Duration::from_millis(500));
    // Every lookup (at least one) gets the exact route, or this panics.
    lookups_keep_working(&server, Duration::from_millis(200));

    let asked = Instant::now();
    server.signal(libc::SIGTERM);
    let status = server.wait_exit(Duration::from_secs(4));
    let took = asked.elapsed();
    let status = status.unwrap_or_else(|| {
        panic!(
            "still running 4 s after SIGTERM; stderr:\n{}",
            server.stderr()
        )
    });
    assert!(status.success(), "exit status {status}");
    assert!(
        took >= Duration::from_millis(900),
        "exited before the drain time: {took:?}"
    );
    wait_log_line(&server, &["shutdown drain time is up"]);
    let _ = writer.join();
}

#[test]
fn a_client_that_never_reads_is_closed_at_the_write_deadline_while_others_are_served() {
    let server = TestServer::start(&with(&[("connectionWriteTimeoutMillis", "700")]));
    let _broker = register_topics(&server, 2000);
    let one_reply = topic_list(&server).len();
    let requests = 200;
    let (mut stuck, writer) = non_reader(&server, topic_list_requests(requests));
    let served = lookups_keep_working(&server, Duration::from_millis(1500));
    assert!(served > 10, "only {served} lookups in 1.5 s");

    let got = read_until_closed(&mut stuck, Duration::from_secs(5))
        .unwrap_or_else(|n| panic!("the stuck connection is still open ({n} bytes read)"));
    assert!(
        got < requests * one_reply,
        "all {got} bytes of replies were sent: the connection was not cut"
    );
    wait_log_line(
        &server,
        &["peer did not take its replies within the write deadline"],
    );
    // Every lookup (at least one) gets the exact route, or this panics.
    lookups_keep_working(&server, Duration::from_millis(100));
    let _ = writer.join();
}

#[test]
fn the_pending_output_of_a_client_that_never_reads_is_bounded() {
    let server = TestServer::start(&[("connectionMaxPendingOutput", "262144")]);
    let _broker = register_topics(&server, 2000);
    let one_reply = topic_list(&server).len();
    assert!(one_reply > 70_000, "reply of {one_reply} bytes");
    let before = server.rss_kib();

    // A 60 KB frame first grows the server's read size to its maximum, so the
    // requests after it arrive in one read: about 640 of them, 46 MB of replies
    // unbounded.
    let mut bytes = frame_bytes(UNKNOWN_CODE, Some(&vec![b'x'; 60_000]));
    bytes.extend(topic_list_requests(800));
    let (_stuck, writer) = non_reader(&server, bytes);

    let mut peak = before;
    let end = Instant::now() + Duration::from_secs(2);
    let mut lookups = 0;
    while Instant::now() < end {
        peak = peak.max(server.rss_kib());
        assert_known_route(&mut server.client(), lookups);
        lookups += 1;
        thread::sleep(Duration::from_millis(30));
    }
    assert!(lookups > 10, "only {lookups} lookups in 2 s");
    let grew_mib = peak.saturating_sub(before) / 1024;
    assert!(
        grew_mib < 16,
        "RSS grew by {grew_mib} MiB ({before} -> {peak} KiB)"
    );
    drop(server);
    let _ = writer.join();
}

#[test]
fn read_buffers_are_given_back_after_a_large_frame() {
    let server = TestServer::start(&[]);
    let big = frame_bytes(UNKNOWN_CODE, Some(&vec![b'y'; 15 << 20]));
    // Warm up the allocator with one connection first, then measure. What is
    // left is the allocator's cache of freed blocks (glibc keeps up to twice its
    // mmap threshold per arena, one arena per shard), not one buffer per
    // connection: 12 kept buffers would be at least 180 MiB.
    let mut warm = server.client();
    warm.send_raw(&big).expect("send");
    warm.read_frame().expect("reply");
    drop(warm);
    thread::sleep(Duration::from_millis(200));
    let before = server.rss_kib();
    let mut idle = Vec::new();
    for _ in 0..12 {
        let mut c = server.client();
        c.send_raw(&big).expect("send");
        let reply = c.read_frame().expect("reply to a large frame");
        assert_unknown_code(&reply);
        idle.push(c);
    }
    thread::sleep(Duration::from_millis(300));
    let after = server.rss_kib();
    let grew_mib = after.saturating_sub(before) / 1024;
    assert!(
        grew_mib < 100,
        "12 idle connections hold {grew_mib} MiB after one 15 MiB frame each"
    );
    for c in &mut idle {
        assert!(answered(c));
    }
}

#[test]
fn a_flood_from_one_address_is_cut_at_its_limit_and_others_still_connect() {
    let server = TestServer::start(&[("maxConnectionsPerAddress", "3")]);
    let mut flood: Vec<Client> = (0..8)
        .map(|_| Client::from_stream(connect_from(localhost(2), server.addr, None)))
        .collect();
    thread::sleep(Duration::from_millis(300));
    let served: Vec<bool> = flood.iter_mut().map(answered).collect();
    assert_eq!(
        served.iter().filter(|&&s| s).count(),
        3,
        "served: {served:?}"
    );

    // Another address is not affected.
    for _ in 0..4 {
        let mut c = Client::from_stream(connect_from(localhost(1), server.addr, None));
        assert!(answered(&mut c));
        assert_eq!(c.route("T"), None);
    }
    wait_log_line(&server, &["connection refused by a connection limit"]);

    // A slot freed by a close is usable again.
    let first = served.iter().position(|&s| s).expect("a served one");
    drop(flood.remove(first));
    wait_for(Duration::from_secs(3), "a freed per-address slot", || {
        let mut c = Client::from_stream(connect_from(localhost(2), server.addr, None));
        answered(&mut c).then_some(())
    });
}

#[test]
fn the_total_connection_limit_closes_new_connections() {
    let server = TestServer::start(&[("maxConnections", "4")]);
    let mut conns: Vec<Client> = (0..7)
        .map(|i| Client::from_stream(connect_from(localhost(1 + i % 3), server.addr, None)))
        .collect();
    thread::sleep(Duration::from_millis(300));
    let served: Vec<bool> = conns.iter_mut().map(answered).collect();
    assert_eq!(
        served.iter().filter(|&&s| s).count(),
        4,
        "served: {served:?}"
    );
    drop(conns);
    wait_for(Duration::from_secs(3), "slots freed", || {
        let mut c = server.client();
        answered(&mut c).then_some(())
    });
}

#[test]
fn a_trickled_frame_is_cut_at_the_frame_deadline() {
    let server = TestServer::start(&[("frameReadTimeoutMillis", "600")]);
    let mut c = server.client();
    let whole = frame_bytes(UNKNOWN_CODE, Some(&vec![b'z'; 1000]));
    c.send_raw(&whole[..10]).expect("send");
    c.stream
        .set_read_timeout(Some(Duration::from_millis(100)))
        .expect("timeout");
    let started = Instant::now();
    let mut closed_at = None;
    let mut next = 10;
    let mut chunk = [0u8; 64];
    while started.elapsed() < Duration::from_secs(4) {
        let _ = c.stream.write(&whole[next..next + 1]);
        next += 1;
        match c.stream.read(&mut chunk) {
            Ok(0) => {
                closed_at = Some(started.elapsed());
                break;
            }
            Ok(n) => panic!("the server answered {n} bytes to an incomplete frame"),
            Err(e)
                if e.kind() == io::ErrorKind::WouldBlock || e.kind() == io::ErrorKind::TimedOut => {
            }
            Err(_) => {
                closed_at = Some(started.elapsed());
                break;
            }
        }
    }
    let at = closed_at.expect("a trickled frame kept its connection for 4 s");
    assert!(at >= Duration::from_millis(450), "closed too early: {at:?}");
    assert!(at < Duration::from_millis(2500), "closed late: {at:?}");
    wait_log_line(&server, &["frame not completed within the frame deadline"]);
    assert!(answered(&mut server.client()));
}

#[test]
fn the_incomplete_frame_budget_closes_the_connection_that_would_exceed_it() {
    let server = TestServer::start(&[("maxIncompleteFrameBytes", "3145728")]);
    let whole = frame_bytes(UNKNOWN_CODE, Some(&vec![b'w'; 2 << 20]));
    let part = 1_600_000;

    let mut a = server.client();
    a.send_raw(&whole[..part]).expect("send a");
    thread::sleep(Duration::from_millis(300));

    // 1.6 MB more would hold 3.2 MB of incomplete frames: this one is closed.
    let mut b = server.client();
    let _ = b.send_raw(&whole[..part]);
    let got = read_until_closed(&mut b.stream, Duration::from_secs(3))
        .unwrap_or_else(|_| panic!("the connection over the budget stayed open"));
    assert_eq!(got, 0);
    wait_log_line(&server, &["incomplete-frame budget exhausted"]);

    // The first one completes its frame and is answered; its budget is freed.
    a.send_raw(&whole[part..]).expect("rest of a");
    let reply = a.read_frame().unwrap_or_else(|e| {
        panic!(
            "reply to the completed frame: {e}; stderr:\n{}",
            server.stderr()
        )
    });
    assert_unknown_code(&reply);
    let mut c = server.client();
    c.send_raw(&whole[..part]).expect("send c");
    thread::sleep(Duration::from_millis(200));
    c.send_raw(&whole[part..]).expect("rest of c");
    let reply = c
        .read_frame()
        .unwrap_or_else(|e| panic!("a frame within the freed budget: {e}"));
    assert_unknown_code(&reply);
}

#[test]
fn a_pipelining_client_that_reads_gets_every_reply_in_order_past_the_output_bound() {
    let server = TestServer::start(&[("connectionMaxPendingOutput", "16384")]);
    let _broker = register_topics(&server, 200);
    let one_reply = topic_list(&server);
    assert!(one_reply.len() > 7000);
    let n = 300;
    let mut c = server.client();
    let writer = send_in_background(&c.stream, topic_list_requests(n));
    for i in 0..n {
        let (cmd, body) = c.read_frame().expect("reply");
        assert_eq!(cmd.opaque, i as i32 + 1, "reply {i} out of order");
        assert_eq!(cmd.code, 0);
        assert_eq!(body.as_deref(), Some(&one_reply[..]), "reply {i} body");
    }
    writer.join().expect("writer");
    assert!(answered(&mut c));
    wait_log_line(
        &server,
        &["connection output over its bound; not read until it is sent"],
    );
}

#[test]
fn an_update_of_the_connection_limits_is_refused() {
    let server = TestServer::start(&[]);
    let mut c = server.client();
    let stored_before = std::fs::read_to_string(&server.conf_path).expect("config file");
    let shown_before = config_text(&mut c);
    for body in [
        "maxConnections=1",
        "maxConnectionsPerAddress=1",
        "connectionWriteTimeoutMillis=1",
        "shutdownTimeoutMillis=600000",
        "connectionMaxPendingOutput=1",
        "frameReadTimeoutMillis=1",
        "maxIncompleteFrameBytes=1",
    ] {
        let r = c.ask(rq::UPDATE_NAMESRV_CONFIG, &[], Some(body.as_bytes()));
        assert_eq!(r.0.code, codes::response::NO_PERMISSION, "{body}");
        assert_eq!(remark(&r), "Can not update config in black list.");
    }
    let stored = std::fs::read_to_string(&server.conf_path).expect("config file");
    assert_eq!(stored, stored_before, "the config file is untouched");
    assert_eq!(config_text(&mut c), shown_before, "319 shows the same");
}

#[test]
fn the_idle_timeout_still_closes_a_connection_after_a_frame_split_across_reads() {
    let server = TestServer::start(&[
        ("serverChannelMaxIdleTimeSeconds", "1"),
        ("frameReadTimeoutMillis", "60000"),
    ]);
    let mut c = server.client();
    let mut cmd = request(rq::GET_ROUTEINFO_BY_TOPIC, &[("topic", "T")]);
    cmd.opaque = 3;
    let whole = frame::encode_to_vec(&cmd, SerializeType::Json, None);
    c.send_raw(&whole[..10]).expect("send");
    thread::sleep(Duration::from_millis(300));
    c.send_raw(&whole[10..]).expect("send");
    let (reply, _) = c.read_frame().expect("reply to the split frame");
    assert_eq!(reply.opaque, 3);
    let idle_from = Instant::now();
    c.expect_closed(Duration::from_secs(4));
    let idle = idle_from.elapsed();
    assert!(idle >= Duration::from_millis(800), "closed after {idle:?}");
    wait_log_line(&server, &["idle connection closed"]);
}

#[test]
fn a_client_taking_its_replies_in_a_trickle_is_still_closed_at_the_write_deadline() {
    let server = TestServer::start(&with(&[("connectionWriteTimeoutMillis", "700")]));
    let _broker = register_topics(&server, 2000);
    let (mut slow, writer) = non_reader(&server, topic_list_requests(200));
    thread::sleep(Duration::from_millis(300));
    // 512 bytes every 50 ms: each send makes progress, the whole output never
    // gets out in time.
    slow.set_read_timeout(Some(Duration::from_millis(50)))
        .expect("timeout");
    let started = Instant::now();
    let mut chunk = [0u8; 512];
    let mut taken = 0;
    let closed_at = loop {
        if started.elapsed() > Duration::from_secs(6) {
            panic!("a trickle reader kept its connection for 6 s ({taken} bytes taken)");
        }
        match slow.read(&mut chunk) {
            Ok(0) => break started.elapsed(),
            Ok(n) => taken += n,
            Err(e)
                if e.kind() == io::ErrorKind::WouldBlock || e.kind() == io::ErrorKind::TimedOut => {
            }
            Err(_) => break started.elapsed(),
        }
        thread::sleep(Duration::from_millis(50));
    };
    assert!(taken > 0, "the trickle reader got nothing");
    assert!(
        closed_at < Duration::from_secs(4),
        "closed after {closed_at:?}"
    );
    wait_log_line(
        &server,
        &["peer did not take its replies within the write deadline"],
    );
    let _ = writer.join();
}
