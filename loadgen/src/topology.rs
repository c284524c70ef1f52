//! The simulated estate: clusters, broker groups (master + slaves), topics and
//! which groups host which topic. Built deterministically from a scenario.

use crate::rng::Rng;
use crate::scenario::Scenario;

/// One broker process of a group.
#[derive(Debug, Clone)]
pub struct Member {
    /// Broker id: 0 = master.
    pub id: i64,
    pub addr: String,
    pub ha_addr: String,
}

/// A broker group (one broker name).
#[derive(Debug, Clone)]
pub struct Group {
    pub name: String,
    pub cluster: u32,
    pub members: Vec<Member>,
    /// Topic indices this group registers, in body order.
    pub topics: Vec<u32>,
    /// Groups with the same class register the same topics (same queues at
    /// startup): one register body serves all of them.
    pub body_class: u32,
    /// Groups in this body class (1: the body is the group's own, so
    /// loadgen does not cache it).
    pub class_size: u32,
}

#[derive(Debug, Clone)]
pub struct TopicDef {
    pub name: String,
    /// Queue count at startup (read = write).
    pub queues: i32,
    pub perm: i32,
    /// Groups hosting this topic.
    pub groups: Vec<u32>,
}

#[derive(Debug, Clone)]
pub struct Topology {
    pub prefix: String,
    pub clusters: Vec<String>,
    pub groups: Vec<Group>,
    /// User topics first (`0..user_topics`), then system topics.
    pub topics: Vec<TopicDef>,
    pub user_topics: u32,
}

/// Shared system topics real brokers register (prefixed, so runs never collide).
pub const SHARED_SYSTEM_TOPICS: &[(&str, i32, i32)] = &[
    ("TBW102", 8, 7),
    ("SCHEDULE_TOPIC_XXXX", 18, 6),
    ("RMQ_SYS_TRANS_HALF_TOPIC", 1, 6),
    ("OFFSET_MOVED_EVENT", 1, 6),
];

impl Topology {
    pub fn build(sc: &Scenario, prefix: &str) -> Topology {
        let b = &sc.brokers;
        let t = &sc.topics;
        let mut rng = Rng::derive(sc.seed, 1);
        let clusters: Vec<String> = (0..b.clusters)
            .map(|c| format!("{prefix}Cluster{c}"))
            .collect();

        let mut groups: Vec<Group> = (0..b.groups)
            .map(|g| {
                let cluster = g % b.clusters;
                let members = (0..=b.slaves as i64)
                    .map(|id| {
                        // Addresses are only strings in the registry: never
                        // dialled. Loopback range, unique per member.
                        let host =
                            format!("127.{}.{}.{}", 1 + cluster % 250, (g >> 8) & 255, g & 255);
                        let port = 10911 + 100 * id;
                        Member {
                            id,
                            addr: format!("{host}:{port}"),
                            ha_addr: format!("{host}:{}", port + 1),
                        }
                    })
                    .collect();
                Group {
                    name: format!("{prefix}broker-{g}"),
                    cluster,
                    members,
                    topics: Vec::new(),
                    body_class: g,
                    class_size: 1,
                }
            })
            .collect();

        let by_cluster: Vec<Vec<u32>> = (0..b.clusters)
            .map(|c| (0..b.groups).filter(|g| g % b.clusters == c).collect())
            .collect();

        let mut topics: Vec<TopicDef> = Vec::new();
        for i in 0..t.count {
            let cluster = (i % b.clusters) as usize;
            let members = &by_cluster[cluster];
            let spread = (t.groups_per_topic as usize).clamp(1, members.len().max(1));
            let start = rng.below(members.len() as u64) as usize;
            let hosts: Vec<u32> = (0..spread)
                .map(|k| members[(start + k) % members.len()])
                .collect();
            let queues = t.queues[rng.below(t.queues.len() as u64) as usize];
            topics.push(TopicDef {
                name: topic_name(prefix, &t.name_prefix, i, t.name_len, &mut rng),
                queues,
                perm: 6,
                groups: hosts,
            });
        }
        let user_topics = topics.len() as u32;

        // Cluster-name and broker-name topics (clusterTopicEnable /
        // brokerTopicEnable, on by default): every broker carries them.
        for (c, name) in clusters.iter().enumerate() {
            topics.push(TopicDef {
                name: name.clone(),
                queues: 16,
                perm: 7,
                groups: by_cluster[c].clone(),
            });
        }
        if t.broker_topics {
            for (g, grp) in groups.iter().enumerate() {
                topics.push(TopicDef {
                    name: grp.name.clone(),
                    queues: 16,
                    perm: 7,
                    groups: vec![g as u32],
                });
            }
        }
        if t.system_topics {
            for (name, queues, perm) in SHARED_SYSTEM_TOPICS {
                topics.push(TopicDef {
                    name: format!("{prefix}{name}"),
                    queues: *queues,
                    perm: *perm,
                    groups: (0..b.groups).collect(),
                });
            }
        }
        for (ti, td) in topics.iter().enumerate() {
            for &g in &td.groups {
                groups[g as usize].topics.push(ti as u32);
            }
        }
        // Queue counts are per topic, so equal topic lists mean equal bodies.
        let mut classes: std::collections::HashMap<&[u32], u32> = Default::default();
        let first: Vec<u32> = groups
            .iter()
            .enumerate()
            .map(|(g, grp)| *classes.entry(&grp.topics[..]).or_insert(g as u32))
            .collect();
        let mut sizes = vec![0u32; groups.len()];
        for &c in &first {
            sizes[c as usize] += 1;
        }
        for (grp, class) in groups.iter_mut().zip(first) {
            grp.body_class = class;
            grp.class_size = sizes[class as usize];
        }
        Topology {
            prefix: prefix.to_string(),
            clusters,
            groups,
            topics,
            user_topics,
        }
    }

    /// Position of `topic` in `group`'s topic list.
    pub fn topic_pos(&self, group: u32, topic: u32) -> Option<usize> {
        self.groups[group as usize]
            .topics
            .iter()
            .position(|&t| t == topic)
    }
}

fn topic_name(prefix: &str, stem: &str, i: u32, len: [usize; 2], rng: &mut Rng) -> String {
    let mut name = format!("{prefix}{stem}{i}");
    let want = rng.range(len[0] as u64, len[1] as u64) as usize;
    if name.len() < want {
        name.push('_');
    }
    const ALPHA: &[u8] = b"abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-_";
    while name.len() < want {
        name.push(ALPHA[rng.below(ALPHA.len() as u64) as usize] as char);
    }
    name
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shape() {
        let mut sc = Scenario::default();
        sc.brokers.groups = 10;
        sc.brokers.clusters = 2;
        sc.brokers.slaves = 1;
        sc.topics.count = 100;
        sc.topics.groups_per_topic = 3;
        sc.topics.name_len = [20, 30];
        let t = Topology::build(&sc, "p_");
        assert_eq!(t.groups.len(), 10);
        assert_eq!(t.user_topics, 100);
        assert_eq!(t.topics.len(), 100 + 2 + 10 + 4);
        for td in &t.topics[..100] {
            assert_eq!(td.groups.len(), 3);
            assert!(td.name.len() >= 20 && td.name.len() <= 30, "{}", td.name);
            let c = t.groups[td.groups[0] as usize].cluster;
            assert!(td.groups.iter().all(|&g| t.groups[g as usize].cluster == c));
        }
        assert!(t
            .groups
            .iter()
            .all(|g| g.topics.len() >= 2 && g.members.len() == 2));
        let addrs: std::collections::HashSet<_> = t
            .groups
            .iter()
            .flat_map(|g| g.members.iter().map(|m| m.addr.clone()))
            .collect();
        assert_eq!(addrs.len(), 20);
        // Broker-name topics make every body its own.
        assert!(t
            .groups
            .iter()
            .enumerate()
            .all(|(g, x)| x.body_class == g as u32 && x.class_size == 1));
    }

    #[test]
    fn cluster_wide_topics_share_bodies() {
        let mut sc = Scenario::default();
        sc.brokers.groups = 12;
        sc.brokers.clusters = 3;
        sc.topics.count = 30;
        sc.topics.groups_per_topic = 4;
        sc.topics.broker_topics = false;
        let t = Topology::build(&sc, "p_");
        assert_eq!(t.topics.len(), 30 + 3 + 4);
        let mut classes: Vec<u32> = t.groups.iter().map(|g| g.body_class).collect();
        classes.sort_unstable();
        classes.dedup();
        assert_eq!(classes, vec![0, 1, 2]);
        for g in &t.groups {
            assert_eq!(g.topics.len(), 10 + 1 + 4);
            assert_eq!(t.groups[g.body_class as usize].topics, g.topics);
            assert_eq!(g.class_size, 4);
        }
    }
}
