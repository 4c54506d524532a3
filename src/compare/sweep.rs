//! A sweep's figures for comparison: one [`Group`] per grid point (matched
//! between the two sweeps by the point's `--vary` values), each metric's
//! mean with its confidence interval.

use super::{Figure, Group, Identity, MetricUnit, Side, Unit};
use crate::many::output::{Point, SweepFile};
use crate::scenario::SloMetric;

/// The comparable side of one `sweep.json`.
pub fn side(origin: &str, s: &SweepFile) -> Side {
    Side {
        origin: origin.to_string(),
        identity: Identity {
            scenario: s.scenario.name.clone(),
            seed: s.scenario.seed,
            hash: s.scenario.hash.clone(),
            version: s.esa_sim_version.clone(),
            overrides: s.scenario.overrides.clone(),
        },
        groups: s
            .points
            .iter()
            .map(|p| group(&s.scenario.name, p))
            .collect(),
    }
}

/// `mmc [load.0.arrival.rate=4/s]`; the bare name when nothing is varied.
pub fn benchmark(name: &str, p: &Point) -> String {
    if p.values.0.is_empty() {
        return name.to_string();
    }
    let values: Vec<String> = p.values.0.iter().map(|(k, v)| format!("{k}={v}")).collect();
    format!("{name} [{}]", values.join(", "))
}

fn group(name: &str, p: &Point) -> Group {
    Group {
        benchmark: benchmark(name, p),
        figures: p
            .metrics
            .0
            .iter()
            .map(|(metric, stats)| {
                let kind = metric.rsplit('.').next().and_then(SloMetric::from_name);
                Figure {
                    name: metric.clone(),
                    unit: Unit::Metric(kind.map_or(MetricUnit::Count, SloMetric::unit)),
                    direction: kind.and_then(SloMetric::direction),
                    value: stats.mean,
                    ci: stats.ci_low.zip(stats.ci_high),
                }
            })
            .collect(),
    }
}
