//! Signed requests, as a RocketMQ client with `AclClientRPCHook` sends them: with
//! `--access-key`/`--secret-key` every request carries `AccessKey` (and
//! `SecurityToken`) and a `Signature` made by `protocol::acl::sign`.
//!
//! A signature covers the ext fields and the body, not the opaque, so a route
//! lookup for one topic is signed once and reused ([`RouteRequests`]): loadgen
//! spends no HMAC per lookup, and what a signed run measures is the server's cost.

use std::fmt;
use std::sync::{Arc, OnceLock};

use protocol::RemotingCommand;

use crate::requests;
use crate::topology::Topology;

/// An account's keys. `Debug` shows the access key only.
#[derive(Clone, PartialEq, Eq)]
pub struct Credentials {
    pub access_key: String,
    secret_key: String,
    security_token: Option<String>,
}

impl fmt::Debug for Credentials {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Credentials")
            .field("access_key", &self.access_key)
            .field("secret_key", &"<redacted>")
            .field(
                "security_token",
                &self.security_token.as_ref().map(|_| "<redacted>"),
            )
            .finish()
    }
}

impl Credentials {
    pub fn new(access_key: &str, secret_key: &str, security_token: Option<&str>) -> Self {
        Credentials {
            access_key: access_key.to_string(),
            secret_key: secret_key.to_string(),
            security_token: security_token.map(str::to_string),
        }
    }

    /// Adds `AccessKey` (`SecurityToken`) and the `Signature` over `cmd`'s ext
    /// fields and `body` (`AclClientRPCHook#doBeforeRequest`).
    pub fn sign(&self, cmd: &mut RemotingCommand, body: Option<&[u8]>) {
        protocol::acl::sign(
            cmd,
            body.unwrap_or(&[]),
            &self.access_key,
            &self.secret_key,
            self.security_token.as_deref(),
        );
    }
}

/// GET_ROUTEINFO_BY_TOPIC requests of one run, signed once per topic when the
/// run has credentials (built per request, as before, when it has none).
pub struct RouteRequests {
    creds: Option<Arc<Credentials>>,
    version: i32,
    accept_standard_json: bool,
    signed: Vec<OnceLock<RemotingCommand>>,
}

impl RouteRequests {
    pub fn new(
        topo: &Topology,
        creds: Option<Arc<Credentials>>,
        version: i32,
        accept_standard_json: bool,
    ) -> Self {
        let n = if creds.is_some() {
            topo.topics.len()
        } else {
            0
        };
        RouteRequests {
            creds,
            version,
            accept_standard_json,
            signed: (0..n).map(|_| OnceLock::new()).collect(),
        }
    }

    /// The request for `topic` (named `name`); its opaque is the caller's to set.
    pub fn get(&self, topic: u32, name: &str) -> RemotingCommand {
        let build = || requests::route(name, self.version, self.accept_standard_json);
        match (&self.creds, self.signed.get(topic as usize)) {
            (Some(creds), Some(slot)) => slot
                .get_or_init(|| {
                    let mut cmd = build();
                    creds.sign(&mut cmd, None);
                    cmd
                })
                .clone(),
            (Some(creds), None) => {
                let mut cmd = build();
                creds.sign(&mut cmd, None);
                cmd
            }
            (None, _) => build(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::scenario::Scenario;

    #[test]
    fn debug_hides_the_secret_and_the_token() {
        let c = Credentials::new("ak-1", "very-secret", Some("tok-9"));
        let d = format!("{c:?}");
        assert!(d.contains("ak-1"), "{d}");
        assert!(!d.contains("very-secret") && !d.contains("tok-9"), "{d}");
    }

    #[test]
    fn a_route_is_signed_once_and_reused() {
        let mut sc = Scenario::default();
        sc.topics.count = 3;
        let topo = Topology::build(&sc, "t_");
        let creds = Arc::new(Credentials::new("ak", "sk", None));
        let routes = RouteRequests::new(&topo, Some(creds.clone()), 435, true);
        let name = &topo.topics[1].name;
        let a = routes.get(1, name);
        let b = routes.get(1, name);
        assert_eq!(a.ext("AccessKey"), Some("ak"));
        assert_eq!(a.ext("topic"), Some(name.as_str()));
        assert_eq!(a.ext("Signature"), b.ext("Signature"));
        // The same request signed afresh carries the same signature.
        let mut fresh = requests::route(name, 435, true);
        creds.sign(&mut fresh, None);
        assert_eq!(a.ext("Signature"), fresh.ext("Signature"));
        assert!(a.ext("Signature").is_some_and(|s| s.len() == 28));
        // Without credentials nothing is added.
        let plain = RouteRequests::new(&topo, None, 435, true).get(1, name);
        assert_eq!(plain.ext("AccessKey"), None);
        assert_eq!(plain.ext("Signature"), None);
    }
}
