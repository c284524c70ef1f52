//! Why bytes from the wire could not be read as a remoting command.
//!
//! Two layers, as the decoding itself has two: a header codec knows only its
//! header bytes ([`HeaderError`]); framing knows lengths and types, and carries a
//! header failure inside [`FrameError::BadHeader`]. Every error closes the
//! connection (Netty's `NettyDecoder` closes the channel on any decode failure).

/// A header that its codec (JSON or ROCKETMQ binary) cannot read.
#[derive(Debug, Clone, thiserror::Error, PartialEq, Eq)]
pub enum HeaderError {
    /// What is wrong, in words; it ends up in the connection's log line.
    #[error("{0}")]
    Malformed(String),
}

impl HeaderError {
    pub(crate) fn malformed(msg: impl Into<String>) -> Self {
        Self::Malformed(msg.into())
    }
}

/// Why a frame or its header could not be decoded.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum FrameError {
    #[error("frame of {len} bytes exceeds the limit of {max}")]
    TooLong { len: usize, max: usize },
    #[error("frame length {0} is too small to hold a header length")]
    TooShort(usize),
    #[error("header length {hdr_len} exceeds the frame's {avail} bytes")]
    HeaderTooLong { hdr_len: usize, avail: usize },
    #[error("unknown serialize type {0}")]
    UnknownSerializeType(u8),
    #[error("malformed header: {0}")]
    BadHeader(#[from] HeaderError),
}
