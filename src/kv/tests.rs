//! Unit tests of the KV store: loading, the empty-file rule, encoding, persisting.

use super::*;

#[test]
fn load_missing_is_empty() {
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("nope").join("kvConfig.json");
    let kv = KvStore::load(&path).expect("load");
    assert!(kv.table().is_empty());
    assert_eq!(kv.path(), path);
}

#[test]
fn load_malformed_names_path() {
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("kvConfig.json");
    fs::write(&path, b"{\"configTable\":{").expect("write");
    let err = KvStore::load(&path).unwrap_err();
    let msg = err.to_string();
    assert!(msg.contains(&path.display().to_string()), "{msg}");
    assert!(matches!(err, KvError::Malformed { .. }));

    fs::write(&path, b"[1,2]").expect("write");
    let err = KvStore::load(&path).unwrap_err();
    assert_eq!(
        err.to_string(),
        format!(
            "malformed KV config file {}: invalid type: integer `1`, expected a map at line 1 column 2",
            path.display()
        )
    );
    assert!(
        matches!(&err, KvError::Malformed { path: p, .. } if *p == path),
        "{err:?}"
    );
}

#[test]
fn load_tolerates_empty_and_nulls() {
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("kvConfig.json");
    for text in ["null", "{}", "{\"configTable\":null}"] {
        fs::write(&path, text).expect("write");
        let kv = KvStore::load(&path).expect(text);
        assert!(kv.table().is_empty(), "{text}");
    }
    fs::write(
        &path,
        br#"{"configTable":{"A":{"k":null,"n":4,"s":"v"},"B":null,"C":{}},"other":1}"#,
    )
    .expect("write");
    let kv = KvStore::load(&path).expect("load");
    assert_eq!(kv.get("A", "s"), Some("v"));
    assert_eq!(kv.get("A", "n"), Some("4"));
    assert_eq!(kv.get("A", "k"), None);
    assert!(kv.namespace("B").is_none());
    assert_eq!(kv.namespace("C").map(|m| m.len()), Some(0));
}

#[test]
fn empty_file_starts_from_valid_backup() {
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("kvConfig.json");
    let bak = with_suffix(&path, ".bak");
    let good = br#"{"configTable":{"ns":{"k":"v"}}}"#;
    for empty in ["", " \n\t"] {
        fs::write(&path, empty).expect("write");
        fs::write(&bak, good).expect("write bak");
        let mut kv = KvStore::load(&path).expect("load");
        assert_eq!(kv.get("ns", "k"), Some("v"));
        assert_eq!(kv.path(), path);
        assert_eq!((kv.entries(), kv.total_bytes()), (2, 10));
        // The next put writes the file and leaves the good backup alone.
        kv.put("ns", "k2", Some("v2".into()));
        kv.persist().expect("persist");
        assert_eq!(fs::read(&bak).expect("bak"), good);
        assert_eq!(
            fs::read(&path).expect("file"),
            br#"{"configTable":{"ns":{"k2":"v2","k":"v"}}}"#
        );
    }
}

#[test]
fn empty_file_without_usable_backup_is_refused() {
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("kvConfig.json");
    let bak = with_suffix(&path, ".bak");
    fs::write(&path, "").expect("write");
    let cases: [(Option<&[u8]>, &str); 3] = [
        (None, "does not exist"),
        (Some(b"\n"), "is empty too"),
        (Some(b"{nope"), "is not valid"),
    ];
    for (backup, problem) in cases {
        let _ = fs::remove_file(&bak);
        if let Some(b) = backup {
            fs::write(&bak, b).expect("write bak");
        }
        let err = KvStore::load(&path).expect_err("refused");
        assert!(matches!(err, KvError::EmptyWithoutBackup { .. }));
        let msg = err.to_string();
        assert!(
            msg.starts_with(&format!(
                "KV config file {} is empty and its backup {} {problem}",
                path.display(),
                bak.display()
            )),
            "{msg}"
        );
        assert!(
            msg.ends_with("or delete it to start with an empty KV store"),
            "{msg}"
        );
    }
}

#[test]
fn encode_is_upstream_shape() {
    let mut kv = KvStore::new("/unused");
    kv.put(ORDER_TOPIC_CONFIG, "TopicA", Some("broker-a:4".into()));
    assert_eq!(
        kv.encode_file(),
        br#"{"configTable":{"ORDER_TOPIC_CONFIG":{"TopicA":"broker-a:4"}}}"#
    );
    assert_eq!(KvStore::new("/x").encode_file(), br#"{"configTable":{}}"#);
}

#[test]
fn put_get_delete() {
    let mut kv = KvStore::new("/unused");
    assert_eq!(kv.put("ns", "k", Some("v1".into())), None);
    assert_eq!(kv.put("ns", "k", Some("v2".into())).as_deref(), Some("v1"));
    assert_eq!(kv.get("ns", "k"), Some("v2"));
    assert_eq!(kv.get("ns", "other"), None);
    assert_eq!(kv.get("nons", "k"), None);
    assert_eq!(kv.delete("ns", "k").as_deref(), Some("v2"));
    // The emptied namespace stays.
    assert_eq!(kv.namespace("ns").map(|m| m.len()), Some(0));
    assert_eq!(kv.encode_file(), br#"{"configTable":{"ns":{}}}"#);
    assert_eq!(kv.delete("ns", "k"), None);
    assert_eq!(kv.delete("nons", "k"), None);
    assert!(kv.namespace("nons").is_none());
}

#[test]
fn put_none_creates_namespace_without_key() {
    let mut kv = KvStore::new("/unused");
    assert_eq!(kv.put("ns", "k", None), None);
    assert_eq!(kv.namespace("ns").map(|m| m.len()), Some(0));
    kv.put("ns", "k", Some("v".into()));
    assert_eq!(kv.put("ns", "k", None).as_deref(), Some("v"));
    assert_eq!(kv.get("ns", "k"), None);
}

#[test]
fn persist_round_trip_and_bak() {
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("namesrv").join("kvConfig.json");
    let bak = with_suffix(&path, ".bak");
    let mut kv = KvStore::load(&path).expect("load");
    kv.put(ORDER_TOPIC_CONFIG, "TopicA", Some("broker-a:4".into()));
    kv.persist().expect("persist");
    assert!(!bak.exists());
    let first = fs::read(&path).expect("read");

    kv.put("ns", "k", Some("v \"quoted\" é".into()));
    kv.delete(ORDER_TOPIC_CONFIG, "TopicA");
    kv.persist().expect("persist");
    assert_eq!(fs::read(&bak).expect("bak"), first);
    assert!(!with_suffix(&path, ".tmp").exists());

    let again = KvStore::load(&path).expect("reload");
    assert_eq!(again, kv);
    assert_eq!(again.get("ns", "k"), Some("v \"quoted\" é"));
    assert_eq!(
        again.namespace(ORDER_TOPIC_CONFIG).map(|m| m.len()),
        Some(0)
    );
}

proptest::proptest! {
    /// Any sequence of puts and deletes: the file decodes to the same store,
    /// counters included (kept incrementally on one side, summed on the other).
    #[test]
    fn encode_decode_and_counters_agree(
        ops in proptest::collection::vec(
            (0..3u8, "[a-c\\\\\"é\u{1F600}]{0,3}", "[a-c]{0,2}", proptest::option::of(".{0,6}")),
            0..40,
        )
    ) {
        let mut kv = KvStore::new("/unused");
        for (op, ns, key, value) in ops {
            if op == 0 {
                kv.delete(&ns, &key);
            } else {
                kv.put(&ns, &key, value);
            }
        }
        let decoded = KvStore::from_file_bytes("/unused", &kv.encode_file()).expect("decodes");
        proptest::prop_assert_eq!(decoded, kv);
    }
}

// Expected bytes below are what fastjson2 writes for a java.util.HashMap filled
// by the same puts and removes (checked with JDK 17 and fastjson2 2.0.59).

fn list(kv: &KvStore, ns: &str) -> String {
    let m = kv.namespace(ns).expect("namespace");
    String::from_utf8(m.table_body().to_vec()).expect("utf-8")
}

#[test]
fn keys_sharing_a_bucket_keep_insertion_order() {
    let mut kv = KvStore::new("/nonexistent/kv.json");
    for (k, v) in [
        ("OFFSET_MOVED_EVENT", "1"),
        ("BenchmarkTest", "2"),
        ("Aa", "3"),
        ("BB", "4"),
    ] {
        kv.put("ns-a", k, Some(v.to_string()));
    }
    assert_eq!(
        list(&kv, "ns-a"),
        r#"{"table":{"Aa":"3","BB":"4","OFFSET_MOVED_EVENT":"1","BenchmarkTest":"2"}}"#
    );
    // A re-put keeps its place; a removed then re-put key goes to its chain's tail.
    kv.put("ns-a", "Aa", Some("3".to_string()));
    kv.delete("ns-a", "OFFSET_MOVED_EVENT");
    kv.put("ns-a", "OFFSET_MOVED_EVENT", Some("5".to_string()));
    assert_eq!(
        list(&kv, "ns-a"),
        r#"{"table":{"Aa":"3","BB":"4","BenchmarkTest":"2","OFFSET_MOVED_EVENT":"5"}}"#
    );
}

#[test]
fn a_namespace_table_never_shrinks() {
    let mut kv = KvStore::new("/nonexistent/kv.json");
    for i in 0..13 {
        kv.put("g", &format!("k{i}"), Some(i.to_string()));
    }
    for i in 2..13 {
        kv.delete("g", &format!("k{i}"));
    }
    for (k, v) in [("BB", "x"), ("Aa", "y"), ("k17", "z")] {
        kv.put("g", k, Some(v.to_string()));
    }
    // 32 buckets (13 keys once), not the 16 that five keys alone would need.
    assert_eq!(
        list(&kv, "g"),
        r#"{"table":{"BB":"x","Aa":"y","k0":"0","k1":"1","k17":"z"}}"#
    );
}

#[test]
fn load_keeps_file_order_and_pre_sizes_the_namespace_table() {
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("kvConfig.json");
    let namespaces: Vec<String> = (1..12).map(|i| format!(r#""ns{}":{{}}"#, 12 - i)).collect();
    let file = format!(
        r#"{{"configTable":{{{},"ns0":{{"k17":"v","BB":"v","k1":"v","Aa":"v"}}}}}}"#,
        namespaces.join(",")
    );
    fs::write(&path, file).expect("write");
    let kv = KvStore::load(&path).expect("load");
    assert_eq!(
        list(&kv, "ns0"),
        r#"{"table":{"k17":"v","BB":"v","Aa":"v","k1":"v"}}"#
    );
    // 12 namespaces parsed into a HashMap of 16 buckets, then `putAll` into the
    // empty config table, which pre-sizes it to 32.
    let names: Vec<&str> = kv
        .table()
        .ordered()
        .into_iter()
        .map(|(ns, _)| ns.as_str())
        .collect();
    assert_eq!(
        names.join(","),
        "ns0,ns2,ns1,ns4,ns3,ns6,ns5,ns8,ns7,ns9,ns11,ns10"
    );
    let file = String::from_utf8(kv.encode_file()).expect("utf-8");
    assert_eq!(
        file,
        concat!(
            r#"{"configTable":{"ns0":{"k17":"v","BB":"v","Aa":"v","k1":"v"},"ns2":{},"#,
            r#""ns1":{},"ns4":{},"ns3":{},"ns6":{},"ns5":{},"ns8":{},"ns7":{},"ns9":{},"#,
            r#""ns11":{},"ns10":{}}}"#
        )
    );
}
