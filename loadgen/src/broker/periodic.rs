//! The periodic broker traffic besides registration: heartbeats (904 or 322)
//! and cluster-info queries (106), with their replies checked.

use std::sync::Arc;
use std::time::Instant;

use protocol::body::ClusterInfo;
use protocol::codes::response;

use super::GroupSim;
use crate::conn::Reply;
use crate::requests;
use crate::scenario::Heartbeat;
use crate::stats::{ErrKind, Op, Outcome};

impl GroupSim {
    pub(super) async fn heartbeats(&mut self) {
        let sc = self.env.sc.clone();
        let b = &sc.brokers;
        let grp = self.env.topo.groups[self.g as usize].clone();
        let cluster = self.cluster().to_string();
        let mut waits = Vec::new();
        let mut dead = Vec::new();
        for m in 0..self.up.len() {
            if !self.up[m] {
                continue;
            }
            let (cmd, body) = match b.heartbeat {
                Heartbeat::QueryDataVersion => {
                    let (c, body) = requests::query_data_version(
                        &cluster,
                        &grp,
                        &grp.members[m],
                        b.version,
                        &self.dv,
                    );
                    (c, Some(body))
                }
                _ => (
                    requests::heartbeat(&cluster, &grp, &grp.members[m], b.version),
                    None,
                ),
            };
            for (t, c) in self.conns[m].iter_mut().enumerate() {
                let Some(c) = c.as_mut() else { continue };
                let now = Instant::now();
                if b.heartbeat_oneway {
                    let outcome = match c.oneway(cmd.clone(), body.as_deref()).await {
                        Ok(()) => Outcome::Ok,
                        Err(_) => {
                            dead.push((m, t));
                            Outcome::Err(ErrKind::Send)
                        }
                    };
                    self.env
                        .shared
                        .hub
                        .record_count(t, Op::Heartbeat, now, outcome);
                } else {
                    waits.push((t, now, c.start(cmd.clone(), body.as_deref()).await));
                }
            }
        }
        for (m, t) in dead {
            // Reconnected at the next registration.
            self.conns[m][t] = None;
        }
        let stable = !self.env.exp.group_settling(self.g, Instant::now());
        for (t, sent, rx) in waits {
            let res = rx.await.unwrap_or(Err(ErrKind::Closed));
            let (at, outcome, ex) = match &res {
                Ok(r) if r.cmd.code != response::SUCCESS => {
                    (r.at, Outcome::Err(ErrKind::Code(r.cmd.code)), None)
                }
                // 322 answers changed=false once our registration is stored.
                Ok(r)
                    if b.heartbeat == Heartbeat::QueryDataVersion
                        && stable
                        && r.cmd.ext("changed") != Some("false") =>
                {
                    (
                        r.at,
                        Outcome::Err(ErrKind::WrongReply),
                        Some(format!(
                            "322 for {}: changed={:?}",
                            grp.name,
                            r.cmd.ext("changed")
                        )),
                    )
                }
                Ok(r) => (r.at, Outcome::Ok, None),
                Err(k) => (Instant::now(), Outcome::Err(*k), None),
            };
            self.env
                .shared
                .hub
                .record(t, Op::Heartbeat, sent, at, outcome, ex);
        }
    }

    /// Each live member asks one target for the cluster info and checks that its
    /// own group is listed with the live addresses.
    pub(super) async fn cluster_infos(&mut self) {
        let version = self.env.sc.brokers.version;
        let targets = self.env.targets.len();
        let mut waits = Vec::new();
        for m in 0..self.up.len() {
            if !self.up[m] {
                continue;
            }
            let t = (m + self.g as usize) % targets;
            if let Some(c) = self.conns[m][t].as_mut() {
                waits.push((
                    t,
                    Instant::now(),
                    c.start(requests::cluster_info(version), None).await,
                ));
            }
        }
        for (t, sent, rx) in waits {
            let res = rx.await.unwrap_or(Err(ErrKind::Closed));
            let (at, outcome, ex) = match &res {
                Ok(r) if r.cmd.code != response::SUCCESS => {
                    (r.at, Outcome::Err(ErrKind::Code(r.cmd.code)), None)
                }
                Ok(r) => {
                    let (o, ex) = self.check_cluster_info(r);
                    (r.at, o, ex)
                }
                Err(k) => (Instant::now(), Outcome::Err(*k), None),
            };
            self.env
                .shared
                .hub
                .record(t, Op::ClusterInfo, sent, at, outcome, ex);
        }
    }

    /// Decodes a 106 body, reusing the last parse when the bytes are the same.
    fn decode_cluster_info(
        &self,
        body: &[u8],
    ) -> Result<Arc<ClusterInfo>, protocol::body::BodyError> {
        let crc = crc32fast::hash(body);
        let cache = &self.env.cluster_info_cache;
        if let Some((c, len, info)) = cache.lock().unwrap_or_else(|e| e.into_inner()).as_ref() {
            if *c == crc && *len == body.len() {
                return Ok(info.clone());
            }
        }
        let info = Arc::new(ClusterInfo::decode(body)?);
        *cache.lock().unwrap_or_else(|e| e.into_inner()) = Some((crc, body.len(), info.clone()));
        Ok(info)
    }

    fn check_cluster_info(&self, r: &Reply) -> (Outcome, Option<String>) {
        if !self.env.sc.verify {
            return (Outcome::Ok, None);
        }
        let Some(body) = r.body.as_deref() else {
            return (
                Outcome::Err(ErrKind::Decode),
                Some("106 without a body".into()),
            );
        };
        let info = match self.decode_cluster_info(body) {
            Ok(i) => i,
            Err(e) => return (Outcome::Err(ErrKind::Decode), Some(format!("106: {e}"))),
        };
        if self.env.exp.group_settling(self.g, r.at) {
            return (Outcome::Ok, None);
        }
        let grp = &self.env.topo.groups[self.g as usize];
        let st = self.env.exp.state(self.g);
        let want: std::collections::BTreeMap<i64, String> = grp
            .members
            .iter()
            .zip(&st.live)
            .filter(|(_, &l)| l)
            .map(|(m, _)| (m.id, m.addr.clone()))
            .collect();
        let got = info
            .broker_addr_table
            .get(&grp.name)
            .map(|bd| bd.broker_addrs.clone())
            .unwrap_or_default();
        let listed = info
            .cluster_addr_table
            .get(self.cluster())
            .is_some_and(|names| names.contains(&grp.name));
        if got != want || !listed {
            let why = format!(
                "106: {} has {got:?} (in cluster list: {listed}), expected {want:?}",
                grp.name
            );
            return (Outcome::Err(ErrKind::WrongReply), Some(why));
        }
        (Outcome::Ok, None)
    }
}
