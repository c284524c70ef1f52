//! A minimal in-process name server speaking the real protocol (through the
//! protocol crate): registrations, unregistrations, connection-close clean-up,
//! routes in both dialects, cluster info, heartbeats. `Lie` makes it answer
//! wrongly on purpose.

use std::collections::{BTreeMap, HashMap};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};

use bytes::BytesMut;
use protocol::body::{BrokerData, ClusterInfo, QueueData, RegisterBrokerBody, TopicRouteData};
use protocol::codes::{request, response, version};
use protocol::frame::{self, Frame, DEFAULT_MAX_FRAME};
use protocol::json::Dialect;
use protocol::RemotingCommand;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpListener;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Lie {
    Honest,
    /// Every route names a wrong address for its first broker.
    WrongAddr,
    /// Every third route lookup answers "no route".
    DropTopics,
}

#[derive(Default)]
struct State {
    brokers: BTreeMap<String, BrokerData>,
    topics: BTreeMap<String, BTreeMap<String, QueueData>>,
    /// connection -> (brokerName, addr) it registered
    owners: HashMap<u64, Vec<(String, String)>>,
}

impl State {
    fn remove(&mut self, name: &str, addr: &str) {
        let Some(bd) = self.brokers.get_mut(name) else {
            return;
        };
        bd.broker_addrs.retain(|_, a| a != addr);
        if bd.broker_addrs.is_empty() {
            self.brokers.remove(name);
            for qds in self.topics.values_mut() {
                qds.remove(name);
            }
            self.topics.retain(|_, q| !q.is_empty());
        }
    }
}

/// Starts the mock on 127.0.0.1:0; returns its address. It lives as long as
/// the test's runtime.
pub async fn start(lie: Lie) -> String {
    let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let addr = listener.local_addr().expect("addr").to_string();
    let state = Arc::new(Mutex::new(State::default()));
    let counter = Arc::new(AtomicU64::new(0));
    tokio::spawn(async move {
        let mut next_id = 0u64;
        while let Ok((sock, _)) = listener.accept().await {
            next_id += 1;
            tokio::spawn(serve(sock, next_id, state.clone(), lie, counter.clone()));
        }
    });
    addr
}

async fn serve(
    mut sock: tokio::net::TcpStream,
    id: u64,
    state: Arc<Mutex<State>>,
    lie: Lie,
    counter: Arc<AtomicU64>,
) {
    let mut buf = BytesMut::with_capacity(64 * 1024);
    let mut out = BytesMut::new();
    'conn: loop {
        match sock.read_buf(&mut buf).await {
            Ok(0) | Err(_) => break,
            Ok(_) => {}
        }
        loop {
            let f = match Frame::parse(&mut buf, DEFAULT_MAX_FRAME) {
                Ok(Some(f)) => f,
                Ok(None) => break,
                Err(_) => break 'conn,
            };
            let Ok(cmd) = f.command() else { break 'conn };
            let reply = {
                let mut st = state.lock().unwrap_or_else(|e| e.into_inner());
                handle(&mut st, id, &cmd, f.body.as_deref(), lie, &counter)
            };
            if cmd.is_oneway() {
                continue;
            }
            if let Some((r, body)) = reply {
                frame::encode(&r, f.serialize, body.as_deref(), &mut out);
            }
        }
        if !out.is_empty() {
            if sock.write_all(&out).await.is_err() {
                break;
            }
            out.clear();
        }
    }
    let mut st = state.lock().unwrap_or_else(|e| e.into_inner());
    for (name, addr) in st.owners.remove(&id).unwrap_or_default() {
        st.remove(&name, &addr);
    }
}

fn handle(
    st: &mut State,
    conn: u64,
    cmd: &RemotingCommand,
    body: Option<&[u8]>,
    lie: Lie,
    counter: &AtomicU64,
) -> Option<(RemotingCommand, Option<Vec<u8>>)> {
    let ok = |opaque| RemotingCommand::response(response::SUCCESS, opaque, None);
    let s = |k: &str| cmd.ext(k).unwrap_or("").to_string();
    match cmd.code {
        request::REGISTER_BROKER => {
            let compressed = cmd.ext_bool("compressed").unwrap_or(false);
            let rb = RegisterBrokerBody::decode(body, compressed, cmd.version).ok()?;
            let (name, addr, cluster) = (s("brokerName"), s("brokerAddr"), s("clusterName"));
            let id = cmd.ext_i64("brokerId").unwrap_or(0);
            let bd = st
                .brokers
                .entry(name.clone())
                .or_insert_with(|| BrokerData {
                    cluster: cluster.clone(),
                    broker_name: name.clone(),
                    ..Default::default()
                });
            bd.broker_addrs.retain(|_, a| *a != addr);
            bd.broker_addrs.insert(id, addr.clone());
            let min = bd.broker_addrs.keys().next().copied().unwrap_or(0);
            let master = bd.broker_addrs.get(&0).cloned();
            let writer = id == 0 || (cmd.ext("enableActingMaster").is_some() && id == min);
            if writer {
                for tc in &rb.topic_configs {
                    st.topics.entry(tc.topic_name.clone()).or_default().insert(
                        name.clone(),
                        QueueData {
                            broker_name: name.clone(),
                            perm: tc.perm,
                            read_queue_nums: tc.read_queue_nums,
                            write_queue_nums: tc.write_queue_nums,
                            topic_sys_flag: tc.topic_sys_flag,
                        },
                    );
                }
            }
            let owned = st.owners.entry(conn).or_default();
            if !owned.contains(&(name.clone(), addr.clone())) {
                owned.push((name, addr));
            }
            let mut r = ok(cmd.opaque);
            if id != 0 {
                if let Some(m) = master {
                    r.push_ext("masterAddr", m);
                }
            }
            Some((r, None))
        }
        request::UNREGISTER_BROKER => {
            st.remove(&s("brokerName"), &s("brokerAddr"));
            Some((ok(cmd.opaque), None))
        }
        request::GET_ROUTEINFO_BY_TOPIC => {
            let topic = s("topic");
            let n = counter.fetch_add(1, Ordering::Relaxed);
            let qds = st.topics.get(&topic);
            let route = qds
                .filter(|_| !(lie == Lie::DropTopics && n.is_multiple_of(3)))
                .map(|qds| {
                    let mut route = TopicRouteData {
                        queue_datas: qds.values().cloned().collect(),
                        broker_datas: qds
                            .keys()
                            .filter_map(|b| st.brokers.get(b).cloned())
                            .collect(),
                        ..Default::default()
                    };
                    if lie == Lie::WrongAddr {
                        if let Some(a) = route
                            .broker_datas
                            .first_mut()
                            .and_then(|bd| bd.broker_addrs.values_mut().next())
                        {
                            a.push('9');
                        }
                    }
                    route
                });
            match route {
                Some(r) => {
                    let std = cmd.version >= version::V4_9_4
                        || cmd.ext_bool("acceptStandardJsonOnly") == Some(true);
                    let mut out = Vec::new();
                    r.encode(
                        if std {
                            Dialect::Standard
                        } else {
                            Dialect::Legacy
                        },
                        &mut out,
                    );
                    Some((ok(cmd.opaque), Some(out)))
                }
                None => Some((
                    RemotingCommand::response(
                        response::TOPIC_NOT_EXIST,
                        cmd.opaque,
                        Some("No topic route info".into()),
                    ),
                    None,
                )),
            }
        }
        request::GET_BROKER_CLUSTER_INFO => {
            let mut info = ClusterInfo::default();
            for (name, bd) in &st.brokers {
                info.broker_addr_table.insert(name.clone(), bd.clone());
                info.cluster_addr_table
                    .entry(bd.cluster.clone())
                    .or_default()
                    .insert(name.clone());
            }
            let mut out = Vec::new();
            info.encode(Dialect::Legacy, &mut out);
            Some((ok(cmd.opaque), Some(out)))
        }
        request::QUERY_DATA_VERSION => {
            let mut r = ok(cmd.opaque);
            r.push_ext("changed", "false");
            Some((r, None))
        }
        _ => Some((ok(cmd.opaque), None)),
    }
}
