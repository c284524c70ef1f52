//! Attacks made of well-formed requests: registrations that cost the server
//! far more than they cost the sender, and KV puts that grow its file.

use std::net::SocketAddr;
use std::path::Path;
use std::sync::Arc;
use std::time::{Duration, Instant};

use bytes::Bytes;
use protocol::SerializeType;
use tokio::task::JoinSet;

use super::bodies;
use super::tally::{HostileFigures, Tally};
use super::victim::shared;
use crate::conn::Conn;

async fn connect(addr: SocketAddr, tally: &Tally) -> Option<Conn> {
    // Replies to these can take long: the reply wait is bounded by the attack's end.
    let c = Conn::connect(
        addr,
        0,
        SerializeType::Json,
        Duration::from_secs(600),
        shared(),
    );
    match tokio::time::timeout(Duration::from_secs(2), c).await {
        Ok(Ok(c)) => {
            Tally::one(&tally.conns_opened);
            Some(c)
        }
        _ => {
            Tally::one(&tally.conns_failed);
            None
        }
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
                Tally::one(&tally.requests_sent);
                Tally::add(&tally.bytes_sent, body.len() as u64);
                let call = c.call(cmd, Some(&body));
                match tokio::time::timeout_at(until.into(), call).await {
                    Ok(Ok(r)) => tally.reply(r.cmd.code),
                    Ok(Err(_)) => {
                        Tally::one(&tally.closed_by_server);
                        break;
                    }
                    Err(_) => break,
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
    Tally::one(&tally.requests_sent);
    Tally::add(&tally.bytes_sent, body.len() as u64);
    let started = Instant::now();
    match tokio::time::timeout_at(until.into(), c.call(cmd, Some(&body))).await {
        Ok(Ok(r)) => {
            tally.reply(r.cmd.code);
            notes.push(format!(
                "registration answered in {} ms",
                started.elapsed().as_millis()
            ));
        }
        Ok(Err(_)) => Tally::one(&tally.closed_by_server),
        Err(_) => notes.push("registration unanswered by the end".into()),
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
        Tally::one(&tally.requests_sent);
        Tally::add(&tally.bytes_sent, value.len() as u64);
        match tokio::time::timeout_at(until.into(), c.call(cmd, None)).await {
            Ok(Ok(r)) => tally.reply(r.cmd.code),
            Ok(Err(_)) => {
                Tally::one(&tally.closed_by_server);
                break;
            }
            Err(_) => break,
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
