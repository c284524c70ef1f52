//! Checks a route reply against what the simulated brokers registered.

use std::collections::BTreeMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Instant;

use protocol::body::TopicRouteData;
use protocol::codes::response;

use crate::expected::Expected;
use crate::stats::ErrKind;

/// The outcome of one check.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Verdict {
    Ok,
    /// Wrong, but a hosting group changed within the settle time.
    InTransition,
    Wrong(ErrKind, String),
}

/// The route we expect for one group.
struct ExpBroker {
    cluster: String,
    addrs: BTreeMap<i64, String>,
    perm: i32,
    queues: i32,
}

/// Verifies route replies, remembering the last verified-correct body per
/// (topic, target, dialect) so identical replies under an unchanged expected
/// state skip the JSON decode.
pub struct Verifier {
    exp: std::sync::Arc<Expected>,
    targets: usize,
    cache: Vec<AtomicU64>,
    /// `false`: only the response code is checked (scenario `verify = false`).
    enabled: bool,
}

impl Verifier {
    pub fn new(exp: std::sync::Arc<Expected>, targets: usize) -> Self {
        let n = exp.topo.topics.len() * targets * 2;
        Verifier {
            exp,
            targets,
            cache: (0..n).map(|_| AtomicU64::new(0)).collect(),
            enabled: true,
        }
    }

    /// Turns content checks off (`false`) or on: off, any SUCCESS or
    /// TOPIC_NOT_EXIST reply counts as correct. Only for ceiling runs against a
    /// server that is not a name server (e.g. the echo limit).
    pub fn with_checks(mut self, enabled: bool) -> Self {
        self.enabled = enabled;
        self
    }

    pub fn checks_enabled(&self) -> bool {
        self.enabled
    }

    pub fn expected(&self) -> &Expected {
        &self.exp
    }

    /// Checks a reply to GET_ROUTEINFO_BY_TOPIC for `topic`, sent to target
    /// `target` by a client that expects the legacy dialect iff `legacy`.
    pub fn check_route(
        &self,
        topic: u32,
        target: usize,
        legacy: bool,
        code: i32,
        body: Option<&[u8]>,
        now: Instant,
    ) -> Verdict {
        if !self.enabled {
            return match code {
                response::SUCCESS | response::TOPIC_NOT_EXIST => Verdict::Ok,
                c => Verdict::Wrong(ErrKind::Code(c), format!("response code {c}")),
            };
        }
        if code == response::NO_PERMISSION {
            // A refusal is the server's access check, never a route in transition.
            return Verdict::Wrong(
                ErrKind::Code(code),
                "response code 16 (NO_PERMISSION): the server wants signed lookups \
                 (--access-key/--secret-key)"
                    .into(),
            );
        }
        let gen = self.exp.topic_gen(topic);
        let key = cache_key(gen, code, body);
        let slot = &self.cache[(topic as usize * self.targets + target) * 2 + legacy as usize];
        if slot.load(Ordering::Relaxed) == key {
            return Verdict::Ok;
        }
        match self.full_check(topic, legacy, code, body) {
            Ok(()) => {
                slot.store(key, Ordering::Relaxed);
                Verdict::Ok
            }
            Err((kind, msg)) => {
                if self.exp.topic_settling(topic, now) {
                    Verdict::InTransition
                } else {
                    let name = &self.exp.topo.topics[topic as usize].name;
                    Verdict::Wrong(kind, format!("topic {name}: {msg}"))
                }
            }
        }
    }

    fn expected_route(&self, topic: u32) -> BTreeMap<String, ExpBroker> {
        let topo = &self.exp.topo;
        let td = &topo.topics[topic as usize];
        let mut out = BTreeMap::new();
        for &g in &td.groups {
            let st = self.exp.state(g);
            if !st.has_queue_data || !st.live.iter().any(|&l| l) {
                continue;
            }
            let grp = &topo.groups[g as usize];
            let pos = topo.topic_pos(g, topic).unwrap_or(0);
            let addrs = grp
                .members
                .iter()
                .zip(&st.live)
                .filter(|(_, &l)| l)
                .map(|(m, _)| (m.id, m.addr.clone()))
                .collect();
            out.insert(
                grp.name.clone(),
                ExpBroker {
                    cluster: topo.clusters[grp.cluster as usize].clone(),
                    addrs,
                    perm: td.perm,
                    queues: st.queues.get(pos).copied().unwrap_or(td.queues),
                },
            );
        }
        out
    }

    fn full_check(
        &self,
        topic: u32,
        legacy: bool,
        code: i32,
        body: Option<&[u8]>,
    ) -> Result<(), (ErrKind, String)> {
        let exp = self.expected_route(topic);
        if code == response::TOPIC_NOT_EXIST {
            if exp.is_empty() {
                return Ok(());
            }
            return Err((
                ErrKind::MissingRoute,
                format!(
                    "answered 17 (no route) but {} broker group(s) registered it",
                    exp.len()
                ),
            ));
        }
        if code != response::SUCCESS {
            return Err((ErrKind::Code(code), format!("response code {code}")));
        }
        let body = match body {
            Some(b) if !b.is_empty() => b,
            _ => return Err((ErrKind::Decode, "SUCCESS without a body".into())),
        };
        if exp.is_empty() {
            return Err((
                ErrKind::UnexpectedRoute,
                "a route for a topic no live broker hosts".into(),
            ));
        }
        check_dialect(body, legacy)?;
        let route = TopicRouteData::decode(body)
            .map_err(|e| (ErrKind::Decode, format!("undecodable route: {e}")))?;
        compare(&exp, &route)
    }
}

fn cache_key(gen: u64, code: i32, body: Option<&[u8]>) -> u64 {
    let (crc, len) = match body {
        Some(b) => (crc32fast::hash(b) as u64, b.len() as u64),
        None => (0, 0),
    };
    let k = (crc << 32 | (len & 0xFFFF_FFFF))
        ^ gen.wrapping_mul(0x9E37_79B9_7F4A_7C15)
        ^ (code as u64) << 17;
    // 0 is "nothing cached".
    k.max(1)
}

/// `brokerAddrs` keys are unquoted (`{0:`) in the legacy dialect and quoted
/// (`{"0":`) in standard JSON, which `ClientRequestProcessor#getRouteInfoByTopic`
/// writes for request versions from V4_9_4 (401) on.
fn check_dialect(body: &[u8], legacy: bool) -> Result<(), (ErrKind, String)> {
    const KEY: &[u8] = b"\"brokerAddrs\":{";
    let Some(pos) = body.windows(KEY.len()).position(|w| w == KEY) else {
        return Ok(());
    };
    match body.get(pos + KEY.len()) {
        Some(b'}') | None => Ok(()),
        Some(c) if c.is_ascii_digit() && legacy => Ok(()),
        Some(b'"') if !legacy => Ok(()),
        Some(_) => Err((
            ErrKind::Dialect,
            format!(
                "brokerAddrs written in the {} dialect, expected {}",
                if legacy { "standard" } else { "legacy" },
                if legacy {
                    "legacy (unquoted ids)"
                } else {
                    "standard (quoted ids)"
                }
            ),
        )),
    }
}

fn compare(
    exp: &BTreeMap<String, ExpBroker>,
    route: &TopicRouteData,
) -> Result<(), (ErrKind, String)> {
    let wrong = |m: String| Err((ErrKind::WrongRoute, m));
    if route.queue_datas.len() != exp.len() {
        let got: Vec<&str> = route
            .queue_datas
            .iter()
            .map(|q| q.broker_name.as_str())
            .collect();
        return wrong(format!(
            "queueDatas name {got:?}, expected {:?}",
            exp.keys().collect::<Vec<_>>()
        ));
    }
    let mut seen = std::collections::BTreeSet::new();
    for qd in &route.queue_datas {
        if !seen.insert(qd.broker_name.as_str()) {
            return wrong(format!("queueData for {} listed twice", qd.broker_name));
        }
        let Some(e) = exp.get(&qd.broker_name) else {
            return wrong(format!(
                "queueData for unexpected broker {}",
                qd.broker_name
            ));
        };
        if qd.read_queue_nums != e.queues || qd.write_queue_nums != e.queues || qd.perm != e.perm {
            return wrong(format!(
                "{}: queues r{}/w{} perm {}, expected r{q}/w{q} perm {}",
                qd.broker_name,
                qd.read_queue_nums,
                qd.write_queue_nums,
                qd.perm,
                e.perm,
                q = e.queues
            ));
        }
    }
    if route.broker_datas.len() != exp.len() {
        return wrong(format!(
            "{} brokerDatas, expected {}",
            route.broker_datas.len(),
            exp.len()
        ));
    }
    let mut seen = std::collections::BTreeSet::new();
    for bd in &route.broker_datas {
        if !seen.insert(bd.broker_name.as_str()) {
            return wrong(format!("brokerData for {} listed twice", bd.broker_name));
        }
        let Some(e) = exp.get(&bd.broker_name) else {
            return wrong(format!(
                "brokerData for unexpected broker {}",
                bd.broker_name
            ));
        };
        if bd.cluster != e.cluster {
            return wrong(format!(
                "{}: cluster {}, expected {}",
                bd.broker_name, bd.cluster, e.cluster
            ));
        }
        if bd.broker_addrs != e.addrs {
            return wrong(format!(
                "{}: brokerAddrs {:?}, expected {:?}",
                bd.broker_name, bd.broker_addrs, e.addrs
            ));
        }
    }
    Ok(())
}
