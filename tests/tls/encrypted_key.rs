//! A private key encrypted with `tls.server.keyPassword` (upstream's
//! `TlsHelper#buildSslContext` hands it to netty, which decrypts it): each
//! PBES2 form and the PKCS#12 PBE forms RocketMQ's TLS guide makes serve TLS; a wrong password and the schemes we do not decrypt
//! stop the start with their message; a replaced encrypted key is reloaded.
//! Fixtures: tests/fixtures/tls/README.md.

use std::path::{Path, PathBuf};
use std::time::Duration;

use rustls::pki_types::pem::PemObject;
use rustls::pki_types::CertificateDer;

use super::*;

const PASSWORD: &str = "rocketmq";

fn fixture(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures/tls")
        .join(name)
}

fn cert_der(name: &str) -> CertificateDer<'static> {
    CertificateDer::from_pem_file(fixture(name)).expect("fixture certificate")
}

fn key_settings(dir: &Path, cert: &Path, key: &Path, password: &str) -> Vec<(String, String)> {
    vec![
        ("tls.test.mode.enable".into(), "false".into()),
        ("tls.server.certPath".into(), cert.display().to_string()),
        ("tls.server.keyPath".into(), key.display().to_string()),
        ("tls.server.keyPassword".into(), password.into()),
        no_tls_file(dir),
    ]
}

#[test]
fn each_pbes2_or_pkcs12_pbe_key_serves_tls_with_the_exact_route_reply() {
    // openssl's -v2 aes-256-cbc (PBKDF2-SHA256), aes-128-cbc with
    // hmacWithSHA1, des3 (DES-EDE3-CBC), and -v1 PBE-SHA1-RC4-128 (RocketMQ's
    // TLS guide) and PBE-SHA1-3DES: all five load in Java 5.5.0.
    for key in [
        "key-aes256.pem",
        "key-aes128-sha1.pem",
        "key-des3.pem",
        "key-rc4.pem",
        "key-pbe-sha1-3des.pem",
    ] {
        let dir = tempfile::tempdir().expect("tempdir");
        let settings = key_settings(dir.path(), &fixture("cert1.pem"), &fixture(key), PASSWORD);
        let server = start(&settings);
        let _broker = register_topic(&server);
        let mut plain = TcpStream::connect(server.addr).expect("connect");
        plain.set_read_timeout(Some(READ_TIMEOUT)).expect("timeout");
        let over_plain = route_bytes(&mut plain, "T1").expect("plaintext reply");
        let mut tls = tls_connect(server.addr, insecure_client()).expect(key);
        assert_eq!(
            tls.conn.peer_certificates().expect("server cert")[0],
            cert_der("cert1.pem"),
            "{key}"
        );
        let over_tls = route_bytes(&mut tls, "T1").expect("TLS reply");
        assert_eq!(over_tls, over_plain, "{key}");
        assert!(String::from_utf8_lossy(&over_tls).contains("10.1.0.1:10911"));
        assert!(!server.stderr().contains(PASSWORD), "password logged");
    }
}

#[test]
fn a_wrong_password_or_an_unsupported_scheme_stops_the_start() {
    let dir = tempfile::tempdir().expect("tempdir");
    let conf = dir.path().join("namesrv.properties");
    let kv = dir.path().join("kv.json");
    let convert = "convert it with `openssl pkcs8 -topk8 -v2 aes-256-cbc -in key.pem -out key-pbes2.pem (openssl asks for the old and the new password)`";
    let cases = [
        ("key-aes256.pem", "wrong-password", "cannot decrypt the private key: wrong tls.server.keyPassword".to_string()),
        ("key-aes256.pem", "", "the private key is encrypted; set tls.server.keyPassword".to_string()),
        ("key-rc4.pem", "wrong-password", "cannot decrypt the private key: wrong tls.server.keyPassword".to_string()),
        ("key-pbe-sha1-3des.pem", "wrong-password", "cannot decrypt the private key: wrong tls.server.keyPassword".to_string()),
        ("key-rc4.pem", "", "the private key is encrypted; set tls.server.keyPassword".to_string()),
        ("key-pbe-sha1-2des.pem", PASSWORD, format!("the private key is encrypted with PKCS#12 PBE-SHA1-2DES, which is not supported; {convert}")),
        ("key-traditional.pem", PASSWORD, format!("the private key is encrypted with OpenSSL's traditional PEM encryption (Proc-Type: 4,ENCRYPTED), which is not supported; {convert}")),
    ];
    for (key, password, reason) in cases {
        let key = fixture(key);
        let settings = key_settings(dir.path(), &fixture("cert1.pem"), &key, password);
        let pairs: Vec<(&str, &str)> = settings
            .iter()
            .map(|(k, v)| (k.as_str(), v.as_str()))
            .collect();
        write_props(&conf, &kv, &pairs);
        let (status, _, stderr) = run_to_exit(&["-c", conf.to_str().expect("utf8")]);
        assert_eq!(status.code(), Some(1), "{stderr}");
        let message = format!("TLS: {}: {reason}", key.display());
        assert!(stderr.contains(&message), "{message} not in {stderr}");
        assert!(
            !stderr.contains(PASSWORD) && !stderr.contains("wrong-password"),
            "{stderr}"
        );
    }
}

#[test]
fn a_replaced_encrypted_key_serves_new_connections() {
    let dir = tempfile::tempdir().expect("tempdir");
    let (cert, key) = (dir.path().join("server.pem"), dir.path().join("server.key"));
    let install = |c: &str, k: &str| {
        // Key first, as `write_leaf` does.
        std::fs::copy(fixture(k), &key).expect("key");
        std::fs::copy(fixture(c), &cert).expect("cert");
    };
    install("cert1.pem", "key-aes256.pem");
    let server = start(&key_settings(dir.path(), &cert, &key, PASSWORD));
    let served = || {
        let tls = tls_connect(server.addr, insecure_client()).expect("handshake");
        tls.conn.peer_certificates().expect("server cert")[0].clone()
    };
    assert_eq!(served(), cert_der("cert1.pem"));
    install("cert2.pem", "key2-aes256.pem");
    wait_for(Duration::from_secs(10), "the new certificate", || {
        (served() == cert_der("cert2.pem")).then_some(())
    });
    wait_log_line(&server, &["TLS files changed; new connections use"]);

    // An encrypted key that does not decrypt keeps the pair in force.
    std::fs::copy(fixture("key-traditional.pem"), &key).expect("traditional key");
    wait_log_line(
        &server,
        &["do not build; keeping the configuration in force"],
    );
    assert_eq!(served(), cert_der("cert2.pem"));
    assert!(!server.stderr().contains(PASSWORD), "password logged");
}
