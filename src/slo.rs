//! SLO evaluation: each `[slo]` threshold of the scenario against the run's
//! summary, giving a verdict with the measured value in the metric's
//! canonical unit (ns, jobs/min, fraction, count).

use crate::metrics::summary::{DomainSummary, Latency, SloVerdict, Summary};
use crate::org::Org;
use crate::scenario::{suggest, MetricUnit, Scenario, ScenarioError, SloMetric, SloScope, SloSpec};

/// Checks that every domain-scoped SLO names a domain of the org.
pub fn check_scopes(scenario: &Scenario, org: &Org) -> Result<(), ScenarioError> {
    for slo in &scenario.slos {
        if let SloScope::Domain(id) = &slo.scope {
            if org.domain_index(id).is_none() {
                return Err(ScenarioError::invalid(
                    &scenario.source,
                    &format!("slo.{}", slo.key),
                    format!(
                        "SLO `{}` names domain `{id}`, which is not in the org{}",
                        slo.key,
                        suggest(id, org.domains.iter().map(|d| d.id.as_str()), "domains")
                    ),
                ));
            }
        }
    }
    Ok(())
}

/// Evaluates every SLO, in scenario order.
pub fn evaluate(slos: &[SloSpec], summary: &Summary) -> Vec<SloVerdict> {
    slos.iter()
        .map(|slo| {
            let measured = measure(slo, summary);
            SloVerdict {
                metric: slo.key.clone(),
                target: slo.target.clone(),
                measured,
                unit: unit_name(slo.metric.unit()),
                pass: slo.op.holds(measured, slo.threshold),
            }
        })
        .collect()
}

pub fn unit_name(unit: MetricUnit) -> &'static str {
    match unit {
        MetricUnit::Nanos => "ns",
        MetricUnit::PerMin => "per_min",
        MetricUnit::Fraction => "fraction",
        MetricUnit::Count => "count",
    }
}

fn measure(slo: &SloSpec, s: &Summary) -> f64 {
    match &slo.scope {
        SloScope::Global => global(slo.metric, s),
        SloScope::Domain(id) => match s.domains.get(id) {
            Some(d) => domain(slo.metric, d, s),
            None => f64::NAN,
        },
    }
}

fn latency(metric: SloMetric, l: &Latency) -> Option<f64> {
    Some(match metric {
        SloMetric::LatencyMean => l.mean,
        SloMetric::LatencyP50 => l.p50 as f64,
        SloMetric::LatencyP90 => l.p90 as f64,
        SloMetric::LatencyP95 => l.p95 as f64,
        SloMetric::LatencyP99 => l.p99 as f64,
        SloMetric::LatencyP999 => l.p999 as f64,
        SloMetric::LatencyMax => l.max as f64,
        _ => return None,
    })
}

fn global(metric: SloMetric, s: &Summary) -> f64 {
    if let Some(v) = latency(metric, &s.latency_ns) {
        return v;
    }
    match metric {
        SloMetric::Throughput => s.throughput_per_min,
        SloMetric::Completion => s.completion,
        SloMetric::FailedJobs => s.jobs.failed as f64,
        SloMetric::PartialJobs => s.jobs.partial as f64,
        SloMetric::LostJobs => s.jobs.lost as f64,
        SloMetric::RecoveryTime => s.recovery_time_ns as f64,
        SloMetric::QueueWaitMean => s.queue_wait_ns.mean,
        SloMetric::Utilization => s.utilization,
        _ => f64::NAN,
    }
}

fn domain(metric: SloMetric, d: &DomainSummary, s: &Summary) -> f64 {
    if let Some(v) = latency(metric, &d.latency_ns) {
        return v;
    }
    match metric {
        SloMetric::Throughput => d.throughput_per_min,
        SloMetric::Completion => d.completion,
        SloMetric::FailedJobs => d.failed as f64,
        SloMetric::PartialJobs => d.partial as f64,
        SloMetric::LostJobs => s.jobs.lost as f64,
        SloMetric::RecoveryTime => s.recovery_time_ns as f64,
        SloMetric::QueueWaitMean => d.queue_wait_ns.mean,
        SloMetric::Utilization => d.utilization,
        _ => f64::NAN,
    }
}
