//! The remoting command header shared by requests and responses, as plain data:
//! the codecs that read and write it live in [`crate::header`], framing in
//! [`crate::frame`].

use crate::codes::{flag, version};

/// How a header is serialized; the top byte of `hdr_info`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum SerializeType {
    #[default]
    Json = 0,
    Rocketmq = 1,
}

impl SerializeType {
    pub fn from_byte(b: u8) -> Option<Self> {
        match b {
            0 => Some(Self::Json),
            1 => Some(Self::Rocketmq),
            _ => None,
        }
    }

    pub fn name(self) -> &'static str {
        match self {
            Self::Json => "JSON",
            Self::Rocketmq => "ROCKETMQ",
        }
    }
}

/// The sender's implementation language, by the ordinal Java uses.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LanguageCode {
    Java = 0,
    Cpp = 1,
    Dotnet = 2,
    Python = 3,
    Delphi = 4,
    Erlang = 5,
    Ruby = 6,
    Other = 7,
    Http = 8,
    Go = 9,
    Php = 10,
    Oms = 11,
    Rust = 12,
    NodeJs = 13,
}

const LANGUAGES: [(LanguageCode, &str); 14] = [
    (LanguageCode::Java, "JAVA"),
    (LanguageCode::Cpp, "CPP"),
    (LanguageCode::Dotnet, "DOTNET"),
    (LanguageCode::Python, "PYTHON"),
    (LanguageCode::Delphi, "DELPHI"),
    (LanguageCode::Erlang, "ERLANG"),
    (LanguageCode::Ruby, "RUBY"),
    (LanguageCode::Other, "OTHER"),
    (LanguageCode::Http, "HTTP"),
    (LanguageCode::Go, "GO"),
    (LanguageCode::Php, "PHP"),
    (LanguageCode::Oms, "OMS"),
    (LanguageCode::Rust, "RUST"),
    (LanguageCode::NodeJs, "NODE_JS"),
];

impl LanguageCode {
    pub fn from_ordinal(v: i64) -> Option<Self> {
        LANGUAGES.get(usize::try_from(v).ok()?).map(|(l, _)| *l)
    }

    pub fn from_name(name: &str) -> Option<Self> {
        LANGUAGES.iter().find(|(_, n)| *n == name).map(|(l, _)| *l)
    }

    /// [`Self::from_name`] ignoring ASCII case, as fastjson's enum lookup also
    /// tries the upper-cased name (no allocation: the names are upper-case ASCII).
    pub fn from_name_ignore_case(name: &str) -> Option<Self> {
        LANGUAGES
            .iter()
            .find(|(_, n)| n.eq_ignore_ascii_case(name))
            .map(|(l, _)| *l)
    }

    pub fn name(self) -> &'static str {
        LANGUAGES[self as usize].1
    }
}

/// A decoded request or response header.
///
/// `ext_fields` keeps insertion order; NameServer headers have a handful of
/// fields, so a linear probe beats hashing.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct RemotingCommand {
    pub code: i32,
    /// `None` when the sender's language is unknown to us.
    pub language: Option<LanguageCode>,
    pub version: i32,
    pub opaque: i32,
    pub flag: i32,
    pub remark: Option<String>,
    /// `None` = no `extFields` at all; `Some(empty)` = `{}`.
    pub ext_fields: Option<Vec<(String, String)>>,
}

impl RemotingCommand {
    /// A reply to a request with this `opaque`: flag RESPONSE, language JAVA and the
    /// version the Java NameServer writes.
    pub fn response(code: i32, opaque: i32, remark: Option<String>) -> Self {
        RemotingCommand {
            code,
            language: Some(LanguageCode::Java),
            version: version::CURRENT,
            opaque,
            flag: flag::RESPONSE,
            remark,
            ext_fields: None,
        }
    }

    /// A request (used by clients, loadgen and tests).
    pub fn request(code: i32, opaque: i32, ext: Vec<(String, String)>) -> Self {
        RemotingCommand {
            code,
            language: Some(LanguageCode::Java),
            version: version::CURRENT,
            opaque,
            flag: 0,
            remark: None,
            ext_fields: Some(ext),
        }
    }

    pub fn is_response(&self) -> bool {
        self.flag & flag::RESPONSE != 0
    }

    pub fn is_oneway(&self) -> bool {
        self.flag & flag::ONEWAY != 0
    }

    /// The value of an ext field, if present.
    pub fn ext(&self, key: &str) -> Option<&str> {
        self.ext_fields
            .as_ref()?
            .iter()
            .find(|(k, _)| k == key)
            .map(|(_, v)| v.as_str())
    }

    /// Adds an ext field (creating the map if absent).
    pub fn push_ext(&mut self, key: impl Into<String>, value: impl Into<String>) {
        self.ext_fields
            .get_or_insert_with(Vec::new)
            .push((key.into(), value.into()));
    }

    /// Java's lenient `Long.parseLong` on an ext field: `None` if absent or bad.
    pub fn ext_i64(&self, key: &str) -> Option<i64> {
        self.ext(key)?.trim().parse().ok()
    }

    /// Java's `Integer.parseInt` on an ext field.
    pub fn ext_i32(&self, key: &str) -> Option<i32> {
        self.ext(key)?.trim().parse().ok()
    }

    /// Java's `Boolean.parseBoolean`: only a case-insensitive "true" is true.
    /// `None` when the field is absent.
    pub fn ext_bool(&self, key: &str) -> Option<bool> {
        self.ext(key).map(|v| v.eq_ignore_ascii_case("true"))
    }
}
