//! Golden vectors and robustness tests for the frame and both header codecs.

use bytes::BytesMut;
use namesrv_protocol::frame::{self, DEFAULT_MAX_FRAME};
use namesrv_protocol::header::{self, binary as header_binary, json as header_json};
use namesrv_protocol::json_escape::JsonRelease;
use namesrv_protocol::{Frame, FrameError, LanguageCode, RemotingCommand, SerializeType};

fn ext(pairs: &[(&str, &str)]) -> Vec<(String, String)> {
    pairs
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect()
}

fn json_of(cmd: &RemotingCommand) -> String {
    let mut out = Vec::new();
    header_json::encode(cmd, &mut out);
    String::from_utf8(out).unwrap()
}

fn bin_of(cmd: &RemotingCommand) -> Vec<u8> {
    let mut out = Vec::new();
    header_binary::encode(cmd, &mut out);
    out
}

/// A header codec's error, or framing's, is a bad header (as framing reports it).
fn is_bad_header<T: std::fmt::Debug, E: Into<FrameError>>(r: Result<T, E>) -> bool {
    matches!(r.map_err(Into::into), Err(FrameError::BadHeader(_)))
}

/// Ext fields compared as a set: decoders may reorder them.
fn sorted_ext(cmd: &RemotingCommand) -> Option<Vec<(String, String)>> {
    cmd.ext_fields.clone().map(|mut v| {
        v.sort();
        v
    })
}

fn assert_same(a: &RemotingCommand, b: &RemotingCommand) {
    let mut a = a.clone();
    let mut b = b.clone();
    a.ext_fields = sorted_ext(&a);
    b.ext_fields = sorted_ext(&b);
    assert_eq!(a, b);
}

/// Deterministic xorshift so failures reproduce.
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
    fn bytes(&mut self, n: usize) -> Vec<u8> {
        (0..n).map(|_| self.next() as u8).collect()
    }
}

fn sample_commands() -> Vec<RemotingCommand> {
    let mut full = RemotingCommand::request(
        103,
        -5,
        ext(&[
            ("brokerName", "broker-a"),
            ("brokerAddr", "10.0.0.1:10911"),
            ("clusterName", "DefaultCluster"),
            ("brokerId", "0"),
            ("compressed", "false"),
        ]),
    );
    full.remark = Some("résumé \"quoted\" \\ / \n\t\u{1}\u{7f} 中文".to_string());
    full.flag = 2;
    let mut go = RemotingCommand::response(0, i32::MAX, None);
    go.language = Some(LanguageCode::Go);
    go.ext_fields = Some(ext(&[("value", "x=1;y=2")]));
    let mut neg = RemotingCommand::response(-1, i32::MIN, Some("err".into()));
    neg.version = -2;
    neg.language = Some(LanguageCode::NodeJs);
    vec![
        RemotingCommand::request(105, 7, ext(&[("topic", "TopicTest")])),
        RemotingCommand::response(17, 7, Some("No topic route info ...".into())),
        full,
        go,
        neg,
    ]
}

// ---------------------------------------------------------------- JSON golden

const JSON_REQ: &str = r#"{"code":105,"extFields":{"topic":"TopicTest"},"flag":0,"language":"JAVA","opaque":7,"serializeTypeCurrentRPC":"JSON","version":479}"#;
const JSON_RESP: &str = r#"{"code":17,"flag":1,"language":"JAVA","opaque":7,"remark":"No topic route info ...","serializeTypeCurrentRPC":"JSON","version":479}"#;

#[test]
fn json_golden_request() {
    let cmd = RemotingCommand::request(105, 7, ext(&[("topic", "TopicTest")]));
    assert_eq!(json_of(&cmd), JSON_REQ);
}

#[test]
fn json_golden_response() {
    let cmd = RemotingCommand::response(17, 7, Some("No topic route info ...".into()));
    assert_eq!(json_of(&cmd), JSON_RESP);
}

#[test]
fn json_golden_decode_then_encode_is_identity() {
    for golden in [JSON_REQ, JSON_RESP] {
        let cmd = header_json::decode(golden.as_bytes()).unwrap();
        assert_eq!(json_of(&cmd), golden);
    }
    let req = header_json::decode(JSON_REQ.as_bytes()).unwrap();
    assert_eq!(
        req,
        RemotingCommand::request(105, 7, ext(&[("topic", "TopicTest")]))
    );
}

#[test]
fn json_empty_ext_and_missing_optionals() {
    let mut cmd = RemotingCommand::response(0, 1, None);
    cmd.ext_fields = Some(Vec::new());
    assert_eq!(
        json_of(&cmd),
        r#"{"code":0,"extFields":{},"flag":1,"language":"JAVA","opaque":1,"serializeTypeCurrentRPC":"JSON","version":479}"#
    );
    cmd.language = None;
    cmd.ext_fields = None;
    assert_eq!(
        json_of(&cmd),
        r#"{"code":0,"flag":1,"opaque":1,"serializeTypeCurrentRPC":"JSON","version":479}"#
    );
}

#[test]
fn json_escaping_matches_each_release() {
    let mut cmd = RemotingCommand::response(1, -1, None);
    cmd.remark = Some("a\"b\\c/d\u{8}\u{c}\n\r\t\u{0}\u{1f}\u{7f}\u{85}\u{2028}é中🎉".to_string());
    let as_release = |cmd: &RemotingCommand, release| {
        let mut out = Vec::new();
        header_json::encode_as(cmd, release, &mut out);
        String::from_utf8(out).unwrap()
    };
    // 5.5 (fastjson2): C0 controls in lowercase hex, DEL and the rest raw.
    assert_eq!(
        as_release(&cmd, JsonRelease::V5_5),
        "{\"code\":1,\"flag\":1,\"language\":\"JAVA\",\"opaque\":-1,\"remark\":\
         \"a\\\"b\\\\c/d\\b\\f\\n\\r\\t\\u0000\\u001f\u{7f}\u{85}\u{2028}é中🎉\",\
         \"serializeTypeCurrentRPC\":\"JSON\",\"version\":479}"
    );
    // 5.3 (fastjson 1.2.83): uppercase hex, 0x7F..0x9F and U+2028/9 escaped too.
    assert_eq!(
        as_release(&cmd, JsonRelease::V5_3),
        "{\"code\":1,\"flag\":1,\"language\":\"JAVA\",\"opaque\":-1,\"remark\":\
         \"a\\\"b\\\\c/d\\b\\f\\n\\r\\t\\u0000\\u001F\\u007F\\u0085\\u2028é中🎉\",\
         \"serializeTypeCurrentRPC\":\"JSON\",\"version\":479}"
    );
    // Keys and values of extFields get the same escaping.
    let cmd = RemotingCommand::request(100, 0, ext(&[("k\"", "v\n")]));
    assert!(json_of(&cmd).contains(r#""extFields":{"k\"":"v\n"}"#));
}

#[test]
fn json_round_trips() {
    for cmd in sample_commands() {
        let bytes = json_of(&cmd);
        let back = header_json::decode(bytes.as_bytes()).unwrap();
        assert_same(&cmd, &back);
        // And back again: bytes -> command -> identical bytes.
        assert_eq!(json_of(&back), bytes);
    }
}

#[test]
fn json_decode_is_lenient() {
    let cmd = header_json::decode(
        br#" { "version": 401, "unknown": [1, {"a": null}], "opaque": 9,
              "extFields": {"n": 12, "b": true, "f": 1.5, "z": null, "s": "x", "neg": -3},
              "language": 9, "serializeTypeCurrentRPC": "ROCKETMQ", "code": 105 } "#,
    )
    .unwrap();
    assert_eq!(cmd.code, 105);
    assert_eq!(cmd.version, 401);
    assert_eq!(cmd.opaque, 9);
    assert_eq!(cmd.flag, 0);
    assert_eq!(cmd.remark, None);
    assert_eq!(cmd.language, Some(LanguageCode::Go));
    assert_eq!(cmd.ext("n"), Some("12"));
    assert_eq!(cmd.ext("b"), Some("true"));
    assert_eq!(cmd.ext("f"), Some("1.5"));
    assert_eq!(cmd.ext("neg"), Some("-3"));
    assert_eq!(cmd.ext("s"), Some("x"));
    assert_eq!(cmd.ext("z"), None);
    assert_eq!(cmd.ext_fields.as_ref().map(Vec::len), Some(5));

    // Everything missing: ints 0, language JAVA (Java's field default), no ext.
    let cmd = header_json::decode(b"{}").unwrap();
    assert_eq!(
        cmd,
        RemotingCommand {
            language: Some(LanguageCode::Java),
            ..RemotingCommand::default()
        }
    );

    // Language: by name (case-insensitive like fastjson), by ordinal; unknown → None.
    let lang = |j: &str| header_json::decode(j.as_bytes()).unwrap().language;
    assert_eq!(lang(r#"{"language":"CPP"}"#), Some(LanguageCode::Cpp));
    assert_eq!(
        lang(r#"{"language":"node_js"}"#),
        Some(LanguageCode::NodeJs)
    );
    assert_eq!(lang(r#"{"language":13}"#), Some(LanguageCode::NodeJs));
    assert_eq!(lang(r#"{"language":"KLINGON"}"#), None);
    assert_eq!(lang(r#"{"language":""}"#), None);
    assert_eq!(lang(r#"{"language":99}"#), None);
    assert_eq!(lang(r#"{"language":-1}"#), None);
    assert_eq!(lang(r#"{"language":null}"#), None);

    // Nulls: ints 0, remark/extFields absent; quoted ints are accepted as fastjson does.
    let cmd = header_json::decode(
        br#"{"code":"105","opaque":null,"remark":null,"extFields":null,"flag":"1"}"#,
    )
    .unwrap();
    assert_eq!((cmd.code, cmd.opaque, cmd.flag), (105, 0, 1));
    assert_eq!(cmd.remark, None);
    assert_eq!(cmd.ext_fields, None);
    assert_eq!(
        header_json::decode(br#"{"extFields":{}}"#)
            .unwrap()
            .ext_fields,
        Some(vec![])
    );
    // fastjson's smart match: case, `_` and `-` are ignored when no exact name fits.
    let cmd = header_json::decode(br#"{"CODE":5,"ext_fields":{"a":"1"},"Op-aque":3}"#).unwrap();
    assert_eq!((cmd.code, cmd.opaque), (5, 3));
    assert_eq!(cmd.ext("a"), Some("1"));
    // Extremes of i32 survive.
    let cmd = header_json::decode(br#"{"code":-2147483648,"opaque":2147483647}"#).unwrap();
    assert_eq!((cmd.code, cmd.opaque), (i32::MIN, i32::MAX));
}

#[test]
fn json_decode_rejects_bad_headers() {
    let bad: &[&[u8]] = &[
        b"",
        b"   ",
        b"null",
        b"[1,2]",
        b"\"str\"",
        b"42",
        b"{",
        b"{\"code\":1",
        b"{\"code\":1}x",
        b"{\"code\":true}",
        b"{\"code\":1.5}",
        b"{\"code\":\"abc\"}",
        b"{\"code\":{}}",
        b"{\"opaque\":[]}",
        b"{\"opaque\":2147483648}",
        b"{\"version\":-2147483649}",
        b"{\"flag\":1e3}",
        b"{\"extFields\":\"topic\"}",
        b"{\"extFields\":[1]}",
        b"{\"language\":[]}",
        b"{\"language\":{}}",
        b"{\"remark\":\"\xff\xfe\"}",
        b"\xff\xfe\xfd",
    ];
    for input in bad {
        assert!(
            is_bad_header(header_json::decode(input)),
            "{:?} should be a bad header",
            String::from_utf8_lossy(input)
        );
    }
}

// -------------------------------------------------------------- binary golden

#[test]
fn binary_golden_spec_example() {
    let mut cmd = RemotingCommand::request(103, 0x0102_0304, Vec::new());
    cmd.version = 2333;
    cmd.ext_fields = None;
    let expected: Vec<u8> = vec![
        0x00, 0x67, // code 103
        0x00, // JAVA
        0x09, 0x1D, // version 2333
        0x01, 0x02, 0x03, 0x04, // opaque
        0, 0, 0, 0, // flag
        0, 0, 0, 0, // remark_len
        0, 0, 0, 0, // ext_len
    ];
    assert_eq!(bin_of(&cmd), expected);
    assert_eq!(expected.len(), header_binary::MIN_HEADER_LEN);
    // An empty ext map and an empty remark are also written as length 0.
    cmd.ext_fields = Some(Vec::new());
    cmd.remark = Some(String::new());
    assert_eq!(bin_of(&cmd), expected);

    let back = header_binary::decode(&expected).unwrap();
    cmd.ext_fields = None;
    cmd.remark = None;
    assert_eq!(back, cmd);
}

/// code 17, GO, version 479, opaque 7, flag 1, remark "hi", ext {topic: "T"}.
fn hand_encoded() -> Vec<u8> {
    let mut v = vec![
        0x00, 0x11, // code 17
        0x09, // GO
        0x01, 0xDF, // version 479
        0, 0, 0, 7, // opaque
        0, 0, 0, 1, // flag
        0, 0, 0, 2, b'h', b'i', // remark
        0, 0, 0, 12, // ext_len = 2 + 5 + 4 + 1
        0, 5,
    ];
    v.extend_from_slice(b"topic");
    v.extend_from_slice(&[0, 0, 0, 1, b'T']);
    v
}

#[test]
fn binary_golden_with_remark_and_ext() {
    let mut cmd = RemotingCommand::response(17, 7, Some("hi".into()));
    cmd.language = Some(LanguageCode::Go);
    cmd.ext_fields = Some(ext(&[("topic", "T")]));
    assert_eq!(bin_of(&cmd), hand_encoded());
    assert_eq!(header_binary::decode(&hand_encoded()).unwrap(), cmd);
    // bytes -> command -> identical bytes.
    assert_eq!(
        bin_of(&header_binary::decode(&hand_encoded()).unwrap()),
        hand_encoded()
    );
}

#[test]
fn binary_multibyte_utf8_lengths_are_byte_counts() {
    let mut cmd = RemotingCommand::response(0, 0, Some("é中".into()));
    cmd.ext_fields = Some(ext(&[("ключ", "值")]));
    let b = bin_of(&cmd);
    assert_eq!(&b[13..17], &5i32.to_be_bytes()); // "é中" = 2 + 3 bytes
    assert_eq!(&b[22..26], &(2 + 8 + 4 + 3i32).to_be_bytes());
    assert_eq!(&b[26..28], &8i16.to_be_bytes());
    assert_eq!(header_binary::decode(&b).unwrap(), cmd);
}

#[test]
fn binary_decode_edge_semantics() {
    // Unknown language byte → None; code and version are sign-extended shorts.
    let mut b = hand_encoded();
    b[0] = 0xFF;
    b[1] = 0xFE;
    b[2] = 200;
    b[3] = 0x80;
    b[4] = 0x00;
    let cmd = header_binary::decode(&b).unwrap();
    assert_eq!(cmd.code, -2);
    assert_eq!(cmd.language, None);
    assert_eq!(cmd.version, -32768);

    // Null (length 0) keys and values are dropped; a repeated key keeps the last
    // value; ext_len > 0 with nothing usable is Some(empty).
    let mut h = hand_encoded()[..19].to_vec(); // fixed part + remark "hi"
    let mut section = Vec::new();
    let mut entry = |k: &[u8], v: &[u8]| {
        section.extend_from_slice(&(k.len() as i16).to_be_bytes());
        section.extend_from_slice(k);
        section.extend_from_slice(&(v.len() as i32).to_be_bytes());
        section.extend_from_slice(v);
    };
    entry(b"a", b"1");
    entry(b"", b"orphan");
    entry(b"b", b"");
    entry(b"a", b"2");
    entry(b"c", b"3");
    h.extend_from_slice(&(section.len() as i32).to_be_bytes());
    h.extend_from_slice(&section);
    let cmd = header_binary::decode(&h).unwrap();
    assert_eq!(cmd.ext_fields, Some(ext(&[("a", "2"), ("c", "3")])));

    let mut h = hand_encoded()[..19].to_vec();
    h.extend_from_slice(&6i32.to_be_bytes());
    h.extend_from_slice(&[0, 0, 0, 0, 0, 0]); // key null, value null
    assert_eq!(header_binary::decode(&h).unwrap().ext_fields, Some(vec![]));

    // Trailing bytes after the ext section are ignored.
    let mut h = hand_encoded();
    h.extend_from_slice(b"junk");
    assert_eq!(
        header_binary::decode(&h).unwrap(),
        header_binary::decode(&hand_encoded()).unwrap()
    );
}

#[test]
fn binary_decode_rejects_bad_headers() {
    let good = hand_encoded();
    let with = |at: usize, bytes: &[u8]| {
        let mut b = good.clone();
        b[at..at + bytes.len()].copy_from_slice(bytes);
        b
    };
    let cases: Vec<(&str, Vec<u8>)> = vec![
        ("empty", vec![]),
        ("20 bytes", vec![0; 20]),
        ("negative remark", with(13, &(-1i32).to_be_bytes())),
        ("remark past end", with(13, &100i32.to_be_bytes())),
        ("remark i32::MAX", with(13, &i32::MAX.to_be_bytes())),
        ("negative ext_len", with(19, &(-12i32).to_be_bytes())),
        ("ext_len > hdr_len", with(19, &1000i32.to_be_bytes())),
        ("ext_len past end", with(19, &13i32.to_be_bytes())),
        ("negative key len", with(23, &(-5i16).to_be_bytes())),
        ("key past end", with(23, &100i16.to_be_bytes())),
        ("negative value len", with(30, &(-1i32).to_be_bytes())),
        ("value past end", with(30, &2i32.to_be_bytes())),
        ("truncated entry", good[..good.len() - 1].to_vec()),
    ];
    for (name, bytes) in cases {
        assert!(
            is_bad_header(header_binary::decode(&bytes)),
            "{name}: {:?}",
            header_binary::decode(&bytes)
        );
    }
    // Minimal header with a remark length that leaves no room for ext_len.
    let mut b = vec![0u8; 21];
    b[16] = 1;
    assert!(is_bad_header(header_binary::decode(&b)));
}

#[test]
fn binary_round_trips() {
    for cmd in sample_commands() {
        let bytes = bin_of(&cmd);
        let back = header_binary::decode(&bytes).unwrap();
        assert_same(&cmd, &back);
        assert_eq!(bin_of(&back), bytes);
    }
}

// ---------------------------------------------------------------------- frames

#[test]
fn frame_round_trips_both_types_with_and_without_body() {
    for ty in [SerializeType::Json, SerializeType::Rocketmq] {
        for body in [
            None,
            Some(&b"{\"topic\":\"x\"}"[..]),
            Some(&[0u8, 1, 2][..]),
        ] {
            for cmd in sample_commands() {
                let bytes = frame::encode_to_vec(&cmd, ty, body);
                let total = u32::from_be_bytes(bytes[0..4].try_into().unwrap()) as usize;
                assert_eq!(total + 4, bytes.len());
                assert_eq!(bytes[4], ty as u8);

                let mut buf = BytesMut::from(&bytes[..]);
                let f = Frame::parse(&mut buf, DEFAULT_MAX_FRAME).unwrap().unwrap();
                assert!(buf.is_empty());
                assert_eq!(f.serialize, ty);
                assert_eq!(f.body.as_deref(), body);
                assert_same(&f.command().unwrap(), &normalized(&cmd, ty));
            }
        }
    }
}

/// What a command looks like after a trip through `ty`.
fn normalized(cmd: &RemotingCommand, ty: SerializeType) -> RemotingCommand {
    let mut c = cmd.clone();
    if ty == SerializeType::Rocketmq {
        c.remark = c.remark.filter(|r| !r.is_empty());
        c.ext_fields = c.ext_fields.filter(|e| !e.is_empty());
    }
    c
}

#[test]
fn frame_golden_bytes() {
    let cmd = RemotingCommand::request(105, 7, ext(&[("topic", "TopicTest")]));
    let bytes = frame::encode_to_vec(&cmd, SerializeType::Json, None);
    let hdr = JSON_REQ.len() as u32;
    assert_eq!(&bytes[0..4], &(4 + hdr).to_be_bytes());
    assert_eq!(&bytes[4..8], &hdr.to_be_bytes());
    assert_eq!(&bytes[8..], JSON_REQ.as_bytes());

    let mut cmd = RemotingCommand::response(17, 7, Some("hi".into()));
    cmd.language = Some(LanguageCode::Go);
    cmd.ext_fields = Some(ext(&[("topic", "T")]));
    let bytes = frame::encode_to_vec(&cmd, SerializeType::Rocketmq, Some(b"BODY"));
    let hdr = hand_encoded();
    let mut expected = ((4 + hdr.len() + 4) as u32).to_be_bytes().to_vec();
    expected.extend_from_slice(&(0x0100_0000 | hdr.len() as u32).to_be_bytes());
    expected.extend_from_slice(&hdr);
    expected.extend_from_slice(b"BODY");
    assert_eq!(bytes, expected);
}

#[test]
fn frame_parse_consecutive_frames() {
    let cmds = sample_commands();
    let mut buf = BytesMut::new();
    for (i, cmd) in cmds.iter().enumerate() {
        let ty = if i % 2 == 0 {
            SerializeType::Json
        } else {
            SerializeType::Rocketmq
        };
        frame::encode(cmd, ty, Some(b"b"), &mut buf);
    }
    for (i, cmd) in cmds.iter().enumerate() {
        let ty = if i % 2 == 0 {
            SerializeType::Json
        } else {
            SerializeType::Rocketmq
        };
        let f = Frame::parse(&mut buf, DEFAULT_MAX_FRAME).unwrap().unwrap();
        assert_same(&f.command().unwrap(), &normalized(cmd, ty));
    }
    assert!(buf.is_empty());
    assert!(Frame::parse(&mut buf, DEFAULT_MAX_FRAME).unwrap().is_none());
}

#[test]
fn frame_parse_truncated_is_none_and_consumes_nothing() {
    for ty in [SerializeType::Json, SerializeType::Rocketmq] {
        let cmd = RemotingCommand::request(105, 7, ext(&[("topic", "TopicTest")]));
        let bytes = frame::encode_to_vec(&cmd, ty, Some(b"body"));
        for cut in 0..bytes.len() {
            let mut buf = BytesMut::from(&bytes[..cut]);
            assert!(
                Frame::parse(&mut buf, DEFAULT_MAX_FRAME).unwrap().is_none(),
                "prefix of {cut} bytes"
            );
            assert_eq!(buf.len(), cut);
        }
    }
}

#[test]
fn frame_parse_oversized_length_fails_without_more_bytes() {
    for prefix in [
        0x7FFF_FFFFu32,
        0x8000_0000,
        u32::MAX,
        DEFAULT_MAX_FRAME as u32 - 3,
    ] {
        let mut buf = BytesMut::from(&prefix.to_be_bytes()[..]);
        match Frame::parse(&mut buf, DEFAULT_MAX_FRAME) {
            Err(FrameError::TooLong { len, max }) => {
                assert_eq!(len, prefix as usize + 4);
                assert_eq!(max, DEFAULT_MAX_FRAME);
            }
            other => panic!("{prefix:#x}: {other:?}"),
        }
    }
    // Exactly at the limit is fine (just incomplete).
    let mut buf = BytesMut::from(&(DEFAULT_MAX_FRAME as u32 - 4).to_be_bytes()[..]);
    assert!(Frame::parse(&mut buf, DEFAULT_MAX_FRAME).unwrap().is_none());
}

#[test]
fn frame_parse_rejects_bad_prefixes() {
    let parse = |b: &[u8]| Frame::parse(&mut BytesMut::from(b), DEFAULT_MAX_FRAME);
    // total_len below 4 cannot hold hdr_info.
    assert_eq!(parse(&[0, 0, 0, 3]).unwrap_err(), FrameError::TooShort(3));
    assert_eq!(parse(&[0, 0, 0, 0]).unwrap_err(), FrameError::TooShort(0));
    // hdr_len > total-4, detected from the first 8 bytes alone.
    assert_eq!(
        parse(&[0, 0, 0, 10, 0, 0, 0, 7]).unwrap_err(),
        FrameError::HeaderTooLong {
            hdr_len: 7,
            avail: 6
        }
    );
    assert_eq!(
        parse(&[0, 0, 0, 4, 1, 0xFF, 0xFF, 0xFF]).unwrap_err(),
        FrameError::HeaderTooLong {
            hdr_len: 0xFF_FFFF,
            avail: 0
        }
    );
    // Serialize type 2 (and any other unknown byte).
    assert_eq!(
        parse(&[0, 0, 0, 6, 2, 0, 0, 2, b'{', b'}']).unwrap_err(),
        FrameError::UnknownSerializeType(2)
    );
    assert_eq!(
        parse(&[0, 0, 0, 4, 0xFF, 0, 0, 0]).unwrap_err(),
        FrameError::UnknownSerializeType(0xFF)
    );
}

#[test]
fn frame_with_bad_headers_gives_bad_header() {
    let cases: &[(u8, &[u8])] = &[
        (0, b"{\"code\":"),
        (0, b"not json"),
        (0, b""),
        (1, &[0; 20]),
        (1, &[0; 0]),
    ];
    for (ty, header) in cases {
        let mut bytes = ((4 + header.len()) as u32).to_be_bytes().to_vec();
        bytes.extend_from_slice(&(((*ty as u32) << 24) | header.len() as u32).to_be_bytes());
        bytes.extend_from_slice(header);
        let f = Frame::parse(&mut BytesMut::from(&bytes[..]), DEFAULT_MAX_FRAME)
            .unwrap()
            .unwrap();
        assert!(is_bad_header(f.command()), "type {ty} header {header:?}");
    }
}

// ------------------------------------------------------------------ robustness

#[test]
fn random_bytes_never_panic() {
    let mut rng = Rng(0x9E37_79B9_7F4A_7C15);
    for _ in 0..20_000 {
        let len = rng.below(64);
        let bytes = rng.bytes(len);
        let _ = header_json::decode(&bytes);
        let _ = header_binary::decode(&bytes);
        let mut buf = BytesMut::from(&bytes[..]);
        while let Ok(Some(f)) = Frame::parse(&mut buf, 1024) {
            let _ = f.command();
        }
    }
}

#[test]
fn mutated_valid_headers_never_panic() {
    let mut rng = Rng(0xDEAD_BEEF_CAFE_F00D);
    let seeds: Vec<(SerializeType, Vec<u8>)> = sample_commands()
        .iter()
        .flat_map(|c| {
            [
                (SerializeType::Json, json_of(c).into_bytes()),
                (SerializeType::Rocketmq, bin_of(c)),
            ]
        })
        .collect();
    for _ in 0..50_000 {
        let (ty, seed) = &seeds[rng.below(seeds.len())];
        let mut b = seed.clone();
        for _ in 0..1 + rng.below(4) {
            match rng.below(4) {
                0 if !b.is_empty() => {
                    let i = rng.below(b.len());
                    b[i] = rng.next() as u8;
                }
                1 if !b.is_empty() => {
                    let i = rng.below(b.len());
                    b[i] ^= 1 << rng.below(8);
                }
                2 => b.truncate(rng.below(b.len() + 1)),
                _ => {
                    // Overwrite four bytes with an extreme length value.
                    if b.len() >= 4 {
                        let i = rng.below(b.len() - 3);
                        let v: i32 = [0, -1, i32::MIN, i32::MAX, 1, 12][rng.below(6)];
                        b[i..i + 4].copy_from_slice(&v.to_be_bytes());
                    }
                }
            }
        }
        if let Ok(cmd) = header::decode(*ty, &b) {
            // Anything that decodes must encode again without trouble.
            let mut out = Vec::new();
            header::encode(&cmd, *ty, &mut out);
        }
        let _ = header_json::decode(&b);
        let _ = header_binary::decode(&b);
    }
}

/// Found by the `header_json` fuzz target (fuzz/regressions/header_json/): the
/// fast path read the integer `-0` as 0 while the general decoder refused it, so
/// the same header was accepted or refused depending on whether it also held an
/// escape. Both read it as 0 now, as fastjson does.
#[test]
fn json_negative_zero_is_zero_on_both_paths() {
    for (input, expected) in [
        (&br#"{ "code" : -0,"l":1}"#[..], (0, 0, 0, 0, None)),
        (
            br#"{"code":-0,"opaque":-0,"flag":-0,"version":-0}"#,
            (0, 0, 0, 0, None),
        ),
        // The escape sends this one to the general decoder.
        (
            br#"{"code":-0,"opaque":5,"remark":"a\"b"}"#,
            (0, 0, 0, 5, Some("a\"b")),
        ),
    ] {
        let cmd = header_json::decode(input)
            .unwrap_or_else(|e| panic!("{:?} refused: {e}", String::from_utf8_lossy(input)));
        assert_eq!(
            (
                cmd.code,
                cmd.flag,
                cmd.version,
                cmd.opaque,
                cmd.remark.as_deref()
            ),
            expected,
            "{:?}",
            String::from_utf8_lossy(input)
        );
    }
}
