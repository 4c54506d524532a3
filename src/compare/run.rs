//! A run's figures for comparison: every SLO metric in every scope the
//! summary has (whole run, `domain.<ID>`, `priority.<p>`, `load.<name>`),
//! measured exactly as SLO verdicts measure them ([`crate::slo::measure`]),
//! plus job and work counts that have no direction.

use super::{Figure, Group, Identity, MetricUnit, Side, Unit};
use crate::many::spec::metric_name;
use crate::metrics::summary::Summary;
use crate::scenario::{Priority, SloMetric, SloScope};
use crate::slo;

/// The comparable side of one run's `summary.json`.
pub fn side(origin: &str, s: &Summary) -> Side {
    Side {
        origin: origin.to_string(),
        identity: Identity {
            scenario: s.scenario.name.clone(),
            seed: s.scenario.seed,
            hash: s.scenario.hash.clone(),
            version: s.esa_sim_version.clone(),
            overrides: s.scenario.overrides.clone(),
        },
        groups: vec![Group {
            benchmark: s.scenario.name.clone(),
            figures: figures(s),
        }],
    }
}

/// The scopes the summary reports, in its order.
fn scopes(s: &Summary) -> Vec<SloScope> {
    let mut scopes = vec![SloScope::Global];
    scopes.extend(
        s.domains
            .0
            .iter()
            .map(|(id, _)| SloScope::Domain(id.clone())),
    );
    scopes.extend(
        s.priorities
            .0
            .iter()
            .filter_map(|(p, _)| Priority::from_name(p).map(SloScope::Priority)),
    );
    scopes.extend(s.loads.0.iter().map(|(l, _)| SloScope::Load(l.clone())));
    scopes
}

fn figures(s: &Summary) -> Vec<Figure> {
    let mut out = Vec::new();
    for scope in scopes(s) {
        for (_, metric) in SloMetric::ALL {
            if scope.rejects(metric).is_some() || (metric.is_realtime() && s.realtime.is_none()) {
                continue;
            }
            out.push(Figure {
                name: metric_name(&scope, metric),
                unit: Unit::Metric(metric.unit()),
                direction: metric.direction(),
                value: slo::measure(&scope, metric, s),
                ci: None,
            });
        }
    }
    out.extend(counts(s));
    out
}

/// Counts with no better direction: more arrivals or retries is neither
/// good nor bad by itself, but a change is still a behaviour change.
fn counts(s: &Summary) -> Vec<Figure> {
    let (j, w) = (&s.jobs, &s.work);
    [
        ("jobs.arrived", j.arrived),
        ("jobs.completed", j.completed),
        ("jobs.completed_with_warnings", j.completed_with_warnings),
        ("jobs.in_flight_at_end", j.in_flight_at_end),
        ("work.attempts", w.attempts),
        ("work.failed_attempts", w.failed_attempts),
        ("work.retries", w.retries),
        ("work.rejected", w.rejected),
    ]
    .into_iter()
    .map(|(name, v)| Figure {
        name: name.to_string(),
        unit: Unit::Metric(MetricUnit::Count),
        direction: None,
        value: Some(v as f64),
        ci: None,
    })
    .collect()
}
