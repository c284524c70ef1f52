//! Scenario files: what the simulated brokers and clients do.
//!
//! A scenario is TOML (see `loadgen/scenarios/`). Every field has a default, so a
//! file only states what differs. `--set section.key=value` overrides a field and
//! `--scale F` shrinks or grows the population (brokers, topics, clients, churn).

use serde::{Deserialize, Serialize};

use crate::error::{Error, Result};
use crate::units::Dur;

/// The built-in scenarios, by name (the files of `loadgen/scenarios/`).
pub const BUILTIN: &[(&str, &str)] = &[
    ("smoke", include_str!("../scenarios/smoke.toml")),
    ("production", include_str!("../scenarios/production.toml")),
    (
        "broker-storm",
        include_str!("../scenarios/broker-storm.toml"),
    ),
    ("max-lookup", include_str!("../scenarios/max-lookup.toml")),
    ("churn-soak", include_str!("../scenarios/churn-soak.toml")),
    ("estate-10k", include_str!("../scenarios/estate-10k.toml")),
];

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Scenario {
    pub name: String,
    pub description: String,
    /// Length of the measured window (after startup and warm-up).
    pub duration: Dur,
    /// Client traffic before the window opens (not counted).
    pub warmup: Dur,
    /// How long after a broker change a mismatching route is tolerated
    /// ("in transition") instead of counted as an error.
    pub settle: Dur,
    /// Multiplies every period (register, heartbeat, refresh, cluster info):
    /// 0.1 makes a 30 s period 3 s.
    pub time_scale: f64,
    /// Prefix of every cluster, broker and topic name; empty = a random one per
    /// run, so runs against a long-lived server never see each other's data.
    pub name_prefix: String,
    pub seed: u64,
    /// Check every reply's contents (routes against what the brokers registered,
    /// a slave's `masterAddr`, cluster info). `false` only checks response codes:
    /// for ceiling runs against a server that answers with a fixed body (the
    /// `echo_limit` example), never for claims about a name server.
    pub verify: bool,
    /// After the startup registrations, look routes up until they are served:
    /// `"off"`, `"brokers"` (each broker's own broker-name topic, registered in
    /// the same request as its other topics), `"full"` (`brokers`, then one
    /// untimed pass over every user topic) or `"all"` (every user topic,
    /// timed). The time from the first registration to the last correct route
    /// is `startup.served_secs`.
    pub sweep: Sweep,
    pub brokers: Brokers,
    pub topics: Topics,
    pub clients: Clients,
    pub churn: Churn,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Heartbeat {
    None,
    #[serde(rename = "904")]
    BrokerHeartbeat,
    #[serde(rename = "322")]
    QueryDataVersion,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Sweep {
    Off,
    /// Each broker's own broker-name topic (timed).
    Brokers,
    /// `brokers`, then one untimed pass over every user topic.
    Full,
    /// Every user topic (timed).
    All,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum OnExit {
    /// Drop the connections (the server unregisters on close).
    Close,
    /// Send UNREGISTER_BROKER (104) first, as a clean shutdown does.
    Unregister,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Brokers {
    pub clusters: u32,
    /// Broker groups (broker names) across all clusters; each has one master.
    pub groups: u32,
    /// Slaves per group (broker ids 1..=slaves).
    pub slaves: u32,
    /// Full re-registration period (real brokers: 30 s).
    pub register_period: Dur,
    /// Every group re-registers at the same instant (a broker storm) instead of
    /// at a random phase.
    pub aligned: bool,
    /// zlib-compressed bodies (`compressed=true`, 4.x style) instead of plain JSON.
    pub compressed: bool,
    /// The request `version` brokers send (479 = 5.3.3).
    pub version: i32,
    /// Send the `enableActingMaster=false` header as 5.x brokers do (false = 4.x).
    pub acting_master_header: bool,
    pub heartbeat: Heartbeat,
    pub heartbeat_period: Dur,
    /// Heartbeats are oneway (as brokers send them); false = wait for replies.
    pub heartbeat_oneway: bool,
    /// `heartbeatTimeoutMillis` header.
    pub heartbeat_timeout: Dur,
    /// Data-version changes (a topic's queue count changes, the broker
    /// re-registers) per second, across all groups.
    pub data_changes_per_sec: f64,
    /// GET_BROKER_CLUSTER_INFO (106) per broker; 0 = off (real brokers: 5 s).
    pub cluster_info_period: Dur,
    /// Initial registrations in flight at once.
    pub startup_concurrency: u32,
    /// How long the startup registrations (and the route sweep) may take
    /// before the run goes on without the stragglers (a 10,000-broker startup
    /// is itself a storm).
    pub startup_timeout: Dur,
    pub request_timeout: Dur,
    pub on_exit: OnExit,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Topics {
    /// User topics (queried by clients).
    pub count: u32,
    /// Groups of one cluster each topic lives on.
    pub groups_per_topic: u32,
    /// Queue counts to pick from (read = write).
    pub queues: Vec<i32>,
    pub name_prefix: String,
    /// Names are padded to a random length in this range (`[0, 0]` = no padding).
    pub name_len: [usize; 2],
    /// Also register the shared system topics real brokers carry (TBW102,
    /// SCHEDULE_TOPIC_XXXX, ...). Cluster-name topics are always there.
    pub system_topics: bool,
    /// Each group also carries its own broker-name topic (`brokerTopicEnable`,
    /// on by default in `BrokerConfig`). Off, the groups of a cluster that host
    /// the same topics send byte-identical bodies, so loadgen encodes and keeps
    /// one body for all of them (the `estate-10k` scenario).
    pub broker_topics: bool,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum ClientMode {
    /// Each logical client refreshes its topics every period (open loop).
    Open,
    /// C connections x P requests in flight, as fast as the server answers.
    Closed,
    Off,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum HeaderKind {
    Json,
    Binary,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum TargetMode {
    /// Each client talks to one target (round robin), as Java clients do.
    Split,
    /// Every target gets the full client load.
    Each,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Clients {
    pub mode: ClientMode,
    /// Logical clients (producers/consumers).
    pub count: u32,
    pub topics_per_client: u32,
    /// Route refresh period (real clients: 30 s).
    pub refresh_period: Dur,
    /// Zipf exponent of topic popularity (0 = uniform).
    pub zipf: f64,
    /// Connections the logical clients are multiplexed over (per target in
    /// `each` mode).
    pub connections: u32,
    pub header: HeaderKind,
    /// Request version: >= 401 gets standard JSON, below gets the legacy dialect.
    pub version: i32,
    /// Send `acceptStandardJsonOnly=true` (as some Go/Rust clients do).
    pub accept_standard_json: bool,
    pub target_mode: TargetMode,
    pub request_timeout: Dur,
    /// Closed loop: connections per target.
    pub closed_connections: u32,
    /// Closed loop: requests in flight per connection.
    pub closed_in_flight: u32,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Churn {
    /// Broker processes that crash (connection dropped) per minute.
    pub crashes_per_min: f64,
    /// Broker processes that shut down cleanly (104) per minute.
    pub shutdowns_per_min: f64,
    /// A churned broker rejoins after this long.
    pub down_time: Dur,
    /// Masters may churn too (otherwise slaves only).
    pub masters: bool,
}

impl Default for Scenario {
    fn default() -> Self {
        Scenario {
            name: "custom".into(),
            description: String::new(),
            duration: Dur::secs(10),
            warmup: Dur::secs(1),
            settle: Dur::secs(3),
            time_scale: 1.0,
            name_prefix: String::new(),
            seed: 1,
            verify: true,
            sweep: Sweep::Off,
            brokers: Brokers::default(),
            topics: Topics::default(),
            clients: Clients::default(),
            churn: Churn::default(),
        }
    }
}

impl Default for Brokers {
    fn default() -> Self {
        Brokers {
            clusters: 1,
            groups: 4,
            slaves: 1,
            register_period: Dur::secs(30),
            aligned: false,
            compressed: false,
            version: protocol::codes::version::CURRENT,
            acting_master_header: true,
            heartbeat: Heartbeat::None,
            heartbeat_period: Dur::secs(1),
            heartbeat_oneway: true,
            heartbeat_timeout: Dur::secs(120),
            data_changes_per_sec: 0.0,
            cluster_info_period: Dur::secs(0),
            startup_concurrency: 64,
            startup_timeout: Dur::secs(120),
            request_timeout: Dur::secs(10),
            on_exit: OnExit::Close,
        }
    }
}

impl Default for Topics {
    fn default() -> Self {
        Topics {
            count: 100,
            groups_per_topic: 2,
            queues: vec![8],
            name_prefix: "Topic".into(),
            name_len: [0, 0],
            system_topics: true,
            broker_topics: true,
        }
    }
}

impl Default for Clients {
    fn default() -> Self {
        Clients {
            mode: ClientMode::Open,
            count: 1000,
            topics_per_client: 4,
            refresh_period: Dur::secs(30),
            zipf: 1.0,
            connections: 16,
            header: HeaderKind::Json,
            version: protocol::codes::version::CURRENT,
            accept_standard_json: false,
            target_mode: TargetMode::Split,
            request_timeout: Dur::secs(3),
            closed_connections: 4,
            closed_in_flight: 32,
        }
    }
}

impl Default for Churn {
    fn default() -> Self {
        Churn {
            crashes_per_min: 0.0,
            shutdowns_per_min: 0.0,
            down_time: Dur::secs(10),
            masters: true,
        }
    }
}

fn scale_u32(v: u32, f: f64) -> u32 {
    ((v as f64 * f).round() as u32).max(1)
}

impl Scenario {
    /// Loads a built-in scenario by name or a TOML file by path, then applies
    /// `key.path=value` overrides.
    pub fn load(name_or_path: &str, overrides: &[String]) -> Result<Self> {
        let text =
            match BUILTIN.iter().find(|(n, _)| *n == name_or_path) {
                Some((_, t)) => (*t).to_string(),
                None => std::fs::read_to_string(name_or_path).map_err(|e| {
                    Error::Scenario(format!(
                    "{name_or_path:?} is neither a built-in scenario ({}) nor a readable file: {e}",
                    BUILTIN.iter().map(|(n, _)| *n).collect::<Vec<_>>().join(", ")
                ))
                })?,
            };
        Self::from_toml(&text, overrides)
    }

    pub fn from_toml(text: &str, overrides: &[String]) -> Result<Self> {
        let mut table: toml::Table = text.parse()?;
        for o in overrides {
            apply_override(&mut table, o)?;
        }
        let sc: Scenario = toml::Value::Table(table).try_into()?;
        sc.validate()?;
        Ok(sc)
    }

    pub fn validate(&self) -> Result<()> {
        let bad = |m: &str| Err(Error::Scenario(m.to_string()));
        if self.brokers.groups == 0 || self.brokers.clusters == 0 {
            return bad("brokers.groups and brokers.clusters must be >= 1");
        }
        if self.topics.queues.is_empty() || self.topics.queues.iter().any(|&q| q <= 0) {
            return bad("topics.queues must list positive queue counts");
        }
        if self.topics.name_len[0] > self.topics.name_len[1] {
            return bad("topics.name_len must be [min, max]");
        }
        if self.time_scale.is_nan() || self.time_scale <= 0.0 {
            return bad("time_scale must be > 0");
        }
        if self.brokers.version < protocol::codes::version::V3_0_11 {
            return bad("brokers.version must be >= 37 (older bodies are a different format)");
        }
        if self.clients.mode != ClientMode::Off && self.topics.count == 0 {
            return bad("clients need topics.count >= 1");
        }
        if self.clients.connections == 0 || self.clients.closed_connections == 0 {
            return bad("client connection counts must be >= 1");
        }
        if self.clients.closed_in_flight == 0 || self.clients.closed_in_flight > 65_536 {
            return bad("clients.closed_in_flight must be in 1..=65536");
        }
        if self.brokers.register_period.is_zero() || self.clients.refresh_period.is_zero() {
            return bad("register_period and refresh_period must be > 0");
        }
        Ok(())
    }

    /// Shrinks or grows the population by `f`: groups, topics, clients, churn and
    /// data-change rates. Clusters and spreads are clamped to stay consistent.
    pub fn scaled(&self, f: f64) -> Scenario {
        let mut s = self.clone();
        if (f - 1.0).abs() < f64::EPSILON {
            return s;
        }
        s.brokers.groups = scale_u32(s.brokers.groups, f);
        s.brokers.clusters = s.brokers.clusters.min(s.brokers.groups);
        s.topics.count = scale_u32(s.topics.count, f);
        s.clients.count = scale_u32(s.clients.count, f);
        s.clients.connections = s.clients.connections.min(s.clients.count);
        s.churn.crashes_per_min *= f;
        s.churn.shutdowns_per_min *= f;
        s.brokers.data_changes_per_sec *= f;
        let per_cluster = s.brokers.groups / s.brokers.clusters;
        s.topics.groups_per_topic = s.topics.groups_per_topic.min(per_cluster.max(1));
        s
    }

    /// A period after `time_scale`.
    pub fn period(&self, d: Dur) -> Dur {
        d.scaled(self.time_scale)
    }

    /// Broker processes (masters + slaves).
    pub fn broker_processes(&self) -> u64 {
        self.brokers.groups as u64 * (1 + self.brokers.slaves as u64)
    }

    /// Expected open-loop route lookups per second (all targets together in
    /// `split` mode).
    pub fn lookup_rate(&self) -> f64 {
        if self.clients.mode != ClientMode::Open {
            return 0.0;
        }
        let k = self.clients.topics_per_client.min(self.topics.count) as f64;
        self.clients.count as f64 * k / self.period(self.clients.refresh_period).0.as_secs_f64()
    }
}

/// `a.b.c=value`: the value is read as TOML (`20`, `true`, `"x"`, `[1,2]`) and
/// taken as a plain string when it is not valid TOML.
fn apply_override(table: &mut toml::Table, spec: &str) -> Result<()> {
    let (path, raw) = spec
        .split_once('=')
        .ok_or_else(|| Error::Scenario(format!("override {spec:?} is not key=value")))?;
    let value = match format!("v = {raw}").parse::<toml::Table>() {
        Ok(mut t) => t
            .remove("v")
            .unwrap_or(toml::Value::String(raw.to_string())),
        Err(_) => toml::Value::String(raw.to_string()),
    };
    let keys: Vec<&str> = path.trim().split('.').collect();
    let (last, parents) = keys
        .split_last()
        .ok_or_else(|| Error::Scenario(format!("override {spec:?} has no key")))?;
    let mut cur = table;
    for k in parents {
        let entry = cur
            .entry(k.to_string())
            .or_insert_with(|| toml::Value::Table(toml::Table::new()));
        cur = entry
            .as_table_mut()
            .ok_or_else(|| Error::Scenario(format!("override {spec:?}: {k} is not a section")))?;
    }
    cur.insert(last.to_string(), value);
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn builtins_parse() {
        for (name, _) in BUILTIN {
            let s = Scenario::load(name, &[]).unwrap_or_else(|e| panic!("{name}: {e}"));
            assert_eq!(&s.name, name);
        }
    }

    #[test]
    fn overrides_and_scale() {
        let s = Scenario::load(
            "production",
            &[
                "brokers.groups=20".into(),
                "clients.header=binary".into(),
                "duration=\"2s\"".into(),
            ],
        )
        .unwrap();
        assert_eq!(s.brokers.groups, 20);
        assert_eq!(s.clients.header, HeaderKind::Binary);
        assert_eq!(s.duration, Dur::secs(2));
        let p = Scenario::load("production", &[]).unwrap().scaled(0.01);
        assert!(p.brokers.groups >= 1 && p.brokers.groups < 10);
        assert!(p.brokers.clusters <= p.brokers.groups);
        assert!(Scenario::from_toml("bogus = 1", &[]).is_err());
    }
}
