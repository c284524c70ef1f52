//! The single writer: owns the tables, applies writes in batches, publishes.
//!
//! Writes from every shard arrive on the writer core's inbox. The loop takes what is
//! queued (group commit), applies each write to the tables, makes KV/config changes
//! durable, publishes one snapshot holding all of them, and only then answers —
//! so a caller that got its acknowledgement sees its write on any core.

use std::path::PathBuf;
use std::rc::Rc;
use std::sync::atomic::AtomicBool;
use std::sync::Arc;
use std::time::{Duration, Instant};

use arc_swap::ArcSwap;
use futures_lite::future::poll_once;
use glommio::channels::local_channel::{self, LocalReceiver};
use glommio::channels::shared_channel::{self, ConnectedSender};
use protocol::codes::response;

mod register;

use super::notify::{self, Notifier};
use super::reaper::Reaper;
use super::snapshot::{Snapshot, SnapshotBuilder};
use super::tables::{TableSettings, Tables};
use super::trim::Trim;
use super::{ConnId, ShardControl, WriteOp, WriteRequest};
use crate::config::{Config, UpdateError};
use crate::http::metrics::{CloseReason, MetricsHandle, Unregistration};
use crate::kv::{KvLimits, KvStore, ORDER_TOPIC_CONFIG};
use crate::reply::Reply;

/// Most writes applied before one publish, so a flood cannot starve replies.
const MAX_BATCH: usize = 4096;
/// A publish slower than this makes the next batch gather writes for a while.
const COSTLY_PUBLISH: Duration = Duration::from_millis(1);
/// The longest a write waits for others to share its publish.
const MAX_GATHER: Duration = Duration::from_millis(50);
/// Topics of one registration put between two checks for a pending yield.
const PUT_SLICE: usize = 256;
/// Routes replaced by one publish from which the old snapshot is freed off the
/// core, and the freed memory then given back to the OS.
const LARGE_CHANGE: usize = 4096;

/// A write's answer, held until the snapshot holding the write is published.
struct Pending {
    tx: futures_channel::oneshot::Sender<Reply>,
    reply: Reply,
    /// Whether it waits on a file write (KV or config).
    durable: bool,
}

pub struct Writer {
    tables: Tables,
    kv: KvStore,
    config: Config,
    builder: SnapshotBuilder,
    published: Arc<ArcSwap<Snapshot>>,
    /// Frees large old snapshots off this core (see [`Reaper`]).
    reaper: Reaper,
    shards: Vec<Rc<ConnectedSender<ShardControl>>>,
    /// Only the writer writes `metrics.writer`.
    metrics: MetricsHandle,
    /// The console's live view (see [`LiveTick`]).
    live: LiveTick,
    /// Sends the 905s the writer decides on (see [`super::notify`]).
    notifier: Notifier,
    /// Asked after a large publish (see [`super::trim`]).
    trim: Trim,
}

/// When the writer rebuilds the console's live view: never without a console
/// (`httpPort=-1`), and on a scan tick only if a broker was heard from since the
/// last one, so an idle estate's scans cost the writer core nothing.
#[derive(Default)]
struct LiveTick {
    console: bool,
    /// A registration, heartbeat or 322 refreshed a time since the last rebuild.
    heard: bool,
    /// The batch held an expiry scan.
    scanned: bool,
}

/// Files a batch must make durable before it is acknowledged.
#[derive(Default)]
struct Persist {
    kv: bool,
    config: bool,
}

impl Writer {
    pub fn new(
        config: Config,
        kv: KvStore,
        started: Instant,
        published: Arc<ArcSwap<Snapshot>>,
        shards: Vec<Rc<ConnectedSender<ShardControl>>>,
        metrics: MetricsHandle,
    ) -> Writer {
        let snap = published.load();
        warn_if_over_limits(&kv, &config);
        let console = config.http_port >= 0;
        let trim = Trim::new(config.memory_trim_interval_seconds);
        Writer {
            tables: Tables::deferring_removals(),
            kv,
            builder: SnapshotBuilder::new(snap.config.clone(), snap.kv.clone(), started)
                .sharing_hints(snap.register_hints.clone()),
            config,
            published: published.clone(),
            reaper: Reaper::spawn(),
            shards,
            metrics,
            live: LiveTick {
                console,
                ..LiveTick::default()
            },
            notifier: Notifier::default(),
            trim,
        }
    }

    /// Runs until every sender of the inbox is gone.
    pub async fn run(mut self, inbox: LocalReceiver<WriteRequest>) {
        let mut pending: Vec<Pending> = Vec::new();
        let mut last_publish = Duration::ZERO;
        while let Some(first) = inbox.recv().await {
            let mut persist = Persist::default();
            let mut count = 1;
            self.accept(first, &mut persist, &mut pending).await;
            count += self.accept_ready(&inbox, &mut persist, &mut pending).await;
            // Group commit: when publishing is costly (a registration storm), keep
            // collecting writes for about as long as the last publish took, so its
            // cost is shared by many writes instead of paid once per write.
            if last_publish >= COSTLY_PUBLISH && self.tables.has_changes() {
                let deadline = Instant::now() + last_publish.min(MAX_GATHER);
                while count < MAX_BATCH {
                    let remaining = deadline.saturating_duration_since(Instant::now());
                    if remaining.is_zero() {
                        break;
                    }
                    let next =
                        futures_lite::future::or(async { Some(inbox.recv().await) }, async {
                            glommio::timer::sleep(remaining).await;
                            None
                        })
                        .await;
                    let Some(Some(req)) = next else { break };
                    self.accept(req, &mut persist, &mut pending).await;
                    count += 1 + self.accept_ready(&inbox, &mut persist, &mut pending).await;
                }
            }
            self.metrics.writer.batch(count);
            if let Some(err) = self.make_durable(&persist).await {
                // The change is in memory but not on disk: tell the callers that
                // wrote KV/config rather than acknowledge a write we could lose.
                for p in pending.iter_mut() {
                    if p.durable && p.reply.code == response::SUCCESS {
                        p.reply = Reply::system_error(err.clone());
                    }
                }
            }
            let publishing = self.tables.has_changes();
            if publishing {
                let started = Instant::now();
                self.publish().await;
                last_publish = started.elapsed();
                self.metrics.writer.published(last_publish);
            }
            for p in pending.drain(..) {
                // A closed receiver means the connection went away; nothing to do.
                let _ = p.tx.send(p.reply);
            }
            // After the answers, so no ack waits on the console.
            self.refresh_live(publishing);
            glommio::yield_if_needed().await;
        }
        tracing::debug!("writer stopped");
    }

    /// Rebuilds the console's live view when the tables changed what it shows,
    /// with a publish (topic counts), or at a scan tick that has heartbeat times
    /// to pick up; and only when there is a console.
    fn refresh_live(&mut self, published: bool) {
        let changed = self.tables.take_live_changed();
        self.builder.count_live(&self.tables);
        if !self.live.console {
            return;
        }
        let tick = std::mem::take(&mut self.live.scanned) && self.live.heard;
        if changed || published || tick {
            self.live.heard = false;
            self.builder.refresh_live(&self.tables);
        }
    }

    /// Applies one write and queues its answer until the batch is published.
    async fn accept(
        &mut self,
        req: WriteRequest,
        persist: &mut Persist,
        pending: &mut Vec<Pending>,
    ) {
        match req.op {
            // The liveness scan comes from the writer's own timer, not a shard.
            WriteOp::ScanExpired => self.live.scanned = true,
            WriteOp::Register(_)
            | WriteOp::RegisterWire(_)
            | WriteOp::Heartbeat { .. }
            | WriteOp::QueryDataVersion { .. } => {
                self.live.heard = true;
                self.metrics.writer.taken();
            }
            _ => self.metrics.writer.taken(),
        }
        let durable = matches!(
            req.op,
            WriteOp::PutKv { .. } | WriteOp::DeleteKv { .. } | WriteOp::UpdateConfig { .. }
        );
        let reply = self.apply(req.op, req.conn, Instant::now(), persist).await;
        // Taken after every write, so the list never grows; sent only when enabled.
        let departures = self.tables.take_min_id_departures();
        if !departures.is_empty() && self.config.notify_min_broker_id_changed {
            notify::after_departures(&self.tables, &mut self.notifier, departures);
        }
        if let Some(tx) = req.reply {
            pending.push(Pending { tx, reply, durable });
        }
        // A removed broker may leave 200k queues to take out: in slices.
        while self.tables.settle(PUT_SLICE) {
            glommio::yield_if_needed().await;
        }
        // A batch holds up to MAX_BATCH writes: let this core's connections in.
        glommio::yield_if_needed().await;
    }

    /// Applies every write already queued (up to the batch limit); returns how many.
    async fn accept_ready(
        &mut self,
        inbox: &LocalReceiver<WriteRequest>,
        persist: &mut Persist,
        pending: &mut Vec<Pending>,
    ) -> usize {
        let mut n = 0;
        while n < MAX_BATCH {
            match poll_once(inbox.recv()).await {
                Some(Some(req)) => {
                    self.accept(req, persist, pending).await;
                    n += 1;
                }
                _ => break,
            }
        }
        n
    }

    fn settings(&self) -> TableSettings {
        TableSettings {
            delete_topic_with_broker_registration: self
                .config
                .delete_topic_with_broker_registration,
        }
    }

    async fn apply(
        &mut self,
        op: WriteOp,
        conn: ConnId,
        now: Instant,
        persist: &mut Persist,
    ) -> Reply {
        match op {
            WriteOp::Register(reg) => self.register(&reg, conn, now, None).await,
            WriteOp::RegisterWire(wire) => self.register_wire(*wire, conn, now).await,
            WriteOp::Unregister {
                cluster,
                addr,
                name,
                broker_id,
            } => {
                // Counted when it removes a live broker, as the other reasons are.
                let live = self.tables.live(&cluster, &addr).is_some();
                self.tables
                    .unregister_broker(&cluster, &addr, &name, broker_id);
                self.metrics
                    .writer
                    .unregistrations(Unregistration::Request, usize::from(live));
                Reply::success()
            }
            WriteOp::Heartbeat { cluster, addr } => {
                self.tables.heartbeat(&cluster, &addr, now);
                Reply::success()
            }
            WriteOp::QueryDataVersion {
                cluster,
                addr,
                version,
            } => {
                let stored = self.tables.heartbeat(&cluster, &addr, now);
                let changed = stored != Some(version);
                let mut reply =
                    Reply::success().ext("changed", if changed { "true" } else { "false" });
                if let Some(v) = stored {
                    let mut body = Vec::new();
                    v.encode(&mut body);
                    reply.body = Some(body.into());
                }
                reply
            }
            WriteOp::PutKv {
                namespace,
                key,
                value,
            } => {
                // Checked here, against the table as this batch left it: puts that
                // each fit the snapshot the handlers saw may not fit together.
                let limits = KvLimits::from(&self.config);
                if let Err(e) = self
                    .kv
                    .check_put(&namespace, &key, value.as_deref(), &limits)
                {
                    e.log(&namespace, &key);
                    return Reply::system_error(e.to_string());
                }
                self.order_conf_touched(&namespace, &key);
                self.kv.put(&namespace, &key, value);
                self.tables.kv_changed();
                persist.kv = true;
                Reply::success()
            }
            WriteOp::DeleteKv { namespace, key } => {
                self.order_conf_touched(&namespace, &key);
                self.kv.delete(&namespace, &key);
                self.tables.kv_changed();
                persist.kv = true;
                Reply::success()
            }
            WriteOp::WritePerm { broker_name, wipe } => {
                let topics: Vec<Arc<str>> = self
                    .tables
                    .topics_of_broker(&broker_name)
                    .cloned()
                    .collect();
                let mut count = 0;
                for slice in topics.chunks(PUT_SLICE) {
                    count += self.tables.change_write_perm_of(&broker_name, wipe, slice);
                    glommio::yield_if_needed().await;
                }
                let key = if wipe {
                    "wipeTopicCount"
                } else {
                    "addTopicCount"
                };
                Reply::success().ext(key, count.to_string())
            }
            WriteOp::RegisterTopic { topic, queue_datas } => {
                self.tables.register_topic(&topic, &queue_datas);
                Reply::success()
            }
            WriteOp::DeleteTopic { topic, cluster } => {
                self.tables.delete_topic(&topic, cluster.as_deref());
                Reply::success()
            }
            WriteOp::UpdateConfig { body } => match self.config.apply_update(&body) {
                Ok(changed) => {
                    if changed {
                        self.tables.config_changed();
                        persist.config = true;
                    }
                    Reply::success()
                }
                Err(e) => {
                    if !matches!(e, UpdateError::BlackListed { .. }) {
                        tracing::warn!(error = %e, "namesrv config update refused");
                    }
                    Reply::error(e.response_code(), e.remark())
                }
            },
            WriteOp::ConnectionClosed => {
                let n = self.tables.connection_closed(conn);
                self.metrics
                    .writer
                    .unregistrations(Unregistration::ConnectionClosed, n);
                if n > 0 {
                    tracing::info!(
                        conn = conn.0,
                        brokers = n,
                        "connection closed: its brokers unregistered"
                    );
                }
                Reply::success()
            }
            WriteOp::ScanExpired => {
                let expired = self.tables.expire(now);
                // Hints of addresses that went away (or whose bodies no longer
                // count) go with each scan.
                self.builder
                    .register_hints()
                    .replace(self.tables.applied_bodies());
                self.metrics
                    .writer
                    .unregistrations(Unregistration::Expired, expired.len());
                for (_key, conn) in expired {
                    self.close_connection(conn).await;
                }
                Reply::success()
            }
        }
    }

    /// A change to `ORDER_TOPIC_CONFIG` changes that topic's route bytes when
    /// order messages are enabled.
    fn order_conf_touched(&mut self, namespace: &str, key: &str) {
        if namespace == ORDER_TOPIC_CONFIG && self.config.order_message_enable {
            self.tables.topic_changed(key);
        }
    }

    async fn close_connection(&self, conn: ConnId) {
        if let Some(tx) = self.shards.get(conn.shard()) {
            let close = ShardControl::CloseConnection(conn, CloseReason::ExpiredBroker);
            if tx.send(close).await.is_err() {
                tracing::debug!(conn = conn.0, "shard gone; connection not closed");
            }
        }
    }

    /// Writes changed files on a blocking thread (fsync must not stall this core).
    /// Returns an error text if a file could not be written.
    async fn make_durable(&self, persist: &Persist) -> Option<String> {
        // The same files `KvStore::persist` and `Config::persist` write.
        let mut files: Vec<(PathBuf, Vec<u8>)> = Vec::new();
        if persist.kv {
            files.push(self.kv.store_file());
        }
        if persist.config {
            files.push(self.config.store_file());
        }
        if files.is_empty() {
            return None;
        }
        let started = Instant::now();
        let result = glommio::executor()
            .spawn_blocking(move || {
                for (path, bytes) in &files {
                    crate::durable::write_file_durably(path, bytes)
                        .map_err(|e| format!("persist {} failed: {e}", path.display()))?;
                }
                Ok::<(), String>(())
            })
            .await;
        if persist.kv {
            // The KV file's write, with the config file's when a batch has both.
            self.metrics.writer.kv_persisted(started.elapsed());
        }
        match result {
            Ok(()) => None,
            Err(e) => {
                tracing::error!(error = %e, "could not persist");
                Some(e)
            }
        }
    }

    /// Re-encodes what changed and swaps in the new snapshot.
    async fn publish(&mut self) {
        let snap = self
            .builder
            .publish(&mut self.tables, &self.config, self.kv.table())
            .await;
        let changed = self.builder.last_replaced();
        // The previous snapshot is dropped here, on the writer, unless a reader
        // still holds it. After a large change it alone owns thousands of routes:
        // freeing them is left to the reaper thread.
        let old = self.published.swap(Arc::new(snap));
        if changed >= LARGE_CHANGE {
            self.reaper.drop_later(old);
            // The trim waits out its settle time (seconds), by when the reaper has
            // freed this snapshot.
            self.trim.request();
        } else {
            drop(old);
        }
    }
}

/// A KV store loaded past its limits is kept whole (no data is dropped); puts
/// that grow it further are refused.
fn warn_if_over_limits(kv: &KvStore, config: &Config) {
    let limits = KvLimits::from(config);
    if kv.over_limits(&limits) {
        tracing::warn!(
            path = %kv.path().display(),
            entries = kv.entries(),
            total_bytes = kv.total_bytes(),
            kv_max_entries = limits.max_entries,
            kv_max_total_bytes = limits.max_total_bytes,
            "KV store loaded over its limits; puts that grow it will be refused"
        );
    }
}

/// Runs the writer on shard 0 (`server::start` spawns it there): one forwarder per
/// shard feeds a local inbox; a timer ([`super::scan_tick`]) feeds the liveness scan.
///
/// The writer's configuration starts as the one `snapshot` was published with;
/// from then on the writer owns it and publishes every change with a snapshot.
pub async fn run_writer(
    kv: KvStore,
    started: Instant,
    snapshot: Arc<ArcSwap<Snapshot>>,
    from_shards: Vec<shared_channel::SharedReceiver<WriteRequest>>,
    to_shards: Vec<shared_channel::SharedSender<ShardControl>>,
    stop: Arc<AtomicBool>,
    metrics: MetricsHandle,
) {
    let config = Config::clone(&snapshot.load().config);
    let (inbox_tx, inbox_rx) = local_channel::new_bounded::<WriteRequest>(64 * 1024);
    let inbox_tx = Rc::new(inbox_tx);
    // Forwarders first: shards wait for their writer channel to connect before they
    // connect their control channel, so connecting in the other order would deadlock.
    for rx in from_shards {
        let inbox = inbox_tx.clone();
        glommio::spawn_local(async move {
            let rx = rx.connect().await;
            while let Some(req) = rx.recv().await {
                if inbox.send(req).await.is_err() {
                    break;
                }
            }
        })
        .detach();
    }
    super::scan_tick::spawn(inbox_tx.clone(), snapshot.clone(), stop);
    drop(inbox_tx);
    let mut controls = Vec::new();
    for tx in to_shards {
        controls.push(Rc::new(tx.connect().await));
    }
    Writer::new(config, kv, started, snapshot, controls, metrics)
        .run(inbox_rx)
        .await;
}
