//! Tests of the address patterns, the accounts file and its reload.

use std::net::IpAddr;

use super::address::AddressPattern;

fn ip(text: &str) -> IpAddr {
    match text.parse() {
        Ok(ip) => ip,
        Err(e) => panic!("test address {text:?}: {e}"),
    }
}

fn pattern(text: &str) -> AddressPattern {
    match AddressPattern::parse(text) {
        Ok(p) => p,
        Err(e) => panic!("{e}"),
    }
}

/// Asserts which of `yes` the pattern matches (all) and which of `no` (none).
fn check(text: &str, yes: &[&str], no: &[&str]) {
    let p = pattern(text);
    for peer in yes {
        assert!(p.matches(ip(peer)), "{text} should match {peer}");
    }
    for peer in no {
        assert!(!p.matches(ip(peer)), "{text} should not match {peer}");
    }
}

mod address_patterns {
    use super::*;

    #[test]
    fn blank_matches_nothing() {
        check("", &[], &["127.0.0.1", "::1"]);
        check("   ", &[], &["10.0.0.1"]);
        assert!(!AddressPattern::nothing().matches(ip("127.0.0.1")));
    }

    #[test]
    fn stars_match_everything() {
        for all in ["*", "*.*.*.*", "*:*:*:*:*:*:*:*"] {
            check(all, &["127.0.0.1", "10.1.2.3", "::1", "fd00::5"], &[]);
        }
    }

    #[test]
    fn exact_addresses() {
        check("192.168.0.1", &["192.168.0.1"], &["192.168.0.2", "::1"]);
        check(
            "1050:0000:0000:0000:0005:0600:300c:326b",
            &["1050::5:600:300c:326b", "1050:0:0:0:5:600:300C:326B"],
            &["1050::5:600:300c:326c"],
        );
        check("::1", &["::1"], &["127.0.0.1"]);
    }

    #[test]
    fn brace_lists() {
        check(
            "192.168.0.{1,2}",
            &["192.168.0.1", "192.168.0.2"],
            &["192.168.0.3", "192.168.1.1"],
        );
        check(
            "1050::0005:0600:300c:{1,2}",
            &["1050::5:600:300c:1", "1050::5:600:300c:2"],
            &["1050::5:600:300c:3"],
        );
    }

    #[test]
    fn comma_lists() {
        check(
            "10.10.103.1, 10.10.103.2,::1",
            &["10.10.103.1", "10.10.103.2", "::1"],
            &["10.10.103.3"],
        );
    }

    #[test]
    fn ipv4_wildcards_and_ranges() {
        check(
            "10.10.103.*",
            &["10.10.103.0", "10.10.103.255"],
            &["10.10.104.1", "11.10.103.1"],
        );
        check("10.10.*.*", &["10.10.0.1", "10.10.255.9"], &["10.11.0.1"]);
        check(
            "192.168.1-20.*",
            &["192.168.1.7", "192.168.20.255"],
            &["192.168.0.7", "192.168.21.1"],
        );
        check(
            "192.168.0.1-20",
            &["192.168.0.1", "192.168.0.20"],
            &["192.168.0.0", "192.168.0.21", "192.168.1.5"],
        );
        check("10.10.103.*", &[], &["::1", "fd00::1"]);
    }

    #[test]
    fn ipv6_wildcards_and_ranges() {
        check(
            "1050:0:0:0:5:600:300c:*",
            &["1050::5:600:300c:0", "1050::5:600:300c:ffff"],
            &["1050::5:600:300d:1", "10.0.0.1"],
        );
        check(
            "1050::5:600:300c:1-ff",
            &["1050::5:600:300c:1", "1050::5:600:300c:ff"],
            &["1050::5:600:300c:100", "1050::5:600:300c:0"],
        );
        check(
            "fd00:1:*:*:*:*:*:*",
            &["fd00:1::9", "fd00:1:ffff::"],
            &["fd00:2::9"],
        );
    }

    #[test]
    fn cidr() {
        check(
            "10.0.0.0/8",
            &["10.0.0.1", "10.255.255.255"],
            &["11.0.0.0", "9.255.255.255", "fd00::1"],
        );
        check("192.168.1.77/32", &["192.168.1.77"], &["192.168.1.76"]);
        check("0.0.0.0/0", &["1.2.3.4", "255.255.255.255"], &["::1"]);
        check(
            "fd00::/8",
            &["fd00::1", "fdff:1::"],
            &["fe00::1", "10.0.0.1"],
        );
        // The host bits of the written address do not matter.
        check("10.1.2.3/16", &["10.1.200.9"], &["10.2.0.1"]);
    }

    #[test]
    fn ipv4_mapped_peers_match_ipv4_patterns() {
        for p in [
            "10.10.103.7",
            "10.10.103.*",
            "10.0.0.0/8",
            "10.10.103.{7,8}",
        ] {
            check(p, &["::ffff:10.10.103.7"], &["::ffff:11.10.103.7"]);
        }
        // ...and an IPv4-mapped pattern is the IPv4 address.
        check(
            "::ffff:10.1.1.1",
            &["10.1.1.1", "::ffff:10.1.1.1"],
            &["10.1.1.2"],
        );
    }

    #[test]
    fn invalid_patterns_are_errors_naming_them() {
        for bad in [
            "localhost",
            "10.10.103",
            "10.10.103.256",
            "10.10.103.*.1",
            "10.10.20-1.*",
            "10.10.-1.*",
            "10.10.1-.*",
            "10.10.103.{1,x}",
            "10.10.103.{1,2",
            "10.10.{1,2}.3",
            "10.0.0.0/33",
            "fd00::/129",
            "10.0.0.0/x",
            "1.2.3.4,bogus",
            "1050::5::*",
            "1050:::5:*",
            "1050:0:0:0:5:600:300c:fffff-*",
            "1050:0:0:0:5:600:*",
        ] {
            match AddressPattern::parse(bad) {
                Ok(p) => panic!("{bad:?} parsed as {p:?}"),
                Err(e) => assert_eq!(e.pattern, bad, "{e}"),
            }
        }
        let e = AddressPattern::parse("localhost").err();
        assert_eq!(
            e.map(|e| e.to_string()).as_deref(),
            Some("invalid address pattern \"localhost\": not an IP address")
        );
    }

    #[test]
    fn lists_split_on_commas_and_semicolons_outside_braces() {
        use crate::auth::address::AddressList;
        let list = match AddressList::parse(" 10.0.0.{1,2}; 192.168.1.*, ::1 ;") {
            Ok(l) => l,
            Err(e) => panic!("{e}"),
        };
        for yes in ["10.0.0.1", "10.0.0.2", "192.168.1.77", "::1"] {
            assert!(list.matches(ip(yes)), "{yes}");
        }
        for no in ["10.0.0.3", "192.168.2.1", "127.0.0.1"] {
            assert!(!list.matches(ip(no)), "{no}");
        }
        assert_eq!(list.to_string(), "10.0.0.{1,2}; 192.168.1.*, ::1 ;");
        let empty = AddressList::default();
        assert!(empty.is_empty() && !empty.matches(ip("127.0.0.1")));
        assert!(AddressList::parse("10.0.0.1;localhost").is_err());
    }
}

mod accounts_file {
    use super::*;
    use crate::auth::accounts::{Accounts, AccountsError};
    use crate::auth::reload::first_load;

    /// Every key upstream's `plain_acl.yml` has (its own example, with numbers
    /// for keys and topic/group permissions we ignore).
    pub(super) const FULL: &str = r#"
globalWhiteRemoteAddresses:
  - 10.10.103.*
  - 192.168.0.*

accounts:
  - accessKey: RocketMQ
    secretKey: 12345678
    whiteRemoteAddress:
    admin: false
    defaultTopicPerm: DENY
    defaultGroupPerm: SUB
    topicPerms:
      - topicA=DENY
      - topicB=PUB|SUB
      - topicC=SUB
    groupPerms:
      - groupA=DENY
      - groupB=PUB|SUB
      - groupC=SUB

  - accessKey: rocketmq2
    secretKey: "12345678"
    whiteRemoteAddress: 192.168.1.*
    # if it is admin, it could access all resources
    admin: true
"#;

    fn parse(yaml: &str) -> Accounts {
        match Accounts::parse(yaml) {
            Ok(a) => a,
            Err(e) => panic!("{e}"),
        }
    }

    fn invalid_reason(yaml: &str) -> String {
        match Accounts::parse(yaml) {
            Err(AccountsError::Invalid { reason, .. }) => reason,
            other => panic!("expected an invalid entry, got {other:?}"),
        }
    }

    #[test]
    fn upstream_example_with_every_field() {
        let a = parse(FULL);
        assert_eq!(a.len(), 2);
        let first = a.get("RocketMQ").map(|x| (x.admin, x.secret().to_vec()));
        assert_eq!(first, Some((false, b"12345678".to_vec())));
        let second = a.get("rocketmq2").map(|x| (x.admin, x.secret().to_vec()));
        assert_eq!(second, Some((true, b"12345678".to_vec())));
        assert!(a.get("rocketmq3").is_none());
        assert!(a.globally_whitelisted(ip("10.10.103.9")));
        assert!(a.globally_whitelisted(ip("::ffff:192.168.0.3")));
        assert!(!a.globally_whitelisted(ip("192.168.1.3")));
        let first = a.get("RocketMQ");
        assert_eq!(first.map(|x| x.whitelisted(ip("192.168.1.3"))), Some(false));
        let second = a.get("rocketmq2");
        assert_eq!(second.map(|x| x.whitelisted(ip("192.168.1.3"))), Some(true));
        assert_eq!(
            second.map(|x| x.whitelisted(ip("192.168.2.3"))),
            Some(false)
        );
    }

    #[test]
    fn debug_shows_no_secret() {
        let a = parse(FULL);
        let all = format!("{a:?} {:?} {:?}", a.get("RocketMQ"), a.get("rocketmq2"));
        assert!(!all.contains("12345678"), "{all}");
        assert!(all.contains("rocketmq2"), "{all}");
    }

    #[test]
    fn empty_files_have_no_accounts() {
        for yaml in ["", "\n# only a comment\n", "accounts:\n", "accounts: []\n"] {
            let a = parse(yaml);
            assert_eq!(a.len(), 0, "{yaml:?}");
            assert!(!a.globally_whitelisted(ip("127.0.0.1")));
        }
    }

    #[test]
    fn numbers_and_strings_for_keys_and_admin() {
        let a = parse(
            "accounts:\n  - accessKey: 1234567\n    secretKey: 7654321\n    admin: \"true\"\n",
        );
        let got = a.get("1234567").map(|x| (x.admin, x.secret().to_vec()));
        assert_eq!(got, Some((true, b"7654321".to_vec())));
    }

    #[test]
    fn keys_of_six_characters_or_fewer_are_refused() {
        let reason = invalid_reason("accounts:\n  - accessKey: short\n    secretKey: 12345678\n");
        assert_eq!(
            reason,
            "account #1 (accessKey \"short\"): accessKey and secretKey are required and must be longer than 6 characters"
        );
        let reason =
            invalid_reason("accounts:\n  - accessKey: longenough\n    secretKey: 123456\n");
        assert!(
            reason.starts_with("account #1 (accessKey \"longenough\")"),
            "{reason}"
        );
        assert!(
            !reason.contains("123456\""),
            "a secret is never quoted: {reason}"
        );
        let reason = invalid_reason("accounts:\n  - secretKey: 12345678\n");
        assert!(
            reason.starts_with("account #1 (accessKey \"\")"),
            "{reason}"
        );
        // Seven characters (UTF-16 units, as Java counts) is enough.
        assert_eq!(
            parse("accounts:\n  - accessKey: \u{e4}\u{e4}\u{e4}\u{e4}\u{e4}\u{e4}\u{e4}\n    secretKey: 1234567\n").len(),
            1
        );
    }

    #[test]
    fn duplicate_access_keys_are_refused() {
        let reason = invalid_reason(
            "accounts:\n  - accessKey: RocketMQ\n    secretKey: 12345678\n  - accessKey: RocketMQ\n    secretKey: 87654321\n",
        );
        assert_eq!(
            reason,
            "account #2 (accessKey \"RocketMQ\"): the accessKey is already used by an earlier account"
        );
    }

    #[test]
    fn bad_addresses_are_refused() {
        let reason = invalid_reason(
            "accounts:\n  - accessKey: RocketMQ\n    secretKey: 12345678\n    whiteRemoteAddress: 10.1.300.*\n",
        );
        assert_eq!(
            reason,
            "account #1 (accessKey \"RocketMQ\"): whiteRemoteAddress: invalid address pattern \"10.1.300.*\": bad IPv4 range"
        );
        let reason = invalid_reason("globalWhiteRemoteAddresses:\n  - nowhere\n");
        assert_eq!(
            reason,
            "globalWhiteRemoteAddresses: invalid address pattern \"nowhere\": not an IP address"
        );
    }

    #[test]
    fn bad_admin_value_is_refused() {
        let reason = invalid_reason(
            "accounts:\n  - accessKey: RocketMQ\n    secretKey: 12345678\n    admin: yes please\n",
        );
        assert_eq!(
            reason,
            "account #1 (accessKey \"RocketMQ\"): admin must be true or false"
        );
    }

    #[test]
    fn malformed_yaml_names_the_line() {
        match Accounts::parse("accounts:\n  - accessKey: RocketMQ\n   secretKey: [\n") {
            Err(AccountsError::Yaml { line, .. }) => assert_eq!(line, 3),
            other => panic!("expected a YAML error, got {other:?}"),
        }
        // A value serde quotes in its message is left out (it may be a secret).
        match Accounts::parse("accounts: \"s3cret-value\"\n") {
            Err(AccountsError::Yaml { line, message, .. }) => {
                assert_eq!(line, 1);
                assert!(!message.contains("s3cret"), "{message}");
                assert!(message.contains("expected a sequence"), "{message}");
            }
            other => panic!("expected a YAML error, got {other:?}"),
        }
        // The wrong shape is a YAML error too.
        assert!(matches!(
            Accounts::parse("accounts: 5\n"),
            Err(AccountsError::Yaml { .. })
        ));
    }

    #[test]
    fn values_in_yaml_errors_are_never_shown() {
        // An escaped quote inside the quoted value, then the secret's tail.
        for text in [
            "accounts: \"s3cret\\\"tail-of-secret\"\n",
            "accounts: \"x, expected a map s3cret\"\n",
            "accounts:\n  - accessKey: RocketMQ\n    secretKey: {a: s3cret}\n",
        ] {
            match Accounts::parse(text) {
                Err(AccountsError::Yaml { message, .. }) => {
                    assert!(!message.contains("s3cret"), "{message}");
                    assert!(!message.contains("tail-of"), "{message}");
                    assert!(message.contains("(value not shown)"), "{message}");
                }
                other => panic!("expected a YAML error, got {other:?}"),
            }
        }
        let e = Accounts::parse("accounts: \"s3cret\"\n")
            .err()
            .map(|e| e.to_string());
        assert_eq!(
            e.as_deref(),
            Some("accounts file (accounts text): malformed YAML at line 1: accounts: invalid type: (value not shown), expected a sequence at line 1 column 11")
        );
        assert_eq!(
            crate::auth::accounts::without_quoted_values("a \"x\\\"y\" b \"z\" c"),
            "a \"...\" b \"...\" c"
        );
    }

    #[test]
    fn an_oversized_file_is_refused() {
        let dir = tempfile::tempdir().ok();
        let Some(dir) = dir else {
            panic!("no temp dir")
        };
        let big = dir.path().join("big.yml");
        let text = format!("# {}\n", "x".repeat(5 << 20));
        assert!(std::fs::write(&big, text).is_ok());
        let e = first_load(&big).err().map(|e| e.to_string());
        assert_eq!(
            e.as_deref(),
            Some(
                format!(
                    "accounts file {}: larger than 4 MiB; not an accounts file",
                    big.display()
                )
                .as_str()
            )
        );
    }

    #[test]
    fn load_names_the_file() {
        let dir = tempfile::tempdir().ok();
        let dir = dir
            .as_ref()
            .map(|d| d.path())
            .unwrap_or(std::path::Path::new("/nonexistent"));
        let missing = dir.join("missing.yml");
        let e = first_load(&missing)
            .map(|(a, _)| a)
            .err()
            .map(|e| e.to_string());
        let e = e.unwrap_or_default();
        assert!(
            e.starts_with(&format!(
                "cannot read the accounts file {}: ",
                missing.display()
            )),
            "{e}"
        );

        let bad = dir.join("bad.yml");
        assert!(std::fs::write(
            &bad,
            "accounts:\n  - accessKey: x\n    secretKey: 12345678\n"
        )
        .is_ok());
        let e = first_load(&bad)
            .map(|(a, _)| a)
            .err()
            .map(|e| e.to_string());
        assert_eq!(
            e.unwrap_or_default(),
            format!(
                "accounts file {}: account #1 (accessKey \"x\"): accessKey and secretKey are required and must be longer than 6 characters",
                bad.display()
            )
        );

        let good = dir.join("plain_acl.yml");
        assert!(std::fs::write(&good, FULL).is_ok());
        assert_eq!(
            first_load(&good).map(|(a, _)| a).map(|a| a.len()).ok(),
            Some(2)
        );
    }
}

mod yaml_numbers {
    use crate::auth::accounts::{Accounts, AccountsError};

    fn secret_of(value: &str) -> Result<Vec<u8>, AccountsError> {
        let yaml = format!("accounts:\n  - accessKey: abcdefgh\n    secretKey: {value}\n");
        Accounts::parse(&yaml).map(|a| {
            a.get("abcdefgh")
                .map(|x| x.secret().to_vec())
                .unwrap_or_default()
        })
    }

    #[test]
    fn integers_are_their_digits_as_java_reads_them() {
        // The values Java's `AclUtils#getYamlDataObject` gives for the same text.
        for (text, java) in [
            ("12345678", "12345678"),
            ("+1234567", "1234567"),
            ("0x1234567", "19088743"),
            ("12345678901234567890", "12345678901234567890"),
            ("\"01234567\"", "01234567"),
            ("'1.5e10xx'", "1.5e10xx"),
        ] {
            assert_eq!(
                secret_of(text).ok(),
                Some(java.as_bytes().to_vec()),
                "{text}"
            );
        }
    }

    #[test]
    fn fractions_and_exponents_must_be_quoted() {
        for text in ["12345678.5", "1e10"] {
            match secret_of(text) {
                Err(AccountsError::Yaml { line, message, .. }) => {
                    assert_eq!(line, 3, "{text}");
                    assert!(message.contains("quote the value"), "{message}");
                }
                other => panic!("{text}: {other:?}"),
            }
        }
    }
}
