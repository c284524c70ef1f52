//! Request dispatch: each code is either answered here, on the receiving core, from
//! the current snapshot, or turned into a [`WriteOp`] for the writer core.
//!
//! - [`route`]: 105, the hot path.
//! - [`lists`]: cluster info, member groups and the topic-list codes.
//! - [`kv`]: the KV codes.
//! - [`broker`]: registration, unregistration, heartbeats, permissions.
//! - [`admin`]: topic registration/deletion and the namesrv config.

mod admin;
pub(crate) mod broker;
mod kv;
mod lists;
mod route;

pub use broker::{decodes_off_shard, RegisterJob};

use bytes::Bytes;
use protocol::codes::{request as rq, response};
use protocol::RemotingCommand;

use crate::registry::snapshot::Snapshot;
use crate::registry::WriteOp;
use crate::reply::Reply;

/// What a request needs.
#[derive(Debug)]
pub enum Outcome {
    /// Answered from the snapshot (or refused) on this core.
    Reply(Reply),
    /// Must go through the writer; answered once the writer has published it.
    Write(WriteOp),
    /// A large register body: run the job off the shard's executor (it yields
    /// the write, or the reply).
    Decode(Box<RegisterJob>),
}

impl From<Reply> for Outcome {
    fn from(r: Reply) -> Self {
        Outcome::Reply(r)
    }
}

impl From<Result<WriteOp, Reply>> for Outcome {
    fn from(r: Result<WriteOp, Reply>) -> Self {
        match r {
            Ok(op) => Outcome::Write(op),
            Err(reply) => Outcome::Reply(reply),
        }
    }
}

/// Dispatches one request.
pub fn handle(snap: &Snapshot, cmd: &RemotingCommand, body: Option<Bytes>) -> Outcome {
    match cmd.code {
        rq::GET_ROUTEINFO_BY_TOPIC => route::get_route(snap, cmd).into(),
        rq::GET_BROKER_CLUSTER_INFO => Reply::with_body(snap.cluster.tables().body.clone()).into(),
        rq::GET_BROKER_MEMBER_GROUP => lists::broker_member_group(snap, cmd).into(),
        rq::GET_ALL_TOPIC_LIST_FROM_NAMESERVER => lists::all_topics(snap).into(),
        rq::GET_TOPICS_BY_CLUSTER => lists::topics_by_cluster(snap, cmd).into(),
        rq::GET_SYSTEM_TOPIC_LIST_FROM_NS => lists::system_topics(snap).into(),
        rq::GET_UNIT_TOPIC_LIST
        | rq::GET_HAS_UNIT_SUB_TOPIC_LIST
        | rq::GET_HAS_UNIT_SUB_UNUNIT_TOPIC_LIST => lists::unit_topics(snap, cmd.code).into(),
        rq::PUT_KV_CONFIG => kv::put(snap, cmd),
        rq::GET_KV_CONFIG => kv::get(snap, cmd).into(),
        rq::DELETE_KV_CONFIG => kv::delete(cmd),
        rq::GET_KVLIST_BY_NAMESPACE => kv::list(snap, cmd).into(),
        rq::REGISTER_BROKER => broker::register(snap, cmd, body),
        rq::UNREGISTER_BROKER => broker::unregister(cmd),
        rq::BROKER_HEARTBEAT => broker::heartbeat(cmd),
        rq::QUERY_DATA_VERSION => broker::query_data_version(cmd, body.as_deref()),
        rq::WIPE_WRITE_PERM_OF_BROKER => broker::write_perm(cmd, true),
        rq::ADD_WRITE_PERM_OF_BROKER => broker::write_perm(cmd, false),
        rq::REGISTER_TOPIC_IN_NAMESRV => admin::register_topic(cmd, body.as_deref()),
        rq::DELETE_TOPIC_IN_NAMESRV => admin::delete_topic(cmd),
        rq::UPDATE_NAMESRV_CONFIG => admin::update_config(body),
        rq::GET_NAMESRV_CONFIG => admin::get_config(snap).into(),
        code => {
            tracing::debug!(code, "request code not supported");
            Reply::error(
                response::REQUEST_CODE_NOT_SUPPORTED,
                format!(" request type {code} not supported"),
            )
            .into()
        }
    }
}

/// An ext field as an owned string (Java leaves a missing one null).
fn ext_string(cmd: &RemotingCommand, key: &str) -> Option<String> {
    cmd.ext(key).map(str::to_string)
}
