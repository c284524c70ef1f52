//! Liveness: connections, expiry and heartbeats (`RouteInfoManager#onChannelDestroy`,
//! `#scanNotActiveBroker`, `#updateBrokerInfoUpdateTimestamp`).

use super::*;

const A1: &str = "10.0.0.1:10911";
const A2: &str = "10.0.0.2:10911";

/// `RouteInfoManager#onChannelDestroy(Channel)`: a closing connection unregisters
/// the address whose live entry holds it. A broker that re-registered over a new
/// connection holds only the new one, so the old one's close unregisters nothing.
#[test]
fn close_of_an_older_connection_unregisters_nothing() {
    let mut r = Registry::new();
    r.register(&broker("b-a", 0, A1, &["T1", "T2"]), 1);
    r.register(&broker("b-a", 0, A1, &["T1", "T2"]), 2);

    assert_eq!(r.tables.connection_closed(ConnId(1)), 0);
    assert_eq!(r.tables.connection_closed(ConnId(99)), 0);
    assert_eq!(r.groups(), groups(&[("b-a", &[(0, A1)])]));
    assert_eq!(r.queues("T1"), [queue("b-a", 6)]);

    assert_eq!(r.tables.connection_closed(ConnId(2)), 1);
    assert_eq!(r.groups(), groups(&[]));
    assert_eq!(r.clusters(), clusters(&[]));
    assert_eq!(r.route("T1"), None);
}

/// `RouteInfoManager#onChannelDestroy(Channel)`: one group member's close leaves the
/// other members.
#[test]
fn close_unregisters_only_its_address() {
    let mut r = Registry::new();
    r.register(&broker("b-a", 0, A1, &["T1", "T2"]), 1);
    r.register(&broker("b-a", 1, A2, &["T1", "T2"]), 2);
    assert_eq!(r.tables.connection_closed(ConnId(2)), 1);
    assert_eq!(r.groups(), groups(&[("b-a", &[(0, A1)])]));
    assert_eq!(r.queues("T1"), [queue("b-a", 6)]);
}

/// `RouteInfoManager#scanNotActiveBroker`: a broker silent for longer than its
/// timeout (`heartbeatTimeoutMillis`, else 120 s) expires, is unregistered, and its
/// connection is returned to be closed. Exactly at the timeout it is still live.
#[test]
fn silent_broker_expires_after_its_timeout() {
    let mut r = Registry::new();
    r.register(&broker("b-a", 0, A1, &["T1", "T2"]), 1);
    let mut short = broker("b-b", 0, A2, &["T1", "T2"]);
    short.heartbeat_timeout_ms = Some(10_000);
    r.register(&short, 2);

    assert_eq!(r.tables.expire(r.at(10_000)), []);
    assert_eq!(
        r.tables.expire(r.at(10_001)),
        [((CLUSTER.to_string(), A2.to_string()), ConnId(2))]
    );
    assert_eq!(r.groups(), groups(&[("b-a", &[(0, A1)])]));
    assert_eq!(r.queues("T1"), [queue("b-a", 6)]);

    assert_eq!(r.tables.expire(r.at(120_000)), []);
    assert_eq!(
        r.tables.expire(r.at(120_001)),
        [((CLUSTER.to_string(), A1.to_string()), ConnId(1))]
    );
    assert_eq!(r.groups(), groups(&[]));
    assert_eq!(r.route("T1"), None);
    // Expired once: nothing left to expire.
    assert_eq!(r.tables.expire(r.at(500_000)), []);
}

/// `RouteInfoManager#updateBrokerInfoUpdateTimestamp`: a heartbeat refreshes a live
/// broker (and answers its DataVersion), and never creates one.
#[test]
fn heartbeat_refreshes_and_never_creates() {
    let mut r = Registry::new();
    let mut reg = broker("b-a", 0, A1, &["T1", "T2"]);
    reg.body.data_version = version(7, 3);
    r.register(&reg, 1);

    assert_eq!(
        r.tables.heartbeat(CLUSTER, A1, r.at(100_000)),
        Some(version(7, 3))
    );
    assert_eq!(r.tables.expire(r.at(120_001)), []);
    assert_eq!(
        r.tables.expire(r.at(220_001)),
        [((CLUSTER.to_string(), A1.to_string()), ConnId(1))]
    );

    // Neither an expired broker nor an unknown one comes back through a heartbeat.
    assert_eq!(r.tables.heartbeat(CLUSTER, A1, r.at(220_002)), None);
    assert_eq!(r.tables.heartbeat(CLUSTER, A2, r.at(220_002)), None);
    assert_eq!(r.tables.heartbeat("OtherCluster", A1, r.at(220_002)), None);
    assert_eq!(r.groups(), groups(&[]));
    assert_eq!(r.tables.expire(r.at(900_000)), []);
}

/// `RouteInfoManager#registerBroker`: a re-registration refreshes liveness too, and
/// takes the new registration's timeout.
#[test]
fn re_registration_refreshes_liveness() {
    let mut r = Registry::new();
    r.register(&broker("b-a", 0, A1, &["T1", "T2"]), 1);
    let mut again = broker("b-a", 0, A1, &["T1", "T2"]);
    again.heartbeat_timeout_ms = Some(30_000);
    r.register_at(&again, 1, r.at(60_000));
    assert_eq!(r.tables.expire(r.at(90_000)), []);
    assert_eq!(r.tables.expire(r.at(90_001)).len(), 1);
}

/// DIFFERENCE from upstream: `RouteInfoManager#registerBroker` keeps any
/// `heartbeatTimeoutMillis` the header carries, so 0 (or less) expires the broker
/// at the first scan. We take a non-positive timeout as absent: 120 s.
#[test]
fn non_positive_timeout_means_the_default() {
    let mut r = Registry::new();
    for (conn, ms) in [(1, 0), (2, -5)] {
        let mut reg = broker(
            &format!("b-{conn}"),
            0,
            &format!("10.0.0.{conn}:10911"),
            &[],
        );
        reg.heartbeat_timeout_ms = Some(ms);
        r.register(&reg, conn);
    }
    assert_eq!(r.tables.expire(r.at(1_000)), []);
    assert_eq!(r.tables.expire(r.at(120_000)), []);
    assert_eq!(r.tables.expire(r.at(120_001)).len(), 2);
}

/// DIFFERENCE from upstream: `RouteInfoManager#onChannelDestroy(Channel)` stops at
/// the first live entry holding the channel, so a connection that registered two
/// addresses unregisters one of them (whichever `HashMap` order gives first). We
/// unregister every address whose latest registration came over it.
#[test]
fn close_unregisters_every_address_of_the_connection() {
    let mut r = Registry::new();
    r.register(&broker("b-a", 0, A1, &["T1", "T2"]), 1);
    r.register(&broker("b-b", 0, A2, &["T1", "T2"]), 1);
    assert_eq!(r.tables.connection_closed(ConnId(1)), 2);
    assert_eq!(r.groups(), groups(&[]));
    assert_eq!(r.route("T1"), None);
}

/// DIFFERENCE from upstream: an address that is live but in no group (its id was
/// taken by another address) cannot be unregistered; upstream's
/// `RouteInfoManager#scanNotActiveBroker` then leaves its live entry, closing its
/// channel again at every scan, and a heartbeat still refreshes it. We drop the
/// entry when it expires (or its connection closes): returned once, then gone.
#[test]
fn expired_address_outside_every_group_is_dropped() {
    let mut r = Registry::new();
    r.register(&broker("b-a", 0, A1, &["T1", "T2"]), 1);
    // A2 takes id 0 (an equal stateVersion is not fenced): A1 is live, in no group.
    r.register_at(&broker("b-a", 0, A2, &["T1", "T2"]), 2, r.at(60_000));
    assert_eq!(r.groups(), groups(&[("b-a", &[(0, A2)])]));
    assert_eq!(
        r.tables.expire(r.at(120_001)),
        [((CLUSTER.to_string(), A1.to_string()), ConnId(1))]
    );
    assert_eq!(r.groups(), groups(&[("b-a", &[(0, A2)])]));
    assert_eq!(r.tables.heartbeat(CLUSTER, A1, r.at(120_002)), None);
    assert_eq!(r.tables.expire(r.at(120_003)), []);
}
