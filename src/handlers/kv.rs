//! The KV codes: reads from the snapshot, writes through the writer.

use protocol::codes::response;
use protocol::RemotingCommand;

use super::{ext_string, Outcome};
use crate::kv::KvLimits;
use crate::registry::snapshot::Snapshot;
use crate::registry::WriteOp;
use crate::reply::Reply;

/// 100: a value over `kvMaxValueLength` is refused here, before it is copied
/// to the writer; the limits that depend on the table are checked by the writer.
pub fn put(snap: &Snapshot, cmd: &RemotingCommand) -> Outcome {
    let (Some(namespace), Some(key)) = (cmd.ext("namespace"), cmd.ext("key")) else {
        return Reply::system_error("namespace or key is null").into();
    };
    let value = cmd.ext("value");
    if let Err(e) = KvLimits::from(&*snap.config).check_value(value) {
        e.log(namespace, key);
        return Reply::system_error(e.to_string()).into();
    }
    Outcome::Write(WriteOp::PutKv {
        namespace: namespace.to_string(),
        key: key.to_string(),
        value: value.map(str::to_string),
    })
}

/// 101
pub fn get(snap: &Snapshot, cmd: &RemotingCommand) -> Reply {
    let ns = cmd.ext("namespace");
    let key = cmd.ext("key");
    match ns.zip(key).and_then(|(n, k)| snap.kv_get(n, k)) {
        Some(v) => Reply::success().ext("value", v),
        None => Reply::error(
            response::QUERY_NOT_FOUND,
            format!(
                "No config item, Namespace: {} Key: {}",
                ns.unwrap_or("null"),
                key.unwrap_or("null")
            ),
        )
        .custom_header(),
    }
}

/// 102: always succeeds, even for a key that does not exist.
pub fn delete(cmd: &RemotingCommand) -> Outcome {
    Outcome::Write(WriteOp::DeleteKv {
        namespace: ext_string(cmd, "namespace").unwrap_or_default(),
        key: ext_string(cmd, "key").unwrap_or_default(),
    })
}

/// 219
pub fn list(snap: &Snapshot, cmd: &RemotingCommand) -> Reply {
    let ns = cmd.ext("namespace");
    match ns.and_then(|n| snap.kv.get(n)) {
        Some(table) => Reply::with_body(table.table_body()),
        None => Reply::error(
            response::QUERY_NOT_FOUND,
            format!("No config item, Namespace: {}", ns.unwrap_or("null")),
        ),
    }
}
