//! The field table: every configuration key with its field, default, parser,
//! printer and whether 318 may change it. One macro invocation declares the
//! [`Config`] struct, its `Default` and [`FIELDS`] from the same rows, so a key
//! cannot be added to one and missed in another. The keys and defaults are
//! upstream's `NamesrvConfig` and `NettyServerConfig` fields, then ours.

use std::collections::BTreeMap;
use std::fmt;
use std::path::PathBuf;

use protocol::json_escape::JsonRelease;

use super::ReplySerialize;

/// A field type: how a property value is parsed into it and printed from it.
trait PropValue: Sized {
    /// `v` is already trimmed.
    fn parse_prop(v: &str) -> Result<Self, String>;
    fn print_prop(&self) -> String;
}

impl PropValue for String {
    fn parse_prop(v: &str) -> Result<Self, String> {
        Ok(v.to_string())
    }
    fn print_prop(&self) -> String {
        self.clone()
    }
}

impl PropValue for bool {
    /// Java `Boolean.parseBoolean`: "true" in any case, anything else is false.
    fn parse_prop(v: &str) -> Result<Self, String> {
        Ok(v.eq_ignore_ascii_case("true"))
    }
    fn print_prop(&self) -> String {
        self.to_string()
    }
}

macro_rules! numeric_prop {
    ($($t:ty),*) => {$(
        impl PropValue for $t {
            fn parse_prop(v: &str) -> Result<Self, String> {
                v.parse::<$t>().map_err(|e| {
                    format!("not a number of type {} ({e})", stringify!($t))
                })
            }
            fn print_prop(&self) -> String {
                self.to_string()
            }
        }
    )*};
}
numeric_prop!(i32, i64, u16, usize);

impl PropValue for ReplySerialize {
    fn parse_prop(v: &str) -> Result<Self, String> {
        v.parse()
    }
    fn print_prop(&self) -> String {
        self.name().to_string()
    }
}

impl PropValue for JsonRelease {
    fn parse_prop(v: &str) -> Result<Self, String> {
        v.parse()
    }
    fn print_prop(&self) -> String {
        self.name().to_string()
    }
}

impl PropValue for crate::auth::address::AddressList {
    fn parse_prop(v: &str) -> Result<Self, String> {
        Self::parse(v).map_err(|e| e.to_string())
    }
    fn print_prop(&self) -> String {
        self.to_string()
    }
}

/// One row of the field table.
pub struct FieldSpec {
    /// The property key (upstream's Java field name).
    pub key: &'static str,
    /// True if 318 may never change it (a file path, or the process or socket
    /// binding), whatever `configBlackList` says.
    pub update_protected: bool,
    pub(super) get: fn(&Config) -> String,
    pub(super) set: fn(&mut Config, &str) -> Result<(), String>,
}

impl fmt::Debug for FieldSpec {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("FieldSpec")
            .field("key", &self.key)
            .field("update_protected", &self.update_protected)
            .finish()
    }
}

/// `$HOME`, as Java's `user.home` (falls back to the current directory).
fn user_home() -> PathBuf {
    match std::env::var_os("HOME") {
        Some(h) if !h.is_empty() => PathBuf::from(h),
        _ => PathBuf::from("."),
    }
}

fn default_under_home(file: &str) -> String {
    user_home()
        .join("namesrv")
        .join(file)
        .to_string_lossy()
        .into_owned()
}

/// Upstream 4.x's accounts file: `$ROCKETMQ_HOME/conf/plain_acl.yml`
/// (`PlainPermissionManager#fileName`); without `ROCKETMQ_HOME`, beside our other
/// files under `~/namesrv`.
fn default_auth_config_path() -> String {
    match std::env::var_os("ROCKETMQ_HOME") {
        Some(h) if !h.is_empty() => PathBuf::from(h)
            .join("conf")
            .join("plain_acl.yml")
            .to_string_lossy()
            .into_owned(),
        _ => default_under_home("plain_acl.yml"),
    }
}

fn default_rocketmq_home() -> String {
    std::env::var_os("ROCKETMQ_HOME")
        .map(|h| h.to_string_lossy().into_owned())
        .unwrap_or_default()
}

macro_rules! config_table {
    ($(
        $(#[doc = $doc:literal])*
        $field:ident : $ty:ty = $default:expr, $key:literal, protected = $prot:literal;
    )*) => {
        /// The whole server configuration. Field docs give the property key.
        #[derive(Debug, Clone, PartialEq, Eq)]
        pub struct Config {
            $(
                $(#[doc = $doc])*
                #[doc = concat!("\n\nProperty key: `", $key, "`.")]
                pub $field: $ty,
            )*
            /// Keys of the `-c` file that are no field (kept as given; 319 prints
            /// them and 318 may update them, as upstream).
            pub raw_properties: BTreeMap<String, String>,
        }

        impl Default for Config {
            fn default() -> Self {
                Config {
                    $($field: $default,)*
                    raw_properties: BTreeMap::new(),
                }
            }
        }

        /// Every field, in declaration order.
        pub static FIELDS: &[FieldSpec] = &[
            $(FieldSpec {
                key: $key,
                update_protected: $prot,
                get: |c: &Config| PropValue::print_prop(&c.$field),
                set: |c: &mut Config, v: &str| {
                    c.$field = <$ty as PropValue>::parse_prop(v)?;
                    Ok(())
                },
            },)*
        ];
    };
}

config_table! {
    // ---- NamesrvConfig ----
    /// Install directory (env `ROCKETMQ_HOME`, else empty; informational only).
    rocketmq_home: String = default_rocketmq_home(), "rocketmqHome", protected = true;
    /// The KV store file.
    kv_config_path: String = default_under_home("kvConfig.json"), "kvConfigPath", protected = true;
    /// Where 318 persists the configuration; replaced by the `-c` path.
    config_store_path: String = default_under_home("namesrv.properties"), "configStorePath", protected = true;
    product_env_name: String = "center".to_string(), "productEnvName", protected = false;
    cluster_test: bool = false, "clusterTest", protected = false;
    /// Put `orderTopicConf` from the KV store into route replies.
    order_message_enable: bool = false, "orderMessageEnable", protected = false;
    /// Send the `ORDER_TOPIC_CONFIG` KV table in register replies.
    return_order_topic_config_to_broker: bool = true, "returnOrderTopicConfigToBroker", protected = false;
    client_request_thread_pool_nums: i32 = 8, "clientRequestThreadPoolNums", protected = false;
    default_thread_pool_nums: i32 = 16, "defaultThreadPoolNums", protected = false;
    client_request_thread_pool_queue_capacity: i32 = 50000, "clientRequestThreadPoolQueueCapacity", protected = false;
    default_thread_pool_queue_capacity: i32 = 10000, "defaultThreadPoolQueueCapacity", protected = false;
    /// Milliseconds between scans for expired brokers (a 318 reschedules it).
    scan_not_active_broker_interval: i64 = 5000, "scanNotActiveBrokerInterval", protected = false;
    un_register_broker_queue_capacity: i32 = 3000, "unRegisterBrokerQueueCapacity", protected = false;
    support_acting_master: bool = false, "supportActingMaster", protected = false;
    enable_all_topic_list: bool = true, "enableAllTopicList", protected = false;
    enable_topic_list: bool = true, "enableTopicList", protected = false;
    notify_min_broker_id_changed: bool = false, "notifyMinBrokerIdChanged", protected = false;
    /// Embedded controller: not available, so `true` stops the start and 318
    /// refuses it (see `effect`).
    enable_controller_in_namesrv: bool = false, "enableControllerInNamesrv", protected = false;
    need_wait_for_service: bool = false, "needWaitForService", protected = false;
    wait_seconds_for_service: i32 = 45, "waitSecondsForService", protected = false;
    delete_topic_with_broker_registration: bool = false, "deleteTopicWithBrokerRegistration", protected = false;
    /// Extra keys 318 refuses, separated by `;` (or `,`).
    config_black_list: String = "configBlackList;configStorePath;kvConfigPath".to_string(), "configBlackList", protected = true;

    // ---- NettyServerConfig ----
    bind_address: String = "0.0.0.0".to_string(), "bindAddress", protected = true;
    /// 0 in upstream's class; its startup sets 9876 before applying `-c`.
    listen_port: u16 = 9876, "listenPort", protected = true;
    server_worker_threads: i32 = 8, "serverWorkerThreads", protected = false;
    server_callback_executor_threads: i32 = 0, "serverCallbackExecutorThreads", protected = false;
    server_selector_threads: i32 = 3, "serverSelectorThreads", protected = false;
    server_oneway_semaphore_value: i32 = 256, "serverOnewaySemaphoreValue", protected = false;
    server_async_semaphore_value: i32 = 64, "serverAsyncSemaphoreValue", protected = false;
    /// Idle connections are closed after this many seconds.
    server_channel_max_idle_time_seconds: i32 = 120, "serverChannelMaxIdleTimeSeconds", protected = false;
    /// SO_SNDBUF; 0 = OS default. This and the next two are set on the listening
    /// sockets at start; protected, so 318 refuses them rather than keep them.
    server_socket_snd_buf_size: i32 = 0, "serverSocketSndBufSize", protected = true;
    /// SO_RCVBUF; 0 = OS default.
    server_socket_rcv_buf_size: i32 = 0, "serverSocketRcvBufSize", protected = true;
    /// 0 = default.
    write_buffer_high_water_mark: i32 = 0, "writeBufferHighWaterMark", protected = false;
    /// 0 = default.
    write_buffer_low_water_mark: i32 = 0, "writeBufferLowWaterMark", protected = false;
    server_socket_backlog: i32 = 1024, "serverSocketBacklog", protected = true;
    server_netty_worker_group_enable: bool = true, "serverNettyWorkerGroupEnable", protected = false;
    server_pooled_byte_buf_allocator_enable: bool = true, "serverPooledByteBufAllocatorEnable", protected = false;
    enable_shutdown_gracefully: bool = false, "enableShutdownGracefully", protected = false;
    shutdown_wait_time_seconds: i32 = 30, "shutdownWaitTimeSeconds", protected = false;
    use_epoll_native_selector: bool = false, "useEpollNativeSelector", protected = false;

    // ---- ours ----
    /// Executor (core) count; 0 = all available cores.
    cores: usize = 0, "cores", protected = true;
    /// Largest accepted frame, in bytes (a limit: 318 may not lift it).
    max_frame_length: usize = 16_777_216, "maxFrameLength", protected = true;
    /// Header serialization of replies.
    reply_serialize: ReplySerialize = ReplySerialize::Json, "replySerializeType", protected = false;
    /// Whose JSON string escaping to write: `5.5` (fastjson2, the newest release)
    /// or `5.3` (fastjson 1.2.83); `5.5.0`-style versions are accepted too.
    /// Fixed at start (protected): route bodies and broker fragments are encoded
    /// once into the snapshot and headers on every shard, so a 318 switching it
    /// would mix both releases' bytes in one process.
    json_compat_release: JsonRelease = JsonRelease::V5_5, "jsonCompatRelease", protected = true;
    // -- KV store limits (issue 9) --
    /// Longest value PUT_KV_CONFIG (100) stores, in UTF-8 bytes; a longer one is
    /// refused. 64 KiB: the longest real values, `ORDER_TOPIC_CONFIG`'s
    /// `brokerName:queues;…` lists, take ~20 bytes per broker, so one topic
    /// could list some 3000 brokers.
    kv_max_value_length: usize = 65_536, "kvMaxValueLength", protected = true;
    /// Most entries in the KV store, each namespace and each key counting one; a
    /// put that would add one more is refused. 100000: real estates keep one
    /// `ORDER_TOPIC_CONFIG` key per ordered topic, thousands at the very most.
    kv_max_entries: usize = 100_000, "kvMaxEntries", protected = true;
    /// Most bytes of namespaces, keys and values together in the KV store, counted
    /// as the JSON strings the file holds (escapes included); a put that would
    /// grow it past this is refused. 8 MiB: real tables are well under 1 MiB, and
    /// it keeps the file (rewritten on every put) and the `ORDER_TOPIC_CONFIG`
    /// table sent in every REGISTER_BROKER reply far below the 16 MiB frame limit
    /// of the brokers' decoders.
    kv_max_total_bytes: usize = 8_388_608, "kvMaxTotalBytes", protected = true;
    // -- register decoding limits (issue 9) --
    /// Most bytes a compressed REGISTER_BROKER body may inflate to. Four times the
    /// default frame limit: the compressed form of a broker with 200k topics (the
    /// topic limit below) inflates to about 40 MiB, and real estates with tens of
    /// thousands of topics already pass 16 MiB.
    max_inflated_body_length: usize = 67_108_864, "maxInflatedBodyLength", protected = true;
    /// Most topics one REGISTER_BROKER body may list (real brokers send well under
    /// 100k); a body over it is refused whole.
    max_topics_per_registration: usize = 200_000, "maxTopicsPerRegistration", protected = true;
    // -- connection limits (issue 9); protected: a 318 must not loosen or tighten them --
    /// Milliseconds a peer may take to accept a connection's pending replies before
    /// the connection is closed; 0 = no deadline.
    connection_write_timeout_millis: usize = 30_000, "connectionWriteTimeoutMillis", protected = true;
    /// Milliseconds a shutdown waits for connections to finish sending, before the
    /// rest are closed; 0 = do not wait.
    shutdown_timeout_millis: usize = 5_000, "shutdownTimeoutMillis", protected = true;
    /// Unsent reply bytes of one connection above which its further requests wait
    /// (and it is not read) until the output is sent; one reply always goes whole.
    connection_max_pending_output: usize = 4_194_304, "connectionMaxPendingOutput", protected = true;
    /// Open connections of the whole process; 0 = derived from the open-files limit
    /// (with headroom, so accept never fails with EMFILE).
    max_connections: usize = 0, "maxConnections", protected = true;
    /// Open connections from one source IP address; 0 = half of `maxConnections`
    /// (a NAT or load balancer can put thousands of real clients behind one
    /// address, so no small fixed number is safe; half keeps one address from
    /// locking out the rest).
    max_connections_per_address: usize = 0, "maxConnectionsPerAddress", protected = true;
    /// Milliseconds within which a started frame must arrive whole; 0 = no deadline.
    frame_read_timeout_millis: usize = 60_000, "frameReadTimeoutMillis", protected = true;
    /// Bytes of incomplete frames all connections together may hold; a connection
    /// whose frame would exceed it is closed. 0 = no limit.
    max_incomplete_frame_bytes: usize = 268_435_456, "maxIncompleteFrameBytes", protected = true;
    // -- operations (issue 12) --
    /// Port of the HTTP listener (`/metrics`, `/healthz`, `/readyz`, the console)
    /// on `bindAddress`; 0 = a free port (the boot line names it), -1 = off.
    http_port: i32 = 9877, "httpPort", protected = true;
    /// Seconds between two stats lines in the log; 0 = none.
    stats_log_interval_seconds: i64 = 60, "statsLogIntervalSeconds", protected = true;
    // -- who may change the name server (issue 14) --
    /// Check the AccessKey and Signature of requests against the accounts of
    /// `authConfigPath`. Fixed at start: a 318 must not switch the check off.
    authentication_enabled: bool = false, "authenticationEnabled", protected = true;
    /// The accounts file (RocketMQ 4.x `plain_acl.yml` shape), reloaded when it changes.
    auth_config_path: String = default_auth_config_path(), "authConfigPath", protected = true;
    /// With authentication on: route and cluster reads need no account.
    anonymous_route_read: bool = true, "anonymousRouteRead", protected = false;
    /// Socket peers whose PROXY header's source address the whitelists believe
    /// (the load balancers); from any other peer the whitelists see the socket's
    /// own address. Fixed at start: a 318 must not widen who is believed.
    proxy_protocol_trusted_addresses: crate::auth::address::AddressList = Default::default(), "proxyProtocolTrustedAddresses", protected = true;
    // -- memory (issue 15) --
    /// After a publish that replaced many routes, give the memory the process
    /// freed back to the OS (glibc `malloc_trim`, on its own thread), at most once
    /// per this many seconds; 0 = never (VmRSS then stays at its peak).
    memory_trim_interval_seconds: i64 = 10, "memoryTrimIntervalSeconds", protected = true;
}
