//! The once-a-second ticker: closes timeline seconds, samples loadgen's and the
//! servers' CPU/RSS, and prints the live line on a terminal.

use std::io::Write;
use std::sync::Arc;
use std::time::Duration;

use serde::Serialize;
use tokio::sync::watch;
use tokio::task::JoinHandle;

use crate::procstat::Sampler;
use crate::stats::{Hub, Op};
use crate::units::{fmt_rate, fmt_us};

/// Resource use during one second.
#[derive(Debug, Clone, Serialize)]
pub struct SysPoint {
    pub t: u64,
    pub loadgen_cores: f64,
    pub loadgen_rss_mib: f64,
    /// Per target, when its pid was given and the process was readable.
    pub server_cores: Vec<Option<f64>>,
    pub server_rss_mib: Vec<Option<f64>>,
}

pub struct Monitor {
    stop: watch::Sender<bool>,
    join: JoinHandle<Vec<SysPoint>>,
}

impl Monitor {
    pub fn start(hub: Arc<Hub>, server_pids: Vec<Option<u32>>, live: bool) -> Monitor {
        let (stop, rx) = watch::channel(false);
        let join = tokio::spawn(tick(hub, server_pids, live, rx));
        Monitor { stop, join }
    }

    /// Stops the ticker, closes every second and returns the samples.
    pub async fn finish(self) -> Vec<SysPoint> {
        let _ = self.stop.send(true);
        self.join.await.unwrap_or_default()
    }
}

async fn tick(
    hub: Arc<Hub>,
    pids: Vec<Option<u32>>,
    live: bool,
    mut stop: watch::Receiver<bool>,
) -> Vec<SysPoint> {
    let mut me = Sampler::new(None);
    let mut servers: Vec<Option<Sampler>> = pids
        .iter()
        .map(|p| p.map(|p| Sampler::new(Some(p))))
        .collect();
    let mut points = Vec::new();
    let epoch = hub.epoch();
    let mut k: u64 = 1;
    loop {
        // Records of second k-1 reach the hub within ~200 ms of its end.
        let at = epoch + Duration::from_secs(k) + Duration::from_millis(400);
        tokio::select! {
            _ = tokio::time::sleep_until(at.into()) => {}
            _ = stop.changed() => break,
        }
        hub.close_before(k);
        let mine = me.sample().unwrap_or_default();
        let srv: Vec<_> = servers
            .iter_mut()
            .map(|s| s.as_mut().and_then(|s| s.sample()))
            .collect();
        let p = SysPoint {
            t: k - 1,
            loadgen_cores: mine.cpu_cores,
            loadgen_rss_mib: mine.rss_mib,
            server_cores: srv.iter().map(|s| s.map(|s| s.cpu_cores)).collect(),
            server_rss_mib: srv.iter().map(|s| s.map(|s| s.rss_mib)).collect(),
        };
        if live {
            print_line(&hub, &p);
        }
        points.push(p);
        k += 1;
    }
    hub.close_before(u64::MAX);
    points
}

fn print_line(hub: &Hub, p: &SysPoint) {
    let mut line = format!("[{:>4}s]", p.t);
    for op in Op::ALL {
        let (count, errors, p99) = hub.second(op, p.t);
        if count == 0 && op != Op::Route {
            continue;
        }
        line.push_str(&format!(" {} {}/s", op.name(), fmt_rate(count as f64)));
        if p99 > 0 {
            line.push_str(&format!(" p99 {}", fmt_us(p99)));
        }
        if errors > 0 {
            line.push_str(&format!(" ERR {errors}"));
        }
        line.push_str(" |");
    }
    line.push_str(&format!(" loadgen {:.2} cores", p.loadgen_cores));
    for (i, c) in p.server_cores.iter().enumerate() {
        if let (Some(c), Some(r)) = (c, p.server_rss_mib.get(i).copied().flatten()) {
            line.push_str(&format!(" | server#{i} {c:.2} cores {r:.0} MiB"));
        }
    }
    let mut err = std::io::stderr().lock();
    let _ = writeln!(err, "{line}");
}
