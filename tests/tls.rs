//! TLS on the name server's port (upstream's `TlsModeHandler`): permissive serves
//! TLS and plaintext alike, enforcing closes plaintext, disabled reads a
//! ClientHello as a bad frame; client certificates; certificate reload; the
//! `tls.config.file`; the handshake deadline. Through the real wire protocol with
//! a rustls client.

mod common;
// Encrypted private keys (`tls.server.keyPassword`), sharing this file's helpers.
#[path = "tls/encrypted_key.rs"]
mod encrypted_key;

use std::io::{self, Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::path::Path;
use std::sync::Arc;
use std::time::{Duration, Instant};

use common::*;
use protocol::codes::request as rq;
use protocol::frame;
use protocol::SerializeType;
use rcgen::{BasicConstraints, CertificateParams, DnType, IsCa, Issuer, KeyPair};
use rustls::client::danger::{HandshakeSignatureValid, ServerCertVerified, ServerCertVerifier};
use rustls::pki_types::{CertificateDer, PrivateKeyDer, ServerName, UnixTime};
use rustls::{ClientConfig, ClientConnection, DigitallySignedStruct, RootCertStore, StreamOwned};

/// A certificate authority made for one test.
struct Ca {
    pem: String,
    issuer: Issuer<'static, KeyPair>,
}

/// A certificate and its key, as PEM and DER.
struct Leaf {
    cert_pem: String,
    key_pem: String,
    der: CertificateDer<'static>,
}

impl Ca {
    fn new(name: &str) -> Ca {
        let key = KeyPair::generate().expect("CA key");
        let mut params = CertificateParams::new(Vec::<String>::new()).expect("CA params");
        params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
        params.distinguished_name.push(DnType::CommonName, name);
        let cert = params.self_signed(&key).expect("CA cert");
        Ca {
            pem: cert.pem(),
            issuer: Issuer::new(params, key),
        }
    }

    fn issue(&self, subject: &str) -> Leaf {
        let key = KeyPair::generate().expect("leaf key");
        let mut params = CertificateParams::new(vec!["localhost".to_string()]).expect("params");
        params.distinguished_name.push(DnType::CommonName, subject);
        let cert = params.signed_by(&key, &self.issuer).expect("leaf cert");
        Leaf {
            cert_pem: cert.pem(),
            key_pem: key.serialize_pem(),
            der: cert.der().clone(),
        }
    }

    fn roots(&self) -> RootCertStore {
        let mut roots = RootCertStore::empty();
        for c in rustls::pki_types::pem::PemObject::pem_slice_iter(self.pem.as_bytes()) {
            roots.add(c.expect("CA pem")).expect("add root");
        }
        roots
    }
}

fn provider() -> Arc<rustls::crypto::CryptoProvider> {
    Arc::new(rustls::crypto::ring::default_provider())
}

/// Test mode's self-signed certificate is trusted by no one: accept any.
#[derive(Debug)]
struct AnyServerCert;

impl ServerCertVerifier for AnyServerCert {
    fn verify_server_cert(
        &self,
        _: &CertificateDer<'_>,
        _: &[CertificateDer<'_>],
        _: &ServerName<'_>,
        _: &[u8],
        _: UnixTime,
    ) -> Result<ServerCertVerified, rustls::Error> {
        Ok(ServerCertVerified::assertion())
    }
    fn verify_tls12_signature(
        &self,
        m: &[u8],
        c: &CertificateDer<'_>,
        d: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls12_signature(
            m,
            c,
            d,
            &provider().signature_verification_algorithms,
        )
    }
    fn verify_tls13_signature(
        &self,
        m: &[u8],
        c: &CertificateDer<'_>,
        d: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls13_signature(
            m,
            c,
            d,
            &provider().signature_verification_algorithms,
        )
    }
    fn supported_verify_schemes(&self) -> Vec<rustls::SignatureScheme> {
        provider()
            .signature_verification_algorithms
            .supported_schemes()
    }
}

fn client_builder() -> rustls::ConfigBuilder<ClientConfig, rustls::WantsVerifier> {
    ClientConfig::builder_with_provider(provider())
        .with_safe_default_protocol_versions()
        .expect("protocol versions")
}

/// Trusts any server; no client certificate.
fn insecure_client() -> Arc<ClientConfig> {
    Arc::new(
        client_builder()
            .dangerous()
            .with_custom_certificate_verifier(Arc::new(AnyServerCert))
            .with_no_client_auth(),
    )
}

/// Trusts `ca`; presents `cert` if given.
fn client_trusting(ca: &Ca, cert: Option<&Leaf>) -> Arc<ClientConfig> {
    let b = client_builder().with_root_certificates(ca.roots());
    Arc::new(match cert {
        None => b.with_no_client_auth(),
        Some(leaf) => {
            let key = rustls::pki_types::pem::PemObject::from_pem_slice(leaf.key_pem.as_bytes())
                .map(|k: PrivateKeyDer<'static>| k)
                .expect("client key");
            b.with_client_auth_cert(vec![leaf.der.clone()], key)
                .expect("client cert")
        }
    })
}

type Tls = StreamOwned<ClientConnection, TcpStream>;

/// A TLS connection whose handshake is complete (or its error).
fn tls_connect(addr: SocketAddr, config: Arc<ClientConfig>) -> io::Result<Tls> {
    let tcp = TcpStream::connect_timeout(&addr, Duration::from_secs(5))?;
    tcp.set_read_timeout(Some(READ_TIMEOUT))?;
    let name = ServerName::try_from("localhost").expect("name");
    let conn = ClientConnection::new(config, name).map_err(io::Error::other)?;
    let mut tls = StreamOwned::new(conn, tcp);
    while tls.conn.is_handshaking() {
        tls.conn.complete_io(&mut tls.sock)?;
    }
    Ok(tls)
}

/// Sends a route request with a fixed opaque and returns the reply frame's bytes.
fn route_bytes(stream: &mut (impl Read + Write), topic: &str) -> io::Result<Vec<u8>> {
    let mut cmd = request(rq::GET_ROUTEINFO_BY_TOPIC, &[("topic", topic)]);
    cmd.opaque = 7;
    stream.write_all(&frame::encode_to_vec(&cmd, SerializeType::Json, None))?;
    stream.flush()?;
    read_frame_bytes(stream)
}

fn read_frame_bytes(stream: &mut impl Read) -> io::Result<Vec<u8>> {
    let mut len = [0u8; 4];
    stream.read_exact(&mut len)?;
    let mut rest = vec![0u8; u32::from_be_bytes(len) as usize];
    stream.read_exact(&mut rest)?;
    let mut all = len.to_vec();
    all.extend(rest);
    Ok(all)
}

/// The connection ends (EOF, reset or a TLS alert) without a reply.
fn assert_no_reply(result: io::Result<Vec<u8>>) {
    if let Ok(bytes) = result {
        panic!("expected no reply, got {} bytes", bytes.len());
    }
}

/// Registers a broker with topics T1 and T2; it stays registered while the
/// returned connection is open.
#[must_use]
fn register_topic(server: &TestServer) -> Client {
    let mut c = server.client();
    c.register_ok(&BrokerReg::new(
        "C",
        "b",
        "10.1.0.1:10911",
        0,
        vec![topic("T1", 6, 4), topic("T2", 6, 4)],
    ));
    c
}

/// Writes `leaf` as the server's certificate and key in `dir`.
fn write_leaf(dir: &Path, leaf: &Leaf) {
    // Key first: a reload between the two writes sees a mismatched pair and
    // keeps the configuration in force.
    std::fs::write(dir.join("server.key"), &leaf.key_pem).expect("key");
    std::fs::write(dir.join("server.pem"), &leaf.cert_pem).expect("cert");
}

/// Server settings for certificate files in `dir` (no tls.config.file).
fn file_settings(dir: &Path) -> Vec<(String, String)> {
    let p = |f: &str| dir.join(f).display().to_string();
    vec![
        ("tls.test.mode.enable".into(), "false".into()),
        ("tls.server.certPath".into(), p("server.pem")),
        ("tls.server.keyPath".into(), p("server.key")),
        ("tls.config.file".into(), p("no-such-tls.properties")),
    ]
}

fn start(settings: &[(String, String)]) -> TestServer {
    let pairs: Vec<(&str, &str)> = settings
        .iter()
        .map(|(k, v)| (k.as_str(), v.as_str()))
        .collect();
    TestServer::start(&pairs)
}

fn no_tls_file(dir: &Path) -> (String, String) {
    (
        "tls.config.file".into(),
        dir.join("no-such-tls.properties").display().to_string(),
    )
}

#[test]
fn permissive_serves_tls_and_plaintext_with_identical_replies() {
    let dir = tempfile::tempdir().expect("tempdir");
    // The defaults: permissive, test mode (a self-signed certificate).
    let server = start(&[no_tls_file(dir.path())]);
    let _broker = register_topic(&server);

    let mut plain = TcpStream::connect(server.addr).expect("connect");
    plain.set_read_timeout(Some(READ_TIMEOUT)).expect("timeout");
    let over_plain = route_bytes(&mut plain, "T1").expect("plaintext reply");
    let mut tls = tls_connect(server.addr, insecure_client()).expect("handshake");
    let over_tls = route_bytes(&mut tls, "T1").expect("TLS reply");
    assert_eq!(over_tls, over_plain);
    let text = String::from_utf8_lossy(&over_tls).into_owned();
    assert!(text.contains("10.1.0.1:10911"), "{text}");
    // Several requests on one session.
    assert_eq!(route_bytes(&mut tls, "T1").expect("second"), over_plain);
    assert_eq!(
        tls.conn
            .peer_certificates()
            .map(|c| c.len())
            .unwrap_or_default(),
        1
    );
}

#[test]
fn enforcing_closes_plaintext_and_serves_tls() {
    let dir = tempfile::tempdir().expect("tempdir");
    let server = start(&[
        no_tls_file(dir.path()),
        ("tls.server.mode".into(), "enforcing".into()),
    ]);
    let mut plain = server.client();
    plain.send(
        &request(rq::GET_ROUTEINFO_BY_TOPIC, &[("topic", "T1")]),
        None,
    );
    plain.expect_closed(Duration::from_secs(5));
    wait_log_line(&server, &["plaintext connection refused", "enforcing"]);
    let mut tls = tls_connect(server.addr, insecure_client()).expect("handshake");
    let reply = route_bytes(&mut tls, "T1").expect("TLS reply");
    assert!(String::from_utf8_lossy(&reply).contains("\"code\":17"));
}

#[test]
fn disabled_reads_a_client_hello_as_a_bad_frame() {
    let dir = tempfile::tempdir().expect("tempdir");
    let server = start(&[
        no_tls_file(dir.path()),
        ("tls.server.mode".into(), "disabled".into()),
    ]);
    let err = tls_connect(server.addr, insecure_client()).map(|_| ());
    assert!(err.is_err(), "a TLS handshake with TLS disabled");
    wait_log_line(&server, &["bad frame; connection closed"]);
    let m = scrape(server.http.expect("http listener"));
    // A ClientHello's first bytes read as a frame length far over maxFrameLength.
    assert_eq!(
        metric(
            &m,
            "rocketmq_namesrv_frames_rejected_total",
            "reason=\"too_long\""
        ),
        Some(1.0)
    );
    assert_eq!(
        metric(
            &m,
            "rocketmq_namesrv_tls_handshakes_total",
            "result=\"failed\""
        ),
        Some(0.0)
    );
    // Plaintext as ever.
    let _broker = register_topic(&server);
    assert!(server.client().route("T1").is_some());
}

/// A server whose certificate `ca` signed, asking clients for one as `mode` says and
/// checking it against `ca` (`authClient=true`).
fn start_with_client_auth(dir: &Path, ca: &Ca, mode: &str) -> TestServer {
    write_leaf(dir, &ca.issue("server"));
    std::fs::write(dir.join("ca.pem"), &ca.pem).expect("ca");
    let mut settings = file_settings(dir);
    settings.extend([
        ("tls.server.need.client.auth".into(), mode.into()),
        ("tls.server.authClient".into(), "true".into()),
        (
            "tls.server.trustCertPath".into(),
            dir.join("ca.pem").display().to_string(),
        ),
    ]);
    start(&settings)
}

#[test]
fn require_refuses_clients_without_a_trusted_certificate() {
    let dir = tempfile::tempdir().expect("tempdir");
    let ca = Ca::new("test CA");
    let server = start_with_client_auth(dir.path(), &ca, "require");

    // No certificate: TLS 1.3 reports the refusal at the first read.
    let refused = tls_connect(server.addr, client_trusting(&ca, None))
        .and_then(|mut t| route_bytes(&mut t, "T1"));
    assert_no_reply(refused);
    // A certificate from another CA.
    let stranger = Ca::new("other CA").issue("stranger");
    let refused = tls_connect(server.addr, client_trusting(&ca, Some(&stranger)))
        .and_then(|mut t| route_bytes(&mut t, "T1"));
    assert_no_reply(refused);
    // One the trusted CA signed.
    let good = ca.issue("client");
    let mut tls = tls_connect(server.addr, client_trusting(&ca, Some(&good))).expect("handshake");
    let reply = route_bytes(&mut tls, "T1").expect("reply");
    assert!(String::from_utf8_lossy(&reply).contains("\"code\":17"));
    wait_log_line(&server, &["TLS handshake failed"]);
    let http = server.http.expect("http listener");
    wait_for(Duration::from_secs(5), "handshake counts", || {
        let m = scrape(http);
        let n = |name: &str, labels: &str| metric(&m, name, labels);
        (n("rocketmq_namesrv_tls_handshakes_total", "result=\"ok\"") == Some(1.0)
            && n("rocketmq_namesrv_tls_handshakes_total", "result=\"failed\"") == Some(2.0)
            && n(
                "rocketmq_namesrv_tls_handshakes_total",
                "result=\"timeout\"",
            ) == Some(0.0)
            && n(
                "rocketmq_namesrv_connections_closed_total",
                "reason=\"bad_frame\"",
            ) == Some(2.0))
        .then_some(())
    });
}

#[test]
fn optional_accepts_clients_with_and_without_a_certificate() {
    let dir = tempfile::tempdir().expect("tempdir");
    let ca = Ca::new("test CA");
    let server = start_with_client_auth(dir.path(), &ca, "optional");
    for cert in [None, Some(ca.issue("client"))] {
        let mut tls =
            tls_connect(server.addr, client_trusting(&ca, cert.as_ref())).expect("handshake");
        route_bytes(&mut tls, "T1").expect("reply");
    }
}

#[test]
fn replaced_certificate_files_serve_new_connections() {
    let dir = tempfile::tempdir().expect("tempdir");
    let ca = Ca::new("test CA");
    let first = ca.issue("first");
    write_leaf(dir.path(), &first);
    let server = start(&file_settings(dir.path()));
    let served = || {
        let tls = tls_connect(server.addr, client_trusting(&ca, None)).expect("handshake");
        tls.conn.peer_certificates().expect("server cert")[0].clone()
    };
    assert_eq!(served(), first.der);
    let mut open = tls_connect(server.addr, client_trusting(&ca, None)).expect("handshake");

    let second = ca.issue("second");
    write_leaf(dir.path(), &second);
    wait_for(Duration::from_secs(10), "the new certificate", || {
        (served() == second.der).then_some(())
    });
    wait_log_line(&server, &["TLS files changed; new connections use"]);
    // A session opened before goes on.
    route_bytes(&mut open, "T1").expect("old session");

    // A broken file keeps the certificate in force.
    std::fs::write(dir.path().join("server.pem"), "not a certificate").expect("break");
    wait_log_line(
        &server,
        &["do not build; keeping the configuration in force"],
    );
    assert_eq!(served(), second.der);
}

#[test]
fn the_tls_config_file_is_read_and_the_c_file_wins() {
    let dir = tempfile::tempdir().expect("tempdir");
    let ca = Ca::new("test CA");
    let leaf = ca.issue("server");
    write_leaf(dir.path(), &leaf);
    let file = dir.path().join("tls.properties");
    let p = |f: &str| dir.path().join(f).display().to_string();
    std::fs::write(
        &file,
        format!(
            "tls.server.mode=enforcing\ntls.test.mode.enable=false\n\
             tls.server.certPath={}\ntls.server.keyPath={}\ntls.server.keyPassword=s3cret\n",
            p("server.pem"),
            p("server.key")
        ),
    )
    .expect("tls file");
    let server = start(&[
        ("tls.config.file".into(), file.display().to_string()),
        // Over the file's mode.
        ("tls.server.mode".into(), "enforcing".into()),
        ("tls.server.keyPassword".into(), "hunter2".into()),
    ]);
    let tls = tls_connect(server.addr, client_trusting(&ca, None)).expect("handshake");
    assert_eq!(tls.conn.peer_certificates().expect("cert")[0], leaf.der);
    let mut plain = server.client();
    plain.send(
        &request(rq::GET_ROUTEINFO_BY_TOPIC, &[("topic", "T1")]),
        None,
    );
    plain.expect_closed(Duration::from_secs(5));
    // The password is printed nowhere: not in 319, not in the log.
    let mut tls = tls;
    let mut cmd = request(rq::GET_NAMESRV_CONFIG, &[]);
    cmd.opaque = 3;
    tls.write_all(&frame::encode_to_vec(&cmd, SerializeType::Json, None))
        .expect("send 319");
    let reply = read_frame_bytes(&mut tls).expect("319 reply");
    let text = String::from_utf8_lossy(&reply);
    assert!(text.contains("tls.server.mode=enforcing"), "{text}");
    assert!(
        !text.contains("hunter2") && !text.contains("keyPassword"),
        "{text}"
    );
    let log = server.stderr();
    assert!(!log.contains("hunter2") && !log.contains("s3cret"));
}

#[test]
fn a_stalled_handshake_is_closed_at_its_deadline() {
    let dir = tempfile::tempdir().expect("tempdir");
    let server = start(&[no_tls_file(dir.path())]);
    // The start of a TLS record, then nothing.
    let mut stalled = server.client();
    stalled.send_raw(&[0x16, 0x03, 0x01]).expect("send");
    let started = Instant::now();
    // Other connections are served meanwhile.
    let _broker = register_topic(&server);
    stalled.expect_closed(Duration::from_secs(15));
    let took = started.elapsed();
    assert!(took >= Duration::from_secs(9), "closed after {took:?}");
    wait_log_line(&server, &["TLS handshake not done within 10s"]);
    let m = scrape(server.http.expect("http listener"));
    let n = |name: &str, labels: &str| metric(&m, name, labels);
    assert_eq!(
        n(
            "rocketmq_namesrv_tls_handshakes_total",
            "result=\"timeout\""
        ),
        Some(1.0)
    );
    assert_eq!(
        n(
            "rocketmq_namesrv_frames_rejected_total",
            "reason=\"timeout\""
        ),
        Some(1.0)
    );
    assert_eq!(
        n(
            "rocketmq_namesrv_connections_closed_total",
            "reason=\"bad_frame\""
        ),
        Some(1.0)
    );
}

#[test]
fn tls_settings_that_cannot_serve_stop_the_start() {
    let dir = tempfile::tempdir().expect("tempdir");
    let conf = dir.path().join("namesrv.properties");
    let kv = dir.path().join("kv.json");
    let no_file = dir.path().join("no-such-tls.properties");
    let no_file = no_file.display().to_string();
    let cases: [(&[(&str, &str)], &str); 3] = [
        (
            &[("tls.test.mode.enable", "false")],
            "TLS: tls.server.certPath is not set",
        ),
        (
            &[("tls.server.mode", "strict")],
            "TLS: tls.server.mode=strict: expected one of disabled, permissive, enforcing",
        ),
        (
            &[
                ("tls.test.mode.enable", "false"),
                ("tls.server.certPath", "/nonexistent/server.pem"),
                ("tls.server.keyPath", "/nonexistent/server.key"),
            ],
            "TLS: cannot read /nonexistent/server.pem",
        ),
    ];
    for (settings, message) in cases {
        let mut all = settings.to_vec();
        all.push(("tls.config.file", &no_file));
        write_props(&conf, &kv, &all);
        let (status, _, stderr) = run_to_exit(&["-c", conf.to_str().expect("utf8")]);
        assert_eq!(status.code(), Some(1), "{stderr}");
        assert!(stderr.contains(message), "{message} not in {stderr}");
    }
}

#[test]
fn a_reply_larger_than_the_socket_takes_arrives_whole_over_tls() {
    let dir = tempfile::tempdir().expect("tempdir");
    // A small send buffer: the reply's TLS records outgrow what the socket takes.
    let server = start(&[
        no_tls_file(dir.path()),
        ("serverSocketSndBufSize".into(), "4096".into()),
    ]);
    let names: Vec<_> = (0..10_000)
        .map(|i| topic(&format!("LargeReplyTopic-{i:05}"), 6, 1))
        .collect();
    let mut broker = server.client();
    broker.register_ok(&BrokerReg::new("C", "big", "10.1.0.9:10911", 0, names));

    let mut tls = tls_connect(server.addr, insecure_client()).expect("handshake");
    let mut cmd = request(rq::GET_ALL_TOPIC_LIST_FROM_NAMESERVER, &[]);
    cmd.opaque = 5;
    let ask = frame::encode_to_vec(&cmd, SerializeType::Json, None);
    // The same request in plaintext (permissive mode): the reference reply.
    let mut plain = std::net::TcpStream::connect(server.addr).expect("plaintext connect");
    plain
        .set_read_timeout(Some(Duration::from_secs(30)))
        .expect("timeout");
    plain.write_all(&ask).expect("send plaintext 206");
    let expected = read_frame_bytes(&mut plain).expect("plaintext 206 reply");
    tls.write_all(&ask).expect("send 206");
    // Let the server fill the socket before anything is read.
    std::thread::sleep(Duration::from_millis(500));
    let reply = read_frame_bytes(&mut tls).expect("206 reply");
    assert!(expected.len() > 200_000, "{} bytes", expected.len());
    assert!(
        reply == expected,
        "TLS reply of {} bytes differs from the plaintext one of {}",
        reply.len(),
        expected.len()
    );
    // The session goes on after it.
    route_bytes(&mut tls, "LargeReplyTopic-00001").expect("route after");
}

/// A TLS client that stops reading cannot hold the shutdown past its drain: the
/// session's queued records and close_notify are given up when the drain ends
/// (not sent for the whole write timeout).
#[test]
fn a_tls_client_that_stops_reading_does_not_hold_the_shutdown() {
    let dir = tempfile::tempdir().expect("tempdir");
    let mut server = start(&[
        no_tls_file(dir.path()),
        ("serverSocketSndBufSize".into(), "4096".into()),
        ("shutdownTimeoutMillis".into(), "1000".into()),
        ("connectionWriteTimeoutMillis".into(), "60000".into()),
    ]);
    let names: Vec<_> = (0..10_000)
        .map(|i| topic(&format!("StuckReaderTopic-{i:05}"), 6, 1))
        .collect();
    let mut broker = server.client();
    broker.register_ok(&BrokerReg::new("C", "big", "10.1.0.9:10911", 0, names));

    let mut tls = tls_connect(server.addr, insecure_client()).expect("handshake");
    // Megabytes of replies the client never reads: the server's writes block.
    for opaque in 0..30 {
        let mut cmd = request(rq::GET_ALL_TOPIC_LIST_FROM_NAMESERVER, &[]);
        cmd.opaque = opaque;
        tls.write_all(&frame::encode_to_vec(&cmd, SerializeType::Json, None))
            .expect("send 206");
    }
    std::thread::sleep(Duration::from_millis(500));
    server.signal(libc::SIGTERM);
    let signalled = Instant::now();
    let status = server
        .wait_exit(Duration::from_secs(30))
        .unwrap_or_else(|| panic!("no exit; stderr:\n{}", server.stderr()));
    let took = signalled.elapsed();
    assert!(status.success(), "exit status {status}");
    // The 1 s drain, then the close at once (a loaded machine adds seconds).
    assert!(
        took < Duration::from_secs(8),
        "exited {took:?} after SIGTERM; stderr:\n{}",
        server.stderr()
    );
    drop(tls);
}
