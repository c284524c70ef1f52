//! Durations in scenario files ("30s", "500ms", "2m") and human formatting.

use std::fmt;
use std::time::Duration;

use serde::{Deserialize, Deserializer, Serialize, Serializer};

/// A duration written as `"500ms"`, `"30s"`, `"2m"`, `"1h"` or a number of seconds.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Default)]
pub struct Dur(pub Duration);

impl Dur {
    pub fn secs(s: u64) -> Self {
        Dur(Duration::from_secs(s))
    }
    pub fn millis(ms: u64) -> Self {
        Dur(Duration::from_millis(ms))
    }
    pub fn is_zero(self) -> bool {
        self.0.is_zero()
    }
    /// This duration multiplied by `f` (at least 1 ms unless it was zero).
    pub fn scaled(self, f: f64) -> Self {
        if self.0.is_zero() {
            return self;
        }
        let s = (self.0.as_secs_f64() * f).max(0.001);
        Dur(Duration::from_secs_f64(s))
    }
}

/// Parses `"250ms"`, `"1.5s"`, `"2m"`, `"1h"`, `"10us"` or a bare number of seconds.
pub fn parse_duration(s: &str) -> Result<Duration, String> {
    let t = s.trim();
    let split = t
        .find(|c: char| !(c.is_ascii_digit() || c == '.'))
        .unwrap_or(t.len());
    let (num, unit) = t.split_at(split);
    let v: f64 = num
        .parse()
        .map_err(|_| format!("bad duration {s:?} (try \"500ms\", \"30s\", \"2m\")"))?;
    let secs = match unit.trim() {
        "" | "s" | "sec" => v,
        "ms" => v / 1e3,
        "us" | "µs" => v / 1e6,
        "m" | "min" => v * 60.0,
        "h" => v * 3600.0,
        u => return Err(format!("bad duration unit {u:?} in {s:?}")),
    };
    if !secs.is_finite() || secs < 0.0 {
        return Err(format!("bad duration {s:?}"));
    }
    Ok(Duration::from_secs_f64(secs))
}

impl fmt::Display for Dur {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let ms = self.0.as_millis();
        if ms.is_multiple_of(1000) {
            let s = ms / 1000;
            if s >= 60 && s.is_multiple_of(60) {
                write!(f, "{}m", s / 60)
            } else {
                write!(f, "{s}s")
            }
        } else {
            write!(f, "{ms}ms")
        }
    }
}

impl Serialize for Dur {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

impl<'de> Deserialize<'de> for Dur {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        #[derive(Deserialize)]
        #[serde(untagged)]
        enum Raw {
            Num(f64),
            Str(String),
        }
        match Raw::deserialize(d)? {
            Raw::Num(n) if n >= 0.0 && n.is_finite() => Ok(Dur(Duration::from_secs_f64(n))),
            Raw::Num(n) => Err(serde::de::Error::custom(format!("bad duration {n}"))),
            Raw::Str(s) => parse_duration(&s)
                .map(Dur)
                .map_err(serde::de::Error::custom),
        }
    }
}

/// A latency in microseconds as `"87µs"`, `"1.24ms"` or `"2.10s"`.
pub fn fmt_us(us: u64) -> String {
    if us < 1_000 {
        format!("{us}µs")
    } else if us < 1_000_000 {
        let ms = us as f64 / 1e3;
        if ms < 10.0 {
            format!("{ms:.2}ms")
        } else if ms < 100.0 {
            format!("{ms:.1}ms")
        } else {
            format!("{ms:.0}ms")
        }
    } else {
        format!("{:.2}s", us as f64 / 1e6)
    }
}

/// A count with thousands separators: `12,345`.
pub fn fmt_count(n: u64) -> String {
    let s = n.to_string();
    let mut out = String::with_capacity(s.len() + s.len() / 3);
    for (i, c) in s.chars().enumerate() {
        if i > 0 && (s.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    out
}

/// A rate: `12,345` above 100, one decimal below.
pub fn fmt_rate(r: f64) -> String {
    if r >= 100.0 {
        fmt_count(r.round() as u64)
    } else {
        format!("{r:.1}")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations() {
        assert_eq!(parse_duration("30s").unwrap(), Duration::from_secs(30));
        assert_eq!(parse_duration("250ms").unwrap(), Duration::from_millis(250));
        assert_eq!(parse_duration("2m").unwrap(), Duration::from_secs(120));
        assert_eq!(parse_duration("1.5").unwrap(), Duration::from_millis(1500));
        assert!(parse_duration("3 parsecs").is_err());
        assert_eq!(Dur::secs(120).to_string(), "2m");
        assert_eq!(Dur::millis(1500).to_string(), "1500ms");
    }

    #[test]
    fn formatting() {
        assert_eq!(fmt_us(87), "87µs");
        assert_eq!(fmt_us(1240), "1.24ms");
        assert_eq!(fmt_count(1234567), "1,234,567");
        assert_eq!(fmt_rate(12.34), "12.3");
    }
}
