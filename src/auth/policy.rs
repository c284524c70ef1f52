//! Who may send which request: the class of each request code and the decision
//! for one request, as a pure function of the accounts, the request and its peer.
//!
//! The decision follows RocketMQ 4.x `PlainPermissionManager#validate`, tightened
//! for a name server: a `globalWhiteRemoteAddresses` peer passes; a request
//! without AccessKey is anonymous (allowed for route reads only); a presented
//! AccessKey is always checked, also on route reads; an account's own
//! `whiteRemoteAddress` spares the Signature but not the `admin` flag on admin
//! codes (4.x let a whitelisted account do everything).

use std::net::IpAddr;

use protocol::acl::{self, ACCESS_KEY, SIGNATURE};
use protocol::codes::request as rq;
use protocol::RemotingCommand;

use super::accounts::Accounts;
pub use crate::http::metrics::DenyReason;

/// What a request code needs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Access {
    /// Route and cluster reads: anonymous callers too, unless `anonymousRouteRead=false`.
    Open,
    /// What brokers send (and codes we do not know): any valid account.
    Account,
    /// Changes of the KV store, permissions, topics and the configuration, and the
    /// reads of the KV store and the configuration: an `admin` account.
    Admin,
}

/// The class of request `code`.
pub fn access_of(code: i32) -> Access {
    match code {
        rq::GET_ROUTEINFO_BY_TOPIC
        | rq::GET_BROKER_CLUSTER_INFO
        | rq::GET_ALL_TOPIC_LIST_FROM_NAMESERVER
        | rq::GET_TOPICS_BY_CLUSTER
        | rq::GET_SYSTEM_TOPIC_LIST_FROM_NS
        | rq::GET_UNIT_TOPIC_LIST
        | rq::GET_HAS_UNIT_SUB_TOPIC_LIST
        | rq::GET_HAS_UNIT_SUB_UNUNIT_TOPIC_LIST
        | rq::GET_BROKER_MEMBER_GROUP => Access::Open,
        rq::PUT_KV_CONFIG
        | rq::DELETE_KV_CONFIG
        | rq::WIPE_WRITE_PERM_OF_BROKER
        | rq::DELETE_TOPIC_IN_NAMESRV
        | rq::UPDATE_NAMESRV_CONFIG
        | rq::ADD_WRITE_PERM_OF_BROKER
        | rq::GET_KV_CONFIG
        | rq::GET_KVLIST_BY_NAMESPACE
        | rq::GET_NAMESRV_CONFIG => Access::Admin,
        // 103 104 904 217, 322 (it renews a broker's liveness) and unknown codes.
        _ => Access::Account,
    }
}

/// A refused request: why (the counter's label) and the remark of its answer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Denial {
    pub reason: DenyReason,
    pub remark: String,
}

/// The value of ext field `key` as Java's map would hold it: the last one wins.
fn ext_last<'a>(cmd: &'a RemotingCommand, key: &str) -> Option<&'a str> {
    cmd.ext_fields
        .as_deref()?
        .iter()
        .rev()
        .find(|(k, _)| k == key)
        .map(|(_, v)| v.as_str())
}

/// An anonymous route read while those are allowed: [`decide`] serves it whatever
/// the accounts say (no whitelist can refuse it), so the gate settles it without
/// loading them.
pub fn open_to_anonymous(cmd: &RemotingCommand, anonymous_route_read: bool) -> bool {
    anonymous_route_read
        && access_of(cmd.code) == Access::Open
        && ext_last(cmd, ACCESS_KEY).is_none()
}

/// Whether request `cmd` (with `body`, the bytes as sent) from `peer` may be served.
pub fn decide(
    accounts: &Accounts,
    cmd: &RemotingCommand,
    body: &[u8],
    peer: IpAddr,
    anonymous_route_read: bool,
) -> Result<(), Denial> {
    if accounts.globally_whitelisted(peer) {
        return Ok(());
    }
    let access = access_of(cmd.code);
    let Some(access_key) = ext_last(cmd, ACCESS_KEY) else {
        if access == Access::Open && anonymous_route_read {
            return Ok(());
        }
        return Err(denied(DenyReason::NoAccessKey, cmd.code, None, peer));
    };
    let refuse = |reason| denied(reason, cmd.code, Some(access_key), peer);
    let Some(account) = accounts.get(access_key) else {
        return Err(refuse(DenyReason::UnknownAccessKey));
    };
    let not_admin = access == Access::Admin && !account.admin;
    if !account.whitelisted(peer) {
        let Some(signature) = ext_last(cmd, SIGNATURE) else {
            return Err(refuse(DenyReason::AddressNotAllowed));
        };
        // Before any hashing: a non-admin key can never send an admin code, so
        // it must not make this core hash a large body to learn that.
        if not_admin {
            return Err(refuse(DenyReason::NotAdmin));
        }
        let ext = cmd.ext_fields.as_deref().unwrap_or(&[]);
        if ext.len() > acl::MAX_SIGNED_FIELDS {
            return Err(too_many_fields(ext.len(), access_key));
        }
        if !acl::verify_with(account.signing_key(), ext, body, signature) {
            return Err(refuse(DenyReason::BadSignature));
        }
    }
    if not_admin {
        return Err(refuse(DenyReason::NotAdmin));
    }
    Ok(())
}

/// Longest part of a presented AccessKey a remark echoes.
const ECHO_CHARS: usize = 64;

/// A presented AccessKey as a remark may show it: at most [`ECHO_CHARS`]
/// characters, control characters replaced, so a peer cannot write lines into
/// a client's log.
pub fn echo(access_key: &str) -> String {
    let mut out: String = access_key
        .chars()
        .take(ECHO_CHARS)
        .map(|c| if shown_as_is(c) { c } else { '?' })
        .collect();
    if access_key.chars().nth(ECHO_CHARS).is_some() {
        out.push('…');
    }
    out
}

/// A signed request with more ext fields than anyone signs: refused unhashed.
#[cold]
#[inline(never)]
fn too_many_fields(count: usize, access_key: &str) -> Denial {
    Denial {
        reason: DenyReason::BadSignature,
        remark: format!(
            "access denied: too many fields to check a Signature ({count} ext fields, at most {}; AccessKey [{}])",
            acl::MAX_SIGNED_FIELDS,
            echo(access_key)
        ),
    }
}

/// Whether `c` may appear in a remark as it is: not a control character (Cc)
/// and not an invisible format character (Cf: bidi overrides, zero-width ones)
/// that could make a log line read otherwise than it is.
fn shown_as_is(c: char) -> bool {
    !c.is_control() && !is_format_char(c)
}

/// Unicode General_Category Cf (Unicode 15), the ranges outside the Cc set.
fn is_format_char(c: char) -> bool {
    matches!(
        c as u32,
        0x00AD
            | 0x0600..=0x0605
            | 0x061C
            | 0x06DD
            | 0x070F
            | 0x0890..=0x0891
            | 0x08E2
            | 0x180E
            | 0x200B..=0x200F
            | 0x202A..=0x202E
            | 0x2060..=0x2064
            | 0x2066..=0x206F
            | 0xFEFF
            | 0xFFF9..=0xFFFB
            | 0x110BD
            | 0x110CD
            | 0x13430..=0x1343F
            | 0x1BCA0..=0x1BCA3
            | 0x1D173..=0x1D17A
            | 0xE0001
            | 0xE0020..=0xE007F
    )
}

/// The refusal; out of line, as only refused requests build a remark.
#[cold]
#[inline(never)]
fn denied(reason: DenyReason, code: i32, access_key: Option<&str>, peer: IpAddr) -> Denial {
    let key = access_key.map(echo).unwrap_or_default();
    let remark = match reason {
        DenyReason::NoAccessKey => {
            format!("access denied: request code {code} needs an account (no AccessKey)")
        }
        DenyReason::UnknownAccessKey => {
            format!("access denied: unknown AccessKey [{key}]")
        }
        DenyReason::AddressNotAllowed => format!(
            "access denied: no Signature, and {peer} is not a whitelisted address of AccessKey [{key}]"
        ),
        DenyReason::BadSignature => {
            format!("access denied: the Signature does not match the request (AccessKey [{key}])")
        }
        DenyReason::NotAdmin => format!(
            "access denied: request code {code} needs an admin account; AccessKey [{key}] is not one"
        ),
    };
    Denial { reason, remark }
}

#[cfg(test)]
#[path = "policy_tests.rs"]
mod tests;
