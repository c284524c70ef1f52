//! The authentication check of a connection's requests (`authenticationEnabled`):
//! the decision is [`crate::auth::policy::decide`]; this module finds the peer and
//! the live `anonymousRouteRead`, keeps the HMAC of a large body off the shard,
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
use crate::registry::snapshot::Snapshot;
use crate::registry::ConnId;

/// Bodies from this size are hashed off the shard: an HMAC over megabytes would
/// hold up every other connection of the core. The bar of a plain registration's
/// off-shard decode (`handlers::broker`), for the same reason.
const HASH_OFF_SHARD_BYTES: usize = 256 << 10;

/// Whether the request may be served, decided here on the shard; `None` when its
/// body is large (or it is a REGISTER_BROKER decoded off the shard anyway,
/// `handlers::decodes_off_shard`): then [`authorize_off_shard`] checks it on the
/// blocking thread, its Signature being an HMAC over the whole body.
#[inline(never)]
pub(super) fn authorize(
    auth: &AuthService,
    snap: &Snapshot,
    peer: Option<SocketAddr>,
    cmd: &RemotingCommand,
    body: Option<&Bytes>,
) -> Option<Result<(), Denial>> {
    let anonymous = snap.config.anonymous_route_read;
    if policy::open_to_anonymous(cmd, anonymous) {
        return Some(Ok(()));
    }
    let len = body.map_or(0, Bytes::len);
    if len >= HASH_OFF_SHARD_BYTES
        || (cmd.code == rq::REGISTER_BROKER && crate::handlers::decodes_off_shard(cmd, len))
    {
        return None;
    }
    let body = body.map_or(&[][..], |b| b.as_ref());
    Some(policy::decide(
        &auth.accounts(),
        cmd,
        body,
        peer_ip(peer),
        anonymous,
    ))
}

/// [`authorize`] of a large request, on the shard's blocking thread. The
/// connection boxes this future, so its frame loop's own future does not grow.
pub(super) async fn authorize_off_shard(
    auth: &AuthService,
    anonymous: bool,
    peer: Option<SocketAddr>,
    cmd: &RemotingCommand,
    body: Option<&Bytes>,
) -> Result<(), Denial> {
    let accounts = Arc::clone(&*auth.accounts());
    let cmd = cmd.clone();
    let body = body.cloned();
    let peer = peer_ip(peer);
    glommio::executor()
        .spawn_blocking(move || {
            let body = body.as_deref().unwrap_or(&[]);
            policy::decide(&accounts, &cmd, body, peer, anonymous)
        })
        .await
}

/// The address whitelists are matched against. Without a known peer (the socket
/// gave none) no whitelist but `*` can match.
fn peer_ip(peer: Option<SocketAddr>) -> IpAddr {
    peer.map_or(IpAddr::V4(Ipv4Addr::UNSPECIFIED), |p| p.ip())
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
            reason = %denial.reason.label(),
            remark = %denial.remark,
            suppressed,
            "request refused by the authentication check"
        );
    }
}
