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

use serde::de::DeserializeOwned;

use crate::json_escape::{self, JsonRelease};

/// Which of fastjson's two outputs to produce.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Dialect {
    Legacy,
    Standard,
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
