//! Broker requests the Java NameServer answers in its own odd way (issue 11):
//! header fields left out, and registration bodies without a DataVersion. The
//! differential (compat/differential/cases_broker.py) holds the same against
//! Java itself; these pin our answers over the wire.

mod common;

use std::time::Duration;

use common::*;
use protocol::body::{ClusterInfo, DataVersion};
use protocol::codes::{request as rq, response};
use protocol::RemotingCommand;

fn two_topics(a: &str) -> Vec<protocol::body::TopicConfig> {
    vec![topic(a, 6, 4), topic(&format!("{a}-2"), 6, 4)]
}

fn cluster_info(c: &mut Client) -> ClusterInfo {
    let r = c.ask(rq::GET_BROKER_CLUSTER_INFO, &[], None);
    assert_eq!(r.0.code, 0);
    ClusterInfo::decode(r.1.as_deref().expect("cluster info body")).expect("decodes")
}

/// Header fields left out: Java's header decode only logs the `@CFNotNull`
/// violation, and the request fails (or not) where the field is first used.
#[test]
fn missing_header_fields_fail_where_upstream_fails() {
    let server = TestServer::start(&[]);
    let mut c = server.client();
    let reg = BrokerReg::new("C", "broker-a", "10.0.0.1:10911", 0, two_topics("T"));
    let without = |cmd: RemotingCommand, key: &str| {
        let mut cmd = cmd;
        cmd.ext_fields.as_mut().unwrap().retain(|(k, _)| k != key);
        cmd
    };

    // 103 without clusterName: success, nothing stored.
    let (cmd, body) = reg.request();
    let r = c.call(without(cmd.clone(), "clusterName"), Some(&body));
    assert_eq!(
        (r.0.code, r.0.ext_fields.clone(), r.1),
        (0, Some(vec![]), None)
    );
    assert!(c.route("T").is_none());
    assert!(cluster_info(&mut c).cluster_addr_table.is_empty());
    // The CRC is checked before the missing brokerId fails.
    let mut bad_crc = without(cmd, "brokerId");
    for (k, v) in bad_crc.ext_fields.as_mut().unwrap() {
        if k == "bodyCrc32" {
            *v = "12345".into();
        }
    }
    let r = c.call(bad_crc, Some(&body));
    assert_eq!(
        (r.0.code, r.0.remark.as_deref()),
        (response::SYSTEM_ERROR, Some("crc32 not match"))
    );

    c.register_ok(&reg);
    // 904 and 322 need clusterName and brokerAddr (BrokerAddrInfo#hashCode).
    let mut dv_body = Vec::new();
    reg.data_version.encode(&mut dv_body);
    let route_bytes = |c: &mut Client| {
        let (cmd, body) = c.ask(rq::GET_ROUTEINFO_BY_TOPIC, &[("topic", "T")], None);
        assert_eq!(cmd.code, response::SUCCESS);
        body
    };
    let route_before = route_bytes(&mut c);
    for key in ["clusterName", "brokerAddr"] {
        let r = c.call(without(reg.heartbeat(), key), None);
        let npe = format!("java.lang.NullPointerException: {key} is null");
        assert_eq!(
            (r.0.code, r.0.remark.as_deref()),
            (response::SYSTEM_ERROR, Some(npe.as_str())),
            "904 without {key}"
        );
        let r = c.call(without(reg.query_data_version(), key), Some(&dv_body));
        assert_eq!(
            (r.0.code, r.1),
            (response::SYSTEM_ERROR, None),
            "322 without {key}"
        );
        // 104 without it is acknowledged and changes nothing.
        assert_eq!(c.call(without(reg.unregister(), key), None).0.code, 0);
        assert_eq!(route_bytes(&mut c), route_before, "104 without {key}");
    }
    assert_eq!(c.call(reg.unregister(), None).0.code, 0);
    assert!(c.route("T").is_none());
}

/// A body without `dataVersion` stores Java's `new DataVersion()` (timestamp =
/// now), so a second such registration is a change and its topics are put again.
#[test]
fn a_body_without_data_version_gets_a_fresh_one_each_time() {
    let server = TestServer::start(&[]);
    let mut c = server.client();
    let mut reg = BrokerReg::new("C", "broker-a", "10.0.0.1:10911", 0, vec![]);
    reg.crc = Crc::Absent;
    let (cmd, _) = reg.request();
    let body = |perm: i32| {
        format!(
            r#"{{"filterServerList":[],"topicConfigSerializeWrapper":{{"topicConfigTable":{{"T":{{"topicName":"T","perm":{perm}}},"T2":{{"topicName":"T2"}}}}}}}}"#
        )
    };
    let perm_of_t = |c: &mut Client| c.route("T").unwrap().queue_datas[0].perm;
    let before = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_millis() as i64;
    assert_eq!(c.call(cmd.clone(), Some(body(6).as_bytes())).0.code, 0);
    assert_eq!(perm_of_t(&mut c), 6);
    let r = c.call(reg.query_data_version(), Some(b"{}"));
    let stored = DataVersion::decode(r.1.as_deref().expect("stored version")).unwrap();
    assert_eq!((stored.counter, stored.state_version), (0, 0));
    assert!(
        stored.timestamp >= before,
        "{stored:?} is older than {before}"
    );
    std::thread::sleep(Duration::from_millis(5));
    assert_eq!(c.call(cmd, Some(body(4).as_bytes())).0.code, 0);
    assert_eq!(perm_of_t(&mut c), 4);
}
