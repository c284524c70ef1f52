//! Issue 9, through the wire against the real binary: an UPDATE_NAMESRV_CONFIG
//! (318) cannot change what the server does after a restart beyond the values it
//! was given (items 1 and 2), an empty KV file neither starts silently empty nor
//! costs the last good `.bak` (item 6), and the KV store's limits hold.

mod common;

use std::fs;
use std::net::TcpListener;

use common::*;
use protocol::codes::{request as rq, response};

/// A port that was free a moment ago (the server binds it with SO_REUSEADDR).
fn free_port() -> u16 {
    let l = TcpListener::bind("127.0.0.1:0").expect("bind");
    l.local_addr().expect("addr").port()
}

/// Sends a 318 body, checks it is accepted with `productEnvName` exactly
/// `accepted`, restarts on the same files and checks the server listens where it
/// did, keeps its paths and shows exactly the same configuration.
fn accepted_then_restart_is_identical(body: &[u8], accepted: &str) {
    let port = free_port();
    let mut server = TestServer::start(&[("listenPort", &port.to_string())]);
    let mut c = server.client();
    assert_eq!(try_update(&mut c, body), (0, String::new()));
    let before = config_text(&mut c);
    let line = format!("\nproductEnvName={accepted}\n");
    assert!(
        before.contains(&line),
        "319 shows the accepted value:\n{before}"
    );
    drop(c);

    for _ in 0..2 {
        server.restart();
        assert_eq!(server.addr.port(), port, "listens where it did");
        assert_eq!(server.addr.ip().to_string(), "127.0.0.1");
        let mut c = server.client();
        assert_eq!(
            config_text(&mut c),
            before,
            "the same config after a restart"
        );
    }
    let after = config_text(&mut server.client());
    for want in [
        format!("kvConfigPath={}", server.kv_path.display()),
        format!("listenPort={port}"),
        "bindAddress=127.0.0.1".to_string(),
        "maxFrameLength=16777216".to_string(),
    ] {
        assert!(
            after.lines().any(|l| l == want),
            "missing {want:?} in:\n{after}"
        );
    }

    // The KV store is still written where it was.
    let mut c = server.client();
    assert_eq!(try_put(&mut c, "ns", "k", "v"), (0, String::new()));
    assert_eq!(
        fs::read_to_string(&server.kv_path).expect("kv file"),
        r#"{"configTable":{"ns":{"k":"v"}}}"#
    );
}

#[test]
fn an_escaped_line_feed_cannot_move_the_port_or_the_kv_path() {
    accepted_then_restart_is_identical(
        br"productEnvName=x\nkvConfigPath=/tmp/evil.json\nlistenPort=53021",
        "x\nkvConfigPath=/tmp/evil.json\nlistenPort=53021",
    );
}

#[test]
fn escaped_cr_and_unicode_line_feed_cannot_move_bind_address_or_frame_limit() {
    accepted_then_restart_is_identical(
        br"productEnvName=x\rbindAddress=0.0.0.0\u000amaxFrameLength=2147483647",
        "x\rbindAddress=0.0.0.0\nmaxFrameLength=2147483647",
    );
}

#[test]
fn a_trailing_backslash_u_does_not_stop_the_next_start() {
    accepted_then_restart_is_identical(br"productEnvName=x\\u", "x\\u");
}

#[test]
fn backslashes_do_not_change_across_restarts() {
    accepted_then_restart_is_identical(br"productEnvName=a\\b\\\\c\\", "a\\b\\\\c\\");
}

#[test]
fn the_store_file_is_escaped_as_properties_store() {
    let server = TestServer::start(&[]);
    let mut c = server.client();
    assert_eq!(
        try_update(&mut c, br"productEnvName=x\nlistenPort=1"),
        (0, String::new())
    );
    let stored = fs::read_to_string(&server.conf_path).expect("config file");
    assert!(
        stored.contains("\nproductEnvName=x\\nlistenPort\\=1\n"),
        "{stored}"
    );
    assert!(stored.contains("\nlistenPort=0\n"), "{stored}");
    assert!(
        !stored.contains("\nlistenPort=1"),
        "no line of its own: {stored}"
    );
}

#[test]
fn a_lone_surrogate_is_refused_not_replaced() {
    let server = TestServer::start(&[]);
    let mut c = server.client();
    let before = config_text(&mut c);
    assert_eq!(
        try_update(&mut c, br"productEnvName=\uD800"),
        (
            response::SYSTEM_ERROR,
            "string2Properties error".to_string()
        )
    );
    assert_eq!(config_text(&mut c), before);
    assert!(before.contains("\nproductEnvName=center\n"));
}

#[test]
fn limits_cannot_be_lifted_by_318() {
    let server = TestServer::start(&[]);
    let mut c = server.client();
    let before = config_text(&mut c);
    for key in [
        "maxFrameLength",
        "kvMaxValueLength",
        "kvMaxEntries",
        "kvMaxTotalBytes",
    ] {
        assert_eq!(
            try_update(&mut c, format!("{key}=2147483647").as_bytes()),
            (
                response::NO_PERMISSION,
                "Can not update config in black list.".to_string()
            ),
            "{key}"
        );
    }
    assert_eq!(config_text(&mut c), before);
    for line in [
        "maxFrameLength=16777216",
        "kvMaxValueLength=65536",
        "kvMaxEntries=100000",
        "kvMaxTotalBytes=8388608",
    ] {
        assert!(before.lines().any(|l| l == line), "{line} in:\n{before}");
    }
}

// ---------------------------------------------------------------------------
// an empty KV file

const GOOD_KV: &str = r#"{"configTable":{"ns":{"k":"v"}}}"#;

fn bak_of(path: &std::path::Path) -> std::path::PathBuf {
    let mut s = path.as_os_str().to_os_string();
    s.push(".bak");
    s.into()
}

#[test]
fn an_empty_kv_file_starts_from_its_backup_and_keeps_it() {
    let dir = tempfile::tempdir().expect("tempdir");
    let conf = dir.path().join("namesrv.properties");
    let kv = dir.path().join("kvConfig.json");
    let bak = bak_of(&kv);
    write_props(&conf, &kv, &[]);
    fs::write(&kv, "").expect("write");
    fs::write(&bak, GOOD_KV).expect("write bak");

    let mut server = TestServer::start_in(dir, conf, kv.clone());
    let line = wait_log_line(
        &server,
        &["WARN", "KV config file is empty; starting from its backup"],
    );
    assert!(line.contains(&kv.display().to_string()), "{line}");
    assert!(line.contains(&bak.display().to_string()), "{line}");
    let mut c = server.client();
    assert_eq!(get(&mut c, "ns", "k").as_deref(), Some("v"));

    // A put writes the file and leaves the good backup as it was.
    assert_eq!(try_put(&mut c, "ns", "k2", "v2"), (0, String::new()));
    assert_eq!(fs::read_to_string(&bak).expect("bak"), GOOD_KV);
    assert_eq!(
        fs::read_to_string(&kv).expect("kv"),
        r#"{"configTable":{"ns":{"k2":"v2","k":"v"}}}"#
    );
    drop(c);
    server.restart();
    let mut c = server.client();
    assert_eq!(get(&mut c, "ns", "k").as_deref(), Some("v"));
    assert_eq!(get(&mut c, "ns", "k2").as_deref(), Some("v2"));
}

#[test]
fn an_empty_kv_file_without_a_usable_backup_stops_the_start() {
    for (content, backup, problem) in [
        ("", None, "does not exist"),
        (" \n\t\n", None, "does not exist"),
        ("", Some(""), "is empty too"),
        ("", Some("{\"configTable\":"), "is not valid"),
    ] {
        let dir = tempfile::tempdir().expect("tempdir");
        let conf = dir.path().join("namesrv.properties");
        let kv = dir.path().join("kvConfig.json");
        let bak = bak_of(&kv);
        write_props(&conf, &kv, &[]);
        fs::write(&kv, content).expect("write");
        if let Some(b) = backup {
            fs::write(&bak, b).expect("write bak");
        }
        let (status, stdout, stderr) = run_to_exit(&["-c", conf.to_str().expect("utf-8")]);
        assert_eq!(status.code(), Some(2), "{content:?} {backup:?}: {stderr}");
        assert!(!stdout.contains("boot success"), "{stdout}");
        let want = format!(
            "namesrv: KV config file {} is empty and its backup {} {problem}",
            kv.display(),
            bak.display()
        );
        let advice = "; restore the file (or its backup), or delete it to start with an empty \
                      KV store";
        assert!(
            stderr
                .lines()
                .any(|l| l.starts_with(&want) && l.ends_with(advice)),
            "{want}...{advice}\nnot in:\n{stderr}"
        );
        // Nothing was touched.
        assert_eq!(fs::read_to_string(&kv).expect("kv"), content);
        assert_eq!(fs::read_to_string(&bak).ok().as_deref(), backup);
    }
}

// ---------------------------------------------------------------------------
// KV limits

#[test]
fn a_value_over_kv_max_value_length_is_refused_and_not_stored() {
    let server = TestServer::start(&[("kvMaxValueLength", "8")]);
    let mut c = server.client();
    assert_eq!(try_put(&mut c, "ns", "k", "12345678"), (0, String::new()));
    let file = fs::read(&server.kv_path).expect("kv file");

    let refused = (
        response::SYSTEM_ERROR,
        "KV value of 9 bytes is over the limit kvMaxValueLength=8".to_string(),
    );
    assert_eq!(try_put(&mut c, "ns", "k", "123456789"), refused);
    assert_eq!(try_put(&mut c, "ns", "new", "123456789"), refused);
    // UTF-8 bytes: 4 chars, 12 bytes.
    assert_eq!(
        try_put(&mut c, "ns", "k", "€€€€"),
        (
            response::SYSTEM_ERROR,
            "KV value of 12 bytes is over the limit kvMaxValueLength=8".to_string()
        )
    );
    let big = "x".repeat(1 << 20);
    assert_eq!(
        try_put(&mut c, "ns", "big", &big),
        (
            response::SYSTEM_ERROR,
            "KV value of 1048576 bytes is over the limit kvMaxValueLength=8".to_string()
        )
    );
    assert_eq!(get(&mut c, "ns", "k").as_deref(), Some("12345678"));
    assert_eq!(get(&mut c, "ns", "new"), None);
    assert_eq!(get(&mut c, "ns", "big"), None);
    assert_eq!(fs::read(&server.kv_path).expect("kv file"), file);
    assert!(!bak_of(&server.kv_path).exists(), "no write happened");
    wait_log_line(&server, &["WARN", "KV put refused", "kvMaxValueLength"]);
}

#[test]
fn kv_max_entries_counts_namespaces_and_keys() {
    let mut server = TestServer::start(&[("kvMaxEntries", "3")]);
    let mut c = server.client();
    assert_eq!(try_put(&mut c, "ns", "a", "1"), (0, String::new()));
    assert_eq!(try_put(&mut c, "ns", "b", "2"), (0, String::new()));
    let full = (
        response::SYSTEM_ERROR,
        "KV store full: it holds 3 namespaces and keys, the limit kvMaxEntries=3".to_string(),
    );
    assert_eq!(try_put(&mut c, "ns", "c", "3"), full);
    assert_eq!(try_put(&mut c, "other", "x", "1"), full);
    let r = c.ask(
        rq::PUT_KV_CONFIG,
        &[("namespace", "other"), ("key", "x")],
        None,
    );
    assert_eq!(
        (r.0.code, remark(&r)),
        (full.0, full.1.as_str()),
        "a new namespace alone"
    );
    wait_log_line(&server, &["WARN", "KV put refused", "kvMaxEntries"]);
    // Replacing a value and deleting still work; a delete makes room.
    assert_eq!(try_put(&mut c, "ns", "a", "1b"), (0, String::new()));
    let r = c.ask(
        rq::DELETE_KV_CONFIG,
        &[("namespace", "ns"), ("key", "b")],
        None,
    );
    assert_eq!(r.0.code, 0);
    assert_eq!(try_put(&mut c, "ns", "c", "3"), (0, String::new()));
    assert_eq!(get(&mut c, "other", "x"), None);
    let r = c.ask(rq::GET_KVLIST_BY_NAMESPACE, &[("namespace", "other")], None);
    assert_eq!(r.0.code, response::QUERY_NOT_FOUND, "no namespace created");
    assert_eq!(
        fs::read_to_string(&server.kv_path).expect("kv"),
        r#"{"configTable":{"ns":{"a":"1b","c":"3"}}}"#
    );

    // Restarted with a lower limit: nothing is dropped, it may shrink, not grow.
    drop(c);
    write_props(&server.conf_path, &server.kv_path, &[("kvMaxEntries", "2")]);
    server.restart();
    wait_log_line(&server, &["WARN", "KV store loaded over its limits"]);
    let mut c = server.client();
    assert_eq!(get(&mut c, "ns", "a").as_deref(), Some("1b"));
    assert_eq!(get(&mut c, "ns", "c").as_deref(), Some("3"));
    assert_eq!(try_put(&mut c, "ns", "a", "1c"), (0, String::new()));
    assert_eq!(
        try_put(&mut c, "ns", "d", "4"),
        (
            response::SYSTEM_ERROR,
            "KV store full: it holds 3 namespaces and keys, the limit kvMaxEntries=2".to_string()
        )
    );
}

#[test]
fn kv_max_entries_holds_for_puts_pipelined_on_many_connections() {
    const CONNECTIONS: usize = 4;
    const PUTS: usize = 25;
    let server = TestServer::start(&[("kvMaxEntries", "21")]);
    let mut clients: Vec<Client> = (0..CONNECTIONS).map(|_| server.client()).collect();
    // Every put is sent before any reply is read, so many reach the writer in
    // one batch, each having passed the handler on an older snapshot.
    for (n, c) in clients.iter_mut().enumerate() {
        for i in 0..PUTS {
            let key = format!("k{n}-{i}");
            let mut cmd = request(
                rq::PUT_KV_CONFIG,
                &[("namespace", "ns"), ("key", &key), ("value", "v")],
            );
            cmd.opaque = (i + 1) as i32;
            c.send(&cmd, None);
        }
    }
    let mut ok = 0;
    let mut full = 0;
    for c in &mut clients {
        for _ in 0..PUTS {
            let (cmd, _) = c.read_frame().expect("reply");
            match cmd.code {
                0 => ok += 1,
                response::SYSTEM_ERROR => {
                    assert_eq!(
                        cmd.remark.as_deref(),
                        Some("KV store full: it holds 21 namespaces and keys, the limit kvMaxEntries=21")
                    );
                    full += 1;
                }
                code => panic!("unexpected {code} {:?}", cmd.remark),
            }
        }
    }
    assert_eq!((ok, full), (20, CONNECTIONS * PUTS - 20));
    let r = server
        .client()
        .ask(rq::GET_KVLIST_BY_NAMESPACE, &[("namespace", "ns")], None);
    assert_eq!(r.0.code, 0);
    let body: serde_json::Value = serde_json::from_str(&body_str(&r)).expect("json");
    assert_eq!(body["table"].as_object().map(|t| t.len()), Some(20));
    let file: serde_json::Value =
        serde_json::from_str(&fs::read_to_string(&server.kv_path).expect("kv")).expect("json");
    assert_eq!(file["configTable"]["ns"], body["table"]);
}

#[test]
fn kv_max_total_bytes_bounds_the_store_as_the_file_holds_it() {
    let server = TestServer::start(&[("kvMaxTotalBytes", "30")]);
    let mut c = server.client();
    let over = |bytes: usize| {
        (
            response::SYSTEM_ERROR,
            format!("KV store full: this put would make it {bytes} bytes, over the limit kvMaxTotalBytes=30"),
        )
    };
    // Quoted JSON strings: "ns" "k1" "0123456789" = 4 + 4 + 12, then "k2" "abcd" = 4 + 6.
    assert_eq!(
        try_put(&mut c, "ns", "k1", "0123456789"),
        (0, String::new())
    );
    assert_eq!(try_put(&mut c, "ns", "k2", "abcd"), (0, String::new()));
    assert_eq!(try_put(&mut c, "ns", "k3", ""), over(36));
    assert_eq!(try_put(&mut c, "ns", "k2", "abcde"), over(31));
    wait_log_line(&server, &["WARN", "KV put refused", "kvMaxTotalBytes"]);
    // A shorter value frees room; an escaped char counts as written ("\u0001").
    assert_eq!(try_put(&mut c, "ns", "k1", "0123"), (0, String::new()));
    assert_eq!(try_put(&mut c, "ns", "k3", "\u{1}"), over(36));
    assert_eq!(try_put(&mut c, "ns", "k3", ""), (0, String::new()));
    assert_eq!(get(&mut c, "ns", "k2").as_deref(), Some("abcd"));
    let file = fs::read_to_string(&server.kv_path).expect("kv");
    assert_eq!(
        file,
        r#"{"configTable":{"ns":{"k1":"0123","k2":"abcd","k3":""}}}"#
    );
}
