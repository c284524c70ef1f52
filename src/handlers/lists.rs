//! Cluster info, broker member groups and the topic-list codes (read-only).

use std::collections::BTreeSet;

use protocol::body::{BrokerMemberGroup, TopicList};
use protocol::codes::{request as rq, sys_flag};
use protocol::json::Dialect;
use protocol::RemotingCommand;

use crate::registry::snapshot::{java_order, Snapshot};
use crate::reply::Reply;

fn topic_list_reply(list: TopicList) -> Reply {
    let mut body = Vec::with_capacity(64 + list.topic_list.len() * 16);
    list.encode(Dialect::Legacy, &mut body);
    Reply::with_body(body)
}

/// 901: the addresses of one broker group, looked up by name only.
pub fn broker_member_group(snap: &Snapshot, cmd: &RemotingCommand) -> Reply {
    let name = cmd.ext("brokerName");
    let group = BrokerMemberGroup {
        cluster: cmd.ext("clusterName").map(str::to_string),
        broker_name: name.map(str::to_string),
        broker_addrs: name
            .and_then(|n| snap.cluster.info.broker_addr_table.get(n))
            .map(|bd| bd.broker_addrs.clone())
            .unwrap_or_default(),
    };
    let mut body = Vec::new();
    group.encode(Dialect::Legacy, &mut body);
    // Upstream never sets a remark here, so the factory default travels.
    Reply {
        remark: Some("not set any response code".to_string()),
        body: Some(body.into()),
        ..Reply::default()
    }
}

/// 206: every topic.
pub fn all_topics(snap: &Snapshot) -> Reply {
    if !snap.config.enable_all_topic_list {
        return Reply::system_error("disable");
    }
    topic_list_reply(TopicList {
        broker_addr: None,
        topic_list: snap.routes.keys().map(|t| t.to_string()).collect(),
    })
}

/// 224: topics with a queue on any broker of the cluster.
pub fn topics_by_cluster(snap: &Snapshot, cmd: &RemotingCommand) -> Reply {
    if !snap.config.enable_topic_list {
        return Reply::system_error("disable");
    }
    let names: BTreeSet<&str> = cmd
        .ext("cluster")
        .and_then(|c| snap.cluster.info.cluster_addr_table.get(c))
        .map(|s| s.iter().map(String::as_str).collect())
        .unwrap_or_default();
    let topics = if names.is_empty() {
        Vec::new()
    } else {
        snap.routes
            .iter()
            .filter(|(_, e)| {
                e.queue_datas
                    .iter()
                    .any(|q| names.contains(q.broker_name.as_str()))
            })
            .map(|(t, _)| t.to_string())
            .collect()
    };
    topic_list_reply(TopicList {
        broker_addr: None,
        topic_list: topics,
    })
}

/// 304: cluster names and broker names (each is a real topic), plus one address.
pub fn system_topics(snap: &Snapshot) -> Reply {
    let info = &snap.cluster.info;
    let mut topics: Vec<String> = Vec::new();
    for (cluster, names) in &info.cluster_addr_table {
        topics.push(cluster.clone());
        topics.extend(names.iter().cloned());
    }
    topics.sort();
    topics.dedup();
    let mut broker_names: Vec<&String> = info.broker_addr_table.keys().collect();
    java_order(&mut broker_names);
    let broker_addr = broker_names.iter().find_map(|n| {
        info.broker_addr_table
            .get(*n)
            .and_then(|bd| bd.broker_addrs.values().next().cloned())
    });
    topic_list_reply(TopicList {
        broker_addr,
        topic_list: topics,
    })
}

/// 311/312/313: topics by the unit flags of their first QueueData.
pub fn unit_topics(snap: &Snapshot, code: i32) -> Reply {
    if !snap.config.enable_topic_list {
        return Reply::system_error("disable");
    }
    let wanted = |flag: i32| {
        let unit = flag & sys_flag::UNIT != 0;
        let unit_sub = flag & sys_flag::UNIT_SUB != 0;
        match code {
            rq::GET_UNIT_TOPIC_LIST => unit,
            rq::GET_HAS_UNIT_SUB_TOPIC_LIST => unit_sub,
            _ => !unit && unit_sub,
        }
    };
    let topics = snap
        .routes
        .iter()
        .filter(|(_, e)| {
            e.queue_datas
                .first()
                .is_some_and(|q| wanted(q.topic_sys_flag))
        })
        .map(|(t, _)| t.to_string())
        .collect();
    topic_list_reply(TopicList {
        broker_addr: None,
        topic_list: topics,
    })
}
