//! The console's only way to write HTML: markup comes from `&'static str`
//! literals, every other string goes through [`Html::text`], so a name holding
//! `<`, `&` or quotes can never become markup. Also the URL component codec.

use std::fmt::Write as _;

/// An HTML document being written.
#[derive(Default)]
pub struct Html {
    out: String,
}

impl Html {
    pub fn new() -> Html {
        Html::default()
    }

    /// Markup. Only literals: a runtime string cannot come in this way.
    pub fn raw(&mut self, markup: &'static str) -> &mut Self {
        self.out.push_str(markup);
        self
    }

    /// Text or an attribute value, escaped.
    pub fn text(&mut self, s: &str) -> &mut Self {
        for c in s.chars() {
            match c {
                '&' => self.out.push_str("&amp;"),
                '<' => self.out.push_str("&lt;"),
                '>' => self.out.push_str("&gt;"),
                '"' => self.out.push_str("&quot;"),
                '\'' => self.out.push_str("&#39;"),
                c => self.out.push(c),
            }
        }
        self
    }

    /// A number (needs no escaping).
    pub fn num(&mut self, n: impl std::fmt::Display) -> &mut Self {
        let _ = write!(self.out, "{n}");
        self
    }

    /// A URL path component, percent-encoded, then escaped for an attribute.
    pub fn url_part(&mut self, s: &str) -> &mut Self {
        let encoded = encode_component(s);
        self.text(&encoded)
    }

    pub fn finish(self) -> String {
        self.out
    }
}

/// Percent-encodes everything but RFC 3986's unreserved characters.
pub fn encode_component(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for b in s.bytes() {
        if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_' | b'~') {
            out.push(b as char);
        } else {
            let _ = write!(out, "%{b:02X}");
        }
    }
    out
}

/// Decodes `%XX` escapes (and `+` as a space when `plus_is_space`, for query
/// strings); `None` for a malformed escape or bytes that are not UTF-8.
pub fn decode_component(s: &str, plus_is_space: bool) -> Option<String> {
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b'%' => {
                let hex = bytes.get(i + 1..i + 3)?;
                let hex = std::str::from_utf8(hex).ok()?;
                out.push(u8::from_str_radix(hex, 16).ok()?);
                i += 3;
            }
            b'+' if plus_is_space => {
                out.push(b' ');
                i += 1;
            }
            b => {
                out.push(b);
                i += 1;
            }
        }
    }
    String::from_utf8(out).ok()
}

/// The value of `key` in a query string (`a=1&b=2`), decoded.
pub fn query_param(query: Option<&str>, key: &str) -> Option<String> {
    query?.split('&').find_map(|pair| {
        let (k, v) = pair.split_once('=').unwrap_or((pair, ""));
        (decode_component(k, true)? == key).then(|| decode_component(v, true))?
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn text_escapes_markup_and_quotes() {
        let mut h = Html::new();
        h.raw("<td title=\"")
            .text("a\"b'<c>&")
            .raw("\">")
            .text("é<")
            .raw("</td>");
        assert_eq!(
            h.finish(),
            "<td title=\"a&quot;b&#39;&lt;c&gt;&amp;\">é&lt;</td>"
        );
    }

    #[test]
    fn components_round_trip() {
        let name = "a b/%<é>";
        let enc = encode_component(name);
        assert_eq!(enc, "a%20b%2F%25%3C%C3%A9%3E");
        assert_eq!(decode_component(&enc, false).as_deref(), Some(name));
        assert_eq!(decode_component("a+b", true).as_deref(), Some("a b"));
        assert_eq!(decode_component("a+b", false).as_deref(), Some("a+b"));
        assert_eq!(decode_component("%4", false), None);
        assert_eq!(decode_component("%FF", false), None);
    }

    #[test]
    fn query_params() {
        let q = Some("q=Topic%20A&page=3&x");
        assert_eq!(query_param(q, "q").as_deref(), Some("Topic A"));
        assert_eq!(query_param(q, "page").as_deref(), Some("3"));
        assert_eq!(query_param(q, "x").as_deref(), Some(""));
        assert_eq!(query_param(q, "y"), None);
        assert_eq!(query_param(None, "q"), None);
    }
}
