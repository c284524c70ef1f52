//! Admin codes: topic registration and deletion, the namesrv config.

use bytes::Bytes;
use protocol::body::TopicRouteData;
use protocol::RemotingCommand;

use super::{ext_string, Outcome};
use crate::registry::snapshot::Snapshot;
use crate::registry::WriteOp;
use crate::reply::Reply;

/// 217: only the body's queueDatas are used; no body or no queues is a no-op.
pub fn register_topic(cmd: &RemotingCommand, body: Option<&[u8]>) -> Outcome {
    let Some(body) = body else {
        return Reply::success().into();
    };
    let route = match TopicRouteData::decode(body) {
        Ok(r) => r,
        Err(e) => return Reply::system_error(format!("bad TopicRouteData body: {e}")).into(),
    };
    if route.queue_datas.is_empty() {
        return Reply::success().into();
    }
    Outcome::Write(WriteOp::RegisterTopic {
        topic: ext_string(cmd, "topic").unwrap_or_default(),
        queue_datas: route.queue_datas,
    })
}

/// 216
pub fn delete_topic(cmd: &RemotingCommand) -> Outcome {
    Outcome::Write(WriteOp::DeleteTopic {
        topic: ext_string(cmd, "topic").unwrap_or_default(),
        cluster: ext_string(cmd, "clusterName"),
    })
}

/// 318: a null body is a no-op.
pub fn update_config(body: Option<Bytes>) -> Outcome {
    match body {
        Some(body) => Outcome::Write(WriteOp::UpdateConfig { body }),
        None => Reply::success().into(),
    }
}

/// 319: every setting as sorted `key=value` lines; always with a body.
pub fn get_config(snap: &Snapshot) -> Reply {
    Reply::with_body(snap.config.to_properties_text().into_bytes())
}
