//! The KV codes (100, 101, 102, 219), KV persistence across restarts, the
//! namesrv config codes (318, 319) and the command line (`-c`, `-p`).

mod common;

use std::fs;

use common::*;
use protocol::codes::{request as rq, response};

#[test]
fn put_get_delete_and_list() {
    let server = TestServer::start(&[]);
    let mut c = server.client();
    assert_eq!(get(&mut c, "ns", "k"), None);
    put_ok(&mut c, "ns", "k", "v1");
    put_ok(&mut c, "ns", "k2", "v2");
    put_ok(&mut c, "ns", "k", "v1b");
    // Visible at once on every shard.
    for _ in 0..8 {
        assert_eq!(get(&mut server.client(), "ns", "k").as_deref(), Some("v1b"));
    }

    let r = c.ask(rq::GET_KVLIST_BY_NAMESPACE, &[("namespace", "ns")], None);
    assert_eq!(r.0.code, 0);
    assert_eq!(body_str(&r), r#"{"table":{"k2":"v2","k":"v1b"}}"#);

    let r = c.ask(rq::GET_KVLIST_BY_NAMESPACE, &[("namespace", "other")], None);
    assert_eq!(r.0.code, response::QUERY_NOT_FOUND);
    assert_eq!(remark(&r), "No config item, Namespace: other");
    let r = c.ask(rq::GET_KVLIST_BY_NAMESPACE, &[], None);
    assert_eq!(remark(&r), "No config item, Namespace: null");
    let r = c.ask(rq::GET_KV_CONFIG, &[], None);
    assert_eq!(r.0.code, response::QUERY_NOT_FOUND);
    assert_eq!(remark(&r), "No config item, Namespace: null Key: null");

    // Delete: always 0; the namespace survives emptied.
    let r = c.ask(
        rq::DELETE_KV_CONFIG,
        &[("namespace", "ns"), ("key", "k")],
        None,
    );
    assert_eq!((r.0.code, r.0.remark.as_deref()), (0, None));
    assert_eq!(get(&mut c, "ns", "k"), None);
    assert_eq!(
        c.ask(
            rq::DELETE_KV_CONFIG,
            &[("namespace", "ns"), ("key", "nope")],
            None
        )
        .0
        .code,
        0
    );
    assert_eq!(
        c.ask(
            rq::DELETE_KV_CONFIG,
            &[("namespace", "nope"), ("key", "k")],
            None
        )
        .0
        .code,
        0
    );
    c.ask(
        rq::DELETE_KV_CONFIG,
        &[("namespace", "ns"), ("key", "k2")],
        None,
    );
    let r = c.ask(rq::GET_KVLIST_BY_NAMESPACE, &[("namespace", "ns")], None);
    assert_eq!(r.0.code, 0);
    assert_eq!(body_str(&r), r#"{"table":{}}"#);
}

#[test]
fn values_with_special_characters_round_trip() {
    let server = TestServer::start(&[]);
    let mut c = server.client();
    let value = "a\"b\\c/é 中\n\t;x:1";
    put_ok(&mut c, "ns", "k", value);
    assert_eq!(get(&mut c, "ns", "k").as_deref(), Some(value));
    let mut bin = server
        .client()
        .with_serialize(protocol::SerializeType::Rocketmq);
    let r = bin.ask(
        rq::GET_KV_CONFIG,
        &[("namespace", "ns"), ("key", "k")],
        None,
    );
    assert_eq!(r.0.ext("value"), Some(value));
    // fastjson's default escaping: quotes, backslashes and controls; `/` and
    // non-ASCII raw.
    let r = c.ask(rq::GET_KVLIST_BY_NAMESPACE, &[("namespace", "ns")], None);
    assert_eq!(body_str(&r), r#"{"table":{"k":"a\"b\\c/é 中\n\t;x:1"}}"#);
}

#[test]
fn put_without_namespace_or_key_fails() {
    let server = TestServer::start(&[]);
    let mut c = server.client();
    for ext in [
        &[("key", "k"), ("value", "v")][..],
        &[("namespace", "n"), ("value", "v")][..],
        &[][..],
    ] {
        let r = c.ask(rq::PUT_KV_CONFIG, ext, None);
        assert_eq!(r.0.code, response::SYSTEM_ERROR, "{ext:?}");
        assert_eq!(remark(&r), "namespace or key is null");
    }
    // A missing value is a null: the namespace exists, the key reads as missing.
    let r = c.ask(rq::PUT_KV_CONFIG, &[("namespace", "n"), ("key", "k")], None);
    assert_eq!(r.0.code, 0);
    assert_eq!(get(&mut c, "n", "k"), None);
    let r = c.ask(rq::GET_KVLIST_BY_NAMESPACE, &[("namespace", "n")], None);
    assert_eq!(body_str(&r), r#"{"table":{}}"#);
}

#[test]
fn kv_survives_a_restart() {
    let mut server = TestServer::start(&[]);
    let mut c = server.client();
    put_ok(&mut c, "ORDER_TOPIC_CONFIG", "TopicA", "broker-a:4");
    put_ok(&mut c, "ns", "k", "v");
    put_ok(&mut c, "ns", "gone", "x");
    c.ask(
        rq::DELETE_KV_CONFIG,
        &[("namespace", "ns"), ("key", "gone")],
        None,
    );
    drop(c);

    // Written on every change, with the previous file kept as .bak.
    let file = fs::read_to_string(&server.kv_path).expect("kv file written");
    let file: serde_json::Value = serde_json::from_str(&file).expect("kv file is JSON");
    assert_eq!(
        file,
        serde_json::json!({"configTable":{"ORDER_TOPIC_CONFIG":{"TopicA":"broker-a:4"},"ns":{"k":"v"}}})
    );
    let bak = server.kv_path.with_file_name("kvConfig.json.bak");
    let bak = fs::read_to_string(bak).expect(".bak exists");
    assert!(
        bak.contains("\"gone\":\"x\""),
        "the .bak is the previous version: {bak}"
    );

    server.restart();
    let mut c = server.client();
    assert_eq!(
        get(&mut c, "ORDER_TOPIC_CONFIG", "TopicA").as_deref(),
        Some("broker-a:4")
    );
    assert_eq!(get(&mut c, "ns", "k").as_deref(), Some("v"));
    assert_eq!(get(&mut c, "ns", "gone"), None);
    // The reloaded ORDER_TOPIC_CONFIG goes back to brokers.
    let r = c.register_ok(&BrokerReg::new(
        "C",
        "a",
        "10.0.0.1:10911",
        0,
        vec![topic("T", 6, 4), topic("U", 6, 4)],
    ));
    assert_eq!(body_str(&r), r#"{"table":{"TopicA":"broker-a:4"}}"#);
}

#[test]
fn a_malformed_kv_file_stops_the_start() {
    let dir = tempfile::tempdir().unwrap();
    let conf = dir.path().join("namesrv.properties");
    let kv = dir.path().join("kvConfig.json");
    write_props(&conf, &kv, &[]);
    fs::write(&kv, "{\"configTable\":{\"ns\":").unwrap();
    let (status, stdout, stderr) = run_to_exit(&["-c", conf.to_str().unwrap()]);
    assert!(!status.success(), "started with a malformed KV file");
    assert!(!stdout.contains("boot success"), "{stdout}");
    assert!(
        stderr.contains(kv.to_str().unwrap()),
        "the message names the file: {stderr}"
    );
    // The file is left as it was.
    assert_eq!(
        fs::read_to_string(&kv).unwrap(),
        "{\"configTable\":{\"ns\":"
    );
}

#[test]
fn get_namesrv_config_is_sorted_properties() {
    let server = TestServer::start(&[("orderMessageEnable", "true"), ("someUnknownKey", "kept")]);
    let mut c = server.client();
    let r = c.ask(rq::GET_NAMESRV_CONFIG, &[], None);
    assert_eq!(r.0.code, 0);
    let text = body_str(&r);
    let lines: Vec<&str> = text.lines().collect();
    let keys: Vec<&str> = lines.iter().map(|l| l.split('=').next().unwrap()).collect();
    let mut sorted = keys.clone();
    sorted.sort();
    assert_eq!(keys, sorted, "sorted by key");
    assert!(text.ends_with('\n'));
    for want in [
        "orderMessageEnable=true",
        "listenPort=0",
        "bindAddress=127.0.0.1",
        "enableTopicList=true",
        "someUnknownKey=kept",
        "scanNotActiveBrokerInterval=5000",
    ] {
        assert!(lines.contains(&want), "missing {want} in:\n{text}");
    }
    let kv_line = format!("kvConfigPath={}", server.kv_path.display());
    assert!(lines.contains(&kv_line.as_str()));
}

#[test]
fn update_namesrv_config() {
    let mut server = TestServer::start(&[]);
    let mut c = server.client();
    let config = |c: &mut Client| body_str(&c.ask(rq::GET_NAMESRV_CONFIG, &[], None));

    let r = c.ask(
        rq::UPDATE_NAMESRV_CONFIG,
        &[],
        Some(b"enableTopicList=false\nnotAKey=1\n"),
    );
    assert_eq!((r.0.code, r.0.remark.as_deref()), (0, None));
    let text = config(&mut c);
    assert!(text.contains("\nenableTopicList=false\n"), "{text}");
    assert!(!text.contains("notAKey"), "only existing keys merge");
    // It takes effect at once, on every shard.
    for _ in 0..6 {
        let r = server
            .client()
            .ask(rq::GET_TOPICS_BY_CLUSTER, &[("cluster", "c")], None);
        assert_eq!(remark(&r), "disable");
    }
    // And it is persisted to the config file.
    let stored = fs::read_to_string(&server.conf_path).unwrap();
    assert!(stored.contains("enableTopicList=false"), "{stored}");

    // Black-listed keys: 16, nothing applied.
    for body in [
        "kvConfigPath=/tmp/evil.json",
        "configStorePath=/tmp/evil.properties",
        "configBlackList=",
        "rocketmqHome=/tmp",
        "listenPort=1",
        "bindAddress=0.0.0.0",
        "enableTopicList=true\nkvConfigPath=/tmp/x",
    ] {
        let r = c.ask(rq::UPDATE_NAMESRV_CONFIG, &[], Some(body.as_bytes()));
        assert_eq!(r.0.code, response::NO_PERMISSION, "{body}");
        assert_eq!(remark(&r), "Can not update config in black list.");
    }
    let text = config(&mut c);
    assert!(text.contains("\nenableTopicList=false\n"));
    assert!(text.contains(&format!("kvConfigPath={}\n", server.kv_path.display())));

    // A body Properties.load cannot read: 1.
    let r = c.ask(
        rq::UPDATE_NAMESRV_CONFIG,
        &[],
        Some(b"enableTopicList=\\uZZZZ\n"),
    );
    assert_eq!(r.0.code, response::SYSTEM_ERROR);
    assert_eq!(remark(&r), "string2Properties error");

    // A null body is a no-op.
    assert_eq!(c.ask(rq::UPDATE_NAMESRV_CONFIG, &[], None).0.code, 0);

    // The update survives a restart (the `-c` file was rewritten).
    drop(c);
    server.restart();
    let mut c = server.client();
    let r = c.ask(rq::GET_TOPICS_BY_CLUSTER, &[("cluster", "c")], None);
    assert_eq!(remark(&r), "disable");
}

#[test]
fn print_config_and_exit() {
    let dir = tempfile::tempdir().unwrap();
    let conf = dir.path().join("namesrv.properties");
    write_props(
        &conf,
        &dir.path().join("kv.json"),
        &[("orderMessageEnable", "true")],
    );
    let (status, stdout, _) = run_to_exit(&["-c", conf.to_str().unwrap(), "-p"]);
    assert!(status.success(), "{status}");
    assert!(!stdout.contains("boot success"));
    let lines: Vec<&str> = stdout.lines().collect();
    assert!(lines.contains(&"orderMessageEnable=true"), "{stdout}");
    assert!(lines.contains(&"listenPort=0"), "{stdout}");
    let mut sorted = lines.clone();
    sorted.sort();
    assert_eq!(lines, sorted);

    // Without -c: the defaults.
    let (status, stdout, _) = run_to_exit(&["-p"]);
    assert!(status.success());
    assert!(stdout.lines().any(|l| l == "listenPort=9876"), "{stdout}");
}

#[test]
fn unknown_config_keys_are_warned_about_but_start() {
    let server = TestServer::start(&[("totallyUnknownKey", "1")]);
    let mut c = server.client();
    assert_eq!(c.ask(rq::GET_BROKER_CLUSTER_INFO, &[], None).0.code, 0);
    let log = wait_for(std::time::Duration::from_secs(5), "the warning", || {
        let s = server.stderr();
        s.contains("totallyUnknownKey").then_some(s)
    });
    assert!(log.contains("WARN"), "{log}");
}

#[test]
fn a_bad_config_value_stops_the_start_naming_the_key() {
    for (key, value) in [
        ("listenPort", "notAPort"),
        ("scanNotActiveBrokerInterval", "soon"),
        ("jsonCompatRelease", "4.9.7"),
    ] {
        let dir = tempfile::tempdir().unwrap();
        let conf = dir.path().join("namesrv.properties");
        write_props(&conf, &dir.path().join("kv.json"), &[(key, value)]);
        let (status, stdout, stderr) = run_to_exit(&["-c", conf.to_str().unwrap()]);
        assert!(!status.success(), "{key}={value} accepted");
        assert!(!stdout.contains("boot success"));
        assert!(stderr.contains(key), "{stderr}");
    }
    // A missing -c file too.
    let (status, _, stderr) = run_to_exit(&["-c", "/nonexistent/namesrv.properties"]);
    assert!(!status.success());
    assert!(
        stderr.contains("/nonexistent/namesrv.properties"),
        "{stderr}"
    );
}
