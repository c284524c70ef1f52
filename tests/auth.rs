//! `authenticationEnabled`: who may send which request, through the real binary
//! and the wire protocol. Requests are signed as RocketMQ's `AclClientRPCHook`
//! signs them (`protocol::acl::sign`). An allowed request must be answered
//! exactly as a server without the check answers it (each one is mirrored to such
//! a server, so both see the same writes); a refused one gets code 16 with the
//! reason and changes nothing.

#[path = "auth/attacks.rs"]
mod attacks;
mod common;
#[path = "auth/support.rs"]
mod support;

use std::time::Duration;

use common::codes::request as rq;
use common::*;
use support::*;

/// Sends `cmd` (with `body`) to `srv`; if `want` is `None` the request must be
/// allowed: answered as `reference` answers the same request.
fn check(
    srv: &mut Client,
    reference: &mut Client,
    cmd: protocol::RemotingCommand,
    body: Option<&[u8]>,
    want: Option<(i32, String)>,
) -> (i32, String) {
    let code = cmd.code;
    let got = answer(&srv.call(cmd.clone(), body));
    match want {
        Some(refused) => assert_eq!(got, refused, "code {code}"),
        None => {
            let expected = answer(&reference.call(cmd, body));
            assert_eq!(
                got, expected,
                "code {code}: allowed, answered as without the check"
            );
        }
    }
    got
}

/// Every variant of every code of each class (and of codes no handler takes)
/// against `srv`.
fn every_code_every_caller(srv: &mut Client, reference: &mut Client) {
    for code in OPEN.into_iter().chain(BROKER).chain(ADMIN).chain(UNKNOWN) {
        let admin = ADMIN.contains(&code);
        let unknown_code = UNKNOWN.contains(&code);
        let (cmd, body) = request_of(code);
        let body = body.as_deref();
        let bytes = body.unwrap_or(&[]);
        // Unsigned.
        let want = (!OPEN.contains(&code)).then(|| no_key(code));
        check(srv, reference, cmd.clone(), body, want);
        // A normal account.
        let want = admin.then(|| not_admin(code, NORMAL.0));
        let got = check(
            srv,
            reference,
            signed(cmd.clone(), bytes, NORMAL),
            body,
            want,
        );
        if unknown_code {
            assert_eq!(got, not_supported(code));
        } else if code == rq::REGISTER_BROKER {
            assert_eq!(got, (0, String::new()), "an allowed registration registers");
        }
        // An admin.
        let c = signed(cmd.clone(), bytes, ADMIN_ACCOUNT);
        let got = check(srv, reference, c, body, None);
        if unknown_code {
            assert_eq!(got, not_supported(code));
        }
        // An AccessKey no account has.
        let c = signed(cmd.clone(), bytes, ("nobodyKey1", NORMAL.1));
        check(srv, reference, c, body, Some(unknown("nobodyKey1")));
        // A wrong secret.
        let c = signed(cmd.clone(), bytes, (ADMIN_ACCOUNT.0, "wrongSecret"));
        check(
            srv,
            reference,
            c,
            body,
            Some(bad_signature(ADMIN_ACCOUNT.0)),
        );
        // The signature of another body.
        let c = signed(cmd.clone(), b"another body", ADMIN_ACCOUNT);
        check(
            srv,
            reference,
            c,
            body,
            Some(bad_signature(ADMIN_ACCOUNT.0)),
        );
        // No Signature: from the account's whitelisted address, and from another.
        let want = admin.then(|| not_admin(code, WHITE.0));
        let got = check(srv, reference, keyed(cmd.clone(), WHITE.0), body, want);
        if unknown_code {
            assert_eq!(got, not_supported(code));
        }
        let c = keyed(cmd.clone(), FAR.0);
        check(srv, reference, c, body, Some(not_allowed(FAR.0)));
    }
}

#[test]
fn every_code_of_each_class_for_every_kind_of_caller() {
    let (server, _) = auth_server(&accounts_yaml("10.9.9.9"), &[]);
    let reference = TestServer::start(&[]);
    let (mut srv, mut refc) = (server.client(), reference.client());
    every_code_every_caller(&mut srv, &mut refc);
    assert_no_secret(&server.stderr(), "the server's log");
}

/// The same with the ROCKETMQ binary header, whose ext fields are decoded by
/// other code (`RocketMQSerializable#rocketMQProtocolDecode`) than JSON's.
#[test]
fn every_code_of_each_class_with_the_binary_header() {
    let (server, _) = auth_server(&accounts_yaml("10.9.9.9"), &[]);
    let reference = TestServer::start(&[]);
    let bin = protocol::SerializeType::Rocketmq;
    let mut srv = server.client().with_serialize(bin);
    let mut refc = reference.client().with_serialize(bin);
    every_code_every_caller(&mut srv, &mut refc);
}

#[test]
fn a_globally_whitelisted_peer_needs_nothing() {
    let (server, _) = auth_server(&accounts_yaml("127.0.0.1"), &[]);
    let reference = TestServer::start(&[]);
    let (mut srv, mut refc) = (server.client(), reference.client());
    for code in OPEN.into_iter().chain(BROKER).chain(ADMIN) {
        let (cmd, body) = request_of(code);
        check(&mut srv, &mut refc, cmd.clone(), body.as_deref(), None);
        let c = signed(cmd, b"junk", ("nobodyKey1", "junk"));
        check(&mut srv, &mut refc, c, body.as_deref(), None);
    }
}

#[test]
fn refused_requests_change_nothing_and_are_counted() {
    let (server, _) = auth_server(&accounts_yaml("10.9.9.9"), &[]);
    let http = server.http.expect("http listener");
    let mut c = server.client();
    let admin = |cmd| signed(cmd, b"", ADMIN_ACCOUNT);
    // A registration with a wrong secret: no route.
    let (reg, body) = request_of(rq::REGISTER_BROKER);
    let r = c.call(
        signed(
            reg,
            &body.clone().unwrap_or_default(),
            (NORMAL.0, "wrongSecret"),
        ),
        body.as_deref(),
    );
    assert_eq!(answer(&r), bad_signature(NORMAL.0));
    let r = c.call(
        admin(request(rq::GET_ROUTEINFO_BY_TOPIC, &[("topic", "TopicA")])),
        None,
    );
    assert_eq!(r.0.code, 17, "TOPIC_NOT_EXIST");
    // A 318 from a normal account: 319 unchanged.
    let before = body_str(&c.call(admin(request(rq::GET_NAMESRV_CONFIG, &[])), None));
    let update = b"productEnvName=changed";
    let r = c.call(signed(request(318, &[]), update, NORMAL), Some(update));
    assert_eq!(answer(&r), not_admin(318, NORMAL.0));
    let after = body_str(&c.call(admin(request(rq::GET_NAMESRV_CONFIG, &[])), None));
    assert_eq!(after, before);
    assert!(after.contains("productEnvName=center\n"), "{after}");
    // A 100 unsigned: 101 finds nothing.
    let (put, _) = request_of(rq::PUT_KV_CONFIG);
    assert_eq!(answer(&c.call(put, None)), no_key(100));
    let (get, _) = request_of(rq::GET_KV_CONFIG);
    assert_eq!(c.call(admin(get), None).0.code, 22, "QUERY_NOT_FOUND");
    // A refused oneway request gets no answer: the next reply is the next request's.
    let hb = broker().heartbeat();
    c.oneway(keyed(hb, "nobodyKey1"), None);
    let r = c.call(
        request(rq::GET_ROUTEINFO_BY_TOPIC, &[("topic", "TopicA")]),
        None,
    );
    assert_eq!(r.0.code, 17);

    let text = wait_for(Duration::from_secs(5), "the denied counters", || {
        let t = scrape(http);
        let n = metric(
            &t,
            "rocketmq_namesrv_requests_denied_total",
            "reason=\"unknown_access_key\"",
        );
        (n == Some(1.0)).then_some(t)
    });
    let denied = |reason: &str| {
        metric(
            &text,
            "rocketmq_namesrv_requests_denied_total",
            &format!("reason=\"{reason}\""),
        )
    };
    assert_eq!(denied("no_access_key"), Some(1.0));
    assert_eq!(denied("unknown_access_key"), Some(1.0));
    assert_eq!(denied("address_not_allowed"), Some(0.0));
    assert_eq!(denied("bad_signature"), Some(1.0));
    assert_eq!(denied("not_admin"), Some(1.0));
    assert_eq!(
        metric(
            &text,
            "rocketmq_namesrv_broker_registrations_total",
            "result=\"rejected\""
        ),
        Some(1.0)
    );
    assert!(
        text.contains("# TYPE rocketmq_namesrv_requests_denied_total counter"),
        "{text}"
    );
    assert!(
        text.contains("# HELP rocketmq_namesrv_requests_denied_total Requests refused by the authentication check (code 16), by reason."),
        "{text}"
    );
    // One warn line names the peer, the code and the reason.
    // One warn line names the peer, the code and the reason (the log is colored:
    // match the values, not `key=value`).
    wait_log_line(
        &server,
        &[
            "request refused by the authentication check",
            "127.0.0.1",
            "103",
            "bad_signature",
        ],
    );
    assert_no_secret(&server.stderr(), "the server's log");
}

#[test]
fn a_refused_oneway_unregister_leaves_the_broker() {
    let (server, _) = auth_server(&accounts_yaml("10.9.9.9"), &[]);
    let mut c = server.client();
    let b = broker();
    let (reg, body) = b.request();
    let r = c.call(signed(reg, &body, NORMAL), Some(&body));
    assert_eq!(r.0.code, 0, "{:?}", r.0.remark);
    let listed = |c: &mut Client| {
        body_str(&c.call(request(rq::GET_BROKER_CLUSTER_INFO, &[]), None))
            .contains("\"127.0.0.1:10911\"")
    };
    assert!(listed(&mut c), "registered");
    // Unsigned, an unknown AccessKey, a wrong secret: refused, never answered.
    c.oneway(b.unregister(), None);
    c.oneway(keyed(b.unregister(), "nobodyKey1"), None);
    c.oneway(signed(b.unregister(), b"", (NORMAL.0, "wrongSecret")), None);
    // A write after them through the same writer: an applied 104 would show by now.
    let put = request(
        rq::PUT_KV_CONFIG,
        &[("namespace", "NS"), ("key", "k"), ("value", "v")],
    );
    let r = c.call(signed(put, b"", ADMIN_ACCOUNT), None);
    assert_eq!(answer(&r), (0, String::new()));
    assert!(listed(&mut c), "still in 106 after three refused 104s");
    // The same oneway signed: the broker goes, so the check above can fail.
    c.oneway(signed(b.unregister(), b"", NORMAL), None);
    wait_for(Duration::from_secs(5), "the signed unregister", || {
        (!listed(&mut c)).then_some(())
    });
}

#[test]
fn a_large_registration_is_checked_too() {
    // Over 256 KiB of plain JSON: decoded (and its Signature checked) off the shard.
    let (server, _) = auth_server(&accounts_yaml("10.9.9.9"), &[]);
    let mut c = server.client();
    let topics = (0..3000)
        .map(|i| topic(&format!("BigTopic{i:05}"), 6, 8))
        .collect();
    let reg = BrokerReg::new("ClusterA", "broker-big", "127.0.0.1:10912", 0, topics);
    let (cmd, body) = reg.request();
    assert!(body.len() > 256 << 10, "{} bytes", body.len());
    let mut tampered = body.clone();
    if let Some(b) = tampered.last_mut() {
        *b = b' ';
    }
    let r = c.call(signed(cmd.clone(), &tampered, NORMAL), Some(&body));
    assert_eq!(answer(&r), bad_signature(NORMAL.0));
    assert_eq!(c.route("BigTopic00000").map(|_| ()), None);
    let r = c.call(cmd.clone(), Some(&body));
    assert_eq!(answer(&r), no_key(103));
    let r = c.call(signed(cmd, &body, NORMAL), Some(&body));
    assert_eq!(r.0.code, 0, "{:?}", r.0.remark);
    assert!(c.route("BigTopic02999").is_some());
}

#[test]
fn anonymous_route_read_false_at_start() {
    let (server, _) = auth_server(
        &accounts_yaml("10.9.9.9"),
        &[("anonymousRouteRead", "false")],
    );
    let reference = TestServer::start(&[]);
    let (mut srv, mut refc) = (server.client(), reference.client());
    for code in OPEN {
        let (cmd, body) = request_of(code);
        let b = body.as_deref();
        check(&mut srv, &mut refc, cmd.clone(), b, Some(no_key(code)));
        let c = signed(cmd.clone(), b.unwrap_or(&[]), NORMAL);
        check(&mut srv, &mut refc, c, b, None);
        check(&mut srv, &mut refc, keyed(cmd, WHITE.0), b, None);
    }
}

#[test]
fn anonymous_route_read_false_via_318() {
    let (server, _) = auth_server(&accounts_yaml("10.9.9.9"), &[]);
    let mut c = server.client();
    let route = || request(rq::GET_ROUTEINFO_BY_TOPIC, &[("topic", "TopicA")]);
    assert_eq!(c.call(route(), None).0.code, 17);
    let body = b"anonymousRouteRead=false";
    let r = c.call(signed(request(318, &[]), body, NORMAL), Some(body));
    assert_eq!(answer(&r), not_admin(318, NORMAL.0));
    assert_eq!(c.call(route(), None).0.code, 17, "still open");
    let r = c.call(signed(request(318, &[]), body, ADMIN_ACCOUNT), Some(body));
    assert_eq!(answer(&r), (0, String::new()));
    assert_eq!(answer(&c.call(route(), None)), no_key(105));
    assert_eq!(c.call(signed(route(), b"", NORMAL), None).0.code, 17);
    // New connections too.
    assert_eq!(answer(&server.client().call(route(), None)), no_key(105));
}

#[test]
fn auth_off_answers_as_before_whatever_the_ext_fields() {
    let server = TestServer::start(&[]);
    let mut c = server.client();
    let junk = |cmd| {
        let mut cmd = keyed(cmd, "junkKey");
        cmd.push_ext("Signature", "junk==");
        cmd
    };
    for code in [105, 106, 100, 101, 318, 319, 904] {
        let (cmd, body) = request_of(code);
        let plain = answer(&c.call(cmd.clone(), body.as_deref()));
        assert_ne!(plain.0, 16, "code {code}");
        assert_eq!(
            answer(&c.call(junk(cmd), body.as_deref())),
            plain,
            "code {code}"
        );
    }
    let text = scrape(server.http.expect("http"));
    assert_eq!(
        metric(
            &text,
            "rocketmq_namesrv_requests_denied_total",
            "reason=\"no_access_key\""
        ),
        Some(0.0)
    );
}

#[test]
fn the_accounts_file_is_reloaded_and_a_bad_one_keeps_the_old() {
    let (server, acl) = auth_server(&accounts_yaml("10.9.9.9"), &[]);
    let mut c = server.client();
    let later = ("laterKey01", "laterSecret1");
    let ask = |c: &mut Client, who| {
        answer(&c.call(
            signed(
                request(rq::REGISTER_TOPIC_IN_NAMESRV, &[("topic", "T")]),
                b"",
                who,
            ),
            None,
        ))
    };
    assert_eq!(ask(&mut c, later), unknown(later.0));
    let with_later = format!(
        "{}  - accessKey: {}\n    secretKey: {}\n",
        accounts_yaml("10.9.9.9"),
        later.0,
        later.1
    );
    std::fs::write(&acl, with_later).expect("rewrite");
    wait_for(Duration::from_secs(10), "the new account", || {
        (ask(&mut c, later).0 != 16).then_some(())
    });
    assert_eq!(ask(&mut c, NORMAL).0, ask(&mut c, later).0);
    // A malformed file: the accounts in force stay.
    std::fs::write(
        &acl,
        "accounts:\n  - accessKey: [\n    secretKey: badSecretNever\n",
    )
    .expect("rewrite");
    let path = acl.display().to_string();
    wait_log_line(
        &server,
        &["not valid; keeping the accounts in force", &path],
    );
    assert_ne!(ask(&mut c, later).0, 16);
    assert_eq!(ask(&mut c, ("nobodyKey1", "x")), unknown("nobodyKey1"));
    assert_no_secret(&server.stderr(), "the server's log");
}

#[test]
fn a_missing_or_malformed_accounts_file_stops_the_start() {
    let dir = tempfile::tempdir().expect("tempdir");
    let acl = dir.path().join("plain_acl.yml");
    let conf = dir.path().join("namesrv.properties");
    let kv = dir.path().join("kvConfig.json");
    let acl_str = acl.display().to_string();
    write_props(
        &conf,
        &kv,
        &[
            ("authenticationEnabled", "true"),
            ("authConfigPath", &acl_str),
        ],
    );
    let conf_str = conf.display().to_string();
    let (status, _, err) = run_to_exit(&["-c", &conf_str]);
    assert_eq!(status.code(), Some(2), "{err}");
    assert!(
        err.contains(&acl_str) && err.contains("refusing to start"),
        "{err}"
    );
    std::fs::write(
        &acl,
        "accounts:\n  - accessKey: adminKey01\n    secretKey: [adminSecret1\n",
    )
    .expect("write");
    let (status, _, err) = run_to_exit(&["-c", &conf_str]);
    assert_eq!(status.code(), Some(2), "{err}");
    assert!(err.contains(&acl_str), "{err}");
    assert_no_secret(&err, "the refused start's stderr");
}

#[test]
fn secrets_are_never_shown() {
    let (server, _) = auth_server(&accounts_yaml("10.9.9.9"), &[]);
    let mut c = server.client();
    let config = body_str(&c.call(signed(request(319, &[]), b"", ADMIN_ACCOUNT), None));
    assert!(config.contains("authenticationEnabled=true\n"), "{config}");
    assert_no_secret(&config, "319");
    let http = server.http.expect("http");
    for page in ["/", "/api/server"] {
        let r = http_get(http, page);
        assert_no_secret(&r, page);
    }
    let conf = server.conf_path.display().to_string();
    let (status, out, err) = run_to_exit(&["-c", &conf, "-p"]);
    assert!(status.success(), "{err}");
    assert!(out.contains("authConfigPath="), "{out}");
    assert_no_secret(&out, "-p");
    assert_no_secret(&err, "-p's stderr");
    assert_no_secret(&server.stderr(), "the server's log");
}

/// The console has no accounts: with auth on it leaves out what only an admin
/// account may read over RocketMQ (319's configuration, 101/219's KV store).
#[test]
fn the_console_hides_admin_data_with_auth_on() {
    let (server, _) = auth_server(&accounts_yaml("10.9.9.9"), &[]);
    let mut c = server.client();
    let put = request(
        rq::PUT_KV_CONFIG,
        &[
            ("namespace", "NS"),
            ("key", "k"),
            ("value", "kvValueHidden"),
        ],
    );
    assert_eq!(c.call(signed(put, b"", ADMIN_ACCOUNT), None).0.code, 0);
    let http_addr = server.http.expect("http");
    let r = http(http_addr, "GET", "/api/server", &[]);
    assert_eq!(r.status, 200);
    let v: serde_json::Value = serde_json::from_str(&r.body).expect("json");
    assert_eq!(v["config"], "hidden: authenticationEnabled");
    assert_eq!(v["ready"], true);
    assert_eq!(v["shards"].as_array().map(Vec::len), Some(2));
    let r = http(http_addr, "GET", "/api/kv", &[]);
    assert_eq!(
        (r.status, r.header("content-type"), r.body.as_str()),
        (
            403,
            Some("text/plain; charset=utf-8"),
            "hidden: authenticationEnabled: the KV store is for admin accounts only\n"
        )
    );
    let r = http(http_addr, "GET", "/kv", &[]);
    assert_eq!(r.status, 403);
    assert!(r.body.contains("id=\"kv-hidden\">Not shown:"), "{}", r.body);
    let r = http(http_addr, "GET", "/", &[]);
    assert_eq!(r.status, 200);
    assert!(
        r.body.contains("id=\"config-hidden\">Not shown:"),
        "{}",
        r.body
    );
    for page in ["/", "/api/server", "/kv", "/api/kv"] {
        let body = http(http_addr, "GET", page, &[]).body;
        for hidden in ["kvValueHidden", "listenPort", "authConfigPath"] {
            assert!(!body.contains(hidden), "{page} shows {hidden}:\n{body}");
        }
    }
    // The same pages with auth off show both.
    let open = TestServer::start(&[]);
    let mut c = open.client();
    put_ok(&mut c, "NS", "k", "kvValueShown");
    let http_addr = open.http.expect("http");
    let r = http(http_addr, "GET", "/api/server", &[]);
    let v: serde_json::Value = serde_json::from_str(&r.body).expect("json");
    assert!(v["config"]
        .as_array()
        .expect("config")
        .iter()
        .any(|s| s == &serde_json::json!({"key": "authenticationEnabled", "value": "false"})));
    let r = http(http_addr, "GET", "/api/kv", &[]);
    assert_eq!(r.status, 200);
    assert!(r.body.contains("\"kvValueShown\""), "{}", r.body);
    assert!(http_get(http_addr, "/kv").contains("kvValueShown"));
    assert!(http_get(http_addr, "/").contains("<table id=\"config\">"));
}

fn http_get(addr: std::net::SocketAddr, path: &str) -> String {
    let r = http(addr, "GET", path, &[]);
    assert_eq!(r.status, 200, "{path}");
    r.body
}
