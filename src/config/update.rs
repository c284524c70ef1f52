//! UPDATE_NAMESRV_CONFIG (318): which keys it may change and how a body is
//! merged (upstream's `DefaultRequestProcessor#updateConfig` and
//! `Configuration#update`).
//!
//! The whole update is refused when one key is black-listed: upstream's fixed
//! four, the entries of `configBlackList`, and on top of them our protected keys
//! (file paths, the process and socket binding, the limits), whatever
//! `configBlackList` says. Otherwise only keys that already exist are merged,
//! after every value was checked on a copy.

use std::collections::{BTreeMap, BTreeSet};

use protocol::codes::response;

use super::effect::{no_effect_reason, Unsupported};
use super::properties::{parse_properties, PropertiesError};
use super::{field, Config, ConfigError, SetOutcome};

#[cfg(test)]
mod tests;

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
    /// The update switches on a feature we do not have (`enableControllerInNamesrv`,
    /// `clusterTest`). Ours: upstream's 318 would accept it. Nothing was applied.
    #[error("{0}")]
    Unsupported(Unsupported),
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
            Self::BlackListed { .. } => response::NO_PERMISSION,
            Self::Parse(_) | Self::BadValue { .. } | Self::Unsupported(_) => response::SYSTEM_ERROR,
        }
    }

    /// The reply's remark, upstream's texts (`DefaultRequestProcessor#updateConfig`):
    /// a bad value is answered like a body that does not parse, and is logged
    /// with its key by the caller. An unsupported feature names the key and why.
    pub fn remark(&self) -> String {
        match self {
            Self::BlackListed { .. } => "Can not update config in black list.".to_string(),
            Self::Parse(_) | Self::BadValue { .. } => "string2Properties error".to_string(),
            Self::Unsupported(u) => format!("Can not update config: {u}"),
        }
    }
}

/// The keys upstream always black-lists for 318.
const UPSTREAM_BLACK_LIST: [&str; 4] = [
    "configBlackList",
    "configStorePath",
    "kvConfigPath",
    "rocketmqHome",
];

/// The before/after values of `key` as a log line may show them: a secret's
/// (`tls.server.keyPassword`) values are masked, present or not.
fn loggable_change(
    key: &str,
    before: Option<String>,
    after: Option<String>,
) -> (Option<String>, Option<String>) {
    if crate::server::tls::SECRET_KEYS.contains(&key) {
        let mask = |v: Option<String>| v.map(|_| "******".to_string());
        (mask(before), mask(after))
    } else {
        (before, after)
    }
}

impl Config {
    /// True if no 318 may change `key`, whatever `configBlackList` says: the
    /// fields marked protected (file paths, `configBlackList`, `bindAddress`,
    /// `listenPort`, `cores`, `jsonCompatRelease`, the limits) and, for keys we do not know (raw `-c` properties of
    /// other components), any key whose name mentions a path, directory, home or
    /// file.
    pub fn is_update_protected(key: &str) -> bool {
        if let Some(f) = field(key) {
            return f.update_protected;
        }
        // The TLS settings are read once at start (upstream: `TlsSystemConfig`'s
        // statics): a 318 changing one would be accepted and ignored.
        if super::effect::is_tls_key(key) {
            return true;
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
    /// ignored. Returns whether any value changed. The caller then persists a
    /// change ([`Config::store_file`]); upstream's `Configuration#update` persists
    /// after every accepted update, even one that changed nothing.
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
        if let Some(u) = next.unsupported() {
            return Err(UpdateError::Unsupported(u));
        }
        // Accepted but read by nothing here: say so, with the reason, as at start.
        for key in props.keys() {
            // Fields, and the raw `-c` keys that were merged (others were ignored).
            if field(key).is_some() || next.raw_properties.contains_key(key) {
                if let Some(reason) = no_effect_reason(key) {
                    tracing::warn!(key = %key, reason, "318: config key accepted, but it has no effect here");
                }
            }
        }
        let changed = next != *self;
        if changed {
            for key in props.keys() {
                let before = self.get(key);
                let after = next.get(key);
                if before != after {
                    let (from, to) = loggable_change(key, before, after);
                    tracing::info!(key = %key, from = ?from, to = ?to, "config updated");
                }
            }
        }
        *self = next;
        Ok(changed)
    }
}

#[cfg(test)]
mod log_tests {
    use super::loggable_change;

    #[test]
    fn secrets_are_masked_other_values_shown() {
        assert_eq!(
            loggable_change(
                "tls.server.keyPassword",
                Some("old".into()),
                Some("s3cret".into())
            ),
            (Some("******".into()), Some("******".into()))
        );
        assert_eq!(
            loggable_change("tls.server.keyPassword", None, Some("s3cret".into())),
            (None, Some("******".into()))
        );
        assert_eq!(
            loggable_change("maxConnections", Some("1".into()), Some("2".into())),
            (Some("1".into()), Some("2".into()))
        );
    }
}
