//! ROCKETMQ binary header codec (serialize type 1).
//!
//! Layout, all big-endian: `code:i16 | language:u8 | version:i16 | opaque:i32 |
//! flag:i32 | remark_len:i32 + remark | ext_len:i32 + (key_len:i16 + key +
//! val_len:i32 + val)*`. A zero length stands for null in both directions.

use std::collections::HashMap;

use super::ext_order::java_ext_order;
use crate::command::{LanguageCode, RemotingCommand};
use crate::error::HeaderError;
use crate::java_utf8;

/// The fixed part plus the two length words: the smallest valid header.
pub const MIN_HEADER_LEN: usize = 21;

/// Writes `cmd` as `RocketMQSerializable.rocketMQProtocolEncode` does.
///
/// `code` and `version` are truncated to 16 bits as Java's `writeShort` does. A
/// `None` language is written as JAVA (Java's field default; upstream would throw).
/// Ext entries are written in Java HashMap order so the bytes match upstream's; a key
/// longer than an `i16` can describe is skipped rather than written corrupt.
pub fn encode(cmd: &RemotingCommand, out: &mut Vec<u8>) {
    out.extend_from_slice(&(cmd.code as i16).to_be_bytes());
    out.push(cmd.language.unwrap_or(LanguageCode::Java) as u8);
    out.extend_from_slice(&(cmd.version as i16).to_be_bytes());
    out.extend_from_slice(&cmd.opaque.to_be_bytes());
    out.extend_from_slice(&cmd.flag.to_be_bytes());
    match cmd.remark.as_deref() {
        Some(r) if !r.is_empty() => {
            out.extend_from_slice(&len_i32(r.len()).to_be_bytes());
            out.extend_from_slice(r.as_bytes());
        }
        _ => out.extend_from_slice(&0i32.to_be_bytes()),
    }
    let len_at = out.len();
    out.extend_from_slice(&0i32.to_be_bytes()); // ext_len, patched below
    if let Some(ext) = cmd.ext_fields.as_deref() {
        for (k, v) in java_ext_order(ext) {
            let Ok(klen) = i16::try_from(k.len()) else {
                continue;
            };
            out.extend_from_slice(&klen.to_be_bytes());
            out.extend_from_slice(k.as_bytes());
            out.extend_from_slice(&len_i32(v.len()).to_be_bytes());
            out.extend_from_slice(v.as_bytes());
        }
    }
    let ext_len = len_i32(out.len() - len_at - 4);
    out[len_at..len_at + 4].copy_from_slice(&ext_len.to_be_bytes());
}

/// Lengths beyond `i32::MAX` cannot occur in a frame (its header length has 24
/// bits); saturate rather than wrap to a negative length.
fn len_i32(n: usize) -> i32 {
    i32::try_from(n).unwrap_or(i32::MAX)
}

fn bad(msg: impl Into<String>) -> HeaderError {
    HeaderError::malformed(msg)
}

/// A bounds-checked big-endian reader over the header bytes.
struct Reader<'a> {
    buf: &'a [u8],
    pos: usize,
}

impl<'a> Reader<'a> {
    fn remaining(&self) -> usize {
        self.buf.len() - self.pos
    }

    fn take(&mut self, n: usize) -> Result<&'a [u8], HeaderError> {
        if n > self.remaining() {
            return Err(bad(format!(
                "binary header needs {n} more bytes at offset {}, has {}",
                self.pos,
                self.remaining()
            )));
        }
        let s = &self.buf[self.pos..self.pos + n];
        self.pos += n;
        Ok(s)
    }

    fn array<const N: usize>(&mut self) -> Result<[u8; N], HeaderError> {
        let mut a = [0u8; N];
        a.copy_from_slice(self.take(N)?);
        Ok(a)
    }

    fn u8(&mut self) -> Result<u8, HeaderError> {
        Ok(self.array::<1>()?[0])
    }

    fn i16(&mut self) -> Result<i16, HeaderError> {
        Ok(i16::from_be_bytes(self.array()?))
    }

    fn i32(&mut self) -> Result<i32, HeaderError> {
        Ok(i32::from_be_bytes(self.array()?))
    }

    /// A length-prefixed UTF-8 string (upstream `RocketMQSerializable#readStr`): 0 is null; a negative
    /// length, one above `limit`, or one past the header's end is an error.
    fn string(
        &mut self,
        len: i32,
        limit: usize,
        what: &str,
    ) -> Result<Option<String>, HeaderError> {
        if len == 0 {
            return Ok(None);
        }
        let n = usize::try_from(len).map_err(|_| bad(format!("negative {what} length {len}")))?;
        if n > limit {
            return Err(bad(format!("{what} length {n} exceeds limit {limit}")));
        }
        let bytes = self.take(n)?;
        // Malformed UTF-8 becomes U+FFFD, as netty's `readCharSequence` reads it.
        Ok(Some(java_utf8::decode(bytes).into_owned()))
    }
}

/// Reads a binary header occupying all of `bytes`.
pub fn decode(bytes: &[u8]) -> Result<RemotingCommand, HeaderError> {
    let hdr_len = bytes.len();
    if hdr_len < MIN_HEADER_LEN {
        return Err(bad(format!(
            "binary header of {hdr_len} bytes is shorter than {MIN_HEADER_LEN}"
        )));
    }
    let mut r = Reader { buf: bytes, pos: 0 };
    let code = i32::from(r.i16()?);
    // Unknown language bytes decode to null, as `LanguageCode.valueOf(byte)` does.
    let language = LanguageCode::from_ordinal(i64::from(r.u8()?));
    let version = i32::from(r.i16()?);
    let opaque = r.i32()?;
    let flag = r.i32()?;
    let remark_len = r.i32()?;
    let remark = r.string(remark_len, hdr_len, "remark")?;

    let ext_len = r.i32()?;
    if ext_len < 0 {
        return Err(bad(format!("negative extFields length {ext_len}")));
    }
    let ext_len = ext_len as usize; // non-negative i32 always fits
    let ext_fields = if ext_len == 0 {
        None
    } else {
        if ext_len > hdr_len {
            return Err(bad(format!(
                "extFields length {ext_len} exceeds header length {hdr_len}"
            )));
        }
        if ext_len > r.remaining() {
            return Err(bad(format!(
                "extFields length {ext_len} exceeds the {} bytes left in the header",
                r.remaining()
            )));
        }
        Some(read_ext(&mut r, ext_len)?)
    };
    // Bytes after the ext section are ignored. (Upstream decodes from the whole frame
    // and would count them as body; our header slice is exactly `hdr_len` bytes.)
    Ok(RemotingCommand {
        code,
        language,
        version,
        opaque,
        flag,
        remark,
        ext_fields,
    })
}

/// The ext map (upstream `mapDeserialize`). As upstream, the loop runs while the
/// cursor is short of the section's end and string lengths are limited by `ext_len`,
/// so the last entry may run past the announced end if the header holds it. A
/// repeated key keeps its last value, as `HashMap.put` does.
fn read_ext(r: &mut Reader<'_>, ext_len: usize) -> Result<Vec<(String, String)>, HeaderError> {
    let end = r.pos + ext_len;
    let mut fields = ExtMap::Few(Vec::new());
    while r.pos < end {
        let klen = r.i16()?;
        let key = r.string(i32::from(klen), ext_len, "extFields key")?;
        let vlen = r.i32()?;
        let val = r.string(vlen, ext_len, "extFields value")?;
        // A null key is unreachable by lookups, so it is dropped.
        let Some(key) = key else { continue };
        fields.put(key, val);
    }
    Ok(fields.into_fields())
}

/// Fields kept in a vector are looked up by a scan; past this many, by a hash
/// map, so a header of thousands of fields (the peer chooses) costs O(n).
const SCANNED_FIELDS: usize = 32;

/// The ext fields being decoded, in the order each key was (last) inserted.
enum ExtMap {
    Few(Vec<(String, String)>),
    /// Key to (insertion number, value); `next` is the next insertion number.
    Many {
        map: HashMap<String, (usize, String)>,
        next: usize,
    },
}

impl ExtMap {
    /// `put(key, val)`: a present key takes the new value in place; a null value
    /// unmaps the key (as good as absent); a new key goes last.
    fn put(&mut self, key: String, val: Option<String>) {
        match self {
            ExtMap::Few(fields) => {
                let existing = fields.iter().position(|(k, _)| *k == key);
                match (existing, val) {
                    (Some(i), Some(val)) => fields[i].1 = val,
                    (None, Some(val)) => fields.push((key, val)),
                    (Some(i), None) => {
                        fields.remove(i);
                    }
                    (None, None) => {}
                }
                if fields.len() > SCANNED_FIELDS {
                    let next = fields.len();
                    let map = fields
                        .drain(..)
                        .enumerate()
                        .map(|(i, (k, v))| (k, (i, v)))
                        .collect();
                    *self = ExtMap::Many { map, next };
                }
            }
            ExtMap::Many { map, next } => match val {
                Some(val) => match map.get_mut(&key) {
                    Some(slot) => slot.1 = val,
                    None => {
                        map.insert(key, (*next, val));
                        *next += 1;
                    }
                },
                None => {
                    map.remove(&key);
                }
            },
        }
    }

    fn into_fields(self) -> Vec<(String, String)> {
        match self {
            ExtMap::Few(fields) => fields,
            ExtMap::Many { map, .. } => {
                let mut numbered: Vec<(String, (usize, String))> = map.into_iter().collect();
                numbered.sort_unstable_by_key(|(_, (n, _))| *n);
                numbered.into_iter().map(|(k, (_, v))| (k, v)).collect()
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::ExtMap;

    /// The decoder before [`ExtMap`]: a scan per field, whatever the count.
    fn scanned(events: &[(String, Option<String>)]) -> Vec<(String, String)> {
        let mut fields: Vec<(String, String)> = Vec::new();
        for (key, val) in events.iter().cloned() {
            let existing = fields.iter().position(|(k, _)| *k == key);
            match (existing, val) {
                (Some(i), Some(val)) => fields[i].1 = val,
                (None, Some(val)) => fields.push((key, val)),
                (Some(i), None) => {
                    fields.remove(i);
                }
                (None, None) => {}
            }
        }
        fields
    }

    fn mapped(events: &[(String, Option<String>)]) -> Vec<(String, String)> {
        let mut map = ExtMap::Few(Vec::new());
        for (key, val) in events.iter().cloned() {
            map.put(key, val);
        }
        map.into_fields()
    }

    #[test]
    fn many_distinct_fields_keep_their_order() {
        let events: Vec<(String, Option<String>)> = (0..5000)
            .rev()
            .map(|i| (format!("k{i}"), Some(format!("v{i}"))))
            .collect();
        assert_eq!(mapped(&events), scanned(&events));
    }

    proptest::proptest! {
        #[test]
        fn decodes_as_the_scan_did(
            events in proptest::collection::vec(
                ("k[0-9]{1,2}", proptest::option::weighted(0.8, "[a-c]{0,2}")),
                0..300,
            ),
        ) {
            proptest::prop_assert_eq!(mapped(&events), scanned(&events));
        }
    }
}
