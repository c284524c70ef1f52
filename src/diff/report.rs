//! The diff as text (one line per difference) or as JSON (for scripts).
//!
//! A text line names the subject, then each distinct value with the servers that
//! have it, in the order the servers were given:
//! `topic T queues on broker-a: perm=6 read=8 write=8 sysflag=0 on A; perm=4 read=8 write=8 sysflag=0 on B`.

use serde_json::{json, Value as Json};

use super::compare::{Difference, Subject, Totals, Value};

pub fn text(servers: &[String], diffs: &[Difference], totals: Totals) -> String {
    let mut out = String::new();
    for d in diffs {
        out.push_str(&line(servers, d));
        out.push('\n');
    }
    let n = servers.len();
    if diffs.is_empty() {
        out.push_str(&format!(
            "no differences between {n} name servers ({}, {}, {})\n",
            count(totals.clusters, "cluster"),
            count(totals.groups, "broker group"),
            count(totals.topics, "topic"),
        ));
    } else {
        out.push_str(&format!(
            "{} between {n} name servers\n",
            count(diffs.len(), "difference")
        ));
    }
    out
}

fn count(n: usize, what: &str) -> String {
    if n == 1 {
        format!("1 {what}")
    } else {
        format!("{n} {what}s")
    }
}

fn line(servers: &[String], d: &Difference) -> String {
    // Distinct values in the order of the first server that has each.
    let mut groups: Vec<(&Option<Value>, Vec<&str>)> = Vec::new();
    for (i, v) in &d.values {
        let addr = servers[*i].as_str();
        match groups.iter_mut().find(|(g, _)| *g == v) {
            Some((_, addrs)) => addrs.push(addr),
            None => groups.push((v, vec![addr])),
        }
    }
    let parts: Vec<String> = groups
        .iter()
        .map(|(v, addrs)| format!("{} on {}", value_text(v), addrs.join(", ")))
        .collect();
    format!("{}: {}", subject_text(&d.subject), parts.join("; "))
}

fn subject_text(s: &Subject) -> String {
    match s {
        Subject::Cluster(c) => format!("cluster {c}"),
        Subject::Group(g) => format!("broker group {g}"),
        Subject::BrokerAddr { group, id } => format!("broker {group} id {id}"),
        Subject::Topic(t) => format!("topic {t}"),
        Subject::TopicQueues { topic, broker } => format!("topic {topic} queues on {broker}"),
        Subject::OrderConf(t) => format!("topic {t} order conf"),
    }
}

fn value_text(v: &Option<Value>) -> String {
    match v {
        None => "missing".to_string(),
        Some(Value::Present) => "present".to_string(),
        Some(Value::InCluster(c)) => format!("in cluster {c}"),
        Some(Value::Addr(a)) => a.clone(),
        Some(Value::Queues(q)) => format!(
            "perm={} read={} write={} sysflag={}",
            q.perm, q.read, q.write, q.sys_flag
        ),
        Some(Value::Conf(c)) => format!("{c:?}"),
    }
}

pub fn json(servers: &[String], diffs: &[Difference], totals: Totals) -> String {
    let differences: Vec<Json> = diffs
        .iter()
        .map(|d| {
            let mut obj = subject_json(&d.subject);
            let values: Vec<Json> = d
                .values
                .iter()
                .map(|(i, v)| json!({"server": servers[*i], "value": value_json(v)}))
                .collect();
            obj["values"] = Json::Array(values);
            obj
        })
        .collect();
    let doc = json!({
        "servers": servers,
        "agree": diffs.is_empty(),
        "compared": {
            "clusters": totals.clusters,
            "brokerGroups": totals.groups,
            "topics": totals.topics,
        },
        "differences": differences,
    });
    let mut s = doc.to_string();
    s.push('\n');
    s
}

fn subject_json(s: &Subject) -> Json {
    match s {
        Subject::Cluster(c) => json!({"kind": "cluster", "cluster": c}),
        Subject::Group(g) => json!({"kind": "brokerGroup", "brokerName": g}),
        Subject::BrokerAddr { group, id } => {
            json!({"kind": "brokerAddr", "brokerName": group, "brokerId": id})
        }
        Subject::Topic(t) => json!({"kind": "topic", "topic": t}),
        Subject::TopicQueues { topic, broker } => {
            json!({"kind": "queueData", "topic": topic, "brokerName": broker})
        }
        Subject::OrderConf(t) => json!({"kind": "orderTopicConf", "topic": t}),
    }
}

fn value_json(v: &Option<Value>) -> Json {
    match v {
        None => Json::Null,
        Some(Value::Present) => json!(true),
        Some(Value::InCluster(c)) => json!({"cluster": c}),
        Some(Value::Addr(a)) => json!(a),
        Some(Value::Queues(q)) => json!({
            "perm": q.perm,
            "readQueueNums": q.read,
            "writeQueueNums": q.write,
            "topicSysFlag": q.sys_flag,
        }),
        Some(Value::Conf(c)) => json!(c),
    }
}
