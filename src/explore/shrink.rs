//! Shrinking (`esa-sim shrink`, DESIGN.md §9): reduce a scenario whose run
//! meets a condition to a smallest one that still does — fewest faults
//! (Zeller's delta debugging, `ddmin`), then shortest fault windows, then
//! the shortest load and the lowest rates (bisection). Sans-IO: the
//! reduction asks an oracle whether a [`Candidate`] still meets the
//! condition; the CLI's oracle runs it.
//!
//! Bisection assumes the condition is monotone in the value shrunk (a
//! shorter window breaks no more than a longer one); where it is not, the
//! result is still a candidate that meets the condition, only maybe not
//! the smallest.

use std::fmt;
use std::str::FromStr;

use crate::scenario::FaultSpec;
use crate::sim::RunOutput;
use crate::time::{Rate, SimDuration};

/// What a run must show for a candidate to be kept.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Condition {
    /// `exit=3`: an invariant is violated (explore's exit 3).
    Invariant,
    /// `exit=1`: liveness fails (explore's exit 1).
    Liveness,
    /// `slo:<key>`: that SLO is breached.
    Slo(String),
    /// `lost>0`: jobs are lost.
    Lost,
}

/// The forms `--until` takes, for messages.
pub const FORMS: &str = "exit=3 (an invariant violated), exit=1 (liveness failed), slo:<key> (that SLO breached, e.g. slo:completion) or lost>0";

impl FromStr for Condition {
    type Err = String;

    fn from_str(s: &str) -> Result<Condition, String> {
        let t = s.trim();
        match t {
            "exit=3" => Ok(Condition::Invariant),
            "exit=1" => Ok(Condition::Liveness),
            "lost>0" => Ok(Condition::Lost),
            _ => match t.strip_prefix("slo:").map(str::trim) {
                Some(key) if !key.is_empty() => Ok(Condition::Slo(key.to_string())),
                _ => Err(format!("`{s}` is not a condition; write {FORMS}")),
            },
        }
    }
}

impl fmt::Display for Condition {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Condition::Invariant => f.write_str("exit=3"),
            Condition::Liveness => f.write_str("exit=1"),
            Condition::Slo(key) => write!(f, "slo:{key}"),
            Condition::Lost => f.write_str("lost>0"),
        }
    }
}

impl Condition {
    /// Whether a finished run (SLOs evaluated) meets the condition.
    pub fn met_by(&self, output: &RunOutput) -> bool {
        match self {
            Condition::Invariant => !output.violations.is_empty(),
            Condition::Liveness => !output.liveness.holds(),
            Condition::Slo(key) => (output.summary.slo.iter()).any(|v| &v.metric == key && !v.pass),
            Condition::Lost => output.summary.jobs_all.lost > 0,
        }
    }

    /// What a run gave, in the condition's terms (for "does not meet").
    pub fn observed(&self, output: &RunOutput) -> String {
        match self {
            Condition::Invariant => format!("{} invariant violation(s)", output.violations.len()),
            Condition::Liveness => output
                .liveness
                .failure()
                .unwrap_or_else(|| "liveness holds".to_string()),
            Condition::Slo(key) => match output.summary.slo.iter().find(|v| &v.metric == key) {
                Some(v) => format!(
                    "SLO {key} passes ({} {}, target {})",
                    v.measured.map_or("no value".to_string(), |m| m.to_string()),
                    v.unit,
                    v.target
                ),
                None => format!("no SLO {key}"),
            },
            Condition::Lost => format!("{} jobs lost", output.summary.jobs_all.lost),
        }
    }
}

/// The parts of a scenario shrinking changes.
#[derive(Clone, Debug, PartialEq)]
pub struct Candidate {
    pub faults: Vec<FaultSpec>,
    pub duration: SimDuration,
    /// Each load's rate, `None` for loads without one rate to lower
    /// (ramps, bursts, traces).
    pub rates: Vec<Option<Rate>>,
}

/// Asks whether a candidate still meets the condition; `Err` stops the
/// reduction (a bug or an IO failure, not a "no").
pub trait Oracle {
    type Error;
    fn meets(&mut self, candidate: &Candidate) -> Result<bool, Self::Error>;
}

/// Shortest window a fault is shrunk to.
const MIN_WINDOW_MS: u64 = 1;
/// Shortest load duration tried, in seconds.
const MIN_DURATION_S: u64 = 1;
/// Bisection steps per value (the value is found to 2⁻¹⁶ of its range).
const STEPS: u32 = 16;

/// Shrinks `start` (which meets the condition) as far as the oracle allows.
pub fn shrink<O: Oracle>(start: Candidate, oracle: &mut O) -> Result<Candidate, O::Error> {
    let mut best = start;
    best.faults = ddmin(&best.faults, &mut |faults: &[FaultSpec]| {
        oracle.meets(&Candidate {
            faults: faults.to_vec(),
            ..best.clone()
        })
    })?;
    for i in 0..best.faults.len() {
        let Some(window) = best.faults[i].duration else {
            continue; // a permanent fault stays permanent
        };
        let ms = bisect_down(MIN_WINDOW_MS, millis(window), &mut |ms| {
            let mut c = best.clone();
            c.faults[i].duration = Some(SimDuration::from_millis(ms));
            oracle.meets(&c)
        })?;
        best.faults[i].duration = Some(SimDuration::from_millis(ms));
    }
    // Whole seconds, so the file reads `241s`, not `240.74s`.
    let whole_s = best.duration.as_nanos().div_ceil(1_000_000_000);
    let s = bisect_down(MIN_DURATION_S, whole_s, &mut |s| {
        oracle.meets(&Candidate {
            duration: SimDuration::from_secs(s),
            ..best.clone()
        })
    })?;
    if s < whole_s {
        best.duration = SimDuration::from_secs(s);
    }
    for i in 0..best.rates.len() {
        let Some(rate) = best.rates[i] else { continue };
        // Whole jobs per minute, down to 1/min.
        let per_min = rate.per_min().floor() as u64;
        let lowest = bisect_down(1, per_min, &mut |m| {
            let mut c = best.clone();
            c.rates[i] = Some(per_minute(m));
            oracle.meets(&c)
        })?;
        if lowest < per_min {
            best.rates[i] = Some(per_minute(lowest));
        }
    }
    Ok(best)
}

fn per_minute(n: u64) -> Rate {
    Rate::per_second(n as f64 / 60.0)
}

fn millis(d: SimDuration) -> u64 {
    d.as_nanos() / 1_000_000
}

/// The smallest `v` in `[lo, hi]` with `holds(v)`, by bisection, knowing
/// `holds(hi)`; `hi` when nothing smaller holds (or `hi <= lo`).
pub fn bisect_down<E>(
    lo: u64,
    hi: u64,
    holds: &mut dyn FnMut(u64) -> Result<bool, E>,
) -> Result<u64, E> {
    if hi <= lo {
        return Ok(hi);
    }
    if holds(lo)? {
        return Ok(lo);
    }
    // Invariant: holds(good), !holds(bad), bad < good.
    let (mut bad, mut good) = (lo, hi);
    for _ in 0..STEPS {
        if good - bad <= 1 {
            break;
        }
        let mid = bad + (good - bad) / 2;
        if holds(mid)? {
            good = mid;
        } else {
            bad = mid;
        }
    }
    Ok(good)
}

/// Zeller's ddmin: a 1-minimal subset of `items` (in their order) that
/// still `fails`, knowing the whole list does. Tries complements first.
pub fn ddmin<T: Clone, E>(
    items: &[T],
    fails: &mut dyn FnMut(&[T]) -> Result<bool, E>,
) -> Result<Vec<T>, E> {
    let mut current: Vec<T> = items.to_vec();
    if current.is_empty() || fails(&[])? {
        return Ok(Vec::new());
    }
    let mut n = 2usize;
    while current.len() >= 2 {
        let chunks = split(current.len(), n);
        let mut reduced = false;
        for (start, end) in &chunks {
            let complement: Vec<T> = (current[..*start].iter())
                .chain(&current[*end..])
                .cloned()
                .collect();
            if fails(&complement)? {
                current = complement;
                n = (n - 1).max(2);
                reduced = true;
                break;
            }
        }
        if !reduced {
            for (start, end) in &chunks {
                let subset = &current[*start..*end];
                if subset.len() < current.len() && fails(subset)? {
                    current = subset.to_vec();
                    n = 2;
                    reduced = true;
                    break;
                }
            }
        }
        if !reduced {
            if n >= current.len() {
                break;
            }
            n = (n * 2).min(current.len());
        }
    }
    Ok(current)
}

/// `len` items cut into `n` nearly equal chunks, as (start, end).
fn split(len: usize, n: usize) -> Vec<(usize, usize)> {
    let n = n.min(len).max(1);
    (0..n)
        .map(|i| (i * len / n, (i + 1) * len / n))
        .filter(|(s, e)| e > s)
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::convert::Infallible;

    fn minimal(items: &[u32], needed: &[u32]) -> (Vec<u32>, usize) {
        let mut calls = 0;
        let result = ddmin(items, &mut |set: &[u32]| -> Result<bool, Infallible> {
            calls += 1;
            Ok(needed.iter().all(|n| set.contains(n)))
        })
        .unwrap();
        (result, calls)
    }

    #[test]
    fn ddmin_finds_the_faults_that_fail_together() {
        let items: Vec<u32> = (0..8).collect();
        assert_eq!(minimal(&items, &[2, 5]).0, vec![2, 5]);
        assert_eq!(minimal(&items, &[7]).0, vec![7]);
        assert_eq!(minimal(&items, &[0, 3, 6]).0, vec![0, 3, 6]);
        assert_eq!(minimal(&[4], &[4]).0, vec![4]);
        assert_eq!(minimal(&items, &[]).0, Vec::<u32>::new());
        let (all, _) = minimal(&items, &items);
        assert_eq!(all, items);
    }

    #[test]
    fn bisection_finds_the_threshold() {
        let mut calls = 0;
        let v = bisect_down(1, 10_000, &mut |v| -> Result<bool, Infallible> {
            calls += 1;
            Ok(v >= 1234)
        })
        .unwrap();
        assert_eq!(v, 1234);
        assert!(calls <= STEPS as usize + 1, "{calls}");
        let low = bisect_down(1, 50, &mut |_| -> Result<bool, Infallible> { Ok(true) });
        assert_eq!(low.unwrap(), 1);
    }

    #[test]
    fn conditions_parse_and_print_back() {
        for s in [
            "exit=3",
            "exit=1",
            "slo:completion",
            "slo:domain.D3.latency_mean",
            "lost>0",
        ] {
            let c: Condition = s.parse().unwrap();
            assert_eq!(c.to_string(), s);
        }
        for bad in ["exit=2", "slo:", "completion", "lost"] {
            let e = bad.parse::<Condition>().unwrap_err();
            assert!(e.contains("slo:<key>"), "{e}");
        }
    }
}
