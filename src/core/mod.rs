//! The org's logic as a sans-IO state machine (DESIGN.md §1).
//!
//! The core owns routing (top orchestrator), planning and dispatch (domain
//! coordinators), worker-pool queues and slots, retries, and aggregation of
//! results. It is driven by [`Core::handle`] with the current time and an
//! [`Input`], and tells its driver what to do through [`Core::poll_action`].
//! It never reads a clock, samples randomness, sleeps, or does IO: message
//! latency, service times and failures are the driver's business, so the
//! same core can later run against a real Redis. It never iterates a hash
//! map; all state lives in `Vec`s and generational arenas.

pub mod aggregate;
mod balance;
pub mod queue;
pub mod routing;
pub mod slab;
pub mod types;

use std::collections::VecDeque;

use crate::time::{SimDuration, SimInstant};
use aggregate::{domain_status, Status, StatusCounts};
use queue::PriorityQueue;
use routing::{Route, Router};
use slab::{Key, Slab};
pub use types::{Level4Action, Priority};

/// Index of an agent in the org.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct AgentIdx(pub u16);
/// Index of a domain coordinator in the org.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct DomainIdx(pub u8);
/// Index of a worker pool (a worker role: one agent, or replicas sharing a queue).
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct PoolIdx(pub u16);
/// Index of a task template (a `[[load]]` task text and priority).
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct TaskIdx(pub u32);
/// A job's sequence number, in arrival order from 0.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct JobId(pub u64);
/// A live subtask (one domain's share of a job).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct SubKey(Key);
/// A live work item (one worker pool's share of a subtask).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct WorkKey(Key);
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
struct JobKey(Key);

/// Static description of the org the core runs, built from a scenario.
pub struct CoreConfig {
    pub hop_latency: SimDuration,
    /// Heartbeat period of every worker agent.
    pub heartbeat_interval: SimDuration,
    /// A registry entry expires this long after the last heartbeat.
    pub heartbeat_ttl: SimDuration,
    /// D9 Master Control's registry sweep period.
    pub sweep_interval: SimDuration,
    /// An active work item not finished by then is requeued.
    pub visibility_timeout: SimDuration,
    /// Orchestrator analyse/plan time, once per job.
    pub plan_time: SimDuration,
    /// Domain coordinator planning time per dispatch stage (every `after`
    /// stage of a subtask pays it once).
    pub dispatch_time: SimDuration,
    pub max_retries: u32,
    pub retry_backoff: SimDuration,
    pub queue_capacity: usize,
    pub fallback: DomainIdx,
    pub domains: Vec<DomainCfg>,
    pub pools: Vec<PoolCfg>,
    pub agents: Vec<AgentCfg>,
    pub tasks: Vec<TaskCfg>,
    pub router: Router,
    /// Which pools can take over which work: keywords plus skills.
    pub skill_router: Router,
    /// `None`: balancing switched off.
    pub balancing: Option<BalanceCfg>,
}

impl CoreConfig {
    /// The domain whose coordinator dispatches work to `agent`, if it is a worker.
    pub fn agent_domain(&self, agent: AgentIdx) -> Option<DomainIdx> {
        let pool = self.agents[agent.0 as usize].pool?;
        Some(self.pools[pool.0 as usize].domain)
    }
}

/// A domain coordinator's worker pools; the first is its default worker.
pub struct DomainCfg {
    pub pools: Vec<PoolIdx>,
    /// Local mask of the pools whose failure fails the domain result.
    pub critical: u64,
}

/// A worker role inside one domain.
pub struct PoolCfg {
    pub domain: DomainIdx,
    /// Position in its domain's `pools` (bit index of the domain-local masks).
    pub local: u8,
    pub members: Vec<AgentIdx>,
    /// Local pools that must succeed first when selected for the same subtask.
    pub after: u64,
    /// Local pools always selected together with this one.
    pub requires: u64,
    pub critical: bool,
    /// The division (Chief) it belongs to, for level-2 redistribution.
    pub division: u16,
}

/// The workload-balancing protocol's parameters (seed 001).
#[derive(Clone, Copy, Debug)]
pub struct BalanceCfg {
    /// How often load is checked.
    pub interval: SimDuration,
    /// Reaction delay of levels 1–4.
    pub delays: [SimDuration; 4],
    /// Queued work items one redistribution moves.
    pub moves: u32,
    pub level4: Level4Action,
}

/// A worker agent's capacity.
pub struct AgentCfg {
    pub slots: u32,
    pub pool: Option<PoolIdx>,
}

/// A task template the load generator draws from.
pub struct TaskCfg {
    pub text: String,
    pub priority: Priority,
}

/// A place messages travel between; the driver applies latency (and
/// partitions) per link.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Node {
    Orchestrator,
    Domain(DomainIdx),
    Pool(PoolIdx),
    Agent(AgentIdx),
}

/// A message between org members, delivered back through [`Input::Deliver`].
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Msg {
    /// Orchestrator → domain: plan and dispatch this subtask.
    Subtask(SubKey),
    /// Coordinator (or a retrying worker) → pool queue.
    Enqueue(WorkKey),
    /// Worker → coordinator: the work item's final outcome.
    WorkResult { work: WorkKey, ok: bool },
    /// Coordinator → orchestrator: the domain's result is ready.
    DomainResult(SubKey),
}

/// What the driver feeds the core.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Input {
    /// A job from a load stream arrives at the orchestrator.
    Arrival { task: TaskIdx },
    /// A message sent earlier has arrived.
    Deliver(Msg),
    /// An agent finished an attempt of a work item; `ok` is the outcome the
    /// driver drew; `token` is the one its [`Action::StartWork`] carried.
    WorkDone {
        agent: AgentIdx,
        work: WorkKey,
        token: u32,
        ok: bool,
    },
    /// The time [`Core::next_deadline`] asked for has come.
    Tick,
    /// The agent's process stopped: it stops pulling work and heartbeating,
    /// and what it was running is lost (the driver drops its completions).
    AgentDown(AgentIdx),
    /// The agent's process (re)started: it registers and pulls work again.
    AgentUp(AgentIdx),
    /// The agent's heartbeats are lost (`true`) or get through again.
    HeartbeatLoss { agent: AgentIdx, lost: bool },
    /// The domain's pending queues refuse pushes (`true`) or accept again
    /// (`false`: the pushes refused meanwhile are made now, in order).
    QueueOutage { domain: DomainIdx, on: bool },
}

/// Why a work item went back to its queue.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum RequeueReason {
    /// The registry declared its agent dead.
    AgentDead,
    /// It outlived the visibility timeout.
    Timeout,
    /// Its agent restarted before the registry noticed it was gone.
    Restarted,
}

/// What the core wants done, or reports as having happened.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Action {
    /// Deliver `msg` to `to` after `delay` (plus whatever the link adds).
    Send {
        delay: SimDuration,
        from: Node,
        to: Node,
        msg: Msg,
    },
    /// `agent` starts an attempt of `work`; the driver samples its service
    /// time and outcome and answers with [`Input::WorkDone`].
    StartWork {
        agent: AgentIdx,
        work: WorkKey,
        domain: DomainIdx,
        queued_at: SimInstant,
        /// The job's task template (its priority and load stream).
        task: TaskIdx,
        attempt: u32,
        token: u32,
        /// Set when this start re-dispatches work orphaned by `agent`'s loss.
        orphan_of: Option<AgentIdx>,
    },
    /// A failed attempt will be retried after a backoff.
    Retry {
        pool: PoolIdx,
        domain: DomainIdx,
        work: WorkKey,
    },
    /// A pool's queue was full; the attempt counts as failed.
    Rejected {
        pool: PoolIdx,
        domain: DomainIdx,
        work: WorkKey,
    },
    /// A push was refused by a queue outage; the sender holds the item and
    /// pushes it again when the outage ends (no attempt is used up). Each
    /// refused push is reported once.
    OutageRejected {
        pool: PoolIdx,
        domain: DomainIdx,
        work: WorkKey,
    },
    /// The registry declared `agent` dead (its heartbeat key expired).
    AgentDead { agent: AgentIdx },
    /// An active work item went back to the front of its queue.
    Requeued {
        pool: PoolIdx,
        domain: DomainIdx,
        agent: AgentIdx,
        reason: RequeueReason,
        work: WorkKey,
    },
    /// A result from a superseded attempt arrived and was discarded.
    LateResult { agent: AgentIdx, work: WorkKey },
    /// Workload balancing raised an escalation at `level` (1–4); `pool` is
    /// `None` for the CEO's level 4.
    Escalated { level: u8, pool: Option<PoolIdx> },
    /// A queued work item was moved to another pool (`across`: to another
    /// division, by #63; else by the Chief).
    Moved {
        from: PoolIdx,
        to: PoolIdx,
        across: bool,
        work: WorkKey,
    },
    /// The CEO shed a queued low-priority work item; it counts as failed.
    Shed {
        pool: PoolIdx,
        domain: DomainIdx,
        work: WorkKey,
    },
    /// The CEO added slots to an overloaded agent.
    SlotsAdded { agent: AgentIdx, slots: u32 },
    /// A work item was given up (retries exhausted or a predecessor failed);
    /// `sub` is its subtask.
    WorkFailed {
        pool: PoolIdx,
        domain: DomainIdx,
        sub: SubKey,
    },
    /// A domain coordinator published its result for one job.
    DomainResult {
        domain: DomainIdx,
        job: JobId,
        scheduled: SimInstant,
        status: Status,
    },
    /// The job's one final result.
    JobResult {
        job: JobId,
        /// The job's task template (its priority and load stream).
        task: TaskIdx,
        scheduled: SimInstant,
        status: Status,
        domains: u8,
        workers: u16,
        failed_workers: u16,
    },
}

struct Job {
    id: JobId,
    scheduled: SimInstant,
    task: TaskIdx,
    pending: u8,
    domains: u8,
    results: StatusCounts,
    workers: u16,
    failed_workers: u16,
}

struct Sub {
    job: JobKey,
    domain: DomainIdx,
    task: TaskIdx,
    priority: Priority,
    selected: u64,
    dispatched: u64,
    succeeded: u64,
    failed: u64,
    warned: bool,
    status: Option<Status>,
}

struct Work {
    sub: SubKey,
    /// The subtask's domain and this item's bit in its masks; they stay
    /// put when balancing moves the item to another pool.
    home: DomainIdx,
    bit: u8,
    /// The pool whose queue (or agent) holds it now.
    pool: PoolIdx,
    priority: Priority,
    /// The job's task template, reported with each start.
    task: TaskIdx,
    attempt: u32,
    /// Identifies the current attempt; a result with another token is late.
    token: u32,
    queued_at: SimInstant,
    running_on: Option<AgentIdx>,
    orphan_of: Option<AgentIdx>,
}

/// A worker agent as the org sees it: its process, and the registry's view.
struct AgentState {
    busy: u32,
    /// Work items whose `running_on` is this agent (kept for the
    /// invariant checks; `busy` can exceed it, see [`Core::check_agents`]).
    running: u32,
    /// Slots added by the CEO (balancing level 4).
    extra_slots: u32,
    /// The process runs (not crashed).
    up: bool,
    /// The registry holds a live heartbeat key for it.
    registered: bool,
    /// Its heartbeats are lost on the way (it may still be up and working).
    heartbeat_lost: bool,
    /// Heartbeats get through (up and not lost).
    beating: bool,
    /// Beats happen at `beat_origin + k * heartbeat_interval` while beating.
    beat_origin: SimInstant,
    /// The last beat that got through, once beating stopped.
    last_beat: SimInstant,
}

/// A domain's queue outage: while `on`, pushes wait in `parked`.
#[derive(Default)]
struct Outage {
    on: bool,
    parked: VecDeque<WorkKey>,
}

struct PoolState {
    queue: PriorityQueue<WorkKey>,
    /// Level-1 self-management: low-priority work waits while busy.
    deferring: bool,
    /// An escalation raised and not yet acted on: (level 1–3, when it acts).
    pending: Option<(u8, SimInstant)>,
}

/// What [`Core::work_info`] tells about a live work item.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct WorkInfo {
    pub job: JobId,
    /// Its subtask's domain (where it came from, even if moved).
    pub domain: DomainIdx,
    /// The pool that holds it now.
    pub pool: PoolIdx,
    pub attempt: u32,
}

/// Work faults have left with no way forward, at one moment. All zero
/// means the org has recovered from every fault so far. An item can count
/// in more than one field (an orphan queued on a pool with no live member).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Stranded {
    /// Work items requeued from a faulted agent and not started again.
    pub orphans_waiting: u64,
    /// Work items still held by an agent that is down (its loss not yet
    /// noticed, so not yet requeued).
    pub held_by_down_agents: u64,
    /// Work items queued on a pool none of whose members can take work
    /// (every one down or unregistered).
    pub queued_without_live_member: u64,
    /// Pushes parked by a queue outage that has not ended.
    pub parked_by_outage: u64,
}

impl Stranded {
    pub fn is_empty(&self) -> bool {
        *self == Stranded::default()
    }
}

/// A job without a result; see [`Core::unfinished`].
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Unfinished {
    pub job: JobId,
    /// Bit d: its subtask in domain d has no result yet.
    pub domains: u64,
    /// An active fault holds one of its work items.
    pub blocked: bool,
}

/// The org's state machine.
pub struct Core {
    cfg: CoreConfig,
    jobs: Slab<Job>,
    subs: Slab<Sub>,
    works: Slab<Work>,
    agents: Vec<AgentState>,
    pools: Vec<PoolState>,
    actions: VecDeque<Action>,
    next_job: u64,
    jobs_in_flight: u64,
    /// (deadline, work, token) of started attempts, in deadline order
    /// (the timeout is constant, so start order is deadline order).
    visibility: VecDeque<(SimInstant, WorkKey, u32)>,
    /// Per domain: whether its queues refuse pushes, and the refused pushes
    /// waiting (in order) for the outage to end.
    outage: Vec<Outage>,
    /// The first sweep that will find an expired heartbeat key; `None`
    /// while every registered agent is beating. Recomputed only when an
    /// agent stops or starts beating, never per event.
    sweep_due: Option<SimInstant>,
    balance: balance::BalanceState,
    /// Inconsistencies met while handling inputs (a message for an item
    /// that does not exist, a completion on an idle agent): each is a bug,
    /// recorded in every build and reported by [`Core::check_cheap`].
    broken: Vec<&'static str>,
}

impl Core {
    pub fn new(cfg: CoreConfig) -> Core {
        let agents = cfg
            .agents
            .iter()
            .map(|_| AgentState {
                busy: 0,
                running: 0,
                extra_slots: 0,
                up: true,
                registered: true,
                heartbeat_lost: false,
                beating: true,
                beat_origin: SimInstant::ZERO,
                last_beat: SimInstant::ZERO,
            })
            .collect();
        let outage = cfg.domains.iter().map(|_| Outage::default()).collect();
        let pools = cfg
            .pools
            .iter()
            .map(|_| PoolState {
                queue: PriorityQueue::new(cfg.queue_capacity),
                deferring: false,
                pending: None,
            })
            .collect();
        let mut core = Core {
            cfg,
            jobs: Slab::default(),
            subs: Slab::default(),
            works: Slab::default(),
            agents,
            pools,
            actions: VecDeque::with_capacity(64),
            next_job: 0,
            jobs_in_flight: 0,
            visibility: VecDeque::new(),
            outage,
            sweep_due: None,
            balance: balance::BalanceState::default(),
            broken: Vec::new(),
        };
        core.start_balancing();
        core
    }

    pub fn config(&self) -> &CoreConfig {
        &self.cfg
    }

    /// Feeds one input at time `now`.
    pub fn handle(&mut self, now: SimInstant, input: Input) {
        match input {
            Input::Arrival { task } => self.on_arrival(now, task),
            Input::Deliver(msg) => self.on_message(now, msg),
            Input::WorkDone {
                agent,
                work,
                token,
                ok,
            } => self.on_work_done(now, agent, work, token, ok),
            Input::Tick => self.on_tick(now),
            Input::AgentDown(agent) => self.on_agent_down(now, agent),
            Input::AgentUp(agent) => self.on_agent_up(now, agent),
            Input::HeartbeatLoss { agent, lost } => self.on_heartbeat_loss(now, agent, lost),
            Input::QueueOutage { domain, on } => self.on_queue_outage(now, domain, on),
        }
    }

    /// The next thing the driver must do, in the order the core decided it.
    #[inline]
    pub fn poll_action(&mut self) -> Option<Action> {
        self.actions.pop_front()
    }

    /// When the core next needs [`Core::handle`] called without an input;
    /// `None` while it has no timers.
    pub fn next_deadline(&self) -> Option<SimInstant> {
        let visibility = self.visibility.front().map(|(t, _, _)| *t);
        [visibility, self.sweep_due, self.balance.due]
            .into_iter()
            .flatten()
            .min()
    }

    /// The first sweep that will find an expired heartbeat key.
    fn next_sweep(&self) -> Option<SimInstant> {
        self.agents
            .iter()
            .filter(|a| a.registered && !a.beating)
            .map(|a| self.sweep_after(a.last_beat + self.cfg.heartbeat_ttl))
            .min()
    }

    /// The first sweep time (multiples of the sweep interval) at or after `t`.
    fn sweep_after(&self, t: SimInstant) -> SimInstant {
        let every = self.cfg.sweep_interval.as_nanos().max(1);
        SimInstant(t.0.div_ceil(every).saturating_mul(every))
    }

    /// Whether the registry currently lists `agent` as alive.
    pub fn agent_registered(&self, agent: AgentIdx) -> bool {
        self.agents[agent.0 as usize].registered
    }

    /// Jobs that have arrived and have no final result yet.
    pub fn jobs_in_flight(&self) -> u64 {
        self.jobs_in_flight
    }

    /// Jobs that have arrived so far.
    pub fn jobs_arrived(&self) -> u64 {
        self.next_job
    }

    /// Work items waiting in the pools of `domain`.
    pub fn queued_in_domain(&self, domain: DomainIdx) -> usize {
        self.cfg.domains[domain.0 as usize]
            .pools
            .iter()
            .map(|p| self.pools[p.0 as usize].queue.len())
            .sum()
    }

    /// Work items waiting in `pool`, and the most it has held.
    pub fn pool_queue(&self, pool: PoolIdx) -> (usize, usize) {
        let q = &self.pools[pool.0 as usize].queue;
        (q.len(), q.max_len())
    }

    /// Slots in use on `agent`.
    pub fn agent_busy(&self, agent: AgentIdx) -> u32 {
        self.agents[agent.0 as usize].busy
    }

    /// The job and domain of a live subtask (read-only, for traces).
    pub fn sub_info(&self, sub: SubKey) -> Option<(JobId, DomainIdx)> {
        let s = self.subs.get(sub.0)?;
        Some((self.jobs.get(s.job.0)?.id, s.domain))
    }

    /// A live work item's job, subtask domain and attempt (read-only, for
    /// traces); `None` once its result has been taken.
    pub fn work_info(&self, work: WorkKey) -> Option<WorkInfo> {
        let w = self.works.get(work.0)?;
        let (job, domain) = self.sub_info(w.sub)?;
        Some(WorkInfo {
            job,
            domain,
            pool: w.pool,
            attempt: w.attempt,
        })
    }

    /// The work faults have stranded now (see [`Stranded`]); read-only.
    /// `faulted` says which agents had a fault: an item requeued from any
    /// other agent (a plain visibility timeout) is not a fault's orphan.
    pub fn stranded(&self, faulted: impl Fn(AgentIdx) -> bool) -> Stranded {
        let mut out = Stranded::default();
        for (_, w) in self.works.iter() {
            match (w.running_on, w.orphan_of) {
                (Some(a), _) if !self.agents[a.0 as usize].up => out.held_by_down_agents += 1,
                (None, Some(from)) if faulted(from) => out.orphans_waiting += 1,
                (Some(_), _) | (None, _) => {}
            }
        }
        for (cfg, state) in self.cfg.pools.iter().zip(&self.pools) {
            let live = cfg.members.iter().any(|m| {
                let a = &self.agents[m.0 as usize];
                a.up && a.registered
            });
            if !live {
                out.queued_without_live_member += state.queue.len() as u64;
            }
        }
        out.parked_by_outage = self.outage.iter().map(|o| o.parked.len() as u64).sum();
        out
    }

    /// Every job without a result, in job order: the domains of its
    /// subtasks still open, and whether a fault that is still active
    /// blocks it (an item held by a down agent, queued on a pool with no
    /// live member, or parked by a queue outage). Read-only; for the
    /// liveness check at the end of a run.
    pub fn unfinished(&self) -> Vec<Unfinished> {
        let mut out: Vec<Unfinished> = Vec::with_capacity(self.jobs.len());
        let mut at = std::collections::BTreeMap::new();
        for (key, job) in self.jobs.iter() {
            at.insert(key.index, out.len());
            out.push(Unfinished {
                job: job.id,
                domains: 0,
                blocked: false,
            });
        }
        for (_, sub) in self.subs.iter() {
            if let Some(&i) = at.get(&sub.job.0.index) {
                out[i].domains |= 1 << sub.domain.0;
            }
        }
        for (_, w) in self.works.iter() {
            let job = self.subs.get(w.sub.0).map(|s| s.job.0.index);
            if let Some(&i) = job.and_then(|j| at.get(&j)) {
                out[i].blocked |= self.blocked(w);
            }
        }
        out.sort_by_key(|u| u.job);
        out
    }

    /// Whether an active fault holds work item `w` where it is.
    fn blocked(&self, w: &Work) -> bool {
        if let Some(a) = w.running_on {
            return !self.agents[a.0 as usize].up;
        }
        let pool = &self.cfg.pools[w.pool.0 as usize];
        let live = pool.members.iter().any(|m| {
            let a = &self.agents[m.0 as usize];
            a.up && a.registered
        });
        !live || self.outage[pool.domain.0 as usize].on
    }

    /// Routes a text as the orchestrator would (for `org route` and tests).
    pub fn route(&self, text: &str) -> Route {
        self.cfg.router.route(text)
    }

    // ---- orchestrator -------------------------------------------------

    fn on_arrival(&mut self, now: SimInstant, task: TaskIdx) {
        let tcfg = &self.cfg.tasks[task.0 as usize];
        let priority = tcfg.priority;
        let route = self.cfg.router.route(&tcfg.text);
        let domains = if route.domains == 0 {
            1u64 << self.cfg.fallback.0
        } else {
            route.domains
        };
        let id = JobId(self.next_job);
        self.next_job += 1;
        self.jobs_in_flight += 1;
        let job = JobKey(self.jobs.insert(Job {
            id,
            scheduled: now,
            task,
            pending: domains.count_ones() as u8,
            domains: domains.count_ones() as u8,
            results: StatusCounts::default(),
            workers: 0,
            failed_workers: 0,
        }));
        let delay = self.cfg.plan_time + self.cfg.hop_latency;
        let mut bits = domains;
        while bits != 0 {
            let d = DomainIdx(bits.trailing_zeros() as u8);
            bits &= bits - 1;
            let selected = select_pools(&self.cfg, d, &route);
            let sub = SubKey(self.subs.insert(Sub {
                job,
                domain: d,
                task,
                priority,
                selected,
                dispatched: 0,
                succeeded: 0,
                failed: 0,
                warned: false,
                status: None,
            }));
            if let Some(j) = self.jobs.get_mut(job.0) {
                j.workers += selected.count_ones() as u16;
            }
            self.send(
                delay,
                Node::Orchestrator,
                Node::Domain(d),
                Msg::Subtask(sub),
            );
        }
    }

    fn on_domain_result(&mut self, sub_key: SubKey) {
        let Some(sub) = self.subs.remove(sub_key.0) else {
            self.broken("domain result for unknown subtask");
            return;
        };
        let status = sub.status.expect("domain result sent before aggregation");
        let Some(job) = self.jobs.get_mut(sub.job.0) else {
            self.broken("domain result for unknown job");
            return;
        };
        job.results.add(status);
        job.failed_workers += sub.failed.count_ones() as u16;
        job.pending -= 1;
        self.actions.push_back(Action::DomainResult {
            domain: sub.domain,
            job: job.id,
            scheduled: job.scheduled,
            status,
        });
        if job.pending == 0 {
            let job = self.jobs.remove(sub.job.0).expect("job present");
            self.jobs_in_flight -= 1;
            self.actions.push_back(Action::JobResult {
                job: job.id,
                task: job.task,
                scheduled: job.scheduled,
                status: job.results.merge(),
                domains: job.domains,
                workers: job.workers,
                failed_workers: job.failed_workers,
            });
        }
    }

    // ---- domain coordinator --------------------------------------------

    fn on_message(&mut self, now: SimInstant, msg: Msg) {
        match msg {
            Msg::Subtask(sub) => self.dispatch_ready(now, sub),
            Msg::Enqueue(work) => self.enqueue(now, work),
            Msg::WorkResult { work, ok } => self.on_work_result(now, work, ok),
            Msg::DomainResult(sub) => self.on_domain_result(sub),
        }
    }

    /// Dispatches every selected pool whose predecessors have succeeded;
    /// gives up on those whose predecessor failed; publishes the domain
    /// result once nothing is left.
    fn dispatch_ready(&mut self, now: SimInstant, sub_key: SubKey) {
        let Some(sub) = self.subs.get(sub_key.0) else {
            self.broken("dispatch for unknown subtask");
            return;
        };
        let domain = sub.domain;
        let priority = sub.priority;
        let task = sub.task;
        let (ready, skipped) = self.plan(sub);
        let pools = &self.cfg.domains[domain.0 as usize].pools;
        let delay = self.cfg.dispatch_time + self.cfg.hop_latency;
        for local in bit_indices(ready) {
            let pool = pools[local];
            let work = WorkKey(self.works.insert(Work {
                sub: sub_key,
                home: domain,
                bit: local as u8,
                pool,
                priority,
                task,
                attempt: 0,
                token: 0,
                queued_at: now,
                running_on: None,
                orphan_of: None,
            }));
            self.actions.push_back(Action::Send {
                delay,
                from: Node::Domain(domain),
                to: Node::Pool(pool),
                msg: Msg::Enqueue(work),
            });
        }
        for local in bit_indices(skipped) {
            self.actions.push_back(Action::WorkFailed {
                pool: pools[local],
                domain,
                sub: sub_key,
            });
        }
        let sub = self.subs.get_mut(sub_key.0).expect("subtask present");
        sub.dispatched |= ready | skipped;
        sub.failed |= skipped;
        if sub.succeeded | sub.failed == sub.selected {
            self.publish_domain_result(sub_key);
        }
    }

    /// (ready to dispatch, never runnable) local pool masks of a subtask.
    fn plan(&self, sub: &Sub) -> (u64, u64) {
        let pools = &self.cfg.domains[sub.domain.0 as usize].pools;
        let mut ready = 0;
        let mut skipped = 0;
        let mut failed = sub.failed;
        // Skipping can cascade along `after` chains; each pass settles at
        // least one pool, so this loop runs at most 64 times.
        loop {
            let mut changed = false;
            for local in bit_indices(sub.selected & !sub.dispatched & !skipped & !ready) {
                let after = self.cfg.pools[pools[local].0 as usize].after & sub.selected;
                if after & failed != 0 {
                    skipped |= 1 << local;
                    failed |= 1 << local;
                    changed = true;
                } else if after & !sub.succeeded == 0 {
                    ready |= 1 << local;
                }
            }
            if !changed {
                return (ready, skipped);
            }
        }
    }

    fn publish_domain_result(&mut self, sub_key: SubKey) {
        let sub = self.subs.get_mut(sub_key.0).expect("subtask present");
        let critical = self.cfg.domains[sub.domain.0 as usize].critical;
        sub.status = Some(domain_status(
            sub.selected,
            sub.failed,
            critical,
            sub.warned,
        ));
        let domain = sub.domain;
        self.send(
            self.cfg.hop_latency,
            Node::Domain(domain),
            Node::Orchestrator,
            Msg::DomainResult(sub_key),
        );
    }

    fn on_work_result(&mut self, now: SimInstant, work_key: WorkKey, ok: bool) {
        let Some(work) = self.works.remove(work_key.0) else {
            self.broken("result for unknown work item");
            return;
        };
        if let Some(a) = work.running_on {
            self.broken("result for a work item still running");
            self.agents[a.0 as usize].running -= 1;
        }
        let local = work.bit;
        let Some(sub) = self.subs.get_mut(work.sub.0) else {
            self.broken("work result for unknown subtask");
            return;
        };
        if ok {
            sub.succeeded |= 1 << local;
            sub.warned |= work.attempt > 0;
        } else {
            sub.failed |= 1 << local;
        }
        self.dispatch_ready(now, work.sub);
    }

    // ---- registry, heartbeats and requeue (D9 Master Control) ----------

    /// The last beat that got through before `now` for an agent beating
    /// since `origin`.
    fn last_beat_before(&self, origin: SimInstant, now: SimInstant) -> SimInstant {
        let every = self.cfg.heartbeat_interval.as_nanos().max(1);
        let beats = (now.0 - origin.0.min(now.0)) / every;
        SimInstant(origin.0 + beats * every)
    }

    fn stop_beating(&mut self, now: SimInstant, agent: AgentIdx) {
        let a = &self.agents[agent.0 as usize];
        if !a.beating {
            return;
        }
        let last = self.last_beat_before(a.beat_origin, now);
        let a = &mut self.agents[agent.0 as usize];
        a.beating = false;
        a.last_beat = last;
        if a.registered {
            let due = self.sweep_after(last + self.cfg.heartbeat_ttl);
            self.sweep_due = Some(self.sweep_due.map_or(due, |d| d.min(due)));
        }
    }

    /// Starts beating now; the first beat (re)registers the agent.
    fn start_beating(&mut self, now: SimInstant, agent: AgentIdx) {
        let a = &mut self.agents[agent.0 as usize];
        if a.beating || !a.up || a.heartbeat_lost {
            return;
        }
        let was_silent = a.registered;
        a.beating = true;
        a.registered = true;
        a.beat_origin = now;
        if was_silent {
            self.sweep_due = self.next_sweep();
        }
        if let Some(pool) = self.cfg.agents[agent.0 as usize].pool {
            self.try_start(now, pool);
        }
    }

    fn on_agent_down(&mut self, now: SimInstant, agent: AgentIdx) {
        self.stop_beating(now, agent);
        let a = &mut self.agents[agent.0 as usize];
        a.up = false;
        a.busy = 0;
    }

    fn on_agent_up(&mut self, now: SimInstant, agent: AgentIdx) {
        let a = &mut self.agents[agent.0 as usize];
        if a.up {
            return;
        }
        a.up = true;
        // Work it held when it went down was lost with the process; if the
        // registry has not noticed yet, the restarted worker hands it back.
        self.requeue_all_on(now, agent, RequeueReason::Restarted);
        self.start_beating(now, agent);
    }

    /// Heartbeats stop getting through (`lost`) or get through again; a
    /// process that is down stays silent either way.
    fn on_heartbeat_loss(&mut self, now: SimInstant, agent: AgentIdx, lost: bool) {
        self.agents[agent.0 as usize].heartbeat_lost = lost;
        if lost {
            self.stop_beating(now, agent);
        } else {
            self.start_beating(now, agent);
        }
    }

    fn on_tick(&mut self, now: SimInstant) {
        self.expire_visibility(now);
        if self.balance.due.is_some_and(|due| due <= now) {
            self.on_balance_timer(now);
        }
        if self.sweep_due.is_some_and(|due| due <= now) {
            self.sweep(now);
        }
    }

    /// Requeues every attempt that has outlived the visibility timeout.
    fn expire_visibility(&mut self, now: SimInstant) {
        while let Some(&(deadline, work_key, token)) = self.visibility.front() {
            let live = self.works.get(work_key.0).filter(|w| w.token == token);
            let running = live.and_then(|w| w.running_on);
            if running.is_none() {
                self.visibility.pop_front();
                continue;
            }
            if deadline > now {
                return;
            }
            self.visibility.pop_front();
            if let Some(agent) = running {
                self.requeue(now, work_key, agent, RequeueReason::Timeout);
            }
        }
    }

    /// D9's sweep: every agent whose heartbeat key has expired is declared
    /// dead, and its active work goes back to the front of its queue.
    fn sweep(&mut self, now: SimInstant) {
        let ttl = self.cfg.heartbeat_ttl;
        for i in 0..self.agents.len() {
            let a = &self.agents[i];
            if !(a.registered && !a.beating && a.last_beat + ttl <= now) {
                continue;
            }
            self.agents[i].registered = false;
            let agent = AgentIdx(i as u16);
            self.actions.push_back(Action::AgentDead { agent });
            self.requeue_all_on(now, agent, RequeueReason::AgentDead);
        }
        self.sweep_due = self.next_sweep();
    }

    fn requeue_all_on(&mut self, now: SimInstant, agent: AgentIdx, reason: RequeueReason) {
        let orphans: Vec<WorkKey> = self
            .works
            .iter()
            .filter(|(_, w)| w.running_on == Some(agent))
            .map(|(k, _)| WorkKey(k))
            .collect();
        for work in orphans {
            self.requeue(now, work, agent, reason);
        }
    }

    /// Puts an active work item back at the front of its queue (keeping its
    /// priority); the running attempt's result, if it ever comes, is late.
    fn requeue(
        &mut self,
        now: SimInstant,
        work_key: WorkKey,
        agent: AgentIdx,
        reason: RequeueReason,
    ) {
        let work = self
            .works
            .get_mut(work_key.0)
            .expect("requeue of a live work item");
        if let Some(a) = work.running_on.take() {
            self.agents[a.0 as usize].running -= 1;
        }
        work.token = work.token.wrapping_add(1);
        work.orphan_of = Some(agent);
        work.queued_at = now;
        let (pool, priority) = (work.pool, work.priority);
        let domain = self.cfg.pools[pool.0 as usize].domain;
        self.actions.push_back(Action::Requeued {
            pool,
            domain,
            agent,
            reason,
            work: work_key,
        });
        self.pools[pool.0 as usize]
            .queue
            .push_front(priority, work_key);
        self.try_start(now, pool);
    }

    // ---- queue outages ---------------------------------------------------

    /// Switches a domain's outage; when it ends, every push it refused is
    /// made again, in the order it was refused.
    fn on_queue_outage(&mut self, now: SimInstant, domain: DomainIdx, on: bool) {
        let outage = &mut self.outage[domain.0 as usize];
        outage.on = on;
        if on {
            return;
        }
        let parked = std::mem::take(&mut outage.parked);
        for work_key in parked {
            self.enqueue(now, work_key);
        }
    }

    // ---- worker pools --------------------------------------------------

    fn enqueue(&mut self, now: SimInstant, work_key: WorkKey) {
        let Some(work) = self.works.get_mut(work_key.0) else {
            self.broken("enqueue of unknown work item");
            return;
        };
        work.queued_at = now;
        let (pool, priority) = (work.pool, work.priority);
        let pcfg = &self.cfg.pools[pool.0 as usize];
        let outage = &mut self.outage[pcfg.domain.0 as usize];
        if outage.on {
            let domain = pcfg.domain;
            outage.parked.push_back(work_key);
            self.actions.push_back(Action::OutageRejected {
                pool,
                domain,
                work: work_key,
            });
            return;
        }
        if self.pools[pool.0 as usize]
            .queue
            .push_back(priority, work_key)
            .is_err()
        {
            let domain = pcfg.domain;
            self.actions.push_back(Action::Rejected {
                pool,
                domain,
                work: work_key,
            });
            self.attempt_failed(pool, work_key);
            return;
        }
        self.try_start(now, pool);
    }

    /// Starts queued work on free slots of the pool's members, most urgent
    /// first, on the least busy member (ties: lowest index).
    fn try_start(&mut self, now: SimInstant, pool: PoolIdx) {
        let domain = self.cfg.pools[pool.0 as usize].domain;
        while !self.pools[pool.0 as usize].queue.is_empty() {
            let members = &self.cfg.pools[pool.0 as usize].members;
            let Some(agent) = least_busy(members, &self.agents, &self.cfg.agents) else {
                return;
            };
            let Some(work_key) = self.pop_startable(pool) else {
                return;
            };
            let work = self.works.get_mut(work_key.0).expect("queued work is live");
            work.running_on = Some(agent);
            work.token = work.token.wrapping_add(1);
            let orphan_of = work.orphan_of.take();
            self.agents[agent.0 as usize].busy += 1;
            self.agents[agent.0 as usize].running += 1;
            self.visibility
                .push_back((now + self.cfg.visibility_timeout, work_key, work.token));
            self.actions.push_back(Action::StartWork {
                agent,
                work: work_key,
                domain,
                queued_at: work.queued_at,
                task: work.task,
                attempt: work.attempt,
                token: work.token,
                orphan_of,
            });
        }
    }

    fn on_work_done(
        &mut self,
        now: SimInstant,
        agent: AgentIdx,
        work_key: WorkKey,
        token: u32,
        ok: bool,
    ) {
        if self.agents[agent.0 as usize].busy == 0 {
            self.broken("work done on an idle agent");
        }
        let a = &mut self.agents[agent.0 as usize];
        a.busy = a.busy.saturating_sub(1);
        let pool = self.cfg.agents[agent.0 as usize].pool;
        let current = self
            .works
            .get(work_key.0)
            .is_some_and(|w| w.token == token && w.running_on == Some(agent));
        if !current {
            self.actions.push_back(Action::LateResult {
                agent,
                work: work_key,
            });
        } else if let Some(work) = self.works.get_mut(work_key.0) {
            work.running_on = None;
            self.agents[agent.0 as usize].running -= 1;
            let (pool, home) = (work.pool, work.home);
            if ok {
                self.send(
                    self.cfg.hop_latency,
                    Node::Agent(agent),
                    Node::Domain(home),
                    Msg::WorkResult { work: work_key, ok },
                );
            } else {
                self.attempt_failed(pool, work_key);
            }
        }
        if let Some(pool) = pool {
            self.try_start(now, pool);
        }
    }

    /// A failed attempt: retry after an exponential backoff while retries
    /// remain, else report the work item failed to its coordinator.
    fn attempt_failed(&mut self, pool: PoolIdx, work_key: WorkKey) {
        let work = self.works.get_mut(work_key.0).expect("live work item");
        let domain = self.cfg.pools[pool.0 as usize].domain;
        let (home, sub) = (work.home, work.sub);
        if work.attempt < self.cfg.max_retries {
            let backoff = self
                .cfg
                .retry_backoff
                .saturating_mul(1 << work.attempt.min(6));
            work.attempt += 1;
            self.actions.push_back(Action::Retry {
                pool,
                domain,
                work: work_key,
            });
            self.send(
                backoff + self.cfg.hop_latency,
                Node::Pool(pool),
                Node::Pool(pool),
                Msg::Enqueue(work_key),
            );
        } else {
            self.actions
                .push_back(Action::WorkFailed { pool, domain, sub });
            self.send(
                self.cfg.hop_latency,
                Node::Pool(pool),
                Node::Domain(home),
                Msg::WorkResult {
                    work: work_key,
                    ok: false,
                },
            );
        }
    }

    #[inline]
    fn send(&mut self, delay: SimDuration, from: Node, to: Node, msg: Msg) {
        self.actions.push_back(Action::Send {
            delay,
            from,
            to,
            msg,
        });
    }

    /// Records an inconsistency met while handling an input (see `broken`).
    #[cold]
    fn broken(&mut self, what: &'static str) {
        if self.broken.len() < 16 {
            self.broken.push(what);
        }
    }

    /// The constant-time checks, cheap enough for every event of every
    /// run: the in-flight count matches the live jobs, and nothing
    /// inconsistent was met while handling inputs.
    #[inline]
    pub fn check_cheap(&self) -> Result<(), String> {
        if self.jobs.len() as u64 != self.jobs_in_flight {
            return Err(format!(
                "{} live jobs but {} counted in flight",
                self.jobs.len(),
                self.jobs_in_flight
            ));
        }
        match self.broken.first() {
            Some(first) => Err(format!("{first} (and {} more)", self.broken.len() - 1)),
            None => Ok(()),
        }
    }

    /// The checks whose cost is the org's size (agents, domains), not the
    /// live work: cheap enough for every event of `explore`.
    pub fn check_invariants(&self) -> Result<(), String> {
        self.check_cheap()?;
        self.check_agents()?;
        self.check_outages()
    }

    /// Everything [`Core::check_invariants`] checks, plus a sweep over the
    /// live state (time linear in it): every work item belongs to a live
    /// subtask of a live job, the per-agent running counts match the
    /// items, and every queued or parked key is a live item not running.
    pub fn check_all(&self) -> Result<(), String> {
        self.check_invariants()?;
        self.check_works()?;
        self.check_waiting()
    }

    /// One pass over the work items: each belongs to a live subtask of a
    /// live job, and the items running on each agent are its count.
    fn check_works(&self) -> Result<(), String> {
        let mut running = vec![0u32; self.agents.len()];
        for (k, w) in self.works.iter() {
            let sub = (self.subs.get(w.sub.0))
                .ok_or_else(|| format!("work item {k:?} belongs to no live subtask"))?;
            if self.jobs.get(sub.job.0).is_none() {
                return Err(format!("work item {k:?}'s subtask belongs to no live job"));
            }
            if let Some(a) = w.running_on {
                running[a.0 as usize] += 1;
            }
        }
        for (i, (a, n)) in self.agents.iter().zip(running).enumerate() {
            if a.running != n {
                return Err(format!(
                    "agent #{i} counts {} items running on it but {n} are",
                    a.running
                ));
            }
        }
        Ok(())
    }

    /// Every queued or parked key is a live item that is not running.
    fn check_waiting(&self) -> Result<(), String> {
        let idle = |k: &WorkKey| self.works.get(k.0).is_some_and(|w| w.running_on.is_none());
        for (p, pool) in self.pools.iter().enumerate() {
            if let Some(k) = pool.queue.iter().find(|k| !idle(k)) {
                return Err(format!("pool #{p} queues {k:?}, gone or running"));
            }
        }
        for outage in &self.outage {
            if let Some(k) = outage.parked.iter().find(|k| !idle(k)) {
                return Err(format!("parked work item {k:?} is gone or running"));
            }
        }
        Ok(())
    }

    /// Only a domain in an outage holds parked pushes.
    fn check_outages(&self) -> Result<(), String> {
        match (self.outage.iter()).position(|o| !o.on && !o.parked.is_empty()) {
            Some(d) => Err(format!("domain #{d} holds parked pushes with no outage")),
            None => Ok(()),
        }
    }

    /// No agent is busier than its slots; nothing runs on an agent the
    /// registry declared dead; a running agent's busy slots cover the
    /// items running on it (a slot stays busy after its item was requeued
    /// — a timeout, or a registry that declared a live agent dead — until
    /// the attempt finishes).
    fn check_agents(&self) -> Result<(), String> {
        for (i, a) in self.agents.iter().enumerate() {
            let slots = self.cfg.agents[i].slots + a.extra_slots;
            if a.busy > slots {
                return Err(format!("agent #{i} runs {} items on {slots} slots", a.busy));
            }
            if a.running > 0 && !a.registered {
                return Err(format!(
                    "{} work item(s) still active on agent #{i} after the registry declared it dead",
                    a.running
                ));
            }
            if a.up && a.busy < a.running {
                return Err(format!(
                    "agent #{i} counts {} busy slots but runs {} items",
                    a.busy, a.running
                ));
            }
        }
        Ok(())
    }
}

/// The domain-local pools a routed text selects in domain `d`: the ones
/// whose keywords matched (default pool if none), closed under `requires`.
pub fn select_pools(cfg: &CoreConfig, d: DomainIdx, route: &Route) -> u64 {
    let dcfg = &cfg.domains[d.0 as usize];
    let mut selected = 0u64;
    for (local, p) in dcfg.pools.iter().enumerate() {
        if route.pools.contains(*p) {
            selected |= 1 << local;
        }
    }
    if selected == 0 {
        selected = 1;
    }
    loop {
        let mut grown = selected;
        let mut bits = selected;
        while bits != 0 {
            let local = bits.trailing_zeros() as usize;
            bits &= bits - 1;
            grown |= cfg.pools[dcfg.pools[local].0 as usize].requires;
        }
        if grown == selected {
            return selected;
        }
        selected = grown;
    }
}

/// The member with a free slot and the lowest busy/slots ratio.
#[inline]
fn least_busy(members: &[AgentIdx], state: &[AgentState], cfg: &[AgentCfg]) -> Option<AgentIdx> {
    if let [only] = members {
        let i = only.0 as usize;
        let a = &state[i];
        return (a.busy < cfg[i].slots + a.extra_slots && a.up && a.registered).then_some(*only);
    }
    let mut best: Option<(u64, u64, AgentIdx)> = None;
    for &m in members {
        let a = &state[m.0 as usize];
        let (busy, slots) = (
            a.busy as u64,
            (cfg[m.0 as usize].slots + a.extra_slots) as u64,
        );
        if busy >= slots || !a.up || !a.registered {
            continue;
        }
        let better = match best {
            None => true,
            Some((b, s, _)) => busy * s < b * slots,
        };
        if better {
            best = Some((busy, slots, m));
        }
    }
    best.map(|(_, _, m)| m)
}

/// Indices of the set bits of `mask`, ascending.
#[inline]
fn bit_indices(mut mask: u64) -> impl Iterator<Item = usize> {
    std::iter::from_fn(move || {
        if mask == 0 {
            return None;
        }
        let i = mask.trailing_zeros() as usize;
        mask &= mask - 1;
        Some(i)
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The core of scenarios/mmc.toml: one pool `server` in domain `Q`.
    fn mmc_core() -> Core {
        let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("scenarios/mmc.toml");
        let (scenario, org) = crate::org::Org::load(&path, &[]).unwrap();
        Core::new(org.core_config(&scenario).unwrap())
    }

    fn first_worker(core: &Core) -> AgentIdx {
        let i = core.cfg.agents.iter().position(|a| a.pool.is_some());
        AgentIdx(i.expect("mmc has a worker") as u16)
    }

    #[test]
    fn inputs_about_things_that_do_not_exist_break_the_cheap_invariants() {
        let mut core = mmc_core();
        core.check_all().unwrap();
        let ghost = WorkKey(Key { index: 5, gen: 0 });
        let t = SimInstant(1);
        core.handle(
            t,
            Input::Deliver(Msg::WorkResult {
                work: ghost,
                ok: true,
            }),
        );
        let err = core.check_cheap().unwrap_err();
        assert!(err.contains("result for unknown work item"), "{err}");
        assert!(core.check_invariants().is_err());
    }

    #[test]
    fn a_completion_on_an_idle_agent_is_caught() {
        let mut core = mmc_core();
        let agent = first_worker(&core);
        let work = WorkKey(Key { index: 0, gen: 0 });
        let done = Input::WorkDone {
            agent,
            work,
            token: 0,
            ok: true,
        };
        core.handle(SimInstant(1), done);
        let err = core.check_cheap().unwrap_err();
        assert!(err.contains("work done on an idle agent"), "{err}");
    }

    #[test]
    fn jobs_are_unfinished_until_their_result_and_blocked_only_by_a_fault() {
        let mut core = mmc_core();
        core.handle(SimInstant(0), Input::Arrival { task: TaskIdx(0) });
        while let Some(a) = core.poll_action() {
            if let Action::Send { msg, .. } = a {
                core.handle(SimInstant(0), Input::Deliver(msg));
            }
        }
        let open = core.unfinished();
        assert_eq!(open.len(), 1);
        assert!(
            !open[0].blocked,
            "a job running on a live agent is not blocked"
        );
        let agent = first_worker(&core);
        core.handle(SimInstant(1), Input::AgentDown(agent));
        assert!(core.unfinished()[0].blocked, "held by a down agent");
        core.check_all().unwrap();
    }
}
