//! The discrete-event driver: it owns the clock, the future-event list, all
//! randomness (arrivals, service times, failures) and message latency, and
//! turns the core's actions into scheduled events.
//!
//! `Sim::build` assembles everything from a validated scenario; `Sim::run`
//! plays it to the end of duration + drain and returns the measurements.
//! Nothing here reads the wall clock; a run is a pure function of the
//! scenario and the seed.

pub mod dist;
pub mod engine;
pub mod rng;
pub mod workload;

use rand::Rng;

use crate::core::{Action, AgentIdx, Core, DomainIdx, Input, Msg, Node, TaskIdx, WorkKey};
use crate::metrics::summary::{ScenarioRef, Summary};
use crate::metrics::{AgentLayout, Layout, Recorder};
use crate::org::Org;
use crate::scenario::{Scenario, ScenarioError};
use crate::time::{SimDuration, SimInstant};
use dist::Sampler;
use engine::EventQueue;
use rng::{stream, Stream};
use workload::LoadGen;

/// Most time-series rows a run may produce.
pub const MAX_INTERVALS: u64 = 1_000_000;

/// What the future-event list holds.
#[derive(Clone, Copy, Debug)]
enum Event {
    Arrival { load: u16, task: TaskIdx },
    Deliver(Msg),
    WorkDone { agent: AgentIdx, domain: DomainIdx, work: WorkKey, ok: bool, busy_ns: u64 },
}

/// Per-agent service: sampler, its stream, and the failure stream.
struct Service {
    sampler: Sampler,
    rng: Stream,
    error_rate: f64,
    error_rng: Stream,
}

/// A simulation ready to run.
pub struct Sim {
    core: Core,
    fel: EventQueue<Event>,
    loads: Vec<LoadGen>,
    services: Vec<Option<Service>>,
    recorder: Recorder,
    load_end: SimInstant,
    hard_end: SimInstant,
    scenario_ref: ScenarioRef,
    last_time: SimInstant,
    violations: Vec<String>,
}

/// The outcome of a run: the deterministic measurements plus the count of
/// events processed (for perf.json).
pub struct RunOutput {
    pub summary: Summary,
    pub recorder: Recorder,
    pub events: u64,
    /// Invariant violations found; non-empty means a bug (exit 3).
    pub violations: Vec<String>,
}

impl Sim {
    /// Builds the org, the core and every stream from a scenario.
    pub fn build(scenario: &Scenario) -> Result<(Sim, Org), ScenarioError> {
        let org = Org::build(scenario)?;
        check_interval_count(scenario)?;
        let core = Core::new(org.core_config(scenario));
        let seed = scenario.seed;
        let load_end = SimInstant::ZERO + scenario.duration;
        let mut services = Vec::with_capacity(org.agents.len());
        for a in &org.agents {
            services.push(match a.domain {
                None => None,
                Some(_) => Some(Service {
                    sampler: Sampler::new(&a.service)
                        .map_err(|e| ScenarioError::invalid(&scenario.source, "org.agent", format!("agent `{}`: {e}", a.id)))?,
                    rng: stream(seed, &format!("agent/{}/service", a.id)),
                    error_rate: a.error_rate,
                    error_rng: stream(seed, &format!("agent/{}/errors", a.id)),
                }),
            });
        }
        let mut first_task = 0u32;
        let mut loads = Vec::new();
        for (i, l) in scenario.loads.iter().enumerate() {
            loads.push(LoadGen::new(seed, i, l, first_task, load_end));
            first_task += l.tasks.len() as u32;
        }
        let recorder = Recorder::new(
            layout(&org),
            SimInstant::ZERO + scenario.warmup,
            load_end,
            scenario.interval.as_nanos(),
        );
        let sim = Sim {
            core,
            fel: EventQueue::with_capacity(1024),
            loads,
            services,
            recorder,
            load_end,
            hard_end: load_end + scenario.drain,
            scenario_ref: ScenarioRef {
                name: scenario.name.clone(),
                seed,
                hash: scenario.source.hash.clone(),
                overrides: scenario.source.overrides.clone(),
            },
            last_time: SimInstant::ZERO,
            violations: Vec::new(),
        };
        Ok((sim, org))
    }

    /// Runs to the end of duration + drain (or until nothing is left).
    pub fn run(mut self) -> RunOutput {
        for i in 0..self.loads.len() {
            self.schedule_next_arrival(i);
        }
        while let Some(t) = self.fel.peek_time() {
            if t > self.hard_end {
                break;
            }
            let (t, event) = self.fel.pop().expect("peeked");
            self.step(t, event);
        }
        let end = self.fel.now().max(self.load_end);
        let end = if self.fel.is_empty() { end } else { self.hard_end };
        self.finish(end)
    }

    #[inline]
    fn step(&mut self, t: SimInstant, event: Event) {
        if t < self.last_time {
            self.violations.push(format!("time went backwards: {} after {}", t.0, self.last_time.0));
        }
        self.last_time = t;
        self.recorder.advance_to(t, &self.core);
        match event {
            Event::Arrival { load, task } => {
                self.recorder.on_arrival(t);
                self.core.handle(t, Input::Arrival { task });
                self.schedule_next_arrival(load as usize);
            }
            Event::Deliver(msg) => self.core.handle(t, Input::Deliver(msg)),
            Event::WorkDone { agent, domain, work, ok, busy_ns } => {
                self.recorder.on_finish(t, agent, domain, ok, busy_ns);
                self.core.handle(t, Input::WorkDone { agent, work, ok });
            }
        }
        self.apply_actions(t);
        #[cfg(debug_assertions)]
        if let Err(e) = self.core.check_invariants() {
            self.violations.push(format!("at t={}ns: {e}", t.0));
        }
    }

    fn schedule_next_arrival(&mut self, load: usize) {
        if let Some((at, task)) = self.loads[load].next_arrival() {
            self.fel.schedule_at(at, Event::Arrival { load: load as u16, task });
        }
    }

    /// Carries out everything the core asked for. Zero-delay messages are
    /// delivered at once (same time, before later events), so an org with
    /// no hop latency and no plan time costs no extra events.
    #[inline]
    fn apply_actions(&mut self, t: SimInstant) {
        while let Some(action) = self.core.poll_action() {
            match action {
                Action::Send { delay, from: _, to, msg } => {
                    if let (Msg::Subtask(_), Node::Domain(d)) = (msg, to) {
                        self.recorder.on_subtask(t, d);
                    }
                    self.send(t, delay, msg);
                }
                Action::StartWork { agent, work, domain, queued_at, attempt: _ } => {
                    self.recorder.on_start(t, agent, domain, queued_at);
                    self.start_work(agent, domain, work);
                }
                Action::Retry { domain, .. } => self.recorder.on_retry(domain),
                Action::Rejected { domain, .. } => self.recorder.on_rejected(domain),
                Action::WorkFailed { .. } => self.recorder.on_work_failed(),
                Action::DomainResult { domain, scheduled, status, .. } => {
                    self.recorder.on_domain_result(t, domain, scheduled, status)
                }
                Action::JobResult { scheduled, status, workers, .. } => {
                    self.recorder.on_job_result(t, scheduled, status, workers)
                }
            }
        }
    }

    #[inline]
    fn send(&mut self, t: SimInstant, delay: SimDuration, msg: Msg) {
        if delay.is_zero() {
            self.core.handle(t, Input::Deliver(msg));
        } else {
            self.fel.schedule_in(delay, Event::Deliver(msg));
        }
    }

    #[inline]
    fn start_work(&mut self, agent: AgentIdx, domain: DomainIdx, work: WorkKey) {
        let svc = self.services[agent.0 as usize]
            .as_mut()
            .expect("work started on an agent without a service");
        let busy_ns = svc.sampler.sample(&mut svc.rng);
        let ok = svc.error_rate <= 0.0 || svc.error_rng.random::<f64>() >= svc.error_rate;
        self.fel
            .schedule_in(SimDuration(busy_ns), Event::WorkDone { agent, domain, work, ok, busy_ns });
    }

    fn finish(mut self, end: SimInstant) -> RunOutput {
        self.recorder.finish(end, &self.core);
        let summary = self.recorder.summary(end, &self.core, self.scenario_ref.clone());
        let mut violations = std::mem::take(&mut self.violations);
        violations.extend(conservation_violations(&summary, &self.core));
        RunOutput {
            summary,
            recorder: self.recorder,
            events: self.fel.popped(),
            violations,
        }
    }
}

/// Job conservation: every arrived job has exactly one result or is still
/// in flight.
fn conservation_violations(summary: &Summary, core: &Core) -> Vec<String> {
    let mut out = Vec::new();
    let all = &summary.jobs_all;
    if all.arrived != all.results() + all.in_flight_at_end {
        out.push(format!(
            "job conservation: {} arrived but {} results + {} in flight",
            all.arrived,
            all.results(),
            all.in_flight_at_end
        ));
    }
    if core.jobs_arrived() != all.arrived {
        out.push(format!("core saw {} arrivals, driver {}", core.jobs_arrived(), all.arrived));
    }
    if summary.jobs.lost != 0 {
        out.push(format!("{} measured jobs lost", summary.jobs.lost));
    }
    if let Err(e) = core.check_invariants() {
        out.push(e);
    }
    out
}

fn check_interval_count(s: &Scenario) -> Result<(), ScenarioError> {
    let total = (s.duration + s.drain).as_nanos();
    if total / s.interval.as_nanos().max(1) > MAX_INTERVALS {
        return Err(ScenarioError::invalid(
            &s.source,
            "scenario.interval",
            format!("interval {} gives more than {MAX_INTERVALS} time-series rows over duration + drain; use a longer interval", s.interval),
        ));
    }
    Ok(())
}

fn layout(org: &Org) -> Layout {
    Layout {
        domains: org.domains.iter().map(|d| (d.id.clone(), d.name.clone())).collect(),
        agents: org
            .agents
            .iter()
            .map(|a| AgentLayout {
                id: a.id.clone(),
                kind: a.kind.name().to_string(),
                domain: a.domain,
                pool: a.pool,
                slots: a.slots,
            })
            .collect(),
    }
}
