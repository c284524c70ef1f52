//! Room for a connection's next read.
//!
//! A small frame (every lookup) reads into a window of `read_size` bytes after
//! what the buffer holds, as before. A large frame (a broker registration, ~2 MB
//! at 1M topics) is given its whole length once its 4-byte length prefix is in:
//! one allocation of exactly the frame, where growing by doubling copied it
//! about once, held the old and new blocks together at each step and ended up to
//! twice the frame's size (heaptrack at 1M topics: 78 MB in the read buffers of
//! 16 registrations in flight). Reads into it stop at the frame's end, so it is
//! never grown again, and once the frame is split off the connection gives the
//! block to the frame ([`super::buffers`]).
//!
//! The length is trusted only as far as the limits already enforced:
//! `next_request` has refused a prefix over `maxFrameLength` before the buffer
//! gets here, and the reservation is taken from the pool of
//! [`super::limits::FrameCharge::try_reserve`]; when the pool is out, the frame
//! grows with its reads as before.
//!
//! The window is still zero-filled before each read (`BytesMut::resize`): the
//! stream's read API takes an initialised `&mut [u8]`, and the zeroed bytes are
//! at most one window (`MAX_READ`), the ones the read then overwrites. The
//! pages of a fresh reservation are faulted in by that first touch or by the
//! kernel's copy alike.

use bytes::BytesMut;

use super::limits::FrameCharge;

/// Frames longer than this (prefix included) get their whole length reserved.
pub(super) const RESERVE_ABOVE: usize = 64 * 1024;

/// Makes room after `buf`'s bytes for the next read and returns the read's
/// window: `read_size`, or less where a reserved frame ends. Returns whether a
/// reservation was made (the buffer then holds a large block).
pub(super) fn make_room(
    buf: &mut BytesMut,
    read_size: usize,
    max_frame: usize,
    charge: &mut FrameCharge,
) -> (usize, bool) {
    let len = buf.len();
    let Some(end) = large_frame_end(buf, max_frame) else {
        return (read_size, false);
    };
    let spare = buf.capacity() - len;
    let rest = end - len;
    if spare >= rest {
        // Reserved (or it fits anyway): read no further than the frame's end, so
        // the buffer is not reallocated for the next frame's bytes.
        return (read_size.min(rest), false);
    }
    if !charge.try_reserve(end) {
        return (read_size, false);
    }
    // A fresh block of exactly the frame (`BytesMut::reserve` could round it up
    // to double the old capacity), holding the bytes already in.
    let mut whole = BytesMut::with_capacity(end);
    whole.extend_from_slice(buf);
    *buf = whole;
    (read_size.min(rest), true)
}

/// The end (prefix included) of the incomplete frame at the front of `buf`, if
/// its prefix is in and it is longer than [`RESERVE_ABOVE`] and at most `max`.
fn large_frame_end(buf: &[u8], max: usize) -> Option<usize> {
    let prefix: [u8; 4] = buf.get(..4)?.try_into().ok()?;
    let end = (u32::from_be_bytes(prefix) as usize).checked_add(4)?;
    // (A longer prefix was refused by `next_request` already; a complete frame
    // was taken off. Checked again so this never reserves beyond either.)
    (end > RESERVE_ABOVE && end <= max && end > buf.len()).then_some(end)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::Config;
    use crate::server::limits::ConnLimits;

    fn charge(budget: usize) -> (crate::server::limits::ConnPermit, FrameCharge) {
        let config = Config {
            max_incomplete_frame_bytes: budget,
            ..Config::default()
        };
        let permit = ConnLimits::new(&config).admit(None).unwrap();
        let charge = permit.frame_charge();
        (permit, charge)
    }

    fn prefixed(total: u32, rest: &[u8]) -> BytesMut {
        let mut b = BytesMut::with_capacity(2048);
        b.extend_from_slice(&total.to_be_bytes());
        b.extend_from_slice(rest);
        b
    }

    #[test]
    fn a_large_frame_gets_exactly_its_length_once() {
        let (_p, mut c) = charge(0);
        let mut buf = prefixed(1_000_000 - 4, b"abcd");
        assert_eq!(make_room(&mut buf, 2048, 16 << 20, &mut c), (2048, true));
        assert_eq!(buf.capacity(), 1_000_000);
        assert_eq!(&buf[..], &prefixed(1_000_000 - 4, b"abcd")[..]);
        // Later reads fit: no second reservation; the last one stops at the end.
        buf.resize(1_000_000 - 10, 0);
        assert_eq!(make_room(&mut buf, 65536, 16 << 20, &mut c), (10, false));
        assert_eq!(buf.capacity(), 1_000_000);
    }

    #[test]
    fn small_frames_and_short_prefixes_keep_the_window() {
        let (_p, mut c) = charge(0);
        let mut small = prefixed(100, b"ab");
        assert_eq!(make_room(&mut small, 2048, 16 << 20, &mut c), (2048, false));
        let mut short = BytesMut::from(&[0u8, 0x10, 0][..]);
        assert_eq!(make_room(&mut short, 2048, 16 << 20, &mut c), (2048, false));
        assert_eq!(short.capacity(), 3);
    }

    #[test]
    fn nothing_is_reserved_past_the_frame_limit_or_the_pool() {
        let (_p, mut c) = charge(0);
        let mut over = prefixed(1 << 20, b"");
        assert_eq!(make_room(&mut over, 2048, 1 << 20, &mut c), (2048, false));
        assert_eq!(over.capacity(), 2048);
        let (_q, mut d) = charge(512 * 1024);
        let mut big = prefixed(600 * 1024, b"");
        assert_eq!(make_room(&mut big, 4096, 16 << 20, &mut d), (4096, false));
        assert_eq!(big.capacity(), 2048);
    }
}
