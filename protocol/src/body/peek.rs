//! Reads only the `dataVersion` of a REGISTER_BROKER body, for the re-registration
//! that brokers send every 30 s with nothing changed (upstream's
//! `RouteInfoManager#isBrokerTopicConfigChanged` compares nothing else).
//!
//! The scan walks the body's leading keys and stops at the version: it never
//! looks at the topic table, so it cannot tell a well-formed body from one that
//! is broken further on. Callers therefore trust it only for a body they have
//! seen decode in full before (the same bytes); for anything else, and whenever
//! this returns `None`, they decode the whole body.

use super::register::{peek_compressed_version, V3_0_11};
use super::tables::DataVersion;

impl super::RegisterBrokerBody {
    /// The body's DataVersion as [`Self::decode`] would read it, without the
    /// rest; `None` when the body does not have the usual shape (no version
    /// among its leading keys, escapes in a key, an empty body, ...).
    pub fn peek_data_version(
        body: Option<&[u8]>,
        compressed: bool,
        version: i32,
    ) -> Option<DataVersion> {
        let body = body.filter(|b| !b.is_empty())?;
        if version < 0 {
            return None;
        }
        if version < V3_0_11 {
            // A bare `TopicConfigSerializeWrapper`, compressed or not.
            return version_in(body, 0, &["dataVersion"]);
        }
        if compressed {
            return peek_compressed_version(body);
        }
        version_in(body, 0, &["topicConfigSerializeWrapper", "dataVersion"])
    }
}

/// Follows `path` (object keys, outermost first) from the object at `at` and
/// decodes the value at its end.
fn version_in(src: &[u8], at: usize, path: &[&str]) -> Option<DataVersion> {
    let (first, rest) = path.split_first()?;
    let mut s = Scan { src, at };
    s.ws();
    s.expect(b'{')?;
    loop {
        s.ws();
        let key = s.plain_key()?;
        s.ws();
        s.expect(b':')?;
        s.ws();
        if key == first.as_bytes() {
            if !rest.is_empty() {
                return version_in(src, s.at, rest);
            }
            let start = s.at;
            if src.get(start) != Some(&b'{') {
                return None;
            }
            s.skip_value()?;
            return DataVersion::decode(&src[start..s.at]).ok();
        }
        s.skip_value()?;
        s.ws();
        match s.next()? {
            b',' => continue,
            _ => return None,
        }
    }
}

/// A cursor over JSON text that can step over whole values.
struct Scan<'a> {
    src: &'a [u8],
    at: usize,
}

impl<'a> Scan<'a> {
    fn next(&mut self) -> Option<u8> {
        let b = *self.src.get(self.at)?;
        self.at += 1;
        Some(b)
    }

    fn expect(&mut self, want: u8) -> Option<()> {
        (self.next()? == want).then_some(())
    }

    fn ws(&mut self) {
        while matches!(self.src.get(self.at), Some(b' ' | b'\t' | b'\n' | b'\r')) {
            self.at += 1;
        }
    }

    /// A quoted key without escapes (the keys of these bodies never have any).
    fn plain_key(&mut self) -> Option<&'a [u8]> {
        self.expect(b'"')?;
        let start = self.at;
        loop {
            match self.next()? {
                b'"' => return self.src.get(start..self.at - 1),
                b'\\' => return None,
                _ => {}
            }
        }
    }

    /// Steps over a string (the opening quote already read).
    fn skip_string_rest(&mut self) -> Option<()> {
        let rest = self.src.get(self.at..)?;
        let mut i = 0;
        loop {
            let found = memchr::memchr2(b'"', b'\\', rest.get(i..)?)?;
            i += found;
            if rest[i] == b'"' {
                self.at += i + 1;
                return Some(());
            }
            i += 2;
        }
    }

    /// Steps over one value: nested objects and arrays by bracket depth,
    /// scalars up to the next delimiter. It checks only that brackets balance.
    fn skip_value(&mut self) -> Option<()> {
        let mut depth = 0usize;
        loop {
            match *self.src.get(self.at)? {
                b'"' => {
                    self.at += 1;
                    self.skip_string_rest()?;
                }
                b'{' | b'[' => {
                    depth += 1;
                    self.at += 1;
                }
                b'}' | b']' => {
                    depth = depth.checked_sub(1)?;
                    self.at += 1;
                }
                b',' | b':' if depth == 0 => return None,
                _ if depth > 0 => self.at += 1,
                _ => {
                    // A scalar: up to the next delimiter.
                    let start = self.at;
                    while !matches!(
                        self.src.get(self.at),
                        None | Some(b',' | b'}' | b']' | b' ' | b'\t' | b'\n' | b'\r')
                    ) {
                        self.at += 1;
                    }
                    return (self.at > start).then_some(());
                }
            }
            if depth == 0 {
                return Some(());
            }
        }
    }
}

#[cfg(test)]
mod tests;
