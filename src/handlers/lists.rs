//! Cluster info, broker member groups and the topic-list codes (read-only).

use std::collections::HashSet;

use bytes::Bytes;
use protocol::body::{long_map_order, BrokerMemberGroup, TopicList};
use protocol::codes::{request as rq, sys_flag};
use protocol::java_table::{java_bucket, JavaTable};
use protocol::json::Dialect;
use protocol::RemotingCommand;

use crate::registry::snapshot::{RouteEntry, Snapshot};
use crate::reply::Reply;

/// Topics in the order upstream iterates its topicQueueTable, a `new
/// ConcurrentHashMap<>(1024)`: by bucket, each chain in its rank order
/// (`chain_rank`, kept by the tables through inserts and resizes; the topic's
/// hash is the entry's, computed at publish). The lists are built from that
/// iteration, so its order decides theirs.
fn table_order<'a>(
    snap: &Snapshot,
    topics: impl Iterator<Item = (&'a str, &'a RouteEntry)>,
) -> Vec<(&'a str, &'a RouteEntry)> {
    let cap = snap.topic_table_capacity;
    let mut topics: Vec<(usize, u64, &str, &RouteEntry)> = topics
        .map(|(t, e)| (java_bucket(e.name_hash, cap), e.chain_rank, t, e))
        .collect();
    topics.sort_unstable_by_key(|(b, r, _, _)| (*b, *r));
    topics.into_iter().map(|(_, _, t, e)| (t, e)).collect()
}

fn names(topics: Vec<(&str, &RouteEntry)>) -> Vec<String> {
    topics.into_iter().map(|(t, _)| t.to_string()).collect()
}

fn topic_list_body(list: TopicList) -> Bytes {
    let mut body = Vec::with_capacity(64 + list.topic_list.len() * 16);
    list.encode(Dialect::Legacy, &mut body);
    Bytes::from(body)
}

/// 901: the addresses of one broker group, looked up by name only.
pub fn broker_member_group(snap: &Snapshot, cmd: &RemotingCommand) -> Reply {
    let name = cmd.ext("brokerName");
    let bd = name.and_then(|n| snap.cluster.group(n));
    let group = BrokerMemberGroup {
        cluster: cmd.ext("clusterName").map(str::to_string),
        broker_name: name.map(str::to_string),
        broker_addrs: bd.map(|bd| bd.broker_addrs.clone()).unwrap_or_default(),
        addr_order: bd.map(|bd| bd.addr_order.clone()).unwrap_or_default(),
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

/// 206: every topic (built once per snapshot).
pub fn all_topics(snap: &Snapshot) -> Reply {
    if !snap.config.enable_all_topic_list {
        return Reply::system_error("disable");
    }
    Reply::with_body(snap.lists.all(|| {
        topic_list_body(TopicList {
            broker_addr: None,
            topic_list: names(table_order(
                snap,
                snap.routes.iter().map(|(t, e)| (&**t, &**e)),
            )),
        })
    }))
}

/// 224: topics with a queue on any broker of the cluster (built once per
/// snapshot and known cluster; an unknown cluster's list is empty).
pub fn topics_by_cluster(snap: &Snapshot, cmd: &RemotingCommand) -> Reply {
    if !snap.config.enable_topic_list {
        return Reply::system_error("disable");
    }
    let cluster = cmd.ext("cluster");
    let members = cluster.and_then(|c| Some((c, snap.cluster.members(c)?)));
    let Some((cluster, members)) = members else {
        return Reply::with_body(topic_list_body(TopicList::default()));
    };
    Reply::with_body(snap.lists.by_cluster(cluster, || {
        cluster_topics_body(snap, members.iter().map(String::as_str).collect())
    }))
}

fn cluster_topics_body(snap: &Snapshot, brokers: Vec<&str>) -> Bytes {
    // Upstream loops over the cluster's broker names (a HashSet, in its order),
    // and for each over the whole topic table, adding to the result set as it
    // goes: that insertion order is what the set's own order is built from.
    let mut topics: Vec<String> = Vec::new();
    if !brokers.is_empty() {
        let table = table_order(snap, snap.routes.iter().map(|(t, e)| (&**t, &**e)));
        let mut seen: HashSet<&str> = HashSet::new();
        for b in &brokers {
            for (t, e) in &table {
                if e.queues.iter().any(|q| q.broker_name() == *b) && seen.insert(t) {
                    topics.push(t.to_string());
                }
            }
        }
    }
    topic_list_body(TopicList {
        broker_addr: None,
        topic_list: topics,
    })
}

/// 304: cluster names and broker names (each is a real topic), plus one address
/// (built once per snapshot).
pub fn system_topics(snap: &Snapshot) -> Reply {
    Reply::with_body(snap.lists.system(|| system_topics_body(snap)))
}

fn system_topics_body(snap: &Snapshot) -> Bytes {
    // Added to the list's newKeySet in clusterAddrTable's order; the encoder
    // builds the set's own order from that.
    let mut topics: Vec<String> = Vec::new();
    for (cluster, names) in snap.cluster.clusters() {
        topics.push(cluster.to_string());
        topics.extend(names.iter().cloned());
    }
    // The first BrokerData of brokerAddrTable with an address, and the first key
    // of its brokerAddrs (`RouteInfoManager#getSystemTopicList`:
    // `keySet().iterator().next()` of the live `new HashMap<>()`, whose chains
    // keep put order).
    let broker_addr = snap.cluster.first_addressed_group().and_then(|bd| {
        let addrs = long_map_order(&bd.broker_addrs, &bd.addr_order, JavaTable::HashMap);
        addrs.first().map(|(_, a)| (*a).clone())
    });
    topic_list_body(TopicList {
        broker_addr,
        topic_list: topics,
    })
}

/// 311/312/313: topics by the unit flags of their first QueueData (each built
/// once per snapshot).
pub fn unit_topics(snap: &Snapshot, code: i32) -> Reply {
    if !snap.config.enable_topic_list {
        return Reply::system_error("disable");
    }
    let which = match code {
        rq::GET_UNIT_TOPIC_LIST => 0,
        rq::GET_HAS_UNIT_SUB_TOPIC_LIST => 1,
        _ => 2,
    };
    Reply::with_body(snap.lists.unit(which, || unit_topics_body(snap, which)))
}

fn unit_topics_body(snap: &Snapshot, which: usize) -> Bytes {
    let wanted = |flag: i32| {
        let unit = flag & sys_flag::UNIT != 0;
        let unit_sub = flag & sys_flag::UNIT_SUB != 0;
        match which {
            0 => unit,
            1 => unit_sub,
            _ => !unit && unit_sub,
        }
    };
    let topics = names(table_order(
        snap,
        snap.routes
            .iter()
            .map(|(t, e)| (&**t, &**e))
            .filter(|(_, e)| e.queues.first().is_some_and(|q| wanted(q.topic_sys_flag()))),
    ));
    topic_list_body(TopicList {
        broker_addr: None,
        topic_list: topics,
    })
}
