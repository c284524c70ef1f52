//! Where the views of several name servers disagree.
//!
//! Every table is compared key by key over the union of the servers' keys. A
//! nested table (a group's addresses, a topic's queues) is compared only among the
//! servers that have its parent: a broker group missing on one server is one
//! difference, not one more per broker id. Differences come out in a stable order:
//! clusters, broker groups, broker addresses, then topic by topic, each by name.

use std::collections::{BTreeMap, BTreeSet};

use super::view::{Queues, View};

/// What a difference is about.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Subject {
    Cluster(String),
    Group(String),
    BrokerAddr { group: String, id: i64 },
    Topic(String),
    TopicQueues { topic: String, broker: String },
    OrderConf(String),
}

/// What one server has for a subject.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Value {
    Present,
    InCluster(String),
    Addr(String),
    Queues(Queues),
    Conf(String),
}

/// One disagreement: what each compared server has (`None` = it has nothing).
/// `values` holds (index of the server in the argument list, its value).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Difference {
    pub subject: Subject,
    pub values: Vec<(usize, Option<Value>)>,
}

/// How much was compared (the union over all servers).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Totals {
    pub clusters: usize,
    pub groups: usize,
    pub topics: usize,
}

pub fn compare(views: &[View]) -> (Vec<Difference>, Totals) {
    let all: Vec<usize> = (0..views.len()).collect();
    let mut out = Vec::new();

    let clusters = union(views.iter().map(|v| &v.clusters));
    for c in &clusters {
        push(&mut out, Subject::Cluster(c.to_string()), &all, |i| {
            views[i].clusters.get(*c).map(|_| Value::Present)
        });
    }

    let groups = union(views.iter().map(|v| &v.groups));
    for g in &groups {
        push(&mut out, Subject::Group(g.to_string()), &all, |i| {
            views[i]
                .groups
                .get(*g)
                .map(|grp| Value::InCluster(grp.cluster.clone()))
        });
    }
    for g in &groups {
        let having = having(&all, |i| views[i].groups.contains_key(*g));
        let ids = union(
            having
                .iter()
                .filter_map(|&i| views[i].groups.get(*g))
                .map(|grp| &grp.addrs),
        );
        for id in ids {
            let subject = Subject::BrokerAddr {
                group: g.to_string(),
                id: *id,
            };
            push(&mut out, subject, &having, |i| {
                let addr = views[i].groups.get(*g)?.addrs.get(id)?;
                Some(Value::Addr(addr.clone()))
            });
        }
    }

    let topics = union(views.iter().map(|v| &v.routes));
    for t in &topics {
        push(&mut out, Subject::Topic(t.to_string()), &all, |i| {
            views[i].routes.get(*t).map(|_| Value::Present)
        });
        let having = having(&all, |i| views[i].routes.contains_key(*t));
        let routes: Vec<_> = having
            .iter()
            .filter_map(|&i| views[i].routes.get(*t))
            .collect();
        for b in union(routes.iter().map(|r| &r.queues)) {
            let subject = Subject::TopicQueues {
                topic: t.to_string(),
                broker: b.to_string(),
            };
            push(&mut out, subject, &having, |i| {
                let q = views[i].routes.get(*t)?.queues.get(b)?;
                Some(Value::Queues(*q))
            });
        }
        push(&mut out, Subject::OrderConf(t.to_string()), &having, |i| {
            let conf = views[i].routes.get(*t)?.order_conf.as_ref()?;
            Some(Value::Conf(conf.clone()))
        });
    }

    let mut listed: BTreeSet<&String> = views.iter().flat_map(|v| &v.listed).collect();
    listed.extend(topics.iter().copied());
    let totals = Totals {
        clusters: clusters.len(),
        groups: groups.len(),
        topics: listed.len(),
    };
    (out, totals)
}

/// Records a difference when the servers in `among` do not all have the same value.
fn push(
    out: &mut Vec<Difference>,
    subject: Subject,
    among: &[usize],
    value_of: impl Fn(usize) -> Option<Value>,
) {
    let values: Vec<(usize, Option<Value>)> = among.iter().map(|&i| (i, value_of(i))).collect();
    let agree = values.windows(2).all(|w| w[0].1 == w[1].1);
    if !agree {
        out.push(Difference { subject, values });
    }
}

fn having(all: &[usize], f: impl Fn(usize) -> bool) -> Vec<usize> {
    all.iter().copied().filter(|&i| f(i)).collect()
}

fn union<'a, K: Ord + 'a, V: 'a, T: IntoIterator<Item = &'a BTreeMap<K, V>>>(
    maps: T,
) -> BTreeSet<&'a K> {
    maps.into_iter().flat_map(|m| m.keys()).collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::diff::view::{Group, Route};

    fn view(group_addr: Option<&str>, conf: Option<&str>) -> View {
        let mut v = View::default();
        v.clusters.insert("c".into(), ["g".to_string()].into());
        if let Some(addr) = group_addr {
            let group = Group {
                cluster: "c".into(),
                addrs: [(0, addr.to_string())].into(),
            };
            v.groups.insert("g".into(), group);
        }
        v.listed.insert("t".into());
        let route = Route {
            queues: BTreeMap::new(),
            order_conf: conf.map(str::to_string),
        };
        v.routes.insert("t".into(), route);
        v
    }

    /// A nested table is compared among the servers that have its parent only.
    #[test]
    fn nested_tables_compare_among_the_servers_that_have_the_parent() {
        let views = [
            view(Some("a:1"), Some("x")),
            view(None, None),
            view(Some("a:2"), Some("x")),
        ];
        let (diffs, totals) = compare(&views);
        assert_eq!(
            diffs,
            vec![
                Difference {
                    subject: Subject::Group("g".into()),
                    values: vec![
                        (0, Some(Value::InCluster("c".into()))),
                        (1, None),
                        (2, Some(Value::InCluster("c".into()))),
                    ],
                },
                Difference {
                    subject: Subject::BrokerAddr {
                        group: "g".into(),
                        id: 0
                    },
                    values: vec![
                        (0, Some(Value::Addr("a:1".into()))),
                        (2, Some(Value::Addr("a:2".into()))),
                    ],
                },
                Difference {
                    subject: Subject::OrderConf("t".into()),
                    values: vec![
                        (0, Some(Value::Conf("x".into()))),
                        (1, None),
                        (2, Some(Value::Conf("x".into()))),
                    ],
                },
            ]
        );
        assert_eq!(
            totals,
            Totals {
                clusters: 1,
                groups: 1,
                topics: 1
            }
        );
    }

    #[test]
    fn identical_views_have_no_differences() {
        let views = [view(Some("a:1"), None), view(Some("a:1"), None)];
        assert_eq!(compare(&views).0, Vec::new());
    }
}
