//! Malformed UTF-8 in a header, read as the Java NameServer reads it. The golden
//! files were printed by Java snippets against RocketMQ 5.5.0's own classes:
//!
//! - `golden/jdk17_utf8.txt`: random byte strings and what `new String(bytes,
//!   UTF_8)` makes of them on JDK 17. Netty's `ByteBuf#readCharSequence`, which
//!   reads the binary header, gave the same text for all of them.
//! - `golden/fastjson2_header_strings.txt`: random bytes (with quotes and
//!   backslashes among them) put raw into a JSON header's `remark` and `topic`
//!   ext value, and what `RemotingCommand#decode` (fastjson2 2.0.59) read, or
//!   `ERR`. Left out when generating it: strings mixing escapes with malformed
//!   UTF-8, and escapes JSON does not define (see docs/compat.md).

mod common;
use common::{part, zlib};

use namesrv_protocol::body::RegisterBrokerBody;
use namesrv_protocol::header::{binary as header_binary, json as header_json};
use namesrv_protocol::RemotingCommand;

fn hex_bytes(s: &str) -> Vec<u8> {
    s.split(' ')
        .map(|h| u8::from_str_radix(h, 16).expect("hex byte"))
        .collect()
}

fn utf16_hex(s: &str) -> String {
    s.encode_utf16()
        .map(|u| format!("{u:04X}"))
        .collect::<Vec<_>>()
        .join(" ")
}

fn golden(name: &str) -> Vec<(String, String)> {
    let path = format!("{}/tests/golden/{name}", env!("CARGO_MANIFEST_DIR"));
    std::fs::read_to_string(&path)
        .expect("golden file")
        .lines()
        .filter(|l| !l.starts_with('#'))
        .map(|l| {
            let (input, want) = l.split_once('|').expect("input|expected");
            (input.to_string(), want.to_string())
        })
        .collect()
}

#[test]
fn binary_header_strings_read_as_jdk17_new_string() {
    let rows = golden("jdk17_utf8.txt");
    assert_eq!(rows.len(), 2000);
    for (input, want) in rows {
        let remark = hex_bytes(&input);
        let mut h = vec![0, 105, 0, 0x01, 0xDF, 0, 0, 0, 1, 0, 0, 0, 0];
        h.extend_from_slice(&(remark.len() as i32).to_be_bytes());
        h.extend_from_slice(&remark);
        h.extend_from_slice(&0i32.to_be_bytes());
        let cmd = header_binary::decode(&h).expect("binary header");
        assert_eq!(
            utf16_hex(cmd.remark.as_deref().unwrap()),
            want,
            "bytes {input}"
        );
    }
}

fn summary(cmd: &RemotingCommand) -> String {
    let ext = match &cmd.ext_fields {
        None => "noext".to_string(),
        Some(e) => {
            let topic = e.iter().find(|(k, _)| k == "topic");
            format!(
                "{} | {}",
                topic.map_or("null".into(), |(_, v)| utf16_hex(v)),
                e.len()
            )
        }
    };
    let remark = cmd.remark.as_deref().map_or("null".into(), utf16_hex);
    format!("OK {} {} {remark} | {ext}", cmd.code, cmd.opaque)
}

#[test]
fn json_header_strings_read_as_fastjson2() {
    let rows = golden("fastjson2_header_strings.txt");
    assert_eq!(rows.len(), 1676);
    for (input, want) in rows {
        let v = hex_bytes(&input);
        let mut h = br#"{"code":105,"extFields":{"topic":""#.to_vec();
        h.extend_from_slice(&v);
        h.extend_from_slice(br#""},"flag":0,"language":"JAVA","opaque":1,"remark":""#);
        h.extend_from_slice(&v);
        h.extend_from_slice(br#"","serializeTypeCurrentRPC":"JSON","version":479}"#);
        let got = header_json::decode(&h).map_or_else(|_| "ERR".to_string(), |c| summary(&c));
        assert_eq!(got, want, "value bytes {input}");
    }
}

/// Malformed UTF-8 is no error: it reads as Java's `new String(bytes, UTF_8)`
/// reads it (U+FFFD per malformed sequence, Java's count of them), as the
/// differential against the Java NameServer shows.
#[test]
fn binary_decode_replaces_malformed_utf8() {
    // code 17, GO, version 479, opaque 7, flag 1, remark "hi", ext {topic: T}
    let mut good = vec![0, 0x11, 9, 0x01, 0xDF, 0, 0, 0, 7, 0, 0, 0, 1, 0, 0, 0, 2];
    good.extend_from_slice(b"hi\0\0\0\x0c\0\x05topic\0\0\0\x01T");
    let with = |at: usize, bytes: &[u8]| {
        let mut b = good.clone();
        b[at..at + bytes.len()].copy_from_slice(bytes);
        header_binary::decode(&b).unwrap()
    };
    assert_eq!(with(17, &[0xC3, 0x28]).remark.as_deref(), Some("\u{FFFD}("));
    assert_eq!(
        with(25, &[0xFF]).ext_fields,
        Some(vec![("\u{FFFD}opic".into(), "T".into())])
    );
    assert_eq!(
        with(25, &[0xED, 0xA0, 0x80]).ext_fields,
        Some(vec![("\u{FFFD}ic".into(), "T".into())])
    );
    assert_eq!(
        with(34, &[0x80]).ext_fields,
        Some(vec![("topic".into(), "\u{FFFD}".into())])
    );
}

/// A compressed register body's topic lines and filter server list are text read
/// with `new String(bytes, "UTF-8")` (`RegisterBrokerBody#decode`). What RocketMQ
/// 5.5.0's own decode made of these bytes (a Java snippet on JDK 17): `T` + an
/// encoded surrogate is one U+FFFD (Rust's lossy decoder makes three), an
/// overlong `C0 AF` two.
#[test]
fn compressed_register_body_text_read_as_java() {
    let line = |name: &[u8]| [name, b" 1 1 6 SINGLE_TAG"].concat();
    let mut raw = Vec::new();
    part(&mut raw, br#"{"counter":1,"stateVersion":0,"timestamp":1}"#);
    raw.extend_from_slice(&2i32.to_be_bytes());
    part(&mut raw, &line(b"T\xED\xA0\x80"));
    part(&mut raw, &line(b"U\xC0\xAF"));
    part(&mut raw, b"[\"h\xED\xA0\x80\"]");
    raw.extend_from_slice(&0i32.to_be_bytes());
    let body = RegisterBrokerBody::decode(Some(&zlib(&raw)), true, 479).expect("decodes");
    let mut names: Vec<String> = body
        .topic_configs
        .iter()
        .map(|t| utf16_hex(&t.topic_name))
        .collect();
    names.sort();
    assert_eq!(names, ["0054 FFFD", "0055 FFFD FFFD"]);
    let filters: Option<Vec<String>> = body
        .filter_server_list
        .map(|l| l.iter().map(|f| utf16_hex(f)).collect());
    assert_eq!(filters, Some(vec!["0068 FFFD".to_string()]));
}
