//! The writer's REGISTER_BROKER: the tables' registration, the reply, and what
//! a re-registration that changes nothing may skip (see
//! [`crate::registry::reregister`]).

use std::time::Instant;

use protocol::body::RegisterBrokerBody;

use super::{Writer, PUT_SLICE};
use crate::handlers::broker::decode_refused;
use crate::http::metrics::Registration as RegCount;
use crate::kv::ORDER_TOPIC_CONFIG;
use crate::registry::notify;
use crate::registry::reregister::{AppliedBody, BodyPrint, WireRegistration};
use crate::registry::tables::Registration;
use crate::registry::ConnId;
use crate::reply::Reply;

impl Writer {
    /// A registration from the wire. A body the shard left undecoded is applied
    /// without it when the tables agree it changes nothing; otherwise (the
    /// shard's hint was stale) it is decoded here after all.
    pub(super) async fn register_wire(
        &mut self,
        wire: WireRegistration,
        conn: ConnId,
        now: Instant,
    ) -> Reply {
        let WireRegistration {
            mut reg,
            print,
            deferred,
        } = wire;
        let mut known = None;
        if let Some(raw) = deferred {
            known = self.tables.unchanged_body(&reg, &print, self.settings());
            if known.is_none() {
                tracing::debug!(broker = %reg.name, addr = %reg.addr, "register body decoded by the writer: its hint was stale");
                match RegisterBrokerBody::decode_limited(
                    Some(&raw),
                    print.compressed,
                    print.version,
                    print.limits,
                ) {
                    Ok(body) => reg.body = body,
                    Err(e) => return decode_refused(&e, &reg.name, &reg.addr),
                }
            }
        }
        self.register(&reg, conn, now, Some((print, known))).await
    }

    /// Applies a registration; `print` says which body it was (and, when the
    /// body was not decoded, what the tables know of it), so the next identical
    /// one can skip decoding.
    pub(super) async fn register(
        &mut self,
        reg: &Registration,
        conn: ConnId,
        now: Instant,
        print: Option<(BodyPrint, Option<AppliedBody>)>,
    ) -> Reply {
        let settings = self.settings();
        // For the count only: the version the broker last registered with.
        let before = self
            .tables
            .live(&reg.cluster, &reg.addr)
            .map(|l| l.data_version);
        // Only looked up when 905s are on: nothing extra per registration otherwise.
        let notify_on = self.config.notify_min_broker_id_changed;
        let prev_min = if notify_on {
            notify::min_id(&self.tables, &reg.name)
        } else {
            None
        };
        let Some((result, puts)) = self
            .tables
            .register_broker_except_topics(reg, conn, now, settings)
        else {
            self.metrics.writer.registration(RegCount::Rejected);
            return Reply::system_error("register broker failed").custom_header();
        };
        self.metrics
            .writer
            .registration(if before == Some(reg.body.data_version) {
                RegCount::Unchanged
            } else {
                RegCount::Changed
            });
        if notify_on {
            notify::after_register(&self.tables, &mut self.notifier, reg, prev_min);
        }
        let writes_routes = puts.is_some();
        if let Some(puts) = puts {
            // A body may list 200k topics: put them in slices, letting
            // the connections of this core run in between.
            for slice in reg.body.topic_configs.chunks(PUT_SLICE) {
                self.tables.put_topics(reg, &puts, slice);
                glommio::yield_if_needed().await;
            }
        }
        if let Some((print, known)) = print {
            let routes_written = writes_routes || known.is_some_and(|k| k.routes_written);
            if self.tables.remember_body(reg, print, routes_written) {
                self.builder.register_hints().note(
                    &reg.cluster,
                    &reg.addr,
                    reg.body.data_version,
                    print,
                );
            }
        }
        let mut reply = Reply::success().custom_header();
        if let Some(ha) = result.ha_server_addr {
            reply = reply.ext("haServerAddr", ha);
        }
        if let Some(m) = result.master_addr {
            reply = reply.ext("masterAddr", m);
        }
        if self.config.return_order_topic_config_to_broker {
            if let Some(ns) = self.kv.table().get(ORDER_TOPIC_CONFIG) {
                reply.body = Some(ns.table_body());
            }
        }
        reply
    }
}
