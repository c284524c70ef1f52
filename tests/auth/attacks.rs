//! Attacks on the authentication check, through the real wire: a PROXY header
//! naming a whitelisted address, a large body to hash on the shard, many ext
//! fields to sort. Each must be refused (or answered) exactly, and cheaply.

use std::io::Write;
use std::net::TcpStream;
use std::time::Duration;

use protocol::RemotingCommand;

use crate::common::*;
use crate::support::*;

/// An admin account whitelisted for 10.9.9.8 only.
const FAR_ADMIN: (&str, &str) = ("farAdmin01", "farAdminSecret");

/// [`accounts_yaml`] with `10.10.103.*` as the global whitelist, plus [`FAR_ADMIN`].
fn yaml() -> String {
    format!(
        "{}  - accessKey: {}
    secretKey: {}
    admin: true
    whiteRemoteAddress: 10.9.9.8
",
        accounts_yaml("10.10.103.*"),
        FAR_ADMIN.0,
        FAR_ADMIN.1
    )
}

fn proxy_v1(src: &str) -> Vec<u8> {
    format!("PROXY TCP4 {src} 10.0.0.1 40000 9876\r\n").into_bytes()
}

fn proxy_v2(src: [u8; 4]) -> Vec<u8> {
    let mut out = b"\r\n\r\n\0\r\nQUIT\n".to_vec();
    out.extend_from_slice(&[0x21, 0x11, 0, 12]);
    out.extend_from_slice(&src);
    out.extend_from_slice(&[10, 0, 0, 1]);
    out.extend_from_slice(&40000u16.to_be_bytes());
    out.extend_from_slice(&9876u16.to_be_bytes());
    out
}

/// A client whose connection starts with `header`.
fn behind(srv: &TestServer, header: &[u8]) -> Client {
    let mut s = TcpStream::connect(srv.addr).expect("connect");
    s.write_all(header).expect("send header");
    Client::from_stream(s)
}

fn update_318() -> (RemotingCommand, &'static [u8]) {
    (request(318, &[]), b"productEnvName=center")
}

#[test]
fn a_proxy_header_does_not_choose_the_whitelisted_address() {
    let (srv, _) = auth_server(&yaml(), &[]);
    let (cmd, body) = update_318();
    for header in [proxy_v1("10.10.103.5"), proxy_v2([10, 10, 103, 5])] {
        let mut c = behind(&srv, &header);
        let got = answer(&c.call(cmd.clone(), Some(body)));
        assert_eq!(got, no_key(318), "a header naming a global whitelist entry");
    }
    for header in [proxy_v1("10.9.9.8"), proxy_v2([10, 9, 9, 8])] {
        let mut c = behind(&srv, &header);
        let got = answer(&c.call(keyed(cmd.clone(), FAR_ADMIN.0), Some(body)));
        assert_eq!(
            got,
            not_allowed(FAR_ADMIN.0),
            "a header naming the account's"
        );
        let got = answer(&c.call(keyed(request(217, &[("topic", "T")]), FAR.0), None));
        assert_eq!(got, not_allowed(FAR.0));
    }
    wait_denied(&srv, "no_access_key", 2.0);
    wait_denied(&srv, "address_not_allowed", 4.0);
    // The log still names the client as the header gave it.
    wait_log_line(&srv, &["request refused", "10.10.103.5:40000"]);
}

#[test]
fn a_trusted_proxys_header_is_believed() {
    let (srv, _) = auth_server(
        &yaml(),
        &[("proxyProtocolTrustedAddresses", "10.1.1.1; 127.0.0.1")],
    );
    let (cmd, body) = update_318();
    for header in [proxy_v1("10.10.103.5"), proxy_v2([10, 10, 103, 5])] {
        let mut c = behind(&srv, &header);
        assert_eq!(answer(&c.call(cmd.clone(), Some(body))), (0, String::new()));
    }
    for header in [proxy_v1("10.9.9.8"), proxy_v2([10, 9, 9, 8])] {
        let mut c = behind(&srv, &header);
        let got = answer(&c.call(keyed(cmd.clone(), FAR_ADMIN.0), Some(body)));
        assert_eq!(got, (0, String::new()));
    }
    // A header naming an address no whitelist holds gains nothing.
    let mut c = behind(&srv, &proxy_v1("10.7.7.7"));
    assert_eq!(answer(&c.call(cmd.clone(), Some(body))), no_key(318));
    // Without a header the socket's own address counts.
    let mut c = srv.client();
    assert_eq!(answer(&c.call(cmd, Some(body))), no_key(318));
}

/// 1 MiB of a body that is not a valid properties update.
fn big_body() -> Vec<u8> {
    vec![b'x'; 1 << 20]
}

#[test]
fn a_large_body_is_refused_or_answered_exactly() {
    let (srv, _) = auth_server(&accounts_yaml("10.10.103.*"), &[]);
    let body = big_body();
    let mut c = srv.client();
    // A non-admin key on an admin code is refused before any hashing.
    let cmd = signed(request(318, &[]), &body, NORMAL);
    assert_eq!(answer(&c.call(cmd, Some(&body))), not_admin(318, NORMAL.0));
    // A wrong Signature over a large body: hashed off the shard, then refused.
    let mut cmd = signed(request(9999, &[("a", "b")]), &body, NORMAL);
    cmd.push_ext("a", "changed");
    assert_eq!(answer(&c.call(cmd, Some(&body))), bad_signature(NORMAL.0));
    // A signed unknown code with a large body is answered, and a lookup on
    // another connection is answered while it is checked.
    let cmd = signed(request(9999, &[]), &body, NORMAL);
    c.send(&cmd, Some(&body));
    let mut other = srv.client();
    let lookup = other.call(request(105, &[("topic", "Nowhere")]), None);
    assert_eq!(lookup.0.code, 17, "TOPIC_NOT_EXIST");
    let r = c.read_frame().expect("reply to the large request");
    assert_eq!(r.0.code, 3, "REQUEST_CODE_NOT_SUPPORTED: {}", remark(&r));
}

#[test]
fn too_many_ext_fields_are_refused_before_hashing() {
    let (srv, _) = auth_server(&accounts_yaml("10.10.103.*"), &[]);
    let mut c = srv.client();
    let mut cmd = request(105, &[("topic", "TopicA")]);
    for i in 0..300 {
        cmd.push_ext(format!("k{i:03}"), "v");
    }
    let cmd = signed(cmd, &[], NORMAL);
    let got = answer(&c.call(cmd, None));
    assert_eq!(
        got,
        (
            16,
            "access denied: too many fields to check a Signature (303 ext fields, at most 256; AccessKey [normalKey1])"
                .to_string()
        )
    );
    wait_denied(&srv, "bad_signature", 1.0);
}

/// Waits until `rocketmq_namesrv_requests_denied_total{reason}` reads `want`.
fn wait_denied(srv: &TestServer, reason: &str, want: f64) {
    let http = srv.http.expect("http listener");
    let label = format!("reason=\"{reason}\"");
    wait_for(Duration::from_secs(5), reason, || {
        let n = metric(
            &scrape(http),
            "rocketmq_namesrv_requests_denied_total",
            &label,
        );
        (n == Some(want)).then_some(())
    });
}
