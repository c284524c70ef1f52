//! What is measured (operations) and how an operation can end.

use serde::Serialize;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Op {
    /// GET_ROUTEINFO_BY_TOPIC (105).
    Route,
    /// REGISTER_BROKER (103) with data the server has not seen from this
    /// member's connection: the first one, one after a data change or a rejoin.
    Register,
    /// REGISTER_BROKER (103) repeating, byte for byte, the body (and
    /// DataVersion) this member last registered on the same connection: the
    /// periodic re-registration of an idle broker.
    RegisterUnchanged,
    /// BROKER_HEARTBEAT (904) or QUERY_DATA_VERSION (322).
    Heartbeat,
    /// UNREGISTER_BROKER (104).
    Unregister,
    /// GET_BROKER_CLUSTER_INFO (106).
    ClusterInfo,
}

impl Op {
    pub const ALL: [Op; 6] = [
        Op::Route,
        Op::Register,
        Op::RegisterUnchanged,
        Op::Heartbeat,
        Op::Unregister,
        Op::ClusterInfo,
    ];

    pub fn name(self) -> &'static str {
        match self {
            Op::Route => "route",
            Op::Register => "register",
            Op::RegisterUnchanged => "register_unchanged",
            Op::Heartbeat => "heartbeat",
            Op::Unregister => "unregister",
            Op::ClusterInfo => "cluster_info",
        }
    }
}

/// Why an operation counts as an error.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum ErrKind {
    Timeout,
    /// The connection closed with the request outstanding.
    Closed,
    /// The request could not be written.
    Send,
    /// An unexpected response code.
    Code(i32),
    /// The reply could not be decoded.
    Decode,
    /// A route that differs from what the brokers registered.
    WrongRoute,
    /// "No route" (17) for a topic live brokers registered.
    MissingRoute,
    /// A route for a topic no live broker hosts.
    UnexpectedRoute,
    /// Standard JSON where the legacy dialect was due, or the reverse.
    Dialect,
    /// A register/heartbeat/cluster-info reply with wrong content.
    WrongReply,
}

impl ErrKind {
    pub fn name(self) -> String {
        match self {
            ErrKind::Timeout => "timeout".into(),
            ErrKind::Closed => "conn_closed".into(),
            ErrKind::Send => "send_failed".into(),
            ErrKind::Code(c) => format!("code_{c}"),
            ErrKind::Decode => "undecodable".into(),
            ErrKind::WrongRoute => "wrong_route".into(),
            ErrKind::MissingRoute => "missing_route".into(),
            ErrKind::UnexpectedRoute => "unexpected_route".into(),
            ErrKind::Dialect => "wrong_dialect".into(),
            ErrKind::WrongReply => "wrong_reply".into(),
        }
    }

    /// A verification failure (wrong content), as opposed to a transport error.
    pub fn is_verification(self) -> bool {
        matches!(
            self,
            ErrKind::WrongRoute
                | ErrKind::MissingRoute
                | ErrKind::UnexpectedRoute
                | ErrKind::Dialect
                | ErrKind::WrongReply
                | ErrKind::Decode
        )
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    Ok,
    /// Wrong, but within the settle time of a broker change: tolerated.
    InTransition,
    Err(ErrKind),
}
