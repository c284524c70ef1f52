//! Giving back the memory of a connection's buffers after a large frame or reply.
//!
//! A read buffer grows to the largest frame it ever held (a multi-MiB broker
//! registration every 30 s), and [`bytes::BytesMut`] keeps that allocation for
//! the buffer's life: after a frame is split off, the rest of the buffer still
//! shares it. So once the buffer is (nearly) empty again, the connection swaps
//! in a fresh, small buffer and the large block is freed. The same goes for the
//! write buffer after a large reply was sent.

use bytes::BytesMut;

/// A buffer that held more than this is replaced once it is nearly empty.
pub const SHRINK_ABOVE: usize = 1024 * 1024;

/// Replaces `buf` with a fresh one of `fresh` bytes' capacity (or its length, if
/// larger), keeping its contents, if it is at most `nearly_empty` bytes long.
/// Returns whether it did. The caller decides when a buffer has grown large (for a
/// read buffer, [`BytesMut::capacity`] does not tell: it sees only the part of a
/// shared allocation after the split-off frames).
pub fn shrink(buf: &mut BytesMut, nearly_empty: usize, fresh: usize) -> bool {
    if buf.len() > nearly_empty {
        return false;
    }
    let mut small = BytesMut::with_capacity(fresh.max(buf.len()));
    small.extend_from_slice(buf);
    *buf = small;
    true
}

#[cfg(test)]
mod tests {
    use super::*;
    use bytes::Buf;

    #[test]
    fn a_nearly_empty_large_buffer_is_replaced_with_its_rest() {
        let mut buf = BytesMut::with_capacity(16 << 20);
        buf.resize(15 << 20, 7);
        buf.extend_from_slice(b"rest");
        let frame = buf.split_to(15 << 20).freeze();
        drop(frame);
        assert!(shrink(&mut buf, 2048, 2048));
        assert_eq!(&buf[..], b"rest");
        assert!(buf.capacity() < 4096, "capacity {}", buf.capacity());
    }

    #[test]
    fn a_buffer_with_much_data_is_kept() {
        let mut buf = BytesMut::with_capacity(8192);
        buf.resize(5000, 1);
        buf.advance(1);
        assert!(!shrink(&mut buf, 2048, 2048));
        assert_eq!(buf.len(), 4999);
    }

    #[test]
    fn an_empty_buffer_gets_the_fresh_capacity() {
        let mut buf = BytesMut::with_capacity(4 << 20);
        assert!(shrink(&mut buf, 0, 2048));
        assert!(buf.is_empty());
        assert!(buf.capacity() >= 2048 && buf.capacity() < 4096);
    }
}
