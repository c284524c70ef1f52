//! Topic rows: permissions, deletes, admin registration and how a registration puts
//! its topics (`RouteInfoManager#operateWritePermOfBroker`, `#deleteTopic`,
//! `#registerTopic`, `#registerBroker`).

use super::*;

const A1: &str = "10.0.0.1:10911";
const A2: &str = "10.0.0.2:10911";
const B1: &str = "10.0.1.1:10911";

/// `b-a` (at A1) with `T1` and `T2` (perm 7, the inherit bit set), `b-b` with `T1`
/// and `T3`. A topic's QueueData come in Java `HashMap` order of broker names:
/// `b-b` (bucket 6 of 16) before `b-a` (bucket 7).
fn two_brokers(r: &mut Registry) {
    let mut a = broker("b-a", 0, A1, &["T1", "T2"]);
    a.body.topic_configs[1].perm = 7;
    r.register(&a, 1);
    r.register(&broker("b-b", 0, B1, &["T1", "T3"]), 2);
}

/// `RouteInfoManager#wipeWritePermOfBrokerByLock` / `#operateWritePermOfBroker`:
/// wiping clears the write bit of every QueueData of the broker and counts them.
#[test]
fn wipe_clears_the_write_bit_of_every_topic() {
    let mut r = Registry::new();
    two_brokers(&mut r);
    assert_eq!(r.tables.change_write_perm("b-a", true), 2);
    assert_eq!(r.queues("T1"), [queue("b-b", 6), queue("b-a", 4)]);
    assert_eq!(
        r.route("T2"),
        Some(one_group_route(
            "b-a",
            r#"{"0":"10.0.0.1:10911"}"#,
            false,
            "{}",
            &[queue("b-a", 5)]
        ))
    );
    // Wiping again still counts the topics.
    assert_eq!(r.tables.change_write_perm("b-a", true), 2);
    assert_eq!(r.tables.change_write_perm("nobody", true), 0);
}

/// `RouteInfoManager#addWritePermOfBrokerByLock`: adding sets READ|WRITE (6),
/// dropping any other bit.
#[test]
fn add_sets_read_and_write() {
    let mut r = Registry::new();
    two_brokers(&mut r);
    r.tables.change_write_perm("b-a", true);
    assert_eq!(r.tables.change_write_perm("b-a", false), 2);
    assert_eq!(r.queues("T2"), [queue("b-a", 6)]);
    assert_eq!(r.queues("T1"), [queue("b-b", 6), queue("b-a", 6)]);
    assert_eq!(r.tables.change_write_perm("nobody", false), 0);
}

/// `RouteInfoManager#deleteTopic(String)`: without a cluster the topic goes from
/// every broker; an empty cluster name means none (`DefaultRequestProcessor`).
#[test]
fn topic_delete_without_cluster_removes_it_everywhere() {
    let mut r = Registry::new();
    two_brokers(&mut r);
    r.tables.delete_topic("T1", None);
    assert_eq!(r.route("T1"), None);
    r.tables.delete_topic("T2", Some(""));
    assert_eq!(r.route("T2"), None);
    assert_eq!(r.queues("T3"), [queue("b-b", 6)]);
    // The brokers stay.
    assert_eq!(
        r.groups(),
        groups(&[("b-a", &[(0, A1)]), ("b-b", &[(0, B1)])])
    );
}

/// `RouteInfoManager#deleteTopic(String, String)`: with a cluster, only that
/// cluster's brokers lose the topic; the last one's removal drops the topic.
#[test]
fn topic_delete_with_cluster_removes_it_from_that_cluster_only() {
    let mut r = Registry::new();
    r.register(&broker("b-a", 0, A1, &["T1", "T2"]), 1);
    let mut other = broker("b-b", 0, B1, &["T1", "T2"]);
    other.cluster = "OtherCluster".into();
    r.register(&other, 2);

    r.tables.delete_topic("T1", Some("NoSuchCluster"));
    assert_eq!(r.queues("T1"), [queue("b-b", 6), queue("b-a", 6)]);
    r.tables.delete_topic("T1", Some(CLUSTER));
    assert_eq!(r.queues("T1"), [queue("b-b", 6)]);
    r.tables.delete_topic("T1", Some("OtherCluster"));
    assert_eq!(r.route("T1"), None);
    assert_eq!(r.queues("T2"), [queue("b-b", 6), queue("b-a", 6)]);
}

/// `RouteInfoManager#registerTopic`: an admin's QueueData for a new topic are all
/// refused if one names an unknown broker. For an existing topic they are put in
/// order until the first unknown broker (those before it stay).
#[test]
fn register_topic_with_an_unknown_broker_is_refused() {
    let mut r = Registry::new();
    two_brokers(&mut r);
    r.tables
        .register_topic("NEW", &[queue("b-a", 6), queue("b-x", 6)]);
    assert_eq!(r.route("NEW"), None);

    r.tables
        .register_topic("T3", &[queue("b-a", 2), queue("b-x", 6), queue("b-b", 4)]);
    assert_eq!(r.queues("T3"), [queue("b-b", 6), queue("b-a", 2)]);

    // Known brokers only: the topic is made as given; no QueueData, no change.
    r.tables.register_topic("NEW", &[queue("b-b", 4)]);
    assert_eq!(
        r.route("NEW"),
        Some(one_group_route(
            "b-b",
            r#"{"0":"10.0.1.1:10911"}"#,
            false,
            "{}",
            &[queue("b-b", 4)]
        ))
    );
    r.tables.register_topic("EMPTY", &[]);
    assert_eq!(r.route("EMPTY"), None);
}

/// `RouteInfoManager#registerBroker` with `deleteTopicWithBrokerRegistration` on: a
/// master's topics missing from its new body are removed; other brokers keep theirs.
#[test]
fn delete_topic_with_broker_registration_removes_missing_topics() {
    let settings = TableSettings {
        delete_topic_with_broker_registration: true,
    };
    let mut r = Registry::with(Config::default(), settings);
    r.register(&broker("b-a", 0, A1, &["T1", "T2", "T3"]), 1);
    r.register(&broker("b-b", 0, B1, &["T3", "T4"]), 2);

    // A slave's body removes nothing.
    r.register(&broker("b-a", 1, A2, &["T1", "T9"]), 3);
    assert_eq!(r.queues("T2"), [queue("b-a", 6)]);

    r.register(&broker("b-a", 0, A1, &["T1", "T2"]), 1);
    assert_eq!(r.queues("T3"), [queue("b-b", 6)]);
    assert_eq!(r.queues("T1"), [queue("b-a", 6)]);

    // The last broker of a topic takes the topic with it.
    r.register(&broker("b-a", 0, A1, &["T1", "T5"]), 1);
    assert_eq!(r.route("T2"), None);
    assert_eq!(r.queues("T5"), [queue("b-a", 6)]);
}

/// `RouteInfoManager#registerBroker`: "Static topic is not supported currently": a
/// body with topic queue mapping infos deletes nothing.
#[test]
fn delete_topic_with_broker_registration_spares_static_topic_bodies() {
    let settings = TableSettings {
        delete_topic_with_broker_registration: true,
    };
    let mut r = Registry::with(Config::default(), settings);
    r.register(&broker("b-a", 0, A1, &["T1", "T2", "T3"]), 1);
    let mut with_mapping = broker("b-a", 0, A1, &["T1", "T2"]);
    with_mapping.body.mapping_infos.insert(
        "T1".into(),
        protocol::body::TopicQueueMappingInfo {
            bname: Some("b-a".into()),
            epoch: 1,
            total_queues: 8,
            ..Default::default()
        },
    );
    r.register(&with_mapping, 1);
    assert_eq!(r.queues("T3"), [queue("b-a", 6)]);
}

/// `RouteInfoManager#registerBroker` with `deleteTopicWithBrokerRegistration` off
/// (the default): topics missing from a new body stay.
#[test]
fn without_delete_topic_with_broker_registration_missing_topics_stay() {
    let mut r = Registry::new();
    r.register(&broker("b-a", 0, A1, &["T1", "T2", "T3"]), 1);
    let mut next = broker("b-a", 0, A1, &["T1", "T2"]);
    next.body.data_version = version(2, 0);
    r.register(&next, 1);
    assert_eq!(r.queues("T3"), [queue("b-a", 6)]);
}

/// `RouteInfoManager#isTopicConfigChanged`: a new DataVersion re-puts every topic
/// of the body; the same DataVersion only adds topics the broker lacks.
#[test]
fn data_version_change_re_puts_all_topics() {
    let mut r = Registry::new();
    r.register(&broker("b-a", 0, A1, &["T1", "T2"]), 1);

    let mut same = broker("b-a", 0, A1, &["T1", "T2", "T3"]);
    same.body.topic_configs[0].perm = 4;
    same.body.topic_configs[2].perm = 2;
    r.register(&same, 1);
    assert_eq!(r.queues("T1"), [queue("b-a", 6)], "unchanged version: kept");
    assert_eq!(r.queues("T3"), [queue("b-a", 2)], "missing: added");

    let mut newer = same.clone();
    newer.body.data_version = version(2, 0);
    r.register(&newer, 1);
    assert_eq!(r.queues("T1"), [queue("b-a", 4)]);
    assert_eq!(r.queues("T2"), [queue("b-a", 6)]);
    assert_eq!(r.queues("T3"), [queue("b-a", 2)]);
}

/// `RouteInfoManager#registerBroker` and `#pickupTopicRouteData`: each address's
/// filter servers appear in the route's `filterServerTable`; an empty list removes
/// them; a body without a list (old brokers) leaves them as they are.
#[test]
fn filter_servers_appear_in_the_route() {
    let mut r = Registry::new();
    let mut master = broker("b-a", 0, A1, &["T1", "T2"]);
    master.body.filter_server_list = Some(vec!["10.0.0.1:9001".into(), "10.0.0.1:9002".into()]);
    r.register(&master, 1);
    let mut slave = broker("b-a", 1, A2, &["T1", "T2"]);
    slave.body.filter_server_list = Some(vec!["10.0.0.2:9001".into()]);
    r.register(&slave, 2);
    let addrs = r#"{"0":"10.0.0.1:10911","1":"10.0.0.2:10911"}"#;
    assert_eq!(
        r.route("T1"),
        Some(one_group_route(
            "b-a",
            addrs,
            false,
            r#"{"10.0.0.1:10911":["10.0.0.1:9001","10.0.0.1:9002"],"10.0.0.2:10911":["10.0.0.2:9001"]}"#,
            &[queue("b-a", 6)]
        ))
    );

    slave.body.filter_server_list = None;
    r.register(&slave, 2);
    master.body.filter_server_list = Some(Vec::new());
    r.register(&master, 1);
    assert_eq!(
        r.route("T2"),
        Some(one_group_route(
            "b-a",
            addrs,
            false,
            r#"{"10.0.0.2:10911":["10.0.0.2:9001"]}"#,
            &[queue("b-a", 6)]
        ))
    );
}

/// A static-topic mapping of `name`'s broker for `topic` at `epoch`.
fn mapping(name: &str, topic: &str, epoch: i64) -> protocol::body::TopicQueueMappingInfo {
    protocol::body::TopicQueueMappingInfo {
        bname: Some(name.into()),
        curr_id_map: Some(BTreeMap::from([(0, 0)])),
        epoch,
        scope: Some("__global__".into()),
        topic: Some(topic.into()),
        total_queues: 1,
        ..Default::default()
    }
}

/// `RouteInfoManager#registerBroker` and `#pickupTopicRouteData`: a master's
/// static-topic mappings are taken on its first registration or a new DataVersion
/// (not otherwise), and routes show them as `topicQueueMappingByBroker`. Nothing
/// removes them: they outlive the broker and return with the topic.
#[test]
fn static_topic_mappings_appear_in_the_route() {
    let mut r = Registry::new();
    let mut reg = broker("b-a", 0, A1, &["S", "T2"]);
    reg.body
        .mapping_infos
        .insert("S".into(), mapping("b-a", "S", 1));
    r.register(&reg, 1);
    let route = |epoch: i64| {
        format!(
            r#"{{"brokerDatas":[{{"brokerAddrs":{{"0":"10.0.0.1:10911"}},"brokerName":"b-a","cluster":"DefaultCluster","enableActingMaster":false}}],"filterServerTable":{{}},"queueDatas":[{{"brokerName":"b-a","perm":6,"readQueueNums":8,"topicSysFlag":0,"writeQueueNums":8}}],"topicQueueMappingByBroker":{{"b-a":{{"bname":"b-a","currIdMap":{{"0":0}},"dirty":false,"epoch":{epoch},"scope":"__global__","topic":"S","totalQueues":1}}}}}}"#
        )
    };
    assert_eq!(r.route("S"), Some(route(1)));

    reg.body
        .mapping_infos
        .insert("S".into(), mapping("b-a", "S", 2));
    r.register(&reg, 1);
    assert_eq!(r.route("S"), Some(route(1)), "same DataVersion: kept");
    reg.body.data_version = version(2, 0);
    r.register(&reg, 1);
    assert_eq!(r.route("S"), Some(route(2)));

    r.tables.unregister_broker(CLUSTER, A1, "b-a", 0);
    assert_eq!(r.route("S"), None);
    r.register(&broker("b-a", 0, A1, &["S", "T2"]), 1);
    assert_eq!(r.route("S"), Some(route(2)));
}

/// `DefaultRequestProcessor#getRouteInfoByTopic`: with `orderMessageEnable` on, a
/// route carries the topic's entry of the `ORDER_TOPIC_CONFIG` KV namespace as
/// `orderTopicConf`; with it off (the default), never.
#[test]
fn order_topic_conf_joins_the_route_when_order_messages_are_on() {
    let kv = Kv::from([(
        "ORDER_TOPIC_CONFIG".to_string(),
        BTreeMap::from([("T1".to_string(), "b-a:8".to_string())]),
    )]);
    let with_conf = |on: bool| {
        let config = Config {
            order_message_enable: on,
            ..Config::default()
        };
        let mut r = Registry::with_kv(config, TableSettings::default(), kv.clone());
        r.register(&broker("b-a", 0, A1, &["T1", "T2"]), 1);
        (r.route("T1"), r.route("T2"))
    };
    let plain = Some(one_group_route(
        "b-a",
        r#"{"0":"10.0.0.1:10911"}"#,
        false,
        "{}",
        &[queue("b-a", 6)],
    ));
    assert_eq!(
        with_conf(true),
        (
            Some(
                r#"{"brokerDatas":[{"brokerAddrs":{"0":"10.0.0.1:10911"},"brokerName":"b-a","cluster":"DefaultCluster","enableActingMaster":false}],"filterServerTable":{},"orderTopicConf":"b-a:8","queueDatas":[{"brokerName":"b-a","perm":6,"readQueueNums":8,"topicSysFlag":0,"writeQueueNums":8}]}"#
                    .to_string()
            ),
            plain.clone()
        )
    );
    assert_eq!(with_conf(false), (plain.clone(), plain));
}
