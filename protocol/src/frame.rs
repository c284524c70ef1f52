//! Length-prefixed frames: `total_len:u32 | hdr_info:u32 | header | body`.
//!
//! `total_len` counts everything after itself; `hdr_info` holds the serialize type
//! in its top byte and the header length in the low 24 bits (Java's
//! `RemotingCommand#markProtocolType` and `RemotingCommand#getHeaderLength`).
//!
//! Every reader goes through one check of the prefix (`complete_frame`), then
//! either splits the frame off ([`Frame::parse`]) or, for a frame without a body,
//! decodes it where it lies ([`next_request`]).

use bytes::{Buf, Bytes, BytesMut};

use crate::command::{RemotingCommand, SerializeType};
use crate::error::FrameError;
use crate::header;

/// The default largest frame, counting the 4-byte length prefix (Netty's limit).
pub const DEFAULT_MAX_FRAME: usize = 16 * 1024 * 1024;

/// One undecoded frame: the header bytes and the body (if any).
#[derive(Debug, Clone)]
pub struct Frame {
    pub serialize: SerializeType,
    pub header: Bytes,
    pub body: Option<Bytes>,
}

/// A complete, well-formed frame at the front of a buffer, not yet taken off it.
#[derive(Debug, Clone, Copy)]
struct Layout {
    serialize: SerializeType,
    /// `total_len`: the bytes after the length prefix.
    total: usize,
    hdr_len: usize,
}

impl Layout {
    /// Whether the header fills the frame (every lookup request does).
    fn has_body(&self) -> bool {
        self.hdr_len < self.total - 4
    }
}

/// Checks the frame at the front of `buf` without taking anything off it, in the
/// order `NettyDecoder` (a `LengthFieldBasedFrameDecoder`) and
/// `RemotingCommand#decode` meet the fields.
///
/// `Ok(None)` when more bytes are needed. The announced length is checked against
/// `max` *before* waiting for the rest, so a huge length prefix never makes the
/// caller reserve memory for it.
fn complete_frame(buf: &[u8], max: usize) -> Result<Option<Layout>, FrameError> {
    let Some(prefix) = buf.get(..4) else {
        return Ok(None);
    };
    let total = u32::from_be_bytes([prefix[0], prefix[1], prefix[2], prefix[3]]) as usize;
    if total.saturating_add(4) > max {
        return Err(FrameError::TooLong {
            len: total.saturating_add(4),
            max,
        });
    }
    if total < 4 {
        return Err(FrameError::TooShort(total));
    }
    let Some(info) = buf.get(4..8) else {
        return Ok(None);
    };
    let info = u32::from_be_bytes([info[0], info[1], info[2], info[3]]);
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
    Ok(Some(Layout {
        serialize,
        total,
        hdr_len,
    }))
}

impl Frame {
    /// Takes one complete frame off the front of `buf`.
    ///
    /// Returns `Ok(None)` when more bytes are needed (and then consumes nothing).
    /// Checks the announced length against `max` *before* waiting for the rest, so
    /// a huge length prefix never makes the caller reserve memory for it.
    pub fn parse(buf: &mut BytesMut, max: usize) -> Result<Option<Frame>, FrameError> {
        Ok(complete_frame(buf, max)?.map(|layout| Frame::split_off(buf, layout)))
    }

    fn split_off(buf: &mut BytesMut, layout: Layout) -> Frame {
        buf.advance(8);
        let mut rest = buf.split_to(layout.total - 4).freeze();
        let header = rest.split_to(layout.hdr_len);
        let body = if rest.is_empty() { None } else { Some(rest) };
        Frame {
            serialize: layout.serialize,
            header,
            body,
        }
    }

    /// Decodes the header of this frame.
    pub fn command(&self) -> Result<RemotingCommand, FrameError> {
        Ok(header::decode(self.serialize, &self.header)?)
    }
}

/// Takes the next complete command (a request on the server, a reply on a
/// client) off the front of `buf`: its decoded header, serialize type and body.
///
/// Gives the same answer, and leaves the same bytes in `buf`, as [`Frame::parse`]
/// followed by [`Frame::command`]: a frame is consumed once it is complete, even
/// when its header then fails to decode. A frame without a body (every route
/// lookup) is decoded where it lies and skipped: splitting it off would turn the
/// read buffer into a shared, reference-counted one, which costs an allocation and
/// two atomic operations per request, and a copy of the unread rest at the next
/// read.
#[allow(clippy::type_complexity)]
pub fn next_request(
    buf: &mut BytesMut,
    max: usize,
) -> Result<Option<(RemotingCommand, SerializeType, Option<Bytes>)>, FrameError> {
    let Some(layout) = complete_frame(buf, max)? else {
        return Ok(None);
    };
    if layout.has_body() {
        let frame = Frame::split_off(buf, layout);
        let cmd = frame.command()?;
        return Ok(Some((cmd, frame.serialize, frame.body)));
    }
    let decoded = header::decode(layout.serialize, &buf[8..8 + layout.hdr_len]);
    buf.advance(layout.total + 4);
    Ok(Some((decoded?, layout.serialize, None)))
}

thread_local! {
    static HEADER_SCRATCH: std::cell::RefCell<Vec<u8>> = std::cell::RefCell::new(Vec::with_capacity(256));
}

/// Appends a whole frame (header encoded in `ty`, then `body`) to `out`.
pub fn encode(cmd: &RemotingCommand, ty: SerializeType, body: Option<&[u8]>, out: &mut BytesMut) {
    // Headers are encoded into a reused per-thread buffer: replies are the hot
    // path, and a fresh Vec per reply would be an allocation per request.
    HEADER_SCRATCH.with(|scratch| {
        let mut header = scratch.borrow_mut();
        header.clear();
        header::encode(cmd, ty, &mut header);
        encode_raw(ty, &header, body, out);
    });
}

/// The 8-byte prefix of a frame: `total` (the bytes after the length field)
/// and `hdr_info` (serialize type `ty` in the top byte, the low 24 bits of
/// `hdr_len` below it).
pub fn prefix(total: u32, ty: SerializeType, hdr_len: u32) -> [u8; 8] {
    let mut b = [0u8; 8];
    b[..4].copy_from_slice(&total.to_be_bytes());
    b[4..].copy_from_slice(&(((ty as u32) << 24) | (hdr_len & 0x00FF_FFFF)).to_be_bytes());
    b
}

/// Appends a frame around header bytes that are already encoded (for example a
/// hand-written JSON header, as a lenient client may send it).
pub fn encode_raw(ty: SerializeType, header: &[u8], body: Option<&[u8]>, out: &mut BytesMut) {
    let body = body.unwrap_or(&[]);
    let total = (4 + header.len() + body.len()) as u32;
    out.extend_from_slice(&prefix(total, ty, header.len() as u32));
    out.extend_from_slice(header);
    out.extend_from_slice(body);
}

/// Convenience: one frame as an owned buffer.
pub fn encode_to_vec(cmd: &RemotingCommand, ty: SerializeType, body: Option<&[u8]>) -> Vec<u8> {
    let mut out = BytesMut::new();
    encode(cmd, ty, body, &mut out);
    out.to_vec()
}

/// `next_request` against the general path (`Frame::parse`, then `Frame::command`)
/// on generated and mutated streams: the same answers in the same order, the same
/// errors, and the same bytes left in the buffer.
#[cfg(test)]
mod next_request_agrees_with_parse {
    use super::*;
    use crate::command::LanguageCode;

    type Decoded = Result<Option<(RemotingCommand, SerializeType, Option<Bytes>)>, FrameError>;
    type Decoder = fn(&mut BytesMut, usize) -> Decoded;

    fn via_parse(buf: &mut BytesMut, max: usize) -> Decoded {
        match Frame::parse(buf, max)? {
            Some(f) => {
                let cmd = f.command()?;
                Ok(Some((cmd, f.serialize, f.body)))
            }
            None => Ok(None),
        }
    }

    /// Runs `decode` until it wants more bytes or fails; every answer in order.
    fn drain(decode: Decoder, buf: &mut BytesMut, max: usize, seen: &mut Vec<Decoded>) -> bool {
        loop {
            let r = decode(buf, max);
            let more = matches!(r, Ok(Some(_)));
            let failed = r.is_err();
            seen.push(r);
            if !more {
                return !failed;
            }
        }
    }

    /// Feeds `stream` in two reads split at `cut`, as a socket might deliver it.
    fn feed(decode: Decoder, stream: &[u8], cut: usize, max: usize) -> (Vec<Decoded>, Vec<u8>) {
        let mut buf = BytesMut::from(&stream[..cut]);
        let mut seen = Vec::new();
        if drain(decode, &mut buf, max, &mut seen) {
            buf.extend_from_slice(&stream[cut..]);
            drain(decode, &mut buf, max, &mut seen);
        }
        (seen, buf.to_vec())
    }

    fn commands() -> Vec<RemotingCommand> {
        let route = RemotingCommand::request(105, 7, vec![("topic".into(), "TopicTest".into())]);
        let mut register = RemotingCommand::request(
            103,
            -3,
            vec![
                ("brokerName".into(), "broker-a".into()),
                ("brokerId".into(), "0".into()),
                ("clusterName".into(), "DefaultCluster".into()),
            ],
        );
        register.language = Some(LanguageCode::Go);
        let reply = RemotingCommand::response(17, i32::MAX, Some("no \"topic\" é".into()));
        let bare = RemotingCommand {
            language: None,
            ..RemotingCommand::default()
        };
        vec![route, register, reply, bare]
    }

    /// Streams of one to three well-formed frames: both types, with and without body.
    fn valid_streams() -> Vec<Vec<u8>> {
        let bodies: [Option<&[u8]>; 4] = [None, Some(b""), Some(b"x"), Some(&[b'b'; 300])];
        let mut frames = Vec::new();
        for cmd in commands() {
            for ty in [SerializeType::Json, SerializeType::Rocketmq] {
                for body in bodies {
                    frames.push(encode_to_vec(&cmd, ty, body));
                }
            }
        }
        let mut streams: Vec<Vec<u8>> = frames.clone();
        for (i, a) in frames.iter().enumerate() {
            let b = &frames[(i * 7 + 3) % frames.len()];
            let c = &frames[(i * 5 + 1) % frames.len()];
            streams.push([a.as_slice(), b, c].concat());
        }
        streams
    }

    struct Rng(u64);

    impl Rng {
        fn next(&mut self) -> u64 {
            self.0 ^= self.0 << 13;
            self.0 ^= self.0 >> 7;
            self.0 ^= self.0 << 17;
            self.0
        }

        fn below(&mut self, n: usize) -> usize {
            (self.next() % n as u64) as usize
        }
    }

    /// Broken copies of a stream: its first frame's length, type or header length
    /// rewritten, or bytes anywhere (header included) changed.
    fn mutations(stream: &[u8], rng: &mut Rng) -> Vec<Vec<u8>> {
        let total = u32::from_be_bytes([stream[0], stream[1], stream[2], stream[3]]);
        let hdr_len = u32::from_be_bytes([stream[4], stream[5], stream[6], stream[7]]) & 0xFF_FFFF;
        let mut out = Vec::new();
        let with = |at: usize, word: u32| {
            let mut m = stream.to_vec();
            m[at..at + 4].copy_from_slice(&word.to_be_bytes());
            m
        };
        for bad_total in [
            0,
            1,
            3,
            4,
            total - 1,
            total + 1,
            total + 100,
            u32::MAX,
            1 << 24,
        ] {
            out.push(with(0, bad_total));
        }
        for ty in [0u32, 1, 2, 0x7F, 0xFF] {
            out.push(with(4, (ty << 24) | hdr_len));
        }
        let ty = u32::from(stream[4]) << 24;
        for bad_hdr in [
            0,
            1,
            hdr_len - 1,
            hdr_len + 1,
            total - 4,
            total - 3,
            0xFF_FFFF,
        ] {
            out.push(with(4, ty | bad_hdr));
        }
        for _ in 0..12 {
            let mut m = stream.to_vec();
            for _ in 0..1 + rng.below(3) {
                let at = rng.below(m.len());
                m[at] = rng.next() as u8;
            }
            out.push(m);
        }
        out
    }

    /// Every cut in the prefix, where the checks are, then a sample of the rest.
    fn cuts(len: usize, stride: usize) -> impl Iterator<Item = usize> {
        (0..len.min(12))
            .chain((12..len).step_by(stride))
            .chain([len])
    }

    fn check(stream: &[u8], max: usize, stride: usize, in_place: &mut usize) {
        for cut in cuts(stream.len(), stride) {
            let fast = feed(next_request, stream, cut, max);
            let general = feed(via_parse, stream, cut, max);
            assert_eq!(fast, general, "stream {stream:?} cut at {cut}, max {max}");
            *in_place += fast
                .0
                .iter()
                .filter(|r| matches!(r, Ok(Some((_, _, None)))))
                .count();
        }
    }

    #[test]
    fn on_valid_streams_split_anywhere() {
        let mut in_place = 0;
        for stream in valid_streams() {
            check(&stream, DEFAULT_MAX_FRAME, 1, &mut in_place);
            for max in [stream.len(), stream.len() - 1, 8, 64] {
                check(&stream, max, 13, &mut in_place);
            }
        }
        assert!(
            in_place > 1000,
            "the in-place path was too rarely taken: {in_place}"
        );
    }

    #[test]
    fn on_broken_streams_split_anywhere() {
        let mut rng = Rng(0x9E37_79B9_7F4A_7C15);
        let mut in_place = 0;
        for stream in valid_streams() {
            for broken in mutations(&stream, &mut rng) {
                for max in [DEFAULT_MAX_FRAME, broken.len() - 1] {
                    check(&broken, max, 41, &mut in_place);
                }
            }
        }
        assert!(
            in_place > 1000,
            "the in-place path was too rarely taken: {in_place}"
        );
    }

    #[test]
    fn a_body_less_frame_with_a_bad_header_is_consumed_on_both_paths() {
        for ty in [0u8, 1] {
            let mut stream = vec![0, 0, 0, 7, ty, 0, 0, 3, b'{', b'x', b'}'];
            stream.extend_from_slice(&encode_to_vec(&commands()[0], SerializeType::Json, None));
            let fast = feed(next_request, &stream, stream.len(), DEFAULT_MAX_FRAME);
            let general = feed(via_parse, &stream, stream.len(), DEFAULT_MAX_FRAME);
            assert_eq!(fast, general, "frame type {ty}");
            let (seen, left) = fast;
            assert!(
                matches!(seen[..], [Err(FrameError::BadHeader(_))]),
                "{seen:?}"
            );
            assert_eq!(left, stream[11..]);
        }
    }
}
