//! What one name server knows, asked over the RocketMQ protocol and decoded into a
//! form that compares by meaning: maps keyed and sorted by name, so the order a
//! server writes its JSON in (Java's HashMap order or ours) never matters.

use std::collections::{BTreeMap, BTreeSet};
use std::time::Duration;

use protocol::body::{ClusterInfo, TopicList, TopicRouteData};
use protocol::codes::{request as rq, response};
use protocol::RemotingCommand;

use super::conn::{Conn, ConnError};

/// A broker group as cluster info (106) has it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Group {
    pub cluster: String,
    /// broker id -> address.
    pub addrs: BTreeMap<i64, String>,
}

/// One broker's queues of a topic (`QueueData` without its name).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Queues {
    pub read: i32,
    pub write: i32,
    pub perm: i32,
    pub sys_flag: i32,
}

/// The parts of a topic's route (105) that a client acts on.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Route {
    /// broker name -> its queues.
    pub queues: BTreeMap<String, Queues>,
    pub order_conf: Option<String>,
}

/// One server's answers.
#[derive(Debug, Default)]
pub struct View {
    /// cluster -> broker group names (`clusterAddrTable`).
    pub clusters: BTreeMap<String, BTreeSet<String>>,
    /// broker group name -> group (`brokerAddrTable`).
    pub groups: BTreeMap<String, Group>,
    /// Every topic a server listed, whether or not it has a route.
    pub listed: BTreeSet<String>,
    /// topic -> route, for the topics with one (105 answered 0, not 17).
    pub routes: BTreeMap<String, Route>,
}

/// Why a server's answers are unusable.
#[derive(Debug, thiserror::Error)]
pub enum AskError {
    #[error(transparent)]
    Conn(#[from] ConnError),
    #[error("request {code} answered {reply}{}", remark_suffix(.remark))]
    Refused {
        code: i32,
        reply: i32,
        remark: Option<String>,
    },
    #[error("request {code}: {what}")]
    BadBody { code: i32, what: String },
}

fn remark_suffix(remark: &Option<String>) -> String {
    remark
        .as_deref()
        .map(|r| format!(" ({r})"))
        .unwrap_or_default()
}

/// How hard to push one server.
#[derive(Debug, Clone, Copy)]
pub struct Limits {
    pub timeout: Duration,
    pub in_flight: usize,
}

/// A connection and what it has answered so far.
pub struct Asker {
    conn: Conn,
    in_flight: usize,
    pub view: View,
}

impl Asker {
    pub fn connect(addr: &str, limits: Limits) -> Result<Asker, AskError> {
        Ok(Asker {
            conn: Conn::connect(addr, limits.timeout)?,
            in_flight: limits.in_flight,
            view: View::default(),
        })
    }

    /// Cluster info (106) and the topic list: 206, or when the server answers
    /// "disable" (`enableAllTopicList=false`), 224 for each cluster of 106.
    pub fn ask_tables(&mut self) -> Result<(), AskError> {
        let (cmd, body) = self.conn.call(request(rq::GET_BROKER_CLUSTER_INFO, &[]))?;
        let body = success_body(rq::GET_BROKER_CLUSTER_INFO, cmd, body)?;
        let info =
            ClusterInfo::decode(&body).map_err(|e| bad_body(rq::GET_BROKER_CLUSTER_INFO, e))?;
        self.view.clusters = info.cluster_addr_table;
        self.view.groups = info
            .broker_addr_table
            .into_iter()
            .map(|(name, bd)| {
                let group = Group {
                    cluster: bd.cluster,
                    addrs: bd.broker_addrs,
                };
                (name, group)
            })
            .collect();

        let (cmd, body) = self
            .conn
            .call(request(rq::GET_ALL_TOPIC_LIST_FROM_NAMESERVER, &[]))?;
        if cmd.code == response::SYSTEM_ERROR && cmd.remark.as_deref() == Some("disable") {
            return self.ask_topics_by_cluster();
        }
        let body = success_body(rq::GET_ALL_TOPIC_LIST_FROM_NAMESERVER, cmd, body)?;
        let list = TopicList::decode(&body)
            .map_err(|e| bad_body(rq::GET_ALL_TOPIC_LIST_FROM_NAMESERVER, e))?;
        self.view.listed = list.topic_list.into_iter().collect();
        Ok(())
    }

    fn ask_topics_by_cluster(&mut self) -> Result<(), AskError> {
        let clusters: Vec<&String> = self.view.clusters.keys().collect();
        let cmds = clusters
            .iter()
            .map(|c| request(rq::GET_TOPICS_BY_CLUSTER, &[("cluster", c)]))
            .collect();
        let listed = &mut self.view.listed;
        self.conn.pipeline(
            cmds,
            self.in_flight,
            |_, (cmd, body)| -> Result<(), AskError> {
                let body = success_body(rq::GET_TOPICS_BY_CLUSTER, cmd, body)?;
                let list =
                    TopicList::decode(&body).map_err(|e| bad_body(rq::GET_TOPICS_BY_CLUSTER, e))?;
                listed.extend(list.topic_list);
                Ok(())
            },
        )
    }

    /// The route (105) of each of `topics`, pipelined; 17 (TOPIC_NOT_EXIST) means no route.
    pub fn ask_routes(&mut self, topics: &[&str]) -> Result<(), AskError> {
        let cmds = topics
            .iter()
            .map(|t| request(rq::GET_ROUTEINFO_BY_TOPIC, &[("topic", t)]))
            .collect();
        let routes = &mut self.view.routes;
        self.conn.pipeline(
            cmds,
            self.in_flight,
            |i, (cmd, body)| -> Result<(), AskError> {
                if cmd.code == response::TOPIC_NOT_EXIST {
                    return Ok(());
                }
                let body = success_body(rq::GET_ROUTEINFO_BY_TOPIC, cmd, body)?;
                let route = TopicRouteData::decode(&body)
                    .map_err(|e| bad_body(rq::GET_ROUTEINFO_BY_TOPIC, e))?;
                routes.insert(topics[i].to_string(), Route::from(route));
                Ok(())
            },
        )
    }
}

impl From<TopicRouteData> for Route {
    fn from(r: TopicRouteData) -> Self {
        Route {
            queues: r
                .queue_datas
                .into_iter()
                .map(|q| {
                    let queues = Queues {
                        read: q.read_queue_nums,
                        write: q.write_queue_nums,
                        perm: q.perm,
                        sys_flag: q.topic_sys_flag,
                    };
                    (q.broker_name, queues)
                })
                .collect(),
            order_conf: r.order_topic_conf,
        }
    }
}

fn request(code: i32, ext: &[(&str, &str)]) -> RemotingCommand {
    let ext = ext
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect();
    RemotingCommand::request(code, 0, ext)
}

fn success_body(
    code: i32,
    cmd: RemotingCommand,
    body: Option<bytes::Bytes>,
) -> Result<bytes::Bytes, AskError> {
    if cmd.code != response::SUCCESS {
        return Err(AskError::Refused {
            code,
            reply: cmd.code,
            remark: cmd.remark,
        });
    }
    body.ok_or(AskError::BadBody {
        code,
        what: "a success reply without a body".to_string(),
    })
}

fn bad_body(code: i32, e: impl std::fmt::Display) -> AskError {
    AskError::BadBody {
        code,
        what: e.to_string(),
    }
}
