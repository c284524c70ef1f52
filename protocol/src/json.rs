//! fastjson-compatible JSON.
//!
//! The Java NameServer serializes with fastjson (1.2.83 up to 5.3.x, fastjson2
//! from 5.5). Two dialects matter:
//! - [`Dialect::Legacy`] (the defaults): integer map keys unquoted
//!   (`{0:"10.0.0.1:10911"}`), maps in Java `HashMap` iteration order.
//! - [`Dialect::Standard`] (`BrowserCompatible + MapSortField`, route replies to new
//!   clients): all keys quoted, every map's keys sorted, longs beyond +-(2^53-1)
//!   as strings.
//!
//! How strings are escaped depends on the dialect and the release:
//! [`crate::json_escape`] owns that rule.
//!
//! Rule used across [`crate::body`]: *maps* are ordered by the encoder according to
//! the dialect; *lists* are written in the order the caller gives.

use std::borrow::Cow;
use std::cmp::Ordering;

use serde::de::DeserializeOwned;

use crate::json_escape::{self, JsonRelease};

/// Which of fastjson's two outputs to produce.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Dialect {
    Legacy,
    Standard,
}

// ---------------------------------------------------------------------------
// Java hashing and HashMap iteration order
// ---------------------------------------------------------------------------

/// Java's `String.hashCode` (over UTF-16 code units).
pub fn java_string_hash(s: &str) -> i32 {
    s.encode_utf16()
        .fold(0i32, |h, u| h.wrapping_mul(31).wrapping_add(i32::from(u)))
}

/// Java's `Long.hashCode`.
pub fn java_long_hash(v: i64) -> i32 {
    (v ^ ((v as u64) >> 32) as i64) as i32
}

/// Java's `Integer.hashCode` (the value itself); here for symmetry.
pub fn java_int_hash(v: i32) -> i32 {
    v
}

const MAX_TABLE: usize = 1 << 30;

/// How a Java map (or set) was built. Iteration order walks the table's buckets,
/// so the order depends on the final table size, which depends on the map class,
/// its constructor and the number of entries. All models assume JDK 8 sizing and
/// a map that never held more entries than it holds now (tables never shrink).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum JavaTable {
    /// `new HashMap<>()` / `new HashSet<>()` filled by `put`: 16, doubled while
    /// `n > 0.75 * cap`.
    HashMap,
    /// `new HashMap<>(initialCapacity)` filled by `put` (also `new HashSet<>(c)`,
    /// which is `new HashMap<>(max((int)(c.size()/.75f) + 1, 16))`).
    HashMapWith(usize),
    /// `new HashMap<>(otherMap)`, or `putAll` into a still-empty `new HashMap<>()`:
    /// pre-sized to `tableSizeFor((int)(n / 0.75f + 1))`.
    HashMapCopy,
    /// `new ConcurrentHashMap<>()` / `ConcurrentHashMap.newKeySet()` filled by
    /// `put`: 16, doubled while `n >= 0.75 * cap` (it resizes one entry earlier).
    ConcurrentHashMap,
    /// `new ConcurrentHashMap<>(initialCapacity)`:
    /// `tableSizeFor(c + c/2 + 1)`, then grown as above.
    ConcurrentHashMapWith(usize),
}

/// `HashMap.tableSizeFor`: the smallest power of two >= `c` (at least 1).
fn table_size_for(c: usize) -> usize {
    c.max(1)
        .checked_next_power_of_two()
        .unwrap_or(MAX_TABLE)
        .min(MAX_TABLE)
}

impl JavaTable {
    /// The table size (bucket count) after `n` distinct keys went in.
    pub fn capacity(self, n: usize) -> usize {
        match self {
            JavaTable::HashMap => hashmap_grow(16, n),
            JavaTable::HashMapWith(initial) => hashmap_grow(table_size_for(initial), n),
            JavaTable::HashMapCopy => {
                // Float arithmetic as in `putMapEntries`.
                let ft = n as f32 / 0.75f32 + 1.0f32;
                let t = if ft < MAX_TABLE as f32 {
                    ft as usize
                } else {
                    MAX_TABLE
                };
                hashmap_grow(table_size_for(t), n)
            }
            JavaTable::ConcurrentHashMap => chm_grow(16, n),
            JavaTable::ConcurrentHashMapWith(initial) => {
                let cap = if initial >= MAX_TABLE >> 1 {
                    MAX_TABLE
                } else {
                    table_size_for(initial + (initial >> 1) + 1)
                };
                chm_grow(cap, n)
            }
        }
    }
}

/// HashMap resizes once `size > threshold`, threshold = `(int)(cap * 0.75)`.
fn hashmap_grow(mut cap: usize, n: usize) -> usize {
    while cap < MAX_TABLE && n > cap * 3 / 4 {
        cap *= 2;
    }
    cap
}

/// ConcurrentHashMap resizes once `size >= sizeCtl`, sizeCtl = `cap - cap/4`.
fn chm_grow(mut cap: usize, n: usize) -> usize {
    while cap < MAX_TABLE && n >= cap - cap / 4 {
        cap *= 2;
    }
    cap
}

/// The bucket a key with Java hash `hash` lands in (`h ^ h >>> 16`, masked).
pub fn java_bucket(hash: i32, capacity: usize) -> usize {
    let h = hash as u32;
    ((h ^ (h >> 16)) as usize) & (capacity.max(1) - 1)
}

/// Reorders `items` into the iteration order of a Java `HashMap` holding exactly
/// these keys (capacity as grown from 16 by inserts; ties in a bucket keep the
/// order given). `hash` is the key's Java `hashCode`.
pub fn java_hash_order<T>(items: &mut [T], hash: impl Fn(&T) -> i32) {
    java_hash_order_in(items, JavaTable::HashMap, hash);
}

/// [`java_hash_order`] for a map built as `table` describes.
pub fn java_hash_order_in<T>(items: &mut [T], table: JavaTable, hash: impl Fn(&T) -> i32) {
    if items.len() < 2 {
        return;
    }
    let cap = table.capacity(items.len());
    // Stable, so keys sharing a bucket keep the caller's (insertion) order.
    items.sort_by_cached_key(|it| java_bucket(hash(it), cap));
}

/// Java's `String.compareTo`: UTF-16 code unit order (differs from Rust's byte
/// order only between supplementary characters and U+E000..U+FFFF).
pub fn java_string_cmp(a: &str, b: &str) -> Ordering {
    if a.is_ascii() && b.is_ascii() {
        return a.cmp(b);
    }
    a.encode_utf16().cmp(b.encode_utf16())
}

/// Orders String-keyed map entries as the dialect writes them: Java hash order of
/// a map built as `table` (legacy) or sorted (`MapSortField`, standard).
pub fn order_str_keys<K: AsRef<str>, V>(
    entries: &mut [(K, V)],
    dialect: Dialect,
    table: JavaTable,
) {
    match dialect {
        Dialect::Legacy => {
            java_hash_order_in(entries, table, |(k, _)| java_string_hash(k.as_ref()))
        }
        Dialect::Standard => {
            entries.sort_by(|(a, _), (b, _)| java_string_cmp(a.as_ref(), b.as_ref()))
        }
    }
}

/// Orders Long-keyed map entries as the dialect writes them.
pub fn order_long_keys<V>(entries: &mut [(i64, V)], dialect: Dialect, table: JavaTable) {
    match dialect {
        Dialect::Legacy => java_hash_order_in(entries, table, |(k, _)| java_long_hash(*k)),
        Dialect::Standard => entries.sort_by_key(|(k, _)| *k),
    }
}

/// Orders Integer-keyed map entries as the dialect writes them.
pub fn order_int_keys<V>(entries: &mut [(i32, V)], dialect: Dialect, table: JavaTable) {
    match dialect {
        Dialect::Legacy => java_hash_order_in(entries, table, |(k, _)| java_int_hash(*k)),
        Dialect::Standard => entries.sort_by_key(|(k, _)| *k),
    }
}

/// Orders the elements of a Java `Set<String>` as fastjson writes it: iteration
/// order in both dialects (`MapSortField` sorts maps, not sets). Duplicates are
/// dropped, keeping the first.
pub fn order_str_set<S: AsRef<str>>(items: &mut Vec<S>, table: JavaTable) {
    let mut seen = std::collections::HashSet::with_capacity(items.len());
    items.retain(|s| seen.insert(s.as_ref().to_owned()));
    java_hash_order_in(items, table, |s| java_string_hash(s.as_ref()));
}

// ---------------------------------------------------------------------------
// Writer
// ---------------------------------------------------------------------------

/// fastjson's `BrowserCompatible` long rule: beyond +-(2^53-1) a long is a string.
const MAX_SAFE_LONG: i64 = 9_007_199_254_740_991;

/// Appends `s` as a quoted JSON string, escaped in `dialect` as the process's
/// release writes it ([`json_escape`](crate::json_escape) owns the rule).
pub fn write_json_string(out: &mut Vec<u8>, s: &str, dialect: Dialect) {
    json_escape::write_json_string(out, s, dialect, json_escape::process_release());
}

/// A streaming writer of fastjson-identical JSON. It inserts the commas; callers
/// say what comes next (`begin_object`, `key`, a value, ...).
///
/// ```
/// use namesrv_protocol::json::{Dialect, JsonOut};
/// let mut buf = Vec::new();
/// let mut w = JsonOut::new(&mut buf, Dialect::Legacy);
/// w.begin_object();
/// w.int_key(0);
/// w.str("a/b");
/// w.key("n");
/// w.i64(1);
/// w.end_object();
/// assert_eq!(buf, br#"{0:"a/b","n":1}"#);
/// ```
pub struct JsonOut<'a> {
    out: &'a mut Vec<u8>,
    dialect: Dialect,
    release: JsonRelease,
    /// One flag per open container: has it got a member yet?
    stack: Vec<bool>,
    /// A key was just written, so the next value needs no comma.
    after_key: bool,
}

impl<'a> JsonOut<'a> {
    /// A writer of the process's release ([`json_escape::process_release`]).
    pub fn new(out: &'a mut Vec<u8>, dialect: Dialect) -> Self {
        Self::with_release(out, dialect, json_escape::process_release())
    }

    /// A writer of `release`'s bytes, whatever the process's release.
    pub fn with_release(out: &'a mut Vec<u8>, dialect: Dialect, release: JsonRelease) -> Self {
        JsonOut {
            out,
            dialect,
            release,
            stack: Vec::new(),
            after_key: false,
        }
    }

    pub fn dialect(&self) -> Dialect {
        self.dialect
    }

    /// Writes the separating comma a new member needs, if any.
    fn member(&mut self) {
        if self.after_key {
            self.after_key = false;
            return;
        }
        if let Some(has) = self.stack.last_mut() {
            if *has {
                self.out.push(b',');
            }
            *has = true;
        }
    }

    pub fn begin_object(&mut self) {
        self.member();
        self.out.push(b'{');
        self.stack.push(false);
    }

    pub fn end_object(&mut self) {
        self.stack.pop();
        self.out.push(b'}');
    }

    pub fn begin_array(&mut self) {
        self.member();
        self.out.push(b'[');
        self.stack.push(false);
    }

    pub fn end_array(&mut self) {
        self.stack.pop();
        self.out.push(b']');
    }

    /// A String key (property name or String map key), escaped like values.
    pub fn key(&mut self, k: &str) {
        self.member();
        json_escape::write_json_string(self.out, k, self.dialect, self.release);
        self.out.push(b':');
        self.after_key = true;
    }

    /// An Integer/Long map key: bare in legacy, quoted in standard.
    pub fn int_key(&mut self, k: i64) {
        self.member();
        match self.dialect {
            Dialect::Legacy => self.push_decimal(k),
            Dialect::Standard => {
                self.out.push(b'"');
                self.push_decimal(k);
                self.out.push(b'"');
            }
        }
        self.out.push(b':');
        self.after_key = true;
    }

    pub fn str(&mut self, v: &str) {
        self.member();
        json_escape::write_json_string(self.out, v, self.dialect, self.release);
    }

    pub fn i32(&mut self, v: i32) {
        self.member();
        self.push_decimal(i64::from(v));
    }

    /// A Java long: a string beyond +-(2^53-1) in the standard dialect.
    pub fn i64(&mut self, v: i64) {
        self.member();
        if self.dialect == Dialect::Standard && !(-MAX_SAFE_LONG..=MAX_SAFE_LONG).contains(&v) {
            self.out.push(b'"');
            self.push_decimal(v);
            self.out.push(b'"');
        } else {
            self.push_decimal(v);
        }
    }

    pub fn bool(&mut self, v: bool) {
        self.member();
        self.out
            .extend_from_slice(if v { b"true" } else { b"false" });
    }

    pub fn null(&mut self) {
        self.member();
        self.out.extend_from_slice(b"null");
    }

    /// A complete, already-encoded JSON value.
    pub fn raw_value(&mut self, json: &[u8]) {
        self.member();
        self.out.extend_from_slice(json);
    }

    /// `"name":"v"`, left out when `v` is `None` (fastjson drops null properties).
    pub fn field_opt_str(&mut self, name: &str, v: Option<&str>) {
        if let Some(v) = v {
            self.key(name);
            self.str(v);
        }
    }

    pub fn field_str(&mut self, name: &str, v: &str) {
        self.key(name);
        self.str(v);
    }

    pub fn field_i32(&mut self, name: &str, v: i32) {
        self.key(name);
        self.i32(v);
    }

    pub fn field_i64(&mut self, name: &str, v: i64) {
        self.key(name);
        self.i64(v);
    }

    pub fn field_bool(&mut self, name: &str, v: bool) {
        self.key(name);
        self.bool(v);
    }

    /// A list of strings in the order given.
    pub fn str_array<S: AsRef<str>>(&mut self, items: impl IntoIterator<Item = S>) {
        self.begin_array();
        for s in items {
            self.str(s.as_ref());
        }
        self.end_array();
    }

    fn push_decimal(&mut self, v: i64) {
        // `Display` for integers matches Java's `Long.toString`.
        use std::io::Write;
        let _ = write!(self.out, "{v}");
    }
}

// ---------------------------------------------------------------------------
// Reader
// ---------------------------------------------------------------------------

/// Parses JSON in either dialect (bare integer keys allowed) into `T`.
pub fn parse_dialect<T: DeserializeOwned>(bytes: &[u8]) -> Result<T, serde_json::Error> {
    match quote_bare_keys(bytes) {
        Cow::Borrowed(b) => serde_json::from_slice(b),
        Cow::Owned(v) => serde_json::from_slice(&v),
    }
}

/// A quick, conservative pre-check: a bare key follows a `{` or `,` (after
/// whitespace). Register bodies are 100s of KiB of the standard dialect, so
/// skipping to those bytes with `memchr` saves the full scan nearly always; a
/// false positive (say `,1` inside a string) only costs the exact scan.
fn may_have_bare_key(src: &[u8]) -> bool {
    memchr::memchr2_iter(b'{', b',', src).any(|at| {
        src[at + 1..]
            .iter()
            .find(|b| !matches!(b, b' ' | b'\t' | b'\n' | b'\r'))
            .is_some_and(|b| matches!(b, b'-' | b'0'..=b'9'))
    })
}

/// Rewrites fastjson's unquoted numeric object keys (`{0:"a",-1:"b"}`) into
/// strings so serde_json accepts them. Only the key position of an object is
/// touched, and string contents are skipped, so digits in values, arrays and
/// strings stay as they are. Returns the input untouched when nothing is bare.
pub fn quote_bare_keys(src: &[u8]) -> Cow<'_, [u8]> {
    if !may_have_bare_key(src) {
        return Cow::Borrowed(src);
    }
    let mut out: Option<Vec<u8>> = None;
    let mut copied = 0;
    // true = inside an object; only there does ',' introduce a key.
    let mut stack: Vec<bool> = Vec::new();
    let mut expect_key = false;
    let mut i = 0;
    while i < src.len() {
        match src[i] {
            b'"' => {
                // Skip the string, honouring backslash escapes.
                i += 1;
                while i < src.len() {
                    match src[i] {
                        b'\\' => i += 2,
                        b'"' => break,
                        _ => i += 1,
                    }
                }
                expect_key = false;
            }
            b'{' => {
                stack.push(true);
                expect_key = true;
            }
            b'[' => {
                stack.push(false);
                expect_key = false;
            }
            b'}' | b']' => {
                stack.pop();
                expect_key = false;
            }
            b',' => expect_key = stack.last() == Some(&true),
            b' ' | b'\t' | b'\n' | b'\r' => {}
            b'-' | b'0'..=b'9' if expect_key => {
                let start = i;
                i += 1;
                while i < src.len()
                    && matches!(src[i], b'0'..=b'9' | b'.' | b'e' | b'E' | b'+' | b'-')
                {
                    i += 1;
                }
                let buf = out.get_or_insert_with(|| Vec::with_capacity(src.len() + 16));
                buf.extend_from_slice(&src[copied..start]);
                buf.push(b'"');
                buf.extend_from_slice(&src[start..i]);
                buf.push(b'"');
                copied = i;
                expect_key = false;
                continue;
            }
            _ => expect_key = false,
        }
        i += 1;
    }
    match out {
        None => Cow::Borrowed(src),
        Some(mut buf) => {
            buf.extend_from_slice(&src[copied.min(src.len())..]);
            Cow::Owned(buf)
        }
    }
}

/// A JSON scalar as fastjson would coerce it into a Java `String`: strings as
/// they are, other scalars in their JSON text, `null` as absent. Shared by the
/// header and body readers.
pub fn value_to_string(v: serde_json::Value) -> Option<String> {
    match v {
        serde_json::Value::Null => None,
        serde_json::Value::String(s) => Some(s),
        other => Some(other.to_string()),
    }
}
