//! Tests of reloading the accounts file through a running `AuthService`.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use crate::auth::{Accounts, AuthService};

const ONE: &str = "accounts:\n  - accessKey: RocketMQ\n    secretKey: 12345678\n";
const TWO: &str = "accounts:\n  - accessKey: RocketMQ\n    secretKey: 12345678\n  - accessKey: rocketmq2\n    secretKey: 87654321\n    admin: true\n";

/// Waits (bounded) until the service's accounts satisfy `done`.
fn wait_for(service: &AuthService, done: impl Fn(&Accounts) -> bool) -> bool {
    let deadline = Instant::now() + Duration::from_secs(10);
    while Instant::now() < deadline {
        if done(&service.accounts()) {
            return true;
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    false
}

#[test]
fn good_then_malformed_kept_then_good_replaced() {
    let dir = tempfile::tempdir().ok();
    let Some(dir) = dir else {
        panic!("no temp dir")
    };
    let path = dir.path().join("plain_acl.yml");
    assert!(std::fs::write(&path, ONE).is_ok());
    let stop = Arc::new(AtomicBool::new(false));
    let service = match AuthService::start(&path, stop.clone()) {
        Ok(s) => s,
        Err(e) => panic!("{e}"),
    };
    assert_eq!(service.accounts().len(), 1);

    // Malformed: the old accounts stay (watched for several polls).
    assert!(std::fs::write(&path, "accounts:\n  - accessKey: [\n").is_ok());
    std::thread::sleep(super::reload::POLL * 3);
    assert_eq!(service.accounts().len(), 1);
    assert!(service.accounts().get("RocketMQ").is_some());

    // Good again, with one more account.
    assert!(std::fs::write(&path, TWO).is_ok());
    assert!(wait_for(&service, |a| a.len() == 2));
    let admin = service.accounts().get("rocketmq2").map(|a| a.admin);
    assert_eq!(admin, Some(true));

    // A rewrite of equal length within the same mtime is still seen.
    let same_len = TWO.replace("87654321", "11111111");
    assert!(std::fs::write(&path, &same_len).is_ok());
    assert!(wait_for(&service, |a| a
        .get("rocketmq2")
        .is_some_and(|x| x.secret() == b"11111111")));

    stop.store(true, Ordering::Relaxed);
}

#[test]
fn start_refuses_a_bad_file() {
    let dir = tempfile::tempdir().ok();
    let Some(dir) = dir else {
        panic!("no temp dir")
    };
    let path = dir.path().join("plain_acl.yml");
    assert!(std::fs::write(&path, "accounts:\n  - accessKey: short\n").is_ok());
    let stop = Arc::new(AtomicBool::new(false));
    let e = AuthService::start(&path, stop.clone())
        .err()
        .map(|e| e.to_string());
    assert!(e.unwrap_or_default().contains("plain_acl.yml"));
    let e = AuthService::start(&dir.path().join("absent.yml"), stop).err();
    assert!(matches!(e, Some(crate::auth::AccountsError::Io { .. })));
}
