//! What a many-run job is before anything runs: the grid points (the
//! scenario with each combination of `--vary` values applied as `--set`),
//! the metrics measured at each, the SLOs judged, and the seed of every
//! replication. The serializable part, [`SweepSpec`], is all that
//! `merge` needs to reduce shard results without the scenario file.

use std::path::PathBuf;

use serde::{Deserialize, Serialize};

use super::output::{Axis, Replications, SweepScenario};
use crate::metrics::summary::OrderedMap;
use crate::org::Org;
use crate::scenario::{CmpOp, Scenario, ScenarioError, SloMetric, SloScope};
use crate::sim::budget::{self, Limits};
use crate::sim::rng;
use crate::slo::unit_name;

/// What the user asked for.
#[derive(Clone, Debug)]
pub struct Request {
    pub scenario: PathBuf,
    /// `--set` overrides (and `--seed`) applied to every point.
    pub sets: Vec<String>,
    pub axes: Vec<Axis>,
    pub confidence: f64,
    pub replications: Replications,
    /// `--max-events` [default: by each point's expected jobs].
    pub max_events: Option<u64>,
}

/// The deterministic description of a sweep; written into every shard.
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq)]
pub struct SweepSpec {
    pub scenario: SweepScenario,
    pub vary: Vec<Axis>,
    pub confidence: f64,
    pub replications: Replications,
    pub points: Vec<PointSpec>,
}

/// One grid point.
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq)]
pub struct PointSpec {
    pub values: OrderedMap<String>,
    pub offered_per_min: f64,
    /// The measured window, for the point's `latency.hlog`.
    pub window_ns: (u64, u64),
    pub metrics: Vec<MetricDef>,
    pub slos: Vec<SloDef>,
}

#[derive(Clone, Debug, Serialize, Deserialize, PartialEq)]
pub struct MetricDef {
    pub name: String,
    pub unit: String,
}

/// One `[slo]` threshold, in the metric's canonical unit.
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq)]
pub struct SloDef {
    pub metric: String,
    pub target: String,
    pub op: CmpOp,
    pub threshold: f64,
}

/// A point ready to run: its scenario and how to measure each metric.
#[derive(Clone, Debug)]
pub struct PointRun {
    pub scenario: Scenario,
    pub measures: Vec<(SloScope, SloMetric)>,
    pub expected_jobs: f64,
    pub limits: Limits,
    /// Agents whose utilisation each run also records (`plan` reads them
    /// to find the bottleneck); empty for a sweep.
    pub agents: Vec<String>,
}

/// A point whose scenario is invalid, with the values that made it.
#[derive(Debug, thiserror::Error)]
#[error("{}{source}", describe(values))]
pub struct PointError {
    pub values: Vec<String>,
    pub source: Box<ScenarioError>,
}

fn describe(values: &[String]) -> String {
    if values.is_empty() {
        String::new()
    } else {
        format!("at the grid point --vary {}: ", values.join(" "))
    }
}

/// Global metrics every point reports, for the report's plots.
const GLOBAL: [SloMetric; 10] = [
    SloMetric::Throughput,
    SloMetric::Completion,
    SloMetric::LatencyMean,
    SloMetric::LatencyP50,
    SloMetric::LatencyP99,
    SloMetric::QueueWaitMean,
    SloMetric::Utilization,
    SloMetric::FailedJobs,
    SloMetric::PartialJobs,
    SloMetric::LostJobs,
];

/// Metrics every point reports for each domain.
const PER_DOMAIN: [SloMetric; 4] = [
    SloMetric::Utilization,
    SloMetric::Throughput,
    SloMetric::Completion,
    SloMetric::LatencyMean,
];

/// Loads and checks every point; the first invalid point is the error.
pub fn build(req: &Request) -> Result<(SweepSpec, Vec<PointRun>), PointError> {
    // With nothing varied the one point is the scenario itself: not loaded twice.
    let base = if req.axes.is_empty() {
        None
    } else {
        Some(load(req, &req.sets, &[])?.0)
    };
    let mut specs = Vec::new();
    let mut runs = Vec::new();
    for combo in grid(&req.axes) {
        let values: Vec<String> = req
            .axes
            .iter()
            .zip(&combo)
            .map(|(a, &i)| format!("{}={}", a.key, a.values[i]))
            .collect();
        let sets: Vec<String> = req.sets.iter().chain(&values).cloned().collect();
        let (scenario, org) = load(req, &sets, &values)?;
        let (spec, run) = point(req, &combo, scenario, &org);
        specs.push(spec);
        runs.push(run);
    }
    // A grid has at least one point.
    let base = base.as_ref().unwrap_or(&runs[0].scenario);
    let spec = SweepSpec {
        scenario: SweepScenario {
            name: base.name.clone(),
            seed: base.seed,
            hash: base.source.hash.clone(),
            overrides: req.sets.clone(),
        },
        vary: req.axes.clone(),
        confidence: req.confidence,
        replications: req.replications.clone(),
        points: specs,
    };
    Ok((spec, runs))
}

/// The scenario with `sets` applied and checked; an error names the grid
/// point's `values`.
fn load(req: &Request, sets: &[String], values: &[String]) -> Result<(Scenario, Org), PointError> {
    Org::load(&req.scenario, sets).map_err(|source| PointError {
        values: values.to_vec(),
        source: Box::new(source),
    })
}

/// Every combination of axis value indices, the first axis slowest; one
/// empty combination when nothing is varied.
pub fn grid(axes: &[Axis]) -> Vec<Vec<usize>> {
    axes.iter().fold(vec![Vec::new()], |combos, axis| {
        combos
            .iter()
            .flat_map(|c| {
                (0..axis.values.len()).map(move |i| {
                    let mut next = c.clone();
                    next.push(i);
                    next
                })
            })
            .collect()
    })
}

fn point(req: &Request, combo: &[usize], scenario: Scenario, org: &Org) -> (PointSpec, PointRun) {
    let axes = &req.axes;
    let mut measures: Vec<(SloScope, SloMetric)> =
        GLOBAL.iter().map(|m| (SloScope::Global, *m)).collect();
    for d in &org.domains {
        measures.extend(
            PER_DOMAIN
                .iter()
                .map(|m| (SloScope::Domain(d.id.clone()), *m)),
        );
    }
    for slo in &scenario.slos {
        if !measures
            .iter()
            .any(|(s, m)| *s == slo.scope && *m == slo.metric)
        {
            measures.push((slo.scope.clone(), slo.metric));
        }
    }
    let expected_jobs = budget::expected_arrivals(&scenario);
    let minutes = scenario.duration.as_secs_f64() / 60.0;
    let spec = PointSpec {
        values: OrderedMap(
            axes.iter()
                .zip(combo)
                .map(|(a, &i)| (a.key.clone(), a.values[i].clone()))
                .collect(),
        ),
        offered_per_min: if minutes > 0.0 {
            expected_jobs / minutes
        } else {
            0.0
        },
        window_ns: (scenario.warmup.0, scenario.duration.0),
        metrics: measures
            .iter()
            .map(|(scope, metric)| MetricDef {
                name: metric_name(scope, *metric),
                unit: unit_name(metric.unit()).to_string(),
            })
            .collect(),
        slos: scenario
            .slos
            .iter()
            .map(|s| SloDef {
                metric: metric_name(&s.scope, s.metric),
                target: s.target.clone(),
                op: s.op,
                threshold: s.threshold,
            })
            .collect(),
    };
    let run = PointRun {
        scenario,
        measures,
        expected_jobs,
        limits: Limits::given_or_for_jobs(req.max_events, expected_jobs),
        agents: Vec::new(),
    };
    (spec, run)
}

/// A metric's name, as an SLO key writes it: `latency_mean`,
/// `domain.D3.utilization`, `priority.high.latency_p99`, `load.etl.completion`.
pub fn metric_name(scope: &SloScope, metric: SloMetric) -> String {
    match scope {
        SloScope::Global => metric.name().to_string(),
        SloScope::Domain(id) => format!("domain.{id}.{}", metric.name()),
        SloScope::Priority(p) => format!("priority.{}.{}", p.name(), metric.name()),
        SloScope::Load(name) => format!("load.{name}.{}", metric.name()),
    }
}

/// The seed of replication `rep`: the root seed itself for replication 0
/// (so it equals `run` with the same `--set` values), else one derived
/// from (root, rep) — the same at every point (common random numbers).
pub fn replication_seed(root: u64, rep: u32) -> u64 {
    if rep == 0 {
        return root;
    }
    let digest = rng::derive(b"esa-sim/replication/v1\0", root, &rep.to_le_bytes());
    let mut bytes = [0u8; 8];
    bytes.copy_from_slice(&digest[..8]);
    // Seeds are 0 ..= 2^63 - 1, like `--seed`.
    u64::from_le_bytes(bytes) & (i64::MAX as u64)
}
