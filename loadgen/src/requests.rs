//! Request headers and bodies as real brokers and clients send them (upstream's
//! `BrokerOuterAPI#registerBrokerAll`, `BrokerOuterAPI#sendHeartbeat`,
//! `MQClientAPIImpl#getTopicRouteInfoFromNameServer`).

use bytes::Bytes;
use protocol::body::{body_crc32, DataVersion, RegisterBrokerBody, TopicConfig};
use protocol::codes::request;
use protocol::RemotingCommand;

use crate::scenario::Brokers;
use crate::topology::{Group, Member, Topology};

fn ext(pairs: &[(&str, String)]) -> Vec<(String, String)> {
    pairs
        .iter()
        .map(|(k, v)| (k.to_string(), v.clone()))
        .collect()
}

fn with_version(mut cmd: RemotingCommand, version: i32) -> RemotingCommand {
    cmd.version = version;
    cmd
}

/// GET_ROUTEINFO_BY_TOPIC (105) as a Java client sends it.
pub fn route(topic: &str, version: i32, accept_standard_json: bool) -> RemotingCommand {
    let mut e = vec![("topic".to_string(), topic.to_string())];
    if accept_standard_json {
        e.push(("acceptStandardJsonOnly".into(), "true".into()));
    }
    with_version(
        RemotingCommand::request(request::GET_ROUTEINFO_BY_TOPIC, 0, e),
        version,
    )
}

/// A register body for `group` with the given queue counts and data version,
/// plain or compressed, and its `bodyCrc32`.
pub fn register_body(
    topo: &Topology,
    group: &Group,
    queues: &[i32],
    dv: DataVersion,
    b: &Brokers,
) -> (Bytes, i32) {
    let topic_configs = group
        .topics
        .iter()
        .zip(queues)
        .map(|(&t, &q)| {
            let td = &topo.topics[t as usize];
            TopicConfig {
                topic_name: td.name.clone(),
                read_queue_nums: q,
                write_queue_nums: q,
                perm: td.perm,
                ..TopicConfig::default()
            }
        })
        .collect();
    let body = RegisterBrokerBody {
        data_version: dv,
        topic_configs,
        mapping_infos: Default::default(),
        filter_server_list: Some(Vec::new()),
    };
    let bytes = if b.compressed {
        body.encode_compressed(b.version)
    } else {
        body.encode_plain()
    };
    let crc = body_crc32(&bytes);
    (Bytes::from(bytes), crc)
}

/// The header fields of a REGISTER_BROKER (103), as
/// `BrokerOuterAPI#registerBroker` sends them.
pub struct RegisterFields<'a> {
    pub broker_name: &'a str,
    pub broker_addr: &'a str,
    pub cluster: &'a str,
    pub ha_addr: &'a str,
    pub broker_id: i64,
    pub heartbeat_timeout_millis: u128,
    pub compressed: bool,
    pub crc: i32,
}

impl RegisterFields<'_> {
    /// The header's ext fields, in the order brokers send them.
    pub fn ext(&self) -> Vec<(String, String)> {
        ext(&[
            ("brokerName", self.broker_name.to_string()),
            ("brokerAddr", self.broker_addr.to_string()),
            ("clusterName", self.cluster.to_string()),
            ("haServerAddr", self.ha_addr.to_string()),
            ("brokerId", self.broker_id.to_string()),
            (
                "heartbeatTimeoutMillis",
                self.heartbeat_timeout_millis.to_string(),
            ),
            ("compressed", self.compressed.to_string()),
            ("bodyCrc32", self.crc.to_string()),
        ])
    }
}

/// REGISTER_BROKER (103).
pub fn register(
    cluster: &str,
    group: &Group,
    m: &Member,
    b: &Brokers,
    crc: i32,
) -> RemotingCommand {
    let mut e = RegisterFields {
        broker_name: &group.name,
        broker_addr: &m.addr,
        cluster,
        ha_addr: &m.ha_addr,
        broker_id: m.id,
        heartbeat_timeout_millis: b.heartbeat_timeout.0.as_millis(),
        compressed: b.compressed,
        crc,
    }
    .ext();
    if b.acting_master_header {
        e.push(("enableActingMaster".into(), "false".into()));
    }
    with_version(
        RemotingCommand::request(request::REGISTER_BROKER, 0, e),
        b.version,
    )
}

fn member_fields(cluster: &str, group: &Group, m: &Member) -> Vec<(String, String)> {
    ext(&[
        ("brokerName", group.name.clone()),
        ("brokerAddr", m.addr.clone()),
        ("clusterName", cluster.to_string()),
        ("brokerId", m.id.to_string()),
    ])
}

/// UNREGISTER_BROKER (104), sent on a clean shutdown.
pub fn unregister(cluster: &str, group: &Group, m: &Member, version: i32) -> RemotingCommand {
    with_version(
        RemotingCommand::request(
            request::UNREGISTER_BROKER,
            0,
            member_fields(cluster, group, m),
        ),
        version,
    )
}

/// BROKER_HEARTBEAT (904).
pub fn heartbeat(cluster: &str, group: &Group, m: &Member, version: i32) -> RemotingCommand {
    with_version(
        RemotingCommand::request(
            request::BROKER_HEARTBEAT,
            0,
            member_fields(cluster, group, m),
        ),
        version,
    )
}

/// QUERY_DATA_VERSION (322); its body is the broker's DataVersion.
pub fn query_data_version(
    cluster: &str,
    group: &Group,
    m: &Member,
    version: i32,
    dv: &DataVersion,
) -> (RemotingCommand, Vec<u8>) {
    let mut body = Vec::with_capacity(64);
    dv.encode(&mut body);
    (
        with_version(
            RemotingCommand::request(
                request::QUERY_DATA_VERSION,
                0,
                member_fields(cluster, group, m),
            ),
            version,
        ),
        body,
    )
}

/// GET_BROKER_CLUSTER_INFO (106).
pub fn cluster_info(version: i32) -> RemotingCommand {
    with_version(
        RemotingCommand::request(request::GET_BROKER_CLUSTER_INFO, 0, Vec::new()),
        version,
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::scenario::Scenario;

    #[test]
    fn bodies_round_trip() {
        let mut sc = Scenario::default();
        sc.brokers.groups = 2;
        sc.topics.count = 10;
        let topo = Topology::build(&sc, "x_");
        let g = &topo.groups[0];
        let queues: Vec<i32> = g
            .topics
            .iter()
            .map(|&t| topo.topics[t as usize].queues)
            .collect();
        let dv = DataVersion {
            counter: 3,
            state_version: 0,
            timestamp: 1_700_000_000_000,
        };
        for compressed in [false, true] {
            sc.brokers.compressed = compressed;
            let (body, crc) = register_body(&topo, g, &queues, dv, &sc.brokers);
            assert_eq!(crc, body_crc32(&body));
            let back =
                RegisterBrokerBody::decode(Some(&body), compressed, sc.brokers.version).unwrap();
            assert_eq!(back.data_version, dv);
            assert_eq!(back.topic_configs.len(), g.topics.len());
        }
        let cmd = register("c", g, &g.members[0], &sc.brokers, 7);
        assert_eq!(cmd.ext("bodyCrc32"), Some("7"));
        assert_eq!(cmd.ext("brokerId"), Some("0"));
    }
}
