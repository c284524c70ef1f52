//! The JSON header fast path: the headers real clients send (no whitespace
//! games, no escapes, integers as integers, string ext values), read without
//! building a `serde_json::Value`. It gives up (returns `None`) on anything else,
//! and the general decoder in [`super::json`] then answers, so both always agree:
//! `json`'s `fast_path_agrees_with_the_general_decoder` and the `header_json`
//! fuzz target hold it to that.

use super::json_keys::property;
use crate::command::{LanguageCode, RemotingCommand};

struct Scan<'a> {
    b: &'a [u8],
    i: usize,
}

impl<'a> Scan<'a> {
    fn ws(&mut self) {
        while self.i < self.b.len() && matches!(self.b[self.i], b' ' | b'\t' | b'\n' | b'\r') {
            self.i += 1;
        }
    }

    fn eat(&mut self, c: u8) -> Option<()> {
        self.ws();
        (self.b.get(self.i) == Some(&c)).then(|| self.i += 1)
    }

    fn peek(&mut self) -> Option<u8> {
        self.ws();
        self.b.get(self.i).copied()
    }

    /// A string without escapes, borrowed from the input.
    fn str(&mut self) -> Option<&'a str> {
        self.eat(b'"')?;
        let start = self.i;
        let (len, ascii) = string_end(&self.b[start..])?;
        if self.b[start + len] != b'"' {
            return None;
        }
        self.i = start + len + 1;
        let raw = &self.b[start..start + len];
        if ascii {
            // SAFETY: every byte is below 0x80, and ASCII is valid UTF-8.
            Some(unsafe { std::str::from_utf8_unchecked(raw) })
        } else {
            std::str::from_utf8(raw).ok()
        }
    }

    fn int(&mut self) -> Option<i32> {
        self.ws();
        let start = self.i;
        if self.b.get(self.i) == Some(&b'-') {
            self.i += 1;
        }
        let digits = self.b[self.i..]
            .iter()
            .take_while(|c| c.is_ascii_digit())
            .count();
        // JSON forbids leading zeros; leave such input to the general decoder.
        if digits == 0 || digits > 10 || (digits > 1 && self.b[self.i] == b'0') {
            return None;
        }
        let neg = self.i > start;
        let mut n: i64 = 0;
        for &c in &self.b[self.i..self.i + digits] {
            n = n * 10 + i64::from(c - b'0');
        }
        self.i += digits;
        if matches!(self.b.get(self.i), Some(b'.' | b'e' | b'E')) {
            return None;
        }
        // At most 10 digits: no i64 overflow; out of i32 range is rejected
        // exactly as `str::parse::<i32>` rejects it.
        i32::try_from(if neg { -n } else { n }).ok()
    }

    /// Skips a scalar (string without escapes, number, true/false/null).
    fn skip_scalar(&mut self) -> Option<()> {
        match self.peek()? {
            b'"' => self.str().map(|_| ()),
            b't' | b'f' | b'n' | b'-' | b'0'..=b'9' => {
                let n = self.b[self.i..]
                    .iter()
                    .take_while(|c| c.is_ascii_alphanumeric() || matches!(c, b'-' | b'+' | b'.'))
                    .count();
                let word = &self.b[self.i..self.i + n];
                let ok = matches!(word, b"true" | b"false" | b"null")
                    || serde_json::from_slice::<serde_json::Number>(word).is_ok();
                self.i += n;
                ok.then_some(())
            }
            _ => None,
        }
    }

    fn ext(&mut self) -> Option<Vec<(String, String)>> {
        self.eat(b'{')?;
        let mut ext: Vec<(String, String)> = Vec::with_capacity(4);
        if self.peek()? == b'}' {
            self.i += 1;
            return Some(ext);
        }
        loop {
            let k = self.str()?;
            self.eat(b':')?;
            let v = self.str()?;
            ext.push((k.to_string(), v.to_string()));
            match self.peek()? {
                b',' => self.i += 1,
                b'}' => {
                    self.i += 1;
                    break;
                }
                _ => return None,
            }
        }
        // The general decoder reads into a sorted map: last duplicate wins.
        // Already sorted without duplicates (one field, as in every route
        // lookup, or keys sent in order): nothing to rebuild, no second Vec.
        if ext.windows(2).all(|w| w[0].0 < w[1].0) {
            return Some(ext);
        }
        ext.sort_by(|a, b| a.0.cmp(&b.0));
        let mut out: Vec<(String, String)> = Vec::with_capacity(ext.len());
        for (k, v) in ext {
            match out.last_mut() {
                Some(last) if last.0 == k => last.1 = v,
                _ => out.push((k, v)),
            }
        }
        Some(out)
    }
}

/// Where a JSON string's contents end: the index of the first `"`, `\\` or
/// control byte (below 0x20), and whether every byte before it is ASCII.
/// Eight bytes at a time (SWAR): header strings are short, and a byte loop
/// plus a UTF-8 validation per string was a quarter of a route lookup.
fn string_end(b: &[u8]) -> Option<(usize, bool)> {
    const ONES: u64 = 0x0101_0101_0101_0101;
    const HIGH: u64 = 0x8080_8080_8080_8080;
    let mut ascii = true;
    let mut i = 0;
    while i + 8 <= b.len() {
        let mut w = [0u8; 8];
        w.copy_from_slice(&b[i..i + 8]);
        let x = u64::from_le_bytes(w);
        let quote = x ^ (ONES * u64::from(b'"'));
        let slash = x ^ (ONES * u64::from(b'\\'));
        // A byte is flagged when it is zero in `quote`/`slash`, or below 0x20
        // in `x`. (v - ONES) & !v & HIGH flags every byte below 1 correctly
        // up to the first one found, which is all that is used.
        let hit = ((quote.wrapping_sub(ONES) & !quote)
            | (slash.wrapping_sub(ONES) & !slash)
            | (x.wrapping_sub(ONES * 0x20) & !x))
            & HIGH;
        if hit != 0 {
            break;
        }
        ascii &= x & HIGH == 0;
        i += 8;
    }
    while i < b.len() {
        let c = b[i];
        if c == b'"' || c == b'\\' || c < 0x20 {
            return Some((i, ascii));
        }
        ascii &= c < 0x80;
        i += 1;
    }
    None
}

pub(super) fn decode(bytes: &[u8]) -> Option<RemotingCommand> {
    let mut s = Scan { b: bytes, i: 0 };
    let mut cmd = RemotingCommand {
        language: Some(LanguageCode::Java),
        ..RemotingCommand::default()
    };
    s.eat(b'{')?;
    if s.peek()? != b'}' {
        loop {
            let key = s.str()?;
            s.eat(b':')?;
            match key {
                "code" => cmd.code = s.int()?,
                "flag" => cmd.flag = s.int()?,
                "opaque" => cmd.opaque = s.int()?,
                "version" => cmd.version = s.int()?,
                "language" => {
                    cmd.language = LanguageCode::from_name_ignore_case(s.str()?);
                }
                "remark" => cmd.remark = Some(s.str()?.to_string()),
                "extFields" => cmd.ext_fields = Some(s.ext()?),
                // Written by every Java client and ignored (the type byte wins).
                "serializeTypeCurrentRPC" => s.skip_scalar()?,
                // Keys the general decoder would fold to a property: leave to it.
                k if property(k).is_some() => return None,
                _ => s.skip_scalar()?,
            }
            match s.peek()? {
                b',' => s.i += 1,
                b'}' => break,
                _ => return None,
            }
        }
    }
    s.eat(b'}')?;
    s.ws();
    (s.i == bytes.len()).then_some(cmd)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn string_end_agrees_with_a_byte_loop() {
        let naive = |b: &[u8]| {
            let end = b
                .iter()
                .position(|&c| c == b'"' || c == b'\\' || c < 0x20)?;
            Some((end, b[..end].iter().all(|&c| c < 0x80)))
        };
        let alphabet = b"aZ09_-\"\\\x00\x1f\x20\x7f\x80\xc3\xa9\xff";
        let mut seed: u64 = 0x2545_F491_4F6C_DD1D;
        for n in 0..2000usize {
            let len = n % 40;
            let mut b = Vec::with_capacity(len);
            for _ in 0..len {
                seed ^= seed << 13;
                seed ^= seed >> 7;
                seed ^= seed << 17;
                // Mostly plain letters, so the special bytes land at every offset.
                let c = if seed.is_multiple_of(5) {
                    alphabet[(seed >> 8) as usize % alphabet.len()]
                } else {
                    b'a' + (seed >> 16) as u8 % 26
                };
                b.push(c);
            }
            assert_eq!(string_end(&b), naive(&b), "input {b:?}");
        }
    }
}
