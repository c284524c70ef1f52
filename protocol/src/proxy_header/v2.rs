//! The binary form: a 12-byte signature, version and command, family and
//! protocol, a 16-bit length, then addresses and TLVs, read as netty's
//! `HAProxyMessage#decodeHeader(ByteBuf)` and `#readNextTLV`.

use super::{inet, ipv4, ipv6, Addresses, Command, Parse, ProxyHeader, ProxyHeaderError, Version};

/// Netty's `HAProxyMessage.MAX_NESTING_LEVEL` for TLVs inside an SSL TLV.
const MAX_TLV_NESTING: usize = 128;
/// `HAProxyTLV.Type.PP2_TYPE_SSL`: the only TLV with TLVs inside.
const TLV_SSL: u8 = 0x20;
/// Bytes of both UNIX paths (`AF_UNIX`: 108 each).
const UNIX_ADDRESSES: usize = 216;

/// `buf` starts with (a prefix of) the signature.
pub(super) fn parse(buf: &[u8]) -> Result<Parse, ProxyHeaderError> {
    // Checked as soon as each byte is there (netty waits for the whole header
    // first; the verdict is the same, reached sooner).
    let Some(&ver_cmd) = buf.get(12) else {
        return Ok(Parse::NeedMore);
    };
    match ver_cmd >> 4 {
        2 => {}
        v => return Err(ProxyHeaderError::V2BadVersion(v)),
    }
    let command = match ver_cmd & 0x0f {
        0 => Command::Local,
        1 => Command::Proxy,
        c => return Err(ProxyHeaderError::V2BadCommand(c)),
    };
    let Some(&fam) = buf.get(13) else {
        return Ok(Parse::NeedMore);
    };
    // `HAProxyProxiedProtocol#valueOf`, not consulted for a LOCAL command.
    if command == Command::Proxy && !matches!(fam, 0x00 | 0x11 | 0x12 | 0x21 | 0x22 | 0x31 | 0x32) {
        return Err(ProxyHeaderError::V2BadFamily(fam));
    }
    let Some(len_bytes) = buf.get(14..16) else {
        return Ok(Parse::NeedMore);
    };
    let body_len = usize::from(u16::from_be_bytes([len_bytes[0], len_bytes[1]]));
    let total = 16 + body_len;
    let Some(body) = buf.get(16..total) else {
        return Ok(Parse::NeedMore);
    };
    let header = |addresses, tlvs| {
        Ok(Parse::Header(ProxyHeader {
            version: Version::V2,
            command,
            addresses,
            len: total,
            tlvs,
        }))
    };
    if command == Command::Local || fam == 0x00 {
        // Netty reads neither addresses nor TLVs here; the bytes are skipped.
        return header(Addresses::Unknown, 0);
    }
    let (addresses, rest) = match fam >> 4 {
        1 => {
            let a = need(body, 12, "IPv4")?;
            let (sport, dport) = ports(&a[8..12]);
            (
                inet(ipv4(&a[0..4]), sport, ipv4(&a[4..8]), dport),
                &body[12..],
            )
        }
        2 => {
            let a = need(body, 36, "IPv6")?;
            let (sport, dport) = ports(&a[32..36]);
            (
                inet(ipv6(&a[0..16]), sport, ipv6(&a[16..32]), dport),
                &body[36..],
            )
        }
        _ => {
            let a = need(body, UNIX_ADDRESSES, "UNIX")?;
            let path = |p: &[u8]| p[..p.iter().position(|&b| b == 0).unwrap_or(p.len())].to_vec();
            let unix = Addresses::Unix {
                source: path(&a[..108]),
                destination: path(&a[108..216]),
            };
            (unix, &body[UNIX_ADDRESSES..])
        }
    };
    let tlvs = skip_tlvs(rest, 0)?;
    header(addresses, tlvs)
}

fn need<'a>(
    body: &'a [u8],
    need: usize,
    family: &'static str,
) -> Result<&'a [u8], ProxyHeaderError> {
    body.get(..need).ok_or(ProxyHeaderError::V2ShortAddresses {
        family,
        need,
        have: body.len(),
    })
}

fn ports(b: &[u8]) -> (u16, u16) {
    (
        u16::from_be_bytes([b[0], b[1]]),
        u16::from_be_bytes([b[2], b[3]]),
    )
}

/// Reads and drops the TLVs in `bytes`, returning how many there were. As
/// netty's `readNextTLV`: fewer than 4 bytes left end the list; a value longer
/// than what is left fails; an SSL TLV holds a client byte, a 4-byte verify
/// result and TLVs of its own, nested at most [`MAX_TLV_NESTING`] deep.
fn skip_tlvs(mut bytes: &[u8], level: usize) -> Result<usize, ProxyHeaderError> {
    let mut count = 0;
    while bytes.len() >= 4 {
        // Netty checks the depth only when a TLV is there to read.
        if level > MAX_TLV_NESTING {
            return Err(ProxyHeaderError::V2TlvTooDeep(MAX_TLV_NESTING));
        }
        let kind = bytes[0];
        let len = usize::from(u16::from_be_bytes([bytes[1], bytes[2]]));
        let left = bytes.len() - 3;
        let Some(value) = bytes.get(3..3 + len) else {
            return Err(ProxyHeaderError::V2TlvOverrun { len, left });
        };
        count += 1;
        if kind == TLV_SSL {
            let Some(inner) = value.get(5..) else {
                return Err(ProxyHeaderError::V2SslTlvShort(len));
            };
            count += skip_tlvs(inner, level + 1)?;
        }
        bytes = &bytes[3 + len..];
    }
    Ok(count)
}
