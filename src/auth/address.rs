//! Address patterns of the accounts file (`whiteRemoteAddress`,
//! `globalWhiteRemoteAddresses`), in the forms upstream's
//! `RemoteAddressStrategyFactory#getRemoteAddressStrategy` reads, plus CIDR
//! (`10.0.0.0/8`, `fd00::/8`) as ACL 2.0 accepts it.
//!
//! A pattern is parsed once, when the file is loaded, into numbers: matching a
//! peer compares integers and allocates nothing.

use std::fmt;
use std::net::IpAddr;

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("invalid address pattern {pattern:?}: {reason}")]
pub struct AddressError {
    pub pattern: String,
    pub reason: &'static str,
}

/// One segment's inclusive range of values (`*` is the whole range).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Span {
    lo: u16,
    hi: u16,
}

impl Span {
    fn exact(v: u16) -> Span {
        Span { lo: v, hi: v }
    }

    fn holds(self, v: u16) -> bool {
        self.lo <= v && v <= self.hi
    }
}

#[derive(Clone, PartialEq, Eq)]
enum Form {
    /// A blank pattern (`BlankRemoteAddressStrategy`).
    Nothing,
    /// `*`, `*.*.*.*`, `*:*:*:*:*:*:*:*` (`NullRemoteAddressStrategy`).
    Everything,
    /// Exact addresses: one, a comma list or `a.b.c.{1,2}`.
    Exact(Vec<IpAddr>),
    /// Per-octet ranges, `10.10.*.*`, `192.168.1-20.*`.
    V4Spans([Span; 4]),
    /// Per-group ranges, `fd00:0:0:0:0:0:0:*`, `fd00::1-ff`.
    V6Spans([Span; 8]),
    V4Cidr {
        net: u32,
        mask: u32,
    },
    V6Cidr {
        net: u128,
        mask: u128,
    },
}

/// A parsed address pattern; [`AddressPattern::matches`] tells whether a peer is in it.
#[derive(Clone, PartialEq, Eq)]
pub struct AddressPattern {
    text: String,
    form: Form,
}

impl fmt::Debug for AddressPattern {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "AddressPattern({:?})", self.text)
    }
}

impl fmt::Display for AddressPattern {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.text)
    }
}

/// An IPv4-mapped IPv6 address (`::ffff:a.b.c.d`, what a dual-stack socket reports
/// for an IPv4 peer) is its IPv4 address.
fn canonical(ip: IpAddr) -> IpAddr {
    match ip {
        IpAddr::V6(v6) => match v6.to_ipv4_mapped() {
            Some(v4) => IpAddr::V4(v4),
            None => ip,
        },
        v4 => v4,
    }
}

/// A list of patterns (`proxyProtocolTrustedAddresses`), separated by `,` or `;`
/// outside braces (so `10.0.0.{1,2}` stays one pattern); empty matches nothing.
#[derive(Clone, Default, PartialEq, Eq)]
pub struct AddressList {
    text: String,
    patterns: Vec<AddressPattern>,
}

impl fmt::Debug for AddressList {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "AddressList({:?})", self.text)
    }
}

impl fmt::Display for AddressList {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.text)
    }
}

impl AddressList {
    pub fn parse(list: &str) -> Result<AddressList, AddressError> {
        let text = list.trim();
        let mut patterns = Vec::new();
        let (mut depth, mut start) = (0usize, 0usize);
        let mut push = |part: &str| -> Result<(), AddressError> {
            if !part.trim().is_empty() {
                patterns.push(AddressPattern::parse(part)?);
            }
            Ok(())
        };
        for (i, c) in text.char_indices() {
            match c {
                '{' => depth += 1,
                '}' => depth = depth.saturating_sub(1),
                ',' | ';' if depth == 0 => {
                    push(&text[start..i])?;
                    start = i + 1;
                }
                _ => {}
            }
        }
        push(&text[start..])?;
        Ok(AddressList {
            text: text.to_string(),
            patterns,
        })
    }

    pub fn matches(&self, peer: IpAddr) -> bool {
        self.patterns.iter().any(|p| p.matches(peer))
    }

    pub fn is_empty(&self) -> bool {
        self.patterns.is_empty()
    }
}

impl AddressPattern {
    /// The pattern that matches no peer (an account without `whiteRemoteAddress`).
    pub fn nothing() -> AddressPattern {
        AddressPattern {
            text: String::new(),
            form: Form::Nothing,
        }
    }

    pub fn parse(pattern: &str) -> Result<AddressPattern, AddressError> {
        let text = pattern.trim();
        let err = |reason| AddressError {
            pattern: pattern.to_string(),
            reason,
        };
        let form = if text.is_empty() {
            Form::Nothing
        } else if matches!(text, "*" | "*.*.*.*" | "*:*:*:*:*:*:*:*") {
            Form::Everything
        } else if let Some(open) = text.find('{') {
            Form::Exact(braces(text, open).ok_or_else(|| err("expected a.b.c.{x,y,...}"))?)
        } else if text.contains(',') {
            let list: Option<Vec<IpAddr>> = text.split(',').map(|a| exact(a.trim())).collect();
            Form::Exact(list.ok_or_else(|| err("a comma list holds exact addresses only"))?)
        } else if let Some((addr, bits)) = text.split_once('/') {
            cidr(addr.trim(), bits.trim()).ok_or_else(|| err("expected address/prefix-length"))?
        } else if text.contains('*') || text.contains('-') {
            if text.contains(':') {
                Form::V6Spans(v6_spans(text).ok_or_else(|| err("bad IPv6 range"))?)
            } else {
                Form::V4Spans(v4_spans(text).ok_or_else(|| err("bad IPv4 range"))?)
            }
        } else {
            Form::Exact(vec![exact(text).ok_or_else(|| err("not an IP address"))?])
        };
        Ok(AddressPattern {
            text: text.to_string(),
            form,
        })
    }

    pub fn matches(&self, peer: IpAddr) -> bool {
        let peer = canonical(peer);
        match (&self.form, peer) {
            (Form::Nothing, _) => false,
            (Form::Everything, _) => true,
            (Form::Exact(list), _) => list.contains(&peer),
            (Form::V4Spans(spans), IpAddr::V4(v4)) => spans
                .iter()
                .zip(v4.octets())
                .all(|(s, o)| s.holds(u16::from(o))),
            (Form::V6Spans(spans), IpAddr::V6(v6)) => {
                spans.iter().zip(v6.segments()).all(|(s, g)| s.holds(g))
            }
            (Form::V4Cidr { net, mask }, IpAddr::V4(v4)) => u32::from(v4) & mask == *net,
            (Form::V6Cidr { net, mask }, IpAddr::V6(v6)) => u128::from(v6) & mask == *net,
            _ => false,
        }
    }
}

fn exact(text: &str) -> Option<IpAddr> {
    text.parse::<IpAddr>().ok().map(canonical)
}

/// `192.168.0.{1,2}` (also `fd00::{1,2}`): the part before `{` joined to each
/// alternative (`AclUtils#getAddresses`).
fn braces(text: &str, open: usize) -> Option<Vec<IpAddr>> {
    let head = &text[..open];
    let inner = text[open + 1..].strip_suffix('}')?;
    if !(head.ends_with('.') || head.ends_with(':')) || inner.contains(['{', '}']) {
        return None;
    }
    inner
        .split(',')
        .map(|alt| exact(&format!("{head}{}", alt.trim())))
        .collect()
}

fn cidr(addr: &str, bits: &str) -> Option<Form> {
    let bits: u32 = bits.parse().ok()?;
    match addr.parse::<IpAddr>().ok()? {
        IpAddr::V4(v4) if bits <= 32 => {
            let mask = u32::MAX.checked_shl(32 - bits).unwrap_or(0);
            Some(Form::V4Cidr {
                net: u32::from(v4) & mask,
                mask,
            })
        }
        IpAddr::V6(v6) if bits <= 128 => {
            let mask = u128::MAX.checked_shl(128 - bits).unwrap_or(0);
            Some(Form::V6Cidr {
                net: u128::from(v6) & mask,
                mask,
            })
        }
        _ => None,
    }
}

/// One segment: a number, `*` (`0..=max`) or `lo-hi` (`RangeRemoteAddressStrategy`).
fn span(text: &str, radix: u32, max: u16) -> Option<Span> {
    let text = text.trim();
    let number = |t: &str| -> Option<u16> {
        let t = t.trim();
        if t.is_empty() || !t.chars().all(|c| c.is_digit(radix)) {
            return None;
        }
        u16::from_str_radix(t, radix).ok().filter(|v| *v <= max)
    };
    if text == "*" {
        return Some(Span { lo: 0, hi: max });
    }
    match text.split_once('-') {
        Some((lo, hi)) => {
            let (lo, hi) = (number(lo)?, number(hi)?);
            (lo <= hi).then_some(Span { lo, hi })
        }
        None => number(text).map(Span::exact),
    }
}

fn v4_spans(text: &str) -> Option<[Span; 4]> {
    let mut out = [Span::exact(0); 4];
    let mut parts = text.split('.');
    for slot in &mut out {
        *slot = span(parts.next()?, 10, 255)?;
    }
    parts.next().is_none().then_some(out)
}

/// Groups of an IPv6 range, with `::` standing for as many zero groups as are
/// missing (`AclUtils#expandIP`).
fn v6_spans<'a>(text: &'a str) -> Option<[Span; 8]> {
    // Groups of one side of `::`; an empty group (`1::2::3`, `1:::2`) is malformed.
    let side = |t: &'a str| -> Option<Vec<&'a str>> {
        if t.is_empty() {
            return Some(Vec::new());
        }
        let groups: Vec<&str> = t.split(':').collect();
        (!groups.iter().any(|g| g.is_empty())).then_some(groups)
    };
    let groups: Vec<&str> = match text.split_once("::") {
        Some((head, tail)) => {
            let (head, tail) = (side(head)?, side(tail)?);
            if head.len() + tail.len() > 7 {
                return None;
            }
            let zeros = 8 - head.len() - tail.len();
            head.into_iter()
                .chain(std::iter::repeat_n("0", zeros))
                .chain(tail)
                .collect()
        }
        None => text.split(':').collect(),
    };
    if groups.len() != 8 {
        return None;
    }
    let mut out = [Span::exact(0); 8];
    for (slot, g) in out.iter_mut().zip(groups) {
        *slot = span(g, 16, u16::MAX)?;
    }
    Some(out)
}
