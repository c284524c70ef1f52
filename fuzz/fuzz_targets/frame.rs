//! Frames as the connection reads them: `Frame::parse` over a stream of bytes
//! (several frames back to back, any split), then each frame's header.
//!
//! Properties: no panic; `Ok(None)` consumes nothing; a parsed frame consumes
//! exactly its announced length; a decoded command re-encodes into a frame that
//! parses back to the same body and (normalized) the same command; and the
//! server's decoder (`frame::next_request`, which decodes body-less frames where
//! they lie) agrees with `Frame::parse` + `Frame::command` on every frame, every
//! error and the bytes it leaves.
#![no_main]

use bytes::BytesMut;
use libfuzzer_sys::fuzz_target;
use namesrv_fuzz::assert_same_after;
use protocol::frame::{self, DEFAULT_MAX_FRAME};
use protocol::{Frame, FrameError};

fuzz_target!(|data: &[u8]| {
    let Some((&sel, stream)) = data.split_first() else {
        return;
    };
    // Small limits reach the TooLong paths with short inputs.
    let max = match sel % 4 {
        0 => DEFAULT_MAX_FRAME,
        1 => 8,
        2 => 64,
        _ => 4 + usize::from(sel),
    };
    let mut buf = BytesMut::from(stream);
    let mut server = buf.clone();
    loop {
        let by_server = frame::next_request(&mut server, max);
        let before = buf.len();
        let announced = (before >= 4).then(|| u32::from_be_bytes([buf[0], buf[1], buf[2], buf[3]]));
        match Frame::parse(&mut buf, max) {
            Ok(None) => {
                assert_eq!(buf.len(), before, "an incomplete frame consumed bytes");
                assert!(matches!(by_server, Ok(None)), "next_request: {by_server:?}");
                assert_eq!(server, buf, "next_request left other bytes");
                break;
            }
            Err(e) => {
                if let FrameError::TooLong { len, max: m } = e {
                    assert!(len > m);
                }
                assert_eq!(
                    by_server.err(),
                    Some(e),
                    "next_request disagrees on the error"
                );
                break;
            }
            Ok(Some(f)) => {
                let total = announced.expect("a frame needs a length prefix") as usize;
                assert_eq!(
                    before - buf.len(),
                    total + 4,
                    "frame consumed the wrong length"
                );
                assert!(total + 4 <= max);
                check_frame(&f);
                let by_parse = f
                    .command()
                    .map(|cmd| Some((cmd, f.serialize, f.body.clone())));
                assert_eq!(
                    by_server, by_parse,
                    "next_request disagrees with Frame::parse"
                );
                assert_eq!(server, buf, "next_request left other bytes");
                if by_parse.is_err() {
                    // The connection closes on a bad header: nothing after it is read.
                    break;
                }
            }
        }
    }
});

fn check_frame(f: &Frame) {
    let Ok(cmd) = f.command() else { return };
    let bytes = frame::encode_to_vec(&cmd, f.serialize, f.body.as_deref());
    let mut again = BytesMut::from(&bytes[..]);
    let back = Frame::parse(&mut again, usize::MAX)
        .expect("our own frame must parse")
        .expect("our own frame is complete");
    assert!(again.is_empty(), "our own frame left bytes behind");
    assert_eq!(back.serialize, f.serialize);
    assert_eq!(back.body, f.body);
    let cmd2 = back.command().expect("our own header must decode");
    assert_same_after(f.serialize, &cmd, &cmd2);
}
