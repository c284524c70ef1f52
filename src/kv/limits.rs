//! The KV store's limits (`kvMaxValueLength`, `kvMaxEntries`, `kvMaxTotalBytes`).
//!
//! Upstream's `KVConfigManager#putKVConfig` stores anything and rewrites the whole
//! file (and its `.bak`) on every put, so a client looping large puts grows both
//! without bound. A put that would take the store past a limit is refused; one
//! that does not grow the store (a replace by a value no longer than the old one)
//! is always allowed, so a store loaded over a lowered limit can still shrink.

use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{SystemTime, UNIX_EPOCH};

use protocol::json::Dialect;
use protocol::json_escape::{write_json_string, JsonRelease};

use super::KvStore;
use crate::config::Config;

/// The limits a put is checked against.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct KvLimits {
    /// Longest value, in UTF-8 bytes.
    pub max_value_length: usize,
    /// Most namespaces plus keys.
    pub max_entries: usize,
    /// Most bytes of namespaces, keys and values together, as JSON strings.
    pub max_total_bytes: usize,
}

impl From<&Config> for KvLimits {
    fn from(c: &Config) -> Self {
        KvLimits {
            max_value_length: c.kv_max_value_length,
            max_entries: c.kv_max_entries,
            max_total_bytes: c.kv_max_total_bytes,
        }
    }
}

/// A put refused by a limit; the text is the reply's remark.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum KvLimitError {
    #[error("KV value of {len} bytes is over the limit kvMaxValueLength={max}")]
    ValueTooLong { len: usize, max: usize },
    #[error("KV store full: it holds {entries} namespaces and keys, the limit kvMaxEntries={max}")]
    TooManyEntries { entries: usize, max: usize },
    #[error(
        "KV store full: this put would make it {bytes} bytes, over the limit kvMaxTotalBytes={max}"
    )]
    TooManyBytes { bytes: usize, max: usize },
}

impl KvLimitError {
    /// The config key of the limit that was hit (for log lines).
    pub fn limit_key(&self) -> &'static str {
        match self {
            Self::ValueTooLong { .. } => "kvMaxValueLength",
            Self::TooManyEntries { .. } => "kvMaxEntries",
            Self::TooManyBytes { .. } => "kvMaxTotalBytes",
        }
    }
}

impl KvLimitError {
    /// The log line of a refused put: at most one a second per limit, so a client
    /// looping refused puts cannot flood the log; `suppressed` counts the refusals
    /// since the last line. Namespace and key are cut short: they come from the
    /// request and may be megabytes long.
    pub fn log(&self, namespace: &str, key: &str) {
        let kind = match self {
            Self::ValueTooLong { .. } => 0,
            Self::TooManyEntries { .. } => 1,
            Self::TooManyBytes { .. } => 2,
        };
        let Some(suppressed) = LOG_GATES[kind].admit() else {
            return;
        };
        tracing::warn!(
            limit = self.limit_key(),
            namespace = clip(namespace),
            key = clip(key),
            suppressed,
            error = %self,
            "KV put refused"
        );
    }
}

/// Lets one log line through per second (process-wide: handlers on every shard
/// and the writer share it).
struct LogGate {
    /// The second (since the epoch) of the last line let through.
    last_second: AtomicU64,
    /// Lines held back since then.
    held: AtomicU64,
}

static LOG_GATES: [LogGate; 3] = [LogGate::new(), LogGate::new(), LogGate::new()];

impl LogGate {
    const fn new() -> LogGate {
        LogGate {
            last_second: AtomicU64::new(0),
            held: AtomicU64::new(0),
        }
    }

    /// `Some(lines held back)` if a line may be logged now.
    fn admit(&self) -> Option<u64> {
        let now = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map_or(1, |d| d.as_secs().max(1));
        let last = self.last_second.load(Ordering::Relaxed);
        if last != now
            && self
                .last_second
                .compare_exchange(last, now, Ordering::Relaxed, Ordering::Relaxed)
                .is_ok()
        {
            return Some(self.held.swap(0, Ordering::Relaxed));
        }
        self.held.fetch_add(1, Ordering::Relaxed);
        None
    }
}

/// At most the first 64 bytes of `s` (on a char boundary).
fn clip(s: &str) -> &str {
    let mut end = s.len().min(64);
    while !s.is_char_boundary(end) {
        end -= 1;
    }
    &s[..end]
}

impl KvLimits {
    /// The check that needs no store: the value's length.
    pub fn check_value(&self, value: Option<&str>) -> Result<(), KvLimitError> {
        match value {
            Some(v) if v.len() > self.max_value_length => Err(KvLimitError::ValueTooLong {
                len: v.len(),
                max: self.max_value_length,
            }),
            _ => Ok(()),
        }
    }
}

/// Bytes one stored key takes in the accounting.
pub(super) fn key_bytes(key: &str, value: &str) -> usize {
    json_len(key) + json_len(value)
}

/// Bytes one namespace name takes in the accounting.
pub(super) fn namespace_bytes(namespace: &str) -> usize {
    json_len(namespace)
}

/// The length of `s` as a quoted JSON string in the file's dialect. Escapes can
/// make it up to six times the UTF-8 length (`\u0001`), so the limit counts
/// these bytes: they are what the file, GET_KVLIST_BY_NAMESPACE and the
/// `ORDER_TOPIC_CONFIG` table of every REGISTER_BROKER reply carry. Counted as
/// 5.3 writes them, whatever `jsonCompatRelease` says: its escapes are a superset
/// of 5.5's, so the count bounds both and never depends on when the process
/// release is set (the store is loaded before the server starts).
fn json_len(s: &str) -> usize {
    let plain = |b: &u8| (0x20..0x7f).contains(b) && *b != b'"' && *b != b'\\';
    if s.bytes().all(|b| plain(&b)) {
        return s.len() + 2;
    }
    let mut out = Vec::with_capacity(s.len() + 8);
    write_json_string(&mut out, s, Dialect::Legacy, JsonRelease::V5_3);
    out.len()
}

impl KvStore {
    /// Whether `put(namespace, key, value)` stays within `limits` (see the module
    /// doc); checked against the current table, so the writer calls it for each
    /// put in turn.
    pub fn check_put(
        &self,
        namespace: &str,
        key: &str,
        value: Option<&str>,
        limits: &KvLimits,
    ) -> Result<(), KvLimitError> {
        limits.check_value(value)?;
        let (entries, bytes) = self.after_put(namespace, key, value);
        if entries > self.entries() && entries > limits.max_entries {
            return Err(KvLimitError::TooManyEntries {
                entries: self.entries(),
                max: limits.max_entries,
            });
        }
        if bytes > self.total_bytes() && bytes > limits.max_total_bytes {
            return Err(KvLimitError::TooManyBytes {
                bytes,
                max: limits.max_total_bytes,
            });
        }
        Ok(())
    }

    /// The entry count and byte total the store would have after the put.
    pub(super) fn after_put(
        &self,
        namespace: &str,
        key: &str,
        value: Option<&str>,
    ) -> (usize, usize) {
        let mut entries = self.entries();
        let mut bytes = self.total_bytes();
        let old = match self.namespace(namespace) {
            Some(kvs) => kvs.get(key).map(String::as_str),
            None => {
                entries += 1;
                bytes += namespace_bytes(namespace);
                None
            }
        };
        if let Some(old) = old {
            entries -= 1;
            bytes -= key_bytes(key, old);
        }
        if let Some(new) = value {
            entries += 1;
            bytes += key_bytes(key, new);
        }
        (entries, bytes)
    }

    /// Whether the store as loaded is already past a limit.
    pub fn over_limits(&self, limits: &KvLimits) -> bool {
        self.entries() > limits.max_entries || self.total_bytes() > limits.max_total_bytes
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const SMALL: KvLimits = KvLimits {
        max_value_length: 4,
        max_entries: 3,
        max_total_bytes: 1000,
    };

    #[test]
    fn value_length() {
        let kv = KvStore::new("/unused");
        assert_eq!(kv.check_put("n", "k", Some("1234"), &SMALL), Ok(()));
        assert_eq!(kv.check_put("n", "k", None, &SMALL), Ok(()));
        let err = kv.check_put("n", "k", Some("12345"), &SMALL).unwrap_err();
        assert_eq!(err, KvLimitError::ValueTooLong { len: 5, max: 4 });
        assert_eq!(
            err.to_string(),
            "KV value of 5 bytes is over the limit kvMaxValueLength=4"
        );
        // UTF-8 bytes, not chars.
        assert_eq!(
            kv.check_put("n", "k", Some("éé€"), &SMALL),
            Err(KvLimitError::ValueTooLong { len: 7, max: 4 })
        );
    }

    #[test]
    fn entries_count_namespaces_and_keys() {
        let mut kv = KvStore::new("/unused");
        kv.put("n", "a", Some("1".into()));
        kv.put("n", "b", Some("2".into()));
        // `"n"` + `"a"` + `"1"` + `"b"` + `"2"`
        assert_eq!((kv.entries(), kv.total_bytes()), (3, 15));
        assert_eq!(
            kv.check_put("n", "c", Some("3"), &SMALL),
            Err(KvLimitError::TooManyEntries { entries: 3, max: 3 })
        );
        // A new namespace alone is an entry too.
        assert_eq!(
            kv.check_put("m", "c", None, &SMALL),
            Err(KvLimitError::TooManyEntries { entries: 3, max: 3 })
        );
        // Replacing and removing are fine when full.
        assert_eq!(kv.check_put("n", "a", Some("9"), &SMALL), Ok(()));
        assert_eq!(kv.check_put("n", "a", None, &SMALL), Ok(()));
        kv.delete("n", "a");
        assert_eq!((kv.entries(), kv.total_bytes()), (2, 9));
        assert_eq!(kv.check_put("n", "c", Some("3"), &SMALL), Ok(()));
    }

    #[test]
    fn total_bytes_count_json_strings() {
        let mut kv = KvStore::new("/unused");
        kv.put("ns", "key", Some("1234".into())); // "ns" "key" "1234": 4 + 5 + 6
        assert_eq!(kv.total_bytes(), 15);
        let limits = KvLimits {
            max_value_length: 100,
            max_entries: 100,
            max_total_bytes: 20,
        };
        assert_eq!(
            kv.check_put("ns", "kk", Some("12"), &limits),
            Err(KvLimitError::TooManyBytes { bytes: 23, max: 20 })
        );
        assert_eq!(kv.check_put("ns", "k", Some(""), &limits), Ok(()));
        // Escapes count as written: `"\u0001"` is 8 bytes, `"\""` 4.
        assert_eq!(
            kv.check_put("ns", "k", Some("\u{1}"), &limits),
            Err(KvLimitError::TooManyBytes { bytes: 26, max: 20 })
        );
        kv.put("n2", "\"", Some("\u{1}\u{80}é".into()));
        assert_eq!(kv.total_bytes(), 15 + 4 + 4 + (2 + 6 + 6 + 2));
        // A store over a lowered limit may still shrink, but not grow.
        let tiny = KvLimits {
            max_total_bytes: 1,
            ..limits
        };
        assert!(kv.over_limits(&tiny));
        assert_eq!(kv.check_put("ns", "key", Some("12"), &tiny), Ok(()));
        assert_eq!(kv.check_put("ns", "key", Some("4321"), &tiny), Ok(()));
        assert_eq!(
            kv.check_put("ns", "k", Some(""), &tiny),
            Err(KvLimitError::TooManyBytes { bytes: 44, max: 1 })
        );
    }

    #[test]
    fn log_gate_lets_one_line_a_second_through() {
        let gate = LogGate::new();
        assert_eq!(gate.admit(), Some(0));
        // Within the same second (the test would need to straddle a second
        // boundary twice in a row to see otherwise), the rest are held.
        let held = (0..100).filter(|_| gate.admit().is_none()).count();
        assert!(held >= 99, "{held}");
    }

    #[test]
    fn counters_follow_every_change() {
        let mut kv = KvStore::new("/unused");
        kv.put("ns", "k", None);
        assert_eq!((kv.entries(), kv.total_bytes()), (1, 4));
        kv.put("ns", "k", Some("abc".into()));
        kv.put("ns", "k", Some("abcdef".into()));
        assert_eq!((kv.entries(), kv.total_bytes()), (2, 15));
        kv.put("ns", "k", None);
        assert_eq!((kv.entries(), kv.total_bytes()), (1, 4));
        kv.delete("ns", "nope");
        kv.delete("none", "k");
        assert_eq!((kv.entries(), kv.total_bytes()), (1, 4));
    }
}
