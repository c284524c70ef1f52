//! String escaping, byte for byte against the real Java encoders of each release.
//!
//! `golden/escape/release-5.5.0.txt` (RocketMQ 5.5.0, fastjson2 2.0.59) and
//! `golden/escape/release-5.3.3.txt` (RocketMQ 5.3.3, fastjson 1.2.83) hold, for
//! every code point of U+0000..U+00FF and the others that matter (U+2028/2029,
//! U+FEFF, U+FFFF, supplementary chars, ...), the sample `"a" + char + "b"` as
//! each encoder writes it: TopicList (String field and Set element) and KVTable
//! (map key and value) through `RemotingSerializable#encode()` (legacy) and
//! `#encode(features)` as ClientRequestProcessor passes them (standard), and a
//! response header carrying the sample as remark and as an extFields entry
//! through `RemotingSerializable.encode(cmd)` (`RemotingCommand#fastEncodeHeader`).
//! Lines read `<code point hex> <kind> <output hex>`.
//!
//! Regenerate (needs a JDK and the jars under `.cache/peers/`):
//! `protocol/tests/golden/escape/generate.sh` (sources `Escape55.java`,
//! `Escape53.java`, `EscapeSamples.java` beside it).

use namesrv_protocol::body::{KvTable, TopicList};
use namesrv_protocol::command::{LanguageCode, RemotingCommand};
use namesrv_protocol::header;
use namesrv_protocol::json::{Dialect, JsonOut};
use namesrv_protocol::json_escape::{set_process_release, JsonRelease};

struct Row {
    cp: u32,
    kind: String,
    want: Vec<u8>,
}

fn parse_row(line: &str) -> Option<Row> {
    let mut parts = line.split(' ');
    let (cp, kind, hex) = (parts.next()?, parts.next()?, parts.next()?);
    if parts.next().is_some() || hex.len() % 2 != 0 {
        return None;
    }
    let want = (0..hex.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(&hex[i..i + 2], 16).ok())
        .collect::<Option<Vec<u8>>>()?;
    Some(Row {
        cp: u32::from_str_radix(cp, 16).ok()?,
        kind: kind.to_string(),
        want,
    })
}

fn golden(release: &str) -> Vec<Row> {
    let path = format!(
        "{}/tests/golden/escape/release-{release}.txt",
        env!("CARGO_MANIFEST_DIR")
    );
    let text = std::fs::read_to_string(&path).expect("golden file");
    let rows: Vec<Row> = text
        .lines()
        .map(|l| parse_row(l).unwrap_or_else(|| panic!("{path}: bad line {l:?}")))
        .collect();
    assert_eq!(rows.len(), 270 * 5, "{path}: rows");
    rows
}

fn sample(cp: u32) -> String {
    format!("a{}b", char::from_u32(cp).expect("a scalar value"))
}

fn topic_list(s: &str, dialect: Dialect, out: &mut Vec<u8>) {
    TopicList {
        broker_addr: Some(s.to_string()),
        topic_list: vec![s.to_string()],
    }
    .encode(dialect, out);
}

fn kv_table(s: &str, dialect: Dialect, out: &mut Vec<u8>) {
    KvTable {
        table: [(s.to_string(), s.to_string())].into(),
    }
    .encode(dialect, out);
}

fn header_cmd(s: &str) -> RemotingCommand {
    RemotingCommand {
        code: 17,
        language: Some(LanguageCode::Java),
        version: 479,
        opaque: 5,
        flag: 1,
        remark: Some(s.to_string()),
        ext_fields: Some(vec![(s.to_string(), s.to_string())]),
    }
}

/// Our bytes for one golden row, through the server's own encoders (which write
/// the process's release).
fn ours(kind: &str, s: &str) -> Vec<u8> {
    let mut out = Vec::new();
    match kind {
        "topiclist.legacy" => topic_list(s, Dialect::Legacy, &mut out),
        "topiclist.standard" => topic_list(s, Dialect::Standard, &mut out),
        "kv.legacy" => kv_table(s, Dialect::Legacy, &mut out),
        "kv.standard" => kv_table(s, Dialect::Standard, &mut out),
        "header" => header::json::encode(&header_cmd(s), &mut out),
        other => panic!("unknown golden kind {other}"),
    }
    out
}

fn show(b: &[u8]) -> String {
    String::from_utf8_lossy(b).into_owned()
}

/// One test walks both releases: the body encoders read the process-wide
/// release, so nothing else in this binary may set it concurrently.
#[test]
fn encoders_match_each_release_byte_for_byte() {
    for (file, release) in [("5.5.0", JsonRelease::V5_5), ("5.3.3", JsonRelease::V5_3)] {
        set_process_release(release);
        for row in golden(file) {
            let s = sample(row.cp);
            let got = ours(&row.kind, &s);
            assert_eq!(
                show(&got),
                show(&row.want),
                "{file} U+{:04X} {}",
                row.cp,
                row.kind
            );
            assert_eq!(got, row.want, "{file} U+{:04X} {}", row.cp, row.kind);
            // The explicit-release encoders agree with the process-wide ones.
            let mut explicit = Vec::new();
            match row.kind.as_str() {
                "header" => header::json::encode_as(&header_cmd(&s), release, &mut explicit),
                kind => {
                    let dialect = if kind.ends_with("standard") {
                        Dialect::Standard
                    } else {
                        Dialect::Legacy
                    };
                    let mut w = JsonOut::with_release(&mut explicit, dialect, release);
                    w.begin_object();
                    if kind.starts_with("kv") {
                        w.key("table");
                        w.begin_object();
                        w.key(&s);
                        w.str(&s);
                        w.end_object();
                    } else {
                        w.field_str("brokerAddr", &s);
                        w.key("topicList");
                        w.str_array([&s]);
                    }
                    w.end_object();
                }
            }
            assert_eq!(show(&explicit), show(&row.want), "{file} U+{:04X}", row.cp);
        }
    }
    set_process_release(JsonRelease::default());
}
