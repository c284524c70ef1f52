//! Graceful shutdown (`enableShutdownGracefully=true`): after SIGTERM, requests of
//! clients newer than V5_3_1 are answered GO_AWAY (1500) for
//! `shutdownWaitTimeSeconds`, as upstream's `NettyRemotingAbstract#processRequestCommand`
//! does while `isShuttingDown`; then the process exits 0. Without the key, SIGTERM
//! stops at once (tests/shutdown.rs).

mod common;

use std::io::Read;
use std::time::{Duration, Instant};

use common::*;

const WAIT_S: u64 = 6;

/// A JSON request header as a 5.x Java client writes it (`version` as given).
fn raw_request(code: i32, opaque: i32, version: i32, flag: i32) -> Vec<u8> {
    let header = format!(
        "{{\"code\":{code},\"extFields\":{{}},\"flag\":{flag},\"language\":\"JAVA\",\
         \"opaque\":{opaque},\"serializeTypeCurrentRPC\":\"JSON\",\"version\":{version}}}"
    );
    let mut out = Vec::new();
    out.extend_from_slice(&(4 + header.len() as u32).to_be_bytes());
    out.extend_from_slice(&(header.len() as u32).to_be_bytes());
    out.extend_from_slice(header.as_bytes());
    out
}

/// Reads one whole frame, as bytes.
fn read_raw_frame(c: &mut Client) -> Vec<u8> {
    let mut len = [0u8; 4];
    c.stream.read_exact(&mut len).expect("frame length");
    let mut rest = vec![0u8; u32::from_be_bytes(len) as usize];
    c.stream.read_exact(&mut rest).expect("frame");
    let mut all = len.to_vec();
    all.extend_from_slice(&rest);
    all
}

/// The GO_AWAY frame the Java NameServer 5.5.0 sends for a JSON request of opaque
/// `opaque` (captured with compat/scenarios/go_away_probe.py), with our reply
/// version (479, as every reply of ours; Java writes its own, 513).
fn java_go_away(opaque: i32) -> Vec<u8> {
    let header = format!(
        "{{\"code\":1500,\"flag\":1,\"language\":\"JAVA\",\"opaque\":{opaque},\
         \"remark\":\"please go away\",\"serializeTypeCurrentRPC\":\"JSON\",\"version\":479}}"
    );
    let mut out = Vec::new();
    out.extend_from_slice(&(4 + header.len() as u32).to_be_bytes());
    out.extend_from_slice(&(header.len() as u32).to_be_bytes());
    out.extend_from_slice(header.as_bytes());
    out
}

/// The code of a raw reply frame (JSON header).
fn code_of(frame: &[u8]) -> i64 {
    let header_len =
        (u32::from_be_bytes([frame[4], frame[5], frame[6], frame[7]]) & 0xFF_FFFF) as usize;
    let header: serde_json::Value =
        serde_json::from_slice(&frame[8..8 + header_len]).expect("JSON header");
    header["code"].as_i64().expect("code")
}

#[test]
fn requests_in_the_window_get_go_away_then_exit_zero() {
    let mut server = TestServer::start(&[
        ("enableShutdownGracefully", "true"),
        ("shutdownWaitTimeSeconds", &WAIT_S.to_string()),
    ]);
    let h = server.http.expect("http listener");
    wait_for(Duration::from_secs(5), "readyz 200", || {
        (http(h, "GET", "/readyz", &[]).status == 200).then_some(())
    });
    // Open before the signal.
    let mut c = server.client();
    c.send_raw(&raw_request(106, 1, 479, 0)).unwrap();
    assert_eq!(code_of(&read_raw_frame(&mut c)), 0);

    server.signal(libc::SIGTERM);
    let signalled = Instant::now();
    // Everything below up to the exit must happen inside the window: each wait
    // is a fraction of it, with room for a loaded machine.
    let r = wait_for(Duration::from_secs(WAIT_S / 3), "readyz 503", || {
        let r = http(h, "GET", "/readyz", &[]);
        (r.status != 200).then_some(r)
    });
    assert_eq!((r.status, r.body.as_str()), (503, "not ready\n"));

    // (kill(2) returns before the server has seen the signal: normal answers
    // until it has.)
    await_go_away(&mut c, signalled);
    // A oneway gets nothing; a client of V5_3_1 or older is served as usual.
    c.send_raw(&raw_request(106, 200, 479, 2)).unwrap();
    c.send_raw(&raw_request(106, 201, 475, 0)).unwrap();
    let (cmd, _) = c.read_frame().expect("reply to the old client");
    assert_eq!((cmd.opaque, cmd.code), (201, 0));
    // Connections are still accepted in the window, and told the same.
    let mut late = server.client();
    late.send_raw(&raw_request(105, 7, 513, 0)).unwrap();
    assert_eq!(read_raw_frame(&mut late), java_go_away(7));

    // Counted as answered with 1500; the oneway as a oneway.
    let m = scrape(h);
    assert_eq!(
        metric(
            &m,
            "rocketmq_namesrv_requests_total",
            "code=\"106\",response_code=\"1500\""
        ),
        Some(1.0),
        "{m}"
    );
    assert_eq!(
        metric(
            &m,
            "rocketmq_namesrv_requests_total",
            "code=\"105\",response_code=\"1500\""
        ),
        Some(1.0),
        "{m}"
    );
    assert_eq!(
        metric(
            &m,
            "rocketmq_namesrv_requests_total",
            "code=\"106\",response_code=\"none\""
        ),
        Some(1.0),
        "{m}"
    );

    await_exit_after_window(&mut server, signalled);
    c.expect_closed(Duration::from_secs(2));
}

#[test]
fn without_the_key_sigterm_stops_at_once() {
    let mut server = TestServer::start(&[("shutdownWaitTimeSeconds", "30")]);
    let mut c = server.client();
    c.send_raw(&raw_request(106, 1, 479, 0)).unwrap();
    assert_eq!(code_of(&read_raw_frame(&mut c)), 0);
    server.signal(libc::SIGTERM);
    let status = server
        .wait_exit(Duration::from_secs(5))
        .unwrap_or_else(|| panic!("no prompt exit; stderr:\n{}", server.stderr()));
    assert!(status.success(), "exit status {status}");
    // No GO_AWAY: the connection is simply closed.
    c.expect_closed(Duration::from_secs(2));
}

#[test]
fn a_318_switching_the_drain_on_is_read_at_the_signal() {
    let mut server = TestServer::start(&[]);
    let mut c = server.client();
    // The stop poller reads the live setting when the signal comes.
    update_ok(
        &mut c,
        &format!("enableShutdownGracefully=true\nshutdownWaitTimeSeconds={WAIT_S}\n"),
    );
    server.signal(libc::SIGTERM);
    let signalled = Instant::now();
    await_go_away(&mut c, signalled);
    await_exit_after_window(&mut server, signalled);
}

/// Asks until the answer is GO_AWAY (exactly Java's frame), which must come within
/// half the window of `signalled`; answers before it are normal ones (kill(2)
/// returns before the server has seen the signal).
fn await_go_away(c: &mut Client, signalled: Instant) {
    let mut normal = 0;
    let mut opaque = 100;
    loop {
        opaque += 1;
        c.send_raw(&raw_request(106, opaque, 479, 0)).unwrap();
        let reply = read_raw_frame(c);
        if code_of(&reply) == 1500 {
            assert_eq!(reply, java_go_away(opaque));
            return;
        }
        assert_eq!(code_of(&reply), 0);
        normal += 1;
        assert!(
            signalled.elapsed() < Duration::from_secs(WAIT_S / 2),
            "no GO_AWAY within {} s of SIGTERM ({normal} normal replies)",
            WAIT_S / 2
        );
        std::thread::sleep(Duration::from_millis(50));
    }
}

/// The process exits 0, and not before the `WAIT_S` window since `signalled` is over.
fn await_exit_after_window(server: &mut TestServer, signalled: Instant) {
    let status = server
        .wait_exit(Duration::from_secs(WAIT_S * 2 + 10))
        .unwrap_or_else(|| panic!("no exit after the window; stderr:\n{}", server.stderr()));
    let took = signalled.elapsed();
    assert!(status.success(), "exit status {status}");
    assert!(
        took >= Duration::from_millis(WAIT_S * 1000 - 100),
        "exited after {took:?}, before the {WAIT_S} s window was over"
    );
}
