//! The topic-list codes (206, 224, 304, 311-313) and topic admin (216, 217) over
//! the wire.

mod common;

use common::*;
use protocol::body::{QueueData, TopicList, TopicRouteData};
use protocol::codes::{request as rq, response};
use protocol::json::Dialect;

fn topic_list(r: &Reply) -> TopicList {
    assert_eq!(r.0.code, 0, "{:?}", r.0.remark);
    TopicList::decode(r.1.as_deref().expect("topic list body")).expect("decodes")
}

fn sorted(mut v: Vec<String>) -> Vec<String> {
    v.sort();
    v
}

/// Two clusters: c1 = {a, b}, c2 = {x}.
fn populate(c: &mut Client) {
    c.register_ok(&BrokerReg::new(
        "c1",
        "a",
        "10.0.0.1:10911",
        0,
        vec![topic("Shared", 6, 4), topic("OnlyA", 6, 4)],
    ));
    c.register_ok(&BrokerReg::new(
        "c1",
        "b",
        "10.0.0.2:10911",
        0,
        vec![topic("Shared", 6, 4), topic("OnlyB", 6, 4)],
    ));
    c.register_ok(&BrokerReg::new(
        "c2",
        "x",
        "10.0.0.3:10911",
        0,
        vec![topic("Shared", 6, 4), topic("OnlyX", 6, 4)],
    ));
}

#[test]
fn all_topics_and_topics_by_cluster() {
    let server = TestServer::start(&[]);
    let mut c = server.client();
    let empty = c.ask(rq::GET_ALL_TOPIC_LIST_FROM_NAMESERVER, &[], None);
    assert_eq!(body_str(&empty), r#"{"topicList":[]}"#);
    populate(&mut c);

    let all = topic_list(&c.ask(rq::GET_ALL_TOPIC_LIST_FROM_NAMESERVER, &[], None));
    assert_eq!(all.broker_addr, None);
    assert_eq!(
        sorted(all.topic_list),
        ["OnlyA", "OnlyB", "OnlyX", "Shared"]
    );

    let c1 = topic_list(&c.ask(rq::GET_TOPICS_BY_CLUSTER, &[("cluster", "c1")], None));
    assert_eq!(sorted(c1.topic_list), ["OnlyA", "OnlyB", "Shared"]);
    let c2 = topic_list(&c.ask(rq::GET_TOPICS_BY_CLUSTER, &[("cluster", "c2")], None));
    assert_eq!(sorted(c2.topic_list), ["OnlyX", "Shared"]);
    for ext in [&[("cluster", "nope")][..], &[][..]] {
        let r = c.ask(rq::GET_TOPICS_BY_CLUSTER, ext, None);
        assert_eq!(body_str(&r), r#"{"topicList":[]}"#, "{ext:?}");
    }
}

#[test]
fn topic_lists_can_be_disabled() {
    let server = TestServer::start(&[
        ("enableAllTopicList", "false"),
        ("enableTopicList", "false"),
    ]);
    let mut c = server.client();
    populate(&mut c);
    for (code, ext) in [
        (rq::GET_ALL_TOPIC_LIST_FROM_NAMESERVER, &[][..]),
        (rq::GET_TOPICS_BY_CLUSTER, &[("cluster", "c1")][..]),
        (rq::GET_UNIT_TOPIC_LIST, &[][..]),
        (rq::GET_HAS_UNIT_SUB_TOPIC_LIST, &[][..]),
        (rq::GET_HAS_UNIT_SUB_UNUNIT_TOPIC_LIST, &[][..]),
    ] {
        let r = c.ask(code, ext, None);
        assert_eq!(r.0.code, response::SYSTEM_ERROR, "code {code}");
        assert_eq!(remark(&r), "disable", "code {code}");
        assert!(r.1.is_none());
    }
    // The system topic list is not switchable.
    assert_eq!(
        c.ask(rq::GET_SYSTEM_TOPIC_LIST_FROM_NS, &[], None).0.code,
        0
    );

    // enableAllTopicList alone.
    drop(server);
    let server = TestServer::start(&[("enableAllTopicList", "false")]);
    let mut c = server.client();
    assert_eq!(
        remark(&c.ask(rq::GET_ALL_TOPIC_LIST_FROM_NAMESERVER, &[], None)),
        "disable"
    );
    assert_eq!(
        c.ask(rq::GET_TOPICS_BY_CLUSTER, &[("cluster", "c1")], None)
            .0
            .code,
        0
    );
}

#[test]
fn system_topic_list_is_clusters_and_broker_names() {
    let server = TestServer::start(&[]);
    let mut c = server.client();
    let r = c.ask(rq::GET_SYSTEM_TOPIC_LIST_FROM_NS, &[], None);
    assert_eq!(body_str(&r), r#"{"topicList":[]}"#);
    populate(&mut c);
    let list = topic_list(&c.ask(rq::GET_SYSTEM_TOPIC_LIST_FROM_NS, &[], None));
    assert_eq!(sorted(list.topic_list), ["a", "b", "c1", "c2", "x"]);
    let addr = list.broker_addr.expect("brokerAddr set");
    assert!(
        ["10.0.0.1:10911", "10.0.0.2:10911", "10.0.0.3:10911"].contains(&addr.as_str()),
        "{addr}"
    );
}

#[test]
fn unit_topic_lists_follow_sys_flags() {
    let server = TestServer::start(&[]);
    let mut c = server.client();
    let flagged = |name: &str, flag: i32| {
        let mut t = topic(name, 6, 4);
        t.topic_sys_flag = flag;
        t
    };
    c.register_ok(&BrokerReg::new(
        "C",
        "a",
        "10.0.0.1:10911",
        0,
        vec![
            flagged("Plain", 0),
            flagged("Unit", 1),
            flagged("UnitSub", 2),
            flagged("Both", 3),
        ],
    ));
    let list = |c: &mut Client, code| sorted(topic_list(&c.ask(code, &[], None)).topic_list);
    assert_eq!(list(&mut c, rq::GET_UNIT_TOPIC_LIST), ["Both", "Unit"]);
    assert_eq!(
        list(&mut c, rq::GET_HAS_UNIT_SUB_TOPIC_LIST),
        ["Both", "UnitSub"]
    );
    assert_eq!(
        list(&mut c, rq::GET_HAS_UNIT_SUB_UNUNIT_TOPIC_LIST),
        ["UnitSub"]
    );
    // The route carries the flag.
    assert_eq!(c.route("Both").unwrap().queue_datas[0].topic_sys_flag, 3);
}

#[test]
fn delete_topic_per_cluster_and_globally() {
    let server = TestServer::start(&[]);
    let mut c = server.client();
    populate(&mut c);
    let brokers_of = |c: &mut Client, t: &str| -> Option<Vec<String>> {
        c.route(t)
            .map(|r| sorted(r.queue_datas.into_iter().map(|q| q.broker_name).collect()))
    };

    // An unknown cluster does nothing.
    let r = c.ask(
        rq::DELETE_TOPIC_IN_NAMESRV,
        &[("topic", "Shared"), ("clusterName", "nope")],
        None,
    );
    assert_eq!(r.0.code, 0);
    assert_eq!(brokers_of(&mut c, "Shared").unwrap(), ["a", "b", "x"]);

    // From c1's brokers only.
    let r = c.ask(
        rq::DELETE_TOPIC_IN_NAMESRV,
        &[("topic", "Shared"), ("clusterName", "c1")],
        None,
    );
    assert_eq!(r.0.code, 0);
    for route in routes_on_fresh_connections(server.addr, "Shared", 6) {
        let names: Vec<String> = route
            .unwrap()
            .queue_datas
            .into_iter()
            .map(|q| q.broker_name)
            .collect();
        assert_eq!(names, ["x"]);
    }
    // A topic emptied by a cluster delete is gone.
    c.ask(
        rq::DELETE_TOPIC_IN_NAMESRV,
        &[("topic", "OnlyA"), ("clusterName", "c1")],
        None,
    );
    assert_eq!(brokers_of(&mut c, "OnlyA"), None);

    // Without a cluster (or an empty one): everywhere.
    let r = c.ask(rq::DELETE_TOPIC_IN_NAMESRV, &[("topic", "Shared")], None);
    assert_eq!(r.0.code, 0);
    assert_eq!(brokers_of(&mut c, "Shared"), None);
    c.ask(
        rq::DELETE_TOPIC_IN_NAMESRV,
        &[("topic", "OnlyX"), ("clusterName", "")],
        None,
    );
    assert_eq!(brokers_of(&mut c, "OnlyX"), None);
    // Unknown topic: still 0.
    assert_eq!(
        c.ask(rq::DELETE_TOPIC_IN_NAMESRV, &[("topic", "ghost")], None)
            .0
            .code,
        0
    );

    let all = topic_list(&c.ask(rq::GET_ALL_TOPIC_LIST_FROM_NAMESERVER, &[], None));
    assert_eq!(all.topic_list, ["OnlyB"]);
}

fn route_body(queue_datas: Vec<QueueData>) -> Vec<u8> {
    let route = TopicRouteData {
        queue_datas,
        ..TopicRouteData::default()
    };
    let mut out = Vec::new();
    route.encode(Dialect::Legacy, &mut out);
    out
}

#[test]
fn register_topic_in_namesrv() {
    let server = TestServer::start(&[]);
    let mut c = server.client();
    populate(&mut c);

    // New topic on known brokers: stored as sent.
    let body = route_body(vec![queue_data("a", 6, 2), queue_data("x", 4, 3)]);
    let r = c.ask(
        rq::REGISTER_TOPIC_IN_NAMESRV,
        &[("topic", "Admin")],
        Some(&body),
    );
    assert_eq!((r.0.code, r.0.remark.as_deref()), (0, None));
    for route in routes_on_fresh_connections(server.addr, "Admin", 6) {
        let mut qds = route.expect("registered topic visible").queue_datas;
        qds.sort_by(|l, r| l.broker_name.cmp(&r.broker_name));
        assert_eq!(qds, [queue_data("a", 6, 2), queue_data("x", 4, 3)]);
    }

    // New topic with an unknown broker: nothing stored, still 0.
    let body = route_body(vec![queue_data("a", 6, 2), queue_data("ghost", 6, 2)]);
    let r = c.ask(
        rq::REGISTER_TOPIC_IN_NAMESRV,
        &[("topic", "Ghostly")],
        Some(&body),
    );
    assert_eq!(r.0.code, 0);
    assert!(c.route("Ghostly").is_none());

    // Existing topic: put per broker until the first unknown broker.
    let body = route_body(vec![
        queue_data("b", 6, 7),
        queue_data("ghost", 6, 2),
        queue_data("x", 6, 9),
    ]);
    assert_eq!(
        c.ask(
            rq::REGISTER_TOPIC_IN_NAMESRV,
            &[("topic", "Admin")],
            Some(&body)
        )
        .0
        .code,
        0
    );
    let mut qds = c.route("Admin").unwrap().queue_datas;
    qds.sort_by(|l, r| l.broker_name.cmp(&r.broker_name));
    assert_eq!(
        qds,
        [
            queue_data("a", 6, 2),
            queue_data("b", 6, 7),
            queue_data("x", 4, 3)
        ]
    );

    // No body, or no queues: a no-op answered 0.
    assert_eq!(
        c.ask(rq::REGISTER_TOPIC_IN_NAMESRV, &[("topic", "Empty")], None)
            .0
            .code,
        0
    );
    let body = route_body(vec![]);
    assert_eq!(
        c.ask(
            rq::REGISTER_TOPIC_IN_NAMESRV,
            &[("topic", "Empty")],
            Some(&body)
        )
        .0
        .code,
        0
    );
    assert!(c.route("Empty").is_none());

    // Malformed JSON: 1.
    let r = c.ask(
        rq::REGISTER_TOPIC_IN_NAMESRV,
        &[("topic", "Bad")],
        Some(b"{\"queueDatas\":[{"),
    );
    assert_eq!(r.0.code, response::SYSTEM_ERROR);
    assert!(c.route("Bad").is_none());
    // The legacy spelling `topicSynFlag` is accepted on input.
    let body = br#"{"queueDatas":[{"brokerName":"b","perm":6,"readQueueNums":1,"topicSynFlag":2,"writeQueueNums":1}]}"#;
    assert_eq!(
        c.ask(
            rq::REGISTER_TOPIC_IN_NAMESRV,
            &[("topic", "Syn")],
            Some(body)
        )
        .0
        .code,
        0
    );
    assert_eq!(c.route("Syn").unwrap().queue_datas[0].topic_sys_flag, 2);
}

/// 304's brokerAddr is the first key of the first group's live `brokerAddrs`
/// (`RouteInfoManager#getSystemTopicList`): ids 16 and 0 share bucket 0 of its 16,
/// so 16, put first, is the one Java names (checked against Java 5.5.0).
#[test]
fn system_topic_list_names_the_first_put_id_of_a_bucket() {
    let server = TestServer::start(&[]);
    let mut c = server.client();
    for (id, addr) in [(16, "127.0.0.1:41131"), (0, "127.0.0.1:41132")] {
        c.register_ok(&BrokerReg::new(
            "ord-S16Cluster",
            "ord-sys16-19286",
            addr,
            id,
            // Two topics: a lone one from a slave without its master is refused.
            vec![topic("ord-Ts16", 6, 4), topic("ord-Ts16b", 6, 4)],
        ));
    }
    let r = c.ask(rq::GET_SYSTEM_TOPIC_LIST_FROM_NS, &[], None);
    assert_eq!(
        body_str(&r),
        r#"{"brokerAddr":"127.0.0.1:41131","topicList":["ord-sys16-19286","ord-S16Cluster"]}"#
    );
}
