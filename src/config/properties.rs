//! The Java properties text format, both ways: [`parse_properties`] reads it as
//! `java.util.Properties#load(InputStream)` does, [`store_text`] writes it as
//! `java.util.Properties#store(OutputStream, String)` does (its `saveConvert`
//! escaping), so that whatever is written reads back to exactly the same pairs.
//!
//! One deliberate difference: Java strings may hold a lone UTF-16 surrogate (from
//! an escape such as `\uD800`), Rust strings cannot. Rather than replace it with
//! U+FFFD (and so persist a value other than the one given), the parser refuses the
//! text ([`PropertiesError::LoneSurrogate`]); 318 answers it like any other
//! unparsable body.

/// A `java.util.Properties.load` failure.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PropertiesError {
    /// A `\u` escape not followed by four hex digits (Java's message).
    #[error("Malformed \\uxxxx encoding. (line {line})")]
    MalformedUnicodeEscape { line: usize },
    /// A `\u` escape (or a pair of them) that is half of a UTF-16 surrogate pair:
    /// a Rust string cannot hold it (ours; Java keeps the lone surrogate).
    #[error("unpaired UTF-16 surrogate in a \\u escape (line {line})")]
    LoneSurrogate { line: usize },
}

/// Parses a Java properties text the way `java.util.Properties.load(InputStream)`
/// does: bytes are ISO-8859-1; `#`/`!` comment lines; `=`, `:` or whitespace
/// between key and value; backslash escapes (`\t \n \r \f \uXXXX`, any other
/// char stands for itself); a line ending in an odd number of backslashes
/// continues on the next one, whose leading whitespace is skipped. Returns the
/// pairs in file order (a repeated key appears twice; the last one wins in Java).
pub fn parse_properties(bytes: &[u8]) -> Result<Vec<(String, String)>, PropertiesError> {
    // ISO-8859-1: every byte is the char of the same number.
    let chars: Vec<char> = bytes.iter().map(|&b| char::from(b)).collect();
    let mut out = Vec::new();
    let mut reader = LineReader {
        chars: &chars,
        pos: 0,
        line: 1,
    };
    while let Some((start_line, logical)) = reader.next_logical_line() {
        let (key, value) = split_key_value(&logical);
        let key = unescape(key).map_err(|e| e.at(start_line))?;
        let value = unescape(value).map_err(|e| e.at(start_line))?;
        out.push((key, value));
    }
    Ok(out)
}

fn is_prop_ws(c: char) -> bool {
    c == ' ' || c == '\t' || c == '\x0c'
}

/// Java's `Properties.LineReader` (JDK 9+ behaviour, checked against JDK 17):
/// yields logical lines with comments and blank lines dropped, continuations
/// joined, escapes still in place.
struct LineReader<'a> {
    chars: &'a [char],
    pos: usize,
    /// 1-based number of the natural line at `pos`, for messages.
    line: usize,
}

impl LineReader<'_> {
    /// The next char, counting natural lines (`\r\n` counts once).
    fn next_char(&mut self) -> Option<char> {
        let c = *self.chars.get(self.pos)?;
        self.pos += 1;
        if c == '\n' || (c == '\r' && self.chars.get(self.pos) != Some(&'\n')) {
            self.line += 1;
        }
        Some(c)
    }

    fn next_logical_line(&mut self) -> Option<(usize, Vec<char>)> {
        let mut buf: Vec<char> = Vec::new();
        let mut skip_ws = true;
        let mut appended_line_begin = false;
        let mut preceding_backslash = false;
        let mut skip_lf = false;
        let mut start_line = self.line;
        loop {
            let Some(c) = self.next_char() else {
                // End of input.
                if buf.is_empty() {
                    return None;
                }
                if preceding_backslash {
                    buf.pop();
                }
                return Some((start_line, buf));
            };
            if skip_lf {
                skip_lf = false;
                if c == '\n' {
                    continue;
                }
            }
            if skip_ws {
                if is_prop_ws(c) {
                    continue;
                }
                if !appended_line_begin && (c == '\r' || c == '\n') {
                    continue;
                }
                skip_ws = false;
                appended_line_begin = false;
            }
            // Nothing kept yet on this logical line (also right after a
            // continuation of a line that held only the backslash): a comment.
            if buf.is_empty() && (c == '#' || c == '!') {
                while let Some(d) = self.next_char() {
                    if d == '\r' || d == '\n' {
                        break;
                    }
                }
                skip_ws = true;
                continue;
            }
            if c != '\n' && c != '\r' {
                if buf.is_empty() {
                    start_line = self.line;
                }
                buf.push(c);
                if c == '\\' {
                    preceding_backslash = !preceding_backslash;
                } else {
                    preceding_backslash = false;
                }
                continue;
            }
            // End of a natural line.
            if buf.is_empty() {
                skip_ws = true;
                continue;
            }
            if self.pos >= self.chars.len() {
                if preceding_backslash {
                    buf.pop();
                }
                return Some((start_line, buf));
            }
            if preceding_backslash {
                // Continuation: drop the backslash, skip the next line's indent.
                buf.pop();
                skip_ws = true;
                appended_line_begin = true;
                preceding_backslash = false;
                if c == '\r' {
                    skip_lf = true;
                }
            } else {
                return Some((start_line, buf));
            }
        }
    }
}

/// Splits a logical line into its (still escaped) key and value, as `load0`.
fn split_key_value(line: &[char]) -> (&[char], &[char]) {
    let limit = line.len();
    let mut key_len = 0;
    let mut value_start = limit;
    let mut has_sep = false;
    let mut preceding_backslash = false;
    while key_len < limit {
        let c = line[key_len];
        if (c == '=' || c == ':') && !preceding_backslash {
            value_start = key_len + 1;
            has_sep = true;
            break;
        } else if is_prop_ws(c) && !preceding_backslash {
            value_start = key_len + 1;
            break;
        }
        if c == '\\' {
            preceding_backslash = !preceding_backslash;
        } else {
            preceding_backslash = false;
        }
        key_len += 1;
    }
    while value_start < limit {
        let c = line[value_start];
        if !is_prop_ws(c) {
            if !has_sep && (c == '=' || c == ':') {
                has_sep = true;
            } else {
                break;
            }
        }
        value_start += 1;
    }
    (&line[..key_len], &line[value_start..])
}

/// Why [`unescape`] failed (the line is added by the caller).
enum UnescapeError {
    Malformed,
    LoneSurrogate,
}

impl UnescapeError {
    fn at(self, line: usize) -> PropertiesError {
        match self {
            Self::Malformed => PropertiesError::MalformedUnicodeEscape { line },
            Self::LoneSurrogate => PropertiesError::LoneSurrogate { line },
        }
    }
}

/// Java's `loadConvert`. Works on UTF-16 units so `\uD83D\uDE00` pairs up.
fn unescape(s: &[char]) -> Result<String, UnescapeError> {
    let mut units: Vec<u16> = Vec::with_capacity(s.len());
    let mut i = 0;
    while i < s.len() {
        let c = s[i];
        i += 1;
        if c != '\\' {
            let mut tmp = [0u16; 2];
            units.extend_from_slice(c.encode_utf16(&mut tmp));
            continue;
        }
        let Some(&e) = s.get(i) else {
            // A lone trailing backslash cannot survive the line reader; drop it.
            break;
        };
        i += 1;
        let unit = match e {
            'u' => {
                let mut v: u16 = 0;
                for _ in 0..4 {
                    let d = s
                        .get(i)
                        .and_then(|c| c.to_digit(16))
                        .ok_or(UnescapeError::Malformed)?;
                    i += 1;
                    v = (v << 4) | d as u16;
                }
                v
            }
            't' => '\t' as u16,
            'r' => '\r' as u16,
            'n' => '\n' as u16,
            'f' => 0x0c,
            other => {
                let mut tmp = [0u16; 2];
                units.extend_from_slice(other.encode_utf16(&mut tmp));
                continue;
            }
        };
        units.push(unit);
    }
    String::from_utf16(&units).map_err(|_| UnescapeError::LoneSurrogate)
}

/// The text `java.util.Properties#store(OutputStream, String)` writes for
/// `pairs` (without its `#date` comment line), one `key=value\n` line each, in
/// the order given. Keys and values are escaped by [`escape_key`] and
/// [`escape_value`]; the result is pure ASCII and [`parse_properties`] reads it
/// back to exactly `pairs`.
pub fn store_text<'a>(pairs: impl IntoIterator<Item = (&'a str, &'a str)>) -> String {
    let mut out = String::new();
    for (key, value) in pairs {
        escape_key(key, &mut out);
        out.push('=');
        escape_value(value, &mut out);
        out.push('\n');
    }
    out
}

/// Appends `key` escaped as `Properties#store` does: every space is escaped, so
/// none can end the key.
pub fn escape_key(key: &str, out: &mut String) {
    save_convert(key, true, out);
}

/// Appends `value` escaped as `Properties#store` does: only a leading space is
/// escaped (the parser would skip it), inner and trailing ones stay.
pub fn escape_value(value: &str, out: &mut String) {
    save_convert(value, false, out);
}

/// `java.util.Properties#saveConvert` with `escapeUnicode` on (as `store` to a
/// stream uses it): `\` doubled; tab, line feed, carriage return and form feed as
/// `\t \n \r \f`; `= : # !` preceded by `\` (so none can split a line, start a
/// comment or end a key); every other char below U+0020 or above U+007E as
/// `\uXXXX` with upper-case hex, one escape per UTF-16 code unit (a char above
/// U+FFFF becomes its surrogate pair, which the parser joins again).
fn save_convert(s: &str, escape_space: bool, out: &mut String) {
    const HEX: &[u8; 16] = b"0123456789ABCDEF";
    for (index, unit) in s.encode_utf16().enumerate() {
        match unit {
            0x5c => out.push_str("\\\\"),
            0x20 => {
                if index == 0 || escape_space {
                    out.push('\\');
                }
                out.push(' ');
            }
            0x09 => out.push_str("\\t"),
            0x0a => out.push_str("\\n"),
            0x0d => out.push_str("\\r"),
            0x0c => out.push_str("\\f"),
            0x3d | 0x3a | 0x23 | 0x21 => {
                out.push('\\');
                out.push(char::from(unit as u8));
            }
            0x21..=0x7e => out.push(char::from(unit as u8)),
            _ => {
                out.push_str("\\u");
                for shift in [12, 8, 4, 0] {
                    out.push(char::from(HEX[usize::from((unit >> shift) & 0xf)]));
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn props(text: &str) -> Vec<(String, String)> {
        parse_properties(text.as_bytes()).expect("parse")
    }

    fn pair(k: &str, v: &str) -> (String, String) {
        (k.to_string(), v.to_string())
    }

    #[test]
    fn separators_and_whitespace() {
        assert_eq!(
            props("a=1\nb:2\nc 3\n  d  =  4  \ne\tf\ng : = h\ni\n"),
            vec![
                pair("a", "1"),
                pair("b", "2"),
                pair("c", "3"),
                pair("d", "4  "),
                pair("e", "f"),
                pair("g", "= h"),
                pair("i", ""),
            ]
        );
        // Whitespace then `=`: one separator; a second `=` belongs to the value.
        assert_eq!(props("k  ==v"), vec![pair("k", "=v")]);
        assert_eq!(props("k value=x"), vec![pair("k", "value=x")]);
    }

    #[test]
    fn comments_and_blank_lines() {
        assert_eq!(
            props("# c1\n! c2\n   # indented\n\n   \nk=v # not a comment\n"),
            vec![pair("k", "v # not a comment")]
        );
        // A comment ending in a backslash does not continue.
        assert_eq!(props("# c \\\nk=v"), vec![pair("k", "v")]);
        // After a continuation of a line that held only the backslash, `#`
        // starts a comment (JDK 9+).
        assert_eq!(props("\\\n  # c\nk=v"), vec![pair("k", "v")]);
    }

    #[test]
    fn escapes() {
        assert_eq!(
            props(r"a\=b\:c\ d=x\ty\nz\\w\q\u0041\u00e9"),
            vec![pair("a=b:c d", "x\ty\nz\\wqA\u{e9}")]
        );
        assert_eq!(props(r"k=\uD83D\uDE00"), vec![pair("k", "\u{1F600}")]);
        assert_eq!(props(r"k=\f\r"), vec![pair("k", "\x0c\r")]);
        assert_eq!(
            parse_properties(br"k=\u00G1"),
            Err(PropertiesError::MalformedUnicodeEscape { line: 1 })
        );
        assert_eq!(
            parse_properties(b"a=1\nk=\\u12"),
            Err(PropertiesError::MalformedUnicodeEscape { line: 2 })
        );
    }

    #[test]
    fn continuations() {
        assert_eq!(
            props("k=a\\\n    b\\\r\n\tc\\\r  d\nx=1"),
            vec![pair("k", "abcd"), pair("x", "1")]
        );
        // An even number of backslashes does not continue.
        assert_eq!(
            props("k=a\\\\\nx=1"),
            vec![pair("k", "a\\"), pair("x", "1")]
        );
        // `#` at the start of a continuation line is data.
        assert_eq!(props("k=a\\\n  #b"), vec![pair("k", "a#b")]);
        // A continuation into an empty line ends the value.
        assert_eq!(props("k=a\\\n\nx=1"), vec![pair("k", "a"), pair("x", "1")]);
        // A trailing backslash at the end of input is dropped.
        assert_eq!(props("k=a\\"), vec![pair("k", "a")]);
        assert_eq!(props("k=a\\\n"), vec![pair("k", "a")]);
        // The key itself may continue.
        assert_eq!(props("ke\\\n  y=v"), vec![pair("key", "v")]);
    }

    #[test]
    fn iso_8859_1_bytes() {
        assert_eq!(
            parse_properties(b"k=caf\xe9").expect("parse"),
            vec![pair("k", "caf\u{e9}")]
        );
        // UTF-8 bytes are read as two Latin-1 chars each, as Java does.
        assert_eq!(
            parse_properties("k=é".as_bytes()).expect("parse"),
            vec![pair("k", "\u{c3}\u{a9}")]
        );
    }

    #[test]
    fn crlf_and_cr_line_ends() {
        assert_eq!(
            props("a=1\r\nb=2\rc=3"),
            vec![pair("a", "1"), pair("b", "2"), pair("c", "3")]
        );
    }

    #[test]
    fn lone_surrogate_is_refused() {
        for text in [r"k=\uD800", r"k=\uDE00x", r"k=\uD83D\u0041", r"\uDBFF=v"] {
            assert_eq!(
                parse_properties(text.as_bytes()),
                Err(PropertiesError::LoneSurrogate { line: 1 }),
                "{text}"
            );
        }
        assert_eq!(
            parse_properties(b"a=1\n\nk=x\\uDFFF"),
            Err(PropertiesError::LoneSurrogate { line: 3 })
        );
    }

    #[test]
    fn store_escapes_as_java() {
        // Each expectation is what JDK 17's Properties.store writes for the pair.
        let cases = [
            ("k", "v", "k=v\n"),
            ("a b", " lead  trail ", "a\\ b=\\ lead  trail \n"),
            (
                "k",
                "x\nkvConfigPath=/e\r\u{c}\t",
                "k=x\\nkvConfigPath\\=/e\\r\\f\\t\n",
            ),
            ("k", "x\\u", "k=x\\\\u\n"),
            ("#k!", "=:#!", "\\#k\\!=\\=\\:\\#\\!\n"),
            ("k:=", "", "k\\:\\==\n"),
            ("", "", "=\n"),
            (
                "k",
                "\u{0}\u{1f}\u{7f}é中",
                "k=\\u0000\\u001F\\u007F\\u00E9\\u4E2D\n",
            ),
            ("k", "\u{1F600}", "k=\\uD83D\\uDE00\n"),
            (
                "k",
                "~<>[]{}|`^_-.,;?'\"$%&()*+/@",
                "k=~<>[]{}|`^_-.,;?'\"$%&()*+/@\n",
            ),
        ];
        for (key, value, want) in cases {
            assert_eq!(store_text([(key, value)]), want, "{key:?}={value:?}");
            assert_eq!(props(want), vec![pair(key, value)], "{want:?} reads back");
        }
    }

    /// Chars that matter to the format, weighted up, and then any char at all.
    fn tricky_char() -> impl Strategy<Value = char> {
        prop_oneof![
            4 => prop::sample::select(vec![
                '\\', '\n', '\r', '\t', '\u{c}', ' ', '=', ':', '#', '!', 'u', '0', 'a',
                'D', 'n', '\u{0}', '\u{7f}', '\u{85}', '\u{e9}', '\u{ff}', '\u{4e2d}',
                '\u{fffd}', '\u{ffff}', '\u{1f600}', '\u{10ffff}',
            ]),
            1 => any::<char>(),
        ]
    }

    fn tricky_string() -> impl Strategy<Value = String> {
        prop::collection::vec(tricky_char(), 0..16).prop_map(|v| v.into_iter().collect())
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(2048))]

        /// What `store_text` writes is ASCII and reads back to exactly the pairs.
        #[test]
        fn store_then_parse_is_exact(
            pairs in prop::collection::vec((tricky_string(), tricky_string()), 0..6)
        ) {
            let text = store_text(pairs.iter().map(|(k, v)| (k.as_str(), v.as_str())));
            prop_assert!(text.is_ascii());
            prop_assert_eq!(parse_properties(text.as_bytes()), Ok(pairs));
        }

        /// Any text the parser accepts, stored again, reads back to the same pairs.
        #[test]
        fn parse_store_parse_is_stable(
            bytes in prop::collection::vec(prop::sample::select(
                b"\\\\\\un0aDdF8=:#! \t\r\n\x0cxk\xe9\x85".to_vec()), 0..48)
        ) {
            if let Ok(pairs) = parse_properties(&bytes) {
                let text = store_text(pairs.iter().map(|(k, v)| (k.as_str(), v.as_str())));
                prop_assert_eq!(parse_properties(text.as_bytes()), Ok(pairs));
            }
        }
    }
}
