//! Broker-side codes: register (decoded and CRC-checked here, on the receiving
//! core, so the writer only applies), unregister, heartbeats, permissions.

use std::sync::Arc;

use bytes::Bytes;
use protocol::body::{BodyError, DataVersion, DecodeLimits, RegisterBrokerBody};
use protocol::RemotingCommand;

use super::{ext_string, Outcome};
use crate::kv::ORDER_TOPIC_CONFIG;
use crate::registry::reregister::{BodyPrint, RegisterHints, WireRegistration};
use crate::registry::snapshot::Snapshot;
use crate::registry::{Registration, WriteOp};
use crate::reply::Reply;

/// Bodies at least this large are decoded off the shard (see [`register`]).
/// The handoff to the blocking thread and back costs about 60 µs (measured with
/// glommio 0.9 on the CI machine), noise next to a broker's registration every
/// 30 s. A compressed body can inflate a thousandfold, so its bar is low; plain
/// JSON decodes at a few hundred MB/s, so below this it costs under a millisecond.
const OFFLOAD_COMPRESSED_BYTES: usize = 4 << 10;
const OFFLOAD_PLAIN_BYTES: usize = 256 << 10;

/// 103: the header is read here; the body (CRC, inflate, JSON) is decoded by
/// [`RegisterJob::run`], inline for small bodies and on the shard's blocking
/// thread for large ones, so a big or hostile registration cannot hold up the
/// lookups of this core.
pub fn register(snap: &Snapshot, cmd: &RemotingCommand, body: Option<Bytes>) -> Outcome {
    let compressed = cmd.ext_bool("compressed").unwrap_or(false);
    let cluster = ext_string(cmd, "clusterName");
    // Only a registration that stores nothing is answered here, not by the writer.
    let order_conf = if cluster.is_none() {
        order_conf_body(snap)
    } else {
        None
    };
    let job = RegisterJob {
        broker_id: cmd.ext_i64("brokerId"),
        crc: cmd.ext_i32("bodyCrc32").unwrap_or(0),
        version: cmd.version,
        compressed,
        limits: DecodeLimits {
            max_inflated: snap.config.max_inflated_body_length,
            max_topics: snap.config.max_topics_per_registration,
        },
        body: body.filter(|b| !b.is_empty()),
        cluster,
        order_conf,
        addr: ext_string(cmd, "brokerAddr").unwrap_or_default(),
        name: ext_string(cmd, "brokerName").unwrap_or_default(),
        ha_server_addr: ext_string(cmd, "haServerAddr"),
        heartbeat_timeout_ms: cmd.ext_i64("heartbeatTimeoutMillis"),
        enable_acting_master: cmd.ext_bool("enableActingMaster"),
        zone_name: ext_string(cmd, "__ZONE_NAME"),
        hints: snap.register_hints.clone(),
    };
    let len = job.body.as_ref().map_or(0, Bytes::len);
    if offloaded(compressed, len) {
        Outcome::Decode(Box::new(job))
    } else {
        job.run().into()
    }
}

fn offloaded(compressed: bool, body_len: usize) -> bool {
    let bar = if compressed {
        OFFLOAD_COMPRESSED_BYTES
    } else {
        OFFLOAD_PLAIN_BYTES
    };
    body_len >= bar
}

/// Whether a REGISTER_BROKER request with a body of `body_len` bytes is decoded
/// off the shard ([`Outcome::Decode`]): then its Signature (an HMAC over the whole
/// body) is checked off the shard too.
pub fn decodes_off_shard(cmd: &RemotingCommand, body_len: usize) -> bool {
    offloaded(cmd.ext_bool("compressed").unwrap_or(false), body_len)
}

/// A registration whose body is still to be checked and decoded; `Send`, so it
/// can run on a blocking thread.
#[derive(Debug)]
pub struct RegisterJob {
    broker_id: Option<i64>,
    crc: i32,
    version: i32,
    compressed: bool,
    limits: DecodeLimits,
    body: Option<Bytes>,
    /// `None` when the header has no `clusterName` (see [`RegisterJob::run`]).
    cluster: Option<String>,
    /// What a successful reply carries as body (upstream's
    /// `returnOrderTopicConfigToBroker`), for the reply made here.
    order_conf: Option<Bytes>,
    addr: String,
    name: String,
    ha_server_addr: Option<String>,
    heartbeat_timeout_ms: Option<i64>,
    enable_acting_master: Option<bool>,
    zone_name: Option<String>,
    /// Which bodies were applied last, so an unchanged one skips decoding.
    hints: Arc<RegisterHints>,
}

impl RegisterJob {
    /// [`Self::run`] on a blocking thread: the thread first lowers its own
    /// scheduling priority (once), so on a CPU it shares with a shard executor the
    /// executor always wins and lookups do not queue behind an inflate.
    pub fn run_blocking(self) -> Result<WriteOp, Reply> {
        demote_this_thread();
        self.run()
    }

    /// Checks and decodes the body: the write to apply, or the reply to send.
    ///
    /// In upstream's order (`DefaultRequestProcessor#registerBroker`): the CRC,
    /// the request version, the body, then the header fields as they are handed
    /// to `RouteInfoManager#registerBroker`. Missing header fields do not fail the
    /// header decode (`RemotingCommand#decodeCommandCustomHeaderDirectly` logs the
    /// `@CFNotNull` violation and goes on).
    pub fn run(mut self) -> Result<WriteOp, Reply> {
        let print = BodyPrint::of(
            self.body.as_deref().unwrap_or(&[]),
            self.compressed,
            self.version,
            self.limits,
        );
        if self.crc != 0 {
            let actual = print.crc;
            if actual != self.crc {
                tracing::warn!(
                    expected = self.crc,
                    actual,
                    broker = %self.name,
                    "register body crc32 mismatch"
                );
                // Upstream has already made its RegisterBrokerResponseHeader reply, so
                // the error carries `"extFields":{}` too.
                return Err(Reply::system_error("crc32 not match").custom_header());
            }
        }
        if self.version < 0 {
            return Err(Reply::system_error(format!(
                "java.lang.ArrayIndexOutOfBoundsException: {}",
                self.version
            )));
        }
        if let Some(data_version) = self.unchanged_version(&print) {
            // The body this address last registered in full, byte for byte: it
            // decoded then and reads the same now, so only the writer's check
            // (`Tables::unchanged_body`) is left.
            let deferred = self.body.take();
            let body = RegisterBrokerBody {
                data_version,
                ..RegisterBrokerBody::default()
            };
            return self.into_write(body, print, deferred);
        }
        let body = match RegisterBrokerBody::decode_limited(
            self.body.as_deref(),
            self.compressed,
            self.version,
            self.limits,
        ) {
            Ok(b) => b,
            Err(e) => return Err(decode_refused(&e, &self.name, &self.addr)),
        };
        self.into_write(body, print, None)
    }

    /// The body's DataVersion when the hints say this address last registered
    /// exactly this body (and the header has what upstream needs before it
    /// reads the body's contents).
    fn unchanged_version(&self, print: &BodyPrint) -> Option<DataVersion> {
        let cluster = self.cluster.as_deref()?;
        self.broker_id?;
        let version = RegisterBrokerBody::peek_data_version(
            self.body.as_deref(),
            self.compressed,
            self.version,
        )?;
        self.hints
            .matches(cluster, &self.addr, &version, print)
            .then_some(version)
    }

    /// The header checks that follow the body's, then the write.
    fn into_write(
        self,
        body: RegisterBrokerBody,
        print: BodyPrint,
        deferred: Option<Bytes>,
    ) -> Result<WriteOp, Reply> {
        let Some(broker_id) = self.broker_id else {
            // Upstream fails on the unboxing of a null brokerId.
            return Err(Reply::system_error(
                "java.lang.NullPointerException: brokerId is null",
            ));
        };
        let Some(cluster) = self.cluster else {
            // `ConcurrentHashMap#get(null)` throws on the first step of
            // `RouteInfoManager#registerBroker`, which logs it and answers its
            // still-empty result: success, nothing stored.
            tracing::warn!(broker = %self.name, addr = %self.addr, "register without clusterName: nothing stored");
            let mut reply = Reply::success().custom_header();
            reply.body = self.order_conf;
            return Err(reply);
        };
        let reg = Registration {
            cluster,
            addr: self.addr,
            name: self.name,
            broker_id,
            ha_server_addr: self.ha_server_addr,
            heartbeat_timeout_ms: self.heartbeat_timeout_ms,
            enable_acting_master: self.enable_acting_master,
            peer: None,
            zone_name: self.zone_name,
            body,
        };
        Ok(WriteOp::RegisterWire(Box::new(WireRegistration {
            reg,
            print,
            deferred,
        })))
    }
}

/// Nice value of the threads that decode large bodies (executors run at 0).
const DECODE_NICE: libc::c_int = 10;

/// Lowers the calling thread's priority to [`DECODE_NICE`], once per thread.
fn demote_this_thread() {
    thread_local! {
        static DEMOTED: std::cell::Cell<bool> = const { std::cell::Cell::new(false) };
    }
    if DEMOTED.with(|d| d.replace(true)) {
        return;
    }
    // SAFETY: setpriority(2) only reads its arguments; on Linux, PRIO_PROCESS with
    // who = 0 applies to the calling thread alone.
    let rc = unsafe { libc::setpriority(libc::PRIO_PROCESS, 0, DECODE_NICE) };
    if rc != 0 {
        tracing::debug!(error = %std::io::Error::last_os_error(), "could not lower the decode thread's priority");
    }
}

/// The reply to a body that did not decode (upstream's `SYSTEM_ERROR` with the
/// exception text); a body over one of our limits names the limit's key.
pub(crate) fn decode_refused(e: &BodyError, broker: &str, addr: &str) -> Reply {
    let key = match e {
        BodyError::InflatedTooLarge { .. } => Some("maxInflatedBodyLength"),
        BodyError::TooManyTopics { .. } => Some("maxTopicsPerRegistration"),
        _ => None,
    };
    match key {
        Some(key) => {
            tracing::warn!(broker, addr, limit = key, error = %e, "register body refused: over a limit");
            Reply::system_error(format!("Failed to decode RegisterBrokerBody: {e} ({key})"))
        }
        None => {
            tracing::warn!(broker, addr, error = %e, "register body rejected");
            Reply::system_error(format!("Failed to decode RegisterBrokerBody: {e}"))
        }
    }
}

/// The ORDER_TOPIC_CONFIG list a successful registration answers with, as the
/// writer makes it.
fn order_conf_body(snap: &Snapshot) -> Option<Bytes> {
    if !snap.config.return_order_topic_config_to_broker {
        return None;
    }
    Some(snap.kv.get(ORDER_TOPIC_CONFIG)?.table_body())
}

/// The live-table key a request names (`clusterName`, `brokerAddr`), or, when
/// one is missing, the SYSTEM_ERROR upstream answers: `BrokerAddrInfo#hashCode`
/// dereferences both, so its first lookup throws a NullPointerException.
fn addr_info(cmd: &RemotingCommand) -> Result<(String, String), Reply> {
    match (
        ext_string(cmd, "clusterName"),
        ext_string(cmd, "brokerAddr"),
    ) {
        (Some(cluster), Some(addr)) => Ok((cluster, addr)),
        (cluster, _) => Err(Reply::system_error(format!(
            "java.lang.NullPointerException: {} is null",
            if cluster.is_none() {
                "clusterName"
            } else {
                "brokerAddr"
            }
        ))),
    }
}

/// 104: acknowledged once applied (upstream acknowledges once queued).
pub fn unregister(cmd: &RemotingCommand) -> Outcome {
    // Without a live-table key upstream still queues and acknowledges the
    // request; the batch that applies it (`RouteInfoManager#unRegisterBroker`)
    // throws at its first lookup and changes nothing.
    let Ok((cluster, addr)) = addr_info(cmd) else {
        return Reply::success().into();
    };
    Outcome::Write(WriteOp::Unregister {
        cluster,
        addr,
        name: ext_string(cmd, "brokerName").unwrap_or_default(),
        broker_id: cmd.ext_i64("brokerId").unwrap_or(-1),
    })
}

/// 904
pub fn heartbeat(cmd: &RemotingCommand) -> Outcome {
    match addr_info(cmd) {
        Ok((cluster, addr)) => Outcome::Write(WriteOp::Heartbeat { cluster, addr }),
        Err(reply) => reply.into(),
    }
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
    let (cluster, addr) = match addr_info(cmd) {
        Ok(found) => found,
        Err(reply) => return reply.into(),
    };
    Outcome::Write(WriteOp::QueryDataVersion {
        cluster,
        addr,
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
