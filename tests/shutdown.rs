//! Process life cycle: SIGTERM/SIGINT stop the server promptly with exit 0, even
//! with idle clients connected; idle connections are closed after
//! `serverChannelMaxIdleTimeSeconds`, which unregisters their brokers.

mod common;

use std::time::{Duration, Instant};

use common::*;
use protocol::codes::request as rq;

fn stops_on(sig: i32) {
    let mut server = TestServer::start(&[]);
    // Idle clients, one mid-frame, one with a registered broker.
    let mut idle: Vec<Client> = (0..6).map(|_| server.client()).collect();
    idle[0].register_ok(&BrokerReg::new(
        "C",
        "a",
        "10.0.0.1:10911",
        0,
        vec![topic("T", 6, 4), topic("U", 6, 4)],
    ));
    assert_eq!(
        idle[1].ask(rq::GET_BROKER_CLUSTER_INFO, &[], None).0.code,
        0
    );
    idle[2].send_raw(&[0, 0, 0, 100, 0, 0]).unwrap();

    let started = Instant::now();
    server.signal(sig);
    let status = server.wait_exit(Duration::from_secs(5)).unwrap_or_else(|| {
        panic!(
            "no exit within 5 s of signal {sig}; stderr:\n{}",
            server.stderr()
        )
    });
    assert!(status.success(), "exit status {status} on signal {sig}");
    eprintln!("signal {sig}: exited after {:?}", started.elapsed());
    // Its clients see their connections closed.
    for c in &mut idle {
        c.expect_closed(Duration::from_secs(2));
    }
}

#[test]
fn sigterm_exits_zero_with_idle_connections() {
    stops_on(libc::SIGTERM);
}

#[test]
fn sigint_exits_zero() {
    stops_on(libc::SIGINT);
}

#[test]
fn idle_connections_are_closed_and_their_brokers_unregistered() {
    let server = TestServer::start(&[("serverChannelMaxIdleTimeSeconds", "1")]);
    let mut broker = server.client();
    broker.register_ok(&BrokerReg::new(
        "C",
        "a",
        "10.0.0.1:10911",
        0,
        vec![topic("T", 6, 4), topic("U", 6, 4)],
    ));
    let mut idle = server.client();
    assert!(idle.route("T").is_some());
    let since = Instant::now();

    // A connection that keeps talking stays open past the idle timeout.
    let mut busy = server.client();
    while since.elapsed() < Duration::from_millis(1600) {
        assert_eq!(busy.ask(rq::GET_BROKER_CLUSTER_INFO, &[], None).0.code, 0);
        std::thread::sleep(Duration::from_millis(200));
    }

    idle.expect_closed(Duration::from_secs(3));
    broker.expect_closed(Duration::from_secs(3));
    let closed_after = since.elapsed();
    assert!(
        closed_after >= Duration::from_millis(900),
        "{closed_after:?}"
    );
    // The idle broker connection's close unregistered it.
    wait_for(Duration::from_secs(3), "idle broker unregistered", || {
        busy.route("T").is_none().then_some(())
    });
}
