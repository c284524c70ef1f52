//! Every form of the header, every malformed case, every truncation point.

use std::net::SocketAddr;

use proptest::prelude::*;

use super::*;

fn sa(s: &str) -> SocketAddr {
    s.parse().expect("test address")
}

fn header(buf: &[u8]) -> ProxyHeader {
    match parse(buf) {
        Ok(Parse::Header(h)) => h,
        other => panic!("expected a header, got {other:?}"),
    }
}

/// A v2 header: signature, ver/cmd, fam, length, `body`.
fn v2(ver_cmd: u8, fam: u8, body: &[u8]) -> Vec<u8> {
    let mut out = V2_SIGNATURE.to_vec();
    out.push(ver_cmd);
    out.push(fam);
    out.extend_from_slice(&u16::try_from(body.len()).expect("short body").to_be_bytes());
    out.extend_from_slice(body);
    out
}

fn v4_body(tail: &[u8]) -> Vec<u8> {
    let mut b = vec![192, 168, 1, 7, 10, 0, 0, 1];
    b.extend_from_slice(&40000u16.to_be_bytes());
    b.extend_from_slice(&9876u16.to_be_bytes());
    b.extend_from_slice(tail);
    b
}

fn tlv(kind: u8, value: &[u8]) -> Vec<u8> {
    let mut out = vec![kind];
    out.extend_from_slice(&u16::try_from(value.len()).expect("short").to_be_bytes());
    out.extend_from_slice(value);
    out
}

/// Every strict prefix of a valid header needs more; the whole one is read
/// the same with any bytes after it, which it does not span.
fn check_prefixes(full: &[u8], expect: &ProxyHeader) {
    for cut in 0..full.len() {
        assert_eq!(parse(&full[..cut]), Ok(Parse::NeedMore), "cut at {cut}");
    }
    assert_eq!(&header(full), expect);
    let mut more = full.to_vec();
    more.extend_from_slice(b"\0\0\0\x10rest");
    assert_eq!(&header(&more), expect);
}

#[test]
fn v1_tcp4() {
    let line = b"PROXY TCP4 192.168.1.7 10.0.0.1 40000 9876\r\n";
    let want = ProxyHeader {
        version: Version::V1,
        command: Command::Proxy,
        addresses: Addresses::Inet {
            source: sa("192.168.1.7:40000"),
            destination: sa("10.0.0.1:9876"),
        },
        len: line.len(),
        tlvs: 0,
    };
    check_prefixes(line, &want);
    assert_eq!(want.client(), Some(sa("192.168.1.7:40000")));
}

#[test]
fn v1_tcp6() {
    let line = b"PROXY TCP6 2001:db8::7 ::1 40000 9876\r\n";
    let h = header(line);
    assert_eq!(h.client(), Some(sa("[2001:db8::7]:40000")));
    assert_eq!(h.len, line.len());
    check_prefixes(line, &h);
    // Brackets and a zone, as netty's validator takes them.
    let h = header(b"PROXY TCP6 [fe80::1%eth0] ::1 5 6\r\n");
    assert_eq!(h.client(), Some(sa("[fe80::1]:5")));
}

#[test]
fn v1_unknown_keeps_the_socket_address() {
    for line in [
        &b"PROXY UNKNOWN\r\n"[..],
        b"PROXY UNKNOWN ffff::1 ffff::2 1 2\r\n",
        b"PROXY UNKNOWN whatever at all\r\n",
    ] {
        let h = header(line);
        assert_eq!(h.addresses, Addresses::Unknown);
        assert_eq!(h.client(), None);
        assert_eq!(h.len, line.len());
    }
}

#[test]
fn v1_java_split_rules() {
    // A trailing space splits into an empty last part, which Java drops.
    let h = header(b"PROXY TCP4 1.2.3.4 5.6.7.8 1 2 \r\n");
    assert_eq!(h.client(), Some(sa("1.2.3.4:1")));
    // Leading zeros and a '+' sign, as `NetUtil` and `Integer#parseInt` take them.
    let h = header(b"PROXY TCP4 001.002.003.004 5.6.7.8 +0080 2\r\n");
    assert_eq!(h.client(), Some(sa("1.2.3.4:80")));
    // A double space makes an empty protocol or address.
    assert!(parse(b"PROXY  TCP4 1.2.3.4 5.6.7.8 1 2\r\n").is_err());
    assert!(parse(b"PROXY TCP4 1.2.3.4  5.6.7.8 1 2\r\n").is_err());
}

#[test]
fn v1_malformed() {
    use ProxyHeaderError as E;
    let cases: &[(&[u8], E)] = &[
        (b"PROXY\r\n", E::V1TooFewParts),
        (b"PROXYX TCP4\r\n", E::V1BadIdentifier),
        (b"PROXY TCP5 a b c d\r\n", E::V1BadProtocol("TCP5".into())),
        (
            b"PROXY UDP4 1.2.3.4 5.6.7.8 1 2\r\n",
            E::V1BadProtocol("UDP4".into()),
        ),
        (
            b"PROXY tcp4 1.2.3.4 5.6.7.8 1 2\r\n",
            E::V1BadProtocol("tcp4".into()),
        ),
        (
            b"PROXY TCP4 1.2.3.4 5.6.7.8 1\r\n",
            E::V1PartCount("TCP4", 5),
        ),
        (
            b"PROXY TCP4 1.2.3.4 5.6.7.8 1 2 3\r\n",
            E::V1PartCount("TCP4", 7),
        ),
        (
            b"PROXY TCP4 ::1 5.6.7.8 1 2\r\n",
            E::V1BadAddress("::1".into(), "IPv4"),
        ),
        (
            b"PROXY TCP4 1.2.3.256 5.6.7.8 1 2\r\n",
            E::V1BadAddress("1.2.3.256".into(), "IPv4"),
        ),
        (
            b"PROXY TCP4 1.2.3 5.6.7.8 1 2\r\n",
            E::V1BadAddress("1.2.3".into(), "IPv4"),
        ),
        (
            b"PROXY TCP4 1.2.3.4.5 5.6.7.8 1 2\r\n",
            E::V1BadAddress("1.2.3.4.5".into(), "IPv4"),
        ),
        (
            b"PROXY TCP6 1.2.3.4 ::1 1 2\r\n",
            E::V1BadAddress("1.2.3.4".into(), "IPv6"),
        ),
        (
            b"PROXY TCP4 1.2.3.4 5.6.7.8 0 2\r\n",
            E::V1BadPort("0".into()),
        ),
        (
            b"PROXY TCP4 1.2.3.4 5.6.7.8 1 65536\r\n",
            E::V1BadPort("65536".into()),
        ),
        (
            b"PROXY TCP4 1.2.3.4 5.6.7.8 -1 2\r\n",
            E::V1BadPort("-1".into()),
        ),
        (
            b"PROXY TCP4 1.2.3.4 5.6.7.8 x 2\r\n",
            E::V1BadPort("x".into()),
        ),
        (
            b"PROXY TCP4 1.2.3.4 5.6.7.8 + 2\r\n",
            E::V1BadPort("+".into()),
        ),
    ];
    for (line, err) in cases {
        assert_eq!(
            parse(line).as_ref(),
            Err(err),
            "{:?}",
            String::from_utf8_lossy(line)
        );
    }
}

#[test]
fn v1_length_bound() {
    // The longest line netty takes: 108 bytes before the CRLF.
    let mut line = b"PROXY UNKNOWN ".to_vec();
    line.resize(V1_MAX_LINE, b'x');
    line.extend_from_slice(b"\r\n");
    assert_eq!(header(&line).len, V1_MAX_HEADER);
    // One more and it is refused, even before its CRLF arrives.
    let mut long = b"PROXY UNKNOWN ".to_vec();
    long.resize(V1_MAX_LINE + 1, b'x');
    let mut crlf = long.clone();
    crlf.extend_from_slice(b"\r\n");
    assert_eq!(parse(&crlf), Err(ProxyHeaderError::V1TooLong));
    long.push(b'x');
    assert_eq!(parse(&long), Err(ProxyHeaderError::V1TooLong));
    // Short of the bound, a line without its end needs more; a lone LF is no end.
    assert_eq!(parse(&long[..V1_MAX_HEADER - 1]), Ok(Parse::NeedMore));
    assert_eq!(parse(b"PROXY UNKNOWN\n"), Ok(Parse::NeedMore));
}

#[test]
fn not_proxy() {
    for first in [
        &b"\0\0\0\x20"[..],
        b"\x16\x03\x01",
        b"GET / HTTP/1.1",
        b"PROX\0",
        b"\r\n\r\n\0\r\nQUIT\r",
    ] {
        assert_eq!(parse(first), Ok(Parse::NotProxy), "{first:?}");
    }
    assert_eq!(parse(b""), Ok(Parse::NeedMore));
    assert_eq!(parse(b"PRO"), Ok(Parse::NeedMore));
    assert_eq!(parse(b"\r\n\r\n"), Ok(Parse::NeedMore));
}

#[test]
fn v2_proxy_ipv4() {
    let full = v2(0x21, 0x11, &v4_body(&[]));
    let want = ProxyHeader {
        version: Version::V2,
        command: Command::Proxy,
        addresses: Addresses::Inet {
            source: sa("192.168.1.7:40000"),
            destination: sa("10.0.0.1:9876"),
        },
        len: 28,
        tlvs: 0,
    };
    check_prefixes(&full, &want);
    // UDP over IPv4 reads the same (netty accepts every family it knows).
    assert_eq!(
        header(&v2(0x21, 0x12, &v4_body(&[]))).client(),
        want.client()
    );
}

#[test]
fn v2_proxy_ipv6() {
    let mut body = vec![0u8; 36];
    body[0] = 0x20;
    body[1] = 0x01;
    body[15] = 7;
    body[31] = 1;
    body[32..34].copy_from_slice(&40000u16.to_be_bytes());
    body[34..36].copy_from_slice(&9876u16.to_be_bytes());
    let full = v2(0x21, 0x21, &body);
    let h = header(&full);
    assert_eq!(h.client(), Some(sa("[2001::7]:40000")));
    assert_eq!(
        h.addresses,
        Addresses::Inet {
            source: sa("[2001::7]:40000"),
            destination: sa("[::1]:9876")
        }
    );
    check_prefixes(&full, &h);
}

#[test]
fn v2_unix_and_unspec_keep_the_socket_address() {
    let mut body = vec![0u8; 216];
    body[..4].copy_from_slice(b"/src");
    body[108..112].copy_from_slice(b"/dst");
    let h = header(&v2(0x21, 0x31, &body));
    assert_eq!(
        h.addresses,
        Addresses::Unix {
            source: b"/src".to_vec(),
            destination: b"/dst".to_vec()
        }
    );
    assert_eq!(h.client(), None);
    // A path with no NUL fills its 108 bytes.
    let h = header(&v2(0x21, 0x32, &[b'a'; 216]));
    assert!(matches!(h.addresses, Addresses::Unix { ref source, .. } if source.len() == 108));
    // AF_UNSPEC: no addresses, whatever the body holds.
    let h = header(&v2(0x21, 0x00, b"junk"));
    assert_eq!(
        (h.addresses.clone(), h.len, h.client()),
        (Addresses::Unknown, 20, None)
    );
}

#[test]
fn v2_local_skips_everything() {
    // LOCAL: family, addresses and TLVs are not read (netty returns early).
    let full = v2(0x20, 0x11, &v4_body(&tlv(0x04, b"x")));
    let want = ProxyHeader {
        version: Version::V2,
        command: Command::Local,
        addresses: Addresses::Unknown,
        len: full.len(),
        tlvs: 0,
    };
    check_prefixes(&full, &want);
    assert_eq!(header(&v2(0x20, 0xff, &[1, 2, 3])).len, 19);
    assert_eq!(header(&v2(0x20, 0x00, &[])).len, 16);
}

#[test]
fn v2_port_zero_keeps_the_socket_address() {
    let mut body = v4_body(&[]);
    body[8..10].copy_from_slice(&[0, 0]);
    let h = header(&v2(0x21, 0x11, &body));
    assert_eq!(h.client(), None);
}

#[test]
fn v2_tlvs_are_read_and_skipped() {
    let mut tail = tlv(0x01, b"h2");
    tail.extend(tlv(0x02, b"example.com"));
    tail.extend(tlv(0x03, &[1, 2, 3, 4]));
    let mut ssl_value = vec![1, 0, 0, 0, 0];
    ssl_value.extend(tlv(0x21, b"TLSv1.3"));
    ssl_value.extend(tlv(0x22, b"cn"));
    tail.extend(tlv(0x20, &ssl_value));
    tail.extend(tlv(0xee, &[]));
    // Fewer than 4 bytes left over end the list, as in netty.
    tail.extend([0x04, 0x00, 0x00]);
    let full = v2(0x21, 0x11, &v4_body(&tail));
    let h = header(&full);
    assert_eq!(h.tlvs, 7);
    assert_eq!(h.len, full.len());
    assert_eq!(h.client(), Some(sa("192.168.1.7:40000")));
    check_prefixes(&full, &h);
}

#[test]
fn v2_tlv_errors() {
    use ProxyHeaderError as E;
    // A value running past the header's end.
    let full = v2(0x21, 0x11, &v4_body(&[0x04, 0x00, 0x09, 1, 2]));
    assert_eq!(parse(&full), Err(E::V2TlvOverrun { len: 9, left: 2 }));
    // An SSL TLV without its client byte and verify field.
    let full = v2(0x21, 0x11, &v4_body(&tlv(0x20, &[1, 0, 0])));
    assert_eq!(parse(&full), Err(E::V2SslTlvShort(3)));
    // SSL TLVs nested deeper than netty's 128 levels.
    let deep = |levels: usize| {
        let mut inner = tlv(0x04, b"end");
        for _ in 0..levels {
            let mut v = vec![0, 0, 0, 0, 0];
            v.extend(inner);
            inner = tlv(0x20, &v);
        }
        v2(0x21, 0x11, &v4_body(&inner))
    };
    assert_eq!(header(&deep(128)).tlvs, 129);
    assert_eq!(parse(&deep(129)), Err(E::V2TlvTooDeep(128)));
}

#[test]
fn v2_malformed() {
    use ProxyHeaderError as E;
    let sig = V2_SIGNATURE.to_vec();
    let with = |extra: &[u8]| [&sig[..], extra].concat();
    // Refused as soon as the bad byte is there.
    assert_eq!(parse(&with(&[0x11])), Err(E::V2BadVersion(1)));
    assert_eq!(parse(&with(&[0x01])), Err(E::V2BadVersion(0)));
    assert_eq!(parse(&with(&[0x31])), Err(E::V2BadVersion(3)));
    assert_eq!(parse(&with(&[0x22])), Err(E::V2BadCommand(2)));
    assert_eq!(parse(&with(&[0x2f])), Err(E::V2BadCommand(0xf)));
    assert_eq!(parse(&with(&[0x21, 0x13])), Err(E::V2BadFamily(0x13)));
    assert_eq!(parse(&with(&[0x21, 0x41])), Err(E::V2BadFamily(0x41)));
    // Address blocks shorter than their family needs.
    let short = |fam: u8, len: usize| parse(&v2(0x21, fam, &vec![0; len]));
    let e = |family, need, have| Err(E::V2ShortAddresses { family, need, have });
    assert_eq!(short(0x11, 11), e("IPv4", 12, 11));
    assert_eq!(short(0x21, 35), e("IPv6", 36, 35));
    assert_eq!(short(0x31, 215), e("UNIX", 216, 215));
    assert_eq!(short(0x11, 0), e("IPv4", 12, 0));
}

#[test]
fn v2_length_bound() {
    // The largest header the 16-bit length allows is read whole.
    let mut tail = Vec::new();
    while tail.len() + 12 + 3 + 1000 <= 65535 {
        tail.extend(tlv(0x04, &[7; 1000]));
    }
    tail.resize(65535 - 12, 0);
    let full = v2(0x21, 0x11, &v4_body(&tail));
    assert_eq!(full.len(), V2_MAX_HEADER);
    assert_eq!(header(&full).len, V2_MAX_HEADER);
    assert_eq!(parse(&full[..V2_MAX_HEADER - 1]), Ok(Parse::NeedMore));
}

proptest! {
    #[test]
    fn never_panics(bytes in proptest::collection::vec(any::<u8>(), 0..400)) {
        let _ = parse(&bytes);
    }

    #[test]
    fn never_panics_after_a_signature(v2sig in any::<bool>(), tail in proptest::collection::vec(any::<u8>(), 0..400)) {
        let mut buf = if v2sig { V2_SIGNATURE.to_vec() } else { b"PROXY ".to_vec() };
        buf.extend_from_slice(&tail);
        if let Ok(Parse::Header(h)) = parse(&buf) {
            prop_assert!(h.len <= buf.len());
            // The verdict does not depend on what follows the header.
            prop_assert_eq!(parse(&buf[..h.len]), Ok(Parse::Header(h)));
        }
    }

    #[test]
    fn prefixes_never_disagree(tail in proptest::collection::vec(any::<u8>(), 0..120), cut in 0usize..140) {
        let mut buf = V2_SIGNATURE.to_vec();
        buf.extend_from_slice(&[0x21, 0x11]);
        buf.extend_from_slice(&(tail.len() as u16).to_be_bytes());
        buf.extend_from_slice(&tail);
        let whole = parse(&buf);
        let cut = cut.min(buf.len());
        match parse(&buf[..cut]) {
            Ok(Parse::NeedMore) => {}
            Ok(Parse::NotProxy) => prop_assert!(false, "a signature prefix read as not proxy"),
            early => prop_assert_eq!(early, whole),
        }
    }
}
