//! `/metrics` through the real wire: a known set of requests over the RocketMQ
//! protocol, then exact values of every family they touch.

mod common;

use std::time::Duration;

use common::*;

fn server() -> TestServer {
    // No liveness scans during the test: they would add writer batches.
    TestServer::start(&[("scanNotActiveBrokerInterval", "600000")])
}

fn http_addr(s: &TestServer) -> std::net::SocketAddr {
    s.http.expect("the boot line names the HTTP address")
}

/// Asserts `name{labels}` is exactly `want`.
#[track_caller]
fn expect(text: &str, name: &str, labels: &str, want: f64) {
    assert_eq!(
        metric(text, name, labels),
        Some(want),
        "{name}{{{labels}}} in:\n{text}"
    );
}

fn unix_now() -> f64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0.0, |d| d.as_secs_f64())
}

#[test]
fn every_family_counts_exactly_what_the_wire_did() {
    let before_spawn = unix_now();
    let s = server();
    let after_boot = unix_now();
    let h = http_addr(&s);
    let mut c = s.client();

    // Registrations: two new brokers (changed), one repeat (unchanged), one bad CRC.
    let a = BrokerReg::new(
        "c1",
        "broker-a",
        "127.0.0.1:10911",
        0,
        vec![topic("T1", 6, 4), topic("T2", 6, 4)],
    );
    let b = BrokerReg::new(
        "c1",
        "broker-b",
        "127.0.0.1:10921",
        0,
        vec![topic("T1", 6, 4), topic("T3", 6, 4)],
    );
    c.register_ok(&a);
    c.register_ok(&b);
    c.register_ok(&a);
    let mut bad = b.clone();
    bad.crc = Crc::Value(12345);
    assert_eq!(c.register_broker(&bad).0.code, 1);

    // 105 lookups: 7 found, 3 not.
    for _ in 0..7 {
        assert!(c.route("T1").is_some());
    }
    for _ in 0..3 {
        assert!(c.route("nope").is_none());
    }
    // KV puts.
    put_ok(&mut c, "ns", "k1", "v1");
    put_ok(&mut c, "ns", "k2", "v2");
    // A oneway heartbeat, then a lookup on the same connection: its reply means
    // the heartbeat was taken (frames of a connection are handled in order).
    c.oneway(a.heartbeat(), None);
    assert!(c.route("T2").is_some());
    // Unregister broker-b, twice: the second finds nothing to remove.
    assert_eq!(c.call(b.unregister(), None).0.code, 0);
    assert_eq!(c.call(b.unregister(), None).0.code, 0);

    // A bad frame on its own connection: longer than maxFrameLength.
    let mut bad_conn = s.client();
    bad_conn
        .send_raw(&[0x7f, 0xff, 0xff, 0xff, 0, 0, 0, 0])
        .expect("send");
    bad_conn.expect_closed(Duration::from_secs(5));

    let m = scrape(h);
    let req = "rocketmq_namesrv_requests_total";
    expect(&m, req, r#"code="105",response_code="0""#, 8.0);
    expect(&m, req, r#"code="105",response_code="17""#, 3.0);
    expect(&m, req, r#"code="103",response_code="0""#, 3.0);
    expect(&m, req, r#"code="103",response_code="1""#, 1.0);
    expect(&m, req, r#"code="100",response_code="0""#, 2.0);
    expect(&m, req, r#"code="904",response_code="none""#, 1.0);
    expect(&m, req, r#"code="104",response_code="0""#, 2.0);
    assert_eq!(m.lines().filter(|l| l.starts_with(req)).count(), 7, "{m}");

    let dur = "rocketmq_namesrv_request_duration_seconds_count";
    expect(&m, dur, r#"class="route""#, 11.0);
    expect(&m, dur, r#"class="broker""#, 7.0);
    expect(&m, dur, r#"class="kv""#, 2.0);
    expect(&m, dur, r#"class="admin""#, 0.0);
    expect(
        &m,
        "rocketmq_namesrv_request_duration_seconds_bucket",
        r#"class="route",le="+Inf""#,
        11.0,
    );

    expect(&m, "rocketmq_namesrv_connections", "", 1.0);
    expect(&m, "rocketmq_namesrv_connections_accepted_total", "", 2.0);
    let closed = "rocketmq_namesrv_connections_closed_total";
    expect(&m, closed, r#"reason="bad_frame""#, 1.0);
    for reason in ["peer", "idle", "expired_broker", "limit", "shutdown"] {
        expect(&m, closed, &format!("reason=\"{reason}\""), 0.0);
    }
    let rejected = "rocketmq_namesrv_frames_rejected_total";
    expect(&m, rejected, r#"reason="too_long""#, 1.0);
    for reason in ["malformed", "timeout", "budget"] {
        expect(&m, rejected, &format!("reason=\"{reason}\""), 0.0);
    }

    expect(&m, "rocketmq_namesrv_clusters", "", 1.0);
    expect(&m, "rocketmq_namesrv_broker_groups", "", 1.0);
    expect(&m, "rocketmq_namesrv_brokers", "", 1.0);
    expect(&m, "rocketmq_namesrv_topics", "", 2.0);
    expect(&m, "rocketmq_namesrv_kv_entries", "", 2.0);

    let reg = "rocketmq_namesrv_broker_registrations_total";
    expect(&m, reg, r#"result="changed""#, 2.0);
    expect(&m, reg, r#"result="unchanged""#, 1.0);
    expect(&m, reg, r#"result="rejected""#, 1.0);
    let unreg = "rocketmq_namesrv_broker_unregistrations_total";
    expect(&m, unreg, r#"reason="request""#, 1.0);
    expect(&m, unreg, r#"reason="connection_closed""#, 0.0);
    expect(&m, unreg, r#"reason="expired""#, 0.0);

    // Writes reaching the writer: 3 registrations, 2 puts, 1 heartbeat, 2
    // unregistrations; every one taken.
    expect(&m, "rocketmq_namesrv_writer_batch_writes_sum", "", 8.0);
    expect(&m, "rocketmq_namesrv_write_queue_depth", "", 0.0);
    let publishes = metric(&m, "rocketmq_namesrv_snapshot_publishes_total", "").expect("publishes");
    expect(
        &m,
        "rocketmq_namesrv_snapshot_publish_duration_seconds_count",
        "",
        publishes,
    );
    // Two new brokers, their repeat (liveness only, no change: none), two puts,
    // the unregistration.
    assert_eq!(publishes, 5.0, "{m}");
    expect(
        &m,
        "rocketmq_namesrv_kv_persist_duration_seconds_count",
        "",
        2.0,
    );

    let shard_total: f64 = (0..2)
        .filter_map(|i| {
            metric(
                &m,
                "rocketmq_namesrv_shard_requests_total",
                &format!("shard=\"{i}\""),
            )
        })
        .sum();
    assert_eq!(shard_total, 20.0, "{m}");

    expect(&m, "rocketmq_namesrv_ready", "", 1.0);
    expect(
        &m,
        "rocketmq_namesrv_build_info",
        &format!("version=\"{}\"", env!("CARGO_PKG_VERSION")),
        1.0,
    );
    // The process metrics against what the test reads of the same process.
    let get = |name: &str| metric(&m, name, "").unwrap_or_else(|| panic!("{name} in:\n{m}"));
    let start = get("process_start_time_seconds");
    assert!(
        before_spawn.floor() <= start && start <= after_boot.ceil(),
        "start {start} not within {before_spawn}..{after_boot}"
    );
    let fds = std::fs::read_dir(format!("/proc/{}/fd", s.pid()))
        .expect("list the server's fds")
        .count() as f64;
    let open = get("process_open_fds");
    assert!(
        (open - fds).abs() <= 1.0,
        "open_fds {open}, /proc says {fds}"
    );
    // SAFETY: sysconf only reads its argument.
    let page = unsafe { libc::sysconf(libc::_SC_PAGESIZE) } as f64;
    let statm = std::fs::read_to_string(format!("/proc/{}/statm", s.pid())).expect("statm");
    let pages: f64 = statm
        .split_whitespace()
        .nth(1)
        .and_then(|p| p.parse().ok())
        .expect("resident pages");
    let rss = get("process_resident_memory_bytes");
    // A few pages apart: the scrape and the test's read are moments apart.
    assert!(
        (rss - pages * page).abs() <= 64.0 * page,
        "rss {rss}, statm says {} pages",
        pages
    );
    let cpu = get("process_cpu_seconds_total");
    let cores = std::thread::available_parallelism().map_or(1, |n| n.get()) as f64;
    let wall = unix_now() - before_spawn;
    assert!(
        (0.0..=wall * cores).contains(&cpu),
        "cpu {cpu} s over {wall} s wall on {cores} cores"
    );
}

#[test]
fn a_closed_connection_and_an_expired_broker_are_counted_by_reason() {
    let s = TestServer::start(&[("scanNotActiveBrokerInterval", "100")]);
    let h = http_addr(&s);
    let mut c = s.client();
    let mut a = BrokerReg::new(
        "c1",
        "broker-a",
        "127.0.0.1:10911",
        0,
        vec![topic("T1", 6, 4), topic("T2", 6, 4)],
    );
    a.heartbeat_timeout_ms = Some(300);
    c.register_ok(&a);
    // The broker expires and the writer closes its connection.
    c.expect_closed(Duration::from_secs(5));
    // Another broker whose connection its peer closes.
    let mut d = s.client();
    d.register_ok(&BrokerReg::new(
        "c1",
        "broker-d",
        "127.0.0.1:10931",
        0,
        vec![topic("T3", 6, 4), topic("T4", 6, 4)],
    ));
    drop(d);
    let m = wait_for(Duration::from_secs(5), "both unregistrations", || {
        let m = scrape(h);
        let n = |r: &str| {
            metric(
                &m,
                "rocketmq_namesrv_broker_unregistrations_total",
                &format!("reason=\"{r}\""),
            )
        };
        // The counters move when a write is applied, the gauges when its batch
        // is published just after: wait for both.
        let gone = metric(&m, "rocketmq_namesrv_brokers", "") == Some(0.0);
        (n("expired") == Some(1.0) && n("connection_closed") == Some(1.0) && gone).then_some(m)
    });
    let closed = "rocketmq_namesrv_connections_closed_total";
    expect(&m, closed, r#"reason="expired_broker""#, 1.0);
    expect(&m, closed, r#"reason="peer""#, 1.0);
    expect(&m, "rocketmq_namesrv_connections", "", 0.0);
    expect(&m, "rocketmq_namesrv_brokers", "", 0.0);
}

#[test]
fn limits_and_deadlines_count_their_closes_and_rejections() {
    let s = TestServer::start(&[
        ("maxConnections", "2"),
        ("maxConnectionsPerAddress", "2"),
        ("frameReadTimeoutMillis", "300"),
        ("serverChannelMaxIdleTimeSeconds", "1"),
        ("maxIncompleteFrameBytes", "150000"),
    ]);
    let h = http_addr(&s);
    let frame = |len: u32| {
        let mut f = len.to_be_bytes().to_vec();
        f.extend_from_slice(&[0, 0, 0, 2, b'{', b'}']);
        f
    };
    // A frame that stops after 10 bytes: the frame deadline.
    let mut slow = s.client();
    slow.send_raw(&frame(1000)[..10]).expect("send");
    slow.expect_closed(Duration::from_secs(3));
    // 200 kB of a larger frame: over the incomplete-frame budget (frames under
    // 128 KiB are never charged).
    let mut big = s.client();
    let mut part = frame(300_000);
    part.resize(200_000, b'x');
    let _ = big.send_raw(&part);
    big.expect_closed(Duration::from_secs(3));
    // A header length past the frame's end: malformed.
    let mut bad = s.client();
    bad.send_raw(&[0, 0, 0, 8, 0, 0, 0, 0x7f, 1, 2, 3, 4])
        .expect("send");
    bad.expect_closed(Duration::from_secs(3));
    // Two idle connections fill the limit (once the closed ones gave their slots
    // back); a third is refused.
    wait_for(Duration::from_secs(3), "no open connections", || {
        (metric(&scrape(h), "rocketmq_namesrv_connections", "") == Some(0.0)).then_some(())
    });
    // (A connection is counted closed just before its slot is given back.)
    std::thread::sleep(Duration::from_millis(100));
    let mut idle1 = s.client();
    let mut idle2 = s.client();
    std::thread::sleep(Duration::from_millis(200));
    let mut refused = s.client();
    refused.expect_closed(Duration::from_secs(3));
    idle1.expect_closed(Duration::from_secs(5));
    idle2.expect_closed(Duration::from_secs(5));

    let m = scrape(h);
    expect(&m, "rocketmq_namesrv_connections", "", 0.0);
    expect(&m, "rocketmq_namesrv_connections_accepted_total", "", 6.0);
    let closed = "rocketmq_namesrv_connections_closed_total";
    expect(&m, closed, r#"reason="bad_frame""#, 3.0);
    expect(&m, closed, r#"reason="idle""#, 2.0);
    expect(&m, closed, r#"reason="limit""#, 1.0);
    expect(&m, closed, r#"reason="peer""#, 0.0);
    let rejected = "rocketmq_namesrv_frames_rejected_total";
    expect(&m, rejected, r#"reason="timeout""#, 1.0);
    expect(&m, rejected, r#"reason="budget""#, 1.0);
    expect(&m, rejected, r#"reason="malformed""#, 1.0);
    expect(&m, rejected, r#"reason="too_long""#, 0.0);
    // Nothing was answered.
    assert_eq!(
        m.lines()
            .filter(|l| l.starts_with("rocketmq_namesrv_requests_total"))
            .count(),
        0,
        "{m}"
    );
}

// `promtool check metrics` on a real exposition runs in tests/deploy, which fetches
// promtool itself and never skips.

#[test]
fn a_flood_of_made_up_codes_folds_into_other_and_sums_exactly() {
    let s = server();
    let h = http_addr(&s);
    let mut c = s.client();
    // 2000 distinct codes none of ours: more than a shard's table has slots.
    for code in 50_000..52_000 {
        assert_eq!(c.ask(code, &[], None).0.code, 3);
    }
    // Pairs first seen after the flood still get their own series.
    assert!(c.route("nope").is_none());
    assert_eq!(c.ask(219, &[("namespace", "ns")], None).0.code, 22);
    let m = scrape(h);
    let req = "rocketmq_namesrv_requests_total";
    expect(&m, req, r#"code="other",response_code="3""#, 2000.0);
    expect(&m, req, r#"code="105",response_code="17""#, 1.0);
    expect(&m, req, r#"code="219",response_code="22""#, 1.0);
    assert_eq!(m.lines().filter(|l| l.starts_with(req)).count(), 3, "{m}");
    let per_shard: f64 = m
        .lines()
        .filter(|l| l.starts_with("rocketmq_namesrv_shard_requests_total{"))
        .filter_map(|l| l.rsplit(' ').next()?.parse::<f64>().ok())
        .sum();
    assert_eq!(per_shard, 2002.0, "{m}");
}
