//! The authentication check of a connection's requests (`authenticationEnabled`):
//! the decision is [`crate::auth::policy::decide`]; this module finds the peer and
//! the live `anonymousRouteRead`, keeps a large registration's HMAC off the shard,
//! and counts and logs a refusal.
//!
//! Nothing here runs when the check is off: the connection tests
//! `ShardContext::auth` once per request and calls in only when it is set.

use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::sync::Arc;

use bytes::Bytes;
use protocol::codes::request as rq;
use protocol::RemotingCommand;

use super::context::ShardContext;
use crate::auth::policy::{self, Denial};
use crate::auth::AuthService;
use crate::registry::ConnId;

/// Whether the request may be served. A REGISTER_BROKER whose body is decoded off
/// the shard (`handlers::decodes_off_shard`) is checked on the shard's blocking
/// thread too: its Signature is an HMAC over the whole body, megabytes at times.
#[inline(never)]
pub(super) async fn authorize(
    ctx: &ShardContext,
    auth: &AuthService,
    peer: Option<SocketAddr>,
    cmd: &RemotingCommand,
    body: Option<&Bytes>,
) -> Result<(), Denial> {
    // Without a known peer (a PROXY `LOCAL` header has none) no whitelist can match.
    let peer = peer.map_or(IpAddr::V4(Ipv4Addr::UNSPECIFIED), |p| p.ip());
    let anonymous = ctx.snapshot.load().config.anonymous_route_read;
    let len = body.map_or(0, Bytes::len);
    if cmd.code == rq::REGISTER_BROKER && crate::handlers::decodes_off_shard(cmd, len) {
        let accounts = Arc::clone(&*auth.accounts());
        let cmd = cmd.clone();
        let body = body.cloned();
        return glommio::executor()
            .spawn_blocking(move || {
                let body = body.as_deref().unwrap_or(&[]);
                policy::decide(&accounts, &cmd, body, peer, anonymous)
            })
            .await;
    }
    let body = body.map_or(&[][..], |b| b.as_ref());
    policy::decide(&auth.accounts(), cmd, body, peer, anonymous)
}

/// Counts a refusal (a refused registration is a rejected one too) and logs it,
/// at most one line a second per shard.
#[cold]
#[inline(never)]
pub(super) fn count_refusal(
    ctx: &ShardContext,
    conn: ConnId,
    peer: Option<SocketAddr>,
    code: i32,
    denial: &Denial,
) {
    let stats = ctx.stats();
    stats.request_denied(denial.reason);
    if code == rq::REGISTER_BROKER {
        stats.registration_rejected();
    }
    if let Some(suppressed) = ctx.denied.admit() {
        tracing::warn!(
            conn = conn.0,
            ?peer,
            code,
            reason = denial.reason.label(),
            remark = %denial.remark,
            suppressed,
            "request refused by the authentication check"
        );
    }
}
