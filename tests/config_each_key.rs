//! Every key of the field table has a decision, checked through the wire: an
//! UPDATE_NAMESRV_CONFIG (318) of it either takes effect at once (a probe shows
//! the effect), is refused with its exact code and remark, or is accepted and
//! logged as having no effect here (with its reason). The rows must name exactly
//! the keys of `namesrv::config::FIELDS`, so a new key fails this test until it
//! has a decision.

mod common;

use std::io::Read;
use std::time::{Duration, Instant};

use common::codes::request as rq;
use common::{request, strip_ansi, topic, update_ok, wait_for, BrokerReg, Client, TestServer};
use namesrv::config::FIELDS;
use protocol::SerializeType;

const BLACK_LIST_REMARK: &str = "Can not update config in black list.";

/// A probe: checks the state before, applies the 318 (`update_ok` with the
/// row's `key=value`), then checks the effect.
type Probe = fn(&TestServer, &mut Client, &str);

enum Expect {
    /// Fixed at start: 318 refuses it (16, upstream's black-list remark).
    Refused,
    /// 318 applies it at once; the probe shows it.
    Live(Probe),
    /// 318 applies it; its effect belongs to another area's tests (named).
    LiveTestedIn(&'static str),
    /// Accepted (upstream's files and tools keep working), shown by 319, and
    /// the server logs that it has no effect here.
    NoEffect,
    /// `true` names a feature we do not have: 318 refuses it with this remark,
    /// and a start with it stops.
    RefusedWhenTrue(&'static str),
}

use Expect::*;

fn rows() -> Vec<(&'static str, &'static str, Expect)> {
    vec![
        ("rocketmqHome", "/x", Refused),
        ("kvConfigPath", "/x", Refused),
        ("configStorePath", "/x", Refused),
        ("productEnvName", "other", NoEffect),
        (
            "clusterTest",
            "true",
            RefusedWhenTrue(
                "Can not update config: clusterTest=true is not supported: the cluster-test \
                 processor (route lookups that miss asking the `productEnvName` environment's \
                 name servers) is not available",
            ),
        ),
        ("orderMessageEnable", "true", Live(order_message_enable)),
        (
            "returnOrderTopicConfigToBroker",
            "false",
            Live(return_order_topic_config),
        ),
        ("clientRequestThreadPoolNums", "3", NoEffect),
        ("defaultThreadPoolNums", "3", NoEffect),
        ("clientRequestThreadPoolQueueCapacity", "3", NoEffect),
        ("defaultThreadPoolQueueCapacity", "3", NoEffect),
        ("scanNotActiveBrokerInterval", "100", Live(scan_interval)),
        ("unRegisterBrokerQueueCapacity", "3", NoEffect),
        (
            "supportActingMaster",
            "true",
            LiveTestedIn("tests/route.rs (acting master) and the snapshot's route settings"),
        ),
        ("enableAllTopicList", "false", Live(enable_all_topic_list)),
        ("enableTopicList", "false", Live(enable_topic_list)),
        (
            "notifyMinBrokerIdChanged",
            "true",
            LiveTestedIn(
                "tests/notify_min_broker_id.rs (a_318_switching_the_key_on_takes_effect_at_once)",
            ),
        ),
        (
            "enableControllerInNamesrv",
            "true",
            RefusedWhenTrue(
                "Can not update config: enableControllerInNamesrv=true is not supported: \
                 the embedded controller is not available",
            ),
        ),
        ("needWaitForService", "true", Live(need_wait_for_service)),
        ("waitSecondsForService", "0", Live(wait_seconds_for_service)),
        (
            "deleteTopicWithBrokerRegistration",
            "true",
            Live(delete_topic_with_registration),
        ),
        ("configBlackList", "", Refused),
        ("bindAddress", "127.0.0.2", Refused),
        ("listenPort", "1", Refused),
        ("serverWorkerThreads", "3", NoEffect),
        ("serverCallbackExecutorThreads", "3", NoEffect),
        ("serverSelectorThreads", "3", NoEffect),
        ("serverOnewaySemaphoreValue", "3", NoEffect),
        ("serverAsyncSemaphoreValue", "3", NoEffect),
        (
            "serverChannelMaxIdleTimeSeconds",
            "1",
            Live(idle_time_for_new_connections),
        ),
        ("serverSocketSndBufSize", "65536", Refused),
        ("serverSocketRcvBufSize", "65536", Refused),
        ("writeBufferHighWaterMark", "3", NoEffect),
        ("writeBufferLowWaterMark", "3", NoEffect),
        ("serverSocketBacklog", "3", Refused),
        ("serverNettyWorkerGroupEnable", "false", NoEffect),
        ("serverPooledByteBufAllocatorEnable", "false", NoEffect),
        (
            "enableShutdownGracefully",
            "true",
            LiveTestedIn(
                "tests/shutdown_graceful.rs (a_318_switching_the_drain_on_is_read_at_the_signal)",
            ),
        ),
        (
            "shutdownWaitTimeSeconds",
            "2",
            LiveTestedIn(
                "tests/shutdown_graceful.rs (a_318_switching_the_drain_on_is_read_at_the_signal)",
            ),
        ),
        ("useEpollNativeSelector", "true", NoEffect),
        ("cores", "1", Refused),
        ("maxFrameLength", "1", Refused),
        ("replySerializeType", "ROCKETMQ", Live(reply_serialize_type)),
        ("jsonCompatRelease", "5.3", Refused),
        ("kvMaxValueLength", "1", Refused),
        ("kvMaxEntries", "1", Refused),
        ("kvMaxTotalBytes", "1", Refused),
        ("maxInflatedBodyLength", "1", Refused),
        ("maxTopicsPerRegistration", "1", Refused),
        ("connectionWriteTimeoutMillis", "1", Refused),
        ("shutdownTimeoutMillis", "1", Refused),
        ("connectionMaxPendingOutput", "1", Refused),
        ("maxConnections", "1", Refused),
        ("maxConnectionsPerAddress", "1", Refused),
        ("frameReadTimeoutMillis", "1", Refused),
        ("maxIncompleteFrameBytes", "1", Refused),
        ("httpPort", "1", Refused),
        ("statsLogIntervalSeconds", "1", Refused),
        ("authenticationEnabled", "true", Refused),
        ("authConfigPath", "/tmp/x.yml", Refused),
        (
            "anonymousRouteRead",
            "false",
            LiveTestedIn("tests/auth.rs (anonymous_route_read_false_via_318)"),
        ),
        ("proxyProtocolTrustedAddresses", "127.0.0.1", Refused),
        ("memoryTrimIntervalSeconds", "0", Refused),
    ]
}

fn config_text(c: &mut Client) -> String {
    let r = c.ask(rq::GET_NAMESRV_CONFIG, &[], None);
    assert_eq!(r.0.code, 0);
    String::from_utf8(r.1.expect("config body")).expect("utf-8")
}

fn shows(text: &str, key: &str, value: &str) -> bool {
    text.lines().any(|l| l == format!("{key}={value}"))
}

fn update(c: &mut Client, body: &str) -> (i32, Option<String>) {
    let r = c.ask(rq::UPDATE_NAMESRV_CONFIG, &[], Some(body.as_bytes()));
    (r.0.code, r.0.remark)
}

#[test]
fn every_field_has_a_row() {
    let fields: Vec<&str> = FIELDS.iter().map(|f| f.key).collect();
    let rows: Vec<&str> = rows().iter().map(|(k, _, _)| *k).collect();
    assert_eq!(
        rows, fields,
        "a key of the field table needs a decision here"
    );
}

#[test]
fn refused_and_no_effect_keys_over_the_wire() {
    let server = TestServer::start(&[]);
    let mut admin = server.client();
    for (key, value, expect) in rows() {
        let body = format!("{key}={value}");
        match expect {
            Refused => {
                let before = config_text(&mut admin);
                assert_eq!(
                    update(&mut admin, &body),
                    (16, Some(BLACK_LIST_REMARK.to_string())),
                    "{key}"
                );
                assert_eq!(config_text(&mut admin), before, "{key}");
            }
            NoEffect => {
                update_ok(&mut admin, &body);
                assert!(shows(&config_text(&mut admin), key, value), "{key}");
                let what = format!("the no-effect log line of {key}");
                wait_for(Duration::from_secs(5), &what, || {
                    strip_ansi(&server.stderr())
                        .lines()
                        .any(|l| {
                            l.contains("318: config key accepted, but it has no effect here")
                                && l.contains(&format!(" key={key} reason="))
                        })
                        .then_some(())
                });
            }
            RefusedWhenTrue(remark) => {
                assert_eq!(
                    update(&mut admin, &body),
                    (1, Some(remark.to_string())),
                    "{key}"
                );
                assert!(shows(&config_text(&mut admin), key, "false"), "{key}");
                update_ok(&mut admin, &format!("{key}=false"));
            }
            LiveTestedIn(effect_tested_in) => {
                update_ok(&mut admin, &body);
                assert!(
                    shows(&config_text(&mut admin), key, value),
                    "{key} (its effect: {effect_tested_in})"
                );
            }
            Live(_) => {}
        }
    }
}

/// The TLS keys are read once at start: 318 refuses each of them (rather than
/// accepting and ignoring it), a secret's value included.
#[test]
fn tls_keys_are_refused_by_318() {
    use namesrv::server::tls::{settings::UNUSED_KEYS, TLS_KEYS};
    let server = TestServer::start(&[]);
    let mut admin = server.client();
    let keys: Vec<&str> = TLS_KEYS.iter().chain(UNUSED_KEYS).copied().collect();
    assert_eq!(keys.len(), 11);
    for key in keys {
        let before = config_text(&mut admin);
        assert_eq!(
            update(&mut admin, &format!("{key}=x")),
            (16, Some(BLACK_LIST_REMARK.to_string())),
            "{key}"
        );
        assert_eq!(config_text(&mut admin), before, "{key}");
    }
    assert!(!server.stderr().contains("=x"), "{}", server.stderr());
}

#[test]
fn live_keys_take_effect_at_once() {
    for (key, value, expect) in rows() {
        if let Live(probe) = expect {
            let server = TestServer::start(&[]);
            let mut admin = server.client();
            let body = format!("{key}={value}");
            probe(&server, &mut admin, &body);
            assert!(shows(&config_text(&mut admin), key, value), "{key}");
        }
    }
}

#[test]
fn unsupported_features_refuse_to_start() {
    for key in ["enableControllerInNamesrv", "clusterTest"] {
        let dir = tempfile::tempdir().expect("tempdir");
        let conf = dir.path().join("namesrv.properties");
        common::write_props(&conf, &dir.path().join("kv.json"), &[(key, "true")]);
        let conf = conf.display().to_string();
        let (status, out, err) = common::run_to_exit(&["-c", &conf]);
        assert_eq!(status.code(), Some(2), "{key}: {err}");
        assert!(!out.contains("boot success"), "{key}");
        assert!(
            err.contains(&format!("namesrv: {key}=true is not supported: ")),
            "{key}: {err}"
        );
    }
}

#[test]
fn start_names_every_key_without_effect_in_one_line() {
    let server = TestServer::start(&[
        ("serverWorkerThreads", "4"),
        ("useEpollNativeSelector", "true"),
        ("clientWorkerThreads", "4"),
        ("brokerClusterName", "X"),
        ("tls.server.mode", "enforcing"),
        ("tls.client.keyPath", "/nowhere"),
        ("orderMessageEnable", "true"),
    ]);
    let err = strip_ansi(&server.stderr());
    let lines: Vec<&str> = err
        .lines()
        .filter(|l| l.contains("config keys with no effect in this name server"))
        .collect();
    assert_eq!(lines.len(), 1, "{err}");
    let line = lines[0];
    for key in [
        "serverWorkerThreads: there are no thread pools",
        "useEpollNativeSelector: io_uring",
        "clientWorkerThreads: a key of Java's NettyClientConfig",
        "brokerClusterName: unknown key (Java ignores it silently)",
        "tls.client.keyPath: the name server's own client side: ours sends only 905 \
         notifications, in plaintext",
    ] {
        assert!(line.contains(key), "{key}: {line}");
    }
    for key in [
        "tls.server.mode",
        "orderMessageEnable",
        "listenPort",
        "cores",
    ] {
        assert!(!line.contains(key), "{key}: {line}");
    }
}

#[test]
fn update_of_a_kept_unknown_key_is_logged_with_its_reason() {
    let server = TestServer::start(&[("clientWorkerThreads", "4")]);
    let mut admin = server.client();
    update_ok(&mut admin, "clientWorkerThreads=6");
    assert!(shows(&config_text(&mut admin), "clientWorkerThreads", "6"));
    wait_for(Duration::from_secs(5), "the no-effect log line", || {
        strip_ansi(&server.stderr())
            .lines()
            .any(|l| {
                l.contains("318: config key accepted, but it has no effect here")
                    && l.contains(
                        " key=clientWorkerThreads reason=\"a key of Java's NettyClientConfig",
                    )
            })
            .then_some(())
    });
}

// ---------------------------------------------------------------------------
// probes

fn order_message_enable(server: &TestServer, admin: &mut Client, body: &str) {
    let r = admin.ask(
        rq::PUT_KV_CONFIG,
        &[
            ("namespace", "ORDER_TOPIC_CONFIG"),
            ("key", "OrderTopic"),
            ("value", "broker-a:4"),
        ],
        None,
    );
    assert_eq!(r.0.code, 0);
    admin.register_ok(&BrokerReg::new(
        "C",
        "broker-a",
        "10.0.0.1:10911",
        0,
        vec![topic("OrderTopic", 6, 4), topic("Plain", 6, 4)],
    ));
    let route = admin.route("OrderTopic").expect("route");
    assert_eq!(route.order_topic_conf, None);
    update_ok(admin, body);
    let mut fresh = server.client();
    for c in [&mut *admin, &mut fresh] {
        let route = c.route("OrderTopic").expect("route");
        assert_eq!(route.order_topic_conf.as_deref(), Some("broker-a:4"));
    }
}

fn return_order_topic_config(_server: &TestServer, admin: &mut Client, body: &str) {
    let r = admin.ask(
        rq::PUT_KV_CONFIG,
        &[
            ("namespace", "ORDER_TOPIC_CONFIG"),
            ("key", "OrderTopic"),
            ("value", "broker-a:4"),
        ],
        None,
    );
    assert_eq!(r.0.code, 0);
    let reg = BrokerReg::new(
        "C",
        "broker-a",
        "10.0.0.1:10911",
        0,
        vec![topic("OrderTopic", 6, 4), topic("Plain", 6, 4)],
    );
    let r = admin.register_ok(&reg);
    let text = String::from_utf8_lossy(r.1.as_deref().unwrap_or_default()).into_owned();
    assert!(text.contains("broker-a:4"), "{text}");
    update_ok(admin, body);
    let r = admin.register_ok(&reg);
    assert_eq!(r.1.as_deref().map(<[u8]>::len).unwrap_or(0), 0, "no table");
}

fn scan_interval(server: &TestServer, admin: &mut Client, body: &str) {
    update_ok(admin, "scanNotActiveBrokerInterval=600000");
    // On its own connection: an expired broker's connection is closed.
    let mut broker = server.client();
    let mut reg = BrokerReg::new(
        "C",
        "broker-a",
        "10.0.0.1:10911",
        0,
        vec![topic("T", 6, 4), topic("T2", 6, 4)],
    );
    reg.heartbeat_timeout_ms = Some(200);
    broker.register_ok(&reg);
    std::thread::sleep(Duration::from_millis(1500));
    assert!(admin.route("T").is_some(), "no scan within the long period");
    update_ok(admin, body);
    wait_for(Duration::from_secs(3), "the expired broker gone", || {
        admin.route("T").is_none().then_some(())
    });
}

fn enable_all_topic_list(server: &TestServer, admin: &mut Client, body: &str) {
    assert_eq!(
        admin
            .ask(rq::GET_ALL_TOPIC_LIST_FROM_NAMESERVER, &[], None)
            .0
            .code,
        0
    );
    update_ok(admin, body);
    let mut fresh = server.client();
    for c in [&mut *admin, &mut fresh] {
        let r = c.ask(rq::GET_ALL_TOPIC_LIST_FROM_NAMESERVER, &[], None);
        assert_eq!((r.0.code, r.0.remark.as_deref()), (1, Some("disable")));
    }
}

fn enable_topic_list(server: &TestServer, admin: &mut Client, body: &str) {
    let ask = |c: &mut Client| {
        c.ask(rq::GET_TOPICS_BY_CLUSTER, &[("cluster", "C")], None)
            .0
    };
    assert_eq!(ask(admin).code, 0);
    update_ok(admin, body);
    let mut fresh = server.client();
    for c in [&mut *admin, &mut fresh] {
        let r = ask(c);
        assert_eq!((r.code, r.remark.as_deref()), (1, Some("disable")));
    }
}

fn need_wait_for_service(server: &TestServer, admin: &mut Client, body: &str) {
    admin.register_ok(&BrokerReg::new(
        "C",
        "broker-a",
        "10.0.0.1:10911",
        0,
        vec![topic("T", 6, 4), topic("T2", 6, 4)],
    ));
    assert!(admin.route("T").is_some());
    // Just started, so well within the 45 s of `waitSecondsForService`.
    update_ok(admin, body);
    let mut fresh = server.client();
    for c in [&mut *admin, &mut fresh] {
        let r = c.ask(rq::GET_ROUTEINFO_BY_TOPIC, &[("topic", "T")], None).0;
        assert_eq!(
            (r.code, r.remark.as_deref()),
            (1, Some("name server not ready"))
        );
    }
}

fn wait_seconds_for_service(server: &TestServer, admin: &mut Client, body: &str) {
    admin.register_ok(&BrokerReg::new(
        "C",
        "broker-a",
        "10.0.0.1:10911",
        0,
        vec![topic("T", 6, 4), topic("T2", 6, 4)],
    ));
    update_ok(admin, "needWaitForService=true");
    let r = admin
        .ask(rq::GET_ROUTEINFO_BY_TOPIC, &[("topic", "T")], None)
        .0;
    assert_eq!(r.code, 1);
    update_ok(admin, body);
    let mut fresh = server.client();
    for c in [&mut *admin, &mut fresh] {
        assert!(c.route("T").is_some());
    }
}

fn delete_topic_with_registration(_server: &TestServer, admin: &mut Client, body: &str) {
    let mut reg = BrokerReg::new(
        "C",
        "broker-a",
        "10.0.0.1:10911",
        0,
        vec![
            topic("Keep", 6, 4),
            topic("Keep2", 6, 4),
            topic("Gone", 6, 4),
        ],
    );
    admin.register_ok(&reg);
    reg.topics = vec![topic("Keep", 6, 4), topic("Keep2", 6, 4)];
    reg.data_version = common::dv(2, 0);
    admin.register_ok(&reg);
    assert!(admin.route("Gone").is_some(), "kept without the key");
    update_ok(admin, body);
    reg.data_version = common::dv(3, 0);
    admin.register_ok(&reg);
    assert!(admin.route("Gone").is_none(), "dropped with the key");
    assert!(admin.route("Keep").is_some());
}

fn idle_time_for_new_connections(server: &TestServer, admin: &mut Client, body: &str) {
    update_ok(admin, body);
    let mut fresh = server.client();
    fresh
        .stream
        .set_read_timeout(Some(Duration::from_secs(10)))
        .expect("timeout");
    assert!(fresh.route("none").is_none());
    let from = Instant::now();
    let mut byte = [0u8; 1];
    assert_eq!(fresh.stream.read(&mut byte).expect("closed"), 0);
    assert!(
        from.elapsed() < Duration::from_secs(5),
        "{:?}",
        from.elapsed()
    );
}

fn reply_serialize_type(server: &TestServer, admin: &mut Client, body: &str) {
    fn header_serialization(c: &mut Client) -> u8 {
        let mut cmd = request(rq::GET_KV_CONFIG, &[("namespace", "ns"), ("key", "k")]);
        cmd.flag = 0;
        c.send(&cmd, None);
        let mut head = [0u8; 5];
        c.stream.read_exact(&mut head).expect("reply head");
        let len = u32::from_be_bytes([head[0], head[1], head[2], head[3]]) as usize;
        let mut rest = vec![0u8; len - 1];
        c.stream.read_exact(&mut rest).expect("reply rest");
        head[4]
    }
    let mut open = server.client().with_serialize(SerializeType::Json);
    assert_eq!(header_serialization(&mut open), 0);
    update_ok(admin, body);
    let mut fresh = server.client().with_serialize(SerializeType::Json);
    assert_eq!(header_serialization(&mut open), 1, "an open connection");
    assert_eq!(header_serialization(&mut fresh), 1, "a new connection");
}
