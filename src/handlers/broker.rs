//! Broker-side codes: register (decoded and CRC-checked here, on the receiving
//! core, so the writer only applies), unregister, heartbeats, permissions.

use protocol::body::{body_crc32, DataVersion, RegisterBrokerBody};
use protocol::RemotingCommand;

use super::{ext_string, Outcome};
use crate::registry::{Registration, WriteOp};
use crate::reply::Reply;

/// 103
pub fn register(cmd: &RemotingCommand, body: Option<&[u8]>) -> Outcome {
    let Some(broker_id) = cmd.ext_i64("brokerId") else {
        // Upstream fails on the unboxing of a null brokerId.
        return Reply::system_error("java.lang.NullPointerException: brokerId is null").into();
    };
    let crc = cmd.ext_i32("bodyCrc32").unwrap_or(0);
    if crc != 0 {
        let actual = body_crc32(body.unwrap_or(&[]));
        if actual != crc {
            tracing::warn!(
                expected = crc,
                actual,
                broker = cmd.ext("brokerName"),
                "register body crc32 mismatch"
            );
            // Upstream has already made its RegisterBrokerResponseHeader reply, so the
            // error carries `"extFields":{}` too.
            return Reply::system_error("crc32 not match")
                .custom_header()
                .into();
        }
    }
    if cmd.version < 0 {
        return Reply::system_error(format!(
            "java.lang.ArrayIndexOutOfBoundsException: {}",
            cmd.version
        ))
        .into();
    }
    let compressed = cmd.ext_bool("compressed").unwrap_or(false);
    let body = match RegisterBrokerBody::decode(
        body.filter(|b| !b.is_empty()),
        compressed,
        cmd.version,
    ) {
        Ok(b) => b,
        Err(e) => {
            tracing::warn!(error = %e, broker = cmd.ext("brokerName"), "register body rejected");
            return Reply::system_error(format!("Failed to decode RegisterBrokerBody: {e}")).into();
        }
    };
    Outcome::Write(WriteOp::Register(Box::new(Registration {
        cluster: ext_string(cmd, "clusterName").unwrap_or_default(),
        addr: ext_string(cmd, "brokerAddr").unwrap_or_default(),
        name: ext_string(cmd, "brokerName").unwrap_or_default(),
        broker_id,
        ha_server_addr: ext_string(cmd, "haServerAddr"),
        heartbeat_timeout_ms: cmd.ext_i64("heartbeatTimeoutMillis"),
        enable_acting_master: cmd.ext_bool("enableActingMaster"),
        zone_name: ext_string(cmd, "__ZONE_NAME"),
        body,
    })))
}

/// 104: acknowledged once applied (upstream acknowledges once queued).
pub fn unregister(cmd: &RemotingCommand) -> Outcome {
    Outcome::Write(WriteOp::Unregister {
        cluster: ext_string(cmd, "clusterName").unwrap_or_default(),
        addr: ext_string(cmd, "brokerAddr").unwrap_or_default(),
        name: ext_string(cmd, "brokerName").unwrap_or_default(),
        broker_id: cmd.ext_i64("brokerId").unwrap_or(-1),
    })
}

/// 904
pub fn heartbeat(cmd: &RemotingCommand) -> Outcome {
    Outcome::Write(WriteOp::Heartbeat {
        cluster: ext_string(cmd, "clusterName").unwrap_or_default(),
        addr: ext_string(cmd, "brokerAddr").unwrap_or_default(),
    })
}

/// 322
pub fn query_data_version(cmd: &RemotingCommand, body: Option<&[u8]>) -> Outcome {
    let version = match body.map(DataVersion::decode) {
        Some(Ok(v)) => v,
        Some(Err(e)) => return Reply::system_error(format!("bad DataVersion body: {e}")).into(),
        // Upstream decodes a missing body to null, which equals no stored version:
        // "changed" is true and the stored version is still returned. A version no
        // broker ever sends (its timestamp is a wall-clock time) gives the same.
        None => DataVersion {
            counter: i64::MIN,
            state_version: i64::MIN,
            timestamp: i64::MIN,
        },
    };
    Outcome::Write(WriteOp::QueryDataVersion {
        cluster: ext_string(cmd, "clusterName").unwrap_or_default(),
        addr: ext_string(cmd, "brokerAddr").unwrap_or_default(),
        version,
    })
}

/// 205 (`wipe`) and 327.
pub fn write_perm(cmd: &RemotingCommand, wipe: bool) -> Outcome {
    Outcome::Write(WriteOp::WritePerm {
        broker_name: ext_string(cmd, "brokerName").unwrap_or_default(),
        wipe,
    })
}
