//! Re-registrations with an unchanged DataVersion over the wire: the server
//! skips decoding a body it applied before, and must still do all upstream's
//! `RouteInfoManager#registerBroker` does then (liveness, haServerAddr, zone,
//! acting flag, the reply, topics that lost this broker's QueueData).

mod common;

use std::time::{Duration, Instant};

use common::*;
use protocol::codes::{request as rq, response};

fn topics(prefix: &str, n: usize) -> Vec<protocol::body::TopicConfig> {
    (0..n)
        .map(|i| topic(&format!("{prefix}-{i}"), 6, 4))
        .collect()
}

/// A route's raw reply body (its exact bytes).
fn route_bytes(c: &mut Client, t: &str) -> Option<Vec<u8>> {
    let (cmd, body) = c.ask(rq::GET_ROUTEINFO_BY_TOPIC, &[("topic", t)], None);
    (cmd.code == response::SUCCESS).then(|| body.expect("route body"))
}

fn ext_sorted(r: &Reply) -> Vec<(String, String)> {
    let mut v = r.0.ext_fields.clone().unwrap_or_default();
    v.sort();
    v
}

#[test]
fn unchanged_re_registrations_answer_and_keep_routes_as_upstream() {
    let server = TestServer::start(&[]);
    let mut c = server.client();
    let mut master = BrokerReg::new("C", "a", "10.0.0.1:10911", 0, topics("T", 3));
    master.filter_servers = vec!["10.0.0.1:20000".into()];
    let mut slave = BrokerReg::new("C", "a", "10.0.0.2:10911", 1, topics("T", 3));
    slave.filter_servers = vec!["10.0.0.2:20000".into()];
    let first_master = c.register_ok(&master);
    let first_slave = c.register_ok(&slave);
    assert_eq!(first_slave.0.ext("masterAddr"), Some("10.0.0.1:10911"));
    assert_eq!(first_slave.0.ext("haServerAddr"), Some("10.0.0.1:10911-ha"));
    let route = route_bytes(&mut c, "T-0").expect("route");

    for _ in 0..3 {
        let again = c.register_ok(&master);
        assert_eq!(ext_sorted(&again), ext_sorted(&first_master));
        assert_eq!(again.1, first_master.1);
        let again = c.register_ok(&slave);
        assert_eq!(ext_sorted(&again), ext_sorted(&first_slave));
        assert_eq!(again.1, first_slave.1);
    }
    assert_eq!(route_bytes(&mut c, "T-0").as_ref(), Some(&route));
    let decoded = c.route("T-0").expect("route");
    assert_eq!(
        decoded.filter_server_table.get("10.0.0.2:10911"),
        Some(&vec!["10.0.0.2:20000".to_string()])
    );

    // Header fields still count: the master's new haServerAddr reaches the
    // slave's next reply, a zone and the acting flag reach the route.
    master.ha_server_addr = Some("10.0.0.1:10912".into());
    master.zone = Some("zone-1".into());
    master.enable_acting_master = Some(true);
    c.register_ok(&master);
    let bd = &c.route("T-1").expect("route").broker_datas[0];
    assert_eq!(bd.zone_name.as_deref(), Some("zone-1"));
    assert!(bd.enable_acting_master);
    // The slave's registration (no zone, an old broker) takes them back, as the
    // latest registration of a group does upstream.
    let r = c.register_ok(&slave);
    assert_eq!(r.0.ext("haServerAddr"), Some("10.0.0.1:10912"));
    let bd = &c.route("T-1").expect("route").broker_datas[0];
    assert_eq!(bd.zone_name, None);
    assert!(!bd.enable_acting_master);
}

#[test]
fn unchanged_re_registration_puts_back_topics_that_lost_its_queue_data() {
    let server = TestServer::start(&[]);
    let mut c = server.client();
    let reg = BrokerReg::new("C", "a", "10.0.0.1:10911", 0, topics("T", 3));
    c.register_ok(&reg);
    let before = route_bytes(&mut c, "T-2").expect("route");
    let r = c.ask(rq::DELETE_TOPIC_IN_NAMESRV, &[("topic", "T-2")], None);
    assert_eq!(r.0.code, 0);
    assert!(c.route("T-2").is_none());
    // Upstream's isTopicConfigChanged: a topic without this broker's QueueData
    // is put again, DataVersion unchanged.
    c.register_ok(&reg);
    assert_eq!(route_bytes(&mut c, "T-2").as_ref(), Some(&before));
    // And the next one, with nothing missing, changes nothing.
    c.register_ok(&reg);
    assert_eq!(route_bytes(&mut c, "T-2").as_ref(), Some(&before));
}

#[test]
fn same_data_version_with_another_body_is_read_in_full() {
    let server = TestServer::start(&[]);
    let mut c = server.client();
    let mut reg = BrokerReg::new("C", "a", "10.0.0.1:10911", 0, topics("T", 2));
    c.register_ok(&reg);
    c.register_ok(&reg);
    // A topic the tables lack is put even under the same DataVersion.
    reg.topics.push(topic("NEW", 6, 2));
    c.register_ok(&reg);
    assert_eq!(
        c.route("NEW").expect("put").queue_datas[0].read_queue_nums,
        2
    );
    // The filter list of a same-version body replaces the stored one.
    reg.filter_servers = vec!["10.0.0.1:20000".into()];
    c.register_ok(&reg);
    assert_eq!(
        c.route("NEW")
            .unwrap()
            .filter_server_table
            .get("10.0.0.1:10911"),
        Some(&vec!["10.0.0.1:20000".to_string()])
    );
    // A bad CRC is refused whatever the body.
    let (mut cmd, body) = reg.request();
    cmd.ext_fields
        .as_mut()
        .unwrap()
        .retain(|(k, _)| k != "bodyCrc32");
    cmd.push_ext("bodyCrc32", "12345");
    assert_eq!(
        c.call(cmd, Some(&body)).0.remark.as_deref(),
        Some("crc32 not match")
    );
}

#[test]
fn unchanged_re_registrations_keep_a_broker_alive() {
    let server = TestServer::start(&[("scanNotActiveBrokerInterval", "200")]);
    let mut c = server.client();
    let mut reg = BrokerReg::new("C", "a", "10.0.0.1:10911", 0, topics("T", 2));
    reg.heartbeat_timeout_ms = Some(1000);
    c.register_ok(&reg);
    let start = Instant::now();
    // Three timeouts' worth of unchanged re-registrations.
    while start.elapsed() < Duration::from_secs(3) {
        c.register_ok(&reg);
        assert!(c.route("T-0").is_some(), "expired despite re-registrations");
        std::thread::sleep(Duration::from_millis(150));
    }
    // Silent, it expires.
    let mut watcher = server.client();
    wait_for(Duration::from_secs(8), "expiry", || {
        watcher.route("T-0").is_none().then_some(())
    });
}

#[test]
fn a_slave_that_becomes_prime_puts_its_topics_on_an_unchanged_re_registration() {
    let server = TestServer::start(&[]);
    let mut c = server.client();
    // Two topics each: a first registration may not list a single one.
    let mut master = BrokerReg::new("C", "a", "10.0.0.1:10911", 0, topics("T", 2));
    master.enable_acting_master = Some(true);
    let mut slave = BrokerReg::new(
        "C",
        "a",
        "10.0.0.2:10911",
        1,
        vec![topic("T-0", 6, 4), topic("U", 6, 2)],
    );
    slave.enable_acting_master = Some(true);
    c.register_ok(&master);
    c.register_ok(&slave);
    c.register_ok(&slave);
    // Under a master the slave writes no routes.
    assert!(c.route("U").is_none());
    assert_eq!(c.call(master.unregister(), None).0.code, 0);
    // Now the group's lowest id: its next registration, unchanged, puts the
    // topic it lacks, read-only (upstream's isPrimeSlave with acting master).
    c.register_ok(&slave);
    let route = c.route("U").expect("prime slave put U");
    assert_eq!(
        (
            route.queue_datas[0].perm,
            route.queue_datas[0].read_queue_nums
        ),
        (4, 2)
    );
}
