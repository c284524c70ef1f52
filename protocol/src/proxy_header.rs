//! The PROXY protocol header (HAProxy's, versions 1 and 2) that a load balancer
//! may put before a connection's first byte, read as netty's
//! `HAProxyMessageDecoder` and `HAProxyMessage#decodeHeader` read it (the decoder
//! RocketMQ 5's `NettyRemotingServer$HandshakeHandler` installs when it detects
//! one). Pure: bytes in, a verdict out; the server's I/O lives in
//! `src/server/proxy.rs`.
//!
//! [`parse`] looks at the first bytes of a connection and says whether they are
//! no header at all ([`Parse::NotProxy`]), the start of one ([`Parse::NeedMore`]),
//! a whole header ([`Parse::Header`], with the bytes it spans) or a broken one
//! (an error: the connection closes, as netty's `HAProxyMessageDecoder#fail`
//! closes the channel). The verdict never depends on how the bytes were split:
//! a prefix of a header is always `NeedMore`, and the bytes needed are bounded
//! ([`V1_MAX_HEADER`], [`V2_MAX_HEADER`]).

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};

mod v1;
mod v2;

#[cfg(test)]
mod tests;

/// What opens a version 1 header (netty's `HAProxyConstants.TEXT_PREFIX`).
pub const V1_PREFIX: &[u8; 5] = b"PROXY";
/// What opens a version 2 header (`HAProxyConstants.BINARY_PREFIX`).
pub const V2_SIGNATURE: &[u8; 12] = b"\r\n\r\n\0\r\nQUIT\n";
/// The longest version 1 line netty takes, without its CRLF
/// (`HAProxyMessageDecoder.V1_MAX_LENGTH`).
pub const V1_MAX_LINE: usize = 108;
/// The most bytes a version 1 header spans: the line and its CRLF.
pub const V1_MAX_HEADER: usize = V1_MAX_LINE + 2;
/// The most bytes a version 2 header spans: 16 fixed bytes and a 16-bit length
/// (`HAProxyMessageDecoder.V2_MAX_LENGTH`, netty's default cap).
pub const V2_MAX_HEADER: usize = 16 + 65535;

/// Which of the two forms the header had.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Version {
    V1,
    V2,
}

/// A version 2 header's command (`HAProxyCommand`); version 1 is always `Proxy`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Command {
    /// The proxy's own connection (a health check): the socket's address stands.
    Local,
    Proxy,
}

/// The addresses a header carries (`HAProxyProxiedProtocol.AddressFamily`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Addresses {
    /// v1 `UNKNOWN`, v2 `AF_UNSPEC` or a v2 `LOCAL` command: none.
    Unknown,
    /// TCP or UDP over IPv4 or IPv6.
    Inet {
        source: SocketAddr,
        destination: SocketAddr,
    },
    /// A UNIX socket's paths (up to 108 bytes each, NUL-terminated on the wire).
    Unix {
        source: Vec<u8>,
        destination: Vec<u8>,
    },
}

/// A whole, valid header.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ProxyHeader {
    pub version: Version,
    pub command: Command,
    pub addresses: Addresses,
    /// How many bytes at the start of the input the header spans.
    pub len: usize,
    /// Type-length-value extensions seen (v2 only; read and skipped).
    pub tlvs: usize,
}

impl ProxyHeader {
    /// The client's address as RocketMQ uses it: upstream's
    /// `RemotingHelper#getProxyProtocolAddress` takes the header's source only
    /// when it has an address and a port above 0 (`HAProxyMessageHandler`
    /// stores the port only then); otherwise the socket's own peer stands.
    pub fn client(&self) -> Option<SocketAddr> {
        match &self.addresses {
            Addresses::Inet { source, .. } if source.port() > 0 => Some(*source),
            _ => None,
        }
    }
}

/// What the first bytes of a connection are.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Parse {
    /// Not a PROXY header: the bytes are the connection's own.
    NotProxy,
    /// The start of a header (or of its signature): more bytes are needed.
    NeedMore,
    Header(ProxyHeader),
}

/// Why a header that began as one cannot be read. Every case closes the
/// connection, as netty's decoder does.
#[derive(Debug, Clone, thiserror::Error, PartialEq, Eq)]
pub enum ProxyHeaderError {
    #[error("PROXY v1 line longer than {V1_MAX_LINE} bytes")]
    V1TooLong,
    #[error("PROXY v1 line is not 'PROXY' and a protocol")]
    V1TooFewParts,
    #[error("PROXY v1 line does not start with the word 'PROXY'")]
    V1BadIdentifier,
    #[error("PROXY v1 protocol {0:?} is not TCP4, TCP6 or UNKNOWN")]
    V1BadProtocol(String),
    #[error("PROXY v1 {0} line has {1} parts (expected 6)")]
    V1PartCount(&'static str, usize),
    #[error("PROXY v1 address {0:?} is not a valid {1} address")]
    V1BadAddress(String, &'static str),
    #[error("PROXY v1 port {0:?} is not 1 to 65535")]
    V1BadPort(String),
    #[error("PROXY v2 version nibble {0:#x} (expected 2)")]
    V2BadVersion(u8),
    #[error("PROXY v2 command {0:#x} is neither LOCAL nor PROXY")]
    V2BadCommand(u8),
    #[error("PROXY v2 address family and protocol byte {0:#04x} is unknown")]
    V2BadFamily(u8),
    #[error("PROXY v2 {family} addresses need {need} bytes, the header has {have}")]
    V2ShortAddresses {
        family: &'static str,
        need: usize,
        have: usize,
    },
    #[error("PROXY v2 TLV of {len} bytes overruns the header's remaining {left}")]
    V2TlvOverrun { len: usize, left: usize },
    #[error("PROXY v2 SSL TLV of {0} bytes is shorter than its 5 fixed bytes")]
    V2SslTlvShort(usize),
    #[error("PROXY v2 TLVs nested deeper than {0} levels")]
    V2TlvTooDeep(usize),
}

/// Reads the header at the start of `buf`, if any (see the module comment).
pub fn parse(buf: &[u8]) -> Result<Parse, ProxyHeaderError> {
    if buf.is_empty() {
        return Ok(Parse::NeedMore);
    }
    if is_prefix_of(buf, V2_SIGNATURE) {
        return v2::parse(buf);
    }
    if is_prefix_of(buf, V1_PREFIX) {
        return v1::parse(buf);
    }
    Ok(Parse::NotProxy)
}

/// Whether `buf` and `signature` agree on their common length.
fn is_prefix_of(buf: &[u8], signature: &[u8]) -> bool {
    let n = buf.len().min(signature.len());
    buf[..n] == signature[..n]
}

fn inet(source: IpAddr, sport: u16, destination: IpAddr, dport: u16) -> Addresses {
    Addresses::Inet {
        source: SocketAddr::new(source, sport),
        destination: SocketAddr::new(destination, dport),
    }
}

fn ipv4(b: &[u8]) -> IpAddr {
    IpAddr::V4(Ipv4Addr::new(b[0], b[1], b[2], b[3]))
}

fn ipv6(b: &[u8]) -> IpAddr {
    let mut octets = [0u8; 16];
    octets.copy_from_slice(&b[..16]);
    IpAddr::V6(Ipv6Addr::from(octets))
}
