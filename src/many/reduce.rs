//! From (point, replication) records to the sweep's results: statistics
//! and verdicts per point, merged latency histograms (exact integer sums,
//! `Histogram::add`), and the knee. A pure function of the spec and the
//! set of records: the order they arrive in, the thread count and the
//! sharding never show in the result.

use base64::Engine;
use hdrhistogram::serialization::Deserializer;
use hdrhistogram::Histogram;

use super::knee;
use super::output::{MetricStats, Point, Replications, SloStats, SweepFile, Verdict};
use super::run::RepRecord;
use super::spec::{PointSpec, SweepSpec};
use super::stats;
use crate::metrics::summary::OrderedMap;

/// A point's latency: merged, and each replication's.
pub struct PointLatency {
    pub merged: Histogram<u64>,
    pub replications: Vec<(u32, Histogram<u64>)>,
}

/// Everything a sweep writes.
pub struct Reduced {
    pub file: SweepFile,
    pub latency: Vec<PointLatency>,
}

/// Why records do not make a whole sweep.
#[derive(Debug, thiserror::Error)]
pub enum ReduceError {
    #[error("point {point} has {message}")]
    Coverage { point: usize, message: String },
    #[error("point {point} replication {rep}: {message}")]
    Record {
        point: usize,
        rep: u32,
        message: String,
    },
}

/// Reduces `records` (any order) against `spec`.
pub fn reduce(spec: &SweepSpec, mut records: Vec<RepRecord>) -> Result<Reduced, ReduceError> {
    records.sort_by_key(|r| (r.point, r.rep));
    let mut points = Vec::with_capacity(spec.points.len());
    let mut latency = Vec::with_capacity(spec.points.len());
    let mut rest = records.as_slice();
    for (index, p) in spec.points.iter().enumerate() {
        let n = rest.iter().take_while(|r| r.point == index).count();
        let (mine, tail) = rest.split_at(n);
        rest = tail;
        check_coverage(index, mine, &spec.replications)?;
        points.push(point(spec.confidence, index, p, mine)?);
        latency.push(merge_latency(mine)?);
    }
    if let Some(r) = rest.first() {
        return Err(ReduceError::Record {
            point: r.point,
            rep: r.rep,
            message: format!("the sweep has only {} points", spec.points.len()),
        });
    }
    let knee = knee::knees(&spec.vary, &points);
    let file = SweepFile {
        esa_sim_version: env!("CARGO_PKG_VERSION").to_string(),
        scenario: spec.scenario.clone(),
        vary: spec.vary.clone(),
        confidence: spec.confidence,
        replications: spec.replications.clone(),
        points,
        knee,
    };
    Ok(Reduced { file, latency })
}

/// Replications 0..n, each once, with n as the mode allows.
fn check_coverage(
    point: usize,
    recs: &[RepRecord],
    mode: &Replications,
) -> Result<(), ReduceError> {
    let bad = |message: String| Err(ReduceError::Coverage { point, message });
    if let Some((i, r)) = recs.iter().enumerate().find(|(i, r)| r.rep != *i as u32) {
        return bad(format!(
            "replication {} where replication {i} was expected (missing or duplicated; merge every shard exactly once)",
            r.rep
        ));
    }
    let n = recs.len() as u32;
    let ok = match mode {
        Replications::Fixed { n: want } => n == *want,
        Replications::Precision { min, max, .. } => (*min..=*max).contains(&n),
    };
    if ok {
        Ok(())
    } else {
        bad(format!(
            "{n} replications, which does not match the sweep's {mode:?}"
        ))
    }
}

fn point(
    confidence: f64,
    index: usize,
    p: &PointSpec,
    recs: &[RepRecord],
) -> Result<Point, ReduceError> {
    if let Some(r) = recs.iter().find(|r| r.values.len() != p.metrics.len()) {
        return Err(ReduceError::Record {
            point: index,
            rep: r.rep,
            message: format!(
                "{} metric values for {} metrics",
                r.values.len(),
                p.metrics.len()
            ),
        });
    }
    let replications = recs.len() as u32;
    let metrics: Vec<(String, MetricStats)> = p
        .metrics
        .iter()
        .enumerate()
        .map(|(i, m)| {
            let values: Vec<Option<f64>> = recs.iter().map(|r| r.values[i]).collect();
            (
                m.name.clone(),
                stats::summarize(&m.unit, &values, confidence),
            )
        })
        .collect();
    let metrics = OrderedMap(metrics);
    let slo: Vec<SloStats> = p
        .slos
        .iter()
        .map(|s| {
            // Every SLO metric is among the point's metrics (spec::point).
            let m = metrics
                .get(&s.metric)
                .cloned()
                .unwrap_or_else(|| stats::summarize("", &[], confidence));
            SloStats {
                metric: s.metric.clone(),
                target: s.target.clone(),
                mean: m.mean,
                ci_low: m.ci_low,
                ci_high: m.ci_high,
                verdict: stats::verdict(&m, replications, s.op, s.threshold),
            }
        })
        .collect();
    let verdict = slo.iter().map(|s| s.verdict).max().unwrap_or(Verdict::Pass);
    Ok(Point {
        index,
        values: p.values.clone(),
        replications,
        offered_per_min: p.offered_per_min,
        metrics,
        slo,
        verdict,
    })
}

fn merge_latency(recs: &[RepRecord]) -> Result<PointLatency, ReduceError> {
    let mut replications = Vec::with_capacity(recs.len());
    for r in recs {
        replications.push((r.rep, decode(r)?));
    }
    let mut merged = replications
        .first()
        .map_or_else(|| Histogram::new(3), |(_, h)| Ok(Histogram::new_from(h)))
        .map_err(|e| ReduceError::Coverage {
            point: recs.first().map_or(0, |r| r.point),
            message: e.to_string(),
        })?;
    merged.auto(true);
    for (rep, h) in &replications {
        merged.add(h).map_err(|e| ReduceError::Record {
            point: recs[0].point,
            rep: *rep,
            message: format!("latency histograms do not add: {e:?}"),
        })?;
    }
    Ok(PointLatency {
        merged,
        replications,
    })
}

fn decode(r: &RepRecord) -> Result<Histogram<u64>, ReduceError> {
    let bad = |message: String| ReduceError::Record {
        point: r.point,
        rep: r.rep,
        message,
    };
    let bytes = base64::engine::general_purpose::STANDARD
        .decode(&r.latency)
        .map_err(|e| bad(format!("latency histogram is not base64: {e}")))?;
    Deserializer::new()
        .deserialize(&mut bytes.as_slice())
        .map_err(|e| bad(format!("latency histogram does not decode: {e:?}")))
}
