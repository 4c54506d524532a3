//! The discrete-event driver: it owns the clock, the future-event list, all
//! randomness (arrivals, service times, failures) and message latency, and
//! turns the core's actions into scheduled events.
//!
//! `Sim::build` assembles everything from a validated scenario; `Sim::run`
//! plays it to the end of duration + drain and returns the measurements.
//! Nothing here reads the wall clock; a run is a pure function of the
//! scenario and the seed.

pub mod budget;
pub mod dist;
pub mod engine;
pub mod faults;
pub mod liveness;
pub mod rng;
pub mod service;
pub mod trace;
pub mod workload;

use crate::core::{
    Action, AgentIdx, Before, Command, Core, CoreConfig, DomainIdx, ExternalId, Input, Msg, NewJob,
    Node, Priority, TaskIdx, WorkKey,
};
use crate::metrics::summary::{InputRef, ScenarioRef, Summary};
use crate::metrics::{AgentLayout, ClassLayout, Layout, Recorder};
use crate::org::Org;
use crate::realtime::{Realtime, RtEvent};
use crate::scenario::{FaultKind, Scenario, ScenarioError};
use crate::time::{SimDuration, SimInstant};
pub use budget::Limits;
use engine::EventQueue;
use faults::{count_fault, AgentFaults};
pub use liveness::Liveness;
use service::Service;
use trace::TraceSink;
use workload::LoadGen;

/// What the future-event list holds.
#[derive(Clone, Copy, Debug)]
enum Event {
    Arrival {
        load: u16,
        task: TaskIdx,
    },
    Deliver(Msg),
    WorkDone {
        agent: AgentIdx,
        domain: DomainIdx,
        work: WorkKey,
        token: u32,
        epoch: u32,
        ok: bool,
        busy_ns: u64,
    },
    /// The core's timer (next_deadline) is due.
    Tick,
    /// Fault `index` starts (`true`) or ends.
    Fault {
        index: u16,
        start: bool,
    },
    /// An event of the D4 model.
    Rt(RtEvent),
}

/// How long the org's messages and planning take: the driver's side of
/// what the core asks for ([`Before`]), and the heartbeat period.
#[derive(Clone, Copy, Debug)]
pub struct Timing {
    pub hop_latency: SimDuration,
    pub plan_time: SimDuration,
    pub dispatch_time: SimDuration,
    pub heartbeat_interval: SimDuration,
}

impl Timing {
    pub fn of(scenario: &Scenario) -> Timing {
        let org = &scenario.org;
        Timing {
            hop_latency: org.hop_latency,
            plan_time: org.plan_time,
            dispatch_time: org.dispatch_time,
            heartbeat_interval: org.heartbeat_interval,
        }
    }

    /// From a send to its delivery on a link that adds nothing.
    #[inline]
    pub fn delay(&self, before: Before) -> SimDuration {
        let wait = match before {
            Before::Nothing => SimDuration::ZERO,
            Before::Planning => self.plan_time,
            Before::Dispatching => self.dispatch_time,
            Before::Backoff(backoff) => backoff,
        };
        wait + self.hop_latency
    }

    /// The last beat before `now` of an agent beating since `origin`.
    pub fn last_beat(&self, origin: SimInstant, now: SimInstant) -> SimInstant {
        let every = self.heartbeat_interval.as_nanos().max(1);
        let beats = (now.0 - origin.0.min(now.0)) / every;
        SimInstant(origin.0 + beats * every)
    }
}

/// A task template of a `[[load]]`: what its jobs say, and how urgent.
pub struct Template {
    pub text: String,
    pub priority: Priority,
}

/// The task templates of every load, in [`TaskIdx`] order.
pub fn templates(scenario: &Scenario) -> Vec<Template> {
    (scenario.loads.iter())
        .flat_map(|l| l.tasks.iter())
        .map(|t| Template {
            text: t.text.clone(),
            priority: t.priority,
        })
        .collect()
}

/// What either driver builds from a scenario before it runs: the core,
/// the driver's timing, the task templates, the load generators, every
/// agent's service, the resolved faults and the recorder.
pub struct Parts {
    pub core: Core,
    pub timing: Timing,
    pub tasks: Vec<Template>,
    pub loads: Vec<LoadGen>,
    pub services: Vec<Option<Service>>,
    pub faults: Vec<faults::Fault>,
    pub recorder: Recorder,
    /// When arrivals stop (duration), and when the run stops at the latest
    /// (duration + drain).
    pub load_end: SimInstant,
    pub hard_end: SimInstant,
    pub scenario_ref: ScenarioRef,
}

impl Parts {
    pub fn build(scenario: &Scenario) -> Result<(Parts, Org), ScenarioError> {
        let org = Org::build(scenario)?;
        let core = Core::new(core_config(scenario, &org)?);
        let seed = scenario.seed;
        let load_end = SimInstant::ZERO + scenario.duration;
        let services = service::services(scenario, &org)?;
        let mut first_task = 0u32;
        let mut loads = Vec::new();
        for (i, l) in scenario.loads.iter().enumerate() {
            let load = LoadGen::new(seed, i, l, first_task, load_end).map_err(|e| {
                ScenarioError::invalid(&scenario.source, &format!("load[{i}].tasks"), e)
            })?;
            loads.push(load);
            first_task += l.tasks.len() as u32;
        }
        let faults = faults::resolve(scenario, &org)?;
        let mut recorder = Recorder::new(
            layout(&org, scenario),
            SimInstant::ZERO + scenario.warmup,
            load_end,
            load_end + scenario.drain,
            scenario.interval.as_nanos(),
        );
        recorder.set_fault_window(fault_window(&faults));
        let parts = Parts {
            core,
            timing: Timing::of(scenario),
            tasks: templates(scenario),
            loads,
            services,
            faults,
            recorder,
            load_end,
            hard_end: load_end + scenario.drain,
            scenario_ref: ScenarioRef {
                name: scenario.name.clone(),
                seed,
                hash: scenario.source.hash.clone(),
                overrides: scenario.source.overrides.clone(),
                inputs: input_refs(scenario),
            },
        };
        Ok((parts, org))
    }
}

/// A simulation ready to run.
pub struct Sim {
    core: Core,
    timing: Timing,
    tasks: Vec<Template>,
    fel: EventQueue<Event>,
    loads: Vec<LoadGen>,
    services: Vec<Option<Service>>,
    recorder: Recorder,
    load_end: SimInstant,
    hard_end: SimInstant,
    scenario_ref: ScenarioRef,
    last_time: SimInstant,
    violations: Vec<String>,
    faults: Vec<faults::Fault>,
    agent_faults: Vec<AgentFaults>,
    /// Per domain: active queue-outage faults; its queues refuse pushes
    /// while any is.
    outages: Vec<u32>,
    /// Indices of the active partition faults.
    cuts: Vec<u16>,
    timer_at: Option<SimInstant>,
    checks: Checks,
    /// `run --trace`: where every event goes; `None` costs one branch.
    trace: Option<Box<dyn TraceSink>>,
    /// The D4 model, for a scenario with `[[connections]]`.
    realtime: Option<Box<Realtime>>,
}

/// Which invariants are checked after every event.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Checks {
    /// The constant-time ones ([`Core::check_cheap`]); the full set runs
    /// once at the end. The default of release builds.
    Cheap,
    /// [`Core::check_invariants`] (cost: the org's size) after every
    /// event and the sweep over the live state ([`Core::check_all`])
    /// every [`SWEEP_EVERY`] events: `explore`, and every run of a debug
    /// build.
    Full,
}

impl Checks {
    /// Full in debug builds, cheap in release builds.
    pub const DEFAULT: Checks = if cfg!(debug_assertions) {
        Checks::Full
    } else {
        Checks::Cheap
    };
}

/// How often (in events) [`Checks::Full`] sweeps the whole live state.
pub const SWEEP_EVERY: u64 = 1024;

/// Most invariant violations a run records (the first ones matter).
const MAX_VIOLATIONS: usize = 10;

/// How often (in events) [`Sim::run_with`] reports progress.
pub const PROGRESS_EVERY: u64 = 1 << 16;

/// Where a running simulation is.
#[derive(Clone, Copy, Debug)]
pub struct Progress {
    pub events: u64,
    pub now: SimInstant,
    /// The end of duration + drain.
    pub end: SimInstant,
}

/// A run stopped because it used up its event budget.
#[derive(Clone, Copy, Debug, thiserror::Error)]
#[error(
    "the run used {events} events and reached only {} of {} simulated",
    SimDuration(.at.0),
    SimDuration(.end.0)
)]
pub struct BudgetExceeded {
    pub events: u64,
    pub at: SimInstant,
    pub end: SimInstant,
}

/// The outcome of a run: the deterministic measurements plus the count of
/// events processed (for perf.json).
pub struct RunOutput {
    pub summary: Summary,
    pub recorder: Recorder,
    pub events: u64,
    /// Invariant violations found; non-empty means a bug (exit 3).
    pub violations: Vec<String>,
    /// Whether every job got a result once load stopped and faults healed.
    pub liveness: Liveness,
}

impl Sim {
    /// Builds the org, the core and every stream from a scenario.
    pub fn build(scenario: &Scenario) -> Result<(Sim, Org), ScenarioError> {
        let (parts, org) = Parts::build(scenario)?;
        let realtime = Realtime::build(scenario, &org)?.map(Box::new);
        let sim = Sim {
            core: parts.core,
            timing: parts.timing,
            tasks: parts.tasks,
            fel: EventQueue::with_capacity(1024),
            loads: parts.loads,
            services: parts.services,
            recorder: parts.recorder,
            load_end: parts.load_end,
            hard_end: parts.hard_end,
            scenario_ref: parts.scenario_ref,
            last_time: SimInstant::ZERO,
            violations: Vec::new(),
            faults: parts.faults,
            agent_faults: vec![AgentFaults::new(); org.agents.len()],
            outages: vec![0; org.domains.len()],
            cuts: Vec::new(),
            timer_at: None,
            checks: Checks::DEFAULT,
            trace: None,
            realtime,
        };
        Ok((sim, org))
    }

    /// Checks `checks` after every event instead of [`Checks::DEFAULT`].
    pub fn with_checks(mut self, checks: Checks) -> Sim {
        self.checks = checks;
        self
    }

    /// Keeps up to `intervals` closed intervals of the time series in
    /// memory before spilling them to a temporary file (see
    /// [`crate::metrics::spool`]); the reports do not change.
    pub fn keep_in_memory(mut self, intervals: usize) -> Sim {
        self.recorder.keep_in_memory(intervals);
        self
    }

    /// Sends every event of the run to `sink` (see [`trace`]); the run
    /// itself is unchanged.
    pub fn set_trace(&mut self, sink: Box<dyn TraceSink>) {
        self.trace = Some(sink);
    }

    /// Runs to the end of duration + drain (or until nothing is left).
    pub fn run(self) -> RunOutput {
        match self.run_with(Limits::NONE, &mut |_| {}) {
            Ok(output) => output,
            Err(stop) => unreachable!("an unbounded run stopped: {stop}"),
        }
    }

    /// Like [`Sim::run`], but stops with [`BudgetExceeded`] after
    /// `limits.max_events` events, and calls `progress` every
    /// [`PROGRESS_EVERY`] events (it must not touch the simulation: reports
    /// stay a pure function of the scenario).
    pub fn run_with(
        mut self,
        limits: Limits,
        progress: &mut dyn FnMut(Progress),
    ) -> Result<RunOutput, BudgetExceeded> {
        self.schedule_start();
        loop {
            let events = self.fel.popped();
            if events >= limits.max_events || events.is_multiple_of(PROGRESS_EVERY) {
                // Rare: look at the next event before popping it.
                let Some(t) = self.fel.peek_time().filter(|&t| t <= self.hard_end) else {
                    break;
                };
                if events >= limits.max_events {
                    return Err(BudgetExceeded {
                        events,
                        at: t,
                        end: self.hard_end,
                    });
                }
                if events > 0 {
                    progress(Progress {
                        events,
                        now: t,
                        end: self.hard_end,
                    });
                }
            }
            let Some((t, event)) = self.fel.pop_until(self.hard_end) else {
                break;
            };
            self.step(t, event);
        }
        let end = self.fel.now().max(self.load_end);
        let end = if self.fel.is_empty() {
            end
        } else {
            self.hard_end
        };
        Ok(self.finish(end))
    }

    /// The first arrival of every load and every fault's start and end.
    fn schedule_start(&mut self) {
        for i in 0..self.loads.len() {
            self.schedule_next_arrival(i);
        }
        if let Some(rt) = self.realtime.as_mut() {
            rt.start();
            self.schedule_realtime();
        }
        for (i, f) in self.faults.iter().enumerate() {
            self.fel.schedule_at(
                f.start,
                Event::Fault {
                    index: i as u16,
                    start: true,
                },
            );
            if let Some(end) = f.end {
                self.fel.schedule_at(
                    end,
                    Event::Fault {
                        index: i as u16,
                        start: false,
                    },
                );
            }
        }
    }

    #[inline]
    fn step(&mut self, t: SimInstant, event: Event) {
        if t < self.last_time {
            self.violations.push(format!(
                "time went backwards: {} after {}",
                t.0, self.last_time.0
            ));
        }
        self.last_time = t;
        self.recorder.advance_to(t, &self.core);
        if let Some(rt) = self.realtime.as_mut() {
            rt.advance_to(t);
        }
        if self.trace.is_some() {
            self.trace_event(t, &event);
        }
        match event {
            Event::Arrival { load, task } => {
                self.recorder.on_arrival(t, task);
                let template = &self.tasks[task.0 as usize];
                let job = NewJob {
                    text: &template.text,
                    priority: template.priority,
                    class: task,
                    external: ExternalId(u128::from(self.core.jobs_arrived())),
                };
                self.core.handle(t, Input::Arrival(job));
                self.schedule_next_arrival(load as usize);
            }
            Event::Deliver(msg) => self.core.handle(t, Input::Deliver(msg)),
            Event::WorkDone {
                agent,
                domain,
                work,
                token,
                epoch,
                ok,
                busy_ns,
            } => {
                if epoch != self.agent_faults[agent.0 as usize].epoch {
                    return; // the attempt died with its agent
                }
                self.recorder.on_finish(t, agent, domain, ok, busy_ns);
                self.core.handle(
                    t,
                    Input::WorkDone {
                        agent,
                        work,
                        token,
                        ok,
                    },
                );
            }
            Event::Tick => {
                self.timer_at = None;
                self.core.handle(t, Input::Tick);
            }
            Event::Fault { index, start } => self.apply_fault(t, index as usize, start),
            Event::Rt(event) => {
                if let Some(rt) = self.realtime.as_mut() {
                    rt.handle(t, event, &self.agent_faults);
                }
            }
        }
        self.apply_actions(t);
        self.arm_timer(t);
        if self.realtime.is_some() {
            self.schedule_realtime();
        }
        self.check(t);
    }

    /// Puts what the D4 model asked for on the future-event list (out of
    /// line: most scenarios have no D4 model, and test for it inline).
    #[inline(never)]
    fn schedule_realtime(&mut self) {
        if let Some(rt) = self.realtime.as_mut() {
            for (at, event) in rt.take_due() {
                self.fel.schedule_at(at, Event::Rt(event));
            }
        }
    }

    /// The per-event invariant checks; the first violations are kept.
    #[inline]
    fn check(&mut self, t: SimInstant) {
        let result = match self.checks {
            Checks::Cheap => self.core.check_cheap(),
            Checks::Full if self.fel.popped().is_multiple_of(SWEEP_EVERY) => self.core.check_all(),
            Checks::Full => self.core.check_invariants(),
        };
        if let Err(e) = result {
            if self.violations.len() < MAX_VIOLATIONS {
                self.violations.push(format!("at t={}ns: {e}", t.0));
            }
        }
    }

    fn schedule_next_arrival(&mut self, load: usize) {
        if let Some((at, task)) = self.loads[load].next_arrival() {
            self.fel.schedule_at(
                at,
                Event::Arrival {
                    load: load as u16,
                    task,
                },
            );
        }
    }

    /// Carries out everything the core asked for. Zero-delay messages are
    /// delivered at once (same time, before later events), so an org with
    /// no hop latency and no plan time costs no extra events.
    #[inline]
    fn apply_actions(&mut self, t: SimInstant) {
        while let Some(action) = self.core.poll_action() {
            if self.trace.is_some() {
                self.trace_action(t, &action);
            }
            match action {
                Action::Observation(o) => self.recorder.observe(t, &o),
                Action::Command(Command::Send {
                    before,
                    from,
                    to,
                    msg,
                }) => {
                    let delay = self.timing.delay(before);
                    let delay = self.partition_delay(t, delay, from, to);
                    self.send(t, delay, msg);
                }
                Action::Command(Command::StartWork {
                    agent,
                    work,
                    domain,
                    token,
                }) => self.start_work(t, agent, domain, work, token),
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
    fn start_work(
        &mut self,
        t: SimInstant,
        agent: AgentIdx,
        domain: DomainIdx,
        work: WorkKey,
        token: u32,
    ) {
        let svc = self.services[agent.0 as usize]
            .as_mut()
            .expect("work started on an agent without a service");
        let f = &self.agent_faults[agent.0 as usize];
        let (busy_ns, ok) = svc.draw(f);
        let event = Event::WorkDone {
            agent,
            domain,
            work,
            token,
            epoch: f.epoch,
            ok,
            busy_ns,
        };
        self.fel.schedule_at(t + SimDuration(busy_ns), event);
    }

    /// Arms the core's timer when it wants one sooner than the armed one.
    #[inline]
    fn arm_timer(&mut self, now: SimInstant) {
        if let Some(deadline) = self.core.next_deadline() {
            if self.timer_at.is_none_or(|armed| deadline < armed) {
                let at = deadline.max(now);
                self.timer_at = Some(at);
                self.fel.schedule_at(at, Event::Tick);
            }
        }
    }

    /// A message crossing an active partition waits until it heals.
    #[inline]
    fn partition_delay(
        &self,
        t: SimInstant,
        delay: SimDuration,
        from: Node,
        to: Node,
    ) -> SimDuration {
        if self.cuts.is_empty() {
            return delay;
        }
        let cfg = self.core.config();
        let domain_of = |n: Node| match n {
            Node::Pool(p) => cfg.pools[p.0 as usize].domain,
            Node::Agent(a) => cfg.agent_domain(a).unwrap_or(cfg.fallback),
            _ => cfg.fallback,
        };
        let (a, b) = (
            faults::site_of(from, domain_of),
            faults::site_of(to, domain_of),
        );
        faults::heal_time(&self.faults, t, a, b).saturating_since(t) + delay
    }

    /// Fault `index` starts or ends. Faults of one kind stack per agent
    /// (per domain for queue outages): only the transitions from none to
    /// some and back reach the core.
    fn apply_fault(&mut self, t: SimInstant, index: usize, start: bool) {
        let fault = &self.faults[index];
        let (agents, domains) = (fault.agents.clone(), fault.domains.clone());
        let i = index as u16;
        match fault.kind {
            FaultKind::Crash => {
                for &a in &agents {
                    self.crash(t, a, start);
                }
            }
            FaultKind::HeartbeatLoss => {
                for &a in &agents {
                    self.lose_heartbeats(t, a, start);
                }
            }
            FaultKind::Slow { factor } => {
                for &a in &agents {
                    self.agent_faults[a.0 as usize].set_slow(i, factor, start);
                }
            }
            FaultKind::Error { rate } => {
                for &a in &agents {
                    self.agent_faults[a.0 as usize].set_error(i, rate, start);
                }
            }
            FaultKind::QueueOutage => {
                for &d in &domains {
                    self.queue_outage(t, d, start);
                }
            }
            FaultKind::Partition { .. } if start => self.cuts.push(i),
            FaultKind::Partition { .. } => self.cuts.retain(|&c| c != i),
        }
    }

    /// A crash starts or ends; the process goes down with the first active
    /// crash and comes back up with the last one's end.
    fn crash(&mut self, t: SimInstant, agent: AgentIdx, start: bool) {
        let f = &mut self.agent_faults[agent.0 as usize];
        let active = f.count_silence((t, agent), true, start, &mut self.recorder);
        if start && active == 1 {
            self.agent_faults[agent.0 as usize].epoch += 1;
            let domain = (self.core.config())
                .agent_domain(agent)
                .expect("faults target workers");
            self.recorder
                .on_agent_down(t, agent, domain, self.core.agent_busy(agent));
            self.trace_agent(t, agent, false);
            self.stop_beats(t, agent);
            self.core.handle(t, Input::AgentDown(agent));
            if let Some(rt) = self.realtime.as_mut() {
                rt.agent_down(t, agent);
            }
        } else if !start && active == 0 {
            self.trace_agent(t, agent, true);
            self.core.handle(t, Input::AgentUp(agent));
            self.start_beats(t, agent);
            if let Some(rt) = self.realtime.as_mut() {
                rt.agent_up(t, agent, &self.agent_faults);
            }
        }
    }

    /// The agent's beats stop: the core hears of the last one that got
    /// through.
    fn stop_beats(&mut self, t: SimInstant, agent: AgentIdx) {
        let f = &mut self.agent_faults[agent.0 as usize];
        if f.beating {
            f.beating = false;
            let at = self.timing.last_beat(f.beat_origin, t);
            self.core.handle(t, Input::Heartbeat { agent, at });
        }
    }

    /// The agent beats again from now, if its process is up and no loss is
    /// active; the first beat registers it.
    fn start_beats(&mut self, t: SimInstant, agent: AgentIdx) {
        let f = &mut self.agent_faults[agent.0 as usize];
        if !f.beating && !f.silent() {
            f.beating = true;
            f.beat_origin = t;
            self.core.handle(t, Input::HeartbeatsSteady { agent });
        }
    }

    /// Traces a future-event-list event before it is applied.
    #[cold]
    #[inline(never)]
    fn trace_event(&mut self, t: SimInstant, event: &Event) {
        let Some(sink) = self.trace.as_mut() else {
            return;
        };
        let faults = &self.agent_faults;
        let lost = matches!(*event, Event::WorkDone { agent, epoch, .. }
            if epoch != faults[agent.0 as usize].epoch);
        if let Some(record) = trace::of_event(t, event, &self.core, lost) {
            sink.record(&record);
        }
    }

    /// Traces a core action before the driver carries it out.
    #[cold]
    #[inline(never)]
    fn trace_action(&mut self, t: SimInstant, action: &Action) {
        if let Some(sink) = self.trace.as_mut() {
            if let Some(record) = trace::of_action(t, action, &self.core) {
                sink.record(&record);
            }
        }
    }

    fn trace_agent(&mut self, t: SimInstant, agent: AgentIdx, up: bool) {
        if let Some(sink) = self.trace.as_mut() {
            sink.record(&trace::of_agent(t, agent, up));
        }
    }

    /// A heartbeat loss starts or ends; beats stop with the first active
    /// loss and get through again after the last one's end.
    fn lose_heartbeats(&mut self, t: SimInstant, agent: AgentIdx, start: bool) {
        let f = &mut self.agent_faults[agent.0 as usize];
        let active = f.count_silence((t, agent), false, start, &mut self.recorder);
        match (start, active) {
            (true, 1) => self.stop_beats(t, agent),
            (false, 0) => self.start_beats(t, agent),
            _ => {}
        }
    }

    /// A queue outage on `domain` starts or ends; its queues refuse pushes
    /// from the first active outage to the last one's end.
    fn queue_outage(&mut self, t: SimInstant, domain: DomainIdx, start: bool) {
        if count_fault(&mut self.outages[domain.0 as usize], start) == u32::from(start) {
            self.core
                .handle(t, Input::QueueOutage { domain, on: start });
        }
    }

    fn finish(mut self, end: SimInstant) -> RunOutput {
        let liveness = self.liveness(end);
        let events = self.fel.popped();
        let violations = std::mem::take(&mut self.violations);
        let realtime = self.realtime.take();
        let parts = (self.core, self.recorder, self.scenario_ref);
        let mut output = close(parts, end, events, violations, liveness);
        if let Some(rt) = realtime {
            let (summary, series, violations) = rt.finish(end);
            output.summary.realtime = Some(summary);
            output.recorder.set_realtime_series(series);
            output.violations.extend(violations);
        }
        output
    }

    /// Judges the jobs still open at `end` (see [`Liveness`]).
    fn liveness(&self, end: SimInstant) -> Liveness {
        let quiet_from = quiet_from(&self.faults, self.load_end);
        let all = u64::MAX >> (64 - self.core.config().domains.len().max(1));
        let cut = (self
            .cuts
            .iter()
            .filter_map(|&i| self.faults[i as usize].cut))
        .flatten()
        .fold(0u64, |mask, site| match site {
            faults::Site::Orchestrator => all,
            faults::Site::Domain(d) => mask | 1 << d.0,
        });
        Liveness::judge(&self.core.unfinished(), cut, quiet_from, end)
    }
}

/// Closes a run's measurements at `end` (either driver): what faults
/// left stranded, the summary, and every violation — the driver's own,
/// job conservation, the core's full invariants, the recorder's checks.
pub(crate) fn close(
    (core, mut recorder, scenario_ref): (Core, Recorder, ScenarioRef),
    end: SimInstant,
    events: u64,
    mut violations: Vec<String>,
    liveness: Liveness,
) -> RunOutput {
    recorder.finish(end, &core);
    let faulted = |a: AgentIdx| recorder.silent_since(a).is_some();
    recorder.set_stranded(core.stranded(faulted));
    let summary = recorder.summary(end, &core, scenario_ref);
    violations.extend(conservation_violations(&summary, &core));
    violations.extend(recorder.violations());
    RunOutput {
        summary,
        recorder,
        events,
        violations,
        liveness,
    }
}

/// When load had stopped and every fault that ends had ended.
pub(crate) fn quiet_from(faults: &[faults::Fault], load_end: SimInstant) -> SimInstant {
    let healed = (faults.iter().filter_map(|f| f.end)).max();
    healed.map_or(load_end, |h| h.max(load_end))
}

/// The core's configuration for a scenario's org and protocol.
pub fn core_config(scenario: &Scenario, org: &Org) -> Result<CoreConfig, ScenarioError> {
    org.core_config(Org::protocol(&scenario.org)).map_err(|e| {
        ScenarioError::invalid(
            &scenario.source,
            "org",
            format!("{e}; use fewer or shorter keywords"),
        )
    })
}

/// Job conservation: every arrived job has exactly one result or is still
/// in flight.
/// The run's input files for `summary.json`.
fn input_refs(scenario: &Scenario) -> Vec<InputRef> {
    (scenario.source.inputs.iter())
        .map(|f| InputRef {
            key: f.key.clone(),
            path: f.path.clone(),
            hash: f.hash.clone(),
        })
        .collect()
}

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
        out.push(format!(
            "core saw {} arrivals, driver {}",
            core.jobs_arrived(),
            all.arrived
        ));
    }
    if summary.jobs.lost != 0 {
        out.push(format!("{} measured jobs lost", summary.jobs.lost));
    }
    if let Err(e) = core.check_all() {
        out.push(e);
    }
    out
}

/// From the first fault's start to the last fault's end (`None`: no faults).
fn fault_window(faults: &[faults::Fault]) -> Option<(SimInstant, Option<SimInstant>)> {
    let start = faults.iter().map(|f| f.start).min()?;
    let end = faults
        .iter()
        .map(|f| f.end)
        .try_fold(SimInstant::ZERO, |acc, e| e.map(|e| acc.max(e)));
    Some((start, end))
}

fn layout(org: &Org, scenario: &Scenario) -> Layout {
    Layout {
        classes: ClassLayout {
            loads: scenario.loads.iter().map(|l| l.name.clone()).collect(),
            tasks: scenario
                .loads
                .iter()
                .enumerate()
                .flat_map(|(i, l)| l.tasks.iter().map(move |t| (t.priority, i as u32)))
                .collect(),
        },
        domains: org
            .domains
            .iter()
            .map(|d| (d.id.clone(), d.name.clone()))
            .collect(),
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
