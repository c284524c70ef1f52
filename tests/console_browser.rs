//! The console in a real browser: Debian's headless Chromium loads `/` and a
//! topic's route page from a running namesrv, and the rendered DOM must hold the
//! brokers, addresses and queue data registered over the RocketMQ protocol. The
//! `/api/…` JSON is checked with plain HTTP.
//!
//! Chromium comes from `$CHROMIUM_BIN`, else `tools/fetch-debs fetch chromium`
//! (the project's installer, when present), else `chromium` on PATH. With
//! `CONSOLE_SCREENSHOT=1` the test also rewrites `docs/console.png`.

mod common;

use std::net::{SocketAddr, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use common::codes::{request as rq, version};
use common::*;

/// Longest one Chromium run may take (two shared cores, cold start).
const CHROMIUM_TIMEOUT: Duration = Duration::from_secs(90);

fn repo_root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// The Chromium binary to drive.
fn chromium() -> PathBuf {
    if let Some(bin) = std::env::var_os("CHROMIUM_BIN").filter(|b| !b.is_empty()) {
        return PathBuf::from(bin);
    }
    let script = repo_root().join("tools/fetch-debs");
    if script.exists() {
        let out = Command::new(&script)
            .args(["fetch", "chromium"])
            .stderr(Stdio::inherit())
            .output()
            .expect("run tools/fetch-debs");
        let stdout = String::from_utf8_lossy(&out.stdout);
        assert!(
            out.status.success(),
            "tools/fetch-debs fetch chromium failed:\n{stdout}"
        );
        let bin = stdout
            .lines()
            .find_map(|l| l.strip_prefix("CHROMIUM_BIN="))
            .map(|v| v.trim_matches('\'').to_string())
            .filter(|v| !v.is_empty())
            .unwrap_or_else(|| panic!("tools/fetch-debs named no chromium:\n{stdout}"));
        return PathBuf::from(bin);
    }
    PathBuf::from("chromium")
}

/// Runs headless Chromium with `args` then `url`; returns its stdout.
fn run_chromium(profile: &Path, args: &[&str], url: &str) -> String {
    let mut child = Command::new(chromium())
        .args([
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-dev-shm-usage",
            "--no-first-run",
            "--disable-extensions",
        ])
        .arg(format!("--user-data-dir={}", profile.display()))
        .args(args)
        .arg(url)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("start chromium (install it with tools/fetch-debs fetch chromium)");
    let mut stdout = child.stdout.take().expect("stdout");
    let reader = std::thread::spawn(move || {
        let mut s = String::new();
        let _ = std::io::Read::read_to_string(&mut stdout, &mut s);
        s
    });
    let deadline = Instant::now() + CHROMIUM_TIMEOUT;
    loop {
        match child.try_wait().expect("wait chromium") {
            Some(status) => {
                assert!(status.success(), "chromium failed on {url}: {status}");
                break;
            }
            None if Instant::now() > deadline => {
                let _ = child.kill();
                let _ = child.wait();
                panic!("chromium did not finish {url} within {CHROMIUM_TIMEOUT:?}");
            }
            None => std::thread::sleep(Duration::from_millis(50)),
        }
    }
    reader.join().expect("chromium stdout")
}

/// The DOM Chromium rendered for `url`.
fn dump_dom(profile: &Path, url: &str) -> String {
    run_chromium(profile, &["--dump-dom"], url)
}

fn assert_has(dom: &str, want: &str) {
    assert!(
        dom.contains(want),
        "the rendered DOM lacks {want:?}:\n{dom}"
    );
}

/// A broker that registers over its own connection; returns it with the
/// connection's local address (what the console shows as its peer).
fn register(server: &TestServer, reg: &BrokerReg) -> (Client, SocketAddr) {
    let stream = TcpStream::connect(server.addr).expect("connect");
    let local = stream.local_addr().expect("local addr");
    let mut c = Client::from_stream(stream);
    c.register_ok(reg);
    (c, local)
}

struct Estate {
    server: TestServer,
    http: SocketAddr,
    /// Kept open: closing a broker's connection unregisters it.
    _brokers: Vec<Client>,
    peers: Vec<SocketAddr>,
}

/// Group `broker-a`: a master and a slave in zone `zone-east`; group `broker-b`:
/// a master in `zone-west`. Topics `OrderTopic` (both groups) and `PayTopic`.
fn estate() -> Estate {
    let server = TestServer::start(&[]);
    let http = server.http.expect("the boot line names the HTTP address");
    let topics_a = vec![topic("OrderTopic", 6, 8), topic("PayTopic", 6, 4)];
    let topics_b = vec![topic("OrderTopic", 6, 16), topic("LogTopic", 4, 2)];
    let mut a0 = BrokerReg::new(
        "DefaultCluster",
        "broker-a",
        "192.168.7.10:10911",
        0,
        topics_a.clone(),
    );
    a0.zone = Some("zone-east".into());
    a0.heartbeat_timeout_ms = Some(40_000);
    a0.data_version = dv(5, 2);
    let mut a1 = BrokerReg::new(
        "DefaultCluster",
        "broker-a",
        "192.168.7.11:10911",
        1,
        topics_a,
    );
    a1.zone = Some("zone-east".into());
    a1.heartbeat_timeout_ms = Some(40_000);
    a1.data_version = dv(5, 2);
    let mut b0 = BrokerReg::new(
        "DefaultCluster",
        "broker-b",
        "192.168.8.20:10911",
        0,
        topics_b,
    );
    b0.zone = Some("zone-west".into());
    b0.data_version = dv(9, 0);
    let mut brokers = Vec::new();
    let mut peers = Vec::new();
    for reg in [&a0, &a1, &b0] {
        let (c, peer) = register(&server, reg);
        brokers.push(c);
        peers.push(peer);
    }
    Estate {
        server,
        http,
        _brokers: brokers,
        peers,
    }
}

/// The 105 body a 4.9.4+ client gets, over the RocketMQ protocol.
fn lookup_body(server: &TestServer, topic: &str) -> String {
    let mut c = server.client();
    let mut cmd = request(rq::GET_ROUTEINFO_BY_TOPIC, &[("topic", topic)]);
    cmd.version = version::CURRENT;
    let (reply, body) = c.call(cmd, None);
    assert_eq!(reply.code, 0, "{:?}", reply.remark);
    String::from_utf8(body.expect("a route body")).expect("utf-8")
}

#[test]
fn chromium_renders_brokers_and_routes() {
    let e = estate();
    let profile = tempfile::tempdir().expect("profile dir");
    let base = format!("http://{}", e.http);

    let dom = dump_dom(profile.path(), &format!("{base}/"));
    assert_has(&dom, "<h3>Cluster DefaultCluster</h3>");
    assert_has(&dom, "<td rowspan=\"2\" class=\"group\">broker-a</td><td rowspan=\"2\">zone-east</td><td rowspan=\"2\">2</td>");
    assert_has(&dom, "<td rowspan=\"1\" class=\"group\">broker-b</td><td rowspan=\"1\">zone-west</td><td rowspan=\"1\">2</td>");
    for (id, role, addr, version, peer) in [
        (0, "master", "192.168.7.10:10911", "5 / state 2", e.peers[0]),
        (1, "slave", "192.168.7.11:10911", "5 / state 2", e.peers[1]),
        (0, "master", "192.168.8.20:10911", "9 / state 0", e.peers[2]),
    ] {
        assert_has(
            &dom,
            &format!("<td class=\"id\">{id}</td><td class=\"role-{role}\">{role}</td><td class=\"addr\">{addr}</td><td>{version} / "),
        );
        assert_has(&dom, &format!("<td class=\"peer\">{peer}</td>"));
    }
    assert_has(&dom, "<td>40.0s</td>");
    assert_has(&dom, "<td>2m 0s</td>"); // broker-b: the default 120 s timeout
    assert_has(&dom, "<th>live brokers</th><td>3</td>");
    assert_has(&dom, "<tr><td>httpPort</td><td>0</td></tr>");

    let body = lookup_body(&e.server, "OrderTopic");
    let dom = dump_dom(profile.path(), &format!("{base}/topic/OrderTopic"));
    assert_has(&dom, "<span id=\"topic\">OrderTopic</span>");
    assert_has(
        &dom,
        "<tr><td>broker-a</td><td>8</td><td>8</td><td>6</td><td>0</td></tr>",
    );
    assert_has(
        &dom,
        "<tr><td>broker-b</td><td>16</td><td>16</td><td>6</td><td>0</td></tr>",
    );
    // The raw body exactly as the lookup answered it (the DOM serialiser leaves
    // quotes in text unescaped).
    assert_has(&dom, &format!("<pre id=\"raw\">{body}</pre>"));
    assert_has(&dom, &format!("Raw body, {} bytes", body.len()));
    assert_has(&dom, "\"brokerAddrs\": {\n");

    let dom = dump_dom(profile.path(), &format!("{base}/topics?q=Topic"));
    assert_has(
        &dom,
        "<p class=\"muted\" id=\"count\">3 topics, page 1 of 1</p>",
    );
    assert_has(
        &dom,
        "<a href=\"/topic/LogTopic\">LogTopic</a></td><td>broker-b</td><td>2</td><td>2</td>",
    );

    // A populated console, for the README.
    let shot = if std::env::var_os("CONSOLE_SCREENSHOT").is_some() {
        repo_root().join("docs/console.png")
    } else {
        profile.path().join("console.png")
    };
    run_chromium(
        profile.path(),
        &[
            &format!("--screenshot={}", shot.display()),
            "--window-size=1280,900",
            "--hide-scrollbars",
        ],
        &format!("{base}/"),
    );
    let png = std::fs::read(&shot).expect("the screenshot");
    assert_eq!(&png[..8], b"\x89PNG\r\n\x1a\n");
}

#[test]
fn api_json_exact() {
    let e = estate();
    let r = http(e.http, "GET", "/api/clusters", &[]);
    assert_eq!(r.status, 200);
    assert_eq!(r.header("content-type"), Some("application/json"));
    let mut v: serde_json::Value = serde_json::from_str(&r.body).expect("json");
    // Heartbeat ages depend on the clock: present, then set aside.
    for g in v["clusters"][0]["groups"].as_array_mut().expect("groups") {
        for b in g["brokers"].as_array_mut().expect("brokers") {
            assert!(b["lastUpdateMsAgo"].as_u64().is_some(), "{b}");
            b["lastUpdateMsAgo"] = serde_json::Value::Null;
        }
    }
    let broker = |id: i64,
                  role: &str,
                  addr: &str,
                  counter: i64,
                  state: i64,
                  timeout: u64,
                  peer: SocketAddr| {
        serde_json::json!({"id": id, "role": role, "addr": addr,
            "dataVersion": {"counter": counter, "stateVersion": state, "timestamp": 1_700_000_000_000i64 + counter},
            "lastUpdateMsAgo": null, "heartbeatTimeoutMs": timeout, "peer": peer.to_string()})
    };
    assert_eq!(
        v,
        serde_json::json!({"clusters": [{"name": "DefaultCluster", "groups": [
            {"name": "broker-a", "zone": "zone-east", "enableActingMaster": false, "topics": 2, "brokers": [
                broker(0, "master", "192.168.7.10:10911", 5, 2, 40_000, e.peers[0]),
                broker(1, "slave", "192.168.7.11:10911", 5, 2, 40_000, e.peers[1])]},
            {"name": "broker-b", "zone": "zone-west", "enableActingMaster": false, "topics": 2, "brokers": [
                broker(0, "master", "192.168.8.20:10911", 9, 0, 120_000, e.peers[2])]},
        ]}]})
    );

    let body = lookup_body(&e.server, "PayTopic");
    let r = http(e.http, "GET", "/api/topic/PayTopic", &[]);
    assert_eq!(r.status, 200);
    let v: serde_json::Value = serde_json::from_str(&r.body).expect("json");
    assert_eq!(v["body"], serde_json::Value::String(body));
    assert_eq!(
        v["queueDatas"],
        serde_json::json!([{"brokerName": "broker-a", "readQueueNums": 4, "writeQueueNums": 4, "perm": 6, "topicSysFlag": 0}])
    );
    let r = http(e.http, "GET", "/api/topic/NoSuchTopic", &[]);
    assert_eq!(
        (r.status, r.body.as_str()),
        (404, "{\n  \"topic\": \"NoSuchTopic\",\n  \"code\": 17\n}")
    );

    let r = http(e.http, "GET", "/api/topics?q=Pay&page=1", &[]);
    let v: serde_json::Value = serde_json::from_str(&r.body).expect("json");
    assert_eq!(
        v,
        serde_json::json!({"query": "Pay", "page": 1, "pageSize": 100, "total": 1, "pages": 1,
            "topics": [{"name": "PayTopic", "brokerGroups": ["broker-a"], "readQueues": 4, "writeQueues": 4}]})
    );

    let mut c = e.server.client();
    put_ok(&mut c, "ORDER_TOPIC_CONFIG", "OrderTopic", "broker-a:8");
    let r = http(e.http, "GET", "/api/kv", &[]);
    let v: serde_json::Value = serde_json::from_str(&r.body).expect("json");
    assert_eq!(
        v,
        serde_json::json!({"namespaces": [{"namespace": "ORDER_TOPIC_CONFIG",
            "entries": [{"key": "OrderTopic", "value": "broker-a:8"}]}]})
    );

    let r = http(e.http, "GET", "/api/server", &[]);
    let v: serde_json::Value = serde_json::from_str(&r.body).expect("json");
    assert_eq!(v["version"], env!("CARGO_PKG_VERSION"));
    assert_eq!(v["ready"], true);
    assert_eq!(
        (
            &v["clusters"],
            &v["brokerGroups"],
            &v["liveBrokers"],
            &v["topics"]
        ),
        (
            &serde_json::json!(1),
            &serde_json::json!(2),
            &serde_json::json!(3),
            &serde_json::json!(3)
        )
    );
    assert_eq!(v["shards"].as_array().map(Vec::len), Some(2));
    let open: u64 = v["shards"]
        .as_array()
        .expect("shards")
        .iter()
        .map(|s| s["connections"].as_u64().expect("connections"))
        .sum();
    // Three brokers and the KV client.
    assert_eq!(open, 4);
    assert!(v["config"]
        .as_array()
        .expect("config")
        .iter()
        .any(|s| s == &serde_json::json!({"key": "cores", "value": "2"})));
}

/// The broker `addr`'s entry in `/api/clusters`.
fn broker_json(http_addr: SocketAddr, addr: &str) -> serde_json::Value {
    let r = http(http_addr, "GET", "/api/clusters", &[]);
    let v: serde_json::Value = serde_json::from_str(&r.body).expect("json");
    v["clusters"]
        .as_array()
        .into_iter()
        .flatten()
        .flat_map(|c| c["groups"].as_array().into_iter().flatten())
        .flat_map(|g| g["brokers"].as_array().into_iter().flatten())
        .find(|b| b["addr"] == addr)
        .cloned()
        .unwrap_or(serde_json::Value::Null)
}

/// Heartbeats publish nothing; the live view takes their time at the next scan
/// tick. A registration over another connection shows its new peer at once.
#[test]
fn live_view_follows_heartbeats_and_connections() {
    let server = TestServer::start(&[("scanNotActiveBrokerInterval", "200")]);
    let h = server.http.expect("http");
    let reg = BrokerReg::new(
        "C",
        "g",
        "10.9.9.9:10911",
        0,
        vec![topic("T1", 6, 1), topic("T2", 6, 1)],
    );
    let (mut first, first_peer) = register(&server, &reg);
    let b = broker_json(h, "10.9.9.9:10911");
    assert_eq!(b["peer"], first_peer.to_string());
    let age = |b: &serde_json::Value| b["lastUpdateMsAgo"].as_u64().expect("age");
    // Without a heartbeat the registration's time only ages.
    wait_for(
        Duration::from_secs(10),
        "the registration 1.2 s old",
        || (age(&broker_json(h, "10.9.9.9:10911")) >= 1200).then_some(()),
    );

    let (reply, _) = first.call(reg.heartbeat(), None);
    assert_eq!(reply.code, 0);
    // The next scan tick puts the heartbeat's time in the view.
    wait_for(
        Duration::from_secs(5),
        "the heartbeat's time in the view",
        || (age(&broker_json(h, "10.9.9.9:10911")) < 1000).then_some(()),
    );

    let (_second, second_peer) = register(&server, &reg);
    assert_ne!(first_peer, second_peer);
    let b = broker_json(h, "10.9.9.9:10911");
    assert_eq!(b["peer"], second_peer.to_string());
}

/// With `authenticationEnabled` the rendered overview has no configuration table
/// and `/kv` (403) no entries, each with the line saying why.
#[test]
fn chromium_shows_why_admin_data_is_hidden_with_auth_on() {
    let (server, _) = auth_server(
        "accounts:\n  - accessKey: adminKey01\n    secretKey: adminSecret1\n    admin: true\n",
        &[],
    );
    let base = format!("http://{}", server.http.expect("http"));
    let profile = tempfile::tempdir().expect("profile dir");

    let dom = dump_dom(profile.path(), &format!("{base}/"));
    assert_has(&dom, "<h2>Configuration</h2><p class=\"muted\" id=\"config-hidden\">Not shown: with authenticationEnabled=true only admin accounts may read the configuration (GET_NAMESRV_CONFIG), and this page has no accounts.</p>");
    assert_has(&dom, "<th>live brokers</th><td>0</td>");
    assert!(!dom.contains("httpPort"), "{dom}");
    let dom = dump_dom(profile.path(), &format!("{base}/kv"));
    assert_has(&dom, "<p class=\"muted\" id=\"kv-hidden\">Not shown: with authenticationEnabled=true only admin accounts may read the KV store (GET_KV_CONFIG, GET_KVLIST_BY_NAMESPACE), and this page has no accounts.</p>");
}
