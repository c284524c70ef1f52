//! Goldens of Java's hash-table iteration order as fastjson prints it: KV
//! tables, topic lists, header extFields, and the hashing and table sizes
//! behind them. Unless a comment says otherwise, every golden was produced by
//! fastjson 1.2.83 on JDK 17 serializing the upstream classes built as the
//! NameServer builds them (a KV namespace's `HashMap`, TopicList from
//! `ConcurrentHashMap.newKeySet()`, the header's `HashMap` of extFields).
//! protocol/tests/java_table_oracle.rs checks the model itself against the JDK.

use namesrv_protocol::body::{KvTable, TopicList};
use namesrv_protocol::header::json as header_json;
use namesrv_protocol::java_table::{
    java_hash_order, java_long_hash, java_string_cmp, java_string_hash, JavaTable,
};
use namesrv_protocol::json::Dialect;
use namesrv_protocol::RemotingCommand;

const KV_LEGACY: &str =
    r#"{"table":{"broker-b":"v-broker-b","broker-c":"v-broker-c","broker-a":"v-broker-a"}}"#;
const KV_STD: &str =
    r#"{"table":{"broker-a":"v-broker-a","broker-b":"v-broker-b","broker-c":"v-broker-c"}}"#;
const KV13_LEGACY: &str = r#"{"table":{"key1":"v1","key2":"v2","key0":"v0","key5":"v5","key6":"v6","key3":"v3","key4":"v4","key9":"v9","key7":"v7","key8":"v8","key11":"v11","key10":"v10","key12":"v12"}}"#;
const TOPICS12_LEGACY: &str = r#"{"topicList":["Topic6","Topic5","Topic4","Topic3","Topic2","Topic1","Topic0","Topic9","Topic8","Topic7","Topic10","Topic11"]}"#;
const TOPICS12_HASHMAP: &str = r#"["Topic6","Topic5","Topic4","Topic3","Topic2","Topic1","Topic0","Topic9","Topic10","Topic8","Topic11","Topic7"]"#;
const TOPICS20_LEGACY: &str = r#"{"topicList":["Topic12","Topic6","Topic13","Topic5","Topic14","Topic4","Topic15","Topic3","Topic16","Topic2","Topic1","Topic17","Topic0","Topic18","Topic19","Topic9","Topic8","Topic7","Topic10","Topic11"]}"#;
const TOPICS20_HASHMAP: &str = r#"["Topic12","Topic6","Topic13","Topic5","Topic14","Topic4","Topic15","Topic3","Topic16","Topic2","Topic1","Topic17","Topic0","Topic18","Topic19","Topic9","Topic8","Topic7","Topic10","Topic11"]"#;
const TOPICLIST_ADDR: &str = r#"{"brokerAddr":"10.0.0.1:10911","topicList":["TopicTest"]}"#;

fn enc(f: impl FnOnce(&mut Vec<u8>)) -> String {
    let mut v = Vec::new();
    f(&mut v);
    String::from_utf8(v).unwrap()
}

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

#[test]
fn kv_table_java_hash_order() {
    // String.hashCode: "broker-a" = 0x1636EB6D, "-b" = ...6E, "-c" = ...6F.
    // spread = h ^ (h >>> 16): ...FD5B, ...FD58, ...FD59; & 15 (16 buckets) →
    // a:11, b:8, c:9, so a HashMap iterates b, c, a. Standard sorts.
    let kv = KvTable {
        table: ["broker-a", "broker-b", "broker-c"]
            .iter()
            .map(|k| (k.to_string(), format!("v-{k}")))
            .collect(),
    };
    assert_eq!(enc(|o| kv.encode(Dialect::Legacy, o)), KV_LEGACY);
    assert_eq!(enc(|o| kv.encode(Dialect::Standard, o)), KV_STD);

    // 13 keys > 0.75 * 16: the HashMap has resized to 32 buckets.
    let kv13 = KvTable {
        table: (0..13)
            .map(|i| (format!("key{i}"), format!("v{i}")))
            .collect(),
    };
    assert_eq!(enc(|o| kv13.encode(Dialect::Legacy, o)), KV13_LEGACY);
}

#[test]
fn kv_table_decode() {
    let kv = KvTable::decode(KV_LEGACY.as_bytes()).unwrap();
    assert_eq!(kv.table.len(), 3);
    assert_eq!(kv.table["broker-a"], "v-broker-a");
    assert_eq!(KvTable::decode(b"{}").unwrap(), KvTable::default());
}

#[test]
fn java_hash_order_matches_hashmap_with_resizes() {
    // `new HashMap<>()` of "Topic0".."Topic{n-1}" inserted in sorted order; its
    // keySet as fastjson printed it. 12 keys stay in 16 buckets (resize only
    // when size > 12), 20 keys live in 32 buckets.
    for (n, golden) in [(12, TOPICS12_HASHMAP), (20, TOPICS20_HASHMAP)] {
        let mut names: Vec<String> = (0..n).map(|i| format!("Topic{i}")).collect();
        names.sort();
        java_hash_order(&mut names, |s| java_string_hash(s));
        let expected: Vec<String> = serde_json::from_str(golden).unwrap();
        assert_eq!(names, expected, "n={n}");
    }
}

#[test]
fn topic_list_is_a_concurrent_hash_set() {
    // `ConcurrentHashMap.newKeySet()` resizes one entry earlier than HashMap
    // (at size >= 12), so 12 topics already sit in 32 buckets and the order
    // differs from the HashMap golden above. Sets are not sorted by
    // MapSortField, so the standard dialect prints the same order.
    for (n, golden) in [(12, TOPICS12_LEGACY), (20, TOPICS20_LEGACY)] {
        let mut topics: Vec<String> = (0..n).map(|i| format!("Topic{i}")).collect();
        topics.sort();
        let tl = TopicList {
            broker_addr: None,
            topic_list: topics,
        };
        assert_eq!(enc(|o| tl.encode(Dialect::Legacy, o)), golden, "n={n}");
        assert_eq!(enc(|o| tl.encode(Dialect::Standard, o)), golden, "n={n}");
        assert_eq!(
            TopicList::decode(golden.as_bytes())
                .unwrap()
                .topic_list
                .len(),
            n
        );
    }
    assert_ne!(TOPICS12_LEGACY[13..], TOPICS12_HASHMAP[..]);

    let tl = TopicList {
        broker_addr: Some("10.0.0.1:10911".into()),
        topic_list: vec!["TopicTest".into()],
    };
    assert_eq!(enc(|o| tl.encode(Dialect::Legacy, o)), TOPICLIST_ADDR);
    assert_eq!(TopicList::decode(TOPICLIST_ADDR.as_bytes()).unwrap(), tl);
    // A set holds no duplicates.
    let dup = TopicList {
        broker_addr: None,
        topic_list: vec!["A".into(), "A".into()],
    };
    assert_eq!(
        enc(|o| dup.encode(Dialect::Legacy, o)),
        r#"{"topicList":["A"]}"#
    );
}

#[test]
fn java_hashes() {
    assert_eq!(java_string_hash(""), 0);
    assert_eq!(java_string_hash("hello"), 99_162_322);
    // Over UTF-16 units: U+1F600 is D83D DE00.
    assert_eq!(java_string_hash("\u{1f600}"), 0xD83D * 31 + 0xDE00);
    // Wraps like Java int arithmetic.
    assert_eq!(java_string_hash("polygenelubricants"), i32::MIN);
    assert_eq!(java_long_hash(1), 1);
    assert_eq!(java_long_hash(-1), 0);
    assert_eq!(java_long_hash(1 << 32), 1);
    // UTF-16 order puts U+1F600 (D83D..) before U+FFFF; byte order does not.
    assert_eq!(
        java_string_cmp("\u{1f600}", "\u{ffff}"),
        std::cmp::Ordering::Less
    );
    assert!("\u{1f600}" > "\u{ffff}");
}

#[test]
fn java_table_capacities() {
    assert_eq!(JavaTable::HashMap.capacity(12), 16);
    assert_eq!(JavaTable::HashMap.capacity(13), 32);
    assert_eq!(JavaTable::ConcurrentHashMap.capacity(11), 16);
    assert_eq!(JavaTable::ConcurrentHashMap.capacity(12), 32);
    assert_eq!(JavaTable::ConcurrentHashMapWith(128).capacity(3), 256);
    assert_eq!(JavaTable::ConcurrentHashMapWith(32).capacity(3), 64);
    assert_eq!(JavaTable::HashMapCopy.capacity(1), 2);
    assert_eq!(JavaTable::HashMapCopy.capacity(2), 4);
    assert_eq!(JavaTable::HashMapCopy.capacity(3), 8);
    assert_eq!(JavaTable::HashMapWith(17).capacity(1), 32);
}

#[test]
fn json_ext_fields_in_java_hashmap_order() {
    // Buckets (capacity 16): brokerId 2, clusterName 7, brokerAddr 8, topic 9,
    // brokerName 12.
    let cmd = RemotingCommand::request(
        1,
        2,
        ext(&[
            ("topic", "t"),
            ("brokerName", "b"),
            ("clusterName", "c"),
            ("brokerAddr", "a"),
            ("brokerId", "0"),
        ]),
    );
    assert!(json_of(&cmd).contains(
        r#""extFields":{"brokerId":"0","clusterName":"c","brokerAddr":"a","topic":"t","brokerName":"b"}"#
    ));
    // namespace 8, value 13, key 14.
    let cmd = RemotingCommand::request(
        1,
        2,
        ext(&[("namespace", "n"), ("key", "k"), ("value", "v")]),
    );
    assert!(json_of(&cmd).contains(r#""extFields":{"namespace":"n","value":"v","key":"k"}"#));
    // "Aa" and "BB" share a hash: a bucket keeps insertion order.
    let cmd = RemotingCommand::request(1, 2, ext(&[("x", "1"), ("BB", "2"), ("Aa", "3")]));
    assert!(json_of(&cmd).contains(r#""extFields":{"BB":"2","Aa":"3","x":"1"}"#));
    let cmd = RemotingCommand::request(1, 2, ext(&[("Aa", "3"), ("BB", "2")]));
    assert!(json_of(&cmd).contains(r#""extFields":{"Aa":"3","BB":"2"}"#));
    // 12 keys fit a 16-slot table; the 13th insert grows it to 32 and reorders.
    let keys: Vec<String> = (0..13).map(|i| format!("topic{i}")).collect();
    let order_of = |n: usize| {
        let pairs: Vec<(String, String)> = keys[..n]
            .iter()
            .map(|k| (k.clone(), String::new()))
            .collect();
        let json = json_of(&RemotingCommand::request(1, 2, pairs));
        let start = json.find("\"extFields\":{").unwrap();
        let end = start + json[start..].find('}').unwrap();
        json[start..end]
            .split('"')
            .filter(|s| s.starts_with("topic"))
            .map(str::to_string)
            .collect::<Vec<_>>()
    };
    assert_eq!(
        order_of(12),
        [1, 2, 0, 5, 6, 3, 10, 4, 11, 9, 7, 8].map(|i| format!("topic{i}"))
    );
    assert_eq!(
        order_of(13),
        [1, 2, 0, 5, 6, 3, 4, 9, 12, 7, 8, 10, 11].map(|i| format!("topic{i}"))
    );
    // A repeated key keeps its last value, as HashMap.put does.
    let cmd = RemotingCommand::request(1, 2, ext(&[("topic", "a"), ("topic", "b")]));
    assert!(json_of(&cmd).contains(r#""extFields":{"topic":"b"}"#));
}
