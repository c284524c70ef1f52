//! Length-prefixed frames: `total_len:u32 | hdr_info:u32 | header | body`.
//!
//! `total_len` counts everything after itself; `hdr_info` holds the serialize type
//! in its top byte and the header length in the low 24 bits.

use bytes::{Buf, BufMut, Bytes, BytesMut};

use crate::command::{RemotingCommand, SerializeType};

/// The default largest frame, counting the 4-byte length prefix (Netty's limit).
pub const DEFAULT_MAX_FRAME: usize = 16 * 1024 * 1024;

/// Why a frame or header could not be decoded. Every variant closes the connection.
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
    BadHeader(String),
}

/// One undecoded frame: the header bytes and the body (if any).
#[derive(Debug, Clone)]
pub struct Frame {
    pub serialize: SerializeType,
    pub header: Bytes,
    pub body: Option<Bytes>,
}

impl Frame {
    /// Takes one complete frame off the front of `buf`.
    ///
    /// Returns `Ok(None)` when more bytes are needed. Checks the announced length
    /// against `max` *before* waiting for the rest, so a huge length prefix never
    /// makes the caller reserve memory for it.
    pub fn parse(buf: &mut BytesMut, max: usize) -> Result<Option<Frame>, FrameError> {
        if buf.len() < 4 {
            return Ok(None);
        }
        let total = u32::from_be_bytes([buf[0], buf[1], buf[2], buf[3]]) as usize;
        if total.saturating_add(4) > max {
            return Err(FrameError::TooLong {
                len: total.saturating_add(4),
                max,
            });
        }
        if total < 4 {
            return Err(FrameError::TooShort(total));
        }
        if buf.len() < 8 {
            return Ok(None);
        }
        let info = u32::from_be_bytes([buf[4], buf[5], buf[6], buf[7]]);
        let ty = (info >> 24) as u8;
        let hdr_len = (info & 0x00FF_FFFF) as usize;
        if hdr_len > total - 4 {
            return Err(FrameError::HeaderTooLong {
                hdr_len,
                avail: total - 4,
            });
        }
        let serialize = SerializeType::from_byte(ty).ok_or(FrameError::UnknownSerializeType(ty))?;
        if buf.len() < total + 4 {
            return Ok(None);
        }
        buf.advance(8);
        let mut rest = buf.split_to(total - 4).freeze();
        let header = rest.split_to(hdr_len);
        let body = if rest.is_empty() { None } else { Some(rest) };
        Ok(Some(Frame {
            serialize,
            header,
            body,
        }))
    }

    /// Decodes the header of this frame.
    pub fn command(&self) -> Result<RemotingCommand, FrameError> {
        RemotingCommand::decode_header(self.serialize, &self.header)
    }
}

thread_local! {
    static HEADER_SCRATCH: std::cell::RefCell<Vec<u8>> = std::cell::RefCell::new(Vec::with_capacity(256));
}

/// Appends a whole frame (header encoded in `ty`, then `body`) to `out`.
pub fn encode(cmd: &RemotingCommand, ty: SerializeType, body: Option<&[u8]>, out: &mut BytesMut) {
    let start = out.len();
    out.put_u32(0); // total_len, patched below
    out.put_u32(0); // hdr_info, patched below
                    // Headers are encoded into a reused per-thread buffer: replies are the hot
                    // path, and a fresh Vec per reply would be an allocation per request.
    let hdr_len = HEADER_SCRATCH.with(|scratch| {
        let mut header = scratch.borrow_mut();
        header.clear();
        cmd.encode_header(ty, &mut header);
        out.extend_from_slice(&header);
        header.len()
    });
    let body = body.unwrap_or(&[]);
    out.extend_from_slice(body);
    let total = (4 + hdr_len + body.len()) as u32;
    let info = ((ty as u32) << 24) | (hdr_len as u32 & 0x00FF_FFFF);
    out[start..start + 4].copy_from_slice(&total.to_be_bytes());
    out[start + 4..start + 8].copy_from_slice(&info.to_be_bytes());
}

/// Convenience: one frame as an owned buffer.
pub fn encode_to_vec(cmd: &RemotingCommand, ty: SerializeType, body: Option<&[u8]>) -> Vec<u8> {
    let mut out = BytesMut::new();
    encode(cmd, ty, body, &mut out);
    out.to_vec()
}
