//! A thread-per-core drop-in replacement for the Apache RocketMQ NameServer.
//!
//! # Layout (the data path, in order)
//! - `protocol` crate: frames, header codecs, fastjson-identical bodies.
//! - [`server`]: one glommio executor per core, each with its own SO_REUSEPORT
//!   listener shard and the connections it accepted ([`server::connection`]).
//! - [`handlers`]: turns a decoded request into either a read answered from the
//!   current [`registry::snapshot::Snapshot`] or a [`registry::WriteOp`] for the writer.
//! - [`registry`]: the single writer ([`registry::writer`]) owns the mutable
//!   [`registry::tables::Tables`], applies writes in batches and publishes immutable
//!   snapshots through `arc-swap`; readers never take a lock.
//! - [`auth`]: the accounts that sign requests (`plain_acl.yml`) and their reload.
//! - [`config`], [`kv`]: the properties-file configuration and the persisted KV store.
//!   The writer owns the live configuration and publishes it with every snapshot.
//! - [`durable`]: the crash-safe file replacement both of them persist with.
//! - [`http`]: the HTTP listener (metrics, probes, console) on its own thread,
//!   and the counters every layer writes.

pub mod auth;
pub mod config;
pub mod console;
pub mod durable;
pub mod handlers;
pub mod http;
pub mod kv;
pub mod registry;
pub mod reply;
pub mod server;
