use std::net::{IpAddr, Ipv4Addr};

use protocol::acl;
use protocol::codes::request as rq;
use protocol::RemotingCommand;

use super::*;
use crate::auth::Accounts;

const OPEN: [i32; 9] = [105, 106, 206, 224, 304, 311, 312, 313, 901];
const BROKER: [i32; 5] = [103, 104, 904, 322, 217];
const ADMIN: [i32; 9] = [100, 102, 205, 216, 318, 327, 101, 219, 319];
/// Codes we do not know (905 is one the name server sends, never answers).
const UNKNOWN: [i32; 3] = [905, 9999, -1];

const LOCAL: IpAddr = IpAddr::V4(Ipv4Addr::LOCALHOST);
const ELSEWHERE: IpAddr = IpAddr::V4(Ipv4Addr::new(10, 9, 9, 9));
const GLOBAL: IpAddr = IpAddr::V4(Ipv4Addr::new(10, 1, 1, 1));

const FILE: &str = "
globalWhiteRemoteAddresses:
  - 10.1.1.*
accounts:
  - accessKey: normalKey1
    secretKey: normalSecret1
    admin: false
  - accessKey: adminKey01
    secretKey: adminSecret1
    admin: true
  - accessKey: whiteKey01
    secretKey: whiteSecret1
    whiteRemoteAddress: 127.0.0.1
  - accessKey: whiteAdmin1
    secretKey: whiteAdminSecret1
    whiteRemoteAddress: 127.0.0.0/8
    admin: true
";

fn accounts() -> Accounts {
    Accounts::parse(FILE).expect("accounts")
}

fn all_codes() -> impl Iterator<Item = i32> {
    OPEN.into_iter().chain(BROKER).chain(ADMIN).chain(UNKNOWN)
}

fn cmd(code: i32) -> RemotingCommand {
    RemotingCommand::request(
        code,
        0,
        vec![
            ("topic".to_string(), "TopicA".to_string()),
            ("brokerName".to_string(), "broker-a".to_string()),
        ],
    )
}

fn signed(code: i32, body: &[u8], ak: &str, sk: &str) -> RemotingCommand {
    let mut c = cmd(code);
    acl::sign(&mut c, body, ak, sk, None);
    c
}

fn with_key(code: i32, ak: &str) -> RemotingCommand {
    let mut c = cmd(code);
    c.push_ext(acl::ACCESS_KEY, ak);
    c
}

fn reason(r: Result<(), Denial>) -> Option<DenyReason> {
    r.err().map(|d| d.reason)
}

fn run(c: &RemotingCommand, body: &[u8], peer: IpAddr, anonymous: bool) -> Option<DenyReason> {
    reason(decide(&accounts(), c, body, peer, anonymous))
}

#[test]
fn every_code_has_its_class() {
    for code in OPEN {
        assert_eq!(access_of(code), Access::Open, "{code}");
    }
    for code in BROKER.into_iter().chain(UNKNOWN) {
        assert_eq!(access_of(code), Access::Account, "{code}");
    }
    for code in ADMIN {
        assert_eq!(access_of(code), Access::Admin, "{code}");
    }
}

#[test]
fn anonymous_reads_routes_only_while_anonymous_route_read() {
    for code in all_codes() {
        let c = cmd(code);
        let open = OPEN.contains(&code);
        let want = (!open).then_some(DenyReason::NoAccessKey);
        assert_eq!(run(&c, b"", ELSEWHERE, true), want, "{code}");
        assert_eq!(
            run(&c, b"", ELSEWHERE, false),
            Some(DenyReason::NoAccessKey),
            "{code}"
        );
        // An account's whitelist does not make an anonymous caller an account.
        assert_eq!(run(&c, b"", LOCAL, true), want, "{code}");
    }
}

#[test]
fn a_normal_account_may_do_all_but_admin_codes() {
    for code in all_codes() {
        for body in [&b""[..], b"{\"x\":1}"] {
            let c = signed(code, body, "normalKey1", "normalSecret1");
            let want = ADMIN.contains(&code).then_some(DenyReason::NotAdmin);
            assert_eq!(run(&c, body, ELSEWHERE, true), want, "{code}");
            assert_eq!(run(&c, body, ELSEWHERE, false), want, "{code}");
        }
    }
}

#[test]
fn an_admin_account_may_do_everything() {
    for code in all_codes() {
        let c = signed(code, b"body", "adminKey01", "adminSecret1");
        assert_eq!(run(&c, b"body", ELSEWHERE, false), None, "{code}");
        // With a SecurityToken too: it is one more signed field.
        let mut c = cmd(code);
        acl::sign(&mut c, b"", "adminKey01", "adminSecret1", Some("token"));
        assert_eq!(run(&c, b"", ELSEWHERE, false), None, "{code}");
    }
}

#[test]
fn a_presented_key_is_always_checked() {
    for code in all_codes() {
        let c = signed(code, b"", "nobodyKey1", "normalSecret1");
        assert_eq!(
            run(&c, b"", ELSEWHERE, true),
            Some(DenyReason::UnknownAccessKey),
            "{code}"
        );
        // A wrong secret; on an admin code a normal key is refused unhashed.
        let c = signed(code, b"", "normalKey1", "wrongSecret");
        let want = if ADMIN.contains(&code) {
            DenyReason::NotAdmin
        } else {
            DenyReason::BadSignature
        };
        assert_eq!(run(&c, b"", ELSEWHERE, true), Some(want), "{code}");
        // Signed over another body.
        let c = signed(code, b"the body signed", "adminKey01", "adminSecret1");
        assert_eq!(
            run(&c, b"the body sent", ELSEWHERE, true),
            Some(DenyReason::BadSignature),
            "{code}"
        );
        // A field changed after signing.
        let mut c = signed(code, b"", "adminKey01", "adminSecret1");
        if let Some(f) = c.ext_fields.as_mut() {
            f[0].1.push('x');
        }
        assert_eq!(
            run(&c, b"", ELSEWHERE, true),
            Some(DenyReason::BadSignature),
            "{code}"
        );
        // Not Base64 at all.
        let mut c = with_key(code, "adminKey01");
        c.push_ext(acl::SIGNATURE, "!!not base64!!");
        assert_eq!(
            run(&c, b"", ELSEWHERE, true),
            Some(DenyReason::BadSignature),
            "{code}"
        );
    }
}

#[test]
fn no_signature_is_needed_from_the_accounts_whitelisted_address() {
    for code in all_codes() {
        let c = with_key(code, "whiteKey01");
        let want = ADMIN.contains(&code).then_some(DenyReason::NotAdmin);
        assert_eq!(run(&c, b"any", LOCAL, false), want, "{code}");
        assert_eq!(
            run(&c, b"any", ELSEWHERE, true),
            Some(DenyReason::AddressNotAllowed),
            "{code}"
        );
        // A whitelisted admin (CIDR whitelist), and an IPv4-mapped peer.
        let c = with_key(code, "whiteAdmin1");
        assert_eq!(run(&c, b"any", LOCAL, false), None, "{code}");
        let mapped: IpAddr = "::ffff:127.0.0.1".parse().expect("ip");
        assert_eq!(run(&c, b"any", mapped, false), None, "{code}");
        // An account without a whitelist needs its Signature everywhere.
        let c = with_key(code, "normalKey1");
        assert_eq!(
            run(&c, b"", LOCAL, true),
            Some(DenyReason::AddressNotAllowed),
            "{code}"
        );
        // From its whitelisted address a wrong Signature is not even looked at.
        let mut c = with_key(code, "whiteAdmin1");
        c.push_ext(acl::SIGNATURE, "AAAA");
        assert_eq!(run(&c, b"", LOCAL, false), None, "{code}");
    }
}

#[test]
fn an_admin_code_from_a_normal_key_is_refused_before_hashing() {
    // The Signature is the normal account's own and valid, over a large body:
    // not_admin either way, and found without the HMAC.
    let body = vec![b'x'; 1 << 16];
    let c = signed(
        rq::UPDATE_NAMESRV_CONFIG,
        &body,
        "normalKey1",
        "normalSecret1",
    );
    assert_eq!(run(&c, &body, ELSEWHERE, true), Some(DenyReason::NotAdmin));
}

#[test]
fn too_many_fields_are_refused_as_a_bad_signature() {
    let mut c = cmd(rq::GET_ROUTEINFO_BY_TOPIC);
    for i in 0..acl::MAX_SIGNED_FIELDS {
        c.push_ext(format!("k{i}"), "v");
    }
    acl::sign(&mut c, b"", "normalKey1", "normalSecret1", None);
    let denial = decide(&accounts(), &c, b"", ELSEWHERE, true).expect_err("refused");
    assert_eq!(denial.reason, DenyReason::BadSignature);
    assert!(
        denial.remark.contains("too many fields"),
        "{}",
        denial.remark
    );
}

#[test]
fn echo_hides_control_and_invisible_format_characters() {
    assert_eq!(echo("ab\ncd"), "ab?cd");
    assert_eq!(echo("a\u{202E}b\u{200B}c\u{FEFF}d\u{2066}"), "a?b?c?d?");
    assert_eq!(echo("caf\u{e9}-\u{4e2d}"), "caf\u{e9}-\u{4e2d}");
}

#[test]
fn the_global_whitelist_passes_everything() {
    for code in all_codes() {
        assert_eq!(run(&cmd(code), b"", GLOBAL, false), None, "{code}");
        let mut c = with_key(code, "junk");
        c.push_ext(acl::SIGNATURE, "junk");
        assert_eq!(run(&c, b"", GLOBAL, false), None, "{code}");
        let c = signed(code, b"", "normalKey1", "normalSecret1");
        assert_eq!(run(&c, b"", GLOBAL, false), None, "{code}");
    }
}

#[test]
fn the_last_of_repeated_fields_counts_as_in_javas_map() {
    let mut c = with_key(rq::PUT_KV_CONFIG, "normalKey1");
    acl::sign(&mut c, b"", "adminKey01", "adminSecret1", None);
    // `sign` replaced the AccessKey in place: one field, the admin's.
    assert_eq!(run(&c, b"", ELSEWHERE, true), None);
    // A second AccessKey after the signed one is the one checked: a normal key
    // (refused on an admin code before hashing), whose secret did not sign.
    let mut c = signed(rq::PUT_KV_CONFIG, b"", "adminKey01", "adminSecret1");
    c.push_ext(acl::ACCESS_KEY, "normalKey1");
    assert_eq!(run(&c, b"", ELSEWHERE, true), Some(DenyReason::NotAdmin));
    let mut c = signed(
        rq::REGISTER_TOPIC_IN_NAMESRV,
        b"",
        "adminKey01",
        "adminSecret1",
    );
    c.push_ext(acl::ACCESS_KEY, "normalKey1");
    assert_eq!(
        run(&c, b"", ELSEWHERE, true),
        Some(DenyReason::BadSignature)
    );
}

#[test]
fn remarks_say_why() {
    let a = accounts();
    let remark = |c: &RemotingCommand, peer: IpAddr| {
        decide(&a, c, b"", peer, true).expect_err("refused").remark
    };
    assert_eq!(
        remark(&cmd(rq::REGISTER_BROKER), ELSEWHERE),
        "access denied: request code 103 needs an account (no AccessKey)"
    );
    assert_eq!(
        remark(&with_key(105, "nobodyKey1"), ELSEWHERE),
        "access denied: unknown AccessKey [nobodyKey1]"
    );
    assert_eq!(
        remark(&with_key(105, "normalKey1"), ELSEWHERE),
        "access denied: no Signature, and 10.9.9.9 is not a whitelisted address of AccessKey [normalKey1]"
    );
    assert_eq!(
        remark(&signed(105, b"", "normalKey1", "nope"), ELSEWHERE),
        "access denied: the Signature does not match the request (AccessKey [normalKey1])"
    );
    assert_eq!(
        remark(&with_key(318, "whiteKey01"), LOCAL),
        "access denied: request code 318 needs an admin account; AccessKey [whiteKey01] is not one"
    );
    // Long and control characters: cut and replaced.
    let long = format!("a\nb\u{1b}{}", "k".repeat(100));
    assert_eq!(
        remark(&with_key(105, &long), ELSEWHERE),
        format!("access denied: unknown AccessKey [a?b?{}…]", "k".repeat(60))
    );
}

#[test]
fn no_remark_holds_a_secret() {
    let a = accounts();
    for code in all_codes() {
        for c in [
            signed(code, b"", "normalKey1", "normalSecret1"),
            signed(code, b"", "normalKey1", "whiteSecret1"),
            with_key(code, "whiteKey01"),
        ] {
            for peer in [LOCAL, ELSEWHERE] {
                if let Err(d) = decide(&a, &c, b"", peer, false) {
                    for secret in ["Secret1", "adminSecret1", "whiteSecret1"] {
                        assert!(!d.remark.contains(secret), "{}", d.remark);
                    }
                }
            }
        }
    }
}

#[test]
fn the_gate_shortcut_for_anonymous_reads_agrees_with_decide() {
    let bodies: [&[u8]; 2] = [b"", b"body"];
    for code in all_codes() {
        for anonymous in [true, false] {
            for body in bodies {
                for c in [
                    cmd(code),
                    with_key(code, "normalKey1"),
                    signed(code, body, "normalKey1", "normalSecret1"),
                ] {
                    if open_to_anonymous(&c, anonymous) {
                        for peer in [LOCAL, ELSEWHERE, GLOBAL] {
                            assert_eq!(run(&c, body, peer, anonymous), None, "code {code}");
                        }
                    }
                }
            }
        }
    }
    // It takes exactly the anonymous route reads while they are allowed.
    assert!(OPEN.iter().all(|&code| open_to_anonymous(&cmd(code), true)));
    assert!(!OPEN
        .iter()
        .any(|&code| open_to_anonymous(&cmd(code), false)));
    assert!(!OPEN
        .iter()
        .any(|&code| open_to_anonymous(&with_key(code, "normalKey1"), true)));
    assert!(!BROKER
        .iter()
        .chain(&ADMIN)
        .chain(&UNKNOWN)
        .any(|&code| open_to_anonymous(&cmd(code), true)));
}
