//! Per-shard request rates for the console, from the shards' request counters:
//! the console samples them on each request and divides by the time since the
//! oldest sample it kept (at most [`WINDOW`] old). A first view, with no earlier
//! sample, gets the average since start.

use std::collections::VecDeque;
use std::time::{Duration, Instant};

/// The longest span a rate is averaged over.
pub const WINDOW: Duration = Duration::from_secs(60);
/// Samples closer than this to the previous one are not kept (a page reload
/// storm keeps the queue short).
const MIN_GAP: Duration = Duration::from_secs(1);

/// Recent samples of every shard's request count.
#[derive(Debug, Default)]
pub struct RateWindow {
    samples: VecDeque<(Instant, Vec<u64>)>,
}

impl RateWindow {
    pub const fn new() -> RateWindow {
        RateWindow {
            samples: VecDeque::new(),
        }
    }

    /// Records `counts` at `now`; returns each shard's requests per second over
    /// the kept window, or over `uptime` when there is no earlier sample.
    pub fn observe(&mut self, now: Instant, counts: &[u64], uptime: Duration) -> Vec<f64> {
        while self
            .samples
            .front()
            .is_some_and(|(at, _)| now.saturating_duration_since(*at) > WINDOW)
        {
            self.samples.pop_front();
        }
        let rates = match self.samples.front() {
            Some((at, old)) if now.saturating_duration_since(*at) >= MIN_GAP => {
                let secs = now.saturating_duration_since(*at).as_secs_f64();
                counts
                    .iter()
                    .enumerate()
                    .map(|(i, c)| c.saturating_sub(old.get(i).copied().unwrap_or(0)) as f64 / secs)
                    .collect()
            }
            _ => {
                let secs = uptime.as_secs_f64().max(1.0);
                counts.iter().map(|c| *c as f64 / secs).collect()
            }
        };
        let keep = self
            .samples
            .back()
            .is_none_or(|(at, _)| now.saturating_duration_since(*at) >= MIN_GAP);
        if keep {
            self.samples.push_back((now, counts.to_vec()));
        }
        rates
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rates_over_the_window() {
        let t0 = Instant::now();
        let mut w = RateWindow::new();
        // No earlier sample: the average since start.
        assert_eq!(
            w.observe(t0, &[100, 0], Duration::from_secs(10)),
            vec![10.0, 0.0]
        );
        // Within a second of the first sample: still the average since start.
        assert_eq!(
            w.observe(
                t0 + Duration::from_millis(500),
                &[110, 0],
                Duration::from_secs(10)
            ),
            vec![11.0, 0.0]
        );
        assert_eq!(
            w.observe(
                t0 + Duration::from_secs(2),
                &[300, 50],
                Duration::from_secs(12)
            ),
            vec![100.0, 25.0]
        );
        // The first sample falls out of the window; the one at 2 s is the base.
        assert_eq!(
            w.observe(
                t0 + Duration::from_secs(62),
                &[900, 50],
                Duration::from_secs(72)
            ),
            vec![10.0, 0.0]
        );
    }
}
