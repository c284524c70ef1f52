//! What the server counts, and how `/metrics` shows it.
//!
//! Every event is counted where it happens, in cells only that thread writes:
//! each shard owns a [`ShardMetrics`] (requests, latencies, connections, frame
//! rejections), the writer owns [`WriterMetrics`] (registrations, publishes,
//! batches, persists). A scrape sums the shards ([`expose`]); the lookup path
//! takes no lock and touches no atomic another core writes.
//!
//! - [`cells`]: the single-writer counter, histogram and code table.
//! - [`expose`]: the metric families, in the Prometheus and OpenMetrics text formats.
//! - [`process`]: the standard `process_*` metrics, read from `/proc/self`.

pub mod cells;
pub mod expose;
pub mod process;

use std::sync::atomic::AtomicU64;
use std::sync::Arc;
use std::time::Duration;

use protocol::codes::request as rq;

use cells::{bump, read, CodeTable, Hist, HistValue, BATCH_BUCKETS, SECONDS_BUCKETS};

/// The request classes of `rocketmq_namesrv_request_duration_seconds`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Class {
    /// Route lookups and the cluster and topic lists clients read.
    Route = 0,
    /// What brokers send: registrations, heartbeats, data versions, permissions.
    Broker = 1,
    /// Topic administration, the namesrv config, unknown codes.
    Admin = 2,
    /// The KV codes.
    Kv = 3,
}

impl Class {
    pub const ALL: [Class; 4] = [Class::Route, Class::Broker, Class::Admin, Class::Kv];

    pub fn of(code: i32) -> Class {
        match code {
            rq::GET_ROUTEINFO_BY_TOPIC
            | rq::GET_BROKER_CLUSTER_INFO
            | rq::GET_ALL_TOPIC_LIST_FROM_NAMESERVER
            | rq::GET_TOPICS_BY_CLUSTER
            | rq::GET_SYSTEM_TOPIC_LIST_FROM_NS
            | rq::GET_UNIT_TOPIC_LIST
            | rq::GET_HAS_UNIT_SUB_TOPIC_LIST
            | rq::GET_HAS_UNIT_SUB_UNUNIT_TOPIC_LIST => Class::Route,
            rq::REGISTER_BROKER
            | rq::UNREGISTER_BROKER
            | rq::BROKER_HEARTBEAT
            | rq::QUERY_DATA_VERSION
            | rq::GET_BROKER_MEMBER_GROUP
            | rq::WIPE_WRITE_PERM_OF_BROKER
            | rq::ADD_WRITE_PERM_OF_BROKER => Class::Broker,
            rq::PUT_KV_CONFIG
            | rq::GET_KV_CONFIG
            | rq::DELETE_KV_CONFIG
            | rq::GET_KVLIST_BY_NAMESPACE => Class::Kv,
            _ => Class::Admin,
        }
    }

    pub fn label(self) -> &'static str {
        match self {
            Class::Route => "route",
            Class::Broker => "broker",
            Class::Admin => "admin",
            Class::Kv => "kv",
        }
    }
}

/// Why a connection ended (`rocketmq_namesrv_connections_closed_total{reason}`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CloseReason {
    /// The peer closed it, or it failed.
    Peer = 0,
    /// Nothing arrived within `serverChannelMaxIdleTimeSeconds`.
    Idle = 1,
    /// A frame was malformed, too long, too slow or over the frame budget.
    BadFrame = 2,
    /// The writer closed it: a broker registered over it expired.
    ExpiredBroker = 3,
    /// A connection limit refused it, or it did not take its replies in time.
    Limit = 4,
    /// The server is shutting down.
    Shutdown = 5,
}

impl CloseReason {
    pub const ALL: [CloseReason; 6] = [
        CloseReason::Peer,
        CloseReason::Idle,
        CloseReason::BadFrame,
        CloseReason::ExpiredBroker,
        CloseReason::Limit,
        CloseReason::Shutdown,
    ];

    pub fn label(self) -> &'static str {
        match self {
            CloseReason::Peer => "peer",
            CloseReason::Idle => "idle",
            CloseReason::BadFrame => "bad_frame",
            CloseReason::ExpiredBroker => "expired_broker",
            CloseReason::Limit => "limit",
            CloseReason::Shutdown => "shutdown",
        }
    }
}

/// Why a frame was refused (`rocketmq_namesrv_frames_rejected_total{reason}`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FrameReject {
    /// Longer than `maxFrameLength`.
    TooLong = 0,
    /// A length, header or serialize type that does not decode.
    Malformed = 1,
    /// Not complete within `frameReadTimeoutMillis`.
    Timeout = 2,
    /// Over `maxIncompleteFrameBytes`, the process-wide budget.
    Budget = 3,
}

impl FrameReject {
    pub const ALL: [FrameReject; 4] = [
        FrameReject::TooLong,
        FrameReject::Malformed,
        FrameReject::Timeout,
        FrameReject::Budget,
    ];

    pub fn label(self) -> &'static str {
        match self {
            FrameReject::TooLong => "too_long",
            FrameReject::Malformed => "malformed",
            FrameReject::Timeout => "timeout",
            FrameReject::Budget => "budget",
        }
    }
}

/// `rocketmq_namesrv_tls_handshakes_total{result}`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TlsHandshake {
    Ok = 0,
    /// Refused by either side (a bad or missing client certificate, a protocol error).
    Failed = 1,
    /// Not done within the handshake deadline.
    Timeout = 2,
}

impl TlsHandshake {
    pub const ALL: [TlsHandshake; 3] = [
        TlsHandshake::Ok,
        TlsHandshake::Failed,
        TlsHandshake::Timeout,
    ];

    pub fn label(self) -> &'static str {
        match self {
            TlsHandshake::Ok => "ok",
            TlsHandshake::Failed => "failed",
            TlsHandshake::Timeout => "timeout",
        }
    }
}

/// Why a request was refused (`rocketmq_namesrv_requests_denied_total{reason}`),
/// with `authenticationEnabled` on (`crate::auth::policy`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DenyReason {
    /// No AccessKey where an account is needed.
    NoAccessKey = 0,
    /// An AccessKey no account has.
    UnknownAccessKey = 1,
    /// No Signature, from an address the account does not whitelist.
    AddressNotAllowed = 2,
    /// A Signature that does not match the request.
    BadSignature = 3,
    /// A valid account without `admin` on an admin request.
    NotAdmin = 4,
}

impl DenyReason {
    pub const ALL: [DenyReason; 5] = [
        DenyReason::NoAccessKey,
        DenyReason::UnknownAccessKey,
        DenyReason::AddressNotAllowed,
        DenyReason::BadSignature,
        DenyReason::NotAdmin,
    ];

    pub fn label(self) -> &'static str {
        match self {
            DenyReason::NoAccessKey => "no_access_key",
            DenyReason::UnknownAccessKey => "unknown_access_key",
            DenyReason::AddressNotAllowed => "address_not_allowed",
            DenyReason::BadSignature => "bad_signature",
            DenyReason::NotAdmin => "not_admin",
        }
    }
}

/// `rocketmq_namesrv_broker_registrations_total{result}`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Registration {
    /// The broker's topics were (re)written: new broker or new data version.
    Changed = 0,
    /// Same data version: only its liveness was renewed.
    Unchanged = 1,
    /// Refused (bad CRC, body over a limit, undecodable, or the tables refused it).
    Rejected = 2,
}

impl Registration {
    pub const ALL: [Registration; 3] = [
        Registration::Changed,
        Registration::Unchanged,
        Registration::Rejected,
    ];

    pub fn label(self) -> &'static str {
        match self {
            Registration::Changed => "changed",
            Registration::Unchanged => "unchanged",
            Registration::Rejected => "rejected",
        }
    }
}

/// `rocketmq_namesrv_broker_unregistrations_total{reason}`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Unregistration {
    /// UNREGISTER_BROKER (104).
    Request = 0,
    /// The connection it registered over closed.
    ConnectionClosed = 1,
    /// No heartbeat within its timeout.
    Expired = 2,
}

impl Unregistration {
    pub const ALL: [Unregistration; 3] = [
        Unregistration::Request,
        Unregistration::ConnectionClosed,
        Unregistration::Expired,
    ];

    pub fn label(self) -> &'static str {
        match self {
            Unregistration::Request => "request",
            Unregistration::ConnectionClosed => "connection_closed",
            Unregistration::Expired => "expired",
        }
    }
}

/// One shard's cells; written by that shard's executor only. Aligned to whole
/// cache lines, so two shards' cells never share one.
#[derive(Debug)]
#[repr(align(128))]
pub struct ShardMetrics {
    pub requests: CodeTable,
    durations: [Hist; 4],
    accepted: AtomicU64,
    closed: [AtomicU64; 6],
    frames_rejected: [AtomicU64; 4],
    /// PROXY protocol headers taken, v1 then v2.
    proxy_headers: [AtomicU64; 2],
    tls_handshakes: [AtomicU64; 3],
    /// Requests refused by the authentication check, by [`DenyReason`].
    requests_denied: [AtomicU64; DenyReason::ALL.len()],
    /// Registrations refused before they reached the writer (CRC, body).
    registrations_rejected: AtomicU64,
    /// Writes handed to the writer (the queue depth is this minus what it took).
    writes_sent: AtomicU64,
}

impl Default for ShardMetrics {
    fn default() -> Self {
        ShardMetrics {
            requests: CodeTable::default(),
            durations: std::array::from_fn(|_| Hist::new(SECONDS_BUCKETS)),
            accepted: AtomicU64::new(0),
            closed: Default::default(),
            frames_rejected: Default::default(),
            proxy_headers: Default::default(),
            tls_handshakes: Default::default(),
            requests_denied: Default::default(),
            registrations_rejected: AtomicU64::new(0),
            writes_sent: AtomicU64::new(0),
        }
    }
}

impl ShardMetrics {
    /// One request answered (`response` is `None` for a oneway request), and
    /// the time from its frame decoded to its reply written into the output buffer.
    pub fn request(&self, code: i32, response: Option<i32>, took: Duration) {
        self.requests.count(code, response);
        if let Some(h) = self.durations.get(Class::of(code) as usize) {
            h.observe_duration(took);
        }
    }

    pub fn accepted(&self) {
        bump(&self.accepted, 1);
    }

    pub fn closed(&self, reason: CloseReason) {
        if let Some(c) = self.closed.get(reason as usize) {
            bump(c, 1);
        }
    }

    pub fn frame_rejected(&self, reason: FrameReject) {
        if let Some(c) = self.frames_rejected.get(reason as usize) {
            bump(c, 1);
        }
    }

    /// A connection began with a PROXY protocol header (v2 if `v2`, else v1).
    pub fn proxy_header(&self, v2: bool) {
        bump(&self.proxy_headers[usize::from(v2)], 1);
    }

    /// A TLS handshake on the RocketMQ port ended so.
    pub fn tls_handshake(&self, result: TlsHandshake) {
        if let Some(c) = self.tls_handshakes.get(result as usize) {
            bump(c, 1);
        }
    }

    /// A request refused by the authentication check.
    pub fn request_denied(&self, reason: DenyReason) {
        if let Some(c) = self.requests_denied.get(reason as usize) {
            bump(c, 1);
        }
    }

    pub fn registration_rejected(&self) {
        bump(&self.registrations_rejected, 1);
    }

    pub fn write_sent(&self) {
        bump(&self.writes_sent, 1);
    }

    /// Connections open on this shard (for the console's per-shard view).
    pub fn open_connections(&self) -> u64 {
        let closed: u64 = self.closed.iter().map(read).sum();
        read(&self.accepted).saturating_sub(closed)
    }

    /// Requests this shard has answered.
    pub fn requests_total(&self) -> u64 {
        self.requests.total()
    }
}

/// The writer's cells; written by the writer task only (cache-line aligned too).
#[derive(Debug)]
#[repr(align(128))]
pub struct WriterMetrics {
    registrations: [AtomicU64; 3],
    unregistrations: [AtomicU64; 3],
    publishes: AtomicU64,
    publish_duration: Hist,
    batch_writes: Hist,
    kv_persist: Hist,
    writes_taken: AtomicU64,
}

impl Default for WriterMetrics {
    fn default() -> Self {
        WriterMetrics {
            registrations: Default::default(),
            unregistrations: Default::default(),
            publishes: AtomicU64::new(0),
            publish_duration: Hist::new(SECONDS_BUCKETS),
            batch_writes: Hist::new(BATCH_BUCKETS),
            kv_persist: Hist::new(SECONDS_BUCKETS),
            writes_taken: AtomicU64::new(0),
        }
    }
}

impl WriterMetrics {
    pub fn registration(&self, result: Registration) {
        if let Some(c) = self.registrations.get(result as usize) {
            bump(c, 1);
        }
    }

    pub fn unregistrations(&self, reason: Unregistration, brokers: usize) {
        if let Some(c) = self.unregistrations.get(reason as usize) {
            bump(c, brokers as u64);
        }
    }

    pub fn published(&self, took: Duration) {
        bump(&self.publishes, 1);
        self.publish_duration.observe_duration(took);
    }

    /// A write sent by a shard taken from the queue.
    pub fn taken(&self) {
        bump(&self.writes_taken, 1);
    }

    /// A batch of `writes` writes applied (one publish at most).
    pub fn batch(&self, writes: usize) {
        self.batch_writes.observe(writes as f64);
    }

    pub fn kv_persisted(&self, took: Duration) {
        self.kv_persist.observe_duration(took);
    }
}

/// Every cell of the process: one [`ShardMetrics`] per shard and the writer's.
#[derive(Debug)]
pub struct Metrics {
    shards: Box<[ShardMetrics]>,
    pub writer: WriterMetrics,
    /// Seconds since the Unix epoch at start (`process_start_time_seconds`).
    pub start_unix: f64,
}

/// The handle every thread holds.
pub type MetricsHandle = Arc<Metrics>;

impl Metrics {
    pub fn new(shards: usize) -> MetricsHandle {
        let start_unix = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0.0, |d| d.as_secs_f64());
        Arc::new(Metrics {
            shards: (0..shards.max(1))
                .map(|_| ShardMetrics::default())
                .collect(),
            writer: WriterMetrics::default(),
            start_unix,
        })
    }

    /// Shard `index`'s cells (the last shard's for an index past the end, which
    /// `Server::start` never hands out).
    pub fn shard(&self, index: usize) -> &ShardMetrics {
        let last = self.shards.len() - 1;
        &self.shards[index.min(last)]
    }

    pub fn shards(&self) -> &[ShardMetrics] {
        &self.shards
    }

    /// Open connections: accepted minus closed, over every shard.
    pub fn open_connections(&self) -> u64 {
        let accepted: u64 = self.shards.iter().map(|s| read(&s.accepted)).sum();
        accepted.saturating_sub(self.closed_total())
    }

    fn closed_total(&self) -> u64 {
        self.shards
            .iter()
            .flat_map(|s| s.closed.iter())
            .map(read)
            .sum()
    }

    /// Writes sent by the shards that the writer has not taken yet.
    pub fn write_queue_depth(&self) -> u64 {
        let sent: u64 = self.shards.iter().map(|s| read(&s.writes_sent)).sum();
        sent.saturating_sub(read(&self.writer.writes_taken))
    }

    /// The duration histogram of `class`, summed over the shards.
    pub fn durations(&self, class: Class) -> HistValue {
        let mut v = HistValue::zero(SECONDS_BUCKETS);
        for s in self.shards.iter() {
            if let Some(h) = s.durations.get(class as usize) {
                h.add_to(&mut v);
            }
        }
        v
    }

    pub fn publishes(&self) -> u64 {
        read(&self.writer.publishes)
    }
}
