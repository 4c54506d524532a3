//! Many runs of one scenario (DESIGN.md §7): replications with confidence
//! intervals, sweeps over a grid of `--vary` values, shards, and the files
//! they write. Every figure is reduced from the (point, replication) runs
//! in index order, so results do not depend on thread count or sharding.
//!
//! The flow is `vary` (axes) → `spec` (points, metrics, seeds) → [`collect`]
//! over `run` (parallel runs) → `reduce` (statistics, verdicts, `knee`) →
//! `files`; `shard` cuts the work and merges it back.

pub mod files;
pub mod knee;
pub mod output;
pub mod plan;
pub mod planfile;
pub mod reduce;
pub mod run;
pub mod shard;
pub mod spec;
pub mod stats;
pub mod text;
pub mod vary;

use output::Replications;
use run::{RepRecord, RunError, Runner};
use shard::Shard;
use spec::{PointRun, SweepSpec};

/// The first replication count of each point with `--precision`: the
/// fewest that give an interval worth judging.
pub const PRECISION_MIN_REPLICATIONS: u32 = 3;

/// Runs every replication of every point the shard owns (all of them
/// without a shard): a fixed count, or with `--precision` rounds of more
/// replications until each point's SLO metrics are precise enough.
pub fn collect(
    spec: &SweepSpec,
    points: &[PointRun],
    runner: &Runner,
    shard: Option<Shard>,
) -> Result<Vec<RepRecord>, RunError> {
    let owns = |k: usize| shard.is_none_or(|s| s.owns(k));
    match spec.replications {
        Replications::Fixed { n } => {
            let pairs: Vec<(usize, u32)> = (0..points.len())
                .flat_map(|p| (0..n).map(move |r| (p, r)))
                .enumerate()
                .filter(|(k, _)| owns(*k))
                .map(|(_, pair)| pair)
                .collect();
            (runner.on_planned)(pairs.len() as u64);
            runner.run(points, &pairs)
        }
        Replications::Precision {
            precision,
            min,
            max,
        } => {
            let mine: Vec<usize> = (0..points.len()).filter(|p| owns(*p)).collect();
            until_precise(spec, points, runner, &mine, precision, (min, max))
        }
    }
}

/// `--precision`: every point in `mine` starts with `min` replications;
/// a point whose SLO metrics (or mean latency, without SLOs) are not yet
/// within `precision` gets as many more as the interval's width says it
/// needs (at least one, at most up to `max`). Each decision reads only
/// the point's own results, so it is the same for any thread count.
fn until_precise(
    spec: &SweepSpec,
    points: &[PointRun],
    runner: &Runner,
    mine: &[usize],
    precision: f64,
    (min, max): (u32, u32),
) -> Result<Vec<RepRecord>, RunError> {
    let mut records: Vec<RepRecord> = Vec::new();
    let mut have = vec![0u32; points.len()];
    let mut want: Vec<(usize, u32)> = mine.iter().map(|&p| (p, min.min(max))).collect();
    while !want.is_empty() {
        let pairs: Vec<(usize, u32)> = want
            .iter()
            .flat_map(|&(p, n)| (have[p]..n).map(move |r| (p, r)))
            .collect();
        (runner.on_planned)(pairs.len() as u64);
        records.extend(runner.run(points, &pairs)?);
        for &(p, n) in &want {
            have[p] = n;
        }
        want = want
            .iter()
            .filter_map(|&(p, n)| {
                let next = needed(spec, p, &records, precision).min(max);
                (next > n).then_some((p, next))
            })
            .collect();
    }
    Ok(records)
}

/// How many replications point `p` needs for its intervals to be within
/// `precision`, judged from its records so far: their count when they
/// already are; else the count that shrinks the widest relative interval
/// enough (half-width falls as 1/√n), and at least one more.
fn needed(spec: &SweepSpec, p: usize, records: &[RepRecord], precision: f64) -> u32 {
    let point = &spec.points[p];
    let mine: Vec<&RepRecord> = records.iter().filter(|r| r.point == p).collect();
    let n = mine.len() as u32;
    let judged: Vec<usize> = if point.slos.is_empty() {
        point
            .metrics
            .iter()
            .position(|m| m.name == "latency_mean")
            .into_iter()
            .collect()
    } else {
        point
            .slos
            .iter()
            .filter_map(|s| point.metrics.iter().position(|m| m.name == s.metric))
            .collect()
    };
    let mut factor: f64 = 1.0;
    for i in judged {
        let values: Vec<Option<f64>> = mine.iter().map(|r| r.values[i]).collect();
        let s = stats::summarize("", &values, spec.confidence);
        if stats::precise_enough(&s, precision) {
            continue;
        }
        let ratio = match (s.mean, stats::half_width(&s)) {
            (Some(m), Some(h)) if m != 0.0 => h / (precision * m.abs()),
            _ => 2.0,
        };
        factor = factor.max(ratio * ratio);
    }
    if factor <= 1.0 {
        return n;
    }
    ((n as f64 * factor).ceil() as u32).max(n + 1)
}
