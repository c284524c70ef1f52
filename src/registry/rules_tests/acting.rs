//! Acting masters: a group without a master still serves reads through its lowest
//! id (`RouteInfoManager#pickupTopicRouteData`, `#cleanTopicByUnRegisterRequests`).

use super::*;

const A1: &str = "10.0.0.1:10911";
const A2: &str = "10.0.0.2:10911";
const A3: &str = "10.0.0.3:10911";

/// Slaves 1 and 2 of `b-a` with the acting-master flag on and no master: slave 1
/// is the prime slave, so its topics are put read-only.
fn masterless_group(r: &mut Registry, topics: &[&str]) {
    let mut prime = broker("b-a", 1, A2, topics);
    prime.enable_acting_master = Some(true);
    r.register(&prime, 2);
    let mut other = broker("b-a", 2, A3, topics);
    other.enable_acting_master = Some(true);
    r.register(&other, 3);
}

/// `RouteInfoManager#pickupTopicRouteData`: with `supportActingMaster` on, a group
/// without a master whose queues are read-only shows its lowest id as id 0 in the
/// route; the cluster view keeps the real ids.
#[test]
fn acting_master_route_shows_lowest_id_as_master() {
    let mut r = Registry::acting();
    masterless_group(&mut r, &["T1", "T2"]);
    assert_eq!(
        r.route("T1"),
        Some(one_group_route(
            "b-a",
            r#"{"0":"10.0.0.2:10911","2":"10.0.0.3:10911"}"#,
            true,
            "{}",
            &[queue("b-a", 4)]
        ))
    );
    assert_eq!(r.groups(), groups(&[("b-a", &[(1, A2), (2, A3)])]));
}

/// `RouteInfoManager#pickupTopicRouteData`: no rewriting when `supportActingMaster`
/// is off.
#[test]
fn acting_master_rewrite_needs_support_acting_master() {
    let mut r = Registry::new();
    masterless_group(&mut r, &["T1", "T2"]);
    assert_eq!(
        r.route("T1"),
        Some(one_group_route(
            "b-a",
            r#"{"1":"10.0.0.2:10911","2":"10.0.0.3:10911"}"#,
            true,
            "{}",
            &[queue("b-a", 4)]
        ))
    );
}

/// `RouteInfoManager#pickupTopicRouteData`: topics of the
/// `rmq_sys_SYNC_BROKER_MEMBER_` prefix (`TopicValidator`) are never rewritten.
#[test]
fn acting_master_rewrite_skips_sync_broker_member_topics() {
    let mut r = Registry::acting();
    let sync = "rmq_sys_SYNC_BROKER_MEMBER_b-a";
    masterless_group(&mut r, &[sync, "T1"]);
    assert_eq!(r.queues(sync), [queue("b-a", 4)]);
    assert_eq!(
        r.route(sync),
        Some(one_group_route(
            "b-a",
            r#"{"1":"10.0.0.2:10911","2":"10.0.0.3:10911"}"#,
            true,
            "{}",
            &[queue("b-a", 4)]
        ))
    );
}

/// `RouteInfoManager#pickupTopicRouteData`: only read-only queues make an acting
/// master; once write permission is back (`#addWritePermOfBrokerByLock`) the route
/// shows the real ids.
#[test]
fn acting_master_rewrite_needs_read_only_queues() {
    let mut r = Registry::acting();
    masterless_group(&mut r, &["T1", "T2"]);
    assert_eq!(r.tables.change_write_perm("b-a", false), 2);
    assert_eq!(
        r.route("T1"),
        Some(one_group_route(
            "b-a",
            r#"{"1":"10.0.0.2:10911","2":"10.0.0.3:10911"}"#,
            true,
            "{}",
            &[queue("b-a", 6)]
        ))
    );
}

/// `RouteInfoManager#cleanTopicByUnRegisterRequests` ("Master has been unregistered,
/// wipe the write perm"): a group left without its master, with the acting-master
/// flag on, loses write permission, and the route then shows an acting master.
#[test]
fn losing_the_master_wipes_write_of_an_acting_group() {
    let mut r = Registry::acting();
    let mut master = broker("b-a", 0, A1, &["T1", "T2"]);
    master.enable_acting_master = Some(true);
    r.register(&master, 1);
    let mut slave = broker("b-a", 1, A2, &["T1", "T2"]);
    slave.enable_acting_master = Some(true);
    r.register(&slave, 2);
    assert_eq!(r.queues("T1"), [queue("b-a", 6)]);

    r.tables.unregister_broker(CLUSTER, A1, "b-a", 0);
    assert_eq!(r.queues("T1"), [queue("b-a", 4)]);
    assert_eq!(r.queues("T2"), [queue("b-a", 4)]);
    assert_eq!(
        r.route("T1"),
        Some(one_group_route(
            "b-a",
            r#"{"0":"10.0.0.2:10911"}"#,
            true,
            "{}",
            &[queue("b-a", 4)]
        ))
    );
}

/// `RouteInfoManager#cleanTopicByUnRegisterRequests`: without the acting-master
/// flag a group that loses its master keeps its permissions.
#[test]
fn losing_the_master_keeps_write_without_the_flag() {
    let mut r = Registry::acting();
    r.register(&broker("b-a", 0, A1, &["T1", "T2"]), 1);
    let mut slave = broker("b-a", 1, A2, &["T1", "T2"]);
    slave.enable_acting_master = Some(false);
    r.register(&slave, 2);

    r.tables.unregister_broker(CLUSTER, A1, "b-a", 0);
    assert_eq!(r.queues("T1"), [queue("b-a", 6)]);
    assert_eq!(r.groups(), groups(&[("b-a", &[(1, A2)])]));
}

/// `RouteInfoManager#registerBroker` (isPrimeSlave): while the master is in the
/// group, a slave is no prime slave, header or not.
#[test]
fn slave_is_no_prime_slave_beside_its_master() {
    let mut r = Registry::acting();
    let mut master = broker("b-a", 0, A1, &["T1", "T2"]);
    master.enable_acting_master = Some(true);
    r.register(&master, 1);
    let mut slave = broker("b-a", 1, A2, &["T1", "SLAVE-ONLY"]);
    slave.enable_acting_master = Some(true);
    slave.body.data_version = version(2, 0);
    r.register(&slave, 2);
    assert_eq!(r.queues("T1"), [queue("b-a", 6)]);
    assert_eq!(r.route("SLAVE-ONLY"), None);
}

/// DIFFERENCE from upstream (negative broker ids only):
/// `RouteInfoManager#isNoMasterExists` asks whether the lowest id is above 0, so a
/// group left with id -1 counts as having a master and keeps write permission. We
/// ask whether id 0 is missing, so it loses write permission.
#[test]
fn negative_id_left_without_master_loses_write() {
    let mut r = Registry::new();
    let mut master = broker("b-a", 0, A1, &["T1", "T2"]);
    master.enable_acting_master = Some(true);
    r.register(&master, 1);
    let mut odd = broker("b-a", -1, A2, &["T1", "T2"]);
    odd.enable_acting_master = Some(true);
    odd.body.data_version = version(2, 0);
    // The lowest id and not 0: a prime slave even beside the master (upstream
    // alike), so with the flag on its puts are read-only. Give write back first.
    r.register(&odd, 2);
    assert_eq!(r.queues("T1"), [queue("b-a", 4)]);
    assert_eq!(r.tables.change_write_perm("b-a", false), 2);

    r.tables.unregister_broker(CLUSTER, A1, "b-a", 0);
    assert_eq!(r.groups(), groups(&[("b-a", &[(-1, A2)])]));
    assert_eq!(r.queues("T1"), [queue("b-a", 4)], "upstream keeps 6");
}
