//! Why a body could not be decoded.

/// A body that could not be decoded. The message becomes the reply's remark.
#[derive(Debug, thiserror::Error)]
pub enum BodyError {
    #[error("{0}")]
    Json(#[from] serde_json::Error),
    #[error("decompress register body: {0}")]
    Inflate(std::io::Error),
    #[error("compressed register body ends early")]
    Truncated,
    #[error("bad topic config line: {0}")]
    BadTopicConfig(String),
    /// A compressed register body inflates past the configured ceiling.
    #[error("register body inflates beyond {limit} bytes")]
    InflatedTooLarge { limit: usize },
    /// A register body lists more topics than the configured ceiling.
    #[error("register body holds more than {limit} topics")]
    TooManyTopics { limit: usize },
    #[error("{0}")]
    Other(String),
}
