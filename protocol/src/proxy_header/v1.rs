//! The text form: `PROXY TCP4|TCP6 <src> <dst> <sport> <dport>\r\n` or
//! `PROXY UNKNOWN ...\r\n`, read as netty's `HAProxyMessage#decodeHeader(String)`.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

use super::{inet, Addresses, Command, Parse, ProxyHeader, ProxyHeaderError, Version};
use super::{V1_MAX_HEADER, V1_MAX_LINE};

/// `buf` starts with (a prefix of) `PROXY`.
pub(super) fn parse(buf: &[u8]) -> Result<Parse, ProxyHeaderError> {
    let window = &buf[..buf.len().min(V1_MAX_HEADER)];
    let Some(eol) = memchr::memmem::find(window, b"\r\n") else {
        // Netty fails as soon as more than the longest line is buffered without
        // an end; we wait for the CRLF's last possible place instead, so the
        // verdict is the same however the bytes were split.
        return if window.len() == V1_MAX_HEADER {
            Err(ProxyHeaderError::V1TooLong)
        } else {
            Ok(Parse::NeedMore)
        };
    };
    if eol > V1_MAX_LINE {
        return Err(ProxyHeaderError::V1TooLong);
    }
    let addresses = decode_line(&buf[..eol])?;
    Ok(Parse::Header(ProxyHeader {
        version: Version::V1,
        command: Command::Proxy,
        addresses,
        len: eol + 2,
        tlvs: 0,
    }))
}

/// One line without its CRLF.
fn decode_line(line: &[u8]) -> Result<Addresses, ProxyHeaderError> {
    let parts = java_split_space(line);
    if parts.len() < 2 {
        return Err(ProxyHeaderError::V1TooFewParts);
    }
    if parts[0] != b"PROXY" {
        return Err(ProxyHeaderError::V1BadIdentifier);
    }
    let v6 = match parts[1] {
        b"UNKNOWN" => return Ok(Addresses::Unknown),
        b"TCP4" => false,
        b"TCP6" => true,
        other => {
            return Err(ProxyHeaderError::V1BadProtocol(
                String::from_utf8_lossy(other).into_owned(),
            ))
        }
    };
    let family = if v6 { "TCP6" } else { "TCP4" };
    if parts.len() != 6 {
        return Err(ProxyHeaderError::V1PartCount(family, parts.len()));
    }
    let ip = |text: &[u8]| {
        let parsed = if v6 { ipv6_text(text) } else { ipv4_text(text) };
        parsed.ok_or_else(|| {
            ProxyHeaderError::V1BadAddress(
                String::from_utf8_lossy(text).into_owned(),
                if v6 { "IPv6" } else { "IPv4" },
            )
        })
    };
    let (src, dst) = (ip(parts[2])?, ip(parts[3])?);
    let (sport, dport) = (port(parts[4])?, port(parts[5])?);
    Ok(inet(src, sport, dst, dport))
}

/// Java's `String#split(" ")`: every single space separates, and empty parts at
/// the end are dropped (so a trailing space is harmless, a double one is not).
fn java_split_space(line: &[u8]) -> Vec<&[u8]> {
    let mut parts: Vec<&[u8]> = line.split(|&b| b == b' ').collect();
    while parts.last().is_some_and(|p| p.is_empty()) {
        parts.pop();
    }
    parts
}

/// netty's `NetUtil#isValidIpV4Address`: four dot-separated decimal words of
/// one to three digits, each at most 255 (leading zeros allowed).
fn ipv4_text(text: &[u8]) -> Option<IpAddr> {
    if !(7..=15).contains(&text.len()) {
        return None;
    }
    let mut octets = [0u8; 4];
    let mut words = text.split(|&b| b == b'.');
    for octet in &mut octets {
        let word = words.next()?;
        if word.is_empty() || word.len() > 3 || !word.iter().all(u8::is_ascii_digit) {
            return None;
        }
        let value = word
            .iter()
            .fold(0u16, |acc, d| acc * 10 + u16::from(d - b'0'));
        *octet = u8::try_from(value).ok()?;
    }
    if words.next().is_some() {
        return None;
    }
    Some(IpAddr::V4(Ipv4Addr::from(octets)))
}

/// An IPv6 address as netty's `NetUtil#isValidIpV6Address` takes it, optionally
/// in brackets and with a zone suffix (`%eth0`, which the address drops).
fn ipv6_text(text: &[u8]) -> Option<IpAddr> {
    let text = std::str::from_utf8(text).ok()?;
    let text = match text.strip_prefix('[') {
        Some(inner) => inner.strip_suffix(']')?,
        None => text,
    };
    let text = text.split_once('%').map_or(text, |(addr, _zone)| addr);
    text.parse::<Ipv6Addr>().ok().map(IpAddr::V6)
}

/// `HAProxyMessage#portStringToInt`: `Integer#parseInt` (an optional sign, then
/// decimal digits) and a value from 1 to 65535.
fn port(text: &[u8]) -> Result<u16, ProxyHeaderError> {
    let bad = || ProxyHeaderError::V1BadPort(String::from_utf8_lossy(text).into_owned());
    let digits = text.strip_prefix(b"+").unwrap_or(text);
    if digits.is_empty() || !digits.iter().all(u8::is_ascii_digit) {
        return Err(bad());
    }
    let value = digits.iter().try_fold(0u32, |acc, d| {
        let next = acc * 10 + u32::from(d - b'0');
        (next <= 65535).then_some(next)
    });
    match value {
        Some(v) if v > 0 => u16::try_from(v).map_err(|_| bad()),
        _ => Err(bad()),
    }
}
