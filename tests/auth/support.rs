//! What the authentication tests share: the accounts file, servers started with
//! it, one harmless request of every code, and signing.

use protocol::acl;
use protocol::RemotingCommand;

use crate::common::*;

pub const OPEN: [i32; 9] = [105, 106, 206, 224, 304, 311, 312, 313, 901];
pub const BROKER: [i32; 5] = [103, 104, 904, 322, 217];
pub const ADMIN: [i32; 9] = [100, 102, 205, 216, 318, 327, 101, 219, 319];
/// Codes no handler takes (905 is one the name server sends, never answers; 52
/// is a broker's code): any valid account, then REQUEST_CODE_NOT_SUPPORTED.
/// All fit the binary header's 16-bit code.
pub const UNKNOWN: [i32; 3] = [905, 9999, 52];

pub const NORMAL: (&str, &str) = ("normalKey1", "normalSecret1");
pub const ADMIN_ACCOUNT: (&str, &str) = ("adminKey01", "adminSecret1");
/// Whitelisted for 127.0.0.1 (the tests' peer), not admin.
pub const WHITE: (&str, &str) = ("whiteKey01", "whiteSecret1");
/// Whitelisted for 10.9.9.9 only.
pub const FAR: (&str, &str) = ("farKey0001", "farSecret01");
/// Every secret of [`accounts_yaml`], and the ones the reload tests add.
pub const SECRETS: [&str; 6] = [
    "normalSecret1",
    "adminSecret1",
    "whiteSecret1",
    "farSecret01",
    "laterSecret1",
    "badSecretNever",
];

/// The accounts file; `global` is its `globalWhiteRemoteAddresses` entry.
pub fn accounts_yaml(global: &str) -> String {
    format!(
        "globalWhiteRemoteAddresses:
  - {global}
accounts:
  - accessKey: {}
    secretKey: {}
    admin: false
  - accessKey: {}
    secretKey: {}
    admin: true
  - accessKey: {}
    secretKey: {}
    whiteRemoteAddress: 127.0.0.1
  - accessKey: {}
    secretKey: {}
    whiteRemoteAddress: 10.9.9.9
    topicPerms:
      - TopicA=PUB
",
        NORMAL.0, NORMAL.1, ADMIN_ACCOUNT.0, ADMIN_ACCOUNT.1, WHITE.0, WHITE.1, FAR.0, FAR.1
    )
}

/// Two topics: a one-topic body cannot be a broker's first registration (it is
/// answered with an error, so an allowed 103 would show nothing).
pub fn broker() -> BrokerReg {
    BrokerReg::new(
        "ClusterA",
        "broker-a",
        "127.0.0.1:10911",
        0,
        vec![topic("TopicA", 6, 4), topic("TopicB", 6, 4)],
    )
}

/// One request of `code` its handler can take, with its body.
pub fn request_of(code: i32) -> (RemotingCommand, Option<Vec<u8>>) {
    let b = broker();
    let plain = |ext: &[(&str, &str)]| (request(code, ext), None);
    match code {
        100 => plain(&[("namespace", "NS"), ("key", "k"), ("value", "v")]),
        101 | 102 => plain(&[("namespace", "NS"), ("key", "k")]),
        103 => {
            let (cmd, body) = b.request();
            (cmd, Some(body))
        }
        104 => (b.unregister(), None),
        105 => plain(&[("topic", "TopicA")]),
        205 | 327 | 901 => plain(&[("brokerName", "broker-a")]),
        216 => plain(&[("topic", "TopicGone"), ("clusterName", "ClusterA")]),
        217 => plain(&[("topic", "TopicR")]),
        219 => plain(&[("namespace", "NS")]),
        224 => plain(&[("cluster", "ClusterA")]),
        318 => (request(code, &[]), Some(b"productEnvName=center".to_vec())),
        322 => {
            let mut body = Vec::new();
            b.data_version.encode(&mut body);
            (b.query_data_version(), Some(body))
        }
        904 => (b.heartbeat(), None),
        _ => plain(&[]),
    }
}

/// `cmd` signed as `AclClientRPCHook` signs it, over `body`.
pub fn signed(mut cmd: RemotingCommand, body: &[u8], (ak, sk): (&str, &str)) -> RemotingCommand {
    acl::sign(&mut cmd, body, ak, sk, None);
    cmd
}

/// `cmd` with an AccessKey and no Signature.
pub fn keyed(mut cmd: RemotingCommand, ak: &str) -> RemotingCommand {
    cmd.push_ext(acl::ACCESS_KEY, ak);
    cmd
}

/// Code and remark of a reply.
pub fn answer(r: &Reply) -> (i32, String) {
    (r.0.code, remark(r).to_string())
}

/// What a request of a code no handler takes gets once it is allowed.
pub fn not_supported(code: i32) -> (i32, String) {
    (3, format!(" request type {code} not supported"))
}

pub fn no_key(code: i32) -> (i32, String) {
    (
        16,
        format!("access denied: request code {code} needs an account (no AccessKey)"),
    )
}

pub fn unknown(ak: &str) -> (i32, String) {
    (16, format!("access denied: unknown AccessKey [{ak}]"))
}

pub fn not_allowed(ak: &str) -> (i32, String) {
    (
        16,
        format!(
            "access denied: no Signature, and 127.0.0.1 is not a whitelisted address of AccessKey [{ak}]"
        ),
    )
}

pub fn bad_signature(ak: &str) -> (i32, String) {
    (
        16,
        format!("access denied: the Signature does not match the request (AccessKey [{ak}])"),
    )
}

pub fn not_admin(code: i32, ak: &str) -> (i32, String) {
    (
        16,
        format!("access denied: request code {code} needs an admin account; AccessKey [{ak}] is not one"),
    )
}

/// Asserts that none of [`SECRETS`] is in `text` (`what` names where it came from).
pub fn assert_no_secret(text: &str, what: &str) {
    for s in SECRETS {
        assert!(!text.contains(s), "{what} shows the secret {s}:\n{text}");
    }
}
