//! Unit tests of the tables (pure: no sockets, no executor).

use super::*;
use protocol::body::{RegisterBrokerBody, TopicConfig};

fn reg(name: &str, addr: &str, topics: &[&str]) -> Registration {
    Registration {
        cluster: "C".into(),
        addr: addr.into(),
        name: name.into(),
        broker_id: 0,
        ha_server_addr: None,
        heartbeat_timeout_ms: None,
        enable_acting_master: None,
        peer: None,
        zone_name: None,
        body: RegisterBrokerBody {
            topic_configs: topics
                .iter()
                .map(|t| TopicConfig {
                    topic_name: t.to_string(),
                    ..TopicConfig::default()
                })
                .collect(),
            filter_server_list: Some(Vec::new()),
            ..RegisterBrokerBody::default()
        },
    }
}

#[test]
fn interned_names_are_freed_when_nothing_holds_them() {
    let mut t = Tables::default();
    let now = Instant::now();
    let s = TableSettings::default();
    // A churning estate: brokers come and go, each under a new name.
    for i in 0..50 {
        let name = format!("broker-{i}");
        let addr = format!("10.0.0.{i}:10911");
        let r = reg(&name, &addr, &["shared", &format!("own-{i}")]);
        assert!(t.register_broker(&r, ConnId(i), now, s).is_some());
        assert_eq!(t.interned_names(), 1, "only the live broker's name");
        t.unregister_broker("C", &addr, &name, 0);
        assert_eq!(t.interned_names(), 0, "freed with its last topic");
    }
    // Deleting topics frees a name once its last topic is gone, not before.
    let a = reg("broker-a", "10.0.1.1:10911", &["x", "y"]);
    let b = reg("broker-b", "10.0.1.2:10911", &["x", "z"]);
    t.register_broker(&a, ConnId(100), now, s);
    t.register_broker(&b, ConnId(101), now, s);
    assert_eq!(t.interned_names(), 2);
    t.delete_topic("x", None);
    assert_eq!(t.interned_names(), 2, "y and z still hold them");
    t.delete_topic("y", None);
    assert_eq!(t.interned_names(), 1);
    // Expiry frees it too.
    let later = now + DEFAULT_BROKER_TIMEOUT + Duration::from_secs(1);
    assert_eq!(t.expire(later).len(), 2);
    assert_eq!(t.interned_names(), 0);
    assert!(t.topic_queue.is_empty());
}

#[test]
fn topic_puts_in_slices_equal_one_registration() {
    let now = Instant::now();
    let s = TableSettings::default();
    let names: Vec<String> = (0..100).map(|i| format!("T{i}")).collect();
    let topics: Vec<&str> = names.iter().map(String::as_str).collect();
    let r = reg("broker-a", "10.0.0.1:10911", &topics);
    let mut whole = Tables::default();
    whole.register_broker(&r, ConnId(1), now, s);
    let mut sliced = Tables::default();
    let (result, puts) = sliced
        .register_broker_except_topics(&r, ConnId(1), now, s)
        .expect("accepted");
    assert_eq!(result, RegisterResult::default());
    let puts = puts.expect("a master puts topics");
    for chunk in r.body.topic_configs.chunks(7) {
        sliced.put_topics(&r, &puts, chunk);
    }
    let mut a: Vec<_> = whole.topic_queue.keys().cloned().collect();
    let mut b: Vec<_> = sliced.topic_queue.keys().cloned().collect();
    a.sort();
    b.sort();
    assert_eq!(a, b);
    assert_eq!(a.len(), 100);
    assert_eq!(whole.dirty.topics, sliced.dirty.topics);
    assert_eq!(
        sliced.topic_queue["T5"].get("broker-a").map(|q| q.perm),
        Some(6)
    );
}

#[test]
fn deferred_removals_settle_in_slices_to_the_same_tables() {
    let now = Instant::now();
    let s = TableSettings::default();
    let names: Vec<String> = (0..50).map(|i| format!("T{i}")).collect();
    let mut topics: Vec<&str> = names.iter().map(String::as_str).collect();
    topics.push("kept");
    let gone = reg("broker-gone", "10.0.0.1:10911", &topics);
    let stays = reg("broker-stays", "10.0.0.2:10911", &["kept", "T3"]);
    let mut t = Tables::deferring_removals();
    t.register_broker(&gone, ConnId(1), now, s);
    t.register_broker(&stays, ConnId(2), now, s);
    t.dirty = Dirty::default();
    t.unregister_broker("C", "10.0.0.1:10911", "broker-gone", 0);
    assert!(!t.broker_addr.contains_key("broker-gone"));
    assert_eq!(t.topic_queue.len(), 51, "queues not removed yet");
    let mut slices = 0;
    while t.settle(7) {
        slices += 1;
    }
    assert_eq!(slices, 7, "51 removals in slices of 7");
    let mut left: Vec<&str> = t.topic_queue.keys().map(|k| &**k).collect();
    left.sort();
    assert_eq!(left, ["T3", "kept"]);
    assert!(t
        .topic_queue
        .values()
        .all(|q| q.keys().eq(["broker-stays"])));
    assert_eq!(
        t.dirty.topics.len(),
        51,
        "every touched topic is republished"
    );
    assert_eq!(t.interned_names(), 1);
    assert!(!t.settle(7));
}

/// The topics in the order upstream iterates its topicQueueTable.
fn table_order(t: &Tables) -> Vec<String> {
    let cap = t.topic_table_capacity();
    let mut all: Vec<(usize, u64, String)> = t
        .topic_names()
        .map(|n| {
            let b = protocol::java_table::java_bucket(n.java_hash(), cap);
            (b, t.topic_chain_rank(n), n.to_string())
        })
        .collect();
    all.sort();
    all.into_iter().map(|(_, _, n)| n).collect()
}

#[test]
fn topic_table_order_follows_chm_resizes_and_republishes_all() {
    let mut t = Tables::default();
    let now = Instant::now();
    let s = TableSettings::default();
    // Past 1536 topics the 2048 buckets double and `transfer` reorders chains.
    let names: Vec<String> = (0..2000).map(|i| format!("%RETRY%group-{i}")).collect();
    let refs: Vec<&str> = names.iter().map(String::as_str).collect();
    let mut r = reg("broker-a", "10.0.0.1:10911", &refs);
    // Registered in topicConfigTable's order, as the decoder hands them over.
    protocol::java_table::java_hash_order_in(
        &mut r.body.topic_configs,
        JavaTable::ConcurrentHashMap,
        |tc| tc.topic_name.java_hash(),
    );
    let order: Vec<String> = r
        .body
        .topic_configs
        .iter()
        .map(|tc| tc.topic_name.clone())
        .collect();
    t.register_broker(&r, ConnId(1), now, s);
    assert_eq!(t.topic_table_capacity(), 4096);
    // The same keys put in the same order into a fresh CHM(1024) (the oracle-checked
    // fill), and the resize marked every topic for republishing.
    let mut expected = order.clone();
    protocol::java_table::java_hash_order_in(
        &mut expected,
        JavaTable::ConcurrentHashMapWith(1024),
        |n| n.java_hash(),
    );
    let got = table_order(&t);
    let first = got.iter().zip(&expected).position(|(a, b)| a != b);
    assert_eq!(
        first,
        None,
        "first difference; {:?}",
        first.map(|i| (&got[i], &expected[i]))
    );
    assert_eq!(t.take_changes().topics.len(), 2000);
    // Removing one and putting it back sends it to its chain's tail.
    t.delete_topic(&order[0], None);
    let back = reg(
        "broker-a",
        "10.0.0.1:10911",
        &[order[0].as_str(), order[1].as_str()],
    );
    t.register_broker(&back, ConnId(1), now, s);
    // The oracle-checked JavaMap, through the same puts and the removal.
    let mut model: JavaMap<String, ()> = JavaMap::new(JavaTable::ConcurrentHashMapWith(1024));
    for n in &order {
        model.insert(n.clone(), ());
    }
    model.remove(&order[0]);
    model.insert(order[0].clone(), ());
    let cap4096: Vec<String> = model
        .ordered()
        .into_iter()
        .map(|(n, _)| n.clone())
        .collect();
    assert_eq!(t.topic_table_capacity(), 4096);
    assert_eq!(table_order(&t), cap4096);
}

#[test]
fn a_topics_brokers_iterate_in_put_order_within_a_bucket() {
    let mut t = Tables::default();
    let now = Instant::now();
    let s = TableSettings::default();
    // "broker-orphan1" and "broker-c" share bucket 9 of 16: put order, not key order.
    t.register_broker(
        &reg("broker-orphan1", "10.0.0.1:1", &["T1", "x"]),
        ConnId(1),
        now,
        s,
    );
    t.register_broker(
        &reg("broker-c", "10.0.0.2:1", &["T1", "y"]),
        ConnId(2),
        now,
        s,
    );
    assert_eq!(
        t.queues("T1").unwrap().java_keys(),
        ["broker-orphan1", "broker-c"]
    );
    // Removed and put again: the tail of its chain.
    t.unregister_broker("C", "10.0.0.1:1", "broker-orphan1", 0);
    t.register_broker(
        &reg("broker-orphan1", "10.0.0.1:1", &["T1", "x"]),
        ConnId(3),
        now,
        s,
    );
    assert_eq!(
        t.queues("T1").unwrap().java_keys(),
        ["broker-c", "broker-orphan1"]
    );
}
