//! Unit tests of the field table, `-c` loading, 319 printing and persisting
//! (318's rules are tested beside them, in `update/tests.rs`).

use super::*;

#[test]
fn defaults_printed_sorted() {
    let c = Config::default();
    let text = c.to_properties_text();
    let keys: Vec<&str> = text
        .lines()
        .map(|l| l.split_once('=').map(|(k, _)| k).unwrap_or(l))
        .collect();
    let mut sorted = keys.clone();
    sorted.sort();
    assert_eq!(keys, sorted);
    assert_eq!(keys.len(), FIELDS.len());
    for line in [
        "listenPort=9876",
        "bindAddress=0.0.0.0",
        "serverSocketBacklog=1024",
        "scanNotActiveBrokerInterval=5000",
        "serverChannelMaxIdleTimeSeconds=120",
        "returnOrderTopicConfigToBroker=true",
        "orderMessageEnable=false",
        "configBlackList=configBlackList;configStorePath;kvConfigPath",
        "productEnvName=center",
        "waitSecondsForService=45",
        "maxFrameLength=16777216",
        "replySerializeType=JSON",
        "jsonCompatRelease=5.5",
        "cores=0",
        "httpPort=9877",
        "statsLogIntervalSeconds=60",
    ] {
        assert!(text.lines().any(|l| l == line), "missing {line}");
    }
    assert!(c.kv_config_path.ends_with("namesrv/kvConfig.json"));
    assert!(c.config_store_path.ends_with("namesrv/namesrv.properties"));
    assert!(text.ends_with('\n'));
}

#[test]
fn http_port_takes_off_and_any_port() {
    let mut c = Config::default();
    for (v, want) in [("-1", -1), ("0", 0), (" 19877 ", 19877)] {
        c.set("httpPort", v).expect("a port");
        assert_eq!(c.http_port, want);
    }
    assert!(c.set("httpPort", "off").is_err());
    c.set("statsLogIntervalSeconds", "0").expect("0 = off");
    assert_eq!(c.stats_log_interval_seconds, 0);
}

#[test]
fn field_keys_unique() {
    let mut keys: Vec<&str> = FIELDS.iter().map(|f| f.key).collect();
    keys.sort();
    keys.dedup();
    assert_eq!(keys.len(), FIELDS.len());
}

#[test]
fn set_parses_like_java() {
    let mut c = Config::default();
    assert_eq!(
        c.set("listenPort", " 9877 ").ok(),
        Some(SetOutcome::Applied)
    );
    assert_eq!(c.listen_port, 9877);
    assert_eq!(c.set("clusterTest", "TRUE").ok(), Some(SetOutcome::Applied));
    assert!(c.cluster_test);
    c.set("clusterTest", "yes").expect("bool");
    assert!(!c.cluster_test);
    c.set("productEnvName", "  test \t").expect("string");
    assert_eq!(c.product_env_name, "test");
    c.set("replySerializeType", "mirror").expect("enum");
    assert_eq!(c.reply_serialize, ReplySerialize::Mirror);
    c.set("scanNotActiveBrokerInterval", "-1").expect("long");
    assert_eq!(c.scan_not_active_broker_interval, -1);
    assert_eq!(c.set("noSuchKey", "1").ok(), Some(SetOutcome::UnknownKey));
}

#[test]
fn bad_value_names_key() {
    let mut c = Config::default();
    let err = c.set("serverWorkerThreads", "eight").unwrap_err();
    assert_eq!(
        err.to_string(),
        "invalid value \"eight\" for config key `serverWorkerThreads`: \
         not a number of type i32 (invalid digit found in string)"
    );
    assert!(
        matches!(
            &err,
            ConfigError::BadValue { key, value, .. }
                if key == "serverWorkerThreads" && value == "eight"
        ),
        "{err:?}"
    );
    assert_eq!(
        c.set("listenPort", "70000").unwrap_err().to_string(),
        "invalid value \"70000\" for config key `listenPort`: \
         not a number of type u16 (number too large to fit in target type)"
    );
    assert_eq!(
        c.set("replySerializeType", "XML").unwrap_err().to_string(),
        "invalid value \"XML\" for config key `replySerializeType`: \
         expected JSON, ROCKETMQ or MIRROR"
    );
    assert_eq!(c.server_worker_threads, 8);
}

#[test]
fn json_compat_release_values() {
    use protocol::json_escape::JsonRelease;
    let mut c = Config::default();
    assert_eq!(c.json_compat_release, JsonRelease::V5_5);
    for (v, want, printed) in [
        ("5.3", JsonRelease::V5_3, "5.3"),
        (" 5.5.0 ", JsonRelease::V5_5, "5.5"),
        ("5.3.3", JsonRelease::V5_3, "5.3"),
        ("5.5", JsonRelease::V5_5, "5.5"),
    ] {
        c.set("jsonCompatRelease", v).expect("a release");
        assert_eq!(c.json_compat_release, want, "{v}");
        assert!(
            c.to_properties_text()
                .lines()
                .any(|l| l == format!("jsonCompatRelease={printed}")),
            "{v}"
        );
    }
    assert_eq!(
        c.set("jsonCompatRelease", "4.9.7").unwrap_err().to_string(),
        "invalid value \"4.9.7\" for config key `jsonCompatRelease`: \
         expected 5.5 or 5.3 (or a version of either, such as 5.5.0)"
    );
    assert_eq!(c.json_compat_release, JsonRelease::V5_5);
}

#[test]
fn load_file_applies_keeps_unknown_and_sets_store_path() {
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("namesrv.conf");
    std::fs::write(
        &path,
        "# test\nlistenPort = 9877\norderMessageEnable=true\nclientWorkerThreads=4\nkvConfigPath=/tmp/x/kv.json\n",
    )
    .expect("write");
    let c = Config::load_file(&path).expect("load");
    assert_eq!(c.listen_port, 9877);
    assert!(c.order_message_enable);
    assert_eq!(c.kv_config_path, "/tmp/x/kv.json");
    assert_eq!(c.config_store_path, path.to_string_lossy());
    assert_eq!(
        c.raw_properties
            .get("clientWorkerThreads")
            .map(String::as_str),
        Some("4")
    );
    let text = c.to_properties_text();
    assert!(text.contains("\nclientWorkerThreads=4\n"), "{text}");
    assert!(text.contains("\nlistenPort=9877\n"), "{text}");
}

#[test]
fn load_file_bad_value_names_key_and_file() {
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("bad.properties");
    std::fs::write(&path, "listenPort=abc\n").expect("write");
    let err = Config::load_file(&path).unwrap_err();
    assert_eq!(
        err.to_string(),
        format!(
            "config file {}: invalid value \"abc\" for config key `listenPort`: \
             not a number of type u16 (invalid digit found in string)",
            path.display()
        )
    );
    assert!(
        matches!(&err, ConfigError::InFile { path: p, source }
            if *p == path
                && matches!(&**source, ConfigError::BadValue { key, value, .. }
                    if key == "listenPort" && value == "abc")),
        "{err:?}"
    );

    let missing = dir.path().join("missing.properties");
    let err = Config::load_file(&missing).unwrap_err();
    assert_eq!(
        err.to_string(),
        format!(
            "cannot read config file {}: No such file or directory (os error 2)",
            missing.display()
        )
    );
    assert!(
        matches!(&err, ConfigError::Io { path: p, source }
            if *p == missing && source.kind() == std::io::ErrorKind::NotFound),
        "{err:?}"
    );

    std::fs::write(&path, "k=\\uZZZZ\n").expect("write");
    let err = Config::load_file(&path).unwrap_err();
    assert_eq!(
        err.to_string(),
        format!(
            "malformed config file {}: Malformed \\uxxxx encoding. (line 1)",
            path.display()
        )
    );
    assert!(
        matches!(&err, ConfigError::Syntax { path: p, source }
            if *p == path && *source == PropertiesError::MalformedUnicodeEscape { line: 1 }),
        "{err:?}"
    );
}

#[test]
fn persist_round_trip_keeps_bak() {
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("conf").join("namesrv.properties");
    let mut c = Config {
        config_store_path: path.to_string_lossy().into_owned(),
        ..Config::default()
    };
    c.raw_properties
        .insert("extra".to_string(), "1".to_string());
    c.persist().expect("persist");
    let first = std::fs::read_to_string(&path).expect("read");
    assert_eq!(first, c.to_store_text());
    assert!(!Path::new(&format!("{}.bak", path.display())).exists());

    c.apply_update(b"waitSecondsForService=7\n")
        .expect("update");
    c.persist().expect("persist");
    let bak = std::fs::read_to_string(format!("{}.bak", path.display())).expect("bak");
    assert_eq!(bak, first);
    let loaded = Config::load_file(&path).expect("reload");
    assert_eq!(loaded.wait_seconds_for_service, 7);
    assert_eq!(
        loaded.raw_properties.get("extra").map(String::as_str),
        Some("1")
    );
    assert_eq!(loaded.to_properties_text(), c.to_properties_text());
}

#[test]
fn reply_serialize_mirror() {
    use protocol::SerializeType;
    assert_eq!(
        ReplySerialize::Mirror.reply_type(SerializeType::Rocketmq),
        SerializeType::Rocketmq
    );
    assert_eq!(
        ReplySerialize::Json.reply_type(SerializeType::Rocketmq),
        SerializeType::Json
    );
    assert_eq!(
        ReplySerialize::Rocketmq.reply_type(SerializeType::Json),
        SerializeType::Rocketmq
    );
}
