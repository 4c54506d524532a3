//! The fault injector: the scenario's `[[fault]]` timeline resolved against
//! the org (agent ids, domain ids = all their workers, `random:N` drawn from
//! the fault stream), and the per-agent state the driver consults when it
//! samples service times, failures and message delivery.

use rand::seq::index::sample;

use super::rng::stream;
use crate::core::{AgentIdx, DomainIdx, Node};
use crate::metrics::Recorder;
use crate::org::Org;
use crate::scenario::suggest;
use crate::scenario::{is_orchestrator, FaultKind, FaultTarget, Scenario, ScenarioError};
use crate::time::SimInstant;

/// Where a partition cuts: a domain (with its workers) or the orchestrator.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Site {
    Orchestrator,
    Domain(DomainIdx),
}

/// One fault, resolved.
#[derive(Clone, Debug)]
pub struct Fault {
    pub kind: FaultKind,
    pub agents: Vec<AgentIdx>,
    pub domains: Vec<DomainIdx>,
    pub cut: Option<[Site; 2]>,
    pub start: SimInstant,
    /// `None`: the fault never ends.
    pub end: Option<SimInstant>,
}

/// Resolves every fault of the scenario; bad targets are scenario errors.
pub fn resolve(scenario: &Scenario, org: &Org) -> Result<Vec<Fault>, ScenarioError> {
    let workers: Vec<AgentIdx> = (0..org.agents.len())
        .filter(|i| org.agents[*i].domain.is_some())
        .map(|i| AgentIdx(i as u16))
        .collect();
    let mut out = Vec::with_capacity(scenario.faults.len());
    for (i, f) in scenario.faults.iter().enumerate() {
        let key = format!("fault[{i}].target");
        let err = |msg: String| ScenarioError::invalid(&scenario.source, &key, msg);
        let (mut agents, mut domains) = (Vec::new(), Vec::new());
        match &f.target {
            FaultTarget::Random(n) => {
                let n = *n as usize;
                if n > workers.len() {
                    return Err(err(format!(
                        "random:{n} asks for more agents than the org's {} workers",
                        workers.len()
                    )));
                }
                let mut rng = stream(scenario.seed, &format!("fault/{i}"));
                let mut picked: Vec<usize> = sample(&mut rng, workers.len(), n).into_vec();
                picked.sort_unstable();
                agents = picked.into_iter().map(|j| workers[j]).collect();
            }
            FaultTarget::Id(id) => {
                if let Some(a) = org
                    .agent_index(id)
                    .filter(|a| org.agents[a.0 as usize].domain.is_some())
                {
                    agents.push(a);
                } else if let Some(d) = org.domain_index(id) {
                    domains.push(d);
                    agents.extend(
                        workers
                            .iter()
                            .copied()
                            .filter(|a| org.agents[a.0 as usize].domain == Some(d)),
                    );
                } else if !names_partition_side(&f.kind, id) {
                    let known = org
                        .agents
                        .iter()
                        .map(|a| a.id.as_str())
                        .chain(org.domains.iter().map(|d| d.id.as_str()));
                    return Err(err(format!(
                        "fault target `{id}` is neither a worker agent nor a domain of the org{}",
                        suggest(id, known, "worker agents and domains")
                    )));
                }
            }
        }
        let cut = match &f.kind {
            FaultKind::Partition { between } => Some(cut(scenario, org, i, between)?),
            _ => None,
        };
        if matches!(f.kind, FaultKind::QueueOutage) && domains.is_empty() {
            domains.extend(
                agents
                    .iter()
                    .filter_map(|a| org.agents[a.0 as usize].domain),
            );
            domains.sort_unstable();
            domains.dedup();
        }
        out.push(Fault {
            kind: f.kind.clone(),
            agents,
            domains,
            cut,
            start: SimInstant::ZERO + f.at,
            end: f.duration.map(|d| SimInstant::ZERO + f.at + d),
        });
    }
    Ok(out)
}

/// A partition's `target` is not used (the cut is `between`); written, it
/// must still name something: an agent, a domain, or one of the two sides.
fn names_partition_side(kind: &FaultKind, id: &str) -> bool {
    match kind {
        FaultKind::Partition { between } => between
            .iter()
            .any(|side| side == id || (is_orchestrator(side) && is_orchestrator(id))),
        FaultKind::Crash
        | FaultKind::Slow { .. }
        | FaultKind::Error { .. }
        | FaultKind::QueueOutage
        | FaultKind::HeartbeatLoss => false,
    }
}

/// The two sites a partition separates; they must differ.
fn cut(
    scenario: &Scenario,
    org: &Org,
    i: usize,
    between: &[String; 2],
) -> Result<[Site; 2], ScenarioError> {
    let sites = [
        site(scenario, org, i, &between[0])?,
        site(scenario, org, i, &between[1])?,
    ];
    if sites[0] == sites[1] {
        return Err(ScenarioError::invalid(
            &scenario.source,
            &format!("fault[{i}].between"),
            format!(
                "`{}` and `{}` are the same place, so the partition would cut nothing; name two different places (domain ids or \"orchestrator\")",
                between[0], between[1]
            ),
        ));
    }
    Ok(sites)
}

fn site(scenario: &Scenario, org: &Org, i: usize, id: &str) -> Result<Site, ScenarioError> {
    if is_orchestrator(id) {
        return Ok(Site::Orchestrator);
    }
    org.domain_index(id).map(Site::Domain).ok_or_else(|| {
        ScenarioError::invalid(
            &scenario.source,
            &format!("fault[{i}].between"),
            format!(
                "partition side `{id}` must be a domain id or \"orchestrator\" (also written \"CEO\"){}",
                suggest(id, org.domains.iter().map(|d| d.id.as_str()), "domains")
            ),
        )
    })
}

/// The site a message endpoint belongs to.
pub fn site_of(node: Node, pool_domain: impl Fn(Node) -> DomainIdx) -> Site {
    match node {
        Node::Orchestrator => Site::Orchestrator,
        Node::Domain(d) => Site::Domain(d),
        other => Site::Domain(pool_domain(other)),
    }
}

/// When the link between sites `a` and `b` is next up at or after `t`: a
/// message sent at `t` waits through every partition of that link that is
/// active then or starts before the previous one heals (a permanent one:
/// practically forever).
pub fn heal_time(faults: &[Fault], t: SimInstant, a: Site, b: Site) -> SimInstant {
    const NEVER: SimInstant = SimInstant(u64::MAX / 2);
    let mut heal = t;
    // Each pass moves `heal` to a later partition end or stops, so it runs
    // at most once per fault (plus one).
    loop {
        let later = faults
            .iter()
            .filter(|f| {
                f.cut
                    .is_some_and(|[x, y]| (a, b) == (x, y) || (a, b) == (y, x))
            })
            .filter(|f| f.start <= heal && f.end.is_none_or(|end| end > heal))
            .map(|f| f.end.unwrap_or(NEVER))
            .max();
        match later {
            Some(end) if end > heal => heal = end,
            Some(_) | None => return heal,
        }
    }
}

/// Per-agent fault state the driver applies when it samples. Faults stack:
/// each kind keeps every active fault, and the agent is back to normal for
/// a kind only when the last fault of that kind has ended.
#[derive(Clone, Debug)]
pub struct AgentFaults {
    /// Bumped on every crash: completions of older epochs were lost.
    pub epoch: u32,
    /// Active crash faults; the process is down while any is.
    pub crashes: u32,
    /// Active heartbeat-loss faults; beats are lost while any is.
    pub heartbeat_losses: u32,
    /// Active slow faults as (fault index, factor), in start order.
    pub slow: Vec<(u16, f64)>,
    /// Active error faults as (fault index, rate), in start order.
    pub errors: Vec<(u16, f64)>,
    /// Product of the active slow factors (1 with none).
    pub slow_factor: f64,
    /// Π(1 − rate) over the active error faults: the chance an attempt
    /// survives them all (1 with none).
    pub error_survival: f64,
    /// Its heartbeats get through, every interval from `beat_origin`
    /// (the core is told lazily: [`crate::core::Input::HeartbeatsSteady`] when they
    /// start, [`crate::core::Input::Heartbeat`] with the last one when they stop).
    pub beating: bool,
    pub beat_origin: SimInstant,
}

impl Default for AgentFaults {
    fn default() -> AgentFaults {
        AgentFaults::new()
    }
}

impl AgentFaults {
    pub fn new() -> AgentFaults {
        AgentFaults {
            epoch: 0,
            crashes: 0,
            heartbeat_losses: 0,
            slow: Vec::new(),
            errors: Vec::new(),
            slow_factor: 1.0,
            error_survival: 1.0,
            beating: true,
            beat_origin: SimInstant::ZERO,
        }
    }

    /// Its heartbeats do not get through (crashed, or lost on the way).
    pub fn silent(&self) -> bool {
        self.crashes > 0 || self.heartbeat_losses > 0
    }

    /// Counts a crash (`crash`) or heartbeat loss of `agent` in or out at
    /// `t`; returns the count of its kind after the change. When it
    /// silences an agent that was beating, `recorder` hears of it (what
    /// detection and re-dispatch times count from).
    pub fn count_silence(
        &mut self,
        (t, agent): (SimInstant, AgentIdx),
        crash: bool,
        start: bool,
        recorder: &mut Recorder,
    ) -> u32 {
        if start && !self.silent() {
            recorder.on_silenced(t, agent);
        }
        let count = if crash {
            &mut self.crashes
        } else {
            &mut self.heartbeat_losses
        };
        count_fault(count, start)
    }

    pub fn set_slow(&mut self, index: u16, factor: f64, start: bool) {
        stack(&mut self.slow, index, factor, start);
        self.slow_factor = self.slow.iter().fold(1.0, |acc, (_, f)| acc * f);
    }

    pub fn set_error(&mut self, index: u16, rate: f64, start: bool) {
        stack(&mut self.errors, index, rate, start);
        self.error_survival = self.errors.iter().fold(1.0, |acc, (_, r)| acc * (1.0 - r));
    }
}

/// Counts a fault of one kind in (`start`) or out; returns the count after.
pub fn count_fault(count: &mut u32, start: bool) -> u32 {
    debug_assert!(start || *count > 0, "a fault ended that never started");
    *count = if start {
        *count + 1
    } else {
        count.saturating_sub(1)
    };
    *count
}

/// Adds fault `index`'s value to an active-fault stack, or removes it.
fn stack(active: &mut Vec<(u16, f64)>, index: u16, value: f64, start: bool) {
    if start {
        active.push((index, value));
    } else {
        active.retain(|(i, _)| *i != index);
    }
}
