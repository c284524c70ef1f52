//! Broker-side codes over the wire: registration (master/slave, body formats,
//! CRC, fencing), unregistration by 104, connection close and expiry,
//! heartbeats, permissions, member groups and cluster info.

mod common;

use std::time::{Duration, Instant};

use common::*;
use protocol::body::{ClusterInfo, DataVersion, TopicRouteData};
use protocol::codes::{request as rq, response};

fn two_topics(a: &str) -> Vec<protocol::body::TopicConfig> {
    vec![topic(a, 6, 4), topic(&format!("{a}-2"), 6, 4)]
}

#[test]
fn master_and_slave_registration() {
    let server = TestServer::start(&[]);
    let mut c = server.client();
    let mut m = BrokerReg::new("C", "broker-a", "10.0.0.1:10911", 0, two_topics("T"));
    m.ha_server_addr = Some("10.0.0.1:10912".into());
    let mut s = BrokerReg::new("C", "broker-a", "10.0.0.2:10911", 1, two_topics("T"));
    s.ha_server_addr = Some("10.0.0.2:10912".into());

    let r = c.register_ok(&m);
    // A master's reply has a custom header with no fields, and no body (no
    // ORDER_TOPIC_CONFIG namespace).
    assert_eq!(r.0.ext_fields, Some(vec![]));
    assert!(r.1.is_none());

    let r = c.register_ok(&s);
    assert_eq!(r.0.ext("masterAddr"), Some("10.0.0.1:10911"));
    assert_eq!(
        r.0.ext("haServerAddr"),
        Some("10.0.0.1:10912"),
        "the master's HA address"
    );

    let route = c.route("T").unwrap();
    let addrs = &route.broker_datas[0].broker_addrs;
    assert_eq!(addrs.get(&0).map(String::as_str), Some("10.0.0.1:10911"));
    assert_eq!(addrs.get(&1).map(String::as_str), Some("10.0.0.2:10911"));

    // Once the master is gone, a slave's registration learns no master.
    assert_eq!(c.call(m.unregister(), None).0.code, 0);
    let r = c.register_ok(&s);
    assert_eq!(r.0.ext("masterAddr"), None);
    assert_eq!(r.0.ext("haServerAddr"), None);
}

#[test]
fn unregister_removes_the_broker() {
    let server = TestServer::start(&[]);
    let mut c = server.client();
    let a = BrokerReg::new("C", "broker-a", "10.0.0.1:10911", 0, two_topics("T"));
    let b = BrokerReg::new("C", "broker-b", "10.0.0.2:10911", 0, two_topics("T"));
    c.register_ok(&a);
    c.register_ok(&b);
    assert_eq!(c.route("T").unwrap().queue_datas.len(), 2);

    let r = c.call(a.unregister(), None);
    assert_eq!(r.0.code, 0);
    assert_eq!(r.0.remark, None);
    let gone_a = |c: &mut Client| {
        c.route("T")
            .is_some_and(|r| r.queue_datas.len() == 1 && r.queue_datas[0].broker_name == "broker-b")
            .then_some(())
    };
    wait_for(Duration::from_secs(5), "broker-a unregistered", || {
        gone_a(&mut c)
    });
    for route in routes_on_fresh_connections(server.addr, "T", 8) {
        let route = route.unwrap();
        assert_eq!(route.broker_datas.len(), 1);
        assert_eq!(route.broker_datas[0].broker_name, "broker-b");
    }
    // The cluster forgot broker-a too.
    let info = cluster_info(&mut c);
    assert!(!info.broker_addr_table.contains_key("broker-a"));
    assert_eq!(
        info.cluster_addr_table["C"].iter().collect::<Vec<_>>(),
        ["broker-b"]
    );

    c.call(b.unregister(), None);
    wait_for(Duration::from_secs(5), "broker-b unregistered", || {
        c.route("T").is_none().then_some(())
    });
    let info = cluster_info(&mut c);
    assert!(info.broker_addr_table.is_empty());
    assert!(
        info.cluster_addr_table.is_empty(),
        "an emptied cluster is removed"
    );
}

#[test]
fn connection_close_unregisters_its_brokers() {
    let server = TestServer::start(&[]);
    let mut watcher = server.client();
    {
        let mut broker = server.client();
        broker.register_ok(&BrokerReg::new(
            "C",
            "broker-a",
            "10.0.0.1:10911",
            0,
            two_topics("T"),
        ));
        broker.register_ok(&BrokerReg::new(
            "C",
            "broker-b",
            "10.0.0.2:10911",
            0,
            two_topics("U"),
        ));
        assert!(watcher.route("T").is_some());
    } // dropped: the connection closes
    wait_for(Duration::from_secs(5), "close unregisters", || {
        (watcher.route("T").is_none() && watcher.route("U").is_none()).then_some(())
    });
    assert!(cluster_info(&mut watcher).broker_addr_table.is_empty());
}

#[test]
fn closing_an_old_connection_after_re_registration_does_not_unregister() {
    let server = TestServer::start(&[]);
    let mut watcher = server.client();
    let reg = BrokerReg::new("C", "broker-a", "10.0.0.1:10911", 0, two_topics("T"));
    let mut old = server.client();
    old.register_ok(&reg);
    let mut new = server.client();
    new.register_ok(&reg);
    drop(old);

    // The close of the old connection is reported asynchronously: watch for a
    // while that the route stays.
    let until = Instant::now() + Duration::from_millis(600);
    while Instant::now() < until {
        assert!(
            watcher.route("T").is_some(),
            "old connection's close unregistered the broker"
        );
        std::thread::sleep(Duration::from_millis(30));
    }
    // The latest registration's connection still counts.
    drop(new);
    wait_for(
        Duration::from_secs(5),
        "close of the latest connection",
        || watcher.route("T").is_none().then_some(()),
    );
}

#[test]
fn silent_brokers_expire_and_heartbeats_keep_brokers_alive() {
    let server = TestServer::start(&[("scanNotActiveBrokerInterval", "200")]);
    let mut watcher = server.client();
    // The heartbeating ones get a roomier timeout so a loaded machine cannot
    // make a 100 ms heartbeat loop miss it; they still outlive it twice over.
    let mk = |name: &str, addr: &str, t: &str, timeout_ms: i64| {
        let mut r = BrokerReg::new("C", name, addr, 0, two_topics(t));
        r.heartbeat_timeout_ms = Some(timeout_ms);
        r
    };
    let silent = mk("broker-silent", "10.0.0.1:10911", "TS", 500);
    let by_904 = mk("broker-904", "10.0.0.2:10911", "T904", 1000);
    let by_322 = mk("broker-322", "10.0.0.3:10911", "T322", 1000);
    let mut silent_conn = server.client();
    silent_conn.register_ok(&silent);
    let registered = Instant::now();
    let mut conn_904 = server.client();
    conn_904.register_ok(&by_904);
    let mut conn_322 = server.client();
    conn_322.register_ok(&by_322);

    let start = Instant::now();
    let mut expired_at = None;
    // Heartbeat two of them every 100 ms for 2 s, twice their timeout.
    while start.elapsed() < Duration::from_secs(2) || expired_at.is_none() {
        assert!(
            start.elapsed() < Duration::from_secs(8),
            "silent broker never expired"
        );
        // Two-way, so a slow machine paces the loop instead of queueing.
        assert_eq!(conn_904.call(by_904.heartbeat(), None).0.code, 0);
        let mut q = by_322.query_data_version();
        q.flag = 0;
        let mut body = Vec::new();
        by_322.data_version.encode(&mut body);
        let r = conn_322.call(q, Some(&body));
        assert_eq!(r.0.code, 0);
        assert_eq!(r.0.ext("changed"), Some("false"));
        if expired_at.is_none() && watcher.route("TS").is_none() {
            expired_at = Some(registered.elapsed());
        }
        std::thread::sleep(Duration::from_millis(100));
    }
    let expired_at = expired_at.unwrap();
    // Not before its 500 ms timeout (measured from the ack, which follows the
    // registration's timestamp).
    assert!(
        expired_at >= Duration::from_millis(450),
        "expired too early: {expired_at:?}"
    );
    // The expired broker's connection was closed by the server.
    silent_conn.expect_closed(Duration::from_secs(3));
    // The heartbeating ones live on, on every shard.
    for t in ["T904", "T322"] {
        for route in routes_on_fresh_connections(server.addr, t, 4) {
            assert!(route.is_some(), "{t} expired despite heartbeats");
        }
    }
    let info = cluster_info(&mut watcher);
    assert!(!info.broker_addr_table.contains_key("broker-silent"));
    // Their connections are still usable.
    assert_eq!(
        conn_904.ask(rq::GET_BROKER_CLUSTER_INFO, &[], None).0.code,
        0
    );
}

#[test]
fn heartbeats_never_create_brokers() {
    let server = TestServer::start(&[]);
    let mut c = server.client();
    let reg = BrokerReg::new("C", "broker-a", "10.0.0.1:10911", 0, two_topics("T"));
    assert_eq!(c.call(reg.heartbeat(), None).0.code, 0);
    let mut body = Vec::new();
    reg.data_version.encode(&mut body);
    let r = c.call(reg.query_data_version(), Some(&body));
    assert_eq!(r.0.code, 0);
    assert_eq!(r.0.ext("changed"), Some("true"), "unknown broker: changed");
    assert!(r.1.is_none(), "no stored DataVersion to send");
    assert!(c.route("T").is_none());
    assert!(cluster_info(&mut c).broker_addr_table.is_empty());
}

#[test]
fn query_data_version_compares_and_returns_the_stored_version() {
    let server = TestServer::start(&[]);
    let mut c = server.client();
    let mut reg = BrokerReg::new("C", "broker-a", "10.0.0.1:10911", 0, two_topics("T"));
    reg.data_version = DataVersion {
        counter: 5,
        state_version: 2,
        timestamp: 1_700_000_000_000,
    };
    c.register_ok(&reg);
    let stored = reg.data_version;

    let ask = |c: &mut Client, v: DataVersion| {
        let mut body = Vec::new();
        v.encode(&mut body);
        let r = c.call(reg.query_data_version(), Some(&body));
        assert_eq!(r.0.code, 0);
        let back = DataVersion::decode(r.1.as_deref().expect("stored version body")).unwrap();
        (r.0.ext("changed").map(str::to_string), back)
    };
    assert_eq!(ask(&mut c, stored), (Some("false".into()), stored));
    // Any of the three fields differing counts as a change.
    for other in [
        DataVersion {
            counter: 6,
            ..stored
        },
        DataVersion {
            state_version: 0,
            ..stored
        },
        DataVersion {
            timestamp: 1,
            ..stored
        },
    ] {
        assert_eq!(ask(&mut c, other), (Some("true".into()), stored));
    }
    let body = br#"{"counter":5,"stateVersion":2,"timestamp":1700000000000}"#;
    let r = c.call(reg.query_data_version(), Some(body));
    assert_eq!(
        body_str(&r),
        String::from_utf8_lossy(body),
        "body is the stored DataVersion, fastjson-encoded"
    );
}

#[test]
fn compressed_bodies_for_both_versions() {
    let server = TestServer::start(&[]);
    let mut c = server.client();
    for (version, name) in [(479, "broker-new"), (400, "broker-old")] {
        let mut t = topic(&format!("Z{version}"), 6, 3);
        t.topic_sys_flag = 1; // the compressed form drops it
        let mut reg = BrokerReg::new(
            "C",
            name,
            &format!("10.0.0.{}:10911", version % 250),
            0,
            vec![t, topic(&format!("Z{version}-b"), 4, 5)],
        );
        reg.compressed = true;
        reg.version = version;
        c.register_ok(&reg);
        let route = c
            .route(&format!("Z{version}"))
            .expect("compressed registration routed");
        let qd = &route.queue_datas[0];
        assert_eq!(qd.broker_name, name);
        assert_eq!(
            (qd.read_queue_nums, qd.write_queue_nums, qd.perm),
            (3, 3, 6)
        );
        assert_eq!(qd.topic_sys_flag, 0);
        let qd = &c.route(&format!("Z{version}-b")).unwrap().queue_datas[0];
        assert_eq!((qd.read_queue_nums, qd.perm), (5, 4));

        // The plain body sent with `compressed=true` is a decode error.
        let mut bad = reg.clone();
        bad.compressed = false;
        let (mut cmd, body) = bad.request();
        cmd.ext_fields
            .as_mut()
            .unwrap()
            .retain(|(k, _)| k != "compressed");
        cmd.push_ext("compressed", "true");
        let r = c.call(cmd, Some(&body));
        assert_eq!(r.0.code, response::SYSTEM_ERROR);
    }
}

#[test]
fn crc32_is_checked_only_when_non_zero() {
    let server = TestServer::start(&[]);
    let mut c = server.client();
    let mut reg = BrokerReg::new("C", "broker-a", "10.0.0.1:10911", 0, two_topics("T"));
    let real = protocol::body::body_crc32(&reg.body());
    reg.crc = Crc::Value(real ^ 1);
    let r = c.register_broker(&reg);
    assert_eq!(r.0.code, response::SYSTEM_ERROR);
    assert_eq!(remark(&r), "crc32 not match");
    assert!(
        c.route("T").is_none(),
        "a rejected registration changes nothing"
    );

    reg.crc = Crc::Value(0);
    c.register_ok(&reg);
    assert!(c.route("T").is_some());

    let mut b = BrokerReg::new("C", "broker-b", "10.0.0.2:10911", 0, two_topics("U"));
    b.crc = Crc::Absent;
    c.register_ok(&b);
    b.crc = Crc::Correct;
    c.register_ok(&b);
}

#[test]
fn malformed_register_requests_fail_with_1() {
    let server = TestServer::start(&[]);
    let mut c = server.client();
    // A bad JSON body.
    let mut reg = BrokerReg::new("C", "broker-a", "10.0.0.1:10911", 0, two_topics("T"));
    reg.crc = Crc::Absent;
    let (cmd, _) = reg.request();
    let r = c.call(cmd.clone(), Some(b"{\"topicConfigSerializeWrapper\":"));
    assert_eq!(r.0.code, response::SYSTEM_ERROR);
    // No brokerId.
    let mut no_id = cmd.clone();
    no_id
        .ext_fields
        .as_mut()
        .unwrap()
        .retain(|(k, _)| k != "brokerId");
    let r = c.call(no_id, Some(&reg.body()));
    assert_eq!(r.0.code, response::SYSTEM_ERROR);
    // No extFields at all.
    let mut bare = cmd;
    bare.ext_fields = None;
    assert_eq!(c.call(bare, None).0.code, response::SYSTEM_ERROR);
    assert!(c.route("T").is_none());
    // The connection is still fine.
    c.register_ok(&reg);
}

#[test]
fn single_topic_registration_needs_a_prior_full_one() {
    let server = TestServer::start(&[]);
    let mut c = server.client();
    let single = BrokerReg::new(
        "C",
        "broker-a",
        "10.0.0.1:10911",
        0,
        vec![topic("Solo", 6, 4)],
    );
    let r = c.register_broker(&single);
    assert_eq!(r.0.code, response::SYSTEM_ERROR);
    assert_eq!(remark(&r), "register broker failed");
    assert!(c.route("Solo").is_none());

    let full = BrokerReg::new("C", "broker-a", "10.0.0.1:10911", 0, two_topics("T"));
    c.register_ok(&full);
    let mut single = single;
    single.data_version = dv(2, 0);
    c.register_ok(&single);
    assert_eq!(
        c.route("Solo").unwrap().queue_datas[0].broker_name,
        "broker-a"
    );
}

#[test]
fn master_slave_switch_swaps_ids() {
    let server = TestServer::start(&[]);
    let mut c = server.client();
    let a = "10.0.0.1:10911";
    let b = "10.0.0.2:10911";
    c.register_ok(&BrokerReg::new("C", "broker-a", a, 0, two_topics("T")));
    c.register_ok(&BrokerReg::new("C", "broker-a", b, 1, two_topics("T")));

    // b becomes the master (a newer stateVersion), then a the slave.
    let mut b_master = BrokerReg::new("C", "broker-a", b, 0, two_topics("T"));
    b_master.data_version = dv(2, 1);
    c.register_ok(&b_master);
    let addrs = c.route("T").unwrap().broker_datas[0].broker_addrs.clone();
    assert_eq!(
        addrs.len(),
        1,
        "b left id 1 and replaced a at id 0: {addrs:?}"
    );
    assert_eq!(addrs.get(&0).map(String::as_str), Some(b));

    let mut a_slave = BrokerReg::new("C", "broker-a", a, 1, two_topics("T"));
    a_slave.data_version = dv(2, 1);
    let r = c.register_ok(&a_slave);
    assert_eq!(r.0.ext("masterAddr"), Some(b));
    let addrs = c.route("T").unwrap().broker_datas[0].broker_addrs.clone();
    assert_eq!(addrs.get(&0).map(String::as_str), Some(b));
    assert_eq!(addrs.get(&1).map(String::as_str), Some(a));
}

#[test]
fn a_stale_state_version_cannot_take_a_live_id() {
    let server = TestServer::start(&[]);
    let mut c = server.client();
    let mut live = BrokerReg::new("C", "broker-a", "10.0.0.1:10911", 0, two_topics("T"));
    live.data_version = dv(5, 5);
    c.register_ok(&live);

    let mut stale = BrokerReg::new("C", "broker-a", "10.0.0.9:10911", 0, two_topics("T"));
    stale.data_version = dv(6, 3);
    let r = c.register_ok(&stale);
    assert_eq!(r.0.ext_fields, Some(vec![]), "an empty result: no ext");
    let addrs = c.route("T").unwrap().broker_datas[0].broker_addrs.clone();
    assert_eq!(addrs.get(&0).map(String::as_str), Some("10.0.0.1:10911"));
    assert_eq!(addrs.len(), 1);
    // The refused address has no live entry: its heartbeat query knows nothing.
    let mut body = Vec::new();
    stale.data_version.encode(&mut body);
    let r = c.call(stale.query_data_version(), Some(&body));
    assert_eq!(r.0.ext("changed"), Some("true"));
    assert!(r.1.is_none());

    // A newer stateVersion wins.
    stale.data_version = dv(7, 9);
    c.register_ok(&stale);
    let addrs = c.route("T").unwrap().broker_datas[0].broker_addrs.clone();
    assert_eq!(addrs.get(&0).map(String::as_str), Some("10.0.0.9:10911"));
}

#[test]
fn wipe_and_add_write_permission() {
    let server = TestServer::start(&[]);
    let mut c = server.client();
    let mut topics = two_topics("T");
    topics.push(topic("RO", 4, 4));
    topics.push(topic("Prio", 6 | 8, 4));
    c.register_ok(&BrokerReg::new(
        "C",
        "broker-a",
        "10.0.0.1:10911",
        0,
        topics,
    ));
    c.register_ok(&BrokerReg::new(
        "C",
        "broker-b",
        "10.0.0.2:10911",
        0,
        two_topics("T"),
    ));

    let perm_of = |c: &mut Client, t: &str, b: &str| {
        c.route(t)
            .unwrap()
            .queue_datas
            .iter()
            .find(|q| q.broker_name == b)
            .map(|q| q.perm)
            .unwrap()
    };
    let r = c.ask(
        rq::WIPE_WRITE_PERM_OF_BROKER,
        &[("brokerName", "broker-a")],
        None,
    );
    assert_eq!(r.0.code, 0);
    assert_eq!(r.0.ext("wipeTopicCount"), Some("4"));
    for route in routes_on_fresh_connections(server.addr, "T", 6) {
        let route = route.unwrap();
        let qa = route
            .queue_datas
            .iter()
            .find(|q| q.broker_name == "broker-a")
            .unwrap();
        let qb = route
            .queue_datas
            .iter()
            .find(|q| q.broker_name == "broker-b")
            .unwrap();
        assert_eq!((qa.perm, qb.perm), (4, 6));
    }
    assert_eq!(
        perm_of(&mut c, "Prio", "broker-a"),
        12,
        "perm &= ~WRITE keeps other bits"
    );

    let r = c.ask(
        rq::ADD_WRITE_PERM_OF_BROKER,
        &[("brokerName", "broker-a")],
        None,
    );
    assert_eq!(r.0.code, 0);
    assert_eq!(r.0.ext("addTopicCount"), Some("4"));
    for t in ["T", "T-2", "RO", "Prio"] {
        assert_eq!(
            perm_of(&mut c, t, "broker-a"),
            6,
            "{t}: perm set to 6 outright"
        );
    }
    let r = c.ask(
        rq::WIPE_WRITE_PERM_OF_BROKER,
        &[("brokerName", "nobody")],
        None,
    );
    assert_eq!(r.0.ext("wipeTopicCount"), Some("0"));
}

#[test]
fn broker_member_group_keeps_the_default_remark() {
    let server = TestServer::start(&[]);
    let mut c = server.client();
    c.register_ok(&BrokerReg::new(
        "c1",
        "b",
        "10.0.0.1:10911",
        0,
        two_topics("T"),
    ));
    c.register_ok(&BrokerReg::new(
        "c1",
        "b",
        "10.0.0.2:10911",
        1,
        two_topics("T"),
    ));
    let r = c.ask(
        rq::GET_BROKER_MEMBER_GROUP,
        &[("clusterName", "c1"), ("brokerName", "b")],
        None,
    );
    assert_eq!(r.0.code, 0);
    assert_eq!(remark(&r), "not set any response code");
    assert_eq!(
        body_str(&r),
        r#"{"brokerMemberGroup":{"brokerAddrs":{0:"10.0.0.1:10911",1:"10.0.0.2:10911"},"brokerName":"b","cluster":"c1"}}"#
    );
    // Looked up by name only; an unknown broker gives an empty map.
    let r = c.ask(
        rq::GET_BROKER_MEMBER_GROUP,
        &[("clusterName", "other"), ("brokerName", "nobody")],
        None,
    );
    assert_eq!(
        body_str(&r),
        r#"{"brokerMemberGroup":{"brokerAddrs":{},"brokerName":"nobody","cluster":"other"}}"#
    );
}

fn cluster_info(c: &mut Client) -> ClusterInfo {
    let r = c.ask(rq::GET_BROKER_CLUSTER_INFO, &[], None);
    assert_eq!(r.0.code, 0);
    ClusterInfo::decode(r.1.as_deref().expect("cluster info body")).expect("decodes")
}

#[test]
fn cluster_info_lists_clusters_and_groups() {
    let server = TestServer::start(&[]);
    let mut c = server.client();
    let r = c.ask(rq::GET_BROKER_CLUSTER_INFO, &[], None);
    assert_eq!(
        body_str(&r),
        r#"{"brokerAddrTable":{},"clusterAddrTable":{}}"#
    );

    c.register_ok(&BrokerReg::new(
        "c1",
        "a",
        "10.0.0.1:10911",
        0,
        two_topics("T"),
    ));
    c.register_ok(&BrokerReg::new(
        "c1",
        "a",
        "10.0.0.2:10911",
        1,
        two_topics("T"),
    ));
    let mut z = BrokerReg::new("c2", "z", "10.0.0.3:10911", 0, two_topics("U"));
    z.zone = Some("zone1".into());
    z.enable_acting_master = Some(true);
    c.register_ok(&z);

    let r = c.ask(rq::GET_BROKER_CLUSTER_INFO, &[], None);
    let text = body_str(&r);
    assert!(
        text.contains(r#""a":{"brokerAddrs":{0:"10.0.0.1:10911",1:"10.0.0.2:10911"},"brokerName":"a","cluster":"c1","enableActingMaster":false}"#),
        "legacy dialect: {text}"
    );
    let info = ClusterInfo::decode(text.as_bytes()).unwrap();
    assert_eq!(
        info.cluster_addr_table["c1"].iter().collect::<Vec<_>>(),
        ["a"]
    );
    assert_eq!(
        info.cluster_addr_table["c2"].iter().collect::<Vec<_>>(),
        ["z"]
    );
    let bz = &info.broker_addr_table["z"];
    assert_eq!(bz.zone_name.as_deref(), Some("zone1"));
    assert!(bz.enable_acting_master);
    // Every shard serves the same view right after the acks.
    for _ in 0..8 {
        assert_eq!(cluster_info(&mut Client::connect(server.addr)), info);
    }
}

#[test]
fn filter_servers_appear_in_routes() {
    let server = TestServer::start(&[]);
    let mut c = server.client();
    let mut reg = BrokerReg::new("C", "broker-a", "10.0.0.1:10911", 0, two_topics("T"));
    reg.filter_servers = vec!["10.0.0.1:20000".into()];
    c.register_ok(&reg);
    let route: TopicRouteData = c.route("T").unwrap();
    assert_eq!(
        route.filter_server_table.get("10.0.0.1:10911"),
        Some(&vec!["10.0.0.1:20000".to_string()])
    );
    // An empty list removes them.
    reg.filter_servers.clear();
    reg.data_version = dv(2, 0);
    c.register_ok(&reg);
    assert!(c.route("T").unwrap().filter_server_table.is_empty());
}

#[test]
fn old_brokers_send_a_bare_wrapper_and_bad_versions_fail() {
    let server = TestServer::start(&[]);
    let mut c = server.client();
    // Before V3_0_11 (37) the body is a bare TopicConfigSerializeWrapper.
    let body = br#"{"dataVersion":{"counter":1,"timestamp":1},"topicConfigTable":{"Old":{"perm":6,"readQueueNums":2,"topicName":"Old","writeQueueNums":2},"Old2":{"perm":6,"readQueueNums":2,"topicName":"Old2","writeQueueNums":2}}}"#;
    let header = [
        ("brokerName", "old"),
        ("brokerAddr", "10.0.0.1:10911"),
        ("clusterName", "C"),
        ("brokerId", "0"),
        ("haServerAddr", "10.0.0.1:10912"),
    ];
    let mut cmd = request(rq::REGISTER_BROKER, &header);
    cmd.version = 36;
    let r = c.call(cmd, Some(body));
    assert_eq!(r.0.code, 0, "{:?}", r.0.remark);
    let qd = &c.route("Old").expect("old-format registration").queue_datas[0];
    assert_eq!((qd.read_queue_nums, qd.perm), (2, 6));

    // A negative version cannot be mapped to an MQVersion: 1.
    let reg = BrokerReg::new("C", "neg", "10.0.0.2:10911", 0, two_topics("Neg"));
    let (mut cmd, body) = reg.request();
    cmd.version = -1;
    let r = c.call(cmd, Some(&body));
    assert_eq!(r.0.code, response::SYSTEM_ERROR);
    assert!(c.route("Neg").is_none());
}

#[test]
fn delete_topic_with_broker_registration() {
    let server = TestServer::start(&[("deleteTopicWithBrokerRegistration", "true")]);
    let mut c = server.client();
    let mut reg = BrokerReg::new(
        "C",
        "a",
        "10.0.0.1:10911",
        0,
        vec![topic("Keep", 6, 4), topic("Drop", 6, 4)],
    );
    c.register_ok(&reg);
    assert!(c.route("Drop").is_some());
    reg.topics = vec![topic("Keep", 6, 4), topic("New", 6, 4)];
    reg.data_version = dv(2, 0);
    c.register_ok(&reg);
    assert!(
        c.route("Drop").is_none(),
        "a topic missing from the body is dropped"
    );
    assert!(c.route("Keep").is_some());
    assert!(c.route("New").is_some());

    // Off by default: the topic stays.
    drop(server);
    let server = TestServer::start(&[]);
    let mut c = server.client();
    reg.topics = vec![topic("Keep", 6, 4), topic("Drop", 6, 4)];
    c.register_ok(&reg);
    reg.topics = vec![topic("Keep", 6, 4), topic("New", 6, 4)];
    reg.data_version = dv(3, 0);
    c.register_ok(&reg);
    assert!(c.route("Drop").is_some());
}

#[test]
fn prime_slave_with_acting_master_writes_read_only_queues() {
    let server = TestServer::start(&[]);
    let mut c = server.client();
    // A slave-only group: the lowest id is the prime slave and owns the routes.
    let mut s = BrokerReg::new("C", "a", "10.0.0.2:10911", 1, two_topics("T"));
    s.enable_acting_master = Some(true);
    c.register_ok(&s);
    let route = c.route("T").expect("prime slave wrote the route");
    assert_eq!(
        route.queue_datas[0].perm, 4,
        "acting-master prime slave: no WRITE"
    );
    assert!(route.broker_datas[0].enable_acting_master);
    // An old slave (no enableActingMaster header) never touches routes.
    let old = BrokerReg::new("C", "b", "10.0.0.3:10911", 1, two_topics("U"));
    c.register_ok(&old);
    assert!(c.route("U").is_none());
}

#[test]
fn queue_data_changes_only_with_a_new_data_version() {
    let server = TestServer::start(&[]);
    let mut c = server.client();
    let mut reg = BrokerReg::new("C", "a", "10.0.0.1:10911", 0, two_topics("T"));
    c.register_ok(&reg);
    c.ask(rq::WIPE_WRITE_PERM_OF_BROKER, &[("brokerName", "a")], None);
    assert_eq!(c.route("T").unwrap().queue_datas[0].perm, 4);

    // The periodic re-registration with an unchanged DataVersion keeps the wipe.
    c.register_ok(&reg);
    assert_eq!(c.route("T").unwrap().queue_datas[0].perm, 4);
    // So does a changed body under the same DataVersion.
    reg.topics[0].read_queue_nums = 9;
    c.register_ok(&reg);
    assert_eq!(c.route("T").unwrap().queue_datas[0].read_queue_nums, 4);
    // A new DataVersion rewrites the QueueData from the body.
    reg.data_version = dv(2, 0);
    c.register_ok(&reg);
    let qd = &c.route("T").unwrap().queue_datas[0];
    assert_eq!((qd.perm, qd.read_queue_nums), (6, 9));
}

#[test]
fn unregister_matches_by_address_not_id() {
    let server = TestServer::start(&[]);
    let mut c = server.client();
    let m = BrokerReg::new("C", "a", "10.0.0.1:10911", 0, two_topics("T"));
    let s = BrokerReg::new("C", "a", "10.0.0.2:10911", 1, two_topics("T"));
    c.register_ok(&m);
    c.register_ok(&s);
    // The slave's address with a wrong id still removes the slave.
    let mut wrong_id = s.clone();
    wrong_id.id = 7;
    assert_eq!(c.call(wrong_id.unregister(), None).0.code, 0);
    let route = c.route("T").unwrap();
    assert_eq!(
        route.broker_datas[0]
            .broker_addrs
            .values()
            .collect::<Vec<_>>(),
        ["10.0.0.1:10911"]
    );
    // An unknown broker: still 0, nothing changes.
    let ghost = BrokerReg::new("C", "ghost", "10.9.9.9:1", 0, vec![]);
    assert_eq!(c.call(ghost.unregister(), None).0.code, 0);
    assert!(c.route("T").is_some());
}
