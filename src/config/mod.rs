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
//!   whatever `configBlackList` says, nor `jsonCompatRelease` (fixed at start:
//!   see `protocol::json_escape`);
//! - the store file is written crash-safely ([`crate::durable::write_file_durably`]),
//!   where upstream overwrites it in place;
//! - the store file is written with `java.util.Properties#store`'s escaping
//!   ([`Config::to_store_text`]), where upstream's `Configuration#persist` writes
//!   `MixAll.properties2String` unescaped: there a value holding a line break
//!   (sent as `\n`, `\r` or `\u000a` in a 318 body) became extra lines, that is
//!   other keys (a path, the listen port), after a restart, and a value such as
//!   `x\u` made the next start fail;
//! - limits are not changeable by 318 (`maxFrameLength`, the KV limits): one
//!   unauthenticated request must not lift them.
//!
//! Modules: `fields` (the table and [`Config`]), `properties` (Java's
//! properties text, both ways), `update` (318's rules).

use std::collections::BTreeMap;
use std::fmt;
use std::path::{Path, PathBuf};

mod fields;
mod properties;
#[cfg(test)]
mod store_tests;
#[cfg(test)]
mod tests;
mod update;

pub use fields::{Config, FieldSpec, FIELDS};
pub use properties::{escape_key, escape_value, parse_properties, store_text, PropertiesError};
pub use update::UpdateError;

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

/// Java `String.trim`: strips every char <= U+0020 from both ends.
fn java_trim(s: &str) -> &str {
    s.trim_matches(|c: char| c <= ' ')
}

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

    /// Every field and raw property, sorted by key, without the secrets
    /// (`tls.server.keyPassword`): what 319, `-p` and the console show.
    pub fn all_properties(&self) -> BTreeMap<&str, String> {
        let mut all = self.all_properties_with_secrets();
        all.retain(|k, _| !crate::server::tls::SECRET_KEYS.contains(k));
        all
    }

    /// Every field and raw property, sorted by key (what the store file keeps).
    fn all_properties_with_secrets(&self) -> BTreeMap<&str, String> {
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
        let all = self.all_properties_with_secrets();
        store_text(all.iter().map(|(k, v)| (*k, v.as_str())))
    }

    /// The store file and its content ([`Config::to_store_text`] at
    /// `config_store_path`): what [`Config::persist`] writes, and what the writer
    /// hands to its blocking thread after a 318.
    pub fn store_file(&self) -> (PathBuf, Vec<u8>) {
        (
            PathBuf::from(&self.config_store_path),
            self.to_store_text().into_bytes(),
        )
    }

    /// Writes [`Config::store_file`], keeping the previous file as `<path>.bak`
    /// (blocking; see [`crate::durable::write_file_durably`]).
    pub fn persist(&self) -> std::io::Result<()> {
        let (path, bytes) = self.store_file();
        crate::durable::write_file_durably(&path, &bytes)
    }
}
