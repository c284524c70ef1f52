//! `loadgen attack`: the hostile clients of issue 9 against one name server,
//! each for a bounded time, while victim clients look a route up; reports per
//! attack what the victims saw, what the hostile side achieved, the server's
//! RSS (with `--pid`) and whether it survived.
//!
//! - [`bodies`]: the hostile requests and bodies;
//! - [`sockets`]: protocol-breaking clients (non-readers, endless frames, idle floods);
//! - [`requests`]: well-formed but costly requests (bombs, floods, KV puts);
//! - [`victim`]: the route lookups and fresh-connection probes measured;
//! - [`process`]: RSS, liveness and SIGTERM of the server by pid;
//! - [`report`]: the text table.

pub mod bodies;
pub mod process;
pub mod report;
pub mod requests;
pub mod sockets;
pub mod tally;
pub mod victim;

use std::net::{IpAddr, SocketAddr, ToSocketAddrs};
use std::path::PathBuf;
use std::sync::Arc;
use std::time::{Duration, Instant};

use bytes::Bytes;
use clap::{Args, ValueEnum};
use protocol::SerializeType;
use serde::Serialize;
use tokio::sync::watch;

use crate::conn::Conn;
use crate::error::{Error, Result};
use crate::units::{parse_duration, Dur};
use tally::{HostileFigures, Tally};
use victim::{VictimFigures, VictimPlan};

/// The attacks, in the order `all` runs them (`sigterm-noread` last: it
/// stops the server).
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Attack {
    All,
    Bomb,
    TopicFlood,
    Noread,
    Trickle,
    PartialFrames,
    ConnFlood,
    KvFlood,
    SigtermNoread,
}

impl Attack {
    /// The attack's kebab-case name, as `--attack` takes it and the JSON
    /// report writes it.
    pub fn name(self) -> String {
        self.to_possible_value()
            .map(|v| v.get_name().to_string())
            .unwrap_or_default()
    }

    /// `sigterm-noread` measures how long the server takes to exit after a
    /// SIGTERM: it reports exit times, and never fails the run.
    pub fn judged_by_exit(self) -> bool {
        self == Attack::SigtermNoread
    }

    const EACH: [Attack; 8] = [
        Attack::Bomb,
        Attack::TopicFlood,
        Attack::Noread,
        Attack::Trickle,
        Attack::PartialFrames,
        Attack::ConnFlood,
        Attack::KvFlood,
        Attack::SigtermNoread,
    ];
}

fn dur(s: &str) -> std::result::Result<Dur, String> {
    parse_duration(s).map(Dur)
}

/// `loadgen attack` options; the defaults are the sizes of issue 9.
#[derive(Args, Debug, Clone)]
pub struct AttackArgs {
    /// The name server, host:port.
    #[arg(long = "target", short = 't')]
    pub target: String,
    /// Attacks to run (repeatable); `all` runs every one (sigterm-noread only with --pid).
    #[arg(long = "attack", value_enum, default_values_t = vec![Attack::All])]
    pub attacks: Vec<Attack>,
    /// How long each attack runs.
    #[arg(long, value_parser = dur, default_value = "10s")]
    pub duration: Dur,
    /// Pause between attacks (RSS "after" is read 1 s after an attack ends).
    #[arg(long, value_parser = dur, default_value = "2s")]
    pub pause: Dur,
    /// The server's pid: RSS before/peak/after, liveness, and sigterm-noread.
    #[arg(long)]
    pub pid: Option<u32>,
    /// The server's KV file (kvConfigPath): its size after kv-flood.
    #[arg(long)]
    pub kv_file: Option<PathBuf>,
    /// Write the result as JSON.
    #[arg(long)]
    pub json: Option<PathBuf>,
    /// Victim connections (opened before each attack).
    #[arg(long, default_value_t = 4)]
    pub victims: usize,
    /// Route lookups per second per victim connection.
    #[arg(long, default_value_t = 50.0)]
    pub victim_rate: f64,
    /// A lookup unanswered this long counts as not answered.
    #[arg(long, value_parser = dur, default_value = "3s")]
    pub victim_timeout: Dur,
    /// bomb: connections looping the registration.
    #[arg(long, default_value_t = 4)]
    pub bomb_conns: usize,
    /// bomb: MiB the compressed body inflates to.
    #[arg(long, default_value_t = 256)]
    pub bomb_mib: usize,
    /// topic-flood: topics in the one registration.
    #[arg(long, default_value_t = 2_000_000)]
    pub flood_topics: usize,
    /// noread: topics registered at the start (so a topic list is big).
    #[arg(long, default_value_t = 30_000)]
    pub noread_topics: usize,
    /// noread / sigterm-noread: non-reading connections.
    #[arg(long, default_value_t = 4)]
    pub noread_conns: usize,
    /// noread: 206 requests pipelined per connection.
    #[arg(long, default_value_t = 541)]
    pub noread_requests: usize,
    /// trickle: connections sending one byte per second.
    #[arg(long, default_value_t = 8)]
    pub trickle_conns: usize,
    /// partial-frames: connections each holding an unfinished frame.
    #[arg(long, default_value_t = 32)]
    pub partial_conns: usize,
    /// trickle / partial-frames: MiB the frame announces.
    #[arg(long, default_value_t = 16)]
    pub frame_mib: usize,
    /// conn-flood: idle connections (issue 9 used 20k; beyond the open-file
    /// limit of loadgen or the server, raise `ulimit -n` first).
    #[arg(long, default_value_t = 2000)]
    pub flood_conns: usize,
    /// conn-flood: the source address of the flood.
    #[arg(long, default_value = "127.0.0.2")]
    pub flood_source: IpAddr,
    /// kv-flood: puts.
    #[arg(long, default_value_t = 48)]
    pub kv_puts: usize,
    /// kv-flood: KiB per value.
    #[arg(long, default_value_t = 1024)]
    pub kv_value_kib: usize,
}

/// One attack's line of the report.
#[derive(Debug, Clone, Serialize)]
pub struct AttackReport {
    pub attack: Attack,
    pub duration_s: f64,
    pub victims: VictimFigures,
    pub hostile: HostileFigures,
    pub rss_mib_before: Option<f64>,
    pub rss_mib_peak: Option<f64>,
    pub rss_mib_after: Option<f64>,
    /// The process is still there (with `--pid`) and a fresh connection gets
    /// a route after the attack.
    pub survived: bool,
    /// Why the attack did not run, if it did not.
    pub skipped: Option<String>,
}

/// The whole run.
#[derive(Debug, Clone, Serialize)]
pub struct AttackRun {
    pub target: String,
    pub pid: Option<u32>,
    pub attacks: Vec<AttackReport>,
}

impl AttackReport {
    /// The verdict on this attack: the server survived it, or it is an
    /// attack judged by exit times instead ([`Attack::judged_by_exit`]).
    pub fn passed(&self) -> bool {
        self.survived || self.attack.judged_by_exit()
    }
}

impl AttackRun {
    /// Every attack passed ([`AttackReport::passed`]).
    pub fn passed(&self) -> bool {
        self.attacks.iter().all(AttackReport::passed)
    }
}

/// Registrations that must outlive every attack: a broker closing its
/// connection is unregistered, so these connections stay open for the run.
struct Setup {
    _victim_broker: Conn,
    _topics_broker: Option<Conn>,
}

async fn register(addr: SocketAddr, name: &str, body: Vec<u8>) -> Result<Conn> {
    let mut c = Conn::connect(
        addr,
        0,
        SerializeType::Json,
        Duration::from_secs(30),
        victim::shared(),
    )
    .await
    .map_err(|e| Error::Connect {
        target: addr.to_string(),
        source: e,
    })?;
    let cmd = bodies::register(name, "127.0.0.9:10911", false, &body);
    let r = c
        .call(cmd, Some(&body))
        .await
        .map_err(|e| Error::Startup(format!("{name} registration: {}", e.name())))?;
    if r.cmd.code != 0 {
        return Err(Error::Startup(format!(
            "{name} registration answered code {} ({:?})",
            r.cmd.code, r.cmd.remark
        )));
    }
    Ok(c)
}

async fn setup(addr: SocketAddr, a: &AttackArgs, wanted: &[Attack]) -> Result<Setup> {
    // Two topics: a broker's first registration of a single topic is refused
    // (`RouteInfoManager#registerBroker`).
    let victim_body = bodies::plain_topics(
        [
            victim::VICTIM_TOPIC.to_string(),
            format!("{}Spare", victim::VICTIM_TOPIC),
        ]
        .into_iter(),
    );
    let victim_broker = register(addr, "AttackVictimBroker", victim_body).await?;
    let needs_topics = wanted
        .iter()
        .any(|w| matches!(w, Attack::Noread | Attack::SigtermNoread));
    let topics_broker = if needs_topics && a.noread_topics > 0 {
        let body =
            bodies::plain_topics((0..a.noread_topics).map(|i| format!("AttackListTopic{i:06}")));
        Some(register(addr, "AttackTopicsBroker", body).await?)
    } else {
        None
    };
    Ok(Setup {
        _victim_broker: victim_broker,
        _topics_broker: topics_broker,
    })
}

fn resolve(target: &str) -> Result<SocketAddr> {
    target
        .to_socket_addrs()
        .ok()
        .and_then(|mut a| a.next())
        .ok_or_else(|| Error::BadTarget(target.to_string()))
}

/// Runs the chosen attacks one after another.
pub async fn run(a: &AttackArgs) -> Result<AttackRun> {
    let addr = resolve(&a.target)?;
    let wanted: Vec<Attack> = if a.attacks.contains(&Attack::All) {
        Attack::EACH.to_vec()
    } else {
        Attack::EACH
            .iter()
            .copied()
            .filter(|x| a.attacks.contains(x))
            .collect()
    };
    let _setup = setup(addr, a, &wanted).await?;
    let mut reports = Vec::new();
    for (i, &attack) in wanted.iter().enumerate() {
        if i > 0 {
            tokio::time::sleep(a.pause.0).await;
        }
        let r = run_one(addr, a, attack).await;
        let dead = !r.survived && r.skipped.is_none();
        reports.push(r);
        if dead {
            // Nothing left to attack.
            break;
        }
    }
    Ok(AttackRun {
        target: a.target.clone(),
        pid: a.pid,
        attacks: reports,
    })
}

fn skipped(attack: Attack, why: &str) -> AttackReport {
    AttackReport {
        attack,
        duration_s: 0.0,
        victims: VictimFigures::default(),
        hostile: HostileFigures::default(),
        rss_mib_before: None,
        rss_mib_peak: None,
        rss_mib_after: None,
        survived: true,
        skipped: Some(why.to_string()),
    }
}

/// Builds what the attack sends before its window opens, so loadgen's own
/// compression is not measured.
fn prepare(attack: Attack, a: &AttackArgs) -> Bytes {
    match attack {
        Attack::Bomb => Bytes::from(bodies::inflate_bomb(a.bomb_mib << 20)),
        Attack::TopicFlood => Bytes::from(bodies::topic_flood(a.flood_topics)),
        _ => Bytes::new(),
    }
}

async fn run_one(addr: SocketAddr, a: &AttackArgs, attack: Attack) -> AttackReport {
    if attack == Attack::SigtermNoread && a.pid.is_none() {
        return skipped(attack, "needs --pid");
    }
    let body = prepare(attack, a);
    let rss_before = a.pid.and_then(process::rss_mib);
    let watch = a.pid.map(process::RssWatch::start);
    let plan = VictimPlan {
        conns: a.victims,
        rate: a.victim_rate,
        timeout: a.victim_timeout.0,
    };
    let started = Instant::now();
    let until = started + a.duration.0;
    let tally = Arc::new(Tally::default());
    let hostile = hostile(addr, a, attack, body, until, tally.clone());
    let (victims, mut figures) = tokio::join!(victim::run(addr, plan, until), hostile);
    let duration_s = started.elapsed().as_secs_f64();
    let rss_peak = match watch {
        Some(w) => Some(w.finish().await),
        None => None,
    };
    body_note(attack, a, &mut figures);
    // Let the server release what the attack made it hold.
    tokio::time::sleep(Duration::from_secs(1)).await;
    let alive = a.pid.map(process::alive).unwrap_or(true);
    let survived = alive && victim::answers(addr, Duration::from_secs(3)).await;
    AttackReport {
        attack,
        duration_s,
        victims,
        hostile: figures,
        rss_mib_before: rss_before,
        rss_mib_peak: rss_peak,
        rss_mib_after: a.pid.and_then(process::rss_mib),
        survived,
        skipped: None,
    }
}

/// Puts the attack's sizes first in its notes.
fn body_note(attack: Attack, a: &AttackArgs, f: &mut HostileFigures) {
    let note = match attack {
        Attack::Bomb => format!("body inflates to {} MiB", a.bomb_mib),
        Attack::TopicFlood => format!("{} topics", a.flood_topics),
        Attack::Noread => format!("{} topics registered", a.noread_topics),
        Attack::Trickle | Attack::PartialFrames => format!("{} MiB frames", a.frame_mib),
        Attack::ConnFlood => format!("from {}", a.flood_source),
        Attack::KvFlood => format!("{} KiB values", a.kv_value_kib),
        _ => return,
    };
    f.notes.insert(0, note);
}

async fn hostile(
    addr: SocketAddr,
    a: &AttackArgs,
    attack: Attack,
    body: Bytes,
    until: Instant,
    tally: Arc<Tally>,
) -> HostileFigures {
    match attack {
        Attack::All => HostileFigures::default(),
        Attack::Bomb => {
            let size = body.len();
            requests::bomb(addr, a.bomb_conns, body, until, tally.clone()).await;
            let mut f = tally.figures();
            f.notes.push(format!("compressed body {size} bytes"));
            f
        }
        Attack::TopicFlood => {
            let size = body.len();
            let notes = requests::topic_flood(addr, body, until, tally.clone()).await;
            let mut f = tally.figures();
            f.notes.push(format!("compressed body {size} bytes"));
            f.notes.extend(notes);
            f
        }
        Attack::Noread => {
            let (_keep, release) = watch::channel(());
            sockets::noread(
                addr,
                a.noread_conns,
                a.noread_requests,
                until,
                release,
                tally.clone(),
            )
            .await;
            tally.figures()
        }
        Attack::Trickle => {
            sockets::trickle(addr, a.trickle_conns, a.frame_mib, until, tally.clone()).await;
            tally.figures()
        }
        Attack::PartialFrames => {
            sockets::partial(addr, a.partial_conns, a.frame_mib, until, tally.clone()).await;
            tally.figures()
        }
        Attack::ConnFlood => {
            sockets::flood(addr, a.flood_source, a.flood_conns, until, tally.clone()).await;
            tally.figures()
        }
        Attack::KvFlood => {
            requests::kv_flood(
                addr,
                a.kv_puts,
                a.kv_value_kib,
                a.kv_file.as_deref(),
                until,
                tally.clone(),
            )
            .await
        }
        Attack::SigtermNoread => sigterm_noread(addr, a, until, tally).await,
    }
}

/// Polls `pid` until it is gone or `deadline` passes: the milliseconds from
/// `since` to its exit, if it exited.
async fn wait_exit(pid: u32, since: Instant, deadline: Instant) -> Option<u64> {
    while Instant::now() < deadline {
        if !process::alive(pid) {
            return Some(since.elapsed().as_millis() as u64);
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    None
}

/// `sigterm-noread`: non-readers pipeline 206, then SIGTERM; does the process
/// exit while they stay connected, and if not, once they close?
async fn sigterm_noread(
    addr: SocketAddr,
    a: &AttackArgs,
    until: Instant,
    tally: Arc<Tally>,
) -> HostileFigures {
    let Some(pid) = a.pid else {
        return tally.figures();
    };
    let (release_tx, release) = watch::channel(());
    let readers = tokio::spawn(sockets::noread(
        addr,
        a.noread_conns,
        a.noread_requests,
        until + Duration::from_secs(3600),
        release,
        tally.clone(),
    ));
    // Let the pipelines fill the server's send buffers.
    tokio::time::sleep(Duration::from_secs(1).min(a.duration.0 / 4)).await;
    let mut notes = Vec::new();
    if let Err(e) = process::sigterm(pid) {
        notes.push(format!("SIGTERM failed: {e}"));
    }
    let term_at = Instant::now();
    let exit_term = wait_exit(pid, term_at, until).await;
    drop(release_tx);
    let _ = readers.await;
    let mut exit_close = None;
    if exit_term.is_none() {
        notes.push(format!(
            "still running {} ms after SIGTERM",
            term_at.elapsed().as_millis()
        ));
        let closed_at = Instant::now();
        exit_close = wait_exit(pid, closed_at, closed_at + Duration::from_secs(10)).await;
    }
    let mut f = tally.figures();
    f.exit_after_sigterm_ms = exit_term;
    f.exit_after_close_ms = exit_close;
    f.notes.extend(notes);
    f
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_are_the_cli_and_json_spellings() {
        let names: Vec<String> = std::iter::once(Attack::All)
            .chain(Attack::EACH)
            .map(Attack::name)
            .collect();
        assert_eq!(
            names,
            [
                "all",
                "bomb",
                "topic-flood",
                "noread",
                "trickle",
                "partial-frames",
                "conn-flood",
                "kv-flood",
                "sigterm-noread",
            ]
        );
        for a in std::iter::once(Attack::All).chain(Attack::EACH) {
            assert_eq!(serde_json::to_value(a).unwrap(), a.name().as_str());
            assert_eq!(Attack::from_str(&a.name(), false), Ok(a));
        }
    }
}
