//! Running (point, replication) pairs, in parallel on a rayon pool, each
//! one an ordinary `Sim` run with the replication's seed. A run's record
//! keeps only what the reduction needs: each metric's value and the
//! latency histogram, encoded. Records come back in pair order whatever
//! the thread count.

use base64::Engine;
use hdrhistogram::serialization::{Serializer, V2DeflateSerializer};
use rayon::prelude::*;
use serde::{Deserialize, Serialize};

use super::spec::{replication_seed, PointRun};
use crate::sim::{BudgetExceeded, Sim};
use crate::slo;

/// One finished (point, replication).
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq)]
pub struct RepRecord {
    pub point: usize,
    pub rep: u32,
    pub seed: u64,
    /// Each of the point's metrics, in its order (`None`: no value).
    pub values: Vec<Option<f64>>,
    /// The measured window's latency histogram, V2 deflate, base64.
    pub latency: String,
    /// Events the run processed (for `perf.json`).
    pub events: u64,
    /// The utilisation of each of the point's `agents` (`plan` only; a
    /// sweep's shard.json leaves it out).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub agent_utilization: Vec<Option<f64>>,
}

/// Why a run of the many did not give a record.
#[derive(Debug, thiserror::Error)]
pub enum RunError {
    #[error("point {point} replication {rep} (seed {seed}) stopped after {} events, more than --max-events allows", stop.events)]
    Budget {
        point: usize,
        rep: u32,
        seed: u64,
        stop: BudgetExceeded,
    },
    #[error("point {point} replication {rep} (seed {seed}): {}", violations.join("; "))]
    Invariant {
        point: usize,
        rep: u32,
        seed: u64,
        violations: Vec<String>,
    },
    #[error("point {point} replication {rep}: {message}")]
    Internal {
        point: usize,
        rep: u32,
        message: String,
    },
}

/// How many threads, and what to tell about each finished run.
pub struct Runner<'a> {
    pub pool: &'a rayon::ThreadPool,
    /// Told how many more runs are coming, before each batch.
    pub on_planned: &'a dyn Fn(u64),
    /// Told when a run finishes (from any thread).
    pub on_done: &'a (dyn Fn() + Sync),
}

impl Runner<'_> {
    /// Runs `pairs` (point index, replication) of `points`; the records in
    /// pair order, or the error of the first pair (in pair order) that
    /// failed.
    pub fn run(
        &self,
        points: &[PointRun],
        pairs: &[(usize, u32)],
    ) -> Result<Vec<RepRecord>, RunError> {
        let results: Vec<Result<RepRecord, RunError>> = self.pool.install(|| {
            pairs
                .par_iter()
                .map(|&(point, rep)| {
                    let run = &points[point];
                    let out = replicate(run, point, rep);
                    (self.on_done)();
                    out
                })
                .collect()
        });
        results.into_iter().collect()
    }
}

/// One replication of one point.
fn replicate(run: &PointRun, point: usize, rep: u32) -> Result<RepRecord, RunError> {
    let mut scenario = run.scenario.clone();
    let seed = replication_seed(scenario.seed, rep);
    scenario.seed = seed;
    let internal = |message: String| RunError::Internal {
        point,
        rep,
        message,
    };
    // Every point was built (and so validated) before any ran.
    let (sim, _) = Sim::build(&scenario).map_err(|e| internal(e.to_string()))?;
    let out = sim
        .run_with(run.limits, &mut |_| {})
        .map_err(|stop| RunError::Budget {
            point,
            rep,
            seed,
            stop,
        })?;
    if !out.violations.is_empty() {
        return Err(RunError::Invariant {
            point,
            rep,
            seed,
            violations: out.violations,
        });
    }
    let values = run
        .measures
        .iter()
        .map(|(scope, metric)| slo::measure(scope, *metric, &out.summary))
        .collect();
    let agent_utilization = run
        .agents
        .iter()
        .map(|id| out.summary.agents.get(id).map(|a| a.utilization))
        .collect();
    let mut buf = Vec::new();
    V2DeflateSerializer::new()
        .serialize(out.recorder.latency_histogram(), &mut buf)
        .map_err(|e| internal(format!("the latency histogram could not be encoded: {e}")))?;
    Ok(RepRecord {
        point,
        rep,
        seed,
        values,
        latency: base64::engine::general_purpose::STANDARD.encode(&buf),
        events: out.events,
        agent_utilization,
    })
}
