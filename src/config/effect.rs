//! What each key of the field table does in this name server, so that no setting
//! is silently ignored: a key either takes effect (at start, and live after a 318
//! unless it is protected), has no effect here for a stated reason (named in one
//! warning at start and in the 318 log line), or is refused when switched on
//! (a feature we do not have: the start stops, and a 318 is refused).
//!
//! Every key of [`super::FIELDS`] must have a row in [`EFFECTS`] (a unit test
//! and `tests/config_each_key.rs` check it), so a new key needs a decision.

use super::Config;

/// What a key does here.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Effect {
    /// Used by the running server: a 318 changes it for every shard and connection
    /// (or it is protected, and fixed at start: then 318 refuses it).
    Used,
    /// Accepted so upstream's files load unchanged, but nothing here reads it.
    Inert(&'static str),
    /// A feature we do not have: `true` stops the start and a 318 setting it
    /// `true` is refused; `false` (the default) is accepted.
    RefusedWhenTrue(&'static str),
}

const NO_POOLS: &str = "there are no thread pools: requests run on the core that read them";
const NO_SELECTOR: &str = "one io_uring executor per core (`cores`) accepts and reads";
const NETTY_ONLY: &str = "a Netty setting; there is no Netty here";
const NO_SERVER_REQUESTS: &str =
    "it bounds requests the server sends over accepted connections; ours sends none that wait for permits";
const WATER_MARKS: &str =
    "a connection's unsent output is bounded by `connectionMaxPendingOutput` instead";

/// The decision for every key of the field table, in table order.
pub static EFFECTS: &[(&str, Effect)] = &[
    ("rocketmqHome", Effect::Inert("nothing is read from the install directory")),
    ("kvConfigPath", Effect::Used),
    ("configStorePath", Effect::Used),
    (
        "productEnvName",
        Effect::Inert("only `clusterTest` uses it, and `clusterTest=true` is refused"),
    ),
    (
        "clusterTest",
        Effect::RefusedWhenTrue(
            "the cluster-test processor (route lookups that miss asking the `productEnvName` environment's name servers) is not available",
        ),
    ),
    ("orderMessageEnable", Effect::Used),
    ("returnOrderTopicConfigToBroker", Effect::Used),
    ("clientRequestThreadPoolNums", Effect::Inert(NO_POOLS)),
    ("defaultThreadPoolNums", Effect::Inert(NO_POOLS)),
    ("clientRequestThreadPoolQueueCapacity", Effect::Inert(NO_POOLS)),
    ("defaultThreadPoolQueueCapacity", Effect::Inert(NO_POOLS)),
    ("scanNotActiveBrokerInterval", Effect::Used),
    (
        "unRegisterBrokerQueueCapacity",
        Effect::Inert("unregistrations go through the single writer's queue; there is no batch unregistration queue"),
    ),
    ("supportActingMaster", Effect::Used),
    ("enableAllTopicList", Effect::Used),
    ("enableTopicList", Effect::Used),
    // Given its effect by the 905 work (NOTIFY_MIN_BROKER_ID_CHANGE), issue 13 item 4.
    ("notifyMinBrokerIdChanged", Effect::Used),
    (
        "enableControllerInNamesrv",
        Effect::RefusedWhenTrue("the embedded controller is not available"),
    ),
    ("needWaitForService", Effect::Used),
    ("waitSecondsForService", Effect::Used),
    ("deleteTopicWithBrokerRegistration", Effect::Used),
    ("configBlackList", Effect::Used),
    ("bindAddress", Effect::Used),
    ("listenPort", Effect::Used),
    ("serverWorkerThreads", Effect::Inert(NO_POOLS)),
    ("serverCallbackExecutorThreads", Effect::Inert(NO_POOLS)),
    ("serverSelectorThreads", Effect::Inert(NO_SELECTOR)),
    ("serverOnewaySemaphoreValue", Effect::Inert(NO_SERVER_REQUESTS)),
    ("serverAsyncSemaphoreValue", Effect::Inert(NO_SERVER_REQUESTS)),
    ("serverChannelMaxIdleTimeSeconds", Effect::Used),
    ("serverSocketSndBufSize", Effect::Used),
    ("serverSocketRcvBufSize", Effect::Used),
    ("writeBufferHighWaterMark", Effect::Inert(WATER_MARKS)),
    ("writeBufferLowWaterMark", Effect::Inert(WATER_MARKS)),
    ("serverSocketBacklog", Effect::Used),
    ("serverNettyWorkerGroupEnable", Effect::Inert(NETTY_ONLY)),
    ("serverPooledByteBufAllocatorEnable", Effect::Inert(NETTY_ONLY)),
    // Given their effect by the GO_AWAY drain work, issue 13 item 3.
    ("enableShutdownGracefully", Effect::Used),
    ("shutdownWaitTimeSeconds", Effect::Used),
    (
        "useEpollNativeSelector",
        Effect::Inert("io_uring (glommio) is always used; there is no selector to choose"),
    ),
    ("cores", Effect::Used),
    ("maxFrameLength", Effect::Used),
    ("replySerializeType", Effect::Used),
    ("jsonCompatRelease", Effect::Used),
    ("kvMaxValueLength", Effect::Used),
    ("kvMaxEntries", Effect::Used),
    ("kvMaxTotalBytes", Effect::Used),
    ("maxInflatedBodyLength", Effect::Used),
    ("maxTopicsPerRegistration", Effect::Used),
    ("connectionWriteTimeoutMillis", Effect::Used),
    ("shutdownTimeoutMillis", Effect::Used),
    ("connectionMaxPendingOutput", Effect::Used),
    ("maxConnections", Effect::Used),
    ("maxConnectionsPerAddress", Effect::Used),
    ("frameReadTimeoutMillis", Effect::Used),
    ("maxIncompleteFrameBytes", Effect::Used),
    ("httpPort", Effect::Used),
    ("statsLogIntervalSeconds", Effect::Used),
    ("authenticationEnabled", Effect::Used),
    ("authConfigPath", Effect::Used),
    ("anonymousRouteRead", Effect::Used),
    ("proxyProtocolTrustedAddresses", Effect::Used),
    ("memoryTrimIntervalSeconds", Effect::Used),
];

/// The fields of upstream's `NettyClientConfig`: Java's `NamesrvStartup` applies a
/// `-c` file to its outgoing client too, so these are upstream keys, but this name
/// server has no such client.
const NETTY_CLIENT_KEYS: &[&str] = &[
    "clientWorkerThreads",
    "clientCallbackExecutorThreads",
    "clientOnewaySemaphoreValue",
    "clientAsyncSemaphoreValue",
    "connectTimeoutMillis",
    "channelNotActiveInterval",
    "isScanAvailableNameSrv",
    "clientChannelMaxIdleTimeSeconds",
    "clientSocketSndBufSize",
    "clientSocketRcvBufSize",
    "clientPooledByteBufAllocatorEnable",
    "clientCloseSocketIfTimeout",
    "useTLS",
    "socksProxyConfig",
    "disableCallbackExecutor",
    "disableNettyWorkerGroup",
    "maxReconnectIntervalTimeSeconds",
    "enableReconnectForGoAway",
];

/// The decision for field `key` (`None` if it is no field).
pub fn effect_of(key: &str) -> Option<Effect> {
    EFFECTS.iter().find(|(k, _)| *k == key).map(|(_, e)| *e)
}

/// Keys the TLS settings read or warn about themselves (`crate::server::tls::settings`).
pub(super) fn is_tls_key(key: &str) -> bool {
    use crate::server::tls::settings::{TLS_KEYS, UNUSED_KEYS};
    TLS_KEYS.contains(&key) || UNUSED_KEYS.contains(&key)
}

/// Why `key`, set by the operator, has no effect here; `None` if it has one (or
/// is a TLS key, reported by the TLS settings).
pub fn no_effect_reason(key: &str) -> Option<&'static str> {
    match effect_of(key) {
        Some(Effect::Inert(reason)) => Some(reason),
        Some(Effect::Used | Effect::RefusedWhenTrue(_)) => None,
        None if is_tls_key(key) => None,
        None if key.starts_with("tls.client.") => Some(
            "the name server's own client side: ours sends only 905 notifications, in plaintext",
        ),
        None if NETTY_CLIENT_KEYS.contains(&key) => Some(
            "a key of Java's NettyClientConfig (its outgoing client); this name server has no such client settings",
        ),
        None => Some("unknown key (Java ignores it silently); kept, and shown by 319"),
    }
}

/// One line naming every key of `keys` that has no effect here, each with its
/// reason (`key: reason; key: reason`), or `None` when all of them have one.
pub fn no_effect_summary<'a>(keys: impl IntoIterator<Item = &'a str>) -> Option<String> {
    let parts: Vec<String> = keys
        .into_iter()
        .filter_map(|k| no_effect_reason(k).map(|r| format!("{k}: {r}")))
        .collect();
    (!parts.is_empty()).then(|| parts.join("; "))
}

/// A key set to a feature this name server does not have.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{key}=true is not supported: {reason}")]
pub struct Unsupported {
    pub key: &'static str,
    pub reason: &'static str,
}

impl Config {
    /// The first key switched on that names a feature we do not have
    /// (`enableControllerInNamesrv`, `clusterTest`): the start stops with it.
    pub fn unsupported(&self) -> Option<Unsupported> {
        EFFECTS.iter().find_map(|(key, e)| match e {
            Effect::RefusedWhenTrue(reason) if self.get(key).as_deref() == Some("true") => {
                Some(Unsupported { key, reason })
            }
            _ => None,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::super::FIELDS;
    use super::*;

    #[test]
    fn every_field_has_exactly_one_decision_in_table_order() {
        let fields: Vec<&str> = FIELDS.iter().map(|f| f.key).collect();
        let decided: Vec<&str> = EFFECTS.iter().map(|(k, _)| *k).collect();
        assert_eq!(decided, fields);
    }

    #[test]
    fn refused_and_inert_keys_are_not_protected() {
        // A protected key is refused by 318 before its effect matters; these must
        // reach the inert log line or the refusal with its own remark.
        for (key, e) in EFFECTS {
            // rocketmqHome is on upstream's own 318 black list.
            if !matches!(e, Effect::Used) && *key != "rocketmqHome" {
                let f = Config::field(key).expect("a field");
                assert!(!f.update_protected, "{key}");
            }
        }
    }

    #[test]
    fn summary_names_inert_unknown_and_client_keys_not_tls() {
        let s = no_effect_summary([
            "serverWorkerThreads",
            "listenPort",
            "clientWorkerThreads",
            "tls.server.mode",
            "tls.client.keyPath",
            "brokerClusterName",
        ])
        .expect("some");
        assert_eq!(
            s,
            format!(
                "serverWorkerThreads: {NO_POOLS}; clientWorkerThreads: a key of Java's NettyClientConfig \
                 (its outgoing client); this name server has no such client settings; \
                 tls.client.keyPath: the name server's own client side: ours sends only 905 \
                 notifications, in plaintext; \
                 brokerClusterName: unknown key (Java ignores it silently); kept, and shown by 319"
            )
        );
        assert_eq!(no_effect_summary(["listenPort", "tls.server.mode"]), None);
    }

    #[test]
    fn unsupported_features_stop_the_start() {
        let mut c = Config::default();
        assert_eq!(c.unsupported(), None);
        c.set("enableControllerInNamesrv", "TRUE").expect("set");
        let u = c.unsupported().expect("refused");
        assert_eq!(
            u.to_string(),
            "enableControllerInNamesrv=true is not supported: the embedded controller is not available"
        );
        let mut c = Config::default();
        c.set("clusterTest", "true").expect("set");
        assert_eq!(c.unsupported().map(|u| u.key), Some("clusterTest"));
    }
}
