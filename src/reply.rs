//! What a handler or the writer answers, before it is framed for the wire.

use bytes::Bytes;
use protocol::codes::response;

/// A response's code, remark, ext fields and body; the connection adds opaque,
/// flags and the header serialization.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Reply {
    pub code: i32,
    pub remark: Option<String>,
    /// `Some` for replies that carry a custom header in Java (written even when
    /// empty, as `"extFields":{}`).
    pub ext: Option<Vec<(String, String)>>,
    pub body: Option<Bytes>,
}

impl Reply {
    pub fn success() -> Self {
        Reply::default()
    }

    pub fn with_body(body: impl Into<Bytes>) -> Self {
        Reply {
            body: Some(body.into()),
            ..Reply::default()
        }
    }

    pub fn error(code: i32, remark: impl Into<String>) -> Self {
        Reply {
            code,
            remark: Some(remark.into()),
            ..Reply::default()
        }
    }

    pub fn system_error(remark: impl Into<String>) -> Self {
        Reply::error(response::SYSTEM_ERROR, remark)
    }

    /// Marks this reply as carrying a custom header (`extFields` always written).
    pub fn custom_header(mut self) -> Self {
        self.ext.get_or_insert_with(Vec::new);
        self
    }

    pub fn ext(mut self, key: &str, value: impl Into<String>) -> Self {
        self.ext
            .get_or_insert_with(Vec::new)
            .push((key.to_string(), value.into()));
        self
    }
}
