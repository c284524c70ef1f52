//! GET_ROUTEINFO_BY_TOPIC (105): a map probe and a copy of the route's encoded bytes
//! (spliced by the first lookup of a route, shared by every later one).

use protocol::codes::{response, version};
use protocol::json::Dialect;
use protocol::RemotingCommand;

use crate::registry::snapshot::Snapshot;
use crate::reply::Reply;

const ZONE_MODE: &str = "__ZONE_MODE";
const ZONE_NAME: &str = "__ZONE_NAME";

pub fn get_route(snap: &Snapshot, cmd: &RemotingCommand) -> Reply {
    if !snap.serves_routes() {
        return Reply::system_error("name server not ready");
    }
    // A zone-filtered route is always answered in the legacy dialect, rebuilt from
    // the body in the requested one (see `RouteEntry::zone_body`).
    let zone = zone_of(cmd);
    let standard =
        cmd.version >= version::V4_9_4 || cmd.ext_bool("acceptStandardJsonOnly") == Some(true);
    let dialect = if standard {
        Dialect::Standard
    } else {
        Dialect::Legacy
    };
    let topic = cmd.ext("topic");
    let entry = topic.and_then(|t| snap.routes.get(t));
    let body = match zone {
        // Upstream's nearby-route filter (`ZoneRouteRPCHook`), per request.
        Some(zone) => entry.and_then(|e| e.zone_body(zone, dialect)),
        None => entry.and_then(|e| e.body(dialect)),
    };
    let Some(body) = body else {
        return Reply::error(
            response::TOPIC_NOT_EXIST,
            format!(
                "No topic route info in name server for the topic: {}\nSee https://rocketmq.apache.org/docs/bestPractice/06FAQ for further details.",
                topic.unwrap_or("null")
            ),
        );
    };
    Reply::with_body(body)
}

/// The zone a client asked for with `__ZONE_MODE=true` and a non-blank `__ZONE_NAME`.
fn zone_of(cmd: &RemotingCommand) -> Option<&str> {
    if cmd.ext_bool(ZONE_MODE) != Some(true) {
        return None;
    }
    cmd.ext(ZONE_NAME).filter(|z| !z.trim().is_empty())
}
