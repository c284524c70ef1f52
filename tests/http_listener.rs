//! The HTTP listener itself: methods, probes, formats, the off switch, and that
//! a hostile HTTP client cannot delay route lookups.

mod common;

use std::io::{Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::time::{Duration, Instant};

use common::*;

fn http_addr(s: &TestServer) -> SocketAddr {
    s.http.expect("the boot line names the HTTP address")
}

#[test]
fn get_and_head_only_and_no_bodies() {
    let s = TestServer::start(&[]);
    let h = http_addr(&s);
    assert_eq!(h.ip(), s.addr.ip(), "HTTP binds bindAddress");

    let health = http(h, "GET", "/healthz", &[]);
    assert_eq!((health.status, health.body.as_str()), (200, "ok\n"));

    let get = http(h, "GET", "/metrics", &[]);
    assert_eq!(get.status, 200);
    assert_eq!(
        get.header("content-type"),
        Some("text/plain; version=0.0.4; charset=utf-8")
    );
    assert!(!get.body.contains("# EOF"), "{}", get.body);
    let head = http(h, "HEAD", "/metrics", &[]);
    assert_eq!(head.status, 200);
    assert_eq!(head.body, "", "HEAD has no body");
    assert!(head.header("content-length").is_some());

    let post = http(h, "POST", "/metrics", &[("Content-Length", "0")]);
    assert_eq!(post.status, 405);
    assert_eq!(post.header("allow"), Some("GET, HEAD"));
    for method in ["PUT", "DELETE", "PATCH", "OPTIONS"] {
        assert_eq!(http(h, method, "/healthz", &[]).status, 405, "{method}");
    }

    // A GET with a body is refused and the connection closed.
    let mut c = TcpStream::connect(h).expect("connect");
    c.set_read_timeout(Some(READ_TIMEOUT)).expect("timeout");
    c.write_all(b"GET /healthz HTTP/1.1\r\nHost: x\r\nContent-Length: 3\r\n\r\nabc")
        .expect("send");
    let mut raw = Vec::new();
    c.read_to_end(&mut raw).expect("read");
    assert_eq!(parse_http_reply(&raw).status, 413);

    // The console answers `/`; paths it does not know are a 404.
    assert_eq!(http(h, "GET", "/", &[]).status, 200);
    assert_eq!(http(h, "GET", "/nope?x=1", &[]).status, 404);
    assert_eq!(http(h, "GET", "/api/nope", &[]).status, 404);
}

#[test]
fn openmetrics_when_the_scraper_asks_for_it() {
    let s = TestServer::start(&[]);
    let accept = "application/openmetrics-text;version=1.0.0,application/openmetrics-text;version=0.0.1;q=0.75,text/plain;version=0.0.4;q=0.5,*/*;q=0.1";
    let r = http(http_addr(&s), "GET", "/metrics", &[("Accept", accept)]);
    assert_eq!(r.status, 200);
    assert_eq!(
        r.header("content-type"),
        Some("application/openmetrics-text; version=1.0.0; charset=utf-8")
    );
    assert!(r.body.ends_with("# EOF\n"), "{}", r.body);
    assert!(
        r.body
            .contains("# TYPE rocketmq_namesrv_requests counter\n"),
        "{}",
        r.body
    );
    assert!(r.body.contains("rocketmq_namesrv_ready 1\n"), "{}", r.body);
}

#[test]
fn readyz_waits_for_service_and_drops_at_sigterm() {
    let mut s = TestServer::start(&[
        ("needWaitForService", "true"),
        ("waitSecondsForService", "2"),
        // Keeps the process up after SIGTERM while a connection drains.
        ("shutdownTimeoutMillis", "3000"),
        ("serverSocketSndBufSize", "32768"),
        ("connectionMaxPendingOutput", "131072"),
    ]);
    let h = http_addr(&s);
    let first = http(h, "GET", "/readyz", &[]);
    assert_eq!((first.status, first.body.as_str()), (503, "not ready\n"));
    assert_eq!(metric(&scrape(h), "rocketmq_namesrv_ready", ""), Some(0.0));
    // Lookups say the same thing meanwhile.
    let mut c = s.client();
    let (cmd, _) = c.ask(
        codes::request::GET_ROUTEINFO_BY_TOPIC,
        &[("topic", "T")],
        None,
    );
    assert_eq!(cmd.code, codes::response::SYSTEM_ERROR);
    wait_for(Duration::from_secs(5), "readyz 200", || {
        (http(h, "GET", "/readyz", &[]).status == 200).then_some(())
    });
    assert_eq!(metric(&scrape(h), "rocketmq_namesrv_ready", ""), Some(1.0));
    assert_eq!(http(h, "GET", "/healthz", &[]).status, 200);

    // A connection whose replies are not read keeps the drain going: 2000
    // topics make each topic-list reply about 70 KB.
    let topics = (0..2000)
        .map(|i| topic(&format!("a-topic-with-a-rather-long-name-{i:07}"), 6, 8))
        .collect();
    c.register_ok(&BrokerReg::new("C", "b1", "10.0.0.1:10911", 0, topics));
    let (stuck, writer) = fill_output(&s);
    std::thread::sleep(Duration::from_millis(500));
    s.signal(libc::SIGTERM);
    // (kill(2) returns before the handler has run in the server.)
    let r = wait_for(Duration::from_secs(1), "readyz 503", || {
        let r = http(h, "GET", "/readyz", &[]);
        (r.status != 200).then_some(r)
    });
    assert_eq!((r.status, r.body.as_str()), (503, "not ready\n"));
    assert_eq!(
        http(h, "GET", "/healthz", &[]).status,
        200,
        "still live while draining"
    );
    // The idle lookup connection closes at once, for the shutdown.
    c.expect_closed(Duration::from_secs(2));
    let m = scrape(h);
    assert_eq!(
        metric(
            &m,
            "rocketmq_namesrv_connections_closed_total",
            r#"reason="shutdown""#
        ),
        Some(1.0),
        "{m}"
    );
    assert_eq!(
        metric(&m, "rocketmq_namesrv_connections", ""),
        Some(1.0),
        "{m}"
    );
    assert_eq!(metric(&m, "rocketmq_namesrv_ready", ""), Some(0.0), "{m}");
    drop(stuck);
    let _ = writer.join();
    let status = s.wait_exit(Duration::from_secs(10)).expect("exits");
    assert!(status.success(), "{status}");
}

/// A connection that pipelines large topic-list requests and never reads the
/// replies, with small socket buffers on both sides, so the server's send blocks
/// (and a shutdown's drain waits for it).
fn fill_output(s: &TestServer) -> (TcpStream, std::thread::JoinHandle<()>) {
    use socket2::{Domain, Protocol, SockAddr, Socket, Type};
    let socket = Socket::new(Domain::IPV4, Type::STREAM, Some(Protocol::TCP)).expect("socket");
    socket.set_recv_buffer_size(4096).expect("SO_RCVBUF");
    socket
        .connect_timeout(&SockAddr::from(s.addr), Duration::from_secs(5))
        .expect("connect");
    let stream: TcpStream = socket.into();
    let mut requests = Vec::new();
    for i in 0..200 {
        let mut cmd = request(codes::request::GET_ALL_TOPIC_LIST_FROM_NAMESERVER, &[]);
        cmd.opaque = i + 1;
        requests.extend(protocol::frame::encode_to_vec(
            &cmd,
            protocol::SerializeType::Json,
            None,
        ));
    }
    let mut w = stream.try_clone().expect("clone");
    w.set_write_timeout(Some(Duration::from_secs(10)))
        .expect("timeout");
    let writer = std::thread::spawn(move || {
        let _ = w.write_all(&requests);
    });
    (stream, writer)
}

#[test]
fn http_port_minus_one_opens_nothing() {
    let s = TestServer::start(&[("httpPort", "-1")]);
    assert_eq!(s.http, None);
    // The boot line says so (stderr is drained apart from stdout: wait for it).
    wait_log_line(&s, &["boot success", "http off, address"]);
    let ports = listening_ports(s.pid());
    assert_eq!(ports, vec![s.addr.port()], "only the RocketMQ port listens");
    let with = TestServer::start(&[]);
    let mut ports = listening_ports(with.pid());
    ports.sort();
    let mut want = vec![with.addr.port(), http_addr(&with).port()];
    want.sort();
    assert_eq!(ports, want);
}

/// The distinct TCP ports process `pid` listens on (from /proc).
fn listening_ports(pid: u32) -> Vec<u16> {
    let inodes: Vec<String> = std::fs::read_dir(format!("/proc/{pid}/fd"))
        .expect("fd dir")
        .filter_map(|e| std::fs::read_link(e.ok()?.path()).ok())
        .filter_map(|l| {
            let l = l.to_string_lossy().to_string();
            Some(l.strip_prefix("socket:[")?.strip_suffix(']')?.to_string())
        })
        .collect();
    let mut ports = Vec::new();
    for table in ["/proc/net/tcp", "/proc/net/tcp6"] {
        let Ok(text) = std::fs::read_to_string(table) else {
            continue;
        };
        for line in text.lines().skip(1) {
            let f: Vec<&str> = line.split_whitespace().collect();
            // local_address, st (0A = LISTEN), inode
            if f.len() > 9 && f[3] == "0A" && inodes.iter().any(|i| i == f[9]) {
                let port = f[1]
                    .rsplit(':')
                    .next()
                    .and_then(|p| u16::from_str_radix(p, 16).ok());
                if let Some(p) = port {
                    if !ports.contains(&p) {
                        ports.push(p);
                    }
                }
            }
        }
    }
    ports
}

#[test]
fn a_slowloris_on_http_does_not_delay_route_lookups() {
    let s = TestServer::start(&[]);
    let h = http_addr(&s);
    let mut c = s.client();
    c.register_ok(&BrokerReg::new(
        "c1",
        "broker-a",
        "127.0.0.1:10911",
        0,
        vec![topic("T1", 6, 4), topic("T2", 6, 4)],
    ));
    // 100 connections (over the listener's cap), each sending one header byte
    // per 200 ms from its own thread.
    let stop = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
    let mut drips = Vec::new();
    for _ in 0..100 {
        let stop = stop.clone();
        drips.push(std::thread::spawn(move || {
            let Ok(mut conn) = TcpStream::connect(h) else {
                return;
            };
            let head = b"GET /metrics HTTP/1.1\r\nHost: slow\r\nX-Slow: aaaaaaaaaaaaaaaaaaaaaaaa";
            for b in head.iter().cycle() {
                if stop.load(std::sync::atomic::Ordering::Relaxed) || conn.write_all(&[*b]).is_err()
                {
                    return;
                }
                std::thread::sleep(Duration::from_millis(200));
            }
        }));
    }
    std::thread::sleep(Duration::from_millis(300));
    let started = Instant::now();
    let mut answered = 0;
    let mut slowest = Duration::ZERO;
    while started.elapsed() < Duration::from_secs(3) {
        let t = Instant::now();
        assert!(c.route("T1").is_some(), "lookup {answered} failed");
        slowest = slowest.max(t.elapsed());
        answered += 1;
    }
    stop.store(true, std::sync::atomic::Ordering::Relaxed);
    for d in drips {
        let _ = d.join();
    }
    // Bounds with room for a loaded test machine; unloaded, a debug build answers
    // thousands, each in well under a millisecond.
    assert!(answered >= 50, "only {answered} lookups in 3 s");
    assert!(
        slowest < Duration::from_secs(1),
        "slowest lookup {slowest:?}"
    );
    // The listener still answers once the slow clients are gone.
    let m = wait_for(Duration::from_secs(10), "a scrape", || {
        let r = std::panic::catch_unwind(|| scrape(h)).ok()?;
        Some(r)
    });
    assert_eq!(
        metric(
            &m,
            "rocketmq_namesrv_requests_total",
            r#"code="105",response_code="0""#
        ),
        Some(answered as f64)
    );
}

#[test]
fn the_stats_line_is_logged_every_interval() {
    let s = TestServer::start(&[("statsLogIntervalSeconds", "1")]);
    let mut c = s.client();
    assert!(c.route("none").is_none());
    // (The log may be coloured: field names and values are matched apart.)
    let line = wait_log_line(&s, &[" stats ", "route_rps", "route_p99_ms", "brokers"]);
    let plain = strip_ansi(&line);
    // One connection, no broker, no topic; nothing published since the last line.
    for field in [
        "connections=1",
        "brokers=0",
        "topics=0",
        "publishes=0",
        "broker_rps=0.0",
        "kv_p99_ms=0.000",
        "write_queue=0",
    ] {
        assert!(plain.contains(field), "{field} in {plain}");
    }
    let quiet = TestServer::start(&[("statsLogIntervalSeconds", "0")]);
    std::thread::sleep(Duration::from_millis(1500));
    assert!(!quiet.stderr().contains(" stats "), "{}", quiet.stderr());
}

#[test]
fn an_idle_keep_alive_connection_is_closed_at_the_header_deadline() {
    let s = TestServer::start(&[]);
    let mut c = TcpStream::connect(http_addr(&s)).expect("connect");
    c.set_read_timeout(Some(Duration::from_secs(10)))
        .expect("timeout");
    c.write_all(b"GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n")
        .expect("send");
    let mut buf = [0u8; 4096];
    let n = c.read(&mut buf).expect("a reply");
    assert!(buf[..n].starts_with(b"HTTP/1.1 200 OK\r\n"));
    // Kept alive, then nothing: closed once the next head is 5 s overdue.
    let started = Instant::now();
    let got = c.read(&mut buf);
    let after = started.elapsed();
    assert!(
        matches!(got, Ok(0)) || got.is_err(),
        "expected a close, got {got:?}"
    );
    assert!(
        after >= Duration::from_secs(4) && after < Duration::from_secs(8),
        "closed after {after:?}"
    );
}

#[test]
fn connections_past_the_cap_are_closed_at_once() {
    let s = TestServer::start(&[]);
    let h = http_addr(&s);
    // The cap (32) in idle connections, each sending a partial head.
    let held: Vec<TcpStream> = (0..32)
        .map(|_| {
            let mut c = TcpStream::connect(h).expect("connect");
            c.write_all(b"GET /").expect("send");
            c
        })
        .collect();
    // Accepted after the 32 (the accept queue is FIFO), so past the cap however
    // late the HTTP thread (nice 10) gets to it on a loaded machine.
    let mut extra = TcpStream::connect(h).expect("connect");
    extra
        .set_read_timeout(Some(Duration::from_secs(15)))
        .expect("timeout");
    let mut buf = [0u8; 64];
    let got = extra.read(&mut buf);
    assert!(
        matches!(got, Ok(0)) || got.is_err_and(|e| e.kind() == std::io::ErrorKind::ConnectionReset),
        "the connection past the cap was served"
    );
    drop(held);
    wait_for(Duration::from_secs(3), "a served request", || {
        std::panic::catch_unwind(|| http(h, "GET", "/healthz", &[]).status)
            .ok()
            .filter(|s| *s == 200)
    });
}

/// A TCP connection to `to` from the loopback source address `from`.
fn connect_from(from: [u8; 4], to: SocketAddr) -> std::io::Result<TcpStream> {
    let sock = socket2::Socket::new(socket2::Domain::IPV4, socket2::Type::STREAM, None)?;
    sock.bind(&SocketAddr::from((from, 0)).into())?;
    sock.connect(&to.into())?;
    Ok(sock.into())
}

#[test]
fn drippers_cannot_starve_the_probes_of_another_source() {
    let s = TestServer::start(&[]);
    let h = http_addr(&s);
    // 48 drippers: 32 from one source, then 16 more from four others, more than
    // the listener's 32 slots in all. Each sends a head byte per 100 ms and never
    // finishes it.
    let stop = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
    let mut sources = vec![[127, 0, 0, 1]; 32];
    sources.extend((0..16).map(|i| [127, 0, 0, 10 + i / 4]));
    let drips: Vec<_> = sources
        .into_iter()
        .map(|from| {
            let stop = stop.clone();
            std::thread::spawn(move || {
                let Ok(mut conn) = connect_from(from, h) else {
                    return;
                };
                let head = b"GET /healthz HTTP/1.1\r\nHost: slow\r\nX-Slow: aaaaaaaaaaaaaaaaaaaa";
                for b in head.iter().cycle() {
                    if stop.load(std::sync::atomic::Ordering::Relaxed)
                        || conn.write_all(&[*b]).is_err()
                    {
                        return;
                    }
                    std::thread::sleep(Duration::from_millis(100));
                }
            })
        })
        .collect();
    std::thread::sleep(Duration::from_millis(300));
    // While they drip, each probe from 127.0.0.2 is answered at once.
    for (probe, body) in [
        ("/healthz", "ok\n"),
        ("/readyz", "ready\n"),
        ("/healthz", "ok\n"),
        ("/readyz", "ready\n"),
        ("/healthz", "ok\n"),
    ] {
        let mut c = connect_from([127, 0, 0, 2], h).expect("connect from 127.0.0.2");
        c.set_read_timeout(Some(Duration::from_secs(5)))
            .expect("timeout");
        write!(
            c,
            "GET {probe} HTTP/1.1\r\nHost: probe\r\nConnection: close\r\n\r\n"
        )
        .expect("send");
        let mut raw = Vec::new();
        c.read_to_end(&mut raw).expect("the probe is answered");
        let reply = parse_http_reply(&raw);
        assert_eq!((reply.status, reply.body.as_str()), (200, body), "{probe}");
        std::thread::sleep(Duration::from_millis(200));
    }
    stop.store(true, std::sync::atomic::Ordering::Relaxed);
    for d in drips {
        let _ = d.join();
    }
}

#[test]
fn console_pages_carry_nosniff_and_a_content_security_policy() {
    let s = TestServer::start(&[]);
    let page = http(http_addr(&s), "GET", "/", &[]);
    assert_eq!(page.status, 200);
    assert_eq!(page.header("x-content-type-options"), Some("nosniff"));
    assert_eq!(
        page.header("content-security-policy"),
        Some("default-src 'none'; style-src 'unsafe-inline'; script-src 'unsafe-inline'")
    );
}

#[test]
fn a_taken_http_port_is_named_in_the_boot_line() {
    let taken = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
    let port = taken.local_addr().expect("addr").port().to_string();
    let s = TestServer::start(&[("httpPort", port.as_str())]);
    wait_log_line(&s, &["boot success", "http off (bind failed), address"]);
    assert_eq!(s.http, None);
    drop(taken);
}
