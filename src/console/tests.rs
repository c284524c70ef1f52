//! The console's pages and JSON from real tables, published as the writer does.

use std::sync::Arc;
use std::time::{Duration, Instant};

use futures_lite::future::block_on;
use protocol::body::{DataVersion, RegisterBrokerBody, TopicConfig};
use protocol::json::Dialect;

use super::model::{self, ServerView, ShardStat};
use super::respond;
use crate::config::Config;
use crate::kv::KvNamespaces;
use crate::registry::snapshot::{LiveView, Snapshot, SnapshotBuilder};
use crate::registry::tables::{Registration, TableSettings, Tables};
use crate::registry::ConnId;

fn reg(
    cluster: &str,
    name: &str,
    id: i64,
    addr: &str,
    zone: &str,
    topics: &[&str],
) -> Registration {
    Registration {
        cluster: cluster.into(),
        addr: addr.into(),
        name: name.into(),
        broker_id: id,
        ha_server_addr: None,
        heartbeat_timeout_ms: Some(30_000),
        enable_acting_master: None,
        zone_name: Some(zone.into()),
        body: RegisterBrokerBody {
            data_version: DataVersion {
                counter: 3,
                state_version: 1,
                timestamp: 1_700_000_000_000,
            },
            topic_configs: topics
                .iter()
                .map(|t| TopicConfig {
                    topic_name: t.to_string(),
                    read_queue_nums: 8,
                    write_queue_nums: 4,
                    perm: 6,
                    ..TopicConfig::default()
                })
                .collect(),
            mapping_infos: Default::default(),
            filter_server_list: Some(Vec::new()),
        },
        peer: Some(format!("10.0.0.{}:4{id}000", id + 1).parse().expect("addr")),
    }
}

struct Fixture {
    snap: Snapshot,
    live: LiveView,
    sorted: Vec<Box<str>>,
    at: Instant,
}

impl Fixture {
    fn new(regs: &[Registration]) -> Fixture {
        Fixture::with_config(regs, Config::default())
    }

    fn with_config(regs: &[Registration], config: Config) -> Fixture {
        let start = Instant::now();
        let config = Arc::new(config);
        let kv = Arc::new(KvNamespaces::new());
        let mut tables = Tables::default();
        for (n, r) in regs.iter().enumerate() {
            tables.register_broker(r, ConnId(n as u64), start, TableSettings::default());
        }
        let mut builder = SnapshotBuilder::new(config.clone(), kv.clone(), start);
        let snap = block_on(builder.publish(&mut tables, &config, &kv));
        Fixture {
            sorted: crate::console::sorted_topics(&snap),
            snap,
            live: LiveView::of(&tables, start),
            at: start,
        }
    }

    fn view(&self) -> ServerView<'_> {
        ServerView {
            snap: &self.snap,
            live: &self.live,
            now: self.at + Duration::from_millis(1500),
            uptime: Duration::from_secs(75),
            version: "9.9.9",
            ready: true,
            shards: vec![
                ShardStat {
                    shard: 0,
                    connections: 2,
                    requests: 10,
                    requests_per_second: 2.5,
                },
                ShardStat {
                    shard: 1,
                    connections: 1,
                    requests: 5,
                    requests_per_second: 0.0,
                },
            ],
            sorted_topics: &self.sorted,
        }
    }

    fn get(&self, path: &str, query: Option<&str>) -> (u16, String) {
        let page = respond(path, query, &self.view()).expect("a console page");
        (page.status, String::from_utf8(page.body).expect("utf-8"))
    }
}

fn two_groups() -> Fixture {
    Fixture::new(&[
        reg(
            "DefaultCluster",
            "broker-a",
            0,
            "10.0.0.1:10911",
            "zone-1",
            &["TopicA", "TopicB"],
        ),
        reg(
            "DefaultCluster",
            "broker-a",
            1,
            "10.0.0.2:10911",
            "zone-1",
            &["TopicA", "TopicB"],
        ),
        // Two topics: a one-topic body cannot be a broker's first registration.
        reg(
            "DefaultCluster",
            "broker-b",
            0,
            "10.0.1.1:10911",
            "zone-2",
            &["TopicB", "TopicC"],
        ),
    ])
}

#[test]
fn api_clusters_exact() {
    let f = two_groups();
    let (status, body) = f.get("/api/clusters", None);
    assert_eq!(status, 200);
    let v: serde_json::Value = serde_json::from_str(&body).expect("json");
    let broker = |addr: &str, id: i64, role: &str, peer: &str| {
        serde_json::json!({
            "id": id, "role": role, "addr": addr,
            "dataVersion": {"counter": 3, "stateVersion": 1, "timestamp": 1_700_000_000_000i64},
            "lastUpdateMsAgo": 1500, "heartbeatTimeoutMs": 30000, "peer": peer,
        })
    };
    assert_eq!(
        v,
        serde_json::json!({"clusters": [{"name": "DefaultCluster", "groups": [
            {"name": "broker-a", "zone": "zone-1", "enableActingMaster": false, "topics": 2,
             "brokers": [broker("10.0.0.1:10911", 0, "master", "10.0.0.1:40000"),
                         broker("10.0.0.2:10911", 1, "slave", "10.0.0.2:41000")]},
            {"name": "broker-b", "zone": "zone-2", "enableActingMaster": false, "topics": 2,
             "brokers": [broker("10.0.1.1:10911", 0, "master", "10.0.0.1:40000")]},
        ]}]})
    );
}

#[test]
fn overview_lists_every_broker() {
    let f = two_groups();
    let (status, html) = f.get("/", None);
    assert_eq!(status, 200);
    for s in [
        "<h3>Cluster DefaultCluster</h3>",
        "class=\"group\">broker-a</td>",
        "<td class=\"id\">1</td><td class=\"role-slave\">slave</td><td class=\"addr\">10.0.0.2:10911</td>",
        "<td class=\"peer\">10.0.0.2:41000</td>",
        "<td>1.5s ago</td><td>30.0s</td>",
        "<td>3 / state 1 / 1700000000000</td>",
        "<tr><td>0</td><td>2</td><td>10</td><td>2.5</td></tr>",
        "<tr><td>1</td><td>1</td><td>5</td><td>0.0</td></tr>",
        "<th>version</th><td>9.9.9</td><th>uptime</th><td>1m 15s</td>",
        "<tr><td>listenPort</td><td>9876</td></tr>",
    ] {
        assert!(html.contains(s), "missing {s} in\n{html}");
    }
}

#[test]
fn topic_page_shows_the_lookup_bytes() {
    let f = two_groups();
    let entry = f.snap.routes.get("TopicB").expect("route");
    let body = entry.body(Dialect::Standard).expect("body");
    let body = std::str::from_utf8(&body).expect("utf-8").to_string();

    let (status, json) = f.get("/api/topic/TopicB", None);
    assert_eq!(status, 200);
    let v: serde_json::Value = serde_json::from_str(&json).expect("json");
    assert_eq!(v["body"], serde_json::Value::String(body.clone()));
    assert_eq!(
        v["queueDatas"],
        serde_json::json!([
            // Route order: upstream's HashMap order of the topic's broker names.
            {"brokerName": "broker-b", "readQueueNums": 8, "writeQueueNums": 4, "perm": 6, "topicSysFlag": 0},
            {"brokerName": "broker-a", "readQueueNums": 8, "writeQueueNums": 4, "perm": 6, "topicSysFlag": 0},
        ])
    );

    let (status, html) = f.get("/topic/TopicB", None);
    assert_eq!(status, 200);
    let escaped = body.replace('"', "&quot;");
    assert!(
        html.contains(&format!("<pre id=\"raw\">{escaped}</pre>")),
        "{html}"
    );
    assert!(html.contains("<tr><td>broker-b</td><td>8</td><td>4</td><td>6</td><td>0</td></tr>"));
    assert!(html.contains(&format!("Raw body, {} bytes", body.len())));

    assert_eq!(f.get("/topic/Nope", None).0, 404);
    let (status, json) = f.get("/api/topic/Nope", None);
    assert_eq!(
        (status, json.as_str()),
        (404, "{\n  \"topic\": \"Nope\",\n  \"code\": 17\n}")
    );
}

#[test]
fn names_are_escaped_and_url_encoded() {
    let odd = "<b>&\"x'/ü";
    let f = Fixture::new(&[reg("C<1>", "g&1", 0, "1.1.1.1:1", "z\"", &[odd, "plain"])]);
    let (_, topics) = f.get("/topics", None);
    assert!(topics.contains(
        "<a href=\"/topic/%3Cb%3E%26%22x%27%2F%C3%BC\">&lt;b&gt;&amp;&quot;x&#39;/ü</a>"
    ));
    assert!(!topics.contains("<b>&"));
    let (status, page) = f.get("/topic/%3Cb%3E%26%22x%27%2F%C3%BC", None);
    assert_eq!(status, 200);
    assert!(page.contains("<span id=\"topic\">&lt;b&gt;&amp;&quot;x&#39;/ü</span>"));
    let (_, overview) = f.get("/", None);
    assert!(overview.contains("<h3>Cluster C&lt;1&gt;</h3>"));
    assert!(overview.contains("class=\"group\">g&amp;1</td><td rowspan=\"1\">z&quot;</td>"));
    // A malformed escape is no page.
    assert!(respond("/topic/%zz", None, &f.view()).is_none());
}

#[test]
fn search_and_paging() {
    let names: Vec<String> = (0..250).map(|i| format!("T{i:04}")).collect();
    let refs: Vec<&str> = names.iter().map(String::as_str).collect();
    let f = Fixture::new(&[reg("C", "g", 0, "1.1.1.1:1", "z", &refs)]);
    let page = model::topics(&f.view(), "", 3);
    assert_eq!((page.total, page.pages, page.topics.len()), (250, 3, 50));
    assert_eq!(page.topics[0].name, "T0200");
    let page = model::topics(&f.view(), "T01", 2);
    assert_eq!((page.total, page.pages, page.topics.len()), (100, 1, 0));
    let (_, html) = f.get("/topics", Some("q=T00%35&page=1"));
    assert!(
        html.contains("<p class=\"muted\" id=\"count\">10 topics, page 1 of 1</p>"),
        "{html}"
    );
    assert!(html.contains("value=\"T005\""));
    let (_, json) = f.get("/api/topics", Some("q=T0249"));
    let v: serde_json::Value = serde_json::from_str(&json).expect("json");
    assert_eq!(
        v,
        serde_json::json!({"query": "T0249", "page": 1, "pageSize": 100, "total": 1, "pages": 1,
            "topics": [{"name": "T0249", "brokerGroups": ["g"], "readQueues": 8, "writeQueues": 4}]})
    );
}

#[test]
fn server_json_and_secret_filter() {
    let f = two_groups();
    let s = model::server(&f.view());
    assert_eq!(
        (s.clusters, s.broker_groups, s.live_brokers, s.topics),
        (1, 2, 3, 3)
    );
    let model::Shown::Data(config) = &s.config else {
        panic!("auth is off: the configuration is shown");
    };
    assert!(config
        .iter()
        .any(|c| c.key == "listenPort" && c.value == "9876"));
    assert_eq!(
        model::shown_value("rocketmqSecretKey", "x".into()),
        "********"
    );
    assert_eq!(model::shown_value("dbPasswd", "x".into()), "********");
    assert_eq!(model::shown_value("sslPrivateKey", "x".into()), "********");
    assert_eq!(model::shown_value("listenPort", "9876".into()), "9876");
}

#[test]
fn auth_off_shows_configuration_and_kv() {
    let f = two_groups();
    let (_, json) = f.get("/api/server", None);
    let v: serde_json::Value = serde_json::from_str(&json).expect("json");
    assert!(v["config"]
        .as_array()
        .expect("config")
        .iter()
        .any(|s| s == &serde_json::json!({"key": "authenticationEnabled", "value": "false"})));
    assert_eq!(
        f.get("/api/kv", None),
        (200, "{\n  \"namespaces\": []\n}".to_string())
    );
    let (status, html) = f.get("/kv", None);
    assert_eq!(status, 200);
    assert!(html.contains("The KV store is empty."), "{html}");
    let (_, html) = f.get("/", None);
    assert!(html.contains("<table id=\"config\">"), "{html}");
    assert!(!html.contains("config-hidden"), "{html}");
}

#[test]
fn auth_on_hides_configuration_and_kv() {
    let config = Config {
        authentication_enabled: true,
        ..Config::default()
    };
    let f = Fixture::with_config(&[reg("C", "g", 0, "1.1.1.1:1", "z", &["T1", "T2"])], config);
    let (status, json) = f.get("/api/server", None);
    assert_eq!(status, 200);
    let v: serde_json::Value = serde_json::from_str(&json).expect("json");
    assert_eq!(v["config"], "hidden: authenticationEnabled");
    assert_eq!(
        (&v["topics"], &v["version"]),
        (&serde_json::json!(2), &serde_json::json!("9.9.9"))
    );
    let page = respond("/api/kv", None, &f.view()).expect("a page");
    assert_eq!(
        (page.status, page.content_type, page.body),
        (
            403,
            "text/plain; charset=utf-8",
            b"hidden: authenticationEnabled: the KV store is for admin accounts only\n".to_vec()
        )
    );
    let (status, html) = f.get("/kv", None);
    assert_eq!(status, 403);
    assert!(html.contains("<p class=\"muted\" id=\"kv-hidden\">Not shown: with authenticationEnabled=true only admin accounts may read the KV store"), "{html}");
    let (status, html) = f.get("/", None);
    assert_eq!(status, 200);
    assert!(
        html.contains(
            "<p class=\"muted\" id=\"config-hidden\">Not shown: with authenticationEnabled=true"
        ),
        "{html}"
    );
    assert!(!html.contains("<table id=\"config\">"), "{html}");
    assert!(!html.contains("listenPort"), "{html}");
    // The rest of the overview stays.
    assert!(html.contains("<h3>Cluster C</h3>"), "{html}");
    // Routes and topics are open reads: still shown.
    assert_eq!(f.get("/api/topic/T1", None).0, 200);
    assert_eq!(f.get("/topics", None).0, 200);
}

/// 100k topics: pages and a search pick exactly their rows out of the sorted
/// names. (How long that takes is a speed target, not a unit test's business.)
#[test]
fn hundred_thousand_topics_page_exactly() {
    let names: Vec<String> = (0..100_000).map(|i| format!("topic-{i:06}")).collect();
    let refs: Vec<&str> = names.iter().map(String::as_str).collect();
    let f = Fixture::new(&[reg("C", "g", 0, "1.1.1.1:1", "z", &refs)]);
    let (_, first) = f.get("/topics", Some("page=500"));
    let (_, again) = f.get("/topics", Some("page=1000"));
    let (_, search) = f.get("/topics", Some("q=99999"));
    assert!(first.contains(">topic-049900</a>") && first.contains(">topic-049999</a>"));
    assert!(!first.contains(">topic-049899</a>") && !first.contains(">topic-050000</a>"));
    assert!(again.contains(">topic-099900</a>") && again.contains(">topic-099999</a>"));
    assert!(search.contains("id=\"count\">1 topics, page 1 of 1</p>"));
    assert!(search.contains(">topic-099999</a>"));
}
