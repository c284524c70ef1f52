//! One KV namespace: its key → value map, in the iteration order of upstream's
//! `HashMap` (`KVConfigManager` keeps `HashMap<String, HashMap<String, String>>`
//! and fastjson writes maps in iteration order), and the body that lists it.

use std::collections::BTreeMap;
use std::sync::OnceLock;

use bytes::Bytes;
use protocol::java_table::{JavaMap, JavaTable};
use protocol::json::{Dialect, JsonOut};

/// One namespace's key → value map, in upstream's `HashMap` order.
pub type KvMap = JavaMap<String, String>;

/// A namespace and its `{"table":{k:v}}` body, encoded on first use after each
/// change: REGISTER_BROKER answers with the ORDER_TOPIC_CONFIG one on the
/// writer core, and that namespace may hold a key per ordered topic.
#[derive(Debug, Clone, Default)]
pub struct KvNamespace {
    kvs: KvMap,
    /// Cleared by every change; clones (the published snapshot) share it.
    table_body: OnceLock<Bytes>,
}

/// Equal when they hold the same entries (see [`JavaMap`]'s equality).
impl PartialEq for KvNamespace {
    fn eq(&self, other: &Self) -> bool {
        self.kvs == other.kvs
    }
}

impl Eq for KvNamespace {}

impl KvNamespace {
    pub fn get(&self, key: &str) -> Option<&String> {
        self.kvs.get(key)
    }

    pub fn len(&self) -> usize {
        self.kvs.len()
    }

    pub fn is_empty(&self) -> bool {
        self.kvs.is_empty()
    }

    /// The entries (their Java order: [`JavaMap::ordered`]).
    pub fn entries(&self) -> &KvMap {
        &self.kvs
    }

    /// `HashMap#put`; returns the previous value.
    pub(super) fn insert(&mut self, key: String, value: String) -> Option<String> {
        self.table_body = OnceLock::new();
        self.kvs.insert(key, value).0
    }

    /// `HashMap#remove`; returns the removed value.
    pub(super) fn remove(&mut self, key: &str) -> Option<String> {
        let old = self.kvs.remove(key)?;
        self.table_body = OnceLock::new();
        Some(old)
    }

    /// `{"table":{k:v}}`, keys in upstream's order: the body of
    /// GET_KVLIST_BY_NAMESPACE and of a REGISTER_BROKER reply (upstream's
    /// `KVTable` holds the namespace's own `HashMap`).
    pub fn table_body(&self) -> Bytes {
        self.table_body
            .get_or_init(|| {
                let mut out = Vec::with_capacity(32);
                let mut w = JsonOut::new(&mut out, Dialect::Legacy);
                w.begin_object();
                w.key("table");
                write_entries(&mut w, &self.kvs);
                w.end_object();
                Bytes::from(out)
            })
            .clone()
    }
}

impl From<KvMap> for KvNamespace {
    fn from(kvs: KvMap) -> Self {
        KvNamespace {
            kvs,
            table_body: OnceLock::new(),
        }
    }
}

impl From<BTreeMap<String, String>> for KvNamespace {
    /// Puts in key order into `new HashMap<>()`.
    fn from(entries: BTreeMap<String, String>) -> Self {
        KvMap::from_iter(entries).into()
    }
}

/// `{k:v,…}` in upstream's iteration order.
pub(super) fn write_entries(w: &mut JsonOut<'_>, kvs: &KvMap) {
    w.begin_object();
    for (k, v) in kvs.ordered() {
        w.key(k);
        w.str(v);
    }
    w.end_object();
}

/// Every namespace (upstream's `KVConfigManager#configTable`), in upstream's
/// `HashMap` iteration order. Only [`super::KvStore`] changes it.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct KvNamespaces(JavaMap<String, KvNamespace>);

impl KvNamespaces {
    /// `new HashMap<>()`.
    pub fn new() -> Self {
        Self::default()
    }

    pub fn get(&self, namespace: &str) -> Option<&KvNamespace> {
        self.0.get(namespace)
    }

    pub fn len(&self) -> usize {
        self.0.len()
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// Namespaces in no particular order (for counting).
    pub fn iter(&self) -> impl Iterator<Item = (&String, &KvNamespace)> {
        self.0.iter()
    }

    /// Namespaces in upstream's iteration order.
    pub fn ordered(&self) -> Vec<(&String, &KvNamespace)> {
        self.0.ordered()
    }

    /// The namespace, created empty (`put` into the table) when absent.
    pub(super) fn get_or_create(&mut self, namespace: &str) -> &mut KvNamespace {
        if !self.0.contains_key(namespace) {
            self.0.insert(namespace.to_string(), KvNamespace::default());
        }
        match self.0.get_mut(namespace) {
            Some(ns) => ns,
            None => unreachable!("inserted above"),
        }
    }

    pub(super) fn get_mut(&mut self, namespace: &str) -> Option<&mut KvNamespace> {
        self.0.get_mut(namespace)
    }

    /// `new HashMap<>()` then `putAll(self)`: the copy `KVConfigManager#load`
    /// makes of the parsed table (pre-sized for its namespaces).
    pub(super) fn put_all_copy(self) -> Self {
        KvNamespaces(self.0.copied(JavaTable::HashMapCopy))
    }
}

impl FromIterator<(String, KvNamespace)> for KvNamespaces {
    /// Puts in the given order into `new HashMap<>()`.
    fn from_iter<I: IntoIterator<Item = (String, KvNamespace)>>(iter: I) -> Self {
        KvNamespaces(iter.into_iter().collect())
    }
}

impl<W: Into<KvNamespace>, const N: usize> From<[(String, W); N]> for KvNamespaces {
    /// Puts in array order into `new HashMap<>()`.
    fn from(entries: [(String, W); N]) -> Self {
        entries.into_iter().map(|(k, w)| (k, w.into())).collect()
    }
}
