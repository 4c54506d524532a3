//! SLO evaluation: each `[slo]` threshold of the scenario against the run's
//! summary, giving a verdict with the measured value in the metric's
//! canonical unit (ns, jobs/min, fraction, count).

use crate::metrics::summary::{
    ClassSummary, DomainSummary, Latency, QueueWait, RealtimeSummary, SloVerdict, Summary,
};
use crate::org::Org;
use crate::scenario::{
    suggest, MetricUnit, Priority, Scenario, ScenarioError, SloMetric, SloScope, SloSpec,
};

/// Checks that every scoped SLO names a domain of the org, a priority some
/// task uses, or a `[[load]]` of the scenario.
pub fn check_scopes(scenario: &Scenario, org: &Org) -> Result<(), ScenarioError> {
    for slo in &scenario.slos {
        if let Some(why) = scope_problem(&slo.scope, scenario, org) {
            return Err(ScenarioError::invalid(
                &scenario.source,
                &format!("slo.{}", slo.key),
                format!("SLO `{}` {why}", slo.key),
            ));
        }
    }
    Ok(())
}

/// What is wrong with a scope, with the fix; `None` when it exists.
fn scope_problem(scope: &SloScope, scenario: &Scenario, org: &Org) -> Option<String> {
    match scope {
        SloScope::Global => None,
        SloScope::Domain(id) => org.domain_index(id).is_none().then(|| {
            format!(
                "names domain `{id}`, which is not in the org{}",
                suggest(id, org.domains.iter().map(|d| d.id.as_str()), "domains")
            )
        }),
        SloScope::Priority(p) => {
            let used = used_priorities(scenario);
            (!used.contains(p)).then(|| {
                format!(
                    "names priority `{}`, which no task of any [[load]] has, so it would measure nothing{}",
                    p.name(),
                    suggest(p.name(), used.iter().map(|u| u.name()), "priorities in use")
                )
            })
        }
        SloScope::Load(name) => (!scenario.loads.iter().any(|l| l.name == *name)).then(|| {
            format!(
                "names load `{name}`, which is not a [[load]] of the scenario{}",
                suggest(
                    name,
                    scenario.loads.iter().map(|l| l.name.as_str()),
                    "loads"
                )
            )
        }),
    }
}

/// The priorities the scenario's tasks use, most urgent first.
fn used_priorities(scenario: &Scenario) -> Vec<Priority> {
    Priority::ALL
        .into_iter()
        .filter(|p| {
            scenario
                .loads
                .iter()
                .any(|l| l.tasks.iter().any(|t| t.priority == *p))
        })
        .collect()
}

/// Evaluates every SLO, in scenario order. A metric with no value (the
/// org never recovered, so there is no recovery time) fails its SLO
/// whatever the operator.
pub fn evaluate(slos: &[SloSpec], summary: &Summary) -> Vec<SloVerdict> {
    slos.iter()
        .map(|slo| {
            let measured = measure(&slo.scope, slo.metric, summary);
            SloVerdict {
                metric: slo.key.clone(),
                target: slo.target.clone(),
                measured,
                unit: unit_name(slo.metric.unit()).to_string(),
                pass: measured.is_some_and(|m| slo.op.holds(m, slo.threshold)),
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

/// `metric` of `scope` in the metric's canonical unit; `None` when there
/// is no value (see [`figure`]) or it is not a number. The one measurement
/// for SLO verdicts and for the statistics of many runs.
pub fn measure(scope: &SloScope, metric: SloMetric, s: &Summary) -> Option<f64> {
    let value = match scope {
        SloScope::Global => figure(metric, s.into()),
        // check_scopes rejects unknown scopes before a run.
        SloScope::Domain(id) => figure(metric, s.domains.get(id)?.into()),
        SloScope::Priority(p) => figure(metric, s.priorities.get(p.name())?.into()),
        SloScope::Load(name) => figure(metric, s.loads.get(name)?.into()),
    };
    value.filter(|v| v.is_finite())
}

/// The figures one scope offers an SLO: the whole run, a domain, or a class
/// of jobs (a priority or a load). `utilization` only where slots belong to
/// the scope (the run, domains); `lost_jobs` and `recovery_time_ns` only for
/// the whole run, and the recovery time only if the org recovered.
struct Block<'a> {
    throughput_per_min: f64,
    latency_ns: &'a Latency,
    completion: f64,
    failed: u64,
    partial: u64,
    queue_wait_ns: &'a QueueWait,
    utilization: Option<f64>,
    lost_jobs: Option<u64>,
    recovery_time_ns: Option<u64>,
    /// The D4 model's figures: the whole run's, when it has them.
    realtime: Option<&'a RealtimeSummary>,
}

impl<'a> From<&'a Summary> for Block<'a> {
    fn from(s: &'a Summary) -> Self {
        Block {
            throughput_per_min: s.throughput_per_min,
            latency_ns: &s.latency_ns,
            completion: s.completion,
            failed: s.jobs.failed,
            partial: s.jobs.partial,
            queue_wait_ns: &s.queue_wait_ns,
            utilization: Some(s.utilization),
            lost_jobs: Some(s.jobs.lost),
            recovery_time_ns: s.recovery_time_ns,
            realtime: s.realtime.as_ref(),
        }
    }
}

impl<'a> From<&'a DomainSummary> for Block<'a> {
    fn from(d: &'a DomainSummary) -> Self {
        Block {
            throughput_per_min: d.throughput_per_min,
            latency_ns: &d.latency_ns,
            completion: d.completion,
            failed: d.failed,
            partial: d.partial,
            queue_wait_ns: &d.queue_wait_ns,
            utilization: Some(d.utilization),
            lost_jobs: None,
            recovery_time_ns: None,
            realtime: None,
        }
    }
}

impl<'a> From<&'a ClassSummary> for Block<'a> {
    fn from(c: &'a ClassSummary) -> Self {
        Block {
            throughput_per_min: c.throughput_per_min,
            latency_ns: &c.latency_ns,
            completion: c.completion,
            failed: c.failed,
            partial: c.partial,
            queue_wait_ns: &c.queue_wait_ns,
            utilization: None,
            lost_jobs: None,
            recovery_time_ns: None,
            realtime: None,
        }
    }
}

/// A metric of one scope. `None` when the scope gives it no value: the
/// recovery time of a run that did not recover, a latency or queue wait
/// with nothing measured (no evidence never passes a target), or a metric
/// with no form in that scope ([`SloMetric::not_per_domain`],
/// [`SloMetric::not_per_class`]: validation rejects those, and they must
/// never fall back to the global value).
fn figure(metric: SloMetric, b: Block) -> Option<f64> {
    match metric {
        SloMetric::Throughput => Some(b.throughput_per_min),
        SloMetric::LatencyMean
        | SloMetric::LatencyP50
        | SloMetric::LatencyP90
        | SloMetric::LatencyP95
        | SloMetric::LatencyP99
        | SloMetric::LatencyP999
        | SloMetric::LatencyMax => latency(metric, b.latency_ns),
        SloMetric::Completion => Some(b.completion),
        SloMetric::FailedJobs => Some(b.failed as f64),
        SloMetric::PartialJobs => Some(b.partial as f64),
        SloMetric::LostJobs => b.lost_jobs.map(|n| n as f64),
        SloMetric::RecoveryTime => b.recovery_time_ns.map(|ns| ns as f64),
        SloMetric::QueueWaitMean => wait_mean(b.queue_wait_ns),
        SloMetric::Utilization => b.utilization,
        SloMetric::ConnectionsPeak
        | SloMetric::ConnectionsRefused
        | SloMetric::Uptime
        | SloMetric::DeliveryLatencyMean
        | SloMetric::DeliveryLatencyP99
        | SloMetric::MessagesDropped
        | SloMetric::ReconnectTimeP99
        | SloMetric::ConnectionRecoveryTime => realtime(metric, b.realtime?),
    }
}

/// A D4 metric. `None` for a latency with nothing delivered, an uptime
/// with no client wanting a connection, a reconnect time with nothing
/// dropped, and a recovery that did not happen; else the figure.
fn realtime(metric: SloMetric, r: &RealtimeSummary) -> Option<f64> {
    let d = &r.delivery_latency_ns;
    match metric {
        SloMetric::ConnectionsPeak => Some(r.connections_peak as f64),
        SloMetric::ConnectionsRefused => Some(r.connections_refused as f64),
        SloMetric::Uptime => r.uptime,
        SloMetric::DeliveryLatencyMean => (d.count > 0).then_some(d.mean),
        SloMetric::DeliveryLatencyP99 => (d.count > 0).then_some(d.p99 as f64),
        SloMetric::MessagesDropped => Some(r.messages_dropped as f64),
        SloMetric::ReconnectTimeP99 => {
            let w = &r.reconnect_time_ns;
            Some(if w.count > 0 { w.p99 as f64 } else { 0.0 })
        }
        SloMetric::ConnectionRecoveryTime => r.recovery_time_ns.map(|ns| ns as f64),
        SloMetric::Throughput
        | SloMetric::LatencyMean
        | SloMetric::LatencyP50
        | SloMetric::LatencyP90
        | SloMetric::LatencyP95
        | SloMetric::LatencyP99
        | SloMetric::LatencyP999
        | SloMetric::LatencyMax
        | SloMetric::Completion
        | SloMetric::FailedJobs
        | SloMetric::PartialJobs
        | SloMetric::LostJobs
        | SloMetric::RecoveryTime
        | SloMetric::QueueWaitMean
        | SloMetric::Utilization => None,
    }
}

/// A latency metric; `None` when no result was measured.
fn latency(metric: SloMetric, l: &Latency) -> Option<f64> {
    if l.count == 0 {
        return None;
    }
    match metric {
        SloMetric::LatencyMean => Some(l.mean),
        SloMetric::LatencyP50 => Some(l.p50 as f64),
        SloMetric::LatencyP90 => Some(l.p90 as f64),
        SloMetric::LatencyP95 => Some(l.p95 as f64),
        SloMetric::LatencyP99 => Some(l.p99 as f64),
        SloMetric::LatencyP999 => Some(l.p999 as f64),
        SloMetric::LatencyMax => Some(l.max as f64),
        SloMetric::Throughput
        | SloMetric::Completion
        | SloMetric::FailedJobs
        | SloMetric::PartialJobs
        | SloMetric::LostJobs
        | SloMetric::RecoveryTime
        | SloMetric::QueueWaitMean
        | SloMetric::Utilization
        | SloMetric::ConnectionsPeak
        | SloMetric::ConnectionsRefused
        | SloMetric::Uptime
        | SloMetric::DeliveryLatencyMean
        | SloMetric::DeliveryLatencyP99
        | SloMetric::MessagesDropped
        | SloMetric::ReconnectTimeP99
        | SloMetric::ConnectionRecoveryTime => None,
    }
}

/// Mean queue wait; `None` when no work item started in the window.
fn wait_mean(w: &QueueWait) -> Option<f64> {
    (w.count > 0).then_some(w.mean)
}
