//! What a sweep writes (DESIGN.md §7): the typed form of `sweep.json`,
//! read back by `esa-sim report` and `esa-sim merge`. Every figure is a
//! pure function of the (point, replication) runs, so the file is
//! byte-identical for any thread count or sharding.

use serde::{Deserialize, Serialize};

use crate::metrics::summary::OrderedMap;

/// `sweep.json`.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct SweepFile {
    pub esa_sim_version: String,
    pub scenario: SweepScenario,
    /// The `--vary` axes, in command-line order; the first is the x axis
    /// of the report's plots.
    pub vary: Vec<Axis>,
    /// The Student-t confidence level of every interval, e.g. 0.95.
    pub confidence: f64,
    pub replications: Replications,
    pub points: Vec<Point>,
    /// One knee per combination of the other axes' values (one entry for a
    /// one-axis sweep); empty when nothing is varied.
    pub knee: Vec<Knee>,
}

/// The scenario a sweep varies, as written (before any `--vary`).
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq)]
pub struct SweepScenario {
    pub name: String,
    /// The root seed: replication 0 of every point.
    pub seed: u64,
    pub hash: String,
    /// The `--set` overrides applied to every point.
    pub overrides: Vec<String>,
}

/// One `--vary KEY=VALUES`.
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq)]
pub struct Axis {
    pub key: String,
    /// The values as passed to `--set`, in order.
    pub values: Vec<String>,
    /// Each value as a number in the key's canonical unit (ns for
    /// durations, per minute for rates, the number itself otherwise);
    /// `null` for a value that is not a number (then plots use its index).
    pub numeric: Vec<Option<f64>>,
    /// That unit: `ns`, `per_min` or `""`.
    pub unit: String,
}

/// How many replications each point ran.
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq)]
#[serde(tag = "mode", rename_all = "snake_case")]
pub enum Replications {
    /// `--replications N`.
    Fixed { n: u32 },
    /// `--precision P%`: replications were added until every SLO metric's
    /// half-width was at most `precision` × its mean, or `max` were run.
    Precision { precision: f64, min: u32, max: u32 },
}

/// One grid point: its values, statistics and verdicts.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct Point {
    pub index: usize,
    /// `KEY: "VALUE"` for every axis, in axis order.
    pub values: OrderedMap<String>,
    pub replications: u32,
    /// The arrival rate the scenario's loads offer (expected arrivals over
    /// the run ÷ its duration), per minute.
    pub offered_per_min: f64,
    /// Every reported metric: the standard set, then per domain, then any
    /// SLO metric not already there.
    pub metrics: OrderedMap<MetricStats>,
    pub slo: Vec<SloStats>,
    /// The point's verdict over all its SLOs: `fail` if any fails, else
    /// `uncertain` if any is uncertain, else `pass`.
    pub verdict: Verdict,
}

/// A metric over a point's replications.
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq)]
pub struct MetricStats {
    pub unit: String,
    /// Replications that gave the metric a value.
    pub n: u32,
    /// `null` when no replication gave a value.
    pub mean: Option<f64>,
    /// `null` when n < 2.
    pub stddev: Option<f64>,
    /// The Student-t interval at the sweep's confidence; `null` when n < 2.
    pub ci_low: Option<f64>,
    pub ci_high: Option<f64>,
}

/// One `[slo]` threshold at one point.
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq)]
pub struct SloStats {
    pub metric: String,
    pub target: String,
    pub mean: Option<f64>,
    pub ci_low: Option<f64>,
    pub ci_high: Option<f64>,
    pub verdict: Verdict,
}

/// Whether a point meets a target: `pass` when the whole confidence
/// interval meets it, `fail` when none of it does, `uncertain` otherwise.
#[derive(Clone, Copy, Debug, Serialize, Deserialize, PartialEq, Eq, PartialOrd, Ord)]
#[serde(rename_all = "snake_case")]
pub enum Verdict {
    Pass,
    Uncertain,
    Fail,
}

/// The knee along the first axis, for one combination of the others.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct Knee {
    /// The first axis's key.
    pub key: String,
    /// The other axes' values this knee holds for (empty for one axis).
    pub at: OrderedMap<String>,
    /// The largest value of the first axis at which every SLO passes.
    pub last_passing: Option<KneePoint>,
    /// The point of maximum curvature of mean latency (Kneedle).
    pub kneedle: Option<KneePoint>,
}

#[derive(Clone, Debug, Serialize, Deserialize, PartialEq)]
pub struct KneePoint {
    /// The point's index in `points`.
    pub index: usize,
    pub value: String,
}
