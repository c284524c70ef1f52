//! Who a registration makes a member of what (`RouteInfoManager#registerBroker`,
//! `#unRegisterBroker`).

use super::*;

const A1: &str = "10.0.0.1:10911";
const A2: &str = "10.0.0.2:10911";
const A3: &str = "10.0.0.3:10911";

/// `RouteInfoManager#registerBroker`: a master (id 0) puts a QueueData for each of
/// its topics, and `#pickupTopicRouteData` builds the route from it.
#[test]
fn master_topics_make_routes() {
    let mut r = Registry::new();
    assert_eq!(
        r.register(&broker("b-a", 0, A1, &["T1", "T2"]), 1),
        Some(RegisterResult::default())
    );
    assert_eq!(
        r.route("T1").as_deref(),
        Some(
            r#"{"brokerDatas":[{"brokerAddrs":{"0":"10.0.0.1:10911"},"brokerName":"b-a","cluster":"DefaultCluster","enableActingMaster":false}],"filterServerTable":{},"queueDatas":[{"brokerName":"b-a","perm":6,"readQueueNums":8,"topicSysFlag":0,"writeQueueNums":8}]}"#
        )
    );
    assert_eq!(r.queues("T2"), [queue("b-a", 6)]);
    assert_eq!(r.groups(), groups(&[("b-a", &[(0, A1)])]));
    assert_eq!(r.clusters(), clusters(&[(CLUSTER, &["b-a"])]));
}

/// `RouteInfoManager#registerBroker`: only a master or a prime slave touches topic
/// routes; a slave of an old broker (no `enableActingMaster` header) never is one.
#[test]
fn slave_topics_make_no_queue_data() {
    let mut r = Registry::new();
    // A slave alone: a member of the group, but no routes.
    assert_eq!(
        r.register(&broker("b-a", 1, A2, &["T1", "S"]), 2),
        Some(RegisterResult::default())
    );
    assert_eq!(r.route("T1"), None);
    assert_eq!(r.route("S"), None);
    assert_eq!(r.groups(), groups(&[("b-a", &[(1, A2)])]));

    // With its master: the master's QueueData stand, whatever the slave sends.
    r.register(&broker("b-a", 0, A1, &["T1", "T2"]), 1);
    let mut slave = broker("b-a", 1, A2, &["T1", "S"]);
    slave.body.topic_configs[0].perm = 4;
    slave.body.data_version = version(2, 0);
    r.register(&slave, 2);
    assert_eq!(r.queues("T1"), [queue("b-a", 6)]);
    assert_eq!(r.route("S"), None);
    assert_eq!(r.groups(), groups(&[("b-a", &[(0, A1), (1, A2)])]));
}

/// `RouteInfoManager#registerBroker` (isPrimeSlave): in a group without a master,
/// the lowest id of a broker that sends `enableActingMaster` puts its topics; the
/// other slaves do not. With the flag off its queues keep their write permission.
#[test]
fn prime_slave_puts_its_topics() {
    let mut r = Registry::new();
    let mut prime = broker("b-a", 1, A2, &["T1", "T2"]);
    prime.enable_acting_master = Some(false);
    assert_eq!(r.register(&prime, 2), Some(RegisterResult::default()));
    assert_eq!(r.queues("T1"), [queue("b-a", 6)]);

    // id 2 is not the lowest: its topics stay out.
    let mut other = broker("b-a", 2, A3, &["T1", "OTHER"]);
    other.enable_acting_master = Some(false);
    r.register(&other, 3);
    assert_eq!(r.queues("OTHER"), []);
    assert_eq!(r.groups(), groups(&[("b-a", &[(1, A2), (2, A3)])]));
}

/// `RouteInfoManager#registerBroker` ("Wipe write perm for prime slave"): with the
/// group's acting-master flag on, a prime slave's queues lose write permission.
#[test]
fn prime_slave_queues_lose_write_when_acting_master_on() {
    let mut r = Registry::new();
    let mut prime = broker("b-a", 1, A2, &["T1", "T2"]);
    prime.enable_acting_master = Some(true);
    prime.body.topic_configs[1].perm = 7;
    r.register(&prime, 2);
    assert_eq!(r.queues("T1"), [queue("b-a", 4)]);
    assert_eq!(r.queues("T2"), [queue("b-a", 5)]);
}

/// `RouteInfoManager#registerBroker` ("Switch slave to master"): one address holds
/// one id; re-registering under another id drops the old one.
#[test]
fn same_address_under_another_id_replaces_the_old_id() {
    let mut r = Registry::new();
    r.register(&broker("b-a", 0, A1, &["T1", "T2"]), 1);
    r.register(&broker("b-a", 1, A2, &["T1", "T2"]), 2);
    assert_eq!(r.groups(), groups(&[("b-a", &[(0, A1), (1, A2)])]));

    // The slave is promoted: id 1 goes, id 0 moves to it (A1 has no id left).
    let mut promoted = broker("b-a", 0, A2, &["T1", "T2"]);
    promoted.body.data_version = version(2, 1);
    r.register(&promoted, 2);
    assert_eq!(r.groups(), groups(&[("b-a", &[(0, A2)])]));

    // The old master comes back as the slave.
    let mut demoted = broker("b-a", 1, A1, &["T1", "T2"]);
    demoted.body.data_version = version(2, 1);
    r.register(&demoted, 1);
    assert_eq!(r.groups(), groups(&[("b-a", &[(0, A2), (1, A1)])]));
    assert_eq!(
        r.route("T1"),
        Some(one_group_route(
            "b-a",
            r#"{"0":"10.0.0.2:10911","1":"10.0.0.1:10911"}"#,
            false,
            "{}",
            &[queue("b-a", 6)]
        ))
    );
}

/// `RouteInfoManager#registerBroker` ("If Local brokerId stateVersion bigger than
/// the registering one"): a registration for an id that another live address holds
/// with a higher stateVersion is ignored, answered without master or HA address,
/// and the rejected address's liveness is dropped. An equal stateVersion wins.
#[test]
fn higher_state_version_fences_a_registration_for_the_same_id() {
    let mut r = Registry::new();
    let mut master = broker("b-a", 0, A1, &["T1", "T2"]);
    master.ha_server_addr = Some("10.0.0.1:10912".into());
    master.body.data_version = version(1, 5);
    r.register(&master, 1);
    let mut slave = broker("b-a", 1, A2, &["T1", "T2"]);
    slave.body.data_version = version(1, 5);
    r.register(&slave, 2);

    let mut stale = broker("b-a", 1, A3, &["T1", "T2"]);
    stale.body.data_version = version(1, 3);
    assert_eq!(r.register(&stale, 3), Some(RegisterResult::default()));
    assert_eq!(r.groups(), groups(&[("b-a", &[(0, A1), (1, A2)])]));
    assert_eq!(r.tables.heartbeat(CLUSTER, A3, r.start), None);

    // Not older: it takes the id, and as a slave learns its master.
    stale.body.data_version = version(1, 5);
    assert_eq!(
        r.register(&stale, 3),
        Some(RegisterResult {
            ha_server_addr: Some("10.0.0.1:10912".into()),
            master_addr: Some(A1.into()),
        })
    );
    assert_eq!(r.groups(), groups(&[("b-a", &[(0, A1), (1, A3)])]));
}

/// `RouteInfoManager#registerBroker`: the address swap comes before the fence, so a
/// fenced registration of an address under a new id still drops its old id.
#[test]
fn fenced_registration_still_drops_the_addresses_old_id() {
    let mut r = Registry::new();
    let mut master = broker("b-a", 0, A1, &["T1", "T2"]);
    master.body.data_version = version(1, 5);
    r.register(&master, 1);
    r.register(&broker("b-a", 1, A2, &["T1", "T2"]), 2);

    let mut takeover = broker("b-a", 0, A2, &["T1", "T2"]);
    takeover.body.data_version = version(2, 4);
    assert_eq!(r.register(&takeover, 2), Some(RegisterResult::default()));
    assert_eq!(r.groups(), groups(&[("b-a", &[(0, A1)])]));
    assert_eq!(r.tables.heartbeat(CLUSTER, A2, r.start), None);
}

/// `RouteInfoManager#registerBroker` ("Can't register topicConfigWrapper"): the
/// first registration of an id may not carry exactly one topic. The group and its
/// cluster membership, made before the check, remain.
#[test]
fn first_registration_with_one_topic_is_refused() {
    let mut r = Registry::new();
    assert_eq!(r.register(&broker("b-a", 0, A1, &["ONLY"]), 1), None);
    assert_eq!(r.route("ONLY"), None);
    assert_eq!(r.groups(), groups(&[("b-a", &[])]));
    assert_eq!(r.clusters(), clusters(&[(CLUSTER, &["b-a"])]));
    assert_eq!(r.tables.heartbeat(CLUSTER, A1, r.start), None);

    // No topic at all is not one topic.
    assert_eq!(
        r.register(&broker("b-a", 0, A1, &[]), 1),
        Some(RegisterResult::default())
    );
    // Once the id is held, one topic is fine.
    assert_eq!(
        r.register(&broker("b-a", 0, A1, &["ONLY"]), 1),
        Some(RegisterResult::default())
    );
    assert_eq!(r.queues("ONLY"), [queue("b-a", 6)]);
    assert_eq!(r.groups(), groups(&[("b-a", &[(0, A1)])]));
}

/// `RouteInfoManager#registerBroker`: a slave's answer carries its master's address
/// and HA address when the master is live; the master's answer carries neither.
#[test]
fn slave_learns_its_live_master() {
    let mut r = Registry::new();
    // No master yet.
    assert_eq!(
        r.register(&broker("b-a", 1, A2, &["T1", "T2"]), 2),
        Some(RegisterResult::default())
    );
    let mut master = broker("b-a", 0, A1, &["T1", "T2"]);
    master.ha_server_addr = Some("10.0.0.1:10912".into());
    assert_eq!(r.register(&master, 1), Some(RegisterResult::default()));
    assert_eq!(
        r.register(&broker("b-a", 1, A2, &["T1", "T2"]), 2),
        Some(RegisterResult {
            ha_server_addr: Some("10.0.0.1:10912".into()),
            master_addr: Some(A1.into()),
        })
    );
    // A master without an HA address: the slave learns the address alone.
    r.register(&broker("b-b", 0, "10.0.1.1:10911", &["T1", "T2"]), 3);
    assert_eq!(
        r.register(&broker("b-b", 1, "10.0.1.2:10911", &["T1", "T2"]), 4),
        Some(RegisterResult {
            ha_server_addr: None,
            master_addr: Some("10.0.1.1:10911".into()),
        })
    );
}

/// `RouteInfoManager#unRegisterBroker`: addresses are matched by address (not id);
/// the group goes with its last address, the cluster with its last group, and the
/// removed group's QueueData with it (`#cleanTopicByUnRegisterRequests`).
#[test]
fn unregister_removes_empty_groups_and_clusters() {
    let mut r = Registry::new();
    r.register(&broker("b-a", 0, A1, &["T-a", "SHARED"]), 1);
    r.register(&broker("b-a", 1, A2, &["T-a", "SHARED"]), 2);
    r.register(&broker("b-b", 0, A3, &["T-b", "SHARED"]), 3);

    // Wrong id, right address: still removed.
    r.tables.unregister_broker(CLUSTER, A2, "b-a", 7);
    assert_eq!(
        r.groups(),
        groups(&[("b-a", &[(0, A1)]), ("b-b", &[(0, A3)])])
    );
    assert_eq!(r.queues("T-a"), [queue("b-a", 6)]);

    r.tables.unregister_broker(CLUSTER, A1, "b-a", 0);
    assert_eq!(r.groups(), groups(&[("b-b", &[(0, A3)])]));
    assert_eq!(r.clusters(), clusters(&[(CLUSTER, &["b-b"])]));
    assert_eq!(r.route("T-a"), None);
    assert_eq!(r.queues("SHARED"), [queue("b-b", 6)]);

    r.tables.unregister_broker(CLUSTER, A3, "b-b", 0);
    assert_eq!(r.groups(), groups(&[]));
    assert_eq!(r.clusters(), clusters(&[]));
    assert_eq!(r.route("SHARED"), None);
    assert_eq!(r.route("T-b"), None);
}

/// `RouteInfoManager#registerBroker`: the group's acting-master flag and zone are
/// those of its latest registration, whoever sent it, even one refused afterwards.
#[test]
fn group_flag_and_zone_follow_the_latest_registration() {
    let mut r = Registry::new();
    let mut master = broker("b-a", 0, A1, &["T1", "T2"]);
    master.enable_acting_master = Some(true);
    master.zone_name = Some("zone-1".into());
    r.register(&master, 1);
    assert_eq!(
        r.route("T1"),
        Some(
            r#"{"brokerDatas":[{"brokerAddrs":{"0":"10.0.0.1:10911"},"brokerName":"b-a","cluster":"DefaultCluster","enableActingMaster":true,"zoneName":"zone-1"}],"filterServerTable":{},"queueDatas":[{"brokerName":"b-a","perm":6,"readQueueNums":8,"topicSysFlag":0,"writeQueueNums":8}]}"#
                .to_string()
        )
    );

    // A new slave's first registration with one topic: refused, but it set both.
    assert_eq!(r.register(&broker("b-a", 1, A2, &["T1"]), 2), None);
    assert_eq!(
        r.route("T1"),
        Some(one_group_route(
            "b-a",
            r#"{"0":"10.0.0.1:10911"}"#,
            false,
            "{}",
            &[queue("b-a", 6)]
        ))
    );
}
