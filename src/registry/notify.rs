//! NOTIFY_MIN_BROKER_ID_CHANGE (905), with `notifyMinBrokerIdChanged=true`: when the
//! lowest broker id of a group changes, its other brokers are told, so that an
//! acting-master slave takes over (or hands back) the master's work.
//!
//! When, as upstream's `RouteInfoManager`: `#registerBroker` when a broker registers
//! with an id below the group's lowest (any group); `#unRegisterBroker` (also reached
//! from a closed connection and the expiry scan, `#onChannelDestroy`) when the
//! unregistered id was the lowest and the group still has brokers, only for groups
//! with `enableActingMaster`. Who and how, as `#notifyMinBrokerIdChanged` and
//! `#chooseBrokerAddrsToNotify`: a oneway request over a connection of the name server's
//! own to each broker's registered address (the port its `AdminBrokerProcessor`
//! answers 905 on; not the connection it registered over), to every
//! broker of the group when one went offline, else to all but the lowest.
//!
//! The writer decides (it owns the tables); the connections are made by one thread of
//! this module, so neither the writer nor a shard ever waits on a broker.

use std::collections::BTreeMap;
use std::io::Write;
use std::net::{TcpStream, ToSocketAddrs};
use std::sync::mpsc::{sync_channel, Receiver, SyncSender, TrySendError};
use std::time::Duration;

use protocol::codes::{flag, request};
use protocol::frame;
use protocol::{RemotingCommand, SerializeType};

use super::tables::{Registration, Tables};

/// Notices waiting for the sending thread; more are dropped with a warning (a group
/// changes its lowest id a few times a day, not thousands of times a second).
const QUEUE: usize = 256;
/// Upstream's client connect timeout (`NettyClientConfig#connectTimeoutMillis`).
const CONNECT_TIMEOUT: Duration = Duration::from_secs(3);
const WRITE_TIMEOUT: Duration = Duration::from_secs(3);

/// One 905 to send: its header fields and the brokers to send it to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Notice {
    pub min_broker_id: i64,
    pub min_broker_addr: String,
    pub offline_broker_addr: Option<String>,
    pub ha_broker_addr: Option<String>,
    pub targets: Vec<String>,
}

impl Notice {
    /// The notice for a group whose brokers are now `addrs` (`None` when empty).
    fn new(
        addrs: &BTreeMap<i64, String>,
        offline: Option<&str>,
        ha: Option<&str>,
    ) -> Option<Notice> {
        let (&min_id, min_addr) = addrs.iter().next()?;
        let targets = if offline.is_none() && addrs.len() != 1 {
            addrs.range(min_id + 1..).map(|(_, a)| a.clone()).collect()
        } else {
            addrs.values().cloned().collect()
        };
        Some(Notice {
            min_broker_id: min_id,
            min_broker_addr: min_addr.clone(),
            offline_broker_addr: offline.map(str::to_string),
            ha_broker_addr: ha.map(str::to_string),
            targets,
        })
    }

    /// The request header, fields in the order upstream's `extFields` HashMap
    /// writes them; absent ones are left out, as `makeCustomHeaderToNet` does.
    pub fn command(&self, opaque: i32) -> RemotingCommand {
        let mut ext = Vec::with_capacity(4);
        if let Some(ha) = &self.ha_broker_addr {
            ext.push(("haBrokerAddr".to_string(), ha.clone()));
        }
        if let Some(off) = &self.offline_broker_addr {
            ext.push(("offlineBrokerAddr".to_string(), off.clone()));
        }
        ext.push(("minBrokerAddr".to_string(), self.min_broker_addr.clone()));
        ext.push(("minBrokerId".to_string(), self.min_broker_id.to_string()));
        let mut cmd = RemotingCommand::request(request::NOTIFY_MIN_BROKER_ID_CHANGE, opaque, ext);
        cmd.flag = flag::ONEWAY;
        cmd
    }
}

/// After a registration of `broker_id`: the notice if it went below the group's
/// lowest id before (`prev_min`; upstream counts an empty group as 0) and it is in
/// the group now (`addrs`) at `addr` (a registration fenced by a newer holder of the
/// id is not).
pub fn on_register(
    prev_min: Option<i64>,
    broker_id: i64,
    addr: &str,
    addrs: &BTreeMap<i64, String>,
    ha: Option<&str>,
) -> Option<Notice> {
    let registered = addrs.get(&broker_id).map(String::as_str) == Some(addr);
    (registered && broker_id < prev_min.unwrap_or(0))
        .then(|| Notice::new(addrs, None, ha))
        .flatten()
}

/// After an unregistration that took out the lowest id of a group still standing:
/// the notice, if the group has `enableActingMaster`.
pub fn on_departure(
    addrs: &BTreeMap<i64, String>,
    acting_master: bool,
    offline: &str,
) -> Option<Notice> {
    acting_master
        .then(|| Notice::new(addrs, Some(offline), None))
        .flatten()
}

/// The lowest id of group `name` now.
pub fn min_id(tables: &Tables, name: &str) -> Option<i64> {
    tables
        .broker(name)
        .and_then(|bd| bd.broker_addrs.keys().next().copied())
}

/// Sends the 905 a registration calls for (`prev_min`: [`min_id`] before it).
pub fn after_register(
    tables: &Tables,
    notifier: &mut Notifier,
    reg: &Registration,
    prev_min: Option<i64>,
) {
    let Some(bd) = tables.broker(&reg.name) else {
        return;
    };
    let ha = reg.ha_server_addr.as_deref();
    if let Some(n) = on_register(prev_min, reg.broker_id, &reg.addr, &bd.broker_addrs, ha) {
        notifier.send(n);
    }
}

/// Sends the 905s of the unregistrations that took out a group's lowest id: once
/// per group, naming the last address gone (upstream's `needNotifyBrokerMap`).
pub fn after_departures(
    tables: &Tables,
    notifier: &mut Notifier,
    departures: Vec<(String, String)>,
) {
    let mut last: Vec<(String, String)> = Vec::new();
    for (name, addr) in departures {
        last.retain(|(n, _)| *n != name);
        last.push((name, addr));
    }
    for (name, offline) in last {
        let Some(bd) = tables.broker(&name) else {
            continue;
        };
        if let Some(n) = on_departure(&bd.broker_addrs, bd.enable_acting_master, &offline) {
            notifier.send(n);
        }
    }
}

/// The sending side: a thread started at the first notice.
#[derive(Default)]
pub struct Notifier {
    tx: Option<SyncSender<Notice>>,
}

impl Notifier {
    pub fn send(&mut self, notice: Notice) {
        tracing::info!(
            min_broker_id = notice.min_broker_id,
            notify = ?notice.targets,
            offline = ?notice.offline_broker_addr,
            "min broker id changed"
        );
        let tx = match &self.tx {
            Some(tx) => tx,
            None => {
                let (tx, rx) = sync_channel(QUEUE);
                let started = std::thread::Builder::new()
                    .name("namesrv-notify".into())
                    .spawn(move || send_loop(rx));
                if let Err(e) = started {
                    tracing::warn!(error = %e, "cannot start the 905 sender; notice dropped");
                    return;
                }
                self.tx.insert(tx)
            }
        };
        match tx.try_send(notice) {
            Ok(()) => {}
            Err(TrySendError::Full(_)) => {
                tracing::warn!("too many 905 notices waiting; one dropped")
            }
            Err(TrySendError::Disconnected(_)) => {
                tracing::warn!("the 905 sender stopped; notice dropped");
                self.tx = None;
            }
        }
    }
}

/// Ends when the writer (and with it the sender) is gone.
fn send_loop(rx: Receiver<Notice>) {
    let mut opaque: i32 = 0;
    while let Ok(notice) = rx.recv() {
        for target in &notice.targets {
            opaque = opaque.wrapping_add(1);
            let bytes = frame::encode_to_vec(&notice.command(opaque), SerializeType::Json, None);
            if let Err(e) = send_one(target, &bytes) {
                tracing::warn!(broker = %target, error = %e, "could not send 905 to a broker");
            }
        }
    }
}

fn send_one(target: &str, bytes: &[u8]) -> std::io::Result<()> {
    let addr = target
        .to_socket_addrs()?
        .next()
        .ok_or_else(|| std::io::Error::other("address resolves to nothing"))?;
    let mut stream = TcpStream::connect_timeout(&addr, CONNECT_TIMEOUT)?;
    stream.set_write_timeout(Some(WRITE_TIMEOUT))?;
    stream.set_nodelay(true)?;
    stream.write_all(bytes)?;
    // A oneway: nothing comes back. Closing after the write still delivers it.
    stream.shutdown(std::net::Shutdown::Write)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn group(ids: &[(i64, &str)]) -> BTreeMap<i64, String> {
        ids.iter().map(|(i, a)| (*i, a.to_string())).collect()
    }

    #[test]
    fn a_departure_tells_every_remaining_broker() {
        let n = on_departure(&group(&[(1, "s1"), (2, "s2")]), true, "m").unwrap();
        assert_eq!(n.targets, vec!["s1", "s2"]);
        assert_eq!((n.min_broker_id, n.min_broker_addr.as_str()), (1, "s1"));
        let ext = n.command(7).ext_fields.unwrap();
        assert_eq!(
            ext,
            vec![
                ("offlineBrokerAddr".to_string(), "m".to_string()),
                ("minBrokerAddr".to_string(), "s1".to_string()),
                ("minBrokerId".to_string(), "1".to_string()),
            ]
        );
        assert_eq!(on_departure(&group(&[(1, "s1")]), false, "m"), None);
    }

    #[test]
    fn a_lower_registration_tells_all_but_the_lowest() {
        let g = group(&[(0, "m"), (1, "s1"), (2, "s2")]);
        let n = on_register(Some(1), 0, "m", &g, Some("m:10912")).unwrap();
        assert_eq!(n.targets, vec!["s1", "s2"]);
        assert_eq!(n.ha_broker_addr.as_deref(), Some("m:10912"));
        // Not lower, a first broker, or fenced: nothing.
        assert_eq!(on_register(Some(0), 1, "s1", &g, None), None);
        assert_eq!(on_register(None, 0, "m", &group(&[(0, "m")]), None), None);
        assert_eq!(on_register(Some(1), 0, "other", &g, None), None);
        // One broker changing its id to the lowest: it alone is told.
        let n = on_register(Some(1), 0, "x", &group(&[(0, "x")]), None).unwrap();
        assert_eq!(n.targets, vec!["x"]);
    }
}
