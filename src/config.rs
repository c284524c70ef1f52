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
//!   where upstream overwrites it in place.

use std::collections::{BTreeMap, BTreeSet};
use std::fmt;
use std::path::{Path, PathBuf};

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

/// A `java.util.Properties.load` failure.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PropertiesError {
    /// A `\u` escape not followed by four hex digits (Java's message).
    #[error("Malformed \\uxxxx encoding. (line {line})")]
    MalformedUnicodeEscape { line: usize },
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
    /// Largest accepted frame, in bytes.
    max_frame_length: usize = 16_777_216, "maxFrameLength", protected = false;
    /// Header serialization of replies.
    reply_serialize: ReplySerialize = ReplySerialize::Json, "replySerializeType", protected = false;
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

    /// Every field and raw property as `key=value\n`, sorted by key; values are
    /// written as they are (no escaping), like Java's `properties2String`. Used
    /// for 319, `-p` and the store file.
    pub fn to_properties_text(&self) -> String {
        let mut all: BTreeMap<&str, String> = self
            .raw_properties
            .iter()
            .map(|(k, v)| (k.as_str(), v.clone()))
            .collect();
        for f in FIELDS {
            all.insert(f.key, (f.get)(self));
        }
        let mut out = String::new();
        for (k, v) in all {
            out.push_str(k);
            out.push('=');
            out.push_str(&v);
            out.push('\n');
        }
        out
    }

    /// True if no 318 may change `key`, whatever `configBlackList` says: the
    /// fields marked protected (file paths, `configBlackList`, `bindAddress`,
    /// `listenPort`, `cores`) and, for keys we do not know (raw `-c` properties of
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

    /// Writes [`Config::to_properties_text`] to `config_store_path`, keeping the
    /// previous file as `<path>.bak` (blocking; see
    /// [`crate::kv::write_file_durably`]).
    pub fn persist(&self) -> std::io::Result<()> {
        crate::kv::write_file_durably(
            Path::new(&self.config_store_path),
            self.to_properties_text().as_bytes(),
        )
    }
}

/// Parses a Java properties text the way `java.util.Properties.load(InputStream)`
/// does: bytes are ISO-8859-1; `#`/`!` comment lines; `=`, `:` or whitespace
/// between key and value; backslash escapes (`\t \n \r \f \uXXXX`, any other
/// char stands for itself); a line ending in an odd number of backslashes
/// continues on the next one, whose leading whitespace is skipped. Returns the
/// pairs in file order (a repeated key appears twice; the last one wins in Java).
pub fn parse_properties(bytes: &[u8]) -> Result<Vec<(String, String)>, PropertiesError> {
    // ISO-8859-1: every byte is the char of the same number.
    let chars: Vec<char> = bytes.iter().map(|&b| char::from(b)).collect();
    let mut out = Vec::new();
    let mut reader = LineReader {
        chars: &chars,
        pos: 0,
        line: 1,
    };
    while let Some((start_line, logical)) = reader.next_logical_line() {
        let (key, value) = split_key_value(&logical);
        let key =
            unescape(key).ok_or(PropertiesError::MalformedUnicodeEscape { line: start_line })?;
        let value =
            unescape(value).ok_or(PropertiesError::MalformedUnicodeEscape { line: start_line })?;
        out.push((key, value));
    }
    Ok(out)
}

fn is_prop_ws(c: char) -> bool {
    c == ' ' || c == '\t' || c == '\x0c'
}

/// Java's `Properties.LineReader` (JDK 9+ behaviour, checked against JDK 17):
/// yields logical lines with comments and blank lines dropped, continuations
/// joined, escapes still in place.
struct LineReader<'a> {
    chars: &'a [char],
    pos: usize,
    /// 1-based number of the natural line at `pos`, for messages.
    line: usize,
}

impl LineReader<'_> {
    /// The next char, counting natural lines (`\r\n` counts once).
    fn next_char(&mut self) -> Option<char> {
        let c = *self.chars.get(self.pos)?;
        self.pos += 1;
        if c == '\n' || (c == '\r' && self.chars.get(self.pos) != Some(&'\n')) {
            self.line += 1;
        }
        Some(c)
    }

    fn next_logical_line(&mut self) -> Option<(usize, Vec<char>)> {
        let mut buf: Vec<char> = Vec::new();
        let mut skip_ws = true;
        let mut appended_line_begin = false;
        let mut preceding_backslash = false;
        let mut skip_lf = false;
        let mut start_line = self.line;
        loop {
            let Some(c) = self.next_char() else {
                // End of input.
                if buf.is_empty() {
                    return None;
                }
                if preceding_backslash {
                    buf.pop();
                }
                return Some((start_line, buf));
            };
            if skip_lf {
                skip_lf = false;
                if c == '\n' {
                    continue;
                }
            }
            if skip_ws {
                if is_prop_ws(c) {
                    continue;
                }
                if !appended_line_begin && (c == '\r' || c == '\n') {
                    continue;
                }
                skip_ws = false;
                appended_line_begin = false;
            }
            // Nothing kept yet on this logical line (also right after a
            // continuation of a line that held only the backslash): a comment.
            if buf.is_empty() && (c == '#' || c == '!') {
                while let Some(d) = self.next_char() {
                    if d == '\r' || d == '\n' {
                        break;
                    }
                }
                skip_ws = true;
                continue;
            }
            if c != '\n' && c != '\r' {
                if buf.is_empty() {
                    start_line = self.line;
                }
                buf.push(c);
                if c == '\\' {
                    preceding_backslash = !preceding_backslash;
                } else {
                    preceding_backslash = false;
                }
                continue;
            }
            // End of a natural line.
            if buf.is_empty() {
                skip_ws = true;
                continue;
            }
            if self.pos >= self.chars.len() {
                if preceding_backslash {
                    buf.pop();
                }
                return Some((start_line, buf));
            }
            if preceding_backslash {
                // Continuation: drop the backslash, skip the next line's indent.
                buf.pop();
                skip_ws = true;
                appended_line_begin = true;
                preceding_backslash = false;
                if c == '\r' {
                    skip_lf = true;
                }
            } else {
                return Some((start_line, buf));
            }
        }
    }
}

/// Splits a logical line into its (still escaped) key and value, as `load0`.
fn split_key_value(line: &[char]) -> (&[char], &[char]) {
    let limit = line.len();
    let mut key_len = 0;
    let mut value_start = limit;
    let mut has_sep = false;
    let mut preceding_backslash = false;
    while key_len < limit {
        let c = line[key_len];
        if (c == '=' || c == ':') && !preceding_backslash {
            value_start = key_len + 1;
            has_sep = true;
            break;
        } else if is_prop_ws(c) && !preceding_backslash {
            value_start = key_len + 1;
            break;
        }
        if c == '\\' {
            preceding_backslash = !preceding_backslash;
        } else {
            preceding_backslash = false;
        }
        key_len += 1;
    }
    while value_start < limit {
        let c = line[value_start];
        if !is_prop_ws(c) {
            if !has_sep && (c == '=' || c == ':') {
                has_sep = true;
            } else {
                break;
            }
        }
        value_start += 1;
    }
    (&line[..key_len], &line[value_start..])
}

/// Java's `loadConvert`. Works on UTF-16 units so `\uD83D\uDE00` pairs up; `None`
/// on a malformed `\u` escape.
fn unescape(s: &[char]) -> Option<String> {
    let mut units: Vec<u16> = Vec::with_capacity(s.len());
    let mut i = 0;
    while i < s.len() {
        let c = s[i];
        i += 1;
        if c != '\\' {
            let mut tmp = [0u16; 2];
            units.extend_from_slice(c.encode_utf16(&mut tmp));
            continue;
        }
        let Some(&e) = s.get(i) else {
            // A lone trailing backslash cannot survive the line reader; drop it.
            break;
        };
        i += 1;
        let unit = match e {
            'u' => {
                let mut v: u16 = 0;
                for _ in 0..4 {
                    let d = s.get(i)?.to_digit(16)?;
                    i += 1;
                    v = (v << 4) | d as u16;
                }
                v
            }
            't' => '\t' as u16,
            'r' => '\r' as u16,
            'n' => '\n' as u16,
            'f' => 0x0c,
            other => {
                let mut tmp = [0u16; 2];
                units.extend_from_slice(other.encode_utf16(&mut tmp));
                continue;
            }
        };
        units.push(unit);
    }
    Some(String::from_utf16_lossy(&units))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn props(text: &str) -> Vec<(String, String)> {
        parse_properties(text.as_bytes()).expect("parse")
    }

    fn pair(k: &str, v: &str) -> (String, String) {
        (k.to_string(), v.to_string())
    }

    #[test]
    fn separators_and_whitespace() {
        assert_eq!(
            props("a=1\nb:2\nc 3\n  d  =  4  \ne\tf\ng : = h\ni\n"),
            vec![
                pair("a", "1"),
                pair("b", "2"),
                pair("c", "3"),
                pair("d", "4  "),
                pair("e", "f"),
                pair("g", "= h"),
                pair("i", ""),
            ]
        );
        // Whitespace then `=`: one separator; a second `=` belongs to the value.
        assert_eq!(props("k  ==v"), vec![pair("k", "=v")]);
        assert_eq!(props("k value=x"), vec![pair("k", "value=x")]);
    }

    #[test]
    fn comments_and_blank_lines() {
        assert_eq!(
            props("# c1\n! c2\n   # indented\n\n   \nk=v # not a comment\n"),
            vec![pair("k", "v # not a comment")]
        );
        // A comment ending in a backslash does not continue.
        assert_eq!(props("# c \\\nk=v"), vec![pair("k", "v")]);
        // After a continuation of a line that held only the backslash, `#`
        // starts a comment (JDK 9+).
        assert_eq!(props("\\\n  # c\nk=v"), vec![pair("k", "v")]);
    }

    #[test]
    fn escapes() {
        assert_eq!(
            props(r"a\=b\:c\ d=x\ty\nz\\w\q\u0041\u00e9"),
            vec![pair("a=b:c d", "x\ty\nz\\wqA\u{e9}")]
        );
        assert_eq!(props(r"k=\uD83D\uDE00"), vec![pair("k", "\u{1F600}")]);
        assert_eq!(props(r"k=\f\r"), vec![pair("k", "\x0c\r")]);
        assert_eq!(
            parse_properties(br"k=\u00G1"),
            Err(PropertiesError::MalformedUnicodeEscape { line: 1 })
        );
        assert_eq!(
            parse_properties(b"a=1\nk=\\u12"),
            Err(PropertiesError::MalformedUnicodeEscape { line: 2 })
        );
    }

    #[test]
    fn continuations() {
        assert_eq!(
            props("k=a\\\n    b\\\r\n\tc\\\r  d\nx=1"),
            vec![pair("k", "abcd"), pair("x", "1")]
        );
        // An even number of backslashes does not continue.
        assert_eq!(
            props("k=a\\\\\nx=1"),
            vec![pair("k", "a\\"), pair("x", "1")]
        );
        // `#` at the start of a continuation line is data.
        assert_eq!(props("k=a\\\n  #b"), vec![pair("k", "a#b")]);
        // A continuation into an empty line ends the value.
        assert_eq!(props("k=a\\\n\nx=1"), vec![pair("k", "a"), pair("x", "1")]);
        // A trailing backslash at the end of input is dropped.
        assert_eq!(props("k=a\\"), vec![pair("k", "a")]);
        assert_eq!(props("k=a\\\n"), vec![pair("k", "a")]);
        // The key itself may continue.
        assert_eq!(props("ke\\\n  y=v"), vec![pair("key", "v")]);
    }

    #[test]
    fn iso_8859_1_bytes() {
        assert_eq!(
            parse_properties(b"k=caf\xe9").expect("parse"),
            vec![pair("k", "caf\u{e9}")]
        );
        // UTF-8 bytes are read as two Latin-1 chars each, as Java does.
        assert_eq!(
            parse_properties("k=é".as_bytes()).expect("parse"),
            vec![pair("k", "\u{c3}\u{a9}")]
        );
    }

    #[test]
    fn crlf_and_cr_line_ends() {
        assert_eq!(
            props("a=1\r\nb=2\rc=3"),
            vec![pair("a", "1"), pair("b", "2"), pair("c", "3")]
        );
    }

    #[test]
    fn defaults_printed_sorted() {
        let c = Config::default();
        let text = c.to_properties_text();
        let keys: Vec<&str> = text
            .lines()
            .map(|l| l.split_once('=').map(|(k, _)| k).unwrap_or(l))
            .collect();
        let mut sorted = keys.clone();
        sorted.sort();
        assert_eq!(keys, sorted);
        assert_eq!(keys.len(), FIELDS.len());
        for line in [
            "listenPort=9876",
            "bindAddress=0.0.0.0",
            "serverSocketBacklog=1024",
            "scanNotActiveBrokerInterval=5000",
            "serverChannelMaxIdleTimeSeconds=120",
            "returnOrderTopicConfigToBroker=true",
            "orderMessageEnable=false",
            "configBlackList=configBlackList;configStorePath;kvConfigPath",
            "productEnvName=center",
            "waitSecondsForService=45",
            "maxFrameLength=16777216",
            "replySerializeType=JSON",
            "cores=0",
        ] {
            assert!(text.lines().any(|l| l == line), "missing {line}");
        }
        assert!(c.kv_config_path.ends_with("namesrv/kvConfig.json"));
        assert!(c.config_store_path.ends_with("namesrv/namesrv.properties"));
        assert!(text.ends_with('\n'));
    }

    #[test]
    fn field_keys_unique() {
        let mut keys: Vec<&str> = FIELDS.iter().map(|f| f.key).collect();
        keys.sort();
        keys.dedup();
        assert_eq!(keys.len(), FIELDS.len());
    }

    #[test]
    fn set_parses_like_java() {
        let mut c = Config::default();
        assert_eq!(
            c.set("listenPort", " 9877 ").ok(),
            Some(SetOutcome::Applied)
        );
        assert_eq!(c.listen_port, 9877);
        assert_eq!(c.set("clusterTest", "TRUE").ok(), Some(SetOutcome::Applied));
        assert!(c.cluster_test);
        c.set("clusterTest", "yes").expect("bool");
        assert!(!c.cluster_test);
        c.set("productEnvName", "  test \t").expect("string");
        assert_eq!(c.product_env_name, "test");
        c.set("replySerializeType", "mirror").expect("enum");
        assert_eq!(c.reply_serialize, ReplySerialize::Mirror);
        c.set("scanNotActiveBrokerInterval", "-1").expect("long");
        assert_eq!(c.scan_not_active_broker_interval, -1);
        assert_eq!(c.set("noSuchKey", "1").ok(), Some(SetOutcome::UnknownKey));
    }

    #[test]
    fn bad_value_names_key() {
        let mut c = Config::default();
        let err = c.set("serverWorkerThreads", "eight").unwrap_err();
        let msg = err.to_string();
        assert!(msg.contains("serverWorkerThreads"), "{msg}");
        assert!(msg.contains("eight"), "{msg}");
        assert!(matches!(err, ConfigError::BadValue { .. }));
        assert!(c.set("listenPort", "70000").is_err());
        assert!(c.set("replySerializeType", "XML").is_err());
        assert_eq!(c.server_worker_threads, 8);
    }

    #[test]
    fn load_file_applies_keeps_unknown_and_sets_store_path() {
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("namesrv.conf");
        std::fs::write(
            &path,
            "# test\nlistenPort = 9877\norderMessageEnable=true\nclientWorkerThreads=4\nkvConfigPath=/tmp/x/kv.json\n",
        )
        .expect("write");
        let c = Config::load_file(&path).expect("load");
        assert_eq!(c.listen_port, 9877);
        assert!(c.order_message_enable);
        assert_eq!(c.kv_config_path, "/tmp/x/kv.json");
        assert_eq!(c.config_store_path, path.to_string_lossy());
        assert_eq!(
            c.raw_properties
                .get("clientWorkerThreads")
                .map(String::as_str),
            Some("4")
        );
        let text = c.to_properties_text();
        assert!(text.contains("\nclientWorkerThreads=4\n"), "{text}");
        assert!(text.contains("\nlistenPort=9877\n"), "{text}");
    }

    #[test]
    fn load_file_bad_value_names_key_and_file() {
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("bad.properties");
        std::fs::write(&path, "listenPort=abc\n").expect("write");
        let msg = Config::load_file(&path).unwrap_err().to_string();
        assert!(msg.contains("listenPort"), "{msg}");
        assert!(msg.contains("bad.properties"), "{msg}");

        let missing = dir.path().join("missing.properties");
        let msg = Config::load_file(&missing).unwrap_err().to_string();
        assert!(msg.contains("missing.properties"), "{msg}");

        std::fs::write(&path, "k=\\uZZZZ\n").expect("write");
        let msg = Config::load_file(&path).unwrap_err().to_string();
        assert!(
            msg.contains("bad.properties") && msg.contains("uxxxx"),
            "{msg}"
        );
    }

    #[test]
    fn update_black_list_upstream_keys() {
        for key in [
            "configBlackList",
            "configStorePath",
            "kvConfigPath",
            "rocketmqHome",
        ] {
            let mut c = Config::default();
            let before = c.clone();
            let err = c
                .apply_update(format!("{key}=/x\n").as_bytes())
                .unwrap_err();
            assert_eq!(
                err,
                UpdateError::BlackListed {
                    key: key.to_string()
                }
            );
            assert_eq!(err.response_code(), 16);
            assert_eq!(err.to_string(), "Can not update config in black list.");
            assert_eq!(c, before);
        }
    }

    #[test]
    fn update_black_list_ours_and_configured() {
        for key in [
            "bindAddress",
            "listenPort",
            "cores",
            "someStorePathDir",
            "logHome",
        ] {
            let mut c = Config::default();
            let err = c.apply_update(format!("{key}=1\n").as_bytes()).unwrap_err();
            assert!(matches!(err, UpdateError::BlackListed { .. }), "{key}");
        }
        // Entries of configBlackList, `;` or `,` separated.
        let mut c = Config::default();
        c.set(
            "configBlackList",
            "orderMessageEnable; clusterTest,waitSecondsForService",
        )
        .expect("set");
        for key in ["orderMessageEnable", "clusterTest", "waitSecondsForService"] {
            let err = c
                .apply_update(format!("{key}=true\n").as_bytes())
                .unwrap_err();
            assert!(matches!(err, UpdateError::BlackListed { .. }), "{key}");
        }
        // One black-listed key refuses the whole update.
        let err = c
            .apply_update(b"enableTopicList=false\norderMessageEnable=true\n")
            .unwrap_err();
        assert!(matches!(err, UpdateError::BlackListed { .. }));
        assert!(c.enable_topic_list);
    }

    #[test]
    fn path_keys_protected_even_with_empty_black_list() {
        let mut c = Config::default();
        c.set("configBlackList", "").expect("set");
        for key in [
            "configBlackList",
            "configStorePath",
            "kvConfigPath",
            "rocketmqHome",
            "bindAddress",
            "listenPort",
            "cores",
        ] {
            let err = c
                .apply_update(format!("{key}=/tmp/evil\n").as_bytes())
                .unwrap_err();
            assert!(matches!(err, UpdateError::BlackListed { .. }), "{key}");
        }
        // Emptying the list in the same update is itself refused.
        let err = c
            .apply_update(b"configBlackList=\nkvConfigPath=/tmp/evil\n")
            .unwrap_err();
        assert!(matches!(err, UpdateError::BlackListed { .. }));
        assert!(c.kv_config_path.ends_with("kvConfig.json"));
    }

    #[test]
    fn update_merges_only_existing_keys() {
        let mut c = Config::default();
        c.raw_properties
            .insert("clientWorkerThreads".to_string(), "4".to_string());
        let changed = c
            .apply_update(b"orderMessageEnable=true\nnoSuchKey=1\nclientWorkerThreads=6\n")
            .expect("update");
        assert!(changed);
        assert!(c.order_message_enable);
        assert!(!c.raw_properties.contains_key("noSuchKey"));
        assert_eq!(c.get("clientWorkerThreads").as_deref(), Some("6"));
        assert!(!c.to_properties_text().contains("noSuchKey"));
        // Same values again: nothing changes.
        let changed = c
            .apply_update(b"orderMessageEnable=true\n")
            .expect("update");
        assert!(!changed);
        // Empty body.
        assert_eq!(c.apply_update(b""), Ok(false));
    }

    #[test]
    fn update_bad_value_applies_nothing() {
        let mut c = Config::default();
        let before = c.clone();
        let err = c
            .apply_update(b"orderMessageEnable=true\nserverWorkerThreads=lots\n")
            .unwrap_err();
        assert!(
            matches!(err, UpdateError::BadValue { ref key, .. } if key == "serverWorkerThreads")
        );
        assert_eq!(err.response_code(), 1);
        assert_eq!(c, before);
    }

    #[test]
    fn update_parse_error() {
        let mut c = Config::default();
        let err = c.apply_update(b"k=\\u12").unwrap_err();
        assert!(matches!(err, UpdateError::Parse(_)));
        assert_eq!(err.response_code(), 1);
    }

    #[test]
    fn persist_round_trip_keeps_bak() {
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("conf").join("namesrv.properties");
        let mut c = Config {
            config_store_path: path.to_string_lossy().into_owned(),
            ..Config::default()
        };
        c.raw_properties
            .insert("extra".to_string(), "1".to_string());
        c.persist().expect("persist");
        let first = std::fs::read_to_string(&path).expect("read");
        assert_eq!(first, c.to_properties_text());
        assert!(!Path::new(&format!("{}.bak", path.display())).exists());

        c.apply_update(b"waitSecondsForService=7\n")
            .expect("update");
        c.persist().expect("persist");
        let bak = std::fs::read_to_string(format!("{}.bak", path.display())).expect("bak");
        assert_eq!(bak, first);
        let loaded = Config::load_file(&path).expect("reload");
        assert_eq!(loaded.wait_seconds_for_service, 7);
        assert_eq!(
            loaded.raw_properties.get("extra").map(String::as_str),
            Some("1")
        );
        assert_eq!(loaded.to_properties_text(), c.to_properties_text());
    }

    #[test]
    fn reply_serialize_mirror() {
        use protocol::SerializeType;
        assert_eq!(
            ReplySerialize::Mirror.reply_type(SerializeType::Rocketmq),
            SerializeType::Rocketmq
        );
        assert_eq!(
            ReplySerialize::Json.reply_type(SerializeType::Rocketmq),
            SerializeType::Json
        );
        assert_eq!(
            ReplySerialize::Rocketmq.reply_type(SerializeType::Json),
            SerializeType::Rocketmq
        );
    }
}
