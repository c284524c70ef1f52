//! GET_ROUTEINFO_BY_TOPIC (105): a map probe and a copy of the route's encoded bytes
//! (spliced by the first lookup of a route, shared by every later one).

use protocol::body::TopicRouteData;
use protocol::codes::{response, version};
use protocol::json::Dialect;
use protocol::RemotingCommand;

use crate::registry::snapshot::Snapshot;
use crate::reply::Reply;

const ZONE_MODE: &str = "__ZONE_MODE";
const ZONE_NAME: &str = "__ZONE_NAME";

pub fn get_route(snap: &Snapshot, cmd: &RemotingCommand) -> Reply {
    let cfg = &snap.config;
    if cfg.need_wait_for_service
        && snap.started.elapsed().as_secs() < cfg.wait_seconds_for_service as u64
    {
        return Reply::system_error("name server not ready");
    }
    // A zone-filtered route is always the legacy dialect (see `filter_by_zone`).
    let zone = zone_of(cmd);
    let standard = zone.is_none()
        && (cmd.version >= version::V4_9_4 || cmd.ext_bool("acceptStandardJsonOnly") == Some(true));
    let dialect = if standard {
        Dialect::Standard
    } else {
        Dialect::Legacy
    };
    let topic = cmd.ext("topic");
    let body = topic
        .and_then(|t| snap.routes.get(t))
        .and_then(|e| e.body(dialect));
    let Some(body) = body else {
        return Reply::error(
            response::TOPIC_NOT_EXIST,
            format!(
                "No topic route info in name server for the topic: {}\nSee https://rocketmq.apache.org/docs/bestPractice/06FAQ for further details.",
                topic.unwrap_or("null")
            ),
        );
    };
    match zone {
        Some(zone) => Reply::with_body(filter_by_zone(&body, zone)),
        None => Reply::with_body(body),
    }
}

/// The zone a client asked for with `__ZONE_MODE=true` and a non-blank `__ZONE_NAME`.
fn zone_of(cmd: &RemotingCommand) -> Option<&str> {
    if cmd.ext_bool(ZONE_MODE) != Some(true) {
        return None;
    }
    cmd.ext(ZONE_NAME).filter(|z| !z.trim().is_empty())
}

/// Upstream's nearby-route filter: keeps brokers of the zone and groups without a
/// master (so reads can fall back to slaves), and always answers in the legacy dialect.
fn filter_by_zone(legacy: &[u8], zone: &str) -> Vec<u8> {
    let mut route = match TopicRouteData::decode(legacy) {
        Ok(r) => r,
        Err(e) => {
            // Our own bytes: cannot happen unless the encoder and decoder disagree.
            tracing::error!(error = %e, "re-decoding a route for zone filtering failed");
            return legacy.to_vec();
        }
    };
    let mut removed = Vec::new();
    route.broker_datas.retain(|bd| {
        let keep = !bd.broker_addrs.contains_key(&0)
            || bd
                .zone_name
                .as_deref()
                .is_some_and(|z| z.eq_ignore_ascii_case(zone));
        if !keep {
            removed.push(bd.clone());
        }
        keep
    });
    route
        .queue_datas
        .retain(|qd| !removed.iter().any(|b| b.broker_name == qd.broker_name));
    for bd in &removed {
        for addr in bd.broker_addrs.values() {
            route.filter_server_table.remove(addr);
        }
    }
    let mut out = Vec::with_capacity(legacy.len());
    route.encode(Dialect::Legacy, &mut out);
    out
}
