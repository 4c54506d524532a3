//! The live driver's loop: the same core as the simulation, fed in scaled
//! wall-clock time. It owns the core, the recorder and every seeded stream
//! (arrivals, service times, outcomes — drawn exactly as the simulation
//! draws them), turns the core's commands into Redis traffic and timers,
//! and turns what the org's tasks report back into inputs.

use std::collections::BTreeMap;
use std::time::Duration;

use tokio::sync::mpsc::{unbounded_channel, UnboundedReceiver, UnboundedSender};
use tokio::task::JoinHandle;

use super::clock::Clock;
use super::crew::{self, Crew, Report, WorkerSpec};
use super::store::{AgentInfo, Audit, Context, Metadata, Payload, Store, TaskMessage, Write};
use super::{job_uuid, LiveError};
use crate::core::aggregate::Status;
use crate::core::{
    Action, AgentIdx, Command, DomainIdx, ExternalId, Input, JobId, Msg, NewJob, Observation,
    Priority, SubKey, TaskIdx, WorkKey,
};
use crate::org::Org;
use crate::scenario::{FaultKind, Scenario};
use crate::sim::faults::{count_fault, AgentFaults, Fault};
use crate::sim::{Parts, Progress, RunOutput};
use crate::time::{SimDuration, SimInstant};

/// Timers fired, or reports taken, before the driver turns to the other.
const BATCH: usize = 64;

/// How often (real time) progress is reported.
const PROGRESS_EVERY: Duration = Duration::from_millis(250);

/// After the last job's result, how long (real time) the driver waits for
/// workers still serving superseded attempts before it audits Redis.
const SETTLE: Duration = Duration::from_secs(2);

/// A live run's measurements and what Redis held at its end.
pub struct Finished {
    pub output: RunOutput,
    pub audit: Audit,
    /// Inputs handled (arrivals, messages, completions, timers, faults).
    pub inputs: u64,
    pub real: Duration,
}

pub struct Driver {
    parts: Parts,
    seed: u64,
    clock: Clock,
    store: Store,
    agent_ids: Vec<String>,
    domain_ids: Vec<String>,
    reports: UnboundedSender<Report>,
    inbox: UnboundedReceiver<Report>,
    /// To the writer task (see [`crew::start_writer`]).
    writes: UnboundedSender<Write>,
    writer: JoinHandle<()>,
    /// Messages on their way, due at a time (the driver's latency).
    mail: BTreeMap<(SimInstant, u64), Msg>,
    seq: u64,
    next_arrival: Vec<Option<(SimInstant, TaskIdx)>>,
    /// Fault starts and ends in time order, and the next one.
    fault_events: Vec<(SimInstant, usize, bool)>,
    next_fault: usize,
    agent_faults: Vec<AgentFaults>,
    outages: Vec<u32>,
    /// Subtask messages a coordinator took and has not completed.
    subtasks: BTreeMap<u64, (DomainIdx, String)>,
    /// Work messages sent to a worker and not yet served or withdrawn.
    works: BTreeMap<u64, (AgentIdx, String)>,
    crews: Vec<Option<Crew>>,
    coordinators: Vec<JoinHandle<()>>,
    /// Each live job's task template (its text and priority travel in
    /// the task messages).
    jobs: BTreeMap<u64, TaskIdx>,
    /// The last heartbeat fed to the core per agent.
    fed_beat: Vec<Option<SimInstant>>,
    next_registry_read: SimInstant,
    inputs: u64,
}

impl Driver {
    /// Connects, clears the protocol's keys, registers the org and starts
    /// its processes; the clock starts when everything is up.
    pub async fn start(scenario: &Scenario, url: &str, speed: f64) -> Result<Driver, LiveError> {
        let (parts, org) = Parts::build(scenario)?;
        unsupported_faults(&parts.faults)?;
        if scenario.realtime.is_some() {
            return Err(LiveError::Unsupported(
                "the scenario has [[connections]]: `live` drives the job protocol of esa-org.md §5 and has no WebSocket gateways to hold D4's connections yet; run it with `esa-sim run`".into(),
            ));
        }
        let mut store = Store::connect(url).await?;
        store.clear().await?;
        store.register(&registry(&org)).await?;
        let (reports, inbox) = unbounded_channel();
        let (writes, to_write) = unbounded_channel();
        let writer = crew::start_writer(store.clone(), to_write, reports.clone());
        let mut fault_events: Vec<(SimInstant, usize, bool)> = Vec::new();
        for (i, f) in parts.faults.iter().enumerate() {
            fault_events.push((f.start, i, true));
            fault_events.extend(f.end.map(|e| (e, i, false)));
        }
        fault_events.sort_by_key(|&(t, i, start)| (t, !start, i));
        let agents = org.agents.len();
        let mut driver = Driver {
            next_arrival: Vec::new(),
            seed: scenario.seed,
            clock: Clock::start(speed),
            store,
            agent_ids: org.agents.iter().map(|a| a.id.clone()).collect(),
            domain_ids: org.domains.iter().map(|d| d.id.clone()).collect(),
            reports,
            inbox,
            writes,
            writer,
            mail: BTreeMap::new(),
            seq: 0,
            fault_events,
            next_fault: 0,
            agent_faults: vec![AgentFaults::new(); agents],
            outages: vec![0; org.domains.len()],
            subtasks: BTreeMap::new(),
            works: BTreeMap::new(),
            jobs: BTreeMap::new(),
            crews: (0..agents).map(|_| None).collect(),
            coordinators: Vec::new(),
            fed_beat: vec![None; agents],
            next_registry_read: SimInstant::ZERO,
            inputs: 0,
            parts,
        };
        for d in 0..driver.domain_ids.len() {
            let id = driver.domain_ids[d].clone();
            let handle = crew::start_coordinator(
                DomainIdx(d as u8),
                id,
                &driver.store,
                driver.reports.clone(),
            )
            .await?;
            driver.coordinators.push(handle);
        }
        for a in 0..agents {
            driver.start_crew(AgentIdx(a as u16)).await?;
        }
        // Time 0 is when every process is up (crews only use the speed).
        driver.clock = Clock::start(speed);
        driver.next_arrival = (driver.parts.loads.iter_mut())
            .map(|l| l.next_arrival())
            .collect();
        Ok(driver)
    }

    /// Runs until every job has its result after the load (or duration +
    /// drain passes), then audits Redis.
    pub async fn run(mut self, progress: &mut dyn FnMut(Progress)) -> Result<Finished, LiveError> {
        let mut last_progress = self.clock.real_elapsed();
        loop {
            // Timers and reports take turns in bounded batches, so neither
            // starves the other when the run falls behind real time.
            let fired = self.fire_due(BATCH).await?;
            let reported = self.take_reports(BATCH)?;
            let now = self.clock.now();
            if now >= self.parts.hard_end || self.load_done(now) {
                break;
            }
            if self.clock.real_elapsed() >= last_progress + PROGRESS_EVERY {
                last_progress = self.clock.real_elapsed();
                progress(Progress {
                    events: self.inputs,
                    now,
                    end: self.parts.hard_end,
                });
            }
            if fired == BATCH || reported > 0 {
                continue;
            }
            let wake = self.clock.real_at(self.next_due());
            tokio::select! {
                report = self.inbox.recv() => {
                    let report = report.expect("the driver holds a sender");
                    self.on_report(report)?;
                }
                _ = tokio::time::sleep_until(wake) => {}
            }
        }
        self.finish().await
    }

    /// Arrivals are over and every job has its result.
    fn load_done(&self, now: SimInstant) -> bool {
        now >= self.parts.load_end
            && self.next_arrival.iter().all(Option::is_none)
            && self.parts.core.jobs_in_flight() == 0
    }

    /// The earliest thing the driver must do by itself.
    fn next_due(&self) -> SimInstant {
        let arrival = self.next_arrival.iter().flatten().map(|(t, _)| *t).min();
        let fault = self.fault_events.get(self.next_fault).map(|e| e.0);
        let mail = self.mail.keys().next().map(|k| k.0);
        let timer = self.parts.core.next_deadline();
        [arrival, fault, mail, timer, Some(self.next_registry_read)]
            .into_iter()
            .flatten()
            .fold(self.parts.hard_end, SimInstant::min)
    }

    /// Up to `most` of the things due by now, in time order; how many.
    async fn fire_due(&mut self, most: usize) -> Result<usize, LiveError> {
        for fired in 0..most {
            if !self.fire_one(self.clock.now()).await? {
                return Ok(fired);
            }
        }
        Ok(most)
    }

    /// The first thing due at `now`, if any.
    async fn fire_one(&mut self, now: SimInstant) -> Result<bool, LiveError> {
        if self.next_registry_read <= now {
            self.read_registry(now).await?;
        } else if let Some(&(_, i, start)) =
            (self.fault_events.get(self.next_fault)).filter(|e| e.0 <= now)
        {
            self.next_fault += 1;
            self.apply_fault(now, i, start).await?;
        } else if let Some(load) = self.due_arrival(now) {
            self.arrive(now, load);
        } else if let Some((&key, _)) = self.mail.iter().next().filter(|(k, _)| k.0 <= now) {
            let msg = self.mail.remove(&key).expect("present");
            self.deliver(now, msg);
        } else if self.parts.core.next_deadline().is_some_and(|d| d <= now) {
            self.input(now, Input::Tick);
        } else {
            return Ok(false);
        }
        Ok(true)
    }

    /// Up to `most` reports already waiting; how many.
    fn take_reports(&mut self, most: usize) -> Result<usize, LiveError> {
        for taken in 0..most {
            match self.inbox.try_recv() {
                Ok(report) => self.on_report(report)?,
                Err(_) => return Ok(taken),
            }
        }
        Ok(most)
    }

    fn due_arrival(&self, now: SimInstant) -> Option<usize> {
        (self.next_arrival.iter().enumerate())
            .filter_map(|(i, a)| a.map(|(t, _)| (t, i)))
            .filter(|(t, _)| *t <= now)
            .min()
            .map(|(_, i)| i)
    }

    /// Hands a write to the writer task; if it has stopped, its error is
    /// waiting in the inbox.
    fn write(&self, write: Write) {
        let _ = self.writes.send(write);
    }

    /// Feeds the core one input and carries out what it decides. Nothing
    /// here waits: Redis writes go to the writer task.
    fn input(&mut self, now: SimInstant, input: Input<'_>) {
        self.inputs += 1;
        self.parts.recorder.advance_to(now, &self.parts.core);
        self.parts.core.handle(now, input);
        self.drain(now);
    }

    fn arrive(&mut self, now: SimInstant, load: usize) {
        let (_, task) = self.next_arrival[load].expect("due");
        self.next_arrival[load] = self.parts.loads[load].next_arrival();
        let n = self.parts.core.jobs_arrived();
        let uuid = job_uuid(self.seed, n);
        let template = &self.parts.tasks[task.0 as usize];
        let (text, priority) = (template.text.clone(), template.priority);
        self.write(Write::OpenResult {
            task_id: uuid.to_string(),
            description: text.clone(),
            at_ns: now.0,
        });
        self.parts.recorder.advance_to(now, &self.parts.core);
        self.parts.recorder.on_arrival(now, task);
        self.jobs.insert(n, task);
        let job = NewJob {
            text: &text,
            priority,
            class: task,
            external: ExternalId(uuid.as_u128()),
        };
        self.input(now, Input::Arrival(job));
    }

    /// Carries out the core's commands and records its observations.
    fn drain(&mut self, now: SimInstant) {
        while let Some(action) = self.parts.core.poll_action() {
            match action {
                Action::Command(Command::Send { before, msg, .. }) => {
                    let due = now + self.parts.timing.delay(before);
                    self.seq += 1;
                    self.mail.insert((due, self.seq), msg);
                }
                Action::Command(Command::StartWork {
                    agent, work, token, ..
                }) => self.start_work(now, agent, work, token),
                Action::Observation(o) => {
                    self.parts.recorder.observe(now, &o);
                    self.publish(now, &o);
                }
            }
        }
    }

    /// A message arrives: a subtask travels through its domain's Redis
    /// list; a domain result completes the coordinator's subtask message.
    fn deliver(&mut self, now: SimInstant, msg: Msg) {
        match msg {
            Msg::Subtask(sub) => self.push_subtask(now, sub),
            Msg::DomainResult(sub) => {
                if let Some((domain, raw)) = self.subtasks.remove(&u64::from(sub)) {
                    let id = self.domain_ids[domain.0 as usize].clone();
                    self.write(Write::Ack { queue: id, raw });
                }
                self.input(now, Input::Deliver(msg));
            }
            Msg::Enqueue(_) | Msg::WorkResult { .. } => self.input(now, Input::Deliver(msg)),
        }
    }

    fn push_subtask(&mut self, now: SimInstant, sub: SubKey) {
        let Some((job, domain)) = self.parts.core.sub_info(sub) else {
            return;
        };
        let context = Context {
            subtask: Some(sub.into()),
            ..Context::default()
        };
        let queue = self.domain_ids[domain.0 as usize].clone();
        let message = self.message(now, job, "orchestrator", queue.clone(), context);
        let raw = message.to_json();
        self.write(Write::Push { queue, raw });
    }

    /// What a coordinator or worker task reports, fed to the core.
    fn on_report(&mut self, report: Report) -> Result<(), LiveError> {
        let now = self.clock.now();
        match report {
            Report::Subtask { domain, raw } => {
                let id = &self.domain_ids[domain.0 as usize];
                let message = TaskMessage::from_json(id, &raw)?;
                let Some(sub) = message.payload.context.subtask else {
                    return Ok(());
                };
                self.subtasks.insert(sub, (domain, raw));
                self.input(now, Input::Deliver(Msg::Subtask(SubKey::from(sub))));
                Ok(())
            }
            Report::Done {
                agent,
                epoch,
                raw,
                message,
            } => {
                self.on_done(now, agent, epoch, raw, message);
                Ok(())
            }
            Report::Failed(e) => Err(e.into()),
        }
    }

    fn on_done(
        &mut self,
        now: SimInstant,
        agent: AgentIdx,
        epoch: u32,
        raw: String,
        message: Box<TaskMessage>,
    ) {
        if epoch != self.agent_faults[agent.0 as usize].epoch {
            return; // served by a process that has crashed since
        }
        let ctx = &message.payload.context;
        let (Some(work), Some(token)) = (ctx.work, ctx.token) else {
            return;
        };
        let (ok, busy_ns) = (ctx.ok.unwrap_or(false), ctx.service_ns.unwrap_or(0));
        if self.works.get(&work).is_some_and(|(_, r)| *r == raw) {
            self.works.remove(&work);
        }
        let domain = self.parts.core.config().agent_domain(agent);
        self.parts.recorder.advance_to(now, &self.parts.core);
        if let Some(domain) = domain {
            self.parts
                .recorder
                .on_finish(now, agent, domain, ok, busy_ns);
        }
        let work = WorkKey::from(work);
        let done = Input::WorkDone {
            agent,
            work,
            token,
            ok,
        };
        self.input(now, done);
    }

    /// The core starts an attempt on `agent`: its service time and outcome
    /// are drawn as the simulation draws them, and the work item travels to
    /// the agent's list.
    fn start_work(&mut self, now: SimInstant, agent: AgentIdx, work: WorkKey, token: u32) {
        let i = agent.0 as usize;
        let service = self.parts.services[i]
            .as_mut()
            .expect("work starts on a worker");
        let (busy_ns, ok) = service.draw(&self.agent_faults[i]);
        let Some(info) = self.parts.core.work_info(work) else {
            return;
        };
        let context = Context {
            work: Some(work.into()),
            token: Some(token),
            attempt: Some(info.attempt),
            service_ns: Some(busy_ns),
            ok: Some(ok),
            ..Context::default()
        };
        let from = self.domain_ids[info.domain.0 as usize].clone();
        let message = self.message(now, info.job, &from, self.agent_ids[i].clone(), context);
        let raw = message.to_json();
        self.works.insert(work.into(), (agent, raw.clone()));
        let queue = self.agent_ids[i].clone();
        self.write(Write::Push { queue, raw });
    }

    fn message(
        &self,
        now: SimInstant,
        job: JobId,
        source: &str,
        destination: String,
        context: Context,
    ) -> TaskMessage {
        let template = (self.jobs.get(&job.0)).map(|t| &self.parts.tasks[t.0 as usize]);
        TaskMessage {
            task_id: job_uuid(self.seed, job.0).to_string(),
            kind: "task_assignment".to_string(),
            source: source.to_string(),
            destination,
            timestamp: now.0,
            payload: Payload {
                description: template.map_or(String::new(), |t| t.text.clone()),
                requirements: Vec::new(),
                context,
            },
            metadata: Metadata {
                priority: priority_name(template.map_or(Priority::Normal, |t| t.priority))
                    .to_string(),
                timeout_seconds: 300,
            },
        }
    }

    /// What Redis must reflect of an observation: results, logs, and
    /// work withdrawn from an agent whose attempt was requeued.
    fn publish(&mut self, now: SimInstant, o: &Observation) {
        match *o {
            Observation::JobResult {
                job,
                external,
                status,
                workers,
                failed_workers,
                ..
            } => {
                self.jobs.remove(&job.0);
                let id = uuid::Uuid::from_u128(external.0).to_string();
                let output = aggregated_output(status, workers, failed_workers);
                self.write(Write::CloseResult {
                    task_id: id,
                    status: status.name(),
                    output,
                    at_ns: now.0,
                });
            }
            Observation::DomainResult {
                domain,
                job,
                status,
                ..
            } => {
                let id = job_uuid(self.seed, job.0).to_string();
                let d = self.domain_ids[domain.0 as usize].clone();
                let line = format!("{d}: {}", status.name());
                let message = format!("{id} {}", status.name());
                self.write(Write::Log { task_id: id, line });
                self.write(Write::Notify { domain: d, message });
            }
            Observation::Requeued { agent, work, .. } => {
                if let Some((holder, raw)) = self.works.remove(&u64::from(work)) {
                    let id = self.agent_ids[holder.0 as usize].clone();
                    self.write(Write::Withdraw { queue: id, raw });
                    debug_assert_eq!(holder, agent);
                }
            }
            _ => {}
        }
    }

    /// D9 reads every worker's heartbeat key: a live key is a beat, sent
    /// TTL − remaining ago.
    async fn read_registry(&mut self, now: SimInstant) -> Result<(), LiveError> {
        let protocol = self.parts.core.config().protocol;
        self.next_registry_read = now + protocol.sweep_interval.max(SimDuration(1));
        let workers: Vec<usize> = (0..self.agent_ids.len())
            .filter(|&i| self.parts.core.config().agents[i].pool.is_some())
            .collect();
        let ids: Vec<String> = workers.iter().map(|&i| self.agent_ids[i].clone()).collect();
        let ttls = self.store.heartbeat_ttls(&ids).await?;
        for (&i, left) in workers.iter().zip(ttls) {
            let Some(left) = left else { continue };
            let age = SimDuration(
                protocol
                    .heartbeat_ttl
                    .0
                    .saturating_sub(self.clock.scaled(left).0),
            );
            let at = SimInstant(now.0.saturating_sub(age.as_nanos()));
            if self.fed_beat[i].is_some_and(|last| last >= at) {
                continue;
            }
            self.fed_beat[i] = Some(at);
            let agent = AgentIdx(i as u16);
            self.input(now, Input::Heartbeat { agent, at });
        }
        Ok(())
    }

    async fn start_crew(&mut self, agent: AgentIdx) -> Result<(), LiveError> {
        let i = agent.0 as usize;
        let Some(_) = self.parts.core.config().agents[i].pool else {
            return Ok(());
        };
        let spec = WorkerSpec {
            agent,
            id: self.agent_ids[i].clone(),
            slots: self.parts.core.config().agents[i].slots,
            epoch: self.agent_faults[i].epoch,
            heartbeat_interval: self.parts.timing.heartbeat_interval,
            heartbeat_ttl: self.parts.core.config().protocol.heartbeat_ttl,
        };
        let ttl = self.clock.real(spec.heartbeat_ttl);
        self.store.beat(&spec.id, ttl).await?;
        let crew = crew::start_worker(spec, &self.store, self.clock, self.reports.clone()).await?;
        crew.beats_lost.store(
            self.agent_faults[i].heartbeat_losses > 0,
            std::sync::atomic::Ordering::Relaxed,
        );
        self.crews[i] = Some(crew);
        Ok(())
    }

    /// A fault starts or ends, for real: a crash aborts the agent's tasks
    /// (its key then expires in Redis), a heartbeat loss pauses its beats,
    /// slow and error faults change what is drawn, a queue outage refuses
    /// pushes in the core.
    async fn apply_fault(
        &mut self,
        now: SimInstant,
        index: usize,
        start: bool,
    ) -> Result<(), LiveError> {
        let fault = self.parts.faults[index].clone();
        match fault.kind {
            FaultKind::Crash => {
                for a in fault.agents {
                    self.crash(now, a, start).await?;
                }
            }
            FaultKind::HeartbeatLoss => {
                for a in fault.agents {
                    self.lose_heartbeats(now, a, start);
                }
            }
            FaultKind::Slow { factor } => {
                for a in fault.agents {
                    self.agent_faults[a.0 as usize].set_slow(index as u16, factor, start);
                }
            }
            FaultKind::Error { rate } => {
                for a in fault.agents {
                    self.agent_faults[a.0 as usize].set_error(index as u16, rate, start);
                }
            }
            FaultKind::QueueOutage => {
                for d in fault.domains {
                    if count_fault(&mut self.outages[d.0 as usize], start) == u32::from(start) {
                        self.input(
                            now,
                            Input::QueueOutage {
                                domain: d,
                                on: start,
                            },
                        );
                    }
                }
            }
            FaultKind::Partition { .. } => unreachable!("refused at start"),
        }
        Ok(())
    }

    /// Counts a crash or heartbeat loss of `agent` in or out; the count of
    /// its kind after.
    fn silence(&mut self, now: SimInstant, agent: AgentIdx, crash: bool, start: bool) -> u32 {
        let recorder = &mut self.parts.recorder;
        self.agent_faults[agent.0 as usize].count_silence((now, agent), crash, start, recorder)
    }

    async fn crash(
        &mut self,
        now: SimInstant,
        agent: AgentIdx,
        start: bool,
    ) -> Result<(), LiveError> {
        let active = self.silence(now, agent, true, start);
        if start && active == 1 {
            self.agent_faults[agent.0 as usize].epoch += 1;
            if let Some(crew) = self.crews[agent.0 as usize].take() {
                crew.abort();
            }
            let core = &self.parts.core;
            if let Some(domain) = core.config().agent_domain(agent) {
                let busy = core.agent_busy(agent);
                self.parts.recorder.advance_to(now, core);
                self.parts.recorder.on_agent_down(now, agent, domain, busy);
            }
            self.input(now, Input::AgentDown(agent));
            Ok(())
        } else if !start && active == 0 {
            self.input(now, Input::AgentUp(agent));
            self.start_crew(agent).await?;
            // A restarted worker registers with its first beat, which
            // start_crew has just written: D9 hears of it now.
            self.fed_beat[agent.0 as usize] = Some(now);
            self.input(now, Input::Heartbeat { agent, at: now });
            Ok(())
        } else {
            Ok(())
        }
    }

    fn lose_heartbeats(&mut self, now: SimInstant, agent: AgentIdx, start: bool) {
        self.silence(now, agent, false, start);
        let lost = self.agent_faults[agent.0 as usize].heartbeat_losses > 0;
        if let Some(crew) = &self.crews[agent.0 as usize] {
            crew.beats_lost
                .store(lost, std::sync::atomic::Ordering::Relaxed);
        }
    }

    /// Stops the org's tasks, lets late attempts settle, audits Redis and
    /// closes the measurements.
    async fn finish(mut self) -> Result<Finished, LiveError> {
        let settle_until = self.clock.real_elapsed() + SETTLE;
        while !self.works.is_empty() && self.clock.real_elapsed() < settle_until {
            let wait = tokio::time::sleep(Duration::from_millis(20));
            tokio::select! {
                Some(report) = self.inbox.recv() => self.on_report(report)?,
                _ = wait => {}
            }
        }
        let end = self
            .clock
            .now()
            .min(self.parts.hard_end)
            .max(self.parts.load_end);
        let real = self.clock.real_elapsed();
        for crew in self.crews.iter_mut().filter_map(Option::take) {
            crew.abort();
        }
        for c in &self.coordinators {
            c.abort();
        }
        // The last writes land before the audit: the writer ends once its
        // channel is closed and drained.
        let (closed, _) = unbounded_channel();
        drop(std::mem::replace(&mut self.writes, closed));
        let _ = (&mut self.writer).await;
        while let Ok(report) = self.inbox.try_recv() {
            if let Report::Failed(e) = report {
                return Err(e.into());
            }
        }
        let queues: Vec<String> = (self.domain_ids.iter())
            .chain(&self.agent_ids)
            .cloned()
            .collect();
        let audit = self.store.audit(&queues).await?;
        let output = super::close_live(self.parts, end, &audit, self.inputs);
        Ok(Finished {
            output,
            audit,
            inputs: self.inputs,
            real,
        })
    }
}

/// The org's members as the registry lists them.
fn registry(org: &Org) -> Vec<AgentInfo> {
    let mut out: Vec<AgentInfo> = (org.domains.iter())
        .map(|d| AgentInfo {
            id: d.id.clone(),
            kind: "domain".to_string(),
            domain: None,
            slots: 0,
        })
        .collect();
    out.extend(org.agents.iter().map(|a| AgentInfo {
        id: a.id.clone(),
        kind: a.kind.name().to_string(),
        domain: a.domain.map(|d| org.domains[d.0 as usize].id.clone()),
        slots: a.slots,
    }));
    out
}

/// Partitions cut links between processes that share one machine here:
/// there is no network to cut yet.
fn unsupported_faults(faults: &[Fault]) -> Result<(), LiveError> {
    match faults.iter().position(|f| matches!(f.kind, FaultKind::Partition { .. })) {
        Some(i) => Err(LiveError::Unsupported(format!(
            "fault[{i}] is a partition: `live` runs every process against one Redis and cannot cut links between them; remove the fault or run the scenario with `esa-sim run`"
        ))),
        None => Ok(()),
    }
}

/// The aggregated output of esa-org.md §5, as JSON.
fn aggregated_output(status: Status, workers: u16, failed_workers: u16) -> String {
    serde_json::json!({
        "status": status.name(),
        "workers_used": workers,
        "failed_workers": failed_workers,
        "files_created": [],
        "files_modified": [],
        "summary": "",
        "issues": [],
        "details": {},
    })
    .to_string()
}

/// The §5 message priority of a task priority.
fn priority_name(p: Priority) -> &'static str {
    match p {
        Priority::Critical | Priority::High => "high",
        Priority::Normal => "normal",
        Priority::Low => "low",
    }
}
