//! `namesrv diff ADDR ADDR…` against real servers of ours, over the wire: servers
//! that agree, servers that differ (text and JSON), an unreachable one, the 224
//! fallback when 206 is disabled, and a pipelined run over many topics.
//! (Against the Java NameServer: compat/scenarios/namesrv_diff.sh.)

mod common;

use common::*;
use protocol::body::TopicConfig;

fn diff(args: &[&str]) -> (i32, String, String) {
    let mut all = vec!["diff"];
    all.extend_from_slice(args);
    let (status, out, err) = run_to_exit(&all);
    (status.code().expect("exit code"), out, err)
}

/// broker-a (id 0 and 1) in c1 with T1 and T2.
fn common_brokers(c: &mut Client) {
    let topics = vec![topic("T1", 6, 4), topic("T2", 6, 4)];
    c.register_ok(&BrokerReg::new(
        "c1",
        "broker-a",
        "10.0.0.1:10911",
        0,
        topics.clone(),
    ));
    c.register_ok(&BrokerReg::new(
        "c1",
        "broker-a",
        "10.0.0.2:10911",
        1,
        topics,
    ));
}

#[test]
fn servers_that_agree_exit_0() {
    let (a, b) = (TestServer::start(&[]), TestServer::start(&[]));
    let (mut ca, mut cb) = (a.client(), b.client());
    common_brokers(&mut ca);
    common_brokers(&mut cb);
    for c in [&mut ca, &mut cb] {
        c.register_ok(&BrokerReg::new(
            "c1",
            "broker-b",
            "10.0.0.3:10911",
            0,
            vec![topic("T1", 6, 4), topic("T2", 6, 4)],
        ));
    }
    let (sa, sb) = (a.addr.to_string(), b.addr.to_string());
    let (code, out, err) = diff(&[&sa, &sb]);
    assert_eq!(
        (code, out.as_str(), err.as_str()),
        (
            0,
            "no differences between 2 name servers (1 cluster, 2 broker groups, 2 topics)\n",
            ""
        )
    );
}

/// A: c1/broker-a {0: .1, 1: .2} with T1 (perm 6) and T2, c2/broker-b with T1.
/// B: c1/broker-a {0: .1, 1: .9} with T1 (perm 4) and T3.
fn disagreeing() -> (TestServer, TestServer, Client, Client) {
    let (a, b) = (TestServer::start(&[]), TestServer::start(&[]));
    let (mut ca, mut cb) = (a.client(), b.client());
    common_brokers(&mut ca);
    ca.register_ok(&BrokerReg::new(
        "c2",
        "broker-b",
        "10.0.0.3:10911",
        0,
        vec![topic("T1", 6, 4), topic("T2", 6, 4)],
    ));
    let b_topics = vec![topic("T1", 4, 4), topic("T3", 6, 4)];
    cb.register_ok(&BrokerReg::new(
        "c1",
        "broker-a",
        "10.0.0.1:10911",
        0,
        b_topics.clone(),
    ));
    cb.register_ok(&BrokerReg::new(
        "c1",
        "broker-a",
        "10.0.0.9:10911",
        1,
        b_topics,
    ));
    (a, b, ca, cb)
}

#[test]
fn servers_that_differ_exit_1_with_one_line_each() {
    let (a, b, _ca, _cb) = disagreeing();
    let (sa, sb) = (a.addr.to_string(), b.addr.to_string());
    let (code, out, err) = diff(&[&sa, &sb]);
    let expected = format!(
        "cluster c2: present on {sa}; missing on {sb}\n\
         broker group broker-b: in cluster c2 on {sa}; missing on {sb}\n\
         broker broker-a id 1: 10.0.0.2:10911 on {sa}; 10.0.0.9:10911 on {sb}\n\
         topic T1 queues on broker-a: perm=6 read=4 write=4 sysflag=0 on {sa}; perm=4 read=4 write=4 sysflag=0 on {sb}\n\
         topic T1 queues on broker-b: perm=6 read=4 write=4 sysflag=0 on {sa}; missing on {sb}\n\
         topic T2: present on {sa}; missing on {sb}\n\
         topic T3: missing on {sa}; present on {sb}\n\
         7 differences between 2 name servers\n"
    );
    assert_eq!(
        (code, out.as_str(), err.as_str()),
        (1, expected.as_str(), "")
    );

    // Three servers: values are grouped, servers listed in argument order.
    let (code, out, _) = diff(&[&sa, &sb, &sa]);
    assert_eq!(code, 1);
    assert_eq!(
        out.lines().nth(2),
        Some(
            format!("broker broker-a id 1: 10.0.0.2:10911 on {sa}, {sa}; 10.0.0.9:10911 on {sb}")
                .as_str()
        )
    );
}

#[test]
fn json_report_of_servers_that_differ() {
    let (a, b, _ca, _cb) = disagreeing();
    let (sa, sb) = (a.addr.to_string(), b.addr.to_string());
    let (code, out, _) = diff(&["--json", &sa, &sb]);
    assert_eq!(code, 1);
    let got: serde_json::Value = serde_json::from_str(&out).expect("one JSON document");
    let q = |perm: i32| serde_json::json!({"perm": perm, "readQueueNums": 4, "writeQueueNums": 4, "topicSysFlag": 0});
    let vals = |x: serde_json::Value, y: serde_json::Value| serde_json::json!([{"server": sa, "value": x}, {"server": sb, "value": y}]);
    let expected = serde_json::json!({
        "servers": [sa, sb],
        "agree": false,
        "compared": {"clusters": 2, "brokerGroups": 2, "topics": 3},
        "differences": [
            {"kind": "cluster", "cluster": "c2", "values": vals(true.into(), serde_json::Value::Null)},
            {"kind": "brokerGroup", "brokerName": "broker-b",
             "values": vals(serde_json::json!({"cluster": "c2"}), serde_json::Value::Null)},
            {"kind": "brokerAddr", "brokerName": "broker-a", "brokerId": 1,
             "values": vals("10.0.0.2:10911".into(), "10.0.0.9:10911".into())},
            {"kind": "queueData", "topic": "T1", "brokerName": "broker-a", "values": vals(q(6), q(4))},
            {"kind": "queueData", "topic": "T1", "brokerName": "broker-b",
             "values": vals(q(6), serde_json::Value::Null)},
            {"kind": "topic", "topic": "T2", "values": vals(true.into(), serde_json::Value::Null)},
            {"kind": "topic", "topic": "T3", "values": vals(serde_json::Value::Null, true.into())},
        ],
    });
    assert_eq!(got, expected);
}

#[test]
fn an_unreachable_server_exits_2_naming_it() {
    let a = TestServer::start(&[]);
    let free = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
    let gone = free.local_addr().expect("addr").to_string();
    drop(free);
    let sa = a.addr.to_string();
    let (code, out, err) = diff(&[&sa, &gone]);
    assert_eq!((code, out.as_str()), (2, ""));
    let prefix = format!("namesrv diff: {gone}: cannot connect: ");
    assert!(err.starts_with(&prefix), "stderr: {err:?}");
    assert_eq!(err.lines().count(), 1, "stderr: {err:?}");
}

#[test]
fn disabled_206_falls_back_to_224_per_cluster() {
    let a = TestServer::start(&[]);
    let b = TestServer::start(&[("enableAllTopicList", "false")]);
    let (mut ca, mut cb) = (a.client(), b.client());
    common_brokers(&mut ca);
    common_brokers(&mut cb);
    let (sa, sb) = (a.addr.to_string(), b.addr.to_string());
    let (code, out, _) = diff(&[&sa, &sb]);
    assert_eq!(
        (code, out.as_str()),
        (
            0,
            "no differences between 2 name servers (1 cluster, 1 broker group, 2 topics)\n"
        )
    );
    // A topic only on the server without 206 is found through 224.
    let three = vec![topic("T1", 6, 4), topic("T2", 6, 4), topic("T3", 6, 4)];
    let mut reg = BrokerReg::new("c1", "broker-a", "10.0.0.1:10911", 0, three);
    reg.data_version = dv(2, 0);
    cb.register_ok(&reg);
    let (code, out, _) = diff(&[&sa, &sb]);
    assert_eq!(
        (code, out.as_str()),
        (
            1,
            format!(
                "topic T3: missing on {sa}; present on {sb}\n1 difference between 2 name servers\n"
            )
            .as_str()
        )
    );
}

#[test]
fn many_topics_pipelined_over_one_connection() {
    const N: usize = 20_000;
    let (a, b) = (TestServer::start(&[]), TestServer::start(&[]));
    let topics: Vec<TopicConfig> = (0..N)
        .map(|i| topic(&format!("Topic{i:05}"), 6, 8))
        .collect();
    let mut other = topics.clone();
    other[12_345].write_queue_nums = 4;
    // The registering connections stay open: closing one unregisters its broker.
    let (mut ca, mut cb) = (a.client(), b.client());
    ca.register_ok(&BrokerReg::new(
        "c1",
        "broker-a",
        "10.0.0.1:10911",
        0,
        topics,
    ));
    cb.register_ok(&BrokerReg::new(
        "c1",
        "broker-a",
        "10.0.0.1:10911",
        0,
        other,
    ));
    let (sa, sb) = (a.addr.to_string(), b.addr.to_string());
    let (code, out, _) = diff(&["--in-flight", "64", &sa, &sb]);
    assert_eq!(
        (code, out.as_str()),
        (1, format!(
            "topic Topic12345 queues on broker-a: perm=6 read=8 write=8 sysflag=0 on {sa}; perm=6 read=8 write=4 sysflag=0 on {sb}\n\
             1 difference between 2 name servers\n"
        ).as_str())
    );
}

#[test]
fn a_server_that_never_answers_exits_2_after_the_timeout() {
    let a = TestServer::start(&[]);
    // Accepts, reads nothing, answers nothing.
    let silent = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
    let quiet = silent.local_addr().expect("addr").to_string();
    let holder = std::thread::spawn(move || silent.accept().map(|(s, _)| s));
    let sa = a.addr.to_string();
    let t0 = std::time::Instant::now();
    let (code, out, err) = diff(&["--timeout-ms", "300", &sa, &quiet]);
    assert_eq!(
        (code, out.as_str(), err.as_str()),
        (
            2,
            "",
            format!("namesrv diff: {quiet}: no reply within 300ms\n").as_str()
        )
    );
    assert!(
        t0.elapsed() < std::time::Duration::from_secs(5),
        "{:?}",
        t0.elapsed()
    );
    drop(holder.join());
}
