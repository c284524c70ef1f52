//! GET_ROUTEINFO_BY_TOPIC (105) over the wire: read-your-writes on every shard,
//! the 17 remark, both JSON dialects, binary headers, reply framing, oneway
//! requests, zone filtering, order-topic config, acting master, readiness.

mod common;

use std::time::Duration;

use bytes::BytesMut;
use common::*;
use protocol::body::TopicRouteData;
use protocol::codes::{request as rq, response};
use protocol::frame;
use protocol::{LanguageCode, SerializeType};

const TOPIC_17_TAIL: &str =
    "\nSee https://rocketmq.apache.org/docs/bestPractice/06FAQ for further details.";

#[test]
fn register_then_every_fresh_connection_sees_the_route() {
    let server = TestServer::start(&[]);
    let mut broker = server.client();
    let reg = BrokerReg::new(
        "DefaultCluster",
        "broker-a",
        "10.0.0.1:10911",
        0,
        vec![topic("TopicTest", 6, 4), topic("TopicOther", 6, 8)],
    );
    broker.register_ok(&reg);

    // Right after the ack, on fresh connections (spread over both shards by
    // SO_REUSEPORT), with no retry: the write is visible everywhere.
    let routes = routes_on_fresh_connections(server.addr, "TopicTest", 24);
    for route in routes {
        let route = route.expect("route visible right after the register ack");
        assert_eq!(route.queue_datas.len(), 1);
        let qd = &route.queue_datas[0];
        assert_eq!(qd.broker_name, "broker-a");
        assert_eq!(
            (qd.perm, qd.read_queue_nums, qd.write_queue_nums),
            (6, 4, 4)
        );
        assert_eq!(route.broker_datas.len(), 1);
        let bd = &route.broker_datas[0];
        assert_eq!(bd.cluster, "DefaultCluster");
        assert_eq!(
            bd.broker_addrs.get(&0).map(String::as_str),
            Some("10.0.0.1:10911")
        );
        assert!(route.filter_server_table.is_empty());
        assert_eq!(route.order_topic_conf, None);
    }

    // A second broker joins the topic: again visible at once everywhere.
    let reg_b = BrokerReg::new(
        "DefaultCluster",
        "broker-b",
        "10.0.0.2:10911",
        0,
        vec![topic("TopicTest", 6, 2), topic("TopicB", 6, 2)],
    );
    broker.register_ok(&reg_b);
    for route in routes_on_fresh_connections(server.addr, "TopicTest", 16) {
        let route = route.expect("route");
        let mut names: Vec<&str> = route
            .queue_datas
            .iter()
            .map(|q| q.broker_name.as_str())
            .collect();
        names.sort();
        assert_eq!(names, ["broker-a", "broker-b"]);
        assert_eq!(route.broker_datas.len(), 2);
    }
}

#[test]
fn unknown_topic_is_17_with_exact_remark() {
    let server = TestServer::start(&[]);
    let mut c = server.client();
    let r = c.ask(
        rq::GET_ROUTEINFO_BY_TOPIC,
        &[("topic", "NoSuchTopic")],
        None,
    );
    assert_eq!(r.0.code, response::TOPIC_NOT_EXIST);
    assert_eq!(
        remark(&r),
        format!("No topic route info in name server for the topic: NoSuchTopic{TOPIC_17_TAIL}")
    );
    assert!(r.1.is_none(), "17 carries no body");

    // A request without the topic field prints Java's `null`.
    let r = c.ask(rq::GET_ROUTEINFO_BY_TOPIC, &[], None);
    assert_eq!(r.0.code, response::TOPIC_NOT_EXIST);
    assert_eq!(
        remark(&r),
        format!("No topic route info in name server for the topic: null{TOPIC_17_TAIL}")
    );
}

#[test]
fn dialect_follows_version_and_accept_standard_json_only() {
    let server = TestServer::start(&[]);
    let mut c = server.client();
    let reg = BrokerReg::new(
        "DefaultCluster",
        "broker-a",
        "10.0.0.1:10911",
        0,
        vec![topic("TopicTest", 6, 4), topic("T2", 6, 4)],
    );
    c.register_ok(&reg);
    let slave = BrokerReg::new(
        "DefaultCluster",
        "broker-a",
        "10.0.0.2:10911",
        1,
        reg.topics.clone(),
    );
    c.register_ok(&slave);

    let ask = |c: &mut Client, version: i32, standard: Option<&str>| {
        let mut cmd = request(rq::GET_ROUTEINFO_BY_TOPIC, &[("topic", "TopicTest")]);
        cmd.version = version;
        if let Some(s) = standard {
            cmd.push_ext("acceptStandardJsonOnly", s);
        }
        let r = c.call(cmd, None);
        assert_eq!(r.0.code, 0);
        body_str(&r)
    };

    let legacy = ask(&mut c, 400, None);
    assert_eq!(
        legacy,
        r#"{"brokerDatas":[{"brokerAddrs":{0:"10.0.0.1:10911",1:"10.0.0.2:10911"},"brokerName":"broker-a","cluster":"DefaultCluster","enableActingMaster":false}],"filterServerTable":{},"queueDatas":[{"brokerName":"broker-a","perm":6,"readQueueNums":4,"topicSysFlag":0,"writeQueueNums":4}]}"#
    );
    let standard = ask(&mut c, 479, None);
    assert_eq!(
        standard,
        legacy.replace("{0:", "{\"0\":").replace(",1:", ",\"1\":")
    );
    assert_eq!(
        ask(&mut c, 401, None),
        standard,
        "V4_9_4 is the first standard version"
    );
    assert_eq!(ask(&mut c, 400, Some("true")), standard);
    assert_eq!(
        ask(&mut c, 400, Some("TRUE")),
        standard,
        "Boolean.parseBoolean"
    );
    assert_eq!(ask(&mut c, 400, Some("false")), legacy);
    assert_eq!(ask(&mut c, 400, Some("yes")), legacy);
    // Both decode to the same route.
    assert_eq!(
        TopicRouteData::decode(legacy.as_bytes()).unwrap(),
        TopicRouteData::decode(standard.as_bytes()).unwrap()
    );
}

#[test]
fn reply_header_echoes_opaque_with_response_flag() {
    let server = TestServer::start(&[]);
    let mut c = server.client();
    for (opaque, version) in [(0, 479), (7, 100), (i32::MAX, 479), (-5, 0)] {
        let mut cmd = request(rq::GET_ROUTEINFO_BY_TOPIC, &[("topic", "X")]);
        cmd.opaque = opaque;
        cmd.version = version;
        cmd.language = Some(LanguageCode::Go);
        c.send(&cmd, None);
        let (h, body) = c.read_frame().expect("reply");
        assert_eq!(h.opaque, opaque);
        assert_eq!(h.flag, 1);
        assert_eq!(h.code, response::TOPIC_NOT_EXIST);
        assert_eq!(h.language, Some(LanguageCode::Java));
        assert_eq!(h.version, 479);
        assert_eq!(h.ext_fields, None, "no custom header, no extFields");
        assert!(body.is_none());
        assert_eq!(c.last_reply_type, Some(SerializeType::Json));
    }
    // Pipelined requests: all answered, matched by opaque.
    let mut batch = Vec::new();
    for opaque in 100..110 {
        let mut cmd = request(rq::GET_BROKER_CLUSTER_INFO, &[]);
        cmd.opaque = opaque;
        batch.extend(protocol::frame::encode_to_vec(
            &cmd,
            SerializeType::Json,
            None,
        ));
    }
    c.send_raw(&batch).unwrap();
    let mut seen: Vec<i32> = (0..10).map(|_| c.read_frame().unwrap().0.opaque).collect();
    seen.sort();
    assert_eq!(seen, (100..110).collect::<Vec<_>>());
}

#[test]
fn binary_request_headers_are_answered() {
    let server = TestServer::start(&[]);
    let mut json = server.client();
    json.register_ok(&BrokerReg::new(
        "C",
        "broker-a",
        "10.0.0.1:10911",
        0,
        vec![topic("TopicBin", 6, 4), topic("T2", 6, 4)],
    ));

    let mut bin = server.client().with_serialize(SerializeType::Rocketmq);
    let r = bin.ask(rq::GET_ROUTEINFO_BY_TOPIC, &[("topic", "TopicBin")], None);
    assert_eq!(r.0.code, 0);
    // Upstream replies in JSON whatever the request used (process-wide setting).
    assert_eq!(bin.last_reply_type, Some(SerializeType::Json));
    let route = TopicRouteData::decode(r.1.as_deref().unwrap()).unwrap();
    assert_eq!(route.queue_datas[0].broker_name, "broker-a");

    let r = bin.ask(rq::GET_ROUTEINFO_BY_TOPIC, &[("topic", "Nope")], None);
    assert_eq!(r.0.code, response::TOPIC_NOT_EXIST);
    assert!(remark(&r).contains("topic: Nope\n"));

    // A binary registration works too.
    let reg = BrokerReg::new(
        "C",
        "broker-b",
        "10.0.0.2:10911",
        0,
        vec![topic("TopicBin", 6, 2), topic("T3", 6, 2)],
    );
    bin.register_ok(&reg);
    assert_eq!(json.route("TopicBin").unwrap().queue_datas.len(), 2);
}

#[test]
fn mirror_and_rocketmq_reply_serialization() {
    let server = TestServer::start(&[("replySerializeType", "MIRROR")]);
    let mut bin = server.client().with_serialize(SerializeType::Rocketmq);
    let r = bin.ask(rq::GET_ROUTEINFO_BY_TOPIC, &[("topic", "X")], None);
    assert_eq!(r.0.code, response::TOPIC_NOT_EXIST);
    assert_eq!(bin.last_reply_type, Some(SerializeType::Rocketmq));
    let mut json = server.client();
    json.ask(rq::GET_BROKER_CLUSTER_INFO, &[], None);
    assert_eq!(json.last_reply_type, Some(SerializeType::Json));
    drop(server);

    let server = TestServer::start(&[("replySerializeType", "ROCKETMQ")]);
    let mut json = server.client();
    let r = json.ask(
        rq::PUT_KV_CONFIG,
        &[("namespace", "n"), ("key", "k"), ("value", "v")],
        None,
    );
    assert_eq!(r.0.code, 0);
    assert_eq!(json.last_reply_type, Some(SerializeType::Rocketmq));
    let r = json.ask(rq::GET_KV_CONFIG, &[("namespace", "n"), ("key", "k")], None);
    assert_eq!(r.0.ext("value"), Some("v"));
}

#[test]
fn oneway_requests_are_processed_but_never_answered() {
    let server = TestServer::start(&[]);
    let mut c = server.client();
    let reg = BrokerReg::new(
        "C",
        "broker-a",
        "10.0.0.1:10911",
        0,
        vec![topic("T1", 6, 4), topic("T2", 6, 4)],
    );
    c.register_ok(&reg);

    // oneway 904, an unknown code and a failing 100: no answers at all.
    c.oneway(reg.heartbeat(), None);
    c.oneway(request(99999, &[]), None);
    c.oneway(request(rq::PUT_KV_CONFIG, &[("namespace", "n")]), None);
    // oneway PUT_KV_CONFIG: processed.
    c.oneway(
        request(
            rq::PUT_KV_CONFIG,
            &[("namespace", "ns"), ("key", "k"), ("value", "v1")],
        ),
        None,
    );
    // The next normal request's reply is the first frame on the connection.
    let r = c.ask(rq::GET_BROKER_CLUSTER_INFO, &[], None);
    assert_eq!(r.0.code, 0);
    // The oneway put lands (asynchronously, on the writer).
    let value = wait_for(Duration::from_secs(5), "oneway put applied", || {
        let r = c.ask(
            rq::GET_KV_CONFIG,
            &[("namespace", "ns"), ("key", "k")],
            None,
        );
        r.0.ext("value").map(str::to_string)
    });
    assert_eq!(value, "v1");

    // A oneway route query is not answered either.
    c.oneway(
        request(rq::GET_ROUTEINFO_BY_TOPIC, &[("topic", "T1")]),
        None,
    );
    let r = c.ask(rq::GET_ROUTEINFO_BY_TOPIC, &[("topic", "T2")], None);
    assert_eq!(r.0.code, 0);
    // And nothing else is pending on the connection.
    c.stream
        .set_read_timeout(Some(Duration::from_millis(300)))
        .unwrap();
    let mut b = [0u8; 1];
    match std::io::Read::read(&mut c.stream, &mut b) {
        Err(e)
            if matches!(
                e.kind(),
                std::io::ErrorKind::WouldBlock | std::io::ErrorKind::TimedOut
            ) => {}
        other => panic!("unexpected extra bytes or close: {other:?}"),
    }
}

#[test]
fn zone_mode_filters_brokers_of_other_zones() {
    let server = TestServer::start(&[]);
    let mut c = server.client();
    let topics = || vec![topic("ZoneTopic", 6, 4), topic("Other", 6, 4)];
    let mut a = BrokerReg::new("C", "broker-a", "10.0.0.1:10911", 0, topics());
    a.zone = Some("zoneA".into());
    let mut b = BrokerReg::new("C", "broker-b", "10.0.0.2:10911", 0, topics());
    b.zone = Some("zoneB".into());
    // A master-less group (prime slave) in zone B stays visible for reads.
    let mut s = BrokerReg::new("C", "broker-s", "10.0.0.3:10911", 1, topics());
    s.zone = Some("zoneB".into());
    s.enable_acting_master = Some(false);
    for r in [&a, &b, &s] {
        c.register_ok(r);
    }
    assert_eq!(c.route("ZoneTopic").unwrap().broker_datas.len(), 3);

    let zoned = |c: &mut Client, mode: &str, zone: &str| {
        let r = c.ask(
            rq::GET_ROUTEINFO_BY_TOPIC,
            &[
                ("topic", "ZoneTopic"),
                ("__ZONE_MODE", mode),
                ("__ZONE_NAME", zone),
            ],
            None,
        );
        assert_eq!(r.0.code, 0);
        body_str(&r)
    };
    let body = zoned(&mut c, "true", "ZONEA");
    let route = TopicRouteData::decode(body.as_bytes()).unwrap();
    let mut names: Vec<&str> = route
        .broker_datas
        .iter()
        .map(|b| b.broker_name.as_str())
        .collect();
    names.sort();
    assert_eq!(names, ["broker-a", "broker-s"]);
    let mut qnames: Vec<&str> = route
        .queue_datas
        .iter()
        .map(|q| q.broker_name.as_str())
        .collect();
    qnames.sort();
    assert_eq!(qnames, ["broker-a", "broker-s"]);
    // Re-encoded in the dialect even though version 479 asks for standard JSON.
    assert!(body.contains("{0:\"10.0.0.1:10911\"}"), "{body}");
    assert!(body.contains("\"zoneName\":\"zoneA\""), "{body}");

    // Zone mode off, or a blank zone: no filtering, standard JSON.
    for (mode, zone) in [("false", "zoneA"), ("true", "  ")] {
        let body = zoned(&mut c, mode, zone);
        assert_eq!(
            TopicRouteData::decode(body.as_bytes())
                .unwrap()
                .broker_datas
                .len(),
            3
        );
        assert!(body.contains("{\"0\":"), "{body}");
    }
}

#[test]
fn order_message_enable_puts_order_topic_conf() {
    let server = TestServer::start(&[("orderMessageEnable", "true")]);
    let mut c = server.client();
    let r = c.ask(
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
    // The register reply carries the ORDER_TOPIC_CONFIG table.
    let r = c.register_ok(&reg);
    assert_eq!(body_str(&r), r#"{"table":{"OrderTopic":"broker-a:4"}}"#);

    let route = c.route("OrderTopic").unwrap();
    assert_eq!(route.order_topic_conf.as_deref(), Some("broker-a:4"));
    assert_eq!(c.route("Plain").unwrap().order_topic_conf, None);

    // Updating the KV entry updates the route right away, on every shard.
    c.ask(
        rq::PUT_KV_CONFIG,
        &[
            ("namespace", "ORDER_TOPIC_CONFIG"),
            ("key", "OrderTopic"),
            ("value", "broker-a:8"),
        ],
        None,
    );
    for route in routes_on_fresh_connections(server.addr, "OrderTopic", 8) {
        assert_eq!(
            route.unwrap().order_topic_conf.as_deref(),
            Some("broker-a:8")
        );
    }
    c.ask(
        rq::DELETE_KV_CONFIG,
        &[("namespace", "ORDER_TOPIC_CONFIG"), ("key", "OrderTopic")],
        None,
    );
    assert_eq!(c.route("OrderTopic").unwrap().order_topic_conf, None);
}

#[test]
fn order_topic_conf_absent_without_order_message_enable() {
    let server = TestServer::start(&[]);
    let mut c = server.client();
    c.ask(
        rq::PUT_KV_CONFIG,
        &[
            ("namespace", "ORDER_TOPIC_CONFIG"),
            ("key", "OrderTopic"),
            ("value", "broker-a:4"),
        ],
        None,
    );
    let reg = BrokerReg::new(
        "C",
        "broker-a",
        "10.0.0.1:10911",
        0,
        vec![topic("OrderTopic", 6, 4), topic("Plain", 6, 4)],
    );
    c.register_ok(&reg);
    let r = c.ask(rq::GET_ROUTEINFO_BY_TOPIC, &[("topic", "OrderTopic")], None);
    assert!(!body_str(&r).contains("orderTopicConf"));

    // Switched on at run time (318): every cached route picks it up at once.
    let r = c.ask(
        rq::UPDATE_NAMESRV_CONFIG,
        &[],
        Some(b"orderMessageEnable=true"),
    );
    assert_eq!(r.0.code, 0);
    for route in routes_on_fresh_connections(server.addr, "OrderTopic", 8) {
        assert_eq!(
            route.unwrap().order_topic_conf.as_deref(),
            Some("broker-a:4")
        );
    }
}

/// Master and slave with acting master on; the master leaves.
fn acting_master_group(c: &mut Client) -> (BrokerReg, BrokerReg) {
    let topics = vec![topic("ActTopic", 6, 4), topic("T2", 6, 4)];
    let mut m = BrokerReg::new("C", "broker-a", "10.0.0.1:10911", 0, topics.clone());
    m.enable_acting_master = Some(true);
    let mut s = BrokerReg::new("C", "broker-a", "10.0.0.2:10911", 1, topics);
    s.enable_acting_master = Some(true);
    c.register_ok(&m);
    c.register_ok(&s);
    let r = c.call(m.unregister(), None);
    assert_eq!(r.0.code, 0);
    (m, s)
}

#[test]
fn support_acting_master_shows_the_slave_as_master() {
    let server = TestServer::start(&[("supportActingMaster", "true")]);
    let mut c = server.client();
    acting_master_group(&mut c);
    let route = wait_for(Duration::from_secs(5), "master unregistered", || {
        c.route("ActTopic")
            .filter(|r| r.broker_datas[0].broker_addrs.len() == 1 && r.queue_datas[0].perm == 4)
    });
    // The group lost its master: write permission cleared, and the lowest id is
    // shown as id 0 so clients can still read.
    assert_eq!(route.queue_datas[0].perm, 4);
    let addrs = &route.broker_datas[0].broker_addrs;
    assert_eq!(addrs.get(&0).map(String::as_str), Some("10.0.0.2:10911"));
    assert!(route.broker_datas[0].enable_acting_master);
}

#[test]
fn without_support_acting_master_the_slave_keeps_its_id() {
    let server = TestServer::start(&[]);
    let mut c = server.client();
    acting_master_group(&mut c);
    let route = wait_for(Duration::from_secs(5), "master unregistered", || {
        c.route("ActTopic")
            .filter(|r| r.broker_datas[0].broker_addrs.len() == 1)
    });
    assert_eq!(route.queue_datas[0].perm, 4);
    let addrs = &route.broker_datas[0].broker_addrs;
    assert_eq!(addrs.get(&1).map(String::as_str), Some("10.0.0.2:10911"));
    assert!(!addrs.contains_key(&0));
}

#[test]
fn need_wait_for_service_refuses_only_route_queries() {
    let server = TestServer::start(&[
        ("needWaitForService", "true"),
        ("waitSecondsForService", "3"),
    ]);
    let mut c = server.client();
    let r = c.ask(rq::GET_ROUTEINFO_BY_TOPIC, &[("topic", "T")], None);
    assert_eq!(r.0.code, response::SYSTEM_ERROR);
    assert_eq!(remark(&r), "name server not ready");
    // Everything else is served meanwhile.
    let reg = BrokerReg::new(
        "C",
        "broker-a",
        "10.0.0.1:10911",
        0,
        vec![topic("T", 6, 4), topic("T2", 6, 4)],
    );
    c.register_ok(&reg);
    assert_eq!(c.ask(rq::GET_BROKER_CLUSTER_INFO, &[], None).0.code, 0);
    assert_eq!(
        c.ask(rq::GET_ALL_TOPIC_LIST_FROM_NAMESERVER, &[], None)
            .0
            .code,
        0
    );
    // Then the route is served.
    let route = wait_for(Duration::from_secs(8), "readiness", || {
        let r = c.ask(rq::GET_ROUTEINFO_BY_TOPIC, &[("topic", "T")], None);
        (r.0.code == 0).then_some(r)
    });
    assert!(TopicRouteData::decode(route.1.as_deref().unwrap()).is_ok());
}

#[test]
fn unknown_code_is_3_with_leading_space_remark() {
    let server = TestServer::start(&[]);
    let mut c = server.client();
    for code in [99999, 0, 905, -1] {
        let r = c.ask(code, &[], None);
        assert_eq!(r.0.code, response::REQUEST_CODE_NOT_SUPPORTED);
        assert_eq!(remark(&r), format!(" request type {code} not supported"));
    }
}

/// A frame around a hand-written JSON header, and a body if given.
fn json_frame(header: &str, body: Option<&[u8]>) -> Vec<u8> {
    let mut out = BytesMut::new();
    frame::encode_raw(SerializeType::Json, header.as_bytes(), body, &mut out);
    out.to_vec()
}

#[test]
fn lenient_json_headers_are_accepted() {
    let server = TestServer::start(&[]);
    let mut c = server.client();
    c.register_ok(&BrokerReg::new(
        "C",
        "broker-a",
        "10.0.0.1:10911",
        0,
        vec![topic("T", 6, 4), topic("T2", 6, 4)],
    ));
    let cases = [
        // Any key order, language as an ordinal, unknown keys, ext booleans.
        (
            r#"{"opaque":11,"extFields":{"acceptStandardJsonOnly":true,"topic":"T"},"language":9,"code":105,"version":0,"whatever":[1,2]}"#,
            11,
            true,
        ),
        // Unknown language name, no version (0 → the dialect), no flag.
        (
            r#"{"code":105,"language":"COBOL","opaque":12,"extFields":{"topic":"T"}}"#,
            12,
            false,
        ),
        // serializeTypeCurrentRPC is ignored; numbers as strings.
        (
            r#"{"code":"105","opaque":"13","version":"479","serializeTypeCurrentRPC":"ROCKETMQ","extFields":{"topic":"T"}}"#,
            13,
            true,
        ),
    ];
    for (header, opaque, standard) in cases {
        c.send_raw(&json_frame(header, None)).unwrap();
        let (h, body) = c.read_frame().expect("answered");
        assert_eq!((h.code, h.opaque, h.flag), (0, opaque, 1), "{header}");
        let body = String::from_utf8(body.unwrap()).unwrap();
        assert_eq!(body.contains("{\"0\":"), standard, "{header}: {body}");
    }
    // A numeric ext value is read as its string.
    let reg = r#"{"code":322,"opaque":14,"extFields":{"clusterName":"C","brokerAddr":"10.0.0.1:10911","brokerName":"broker-a","brokerId":0}}"#;
    let body = br#"{"counter":1,"stateVersion":0,"timestamp":1700000000001}"#;
    c.send_raw(&json_frame(reg, Some(body))).unwrap();
    let (h, _) = c.read_frame().unwrap();
    assert_eq!((h.code, h.ext("changed")), (0, Some("false")));
}
