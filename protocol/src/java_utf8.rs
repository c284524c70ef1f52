//! Bytes to text as Java's `new String(bytes, UTF_8)` does (JDK 17's
//! `String#decodeUTF8_UTF16` with replacement; netty's
//! `ByteBuf#readCharSequence` gives the same): every malformed sequence becomes
//! U+FFFD. Java's choice of how many bytes one U+FFFD stands for differs from
//! Rust's `String::from_utf8_lossy` (an encoded surrogate `ED A0 80` is one
//! U+FFFD in Java, three in Rust), and the replaced text is echoed back in
//! remarks and stored as KV keys, so the count matters.
//!
//! A JSON header is read by fastjson2 (5.5.0), whose string scan differs again:
//! see [`repair_json_strings`].

use std::borrow::Cow;

use crate::error::HeaderError;
use crate::json::Dialect;
use crate::json_escape::{write_json_string, JsonRelease};

const REPL: char = '\u{FFFD}';

fn not_continuation(b: u8) -> bool {
    b & 0xC0 != 0x80
}

/// `String#isMalformed3_2`: the second byte already rules the sequence out.
fn malformed3_2(b1: u8, b2: u8) -> bool {
    (b1 == 0xE0 && b2 & 0xE0 == 0x80) || not_continuation(b2)
}

/// `String#isMalformed4_2`.
fn malformed4_2(b1: u8, b2: u8) -> bool {
    (b1 == 0xF0 && !(0x90..=0xBF).contains(&b2))
        || (b1 == 0xF4 && b2 & 0xF0 != 0x80)
        || not_continuation(b2)
}

/// How many bytes one U+FFFD replaces at a malformed 3-byte sequence
/// (`String#malformed3`).
fn skip3(b1: u8, b2: u8) -> usize {
    if malformed3_2(b1, b2) {
        1
    } else {
        2
    }
}

/// The same for a 4-byte sequence (`String#malformed4`).
fn skip4(b1: u8, b2: u8, b3: u8) -> usize {
    if b1 > 0xF4 || malformed4_2(b1, b2) {
        1
    } else if not_continuation(b3) {
        2
    } else {
        3
    }
}

/// `bytes` as Java reads them; borrowed when they are valid UTF-8.
pub fn decode(bytes: &[u8]) -> Cow<'_, str> {
    match std::str::from_utf8(bytes) {
        Ok(s) => Cow::Borrowed(s),
        Err(_) => Cow::Owned(decode_lossy(bytes)),
    }
}

fn decode_lossy(src: &[u8]) -> String {
    let mut out = String::with_capacity(src.len() + 8);
    let sl = src.len();
    let mut sp = 0;
    while sp < sl {
        let b1 = src[sp];
        sp += 1;
        match b1 {
            0x00..=0x7F => out.push(char::from(b1)),
            0xC2..=0xDF => {
                if sp < sl {
                    let b2 = src[sp];
                    if not_continuation(b2) {
                        out.push(REPL);
                    } else {
                        sp += 1;
                        push_code(&mut out, (u32::from(b1 & 0x1F) << 6) | u32::from(b2 & 0x3F));
                    }
                    continue;
                }
                out.push(REPL);
                break;
            }
            0xE0..=0xEF => {
                if sp + 1 < sl {
                    let (b2, b3) = (src[sp], src[sp + 1]);
                    if malformed3_2(b1, b2) || not_continuation(b3) {
                        out.push(REPL);
                        sp = sp - 1 + skip3(b1, b2);
                    } else {
                        sp += 2;
                        let c = (u32::from(b1 & 0x0F) << 12)
                            | (u32::from(b2 & 0x3F) << 6)
                            | u32::from(b3 & 0x3F);
                        // An encoded surrogate is one malformed unit of three bytes.
                        push_code(&mut out, c);
                    }
                    continue;
                }
                if sp < sl && malformed3_2(b1, src[sp]) {
                    out.push(REPL);
                    continue;
                }
                out.push(REPL);
                break;
            }
            0xF0..=0xF7 => {
                if sp + 2 < sl {
                    let (b2, b3, b4) = (src[sp], src[sp + 1], src[sp + 2]);
                    let uc = (u32::from(b1 & 0x07) << 18)
                        | (u32::from(b2 & 0x3F) << 12)
                        | (u32::from(b3 & 0x3F) << 6)
                        | u32::from(b4 & 0x3F);
                    let bad = not_continuation(b2)
                        || not_continuation(b3)
                        || not_continuation(b4)
                        || !(0x1_0000..=0x10_FFFF).contains(&uc);
                    if bad {
                        out.push(REPL);
                        sp = sp - 1 + skip4(b1, b2, b3);
                    } else {
                        sp += 3;
                        push_code(&mut out, uc);
                    }
                    continue;
                }
                if b1 > 0xF4 || (sp < sl && malformed4_2(b1, src[sp])) {
                    out.push(REPL);
                    continue;
                }
                sp += 1;
                out.push(REPL);
                if sp < sl && not_continuation(src[sp]) {
                    continue;
                }
                break;
            }
            _ => out.push(REPL),
        }
    }
    out
}

/// A JSON header that is not valid UTF-8, rewritten as the valid UTF-8 JSON
/// fastjson2 2.0.59 reads it as (`JSONReaderUTF8#readString`): a string's end
/// is found by stepping over each non-ASCII byte by the length its lead byte
/// announces (`C0..DF` two bytes, `E0..EF` three, `F0..F7` four, without
/// looking at what follows, so a malformed sequence can swallow the closing
/// quote), then the string's bytes are decoded by `new String(bytes, UTF_8)`.
/// A continuation byte or `F8..FF` as a lead byte is fastjson2's "malformed
/// input" error, as is non-ASCII outside a string. A string holding both an
/// escape and malformed UTF-8 is refused too: fastjson2 decodes those bytes
/// without any check, into text no Java client can have meant.
pub fn repair_json_strings(src: &[u8]) -> Result<Vec<u8>, HeaderError> {
    let mut out = Vec::with_capacity(src.len() + 16);
    let mut i = 0;
    while i < src.len() {
        let c = src[i];
        if c >= 0x80 {
            return Err(HeaderError::malformed(format!(
                "JSON header: non-ASCII byte {c:#04x} outside a string at {i}"
            )));
        }
        if c != b'"' {
            out.push(c);
            i += 1;
            continue;
        }
        let start = i + 1;
        let (end, escaped) = string_end(src, start)?;
        let raw = &src[start..end];
        if std::str::from_utf8(raw).is_ok() {
            out.extend_from_slice(&src[i..=end]);
        } else if escaped {
            return Err(HeaderError::malformed(format!(
                "JSON header: a string at {i} holds both escapes and malformed UTF-8"
            )));
        } else {
            // The one escaping rule of 5.5's encoder; the rewritten header is only
            // parsed again, so any correct escaping would do.
            write_json_string(&mut out, &decode(raw), Dialect::Legacy, JsonRelease::V5_5);
        }
        i = end + 1;
    }
    Ok(out)
}

/// Where the string whose contents start at `start` ends (the index of its
/// closing quote, as fastjson2's scan finds it), and whether it has escapes.
fn string_end(src: &[u8], start: usize) -> Result<(usize, bool), HeaderError> {
    let mut i = start;
    let mut escaped = false;
    while i < src.len() {
        let c = src[i];
        i += match c {
            b'"' => return Ok((i, escaped)),
            b'\\' => {
                escaped = true;
                match src.get(i + 1) {
                    Some(b'u') => 6,
                    Some(b'x') => 4,
                    _ => 2,
                }
            }
            0x00..=0x7F => 1,
            0xC0..=0xDF => 2,
            0xE0..=0xEF => 3,
            0xF0..=0xF7 => 4,
            _ => {
                return Err(HeaderError::malformed(format!(
                    "JSON header: malformed input around byte {i}"
                )))
            }
        };
    }
    Err(HeaderError::malformed("JSON header: unterminated string"))
}

/// A decoded code point; surrogates (never valid in UTF-8) are U+FFFD.
fn push_code(out: &mut String, c: u32) {
    out.push(char::from_u32(c).unwrap_or(REPL));
}

#[cfg(test)]
mod tests {
    use super::{decode, repair_json_strings};

    /// Each input as `new String(bytes, StandardCharsets.UTF_8)` reads it on
    /// JDK 17 (printed by a Java snippet against the same bytes).
    #[test]
    fn replacement_matches_java() {
        let cases: &[(&[u8], &str)] = &[
            (b"a\xFFb", "a\u{FFFD}b"),
            (b"a\xC3bb", "a\u{FFFD}bb"),
            (b"a\xC3", "a\u{FFFD}"),
            (b"a\xE2\x82b", "a\u{FFFD}b"),
            (b"a\xED\xA0\x80b", "a\u{FFFD}b"),
            (b"a\xF0\x9F\x98b", "a\u{FFFD}b"),
            (b"a\xC0\xAFb", "a\u{FFFD}\u{FFFD}b"),
            (b"a\x80b", "a\u{FFFD}b"),
            (
                b"a\xF8\x88\x80\x80\x80b",
                "a\u{FFFD}\u{FFFD}\u{FFFD}\u{FFFD}\u{FFFD}b",
            ),
            (b"a\xF4\x90\x80\x80b", "a\u{FFFD}\u{FFFD}\u{FFFD}\u{FFFD}b"),
            (b"a\xE0\x80\x80b", "a\u{FFFD}\u{FFFD}\u{FFFD}b"),
            (b"a\xF0\x9F\x98\x80b", "a\u{1F600}b"),
            (b"a\xE2(\xA1b", "a\u{FFFD}(\u{FFFD}b"),
            (b"a\xEF\xBF\xBFb", "a\u{FFFF}b"),
            (b"a\xF0\x90\x80b", "a\u{FFFD}b"),
            (b"a\xE1\x80\xC3\xA9b", "a\u{FFFD}\u{E9}b"),
        ];
        for (input, want) in cases {
            assert_eq!(decode(input), *want, "input {input:?}");
        }
    }

    /// What fastjson2 2.0.59 reads from each string (a Java snippet decoding
    /// the same header bytes with `RemotingCommand#decode`), or `None` where it
    /// throws.
    #[test]
    fn json_strings_as_fastjson2_reads_them() {
        let header = |v: &[u8]| {
            let mut h = br#"{"code":105,"extFields":{"topic":""#.to_vec();
            h.extend_from_slice(v);
            h.extend_from_slice(br#""},"remark":""#);
            h.extend_from_slice(v);
            h.extend_from_slice(br#"","version":479}"#);
            h
        };
        let cases: &[(&[u8], Option<&str>)] = &[
            (b"a\xC3bb", Some("a\u{FFFD}bb")),
            (b"a\xED\xA0\x80", Some("a\u{FFFD}")),
            (b"a\xC0\xAFb", Some("a\u{FFFD}\u{FFFD}b")),
            (b"a\xE2(\xA1b", Some("a\u{FFFD}(\u{FFFD}b")),
            (b"a\xC3\\nb", Some("a\u{FFFD}\\nb")),
            (
                b"a\xF4\x90\x80\x80",
                Some("a\u{FFFD}\u{FFFD}\u{FFFD}\u{FFFD}"),
            ),
            (b"a\xFFb", None),
            (b"a\x80b", None),
            (b"a\xE1\x80\xC3\xA9b", None),
        ];
        for (v, want) in cases {
            let got = repair_json_strings(&header(v)).ok().map(|h| {
                let j: serde_json::Value = serde_json::from_slice(&h).unwrap();
                let topic = j["extFields"]["topic"].as_str().unwrap().to_string();
                assert_eq!(j["remark"].as_str(), Some(topic.as_str()));
                topic
            });
            assert_eq!(got.as_deref(), *want, "value {v:?}");
        }
        // `C3` before the closing quote swallows it: the string runs on into
        // the rest of the header, which no longer parses (fastjson2: "illegal input").
        let swallowed = repair_json_strings(b"{\"remark\":\"a\xC3\",\"code\":1}");
        assert!(
            swallowed.map_or(true, |h| serde_json::from_slice::<serde_json::Value>(&h)
                .is_err())
        );
    }
}
