//! The server's configuration: upstream's `NamesrvConfig` + `NettyServerConfig`
//! fields plus a few of our own, driven by one table ([`FIELDS`]).
//!
//! The table gives every field its property key (upstream's Java field name), its
//! default, its parser and printer, and whether an UPDATE_NAMESRV_CONFIG (318) may
//! change it. Defaults, `-c` parsing, `-p` printing, GET_NAMESRV_CONFIG (319) and
//! 318 all go through it.
//!
//! Upstream behaviour mirrored here (see `MixAll.properties2Object`,
//! `Configuration`, `DefaultRequestProcessor.updateConfig`):
//! - keys are the Java field names (`listenPort`), values go through the setter:
//!   strings are trimmed, booleans are `true` (any case) or else `false`;
//! - 319 prints every field plus the raw `-c` properties, `key=value\n`, sorted by
//!   key, values unescaped (Java's `properties2String`);
//! - 318 reads the body with `Properties.load` (bytes as ISO-8859-1), refuses the
//!   whole update if any key is black-listed, and otherwise merges only keys that
//!   already exist (fields and raw `-c` properties), then rewrites `configStorePath`.
//!
//! Deliberate differences:
//! - a non-number for a numeric key is an error (upstream silently ignores it);
//!   numbers are trimmed before parsing (Java's `Integer.parseInt` does not trim);
//! - `rocketmqHome` may be empty (upstream exits with -2 when it is unset);
//! - on top of upstream's black list, 318 can never touch a key that names a file
//!   or reaches the process or socket binding ([`Config::is_update_protected`]),
//!   whatever `configBlackList` says;
//! - the store file is written crash-safely ([`crate::kv::write_file_durably`]),
//!   where upstream overwrites it in place;
//! - the store file is written with `java.util.Properties#store`'s escaping
//!   ([`Config::to_store_text`]), where upstream's `Configuration#persist` writes
//!   `MixAll.properties2String` unescaped: there a value holding a line break
//!   (sent as `\n`, `\r` or `\u000a` in a 318 body) became extra lines, that is
//!   other keys (a path, the listen port), after a restart, and a value such as
//!   `x\u` made the next start fail;
//! - limits are not changeable by 318 (`maxFrameLength`, the KV limits): one
//!   unauthenticated request must not lift them.

use std::collections::{BTreeMap, BTreeSet};
use std::fmt;
use std::path::{Path, PathBuf};

mod properties;
#[cfg(test)]
mod store_tests;
#[cfg(test)]
mod tests;

pub use properties::{escape_key, escape_value, parse_properties, store_text, PropertiesError};

/// How replies are serialized (`replySerializeType`, ours).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum ReplySerialize {
    /// Always JSON headers (what upstream does by default).
    #[default]
    Json,
    /// Always ROCKETMQ binary headers.
    Rocketmq,
    /// Answer in the serialization of the request.
    Mirror,
}

impl ReplySerialize {
    /// The property value: `JSON`, `ROCKETMQ` or `MIRROR`.
    pub fn name(self) -> &'static str {
        match self {
            Self::Json => "JSON",
            Self::Rocketmq => "ROCKETMQ",
            Self::Mirror => "MIRROR",
        }
    }

    /// The header serialization to use for a reply to a request serialized as
    /// `request`.
    pub fn reply_type(self, request: protocol::SerializeType) -> protocol::SerializeType {
        match self {
            Self::Json => protocol::SerializeType::Json,
            Self::Rocketmq => protocol::SerializeType::Rocketmq,
            Self::Mirror => request,
        }
    }
}

impl fmt::Display for ReplySerialize {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

impl std::str::FromStr for ReplySerialize {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, String> {
        if s.eq_ignore_ascii_case("JSON") {
            Ok(Self::Json)
        } else if s.eq_ignore_ascii_case("ROCKETMQ") {
            Ok(Self::Rocketmq)
        } else if s.eq_ignore_ascii_case("MIRROR") {
            Ok(Self::Mirror)
        } else {
            Err("expected JSON, ROCKETMQ or MIRROR".to_string())
        }
    }
}

/// What [`Config::set`] did with a key.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SetOutcome {
    /// The key is a field; its value was parsed and stored.
    Applied,
    /// No field has this key; nothing changed.
    UnknownKey,
}

/// Errors of configuration loading and setting.
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    /// A value that the key's type cannot hold.
    #[error("invalid value {value:?} for config key `{key}`: {reason}")]
    BadValue {
        key: String,
        value: String,
        reason: String,
    },
    /// The config file could not be read.
    #[error("cannot read config file {}: {source}", path.display())]
    Io {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    /// The config file is not a valid Java properties file.
    #[error("malformed config file {}: {source}", path.display())]
    Syntax {
        path: PathBuf,
        #[source]
        source: PropertiesError,
    },
    /// A key of the config file has a bad value.
    #[error("config file {}: {source}", path.display())]
    InFile {
        path: PathBuf,
        #[source]
        source: Box<ConfigError>,
    },
}

/// Why an UPDATE_NAMESRV_CONFIG (318) was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum UpdateError {
    /// The body is not a valid properties text (upstream: code 1).
    #[error("string2Properties error")]
    Parse(#[source] PropertiesError),
    /// A key of the body is black-listed (upstream: code 16); `key` is the first
    /// such key in body order.
    #[error("Can not update config in black list.")]
    BlackListed { key: String },
    /// A known key has a value its type cannot hold (ours; upstream ignores the
    /// key silently). Nothing was applied.
    #[error("invalid value {value:?} for config key `{key}`: {reason}")]
    BadValue {
        key: String,
        value: String,
        reason: String,
    },
}

impl UpdateError {
    /// The response code to answer with: 16 (NO_PERMISSION) for a black-listed
    /// key, else 1 (SYSTEM_ERROR).
    pub fn response_code(&self) -> i32 {
        match self {
            Self::BlackListed { .. } => protocol::codes::response::NO_PERMISSION,
            Self::Parse(_) | Self::BadValue { .. } => protocol::codes::response::SYSTEM_ERROR,
        }
    }
}

/// Java `String.trim`: strips every char <= U+0020 from both ends.
fn java_trim(s: &str) -> &str {
    s.trim_matches(|c: char| c <= ' ')
}

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

/// One row of the field table.
pub struct FieldSpec {
    /// The property key (upstream's Java field name).
    pub key: &'static str,
    /// True if 318 may never change it (a file path, or the process or socket
    /// binding), whatever `configBlackList` says.
    pub update_protected: bool,
    get: fn(&Config) -> String,
    set: fn(&mut Config, &str) -> Result<(), String>,
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
    /// Milliseconds between scans for expired brokers.
    scan_not_active_broker_interval: i64 = 5000, "scanNotActiveBrokerInterval", protected = false;
    un_register_broker_queue_capacity: i32 = 3000, "unRegisterBrokerQueueCapacity", protected = false;
    support_acting_master: bool = false, "supportActingMaster", protected = false;
    enable_all_topic_list: bool = true, "enableAllTopicList", protected = false;
    enable_topic_list: bool = true, "enableTopicList", protected = false;
    notify_min_broker_id_changed: bool = false, "notifyMinBrokerIdChanged", protected = false;
    /// Embedded controller (not supported; kept for compatibility).
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
    /// SO_SNDBUF; 0 = OS default.
    server_socket_snd_buf_size: i32 = 0, "serverSocketSndBufSize", protected = false;
    /// SO_RCVBUF; 0 = OS default.
    server_socket_rcv_buf_size: i32 = 0, "serverSocketRcvBufSize", protected = false;
    /// 0 = default.
    write_buffer_high_water_mark: i32 = 0, "writeBufferHighWaterMark", protected = false;
    /// 0 = default.
    write_buffer_low_water_mark: i32 = 0, "writeBufferLowWaterMark", protected = false;
    server_socket_backlog: i32 = 1024, "serverSocketBacklog", protected = false;
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
    /// Open connections from one source IP address; 0 = no limit.
    max_connections_per_address: usize = 1000, "maxConnectionsPerAddress", protected = true;
    /// Milliseconds within which a started frame must arrive whole; 0 = no deadline.
    frame_read_timeout_millis: usize = 60_000, "frameReadTimeoutMillis", protected = true;
    /// Bytes of incomplete frames all connections together may hold; a connection
    /// whose frame would exceed it is closed. 0 = no limit.
    max_incomplete_frame_bytes: usize = 268_435_456, "maxIncompleteFrameBytes", protected = true;
}

/// The keys upstream always black-lists for 318.
const UPSTREAM_BLACK_LIST: [&str; 4] = [
    "configBlackList",
    "configStorePath",
    "kvConfigPath",
    "rocketmqHome",
];

fn field(key: &str) -> Option<&'static FieldSpec> {
    FIELDS.iter().find(|f| f.key == key)
}

impl Config {
    /// The field table row for `key`, if `key` is a field.
    pub fn field(key: &str) -> Option<&'static FieldSpec> {
        field(key)
    }

    /// The printed value of field `key`, or the raw property `key`.
    pub fn get(&self, key: &str) -> Option<String> {
        match field(key) {
            Some(f) => Some((f.get)(self)),
            None => self.raw_properties.get(key).cloned(),
        }
    }

    /// Sets field `key` from a property value (trimmed first). Unknown keys change
    /// nothing and give [`SetOutcome::UnknownKey`].
    pub fn set(&mut self, key: &str, value: &str) -> Result<SetOutcome, ConfigError> {
        let Some(f) = field(key) else {
            return Ok(SetOutcome::UnknownKey);
        };
        let trimmed = java_trim(value);
        (f.set)(self, trimmed).map_err(|reason| ConfigError::BadValue {
            key: key.to_string(),
            value: value.to_string(),
            reason,
        })?;
        Ok(SetOutcome::Applied)
    }

    /// Loads a `-c` file: the defaults, then every property of the file. Unknown
    /// keys are warned about and kept in `raw_properties`; `config_store_path`
    /// becomes `path` (so 318 rewrites this file, as upstream).
    pub fn load_file(path: &Path) -> Result<Config, ConfigError> {
        let bytes = std::fs::read(path).map_err(|source| ConfigError::Io {
            path: path.to_path_buf(),
            source,
        })?;
        let props = parse_properties(&bytes).map_err(|source| ConfigError::Syntax {
            path: path.to_path_buf(),
            source,
        })?;
        let mut config = Config::default();
        // A repeated key: the last one wins (a Hashtable put).
        let props: BTreeMap<String, String> = props.into_iter().collect();
        for (key, value) in props {
            match config.set(&key, &value) {
                Ok(SetOutcome::Applied) => {}
                Ok(SetOutcome::UnknownKey) => {
                    tracing::warn!(
                        key = %key,
                        file = %path.display(),
                        "unknown config key; kept as a raw property"
                    );
                    config.raw_properties.insert(key, value);
                }
                Err(e) => {
                    return Err(ConfigError::InFile {
                        path: path.to_path_buf(),
                        source: Box::new(e),
                    })
                }
            }
        }
        config.config_store_path = path.to_string_lossy().into_owned();
        Ok(config)
    }

    /// Every field and raw property, sorted by key.
    fn all_properties(&self) -> BTreeMap<&str, String> {
        let mut all: BTreeMap<&str, String> = self
            .raw_properties
            .iter()
            .map(|(k, v)| (k.as_str(), v.clone()))
            .collect();
        for f in FIELDS {
            all.insert(f.key, (f.get)(self));
        }
        all
    }

    /// Every field and raw property as `key=value\n`, sorted by key; values are
    /// written as they are (no escaping), like Java's `MixAll.properties2String`.
    /// Used for 319 and `-p` only: it cannot be read back faithfully (see
    /// [`Config::to_store_text`] for the file).
    pub fn to_properties_text(&self) -> String {
        let mut out = String::new();
        for (k, v) in self.all_properties() {
            out.push_str(k);
            out.push('=');
            out.push_str(&v);
            out.push('\n');
        }
        out
    }

    /// The store file's text: every field and raw property, sorted by key,
    /// escaped as `java.util.Properties#store` does ([`store_text`]), so that
    /// [`Config::load_file`] on it gives back exactly this configuration (with
    /// `config_store_path` set to the file read).
    pub fn to_store_text(&self) -> String {
        let all = self.all_properties();
        store_text(all.iter().map(|(k, v)| (*k, v.as_str())))
    }

    /// True if no 318 may change `key`, whatever `configBlackList` says: the
    /// fields marked protected (file paths, `configBlackList`, `bindAddress`,
    /// `listenPort`, `cores`, the limits) and, for keys we do not know (raw `-c` properties of
    /// other components), any key whose name mentions a path, directory, home or
    /// file.
    pub fn is_update_protected(key: &str) -> bool {
        if let Some(f) = field(key) {
            return f.update_protected;
        }
        let lower = key.to_ascii_lowercase();
        ["path", "dir", "home", "file"]
            .iter()
            .any(|w| lower.contains(w))
    }

    /// The keys 318 refuses by name: upstream's fixed four plus the entries of
    /// `config_black_list` (split on `;` and `,`, trimmed). Our protected keys
    /// ([`Config::is_update_protected`]) are refused on top of these.
    pub fn update_black_list(&self) -> BTreeSet<String> {
        let mut set: BTreeSet<String> = UPSTREAM_BLACK_LIST.iter().map(|s| s.to_string()).collect();
        for entry in self.config_black_list.split([';', ',']) {
            let entry = entry.trim();
            if !entry.is_empty() {
                set.insert(entry.to_string());
            }
        }
        set
    }

    /// Applies an UPDATE_NAMESRV_CONFIG (318) body. The body is read as a
    /// properties text (ISO-8859-1). Refused as a whole if a key is black-listed
    /// or protected, or if a known key has a bad value; otherwise the keys that
    /// already exist (fields and raw `-c` properties) are set and the others are
    /// ignored. Returns whether any value changed. The caller then persists
    /// ([`Config::persist`]); upstream persists after every accepted update, even
    /// one that changed nothing.
    pub fn apply_update(&mut self, body: &[u8]) -> Result<bool, UpdateError> {
        let props = parse_properties(body).map_err(UpdateError::Parse)?;
        let black = self.update_black_list();
        if let Some((key, _)) = props
            .iter()
            .find(|(k, _)| black.contains(k) || Config::is_update_protected(k))
        {
            return Err(UpdateError::BlackListed { key: key.clone() });
        }
        let props: BTreeMap<String, String> = props.into_iter().collect();
        // Validate on a copy so a bad value leaves `self` untouched.
        let mut next = self.clone();
        for (key, value) in &props {
            match next.set(key, value) {
                Ok(SetOutcome::Applied) => {}
                Ok(SetOutcome::UnknownKey) => {
                    if let Some(raw) = next.raw_properties.get_mut(key) {
                        raw.clone_from(value);
                    } else {
                        tracing::debug!(key = %key, "318: unknown config key ignored");
                    }
                }
                Err(ConfigError::BadValue { key, value, reason }) => {
                    return Err(UpdateError::BadValue { key, value, reason })
                }
                Err(other) => {
                    return Err(UpdateError::BadValue {
                        key: key.clone(),
                        value: value.clone(),
                        reason: other.to_string(),
                    })
                }
            }
        }
        let changed = next != *self;
        if changed {
            for key in props.keys() {
                let before = self.get(key);
                let after = next.get(key);
                if before != after {
                    tracing::info!(key = %key, from = ?before, to = ?after, "config updated");
                }
            }
        }
        *self = next;
        Ok(changed)
    }

    /// Writes [`Config::to_store_text`] to `config_store_path`, keeping the
    /// previous file as `<path>.bak` (blocking; see
    /// [`crate::kv::write_file_durably`]).
    pub fn persist(&self) -> std::io::Result<()> {
        crate::kv::write_file_durably(
            Path::new(&self.config_store_path),
            self.to_store_text().as_bytes(),
        )
    }
}
