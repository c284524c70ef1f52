//! NOTIFY_MIN_BROKER_ID_CHANGE (905) with `notifyMinBrokerIdChanged=true`, as
//! upstream's `RouteInfoManager#notifyMinBrokerIdChanged` sends it: a oneway request
//! over a new connection to each broker's address (the test listens there, as a
//! broker's admin port would).

mod common;

use std::io::Read;
use std::net::{TcpListener, TcpStream};
use std::time::{Duration, Instant};

use common::*;

/// A fake broker's admin port.
struct Port {
    listener: TcpListener,
    addr: String,
}

fn port() -> Port {
    let listener = TcpListener::bind("127.0.0.1:0").expect("bind");
    listener.set_nonblocking(true).expect("nonblocking");
    let addr = listener.local_addr().expect("addr").to_string();
    Port { listener, addr }
}

impl Port {
    /// The next connection made to this port within `within`, if any.
    fn accept(&self, within: Duration) -> Option<TcpStream> {
        let deadline = Instant::now() + within;
        loop {
            match self.listener.accept() {
                Ok((s, _)) => {
                    s.set_nonblocking(false).expect("blocking");
                    s.set_read_timeout(Some(Duration::from_secs(5)))
                        .expect("timeout");
                    return Some(s);
                }
                Err(e) if e.kind() == std::io::ErrorKind::WouldBlock => {
                    if Instant::now() >= deadline {
                        return None;
                    }
                    std::thread::sleep(Duration::from_millis(20));
                }
                Err(e) => panic!("accept: {e}"),
            }
        }
    }

    /// The one frame the name server sends on its connection, as bytes; the
    /// connection then carries nothing more (a oneway).
    fn expect_frame(&self) -> Vec<u8> {
        let mut s = self
            .accept(Duration::from_secs(5))
            .unwrap_or_else(|| panic!("no 905 connection to {}", self.addr));
        let mut all = Vec::new();
        s.read_to_end(&mut all).expect("read the notice");
        all
    }
}

/// The 905 frame upstream writes (JSON header, `extFields` in its HashMap order,
/// null fields left out), with our version (479) and the `opaque` given.
fn expected(opaque: i32, fields: &[(&str, &str)]) -> Vec<u8> {
    let ext: Vec<String> = fields
        .iter()
        .map(|(k, v)| format!("\"{k}\":\"{v}\""))
        .collect();
    let header = format!(
        "{{\"code\":905,\"extFields\":{{{}}},\"flag\":2,\"language\":\"JAVA\",\"opaque\":{opaque},\
         \"serializeTypeCurrentRPC\":\"JSON\",\"version\":479}}",
        ext.join(",")
    );
    let mut out = Vec::new();
    out.extend_from_slice(&(4 + header.len() as u32).to_be_bytes());
    out.extend_from_slice(&(header.len() as u32).to_be_bytes());
    out.extend_from_slice(header.as_bytes());
    out
}

fn broker(addr: &str, id: i64, acting: bool) -> BrokerReg {
    let mut b = BrokerReg::new(
        "C",
        "g",
        addr,
        id,
        vec![topic("T", 6, 4), topic("T2", 6, 4)],
    );
    b.enable_acting_master = Some(acting);
    b
}

#[test]
fn master_leaving_tells_the_slave_and_its_return_too() {
    let server = TestServer::start(&[("notifyMinBrokerIdChanged", "true")]);
    let (master_port, slave_port) = (port(), port());
    let mut master = server.client();
    master.register_ok(&broker(&master_port.addr, 0, true));
    let mut slave = server.client();
    slave.register_ok(&broker(&slave_port.addr, 1, true));
    // A slave registering above the lowest id changes nothing.
    assert!(master_port.accept(Duration::from_millis(500)).is_none());

    // The master's connection closes: the slave is told, the master is not.
    drop(master);
    assert_eq!(
        slave_port.expect_frame(),
        expected(
            1,
            &[
                ("offlineBrokerAddr", &master_port.addr),
                ("minBrokerAddr", &slave_port.addr),
                ("minBrokerId", "1"),
            ]
        )
    );
    assert!(master_port.accept(Duration::from_millis(300)).is_none());

    // The master registers again, below the lowest id: all but it are told, with
    // its HA address.
    let mut master = server.client();
    master.register_ok(&broker(&master_port.addr, 0, true));
    let ha = format!("{}-ha", master_port.addr);
    assert_eq!(
        slave_port.expect_frame(),
        expected(
            2,
            &[
                ("haBrokerAddr", &ha),
                ("minBrokerAddr", &master_port.addr),
                ("minBrokerId", "0"),
            ]
        )
    );
    assert!(master_port.accept(Duration::from_millis(300)).is_none());

    // UNREGISTER_BROKER of the master: the same as its connection closing.
    let (cmd, _) = master.call(broker(&master_port.addr, 0, true).unregister(), None);
    assert_eq!(cmd.code, 0);
    assert_eq!(
        slave_port.expect_frame(),
        expected(
            3,
            &[
                ("offlineBrokerAddr", &master_port.addr),
                ("minBrokerAddr", &slave_port.addr),
                ("minBrokerId", "1"),
            ]
        )
    );
}

#[test]
fn a_departure_without_acting_master_or_a_slave_leaving_tells_nobody() {
    let server = TestServer::start(&[("notifyMinBrokerIdChanged", "true")]);
    let (master_port, slave_port, other_port) = (port(), port(), port());
    // Upstream notifies departures only in groups with enableActingMaster.
    let mut master = server.client();
    master.register_ok(&broker(&master_port.addr, 0, false));
    let mut slave = server.client();
    slave.register_ok(&broker(&slave_port.addr, 1, false));
    drop(master);
    assert!(slave_port.accept(Duration::from_millis(800)).is_none());

    // The slave (not the lowest id) of an acting-master group leaving: nothing.
    let mut m2 = server.client();
    m2.register_ok(&BrokerReg {
        enable_acting_master: Some(true),
        ..BrokerReg::new(
            "C",
            "h",
            &other_port.addr,
            0,
            vec![topic("U", 6, 4), topic("U2", 6, 4)],
        )
    });
    let mut s2 = server.client();
    s2.register_ok(&BrokerReg {
        enable_acting_master: Some(true),
        ..BrokerReg::new(
            "C",
            "h",
            "127.0.0.1:1",
            1,
            vec![topic("U", 6, 4), topic("U2", 6, 4)],
        )
    });
    drop(s2);
    assert!(other_port.accept(Duration::from_millis(800)).is_none());
}

#[test]
fn with_the_key_off_nothing_is_sent() {
    let server = TestServer::start(&[]);
    let (master_port, slave_port) = (port(), port());
    let mut master = server.client();
    master.register_ok(&broker(&master_port.addr, 0, true));
    let mut slave = server.client();
    slave.register_ok(&broker(&slave_port.addr, 1, true));
    drop(master);
    assert!(slave_port.accept(Duration::from_millis(1500)).is_none());
    let mut master = server.client();
    master.register_ok(&broker(&master_port.addr, 0, true));
    assert!(slave_port.accept(Duration::from_millis(800)).is_none());
}

#[test]
fn a_318_switching_the_key_on_takes_effect_at_once() {
    let server = TestServer::start(&[]);
    let (master_port, slave_port) = (port(), port());
    let mut master = server.client();
    master.register_ok(&broker(&master_port.addr, 0, true));
    let mut slave = server.client();
    slave.register_ok(&broker(&slave_port.addr, 1, true));
    // The writer reads the live setting when a master leaves.
    update_ok(&mut server.client(), "notifyMinBrokerIdChanged=true");
    drop(master);
    assert_eq!(
        slave_port.expect_frame(),
        expected(
            1,
            &[
                ("offlineBrokerAddr", &master_port.addr),
                ("minBrokerAddr", &slave_port.addr),
                ("minBrokerId", "1"),
            ]
        )
    );
    // And off again: the master's return tells nobody.
    update_ok(&mut server.client(), "notifyMinBrokerIdChanged=false");
    let mut master = server.client();
    master.register_ok(&broker(&master_port.addr, 0, true));
    assert!(slave_port.accept(Duration::from_millis(800)).is_none());
}
