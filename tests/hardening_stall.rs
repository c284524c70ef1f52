//! No connection may stall the lookups of its core (issue 9): register bodies
//! inflate under a ceiling and list a bounded number of topics, and while
//! attackers loop inflate bombs and large registrations, route lookups from other
//! connections keep being answered quickly.

mod common;

use std::io::Write;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::Arc;
use std::thread;
use std::time::{Duration, Instant};

use common::*;
use protocol::body::{body_crc32, TopicList};
use protocol::codes::{request as rq, response};

const DEFAULT_INFLATE_CEILING: usize = 64 << 20;

fn zlib(raw: &[u8]) -> Vec<u8> {
    let mut e = flate2::write::ZlibEncoder::new(Vec::new(), flate2::Compression::best());
    e.write_all(raw).expect("deflate into a Vec");
    e.finish().expect("deflate into a Vec")
}

fn part(out: &mut Vec<u8>, bytes: &[u8]) {
    out.extend_from_slice(&(bytes.len() as i32).to_be_bytes());
    out.extend_from_slice(bytes);
}

/// A compressed (version 479) register body of `lines` topic lines, each a valid
/// topic followed by `padding` spaces (Java's `split(" ")` drops trailing empties,
/// so each line is a real topic): small on the wire, huge once inflated.
fn bomb_body(lines: usize, padding: usize) -> Vec<u8> {
    let mut raw = Vec::new();
    part(&mut raw, br#"{"counter":1,"stateVersion":0,"timestamp":1}"#);
    raw.extend_from_slice(&(lines as i32).to_be_bytes());
    let pad = " ".repeat(padding);
    for i in 0..lines {
        part(
            &mut raw,
            format!("bomb-{i} 1 1 6 SINGLE_TAG {{}}{pad}").as_bytes(),
        );
    }
    part(&mut raw, b"[]");
    raw.extend_from_slice(&0i32.to_be_bytes());
    zlib(&raw)
}

/// A compressed REGISTER_BROKER request carrying `body` as-is.
fn compressed_request(name: &str, addr: &str, body: &[u8]) -> protocol::RemotingCommand {
    let mut cmd = request(
        rq::REGISTER_BROKER,
        &[
            ("brokerName", name),
            ("brokerAddr", addr),
            ("clusterName", "C"),
            ("brokerId", "0"),
            ("compressed", "true"),
        ],
    );
    cmd.push_ext("bodyCrc32", body_crc32(body).to_string());
    cmd
}

fn all_topics(c: &mut Client) -> Vec<String> {
    let r = c.ask(rq::GET_ALL_TOPIC_LIST_FROM_NAMESERVER, &[], None);
    assert_eq!(r.0.code, response::SUCCESS, "{:?}", r.0.remark);
    let mut list = TopicList::decode(r.1.as_deref().expect("206 body"))
        .expect("206 body decodes")
        .topic_list;
    list.sort();
    list
}

/// `prefix-0` .. `prefix-{n-1}`, sorted as strings (as `all_topics` returns them).
fn sorted_names(prefix: &str, n: usize) -> Vec<String> {
    let mut names: Vec<String> = (0..n).map(|i| format!("{prefix}-{i}")).collect();
    names.sort();
    names
}

fn topics(prefix: &str, n: usize) -> Vec<protocol::body::TopicConfig> {
    (0..n)
        .map(|i| topic(&format!("{prefix}-{i}"), 6, 4))
        .collect()
}

#[test]
fn an_inflate_bomb_is_refused_at_the_default_ceiling() {
    let server = TestServer::start(&[]);
    let mut c = server.client();
    // One 70 MiB line (the old ceiling, 256 MiB, let it in) from well under a
    // megabyte on the wire. Its length prefix already passes the ceiling, so it is
    // refused before any of it is inflated.
    let body = bomb_body(1, 70 << 20);
    assert!(body.len() < 1 << 20, "bomb is {} bytes", body.len());
    let r = c.call(
        compressed_request("bomber", "10.9.0.1:10911", &body),
        Some(&body),
    );
    assert_eq!(r.0.code, response::SYSTEM_ERROR);
    assert_eq!(
        remark(&r),
        format!(
            "Failed to decode RegisterBrokerBody: register body inflates beyond \
             {DEFAULT_INFLATE_CEILING} bytes (maxInflatedBodyLength)"
        )
    );
    assert!(c.route("bomb-0").is_none(), "nothing of it was applied");
    assert_eq!(all_topics(&mut c), Vec::<String>::new());
    wait_log_line(&server, &["register body refused: over a limit"]);
    // The connection still serves.
    c.register_ok(&BrokerReg::new(
        "C",
        "fine",
        "10.9.0.2:10911",
        0,
        topics("ok", 2),
    ));
}

#[test]
fn the_inflate_ceiling_is_configurable() {
    let server = TestServer::start(&[("maxInflatedBodyLength", "100000")]);
    let mut c = server.client();
    // 10 lines of 8 KiB: 80 KiB inflated, under the ceiling.
    let body = bomb_body(10, 8 << 10);
    let r = c.call(
        compressed_request("b", "10.9.0.1:10911", &body),
        Some(&body),
    );
    assert_eq!(r.0.code, response::SUCCESS, "{:?}", r.0.remark);
    assert_eq!(all_topics(&mut c), sorted_names("bomb", 10));
    // 20 lines: past it.
    let body = bomb_body(20, 8 << 10);
    let r = c.call(
        compressed_request("b2", "10.9.0.2:10911", &body),
        Some(&body),
    );
    assert_eq!(r.0.code, response::SYSTEM_ERROR);
    assert_eq!(
        remark(&r),
        "Failed to decode RegisterBrokerBody: register body inflates beyond 100000 bytes \
         (maxInflatedBodyLength)"
    );
    assert_eq!(
        all_topics(&mut c),
        sorted_names("bomb", 10),
        "the refused body added nothing"
    );
}

#[test]
fn a_registration_over_the_topic_cap_is_refused_whole() {
    let server = TestServer::start(&[("maxTopicsPerRegistration", "500")]);
    let mut c = server.client();
    for compressed in [false, true] {
        let mut reg = BrokerReg::new("C", "big", "10.8.0.1:10911", 0, topics("over", 501));
        reg.compressed = compressed;
        let r = c.register_broker(&reg);
        assert_eq!(r.0.code, response::SYSTEM_ERROR, "compressed={compressed}");
        assert_eq!(
            remark(&r),
            "Failed to decode RegisterBrokerBody: register body holds more than 500 topics \
             (maxTopicsPerRegistration)",
            "compressed={compressed}"
        );
    }
    assert_eq!(
        all_topics(&mut c),
        Vec::<String>::new(),
        "nothing of it applied"
    );
    wait_log_line(&server, &["register body refused: over a limit"]);
    // Exactly at the cap is fine, in both forms.
    let mut reg = BrokerReg::new("C", "big", "10.8.0.1:10911", 0, topics("at", 500));
    c.register_ok(&reg);
    reg.compressed = true;
    reg.name = "big2".into();
    reg.addr = "10.8.0.2:10911".into();
    c.register_ok(&reg);
    assert_eq!(all_topics(&mut c), sorted_names("at", 500));
}

#[test]
fn topic_lists_follow_each_new_snapshot() {
    // The 206/224 bodies are cached per snapshot: a registration must show at once.
    let server = TestServer::start(&[]);
    let mut c = server.client();
    c.register_ok(&BrokerReg::new(
        "C",
        "a",
        "10.7.0.1:10911",
        0,
        topics("first", 2),
    ));
    assert_eq!(all_topics(&mut c), vec!["first-0", "first-1"]);
    assert_eq!(all_topics(&mut c), vec!["first-0", "first-1"], "cached");
    c.register_ok(&BrokerReg::new(
        "C",
        "b",
        "10.7.0.2:10911",
        0,
        topics("second", 2),
    ));
    assert_eq!(
        all_topics(&mut c),
        vec!["first-0", "first-1", "second-0", "second-1"]
    );
    let by_cluster = |c: &mut Client, cluster: &str| {
        let r = c.ask(rq::GET_TOPICS_BY_CLUSTER, &[("cluster", cluster)], None);
        let mut l = TopicList::decode(r.1.as_deref().expect("224 body"))
            .expect("decodes")
            .topic_list;
        l.sort();
        l
    };
    assert_eq!(
        by_cluster(&mut c, "C"),
        vec!["first-0", "first-1", "second-0", "second-1"]
    );
    assert_eq!(by_cluster(&mut c, "nope"), Vec::<String>::new());
    c.call(
        BrokerReg::new("C", "b", "10.7.0.2:10911", 0, vec![]).unregister(),
        None,
    );
    assert_eq!(by_cluster(&mut c, "C"), vec!["first-0", "first-1"]);
}

/// How long the attack runs.
const ATTACK: Duration = Duration::from_secs(4);
/// A lookup slower than this counts as missed.
const DEADLINE: Duration = Duration::from_millis(100);

#[test]
fn lookups_stay_fast_while_attackers_loop_bombs_and_large_registrations() {
    // A 4 MiB ceiling keeps each bomb's inflation short enough for a debug build
    // to refuse several within the attack (and every attacker's reply within the
    // harness's read timeout); what it costs the server is the same in kind.
    let server = TestServer::start(&[("maxInflatedBodyLength", "4194304")]);
    let mut setup = server.client();
    setup.register_ok(&BrokerReg::new(
        "C",
        "victim-broker",
        "10.6.0.1:10911",
        0,
        topics("Victim", 4),
    ));

    let stop = Arc::new(AtomicBool::new(false));
    let bombs_refused = Arc::new(AtomicUsize::new(0));
    let large_applied = Arc::new(AtomicUsize::new(0));
    let mut attackers = Vec::new();
    // Two connections loop a bomb inflating 4 MiB before it is refused.
    let bomb = Arc::new(bomb_body(6, 1 << 20));
    for i in 0..2 {
        let (addr, stop, bomb, refused) = (
            server.addr,
            stop.clone(),
            bomb.clone(),
            bombs_refused.clone(),
        );
        attackers.push(thread::spawn(move || {
            let mut c = Client::connect(addr);
            let cmd = compressed_request(&format!("bomber-{i}"), "10.6.1.1:10911", &bomb);
            while !stop.load(Ordering::Relaxed) {
                let r = c.call(cmd.clone(), Some(&bomb));
                assert_eq!(r.0.code, response::SYSTEM_ERROR, "{:?}", r.0.remark);
                refused.fetch_add(1, Ordering::Relaxed);
            }
        }));
    }
    // One loops a 10k-topic registration, with a new DataVersion each time so
    // every topic is put again and every route rebuilt; every other round on a
    // new connection, so closing the old one unregisters all 10k topics.
    {
        let (addr, stop, applied) = (server.addr, stop.clone(), large_applied.clone());
        let mut reg = BrokerReg::new("C", "large", "10.6.2.1:10911", 0, topics("L", 10_000));
        reg.compressed = true;
        attackers.push(thread::spawn(move || {
            let mut c = Client::connect(addr);
            let mut counter = 1;
            while !stop.load(Ordering::Relaxed) {
                counter += 1;
                if counter % 2 == 0 {
                    c = Client::connect(addr);
                }
                reg.data_version = dv(counter, 0);
                c.register_ok(&reg);
                if counter == 2 {
                    assert!(
                        c.route("L-9999").is_some(),
                        "the large broker is registered"
                    );
                }
                applied.fetch_add(1, Ordering::Relaxed);
            }
        }));
    }

    // The victim: several connections (so both shards), one lookup at a time.
    let mut victims: Vec<Client> = (0..4).map(|_| server.client()).collect();
    let mut latencies = Vec::new();
    let started = Instant::now();
    while started.elapsed() < ATTACK {
        for v in &mut victims {
            let t = Instant::now();
            let route = v.route("Victim-1").expect("the victim's topic routes");
            latencies.push(t.elapsed());
            assert_eq!(route.queue_datas[0].broker_name, "victim-broker");
        }
        thread::sleep(Duration::from_millis(2));
    }
    stop.store(true, Ordering::Relaxed);
    for a in attackers {
        a.join().expect("attacker thread");
    }

    let refused = bombs_refused.load(Ordering::Relaxed);
    let applied = large_applied.load(Ordering::Relaxed);
    assert!(refused >= 2, "the bombs really ran: {refused} refused");
    assert!(
        applied >= 1,
        "the large registrations really ran: {applied}"
    );
    let late = latencies.iter().filter(|l| **l > DEADLINE).count();
    let worst = latencies.iter().max().copied().unwrap_or_default();
    eprintln!(
        "{} lookups, {late} over {DEADLINE:?}, worst {worst:?}; {refused} bombs refused, \
         {applied} large registrations applied",
        latencies.len()
    );
    assert!(latencies.len() >= 200, "only {} lookups", latencies.len());
    assert!(
        late * 100 <= latencies.len(),
        "{late} of {} lookups took over {DEADLINE:?} (worst {worst:?}; \
         {refused} bombs refused, {applied} large registrations applied)",
        latencies.len()
    );
}
