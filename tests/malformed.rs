//! Hostile and broken input: every framing or header error closes that
//! connection without a reply, huge length prefixes reserve no memory, and the
//! server keeps serving everyone else.

mod common;

use std::time::{Duration, Instant};

use common::*;
use protocol::codes::{request as rq, response};
use protocol::SerializeType;

/// A frame with an arbitrary type byte and header bytes (no body).
fn raw_frame(ty: u8, header: &[u8]) -> Vec<u8> {
    let mut out = Vec::new();
    out.extend_from_slice(&(4 + header.len() as u32).to_be_bytes());
    out.extend_from_slice(&(((ty as u32) << 24) | header.len() as u32).to_be_bytes());
    out.extend_from_slice(header);
    out
}

/// A long-lived connection with a registered broker, checked between attacks.
struct Witness {
    client: Client,
}

impl Witness {
    fn new(server: &TestServer) -> Witness {
        let mut client = server.client();
        client.register_ok(&BrokerReg::new(
            "C",
            "broker-w",
            "10.0.0.1:10911",
            0,
            vec![topic("Witness", 6, 4), topic("W2", 6, 4)],
        ));
        Witness { client }
    }

    fn check(&mut self) {
        let route = self
            .client
            .route("Witness")
            .expect("witness route still served");
        assert_eq!(route.queue_datas[0].broker_name, "broker-w");
        let r = self
            .client
            .ask(rq::GET_KV_CONFIG, &[("namespace", "n"), ("key", "k")], None);
        assert_eq!(r.0.code, response::QUERY_NOT_FOUND);
    }
}

/// Sends `bytes` on a fresh connection and expects it closed without a reply.
fn expect_rejected(server: &TestServer, what: &str, bytes: &[u8]) {
    let mut c = server.client();
    // The server may close before it read everything: a reset is fine too.
    let _ = c.send_raw(bytes);
    let started = Instant::now();
    c.expect_closed(Duration::from_secs(3));
    eprintln!("{what}: closed after {:?}", started.elapsed());
}

#[test]
fn bad_frames_close_only_their_connection() {
    let server = TestServer::start(&[]);
    let mut witness = Witness::new(&server);
    let valid_json = br#"{"code":105,"extFields":{"topic":"Witness"},"flag":0,"language":"JAVA","opaque":1,"version":479}"#;

    let mut cases: Vec<(&str, Vec<u8>)> = vec![
        // hdr_len > total_len - 4
        ("header length beyond the frame", {
            let mut f = raw_frame(0, valid_json);
            let info = (valid_json.len() as u32 + 10).to_be_bytes();
            f[4..8].copy_from_slice(&info);
            f
        }),
        ("header length 0xFFFFFF in a small frame", {
            let mut f = raw_frame(0, valid_json);
            f[4..8].copy_from_slice(&0x00FF_FFFFu32.to_be_bytes());
            f
        }),
        ("unknown serialize type 2", raw_frame(2, valid_json)),
        ("unknown serialize type 0xFF", raw_frame(0xFF, valid_json)),
        ("total length below 4", vec![0, 0, 0, 2, 0, 0, 0, 0]),
        ("total length 0", vec![0, 0, 0, 0]),
        (
            "bad JSON header",
            raw_frame(0, br#"{"code":105,"extFields":{"topic""#),
        ),
        ("JSON header not an object", raw_frame(0, b"[105]")),
        (
            "JSON header with a string code",
            raw_frame(0, br#"{"code":"abc","opaque":1}"#),
        ),
        (
            "binary header too short",
            raw_frame(1, &[0, 105, 0, 1, 0xDF]),
        ),
        ("binary header with a remark beyond it", {
            let mut h = vec![0, 105, 0, 1, 0xDF, 0, 0, 0, 1, 0, 0, 0, 0];
            h.extend_from_slice(&1000i32.to_be_bytes()); // remark_len
            h.extend_from_slice(&0i32.to_be_bytes());
            raw_frame(1, &h)
        }),
        ("binary header with ext_len beyond it", {
            let mut h = vec![0, 105, 0, 1, 0xDF, 0, 0, 0, 1, 0, 0, 0, 0];
            h.extend_from_slice(&0i32.to_be_bytes());
            h.extend_from_slice(&5000i32.to_be_bytes()); // ext_len
            raw_frame(1, &h)
        }),
        ("oversized frame (16 MiB + 1)", {
            let mut f = (16u32 * 1024 * 1024 - 3).to_be_bytes().to_vec();
            f.extend_from_slice(&[0, 0, 0, 10]);
            f
        }),
    ];
    // A truncated frame: the peer stops mid-frame and half-closes.
    {
        let f = raw_frame(0, valid_json);
        cases.push(("truncated frame", f[..f.len() - 10].to_vec()));
    }

    for (what, bytes) in &cases {
        if *what == "truncated frame" {
            let mut c = server.client();
            c.send_raw(bytes).unwrap();
            c.shutdown_write();
            c.expect_closed(Duration::from_secs(3));
        } else {
            expect_rejected(&server, what, bytes);
        }
        witness.check();
    }

    // A connection that was fine until then is closed by its first bad frame.
    let mut c = server.client();
    c.send_raw(&raw_frame(0, valid_json)).unwrap();
    let (reply, body) = c.read_frame().expect("the valid frame is answered");
    assert_eq!((reply.code, reply.opaque), (0, 1));
    assert!(body.is_some());
    c.send_raw(&raw_frame(7, b"garbage")).unwrap();
    c.expect_closed(Duration::from_secs(3));
    witness.check();
}

#[test]
fn huge_length_prefixes_are_refused_without_reserving_memory() {
    let server = TestServer::start(&[]);
    let mut witness = Witness::new(&server);
    let rss_before = server.rss_kib();
    let vm_before = server.vm_size_kib();
    for prefix in [0x8000_0000u32, 0x7FFF_FFF0, 0xFFFF_FFFF] {
        let mut c = server.client();
        let mut bytes = prefix.to_be_bytes().to_vec();
        bytes.extend_from_slice(&[0, 0, 0, 20]);
        bytes.extend_from_slice(&[b'x'; 64]);
        let started = Instant::now();
        let _ = c.send_raw(&bytes);
        c.expect_closed(Duration::from_secs(2));
        assert!(started.elapsed() < Duration::from_secs(2));
        witness.check();
    }
    let rss_after = server.rss_kib();
    assert!(
        rss_after < rss_before + 32 * 1024,
        "RSS grew from {rss_before} KiB to {rss_after} KiB"
    );
    let vm_after = server.vm_size_kib();
    assert!(
        vm_after < vm_before + 512 * 1024,
        "virtual size grew from {vm_before} KiB to {vm_after} KiB"
    );
}

#[test]
fn a_pending_huge_frame_only_costs_what_arrived() {
    // With a limit above 2 GiB the prefix is accepted and the server waits for
    // the rest: memory must follow the bytes received, not the claimed length.
    let server = TestServer::start(&[("maxFrameLength", "3000000000")]);
    let mut witness = Witness::new(&server);
    let rss_before = server.rss_kib();
    let vm_before = server.vm_size_kib();
    let mut c = server.client();
    let mut bytes = 0x8000_0000u32.to_be_bytes().to_vec();
    bytes.extend_from_slice(&[0, 0, 0, 20]);
    bytes.extend(vec![b'x'; 1 << 20]);
    c.send_raw(&bytes).unwrap();
    // Give the server time to read what was sent.
    let deadline = Instant::now() + Duration::from_millis(300);
    while Instant::now() < deadline {
        witness.check();
    }
    let rss_during = server.rss_kib();
    assert!(
        rss_during < rss_before + 64 * 1024,
        "RSS grew from {rss_before} KiB to {rss_during} KiB for a 1 MiB partial frame"
    );
    // Not even reserved (untouched allocations do not show in the RSS).
    let vm_during = server.vm_size_kib();
    assert!(
        vm_during < vm_before + 512 * 1024,
        "virtual size grew from {vm_before} KiB to {vm_during} KiB: the claimed 2 GiB was reserved"
    );
    drop(c);
    witness.check();
}

/// xorshift64*: deterministic "random" bytes.
fn random_bytes(seed: u64, n: usize) -> Vec<u8> {
    let mut x = seed.max(1);
    (0..n)
        .map(|_| {
            x ^= x >> 12;
            x ^= x << 25;
            x ^= x >> 27;
            (x.wrapping_mul(0x2545_F491_4F6C_DD1D) >> 56) as u8
        })
        .collect()
}

#[test]
fn random_bytes_never_get_an_answer() {
    let server = TestServer::start(&[]);
    let mut witness = Witness::new(&server);
    for seed in 1..=24u64 {
        let mut bytes = random_bytes(seed, 64 + (seed as usize * 97) % 4000);
        if seed % 3 == 0 {
            // Plausible length prefixes, so the header decoders see the noise.
            let len = (bytes.len() - 4) as u32;
            bytes[..4].copy_from_slice(&len.to_be_bytes());
            let hdr = (len - 4).min(0xFF_FFFF) & 0x00FF_FFFF;
            let ty = (seed % 2) as u32;
            bytes[4..8].copy_from_slice(&((ty << 24) | hdr).to_be_bytes());
        }
        let mut c = server.client();
        let _ = c.send_raw(&bytes);
        // Whatever the server made of it, no reply, and (after our FIN at the
        // latest) the connection is closed.
        c.shutdown_write();
        c.expect_closed(Duration::from_secs(3));
        witness.check();
    }
}

#[test]
fn a_response_frame_is_dropped_and_the_connection_stays() {
    let server = TestServer::start(&[]);
    let mut c = server.client();
    let mut stray = request(rq::GET_BROKER_CLUSTER_INFO, &[]);
    stray.flag = 1;
    stray.opaque = 42;
    c.send(&stray, None);
    let r = c.ask(rq::GET_ROUTEINFO_BY_TOPIC, &[("topic", "X")], None);
    assert_eq!(r.0.code, response::TOPIC_NOT_EXIST);
}

#[test]
fn unknown_request_code_is_answered_not_closed() {
    let server = TestServer::start(&[]);
    for ty in [SerializeType::Json, SerializeType::Rocketmq] {
        let mut c = server.client().with_serialize(ty);
        let r = c.ask(99999 % 32768, &[], None); // i16 in the binary header
        assert_eq!(r.0.code, response::REQUEST_CODE_NOT_SUPPORTED);
        assert_eq!(
            remark(&r),
            format!(" request type {} not supported", 99999 % 32768)
        );
        let r = c.ask(rq::GET_BROKER_CLUSTER_INFO, &[], None);
        assert_eq!(r.0.code, 0);
    }
    let mut c = server.client();
    let r = c.ask(99999, &[], None);
    assert_eq!(r.0.code, response::REQUEST_CODE_NOT_SUPPORTED);
    assert_eq!(remark(&r), " request type 99999 not supported");
}

#[test]
fn many_bad_connections_in_parallel_leave_the_server_serving() {
    let server = TestServer::start(&[]);
    let mut witness = Witness::new(&server);
    let addr = server.addr;
    let handles: Vec<_> = (0..8u64)
        .map(|t| {
            std::thread::spawn(move || {
                for i in 0..10u64 {
                    let mut c = Client::connect(addr);
                    let mut bytes = random_bytes(t * 100 + i + 1, 512);
                    bytes[0] = 0x7F; // always too long
                    let _ = c.send_raw(&bytes);
                    c.expect_closed(Duration::from_secs(3));
                }
            })
        })
        .collect();
    for h in handles {
        h.join().expect("attacker thread");
    }
    witness.check();
    for route in routes_on_fresh_connections(server.addr, "Witness", 8) {
        assert!(route.is_some());
    }
}
