//! fastjson-compatible JSON.
//!
//! The Java NameServer serializes with fastjson 1.2.83. Two dialects matter:
//! - [`Dialect::Legacy`] (fastjson defaults): integer map keys unquoted
//!   (`{0:"10.0.0.1:10911"}`), maps in Java `HashMap` iteration order, `/` and
//!   non-ASCII raw, `"` `\` control chars and 0x7F escaped.
//! - [`Dialect::Standard`] (`BrowserCompatible + MapSortField`, route replies to new
//!   clients): all keys quoted, every map's keys sorted, `/` as `\/`, chars >= 0x7F
//!   as `\uXXXX`, longs beyond +-(2^53-1) as strings.
//!
//! Rule used across [`crate::body`]: *maps* are ordered by the encoder according to
//! the dialect; *lists* are written in the order the caller gives.

use serde::de::DeserializeOwned;

/// Which of fastjson's two outputs to produce.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Dialect {
    Legacy,
    Standard,
}

/// Java's `String.hashCode` (over UTF-16 code units).
pub fn java_string_hash(s: &str) -> i32 {
    let _ = s;
    todo!()
}

/// Java's `Long.hashCode`.
pub fn java_long_hash(v: i64) -> i32 {
    (v ^ ((v as u64) >> 32) as i64) as i32
}

/// Reorders `items` into the iteration order of a Java `HashMap` holding exactly
/// these keys (capacity as grown from 16 by inserts; ties in a bucket keep the
/// order given). `hash` is the key's Java `hashCode`.
pub fn java_hash_order<T>(items: &mut [T], hash: impl Fn(&T) -> i32) {
    let _ = (items, hash);
    todo!()
}

/// Parses JSON in either dialect (bare integer keys allowed) into `T`.
pub fn parse_dialect<T: DeserializeOwned>(bytes: &[u8]) -> Result<T, serde_json::Error> {
    let _ = bytes;
    todo!()
}
