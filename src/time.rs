//! Simulated time and rates.
//!
//! Time is integer nanoseconds everywhere in the event path ([`SimInstant`],
//! [`SimDuration`]); floating point appears only when a rate or distribution is
//! converted once at scenario load, and when reports present numbers. This
//! module owns parsing of the scenario's duration (`"250ms"`) and rate
//! (`"1200/min"`) strings; it knows nothing about scenarios or the engine.

use std::fmt;
use std::str::FromStr;

const NS_PER_US: u64 = 1_000;
const NS_PER_MS: u64 = 1_000_000;
const NS_PER_S: u64 = 1_000_000_000;

/// A span of simulated time in whole nanoseconds.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct SimDuration(pub u64);

/// A point on the simulated clock: nanoseconds since the start of the run.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct SimInstant(pub u64);

impl SimDuration {
    pub const ZERO: SimDuration = SimDuration(0);

    pub const fn from_nanos(ns: u64) -> Self {
        SimDuration(ns)
    }
    pub const fn from_millis(ms: u64) -> Self {
        SimDuration(ms * NS_PER_MS)
    }
    pub const fn from_secs(s: u64) -> Self {
        SimDuration(s * NS_PER_S)
    }
    pub const fn as_nanos(self) -> u64 {
        self.0
    }
    pub fn as_secs_f64(self) -> f64 {
        self.0 as f64 / NS_PER_S as f64
    }
    pub const fn is_zero(self) -> bool {
        self.0 == 0
    }
    /// Converts seconds to whole nanoseconds, rounding to nearest; negative
    /// and NaN inputs give zero, huge ones saturate.
    pub fn from_secs_f64(secs: f64) -> Self {
        SimDuration(round_ns(secs * NS_PER_S as f64))
    }
    pub fn saturating_mul(self, k: u64) -> Self {
        SimDuration(self.0.saturating_mul(k))
    }
}

/// `ns` rounded to the nearest whole nanosecond, ties away from zero (as
/// `f64::round`); negative and NaN inputs give zero, huge ones saturate.
///
/// Without SSE4.1 (x86-64's baseline) `f64::round` is a library call, and
/// every drawn service time and arrival gap goes through here. Truncation
/// is one instruction and `ns - trunc(ns)` is exact, so the result is
/// `round`'s for every input (tested).
#[inline]
pub fn round_ns(ns: f64) -> u64 {
    if ns.is_nan() || ns <= 0.0 {
        0
    } else if ns >= u64::MAX as f64 {
        u64::MAX
    } else {
        let whole = ns as u64;
        whole + u64::from(ns - whole as f64 >= 0.5)
    }
}

impl SimInstant {
    pub const ZERO: SimInstant = SimInstant(0);

    pub const fn as_nanos(self) -> u64 {
        self.0
    }
    pub fn as_secs_f64(self) -> f64 {
        self.0 as f64 / NS_PER_S as f64
    }
    /// Time since `earlier`; zero if `earlier` is later (never panics).
    pub fn saturating_since(self, earlier: SimInstant) -> SimDuration {
        SimDuration(self.0.saturating_sub(earlier.0))
    }
}

impl std::ops::Add<SimDuration> for SimInstant {
    type Output = SimInstant;
    fn add(self, d: SimDuration) -> SimInstant {
        SimInstant(self.0.saturating_add(d.0))
    }
}

impl std::ops::Add for SimDuration {
    type Output = SimDuration;
    fn add(self, d: SimDuration) -> SimDuration {
        SimDuration(self.0.saturating_add(d.0))
    }
}

/// Why a duration or rate string could not be read.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum UnitError {
    #[error("`{0}` is empty; write a number with a unit, e.g. \"250ms\", \"2s\", \"5m\", \"1h\"")]
    Empty(String),
    #[error("`{0}` has no unit; write e.g. \"{0}s\" (units: ns, us, ms, s, m, h, d)")]
    MissingUnit(String),
    #[error("`{input}` has unknown unit `{unit}`; use one of ns, us, ms, s, m, h, d")]
    UnknownUnit { input: String, unit: String },
    #[error("`{0}` is not a non-negative number with a unit, e.g. \"1.5s\"")]
    BadNumber(String),
    #[error("`{0}` is too large: simulated time is limited to about 584 years")]
    Overflow(String),
    #[error("`{0}` is not a rate; write count/unit, e.g. \"1200/min\", \"20/s\", \"30/h\"")]
    BadRate(String),
    #[error("`{0}` is above the highest rate esa-sim simulates exactly (1,000,000/s: arrival gaps are whole nanoseconds)")]
    RateTooHigh(String),
}

/// Splits `"1.5ms"` into (`"1.5"`, `"ms"`).
fn split_number(s: &str) -> (&str, &str) {
    let end = s
        .find(|c: char| !(c.is_ascii_digit() || c == '.' || c == '_'))
        .unwrap_or(s.len());
    (&s[..end], s[end..].trim())
}

fn unit_ns(unit: &str) -> Option<u64> {
    Some(match unit {
        "ns" => 1,
        "us" | "µs" => NS_PER_US,
        "ms" => NS_PER_MS,
        "s" | "sec" | "secs" => NS_PER_S,
        "m" | "min" | "mins" => 60 * NS_PER_S,
        "h" | "hr" | "hour" | "hours" => 3_600 * NS_PER_S,
        "d" | "day" | "days" => 86_400 * NS_PER_S,
        _ => return None,
    })
}

/// Parses a non-negative decimal number without exponent into
/// (integer part, fraction digits), so durations stay exact integers.
fn parse_decimal(num: &str, input: &str) -> Result<(u64, String), UnitError> {
    let num = num.replace('_', "");
    let bad = || UnitError::BadNumber(input.to_string());
    let (int, frac) = match num.split_once('.') {
        Some((i, f)) => (i, f),
        None => (num.as_str(), ""),
    };
    if (int.is_empty() && frac.is_empty()) || frac.contains('.') {
        return Err(bad());
    }
    let int_val = if int.is_empty() {
        0
    } else {
        int.parse::<u64>()
            .map_err(|_| UnitError::Overflow(input.to_string()))?
    };
    Ok((int_val, frac.to_string()))
}

impl FromStr for SimDuration {
    type Err = UnitError;

    /// Reads `"250ms"`, `"2s"`, `"1.5m"`, `"1h"`; the result is exact to the
    /// nanosecond (fractions below 1 ns are rounded to nearest).
    fn from_str(input: &str) -> Result<Self, UnitError> {
        let s = input.trim();
        if s.is_empty() {
            return Err(UnitError::Empty(input.to_string()));
        }
        let (num, unit) = split_number(s);
        if num.is_empty() {
            return Err(UnitError::BadNumber(input.to_string()));
        }
        if unit.is_empty() {
            return Err(UnitError::MissingUnit(input.to_string()));
        }
        let scale = unit_ns(unit).ok_or_else(|| UnitError::UnknownUnit {
            input: input.to_string(),
            unit: unit.to_string(),
        })?;
        let (int, frac) = parse_decimal(num, input)?;
        let overflow = || UnitError::Overflow(input.to_string());
        let whole = int.checked_mul(scale).ok_or_else(overflow)?;
        let frac_ns = fraction_times(&frac, scale);
        Ok(SimDuration(
            whole.checked_add(frac_ns).ok_or_else(overflow)?,
        ))
    }
}

/// `0.<frac> * scale`, rounded to nearest, computed exactly in integers.
fn fraction_times(frac: &str, scale: u64) -> u64 {
    let digits: String = frac.chars().take(18).collect();
    if digits.is_empty() {
        return 0;
    }
    let numerator: u128 = digits.parse().unwrap_or(0);
    let denominator: u128 = 10u128.pow(digits.len() as u32);
    ((numerator * scale as u128 + denominator / 2) / denominator) as u64
}

impl fmt::Display for SimDuration {
    /// Shortest exact form: `"0s"`, `"250ms"`, `"1.5s"`, `"5m"`, `"1h"`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let ns = self.0;
        for (unit, scale) in [("h", 3_600 * NS_PER_S), ("m", 60 * NS_PER_S)] {
            if ns >= scale && ns.is_multiple_of(scale) {
                return write!(f, "{}{unit}", ns / scale);
            }
        }
        if ns == 0 {
            return f.write_str("0s");
        }
        let (unit, scale) = if ns >= NS_PER_S {
            ("s", NS_PER_S)
        } else if ns >= NS_PER_MS {
            ("ms", NS_PER_MS)
        } else if ns >= NS_PER_US {
            ("us", NS_PER_US)
        } else {
            ("ns", 1)
        };
        let whole = ns / scale;
        let rest = ns % scale;
        if rest == 0 {
            return write!(f, "{whole}{unit}");
        }
        let width = scale.ilog10() as usize;
        let frac = format!("{rest:0width$}");
        write!(f, "{whole}.{}{unit}", frac.trim_end_matches('0'))
    }
}

/// Highest rate accepted: above it, gaps rounded to whole nanoseconds
/// would bias the rate.
pub const MAX_RATE_PER_S: f64 = 1e6;

/// An arrival rate, stored as events per second. Converted from the
/// scenario's string once at load time.
#[derive(Clone, Copy, Debug, PartialEq, PartialOrd)]
pub struct Rate {
    per_s: f64,
}

impl Rate {
    pub fn per_second(per_s: f64) -> Self {
        Rate { per_s }
    }
    pub fn per_s(self) -> f64 {
        self.per_s
    }
    pub fn per_min(self) -> f64 {
        self.per_s * 60.0
    }
    /// Mean gap between events; `None` for a zero rate.
    pub fn mean_gap(self) -> Option<SimDuration> {
        (self.per_s > 0.0).then(|| SimDuration::from_secs_f64(1.0 / self.per_s))
    }
}

impl FromStr for Rate {
    type Err = UnitError;

    /// Reads `"1200/min"`, `"20/s"`, `"30/h"`, `"0.5/ms"`.
    fn from_str(input: &str) -> Result<Self, UnitError> {
        let bad = || UnitError::BadRate(input.to_string());
        let (count, unit) = input.trim().split_once('/').ok_or_else(bad)?;
        let count = count.trim().replace('_', "");
        let per: f64 = count.parse().map_err(|_| bad())?;
        if !per.is_finite() || per < 0.0 || count.starts_with(['+', '-']) {
            return Err(bad());
        }
        let unit = unit.trim();
        let unit_ns = unit_ns(unit).ok_or_else(|| UnitError::UnknownUnit {
            input: input.to_string(),
            unit: unit.to_string(),
        })?;
        let per_s = per * NS_PER_S as f64 / unit_ns as f64;
        if !per_s.is_finite() || per_s > MAX_RATE_PER_S {
            return Err(UnitError::RateTooHigh(input.to_string()));
        }
        Ok(Rate { per_s })
    }
}

impl fmt::Display for Rate {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let per_min = self.per_min();
        if per_min == per_min.round() {
            write!(f, "{per_min}/min")
        } else {
            write!(f, "{}/s", self.per_s)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// `round_ns` is `f64::round` (then clamped to `u64`) on edge cases and
    /// on values spread over every binade.
    #[test]
    fn round_ns_is_f64_round() {
        let reference = |x: f64| {
            let r = x.round();
            if r.is_nan() || r <= 0.0 {
                0
            } else {
                r as u64
            }
        };
        let mut xs = vec![
            0.0,
            -0.0,
            0.5,
            1.5,
            2.5,
            0.49999999999999994,
            4503599627370495.5,
            4503599627370497.0,
            9007199254740993.0,
            1e19,
            1.8446744073709552e19,
            1e300,
            f64::INFINITY,
            f64::NEG_INFINITY,
            f64::NAN,
            -1.5,
            f64::MIN_POSITIVE,
        ];
        let mut bits = 0x9e37_79b9_7f4a_7c15u64;
        for _ in 0..200_000 {
            bits ^= bits << 13;
            bits ^= bits >> 7;
            bits ^= bits << 17;
            let x = f64::from_bits(bits);
            xs.push(x);
            xs.push((bits % 10_000_000) as f64 / 8.0); // halves and eighths
        }
        for x in xs {
            assert_eq!(round_ns(x), reference(x), "{x:e}");
        }
    }

    fn d(s: &str) -> u64 {
        s.parse::<SimDuration>().unwrap().0
    }

    #[test]
    fn durations_parse_exactly() {
        assert_eq!(d("250ms"), 250 * NS_PER_MS);
        assert_eq!(d("2s"), 2 * NS_PER_S);
        assert_eq!(d("5m"), 300 * NS_PER_S);
        assert_eq!(d("1h"), 3_600 * NS_PER_S);
        assert_eq!(d("1.5s"), 1_500 * NS_PER_MS);
        assert_eq!(d("0s"), 0);
        assert_eq!(d(".5ms"), 500 * NS_PER_US);
        assert_eq!(d("3ns"), 3);
    }

    #[test]
    fn durations_reject_garbage() {
        for bad in [
            "",
            "5",
            "s",
            "-1s",
            "1.2.3s",
            "2 parsecs",
            "1e3s",
            "99999999999999999999h",
        ] {
            assert!(bad.parse::<SimDuration>().is_err(), "{bad} accepted");
        }
    }

    #[test]
    fn durations_display_round_trips() {
        for s in ["0s", "250ms", "1.5s", "5m", "1h", "7ns", "2.25us", "90s"] {
            assert_eq!(s.parse::<SimDuration>().unwrap().to_string(), s);
        }
    }

    #[test]
    fn rates_parse() {
        assert_eq!("1200/min".parse::<Rate>().unwrap().per_s(), 20.0);
        assert_eq!("20/s".parse::<Rate>().unwrap().per_s(), 20.0);
        assert_eq!("36/h".parse::<Rate>().unwrap().per_s(), 0.01);
        for bad in ["20", "/s", "x/s", "-3/s", "5/fortnight", "inf/s"] {
            assert!(bad.parse::<Rate>().is_err(), "{bad} accepted");
        }
    }
}
