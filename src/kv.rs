//! The persisted KV store (upstream's `KVConfigManager`): `namespace → {key →
//! value}`, kept in `kvConfigPath` as compact JSON
//! `{"configTable":{"ORDER_TOPIC_CONFIG":{"TopicA":"broker-a:4"}}}`.
//!
//! Upstream rewrites the file after every put and delete (even of a key that does
//! not exist), first copying the old file to `<path>.bak`. The store here only
//! holds the data; the caller decides when to write, off the I/O threads, with
//! [`write_file_durably`] (or [`KvStore::persist`]) of [`KvStore::store_file`].
//!
//! Null values: PUT_KV_CONFIG without a value makes upstream store `key → null`
//! in the namespace (creating the namespace). A null value is invisible
//! everywhere: GET_KV_CONFIG answers "No config item" as for a missing key,
//! fastjson leaves null map values out of GET_KVLIST_BY_NAMESPACE and REGISTER
//! replies, and the file leaves them out, so the key is gone after a restart. We
//! therefore represent a null value by *not storing the key*:
//! `KvStore::put(ns, key, None)` creates the namespace if needed and removes the
//! key, which is observably the same.
//!
//! An empty (0-byte or whitespace-only) file is not taken for an empty store, as
//! upstream does: it is what a crash or a full disk leaves, and the next put
//! would then copy it over the last good `.bak`. The store starts from a valid
//! `.bak` instead (and says so), or refuses to start; and [`write_file_durably`]
//! never backs up an empty file. A missing file still starts empty.
//!
//! Limits on what puts may store: [`KvLimits`].

use std::fmt;
use std::fs;
use std::io;
use std::marker::PhantomData;
use std::path::{Path, PathBuf};

use serde::de::{MapAccess, Visitor};
use serde::{Deserialize, Deserializer};

use crate::durable::{is_blank, with_suffix, write_file_durably};

mod limits;
mod namespace;
#[cfg(test)]
mod tests;

pub use limits::{KvLimitError, KvLimits};
pub use namespace::{KvMap, KvNamespace, KvNamespaces};

/// The namespace the server itself reads (topic → `"broker:n;broker:n"`).
pub const ORDER_TOPIC_CONFIG: &str = "ORDER_TOPIC_CONFIG";

/// KV store errors.
#[derive(Debug, thiserror::Error)]
pub enum KvError {
    /// The file exists but could not be read.
    #[error("cannot read KV config file {}: {source}", path.display())]
    Io {
        path: PathBuf,
        #[source]
        source: io::Error,
    },
    /// The file is not the expected JSON.
    #[error("malformed KV config file {}: {source}", path.display())]
    Malformed {
        path: PathBuf,
        #[source]
        source: serde_json::Error,
    },
    /// The file is empty and there is no usable backup to start from.
    #[error(
        "KV config file {} is empty and its backup {} {problem}; restore the file \
         (or its backup), or delete it to start with an empty KV store",
        path.display(),
        backup.display()
    )]
    EmptyWithoutBackup {
        path: PathBuf,
        backup: PathBuf,
        /// What is wrong with the backup, e.g. "does not exist".
        problem: String,
    },
}

/// The KV store and the file it is persisted to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KvStore {
    path: PathBuf,
    table: KvNamespaces,
    /// Namespaces plus keys (for [`KvLimits`]).
    entries: usize,
    /// Bytes of namespaces, keys and values as the file holds them (for
    /// [`KvLimits`]).
    total_bytes: usize,
}

/// The file as read: fastjson tolerates nulls anywhere and scalars as strings.
#[derive(Deserialize)]
struct FileIn {
    #[serde(rename = "configTable", default)]
    config_table: Option<InFileOrder<Option<InFileOrder<Option<ScalarIn>>>>>,
}

/// A JSON object's members in file order (fastjson2 fills a `HashMap` in that
/// order, so the order decides the map's iteration order).
struct InFileOrder<T>(Vec<(String, T)>);

impl<'de, T: Deserialize<'de>> Deserialize<'de> for InFileOrder<T> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct Members<T>(PhantomData<T>);
        impl<'de, T: Deserialize<'de>> Visitor<'de> for Members<T> {
            type Value = InFileOrder<T>;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("a map")
            }
            fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Self::Value, A::Error> {
                let mut out = Vec::new();
                while let Some(member) = map.next_entry::<String, T>()? {
                    out.push(member);
                }
                Ok(InFileOrder(out))
            }
        }
        d.deserialize_map(Members(PhantomData))
    }
}

#[derive(Deserialize)]
#[serde(untagged)]
enum ScalarIn {
    Str(String),
    Num(serde_json::Number),
    Bool(bool),
}

impl ScalarIn {
    fn into_string(self) -> String {
        match self {
            Self::Str(s) => s,
            Self::Num(n) => n.to_string(),
            Self::Bool(b) => b.to_string(),
        }
    }
}

impl KvStore {
    /// An empty store persisted to `path`.
    pub fn new(path: impl Into<PathBuf>) -> KvStore {
        KvStore {
            path: path.into(),
            table: KvNamespaces::new(),
            entries: 0,
            total_bytes: 0,
        }
    }

    fn with_table(path: PathBuf, table: KvNamespaces) -> KvStore {
        let entries = table.len() + table.iter().map(|(_, kvs)| kvs.len()).sum::<usize>();
        let total_bytes = table
            .iter()
            .map(|(ns, kvs)| {
                limits::namespace_bytes(ns)
                    + kvs
                        .entries()
                        .iter()
                        .map(|(k, v)| limits::key_bytes(k, v))
                        .sum::<usize>()
            })
            .sum();
        KvStore {
            path,
            table,
            entries,
            total_bytes,
        }
    }

    /// Loads the store from `path`. A missing file, `null` or a missing
    /// `configTable` give an empty store (upstream loads nothing then); malformed
    /// JSON is an error naming the file. Null values are skipped. An empty
    /// (whitespace-only) file is replaced by its valid `.bak`, with a warning, or
    /// else is an error ([`KvError::EmptyWithoutBackup`]); see the module doc.
    pub fn load(path: impl Into<PathBuf>) -> Result<KvStore, KvError> {
        let path = path.into();
        let bytes = match fs::read(&path) {
            Ok(b) => b,
            Err(e) if e.kind() == io::ErrorKind::NotFound => {
                tracing::info!(path = %path.display(), "no KV config file; starting empty");
                return Ok(KvStore::new(path));
            }
            Err(source) => return Err(KvError::Io { path, source }),
        };
        let kv = KvStore::from_file_bytes(path, &bytes)?;
        tracing::info!(path = %kv.path.display(), namespaces = kv.table.len(), "KV config loaded");
        Ok(kv)
    }

    /// [`KvStore::load`] of a file whose content is `bytes` (the decoder alone,
    /// for fuzzing; only an empty `bytes` reads the disk, for `<path>.bak`).
    pub fn from_file_bytes(path: impl Into<PathBuf>, bytes: &[u8]) -> Result<KvStore, KvError> {
        let path = path.into();
        let table = if is_blank(bytes) {
            load_backup_of_empty(&path)?
        } else {
            parse_table(&path, bytes)?
        };
        Ok(KvStore::with_table(path, table))
    }

    /// The file the store is persisted to.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// The value of `key` in `namespace`.
    pub fn get(&self, namespace: &str, key: &str) -> Option<&str> {
        self.table.get(namespace)?.get(key).map(String::as_str)
    }

    /// A whole namespace (an existing empty namespace is `Some(empty)`).
    pub fn namespace(&self, namespace: &str) -> Option<&KvNamespace> {
        self.table.get(namespace)
    }

    /// PUT_KV_CONFIG: stores `key → value`, creating the namespace if needed.
    /// A `None` value (the request had no value; upstream stores a null) creates
    /// the namespace and removes the key, see the module doc. Returns the
    /// previous value.
    pub fn put(&mut self, namespace: &str, key: &str, value: Option<String>) -> Option<String> {
        // The same count `check_put` judged the put by.
        (self.entries, self.total_bytes) = self.after_put(namespace, key, value.as_deref());
        let kvs = self.table.get_or_create(namespace);
        match value {
            Some(v) => kvs.insert(key.to_string(), v),
            None => kvs.remove(key),
        }
    }

    /// Removes `key` from `namespace`; the namespace stays even when emptied (as
    /// upstream). Returns the removed value.
    pub fn delete(&mut self, namespace: &str, key: &str) -> Option<String> {
        let old = self.table.get_mut(namespace)?.remove(key)?;
        self.entries -= 1;
        self.total_bytes -= limits::key_bytes(key, &old);
        Some(old)
    }

    /// Namespaces plus keys stored.
    pub fn entries(&self) -> usize {
        self.entries
    }

    /// Bytes of all namespaces, keys and values stored, counted as JSON strings
    /// (quoted and escaped, as the file and the replies hold them).
    pub fn total_bytes(&self) -> usize {
        self.total_bytes
    }

    /// All namespaces.
    pub fn table(&self) -> &KvNamespaces {
        &self.table
    }

    /// The file content: compact JSON `{"configTable":{ns:{key:value}}}`.
    pub fn encode_file(&self) -> Vec<u8> {
        use protocol::json::{Dialect, JsonOut};
        // Upstream serializes its HashMaps with fastjson: keys in HashMap order.
        let mut out = Vec::with_capacity(64);
        let mut w = JsonOut::new(&mut out, Dialect::Legacy);
        w.begin_object();
        w.key("configTable");
        w.begin_object();
        for (ns, entries) in self.table.ordered() {
            w.key(ns);
            namespace::write_entries(&mut w, entries.entries());
        }
        w.end_object();
        w.end_object();
        out
    }

    /// The store's file and its content ([`KvStore::encode_file`]): what
    /// [`KvStore::persist`] writes, and what the writer hands to its blocking
    /// thread after a batch of puts and deletes.
    pub fn store_file(&self) -> (PathBuf, Vec<u8>) {
        (self.path.clone(), self.encode_file())
    }

    /// Writes [`KvStore::store_file`] (blocking).
    pub fn persist(&self) -> io::Result<()> {
        let (path, bytes) = self.store_file();
        write_file_durably(&path, &bytes)
    }
}

/// The table of a (non-blank) KV file.
fn parse_table(path: &Path, bytes: &[u8]) -> Result<KvNamespaces, KvError> {
    let parsed: Option<FileIn> =
        serde_json::from_slice(bytes).map_err(|source| KvError::Malformed {
            path: path.to_path_buf(),
            source,
        })?;
    // `KVConfigManager#load`: fastjson2 fills a new HashMap per object in file
    // order, then `configTable.putAll` copies the outer one (same inner maps).
    let mut parsed_table: Vec<(String, KvNamespace)> = Vec::new();
    let members = parsed.and_then(|f| f.config_table).map(|t| t.0);
    for (ns, kvs) in members.unwrap_or_default() {
        let Some(kvs) = kvs else { continue };
        let kvs: KvMap = kvs
            .0
            .into_iter()
            .filter_map(|(k, v)| v.map(|v| (k, v.into_string())))
            .collect();
        parsed_table.push((ns, kvs.into()));
    }
    Ok(parsed_table
        .into_iter()
        .collect::<KvNamespaces>()
        .put_all_copy())
}

/// The table to start from when the file at `path` is empty: its `.bak`, if that
/// is there and valid.
fn load_backup_of_empty(path: &Path) -> Result<KvNamespaces, KvError> {
    let backup = with_suffix(path, ".bak");
    let refuse = |problem: String| KvError::EmptyWithoutBackup {
        path: path.to_path_buf(),
        backup: backup.clone(),
        problem,
    };
    let bytes = match fs::read(&backup) {
        Ok(b) => b,
        Err(e) if e.kind() == io::ErrorKind::NotFound => {
            return Err(refuse("does not exist".to_string()))
        }
        Err(e) => return Err(refuse(format!("cannot be read ({e})"))),
    };
    if is_blank(&bytes) {
        return Err(refuse("is empty too".to_string()));
    }
    let table = parse_table(&backup, &bytes).map_err(|e| refuse(format!("is not valid ({e})")))?;
    tracing::warn!(
        path = %path.display(),
        backup = %backup.display(),
        namespaces = table.len(),
        "KV config file is empty; starting from its backup"
    );
    Ok(table)
}
