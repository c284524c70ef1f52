//! The text table of an attack run: one line per attack, then its notes.

use std::fmt::Write;

use super::AttackRun;
use crate::units::fmt_us;

fn mib(v: Option<f64>) -> String {
    v.map(|m| format!("{m:.0}")).unwrap_or_else(|| "-".into())
}

pub fn render(run: &AttackRun) -> String {
    let mut o = String::new();
    let _ = writeln!(
        o,
        "attack against {}{}",
        run.target,
        run.pid.map(|p| format!(" (pid {p})")).unwrap_or_default()
    );
    let _ = writeln!(
        o,
        "{:<15} {:>9} {:>9} {:>7} {:>7} {:>8} {:>8} {:>8} {:>9} {:>11} {:>16} {:>9}",
        "attack",
        "lookups",
        "answered",
        "<100ms",
        "<1s",
        "p50",
        "p99",
        "max",
        "new conns",
        "hostile",
        "RSS MiB b/pk/a",
        "survived"
    );
    for r in &run.attacks {
        if let Some(why) = &r.skipped {
            let _ = writeln!(o, "{:<15} skipped: {why}", r.attack.name());
            continue;
        }
        let v = &r.victims;
        let h = &r.hostile;
        let survived = if r.attack.judged_by_exit() {
            match (h.exit_after_sigterm_ms, h.exit_after_close_ms) {
                (Some(ms), _) => format!("exit {ms}ms"),
                (None, Some(ms)) => format!("exit+close {ms}ms"),
                (None, None) => "no exit".into(),
            }
        } else if r.passed() {
            "yes".into()
        } else {
            "NO".into()
        };
        let _ = writeln!(
            o,
            "{:<15} {:>9} {:>9} {:>6.1}% {:>6.1}% {:>8} {:>8} {:>8} {:>9} {:>11} {:>16} {:>9}",
            r.attack.name(),
            v.lookups_sent,
            v.lookups_answered,
            v.pct_within_100ms,
            v.pct_within_1s,
            fmt_us(v.p50_us),
            fmt_us(v.p99_us),
            fmt_us(v.max_us),
            format!("{}/{}", v.new_conns_ok, v.new_conns_tried),
            format!("{}/{}", h.conns_opened, h.closed_by_server),
            format!(
                "{}/{}/{}",
                mib(r.rss_mib_before),
                mib(r.rss_mib_peak),
                mib(r.rss_mib_after)
            ),
            survived
        );
    }
    let _ = writeln!(
        o,
        "new conns = fresh connections from 127.0.0.1 that got a route / tried; \
hostile = attack connections opened / closed by the server"
    );
    for r in run.attacks.iter().filter(|r| r.skipped.is_none()) {
        let h = &r.hostile;
        let mut facts = h.notes.clone();
        facts.push(format!(
            "{} requests, {} bytes sent, {} conns refused",
            h.requests_sent, h.bytes_sent, h.conns_failed
        ));
        if let Some(b) = h.kv_file_bytes {
            facts.push(format!(
                "KV file {b} bytes, .bak {}",
                h.kv_bak_bytes
                    .map(|b| b.to_string())
                    .unwrap_or_else(|| "-".into())
            ));
        }
        let _ = writeln!(o, "  {:<15} {}", r.attack.name(), facts.join("; "));
    }
    o
}
