//! The org's logic as a sans-IO state machine (DESIGN.md §1), driven by
//! two drivers: the simulation ([`crate::sim`]) and the live driver on
//! tokio and Redis ([`crate::live`]).
//!
//! The core owns routing (top orchestrator, `orchestrator`), planning,
//! dispatch and aggregation (domain coordinators, `coordinator`), worker
//! pool queues, slots and retries (`pool`), D9's registry, heartbeats
//! and requeue (`registry`) and workload balancing (`balance`). It is
//! fed with [`Core::handle`] (the current time and an [`Input`]) and says
//! what it decided through [`Core::poll_action`]: [`Command`]s the driver
//! carries out (deliver a message once the sender's [`Before`] is done and
//! the link is crossed; serve a work item) and [`Observation`]s of what
//! happened, which one [`crate::metrics::Recorder`] turns into the reports
//! for both drivers. It never reads a clock, samples randomness, sleeps or
//! does IO, and never iterates a hash map: all state lives in `Vec`s and
//! generational arenas ([`slab`]), and keys that cross a driver boundary
//! ([`SubKey`], [`WorkKey`], [`ExternalId`]) serialise.

pub mod aggregate;
mod balance;
mod checks;
pub mod config;
mod coordinator;
mod inspect;
pub mod messages;
mod orchestrator;
mod pool;
pub mod queue;
mod registry;
pub mod routing;
pub mod slab;
pub mod types;

use std::collections::VecDeque;

use crate::time::{SimDuration, SimInstant};
use aggregate::{domain_status, Status, StatusCounts};
pub use config::{AgentCfg, BalanceCfg, CoreConfig, DomainCfg, PoolCfg, Protocol};
pub use coordinator::select_pools;
pub use inspect::{Stranded, Unfinished, WorkInfo};
pub use messages::{Action, Before, Command, Input, Msg, NewJob, Node, Observation, RequeueReason};
use queue::PriorityQueue;
use routing::{PoolSet, Route, Router};
use slab::Slab;
use types::JobKey;
pub use types::{
    AgentIdx, DomainIdx, ExternalId, JobId, Level4Action, PoolIdx, Priority, SubKey, TaskIdx,
    WorkKey,
};

struct Job {
    id: JobId,
    external: ExternalId,
    /// The pools balancing may move its work to (empty with balancing off).
    capable: PoolSet,
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
    /// When its registry key expires unless another beat comes; `None`
    /// while its beats are steady ([`Input::HeartbeatsSteady`]).
    key_expires: Option<SimInstant>,
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

/// What the core has decided and the driver has not polled yet, in order:
/// `items[next..]`. A plain vector read from a cursor (cheaper per action
/// than a ring buffer); it empties once the driver has polled everything.
struct Outbox {
    items: Vec<Action>,
    next: usize,
}

impl Outbox {
    #[inline]
    fn command(&mut self, command: Command) {
        self.items.push(Action::Command(command));
    }

    #[inline]
    fn observe(&mut self, observation: Observation) {
        self.items.push(Action::Observation(observation));
    }

    #[inline]
    fn poll(&mut self) -> Option<Action> {
        if let Some(&action) = self.items.get(self.next) {
            self.next += 1;
            return Some(action);
        }
        self.items.clear();
        self.next = 0;
        None
    }
}

/// The org's state machine.
pub struct Core {
    cfg: CoreConfig,
    jobs: Slab<Job>,
    subs: Slab<Sub>,
    works: Slab<Work>,
    agents: Vec<AgentState>,
    pools: Vec<PoolState>,
    actions: Outbox,
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
    /// Per task template: the route of its last text (see `route_of`).
    routes: Vec<Option<orchestrator::RouteMemo>>,
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
                key_expires: None,
            })
            .collect();
        let outage = cfg.domains.iter().map(|_| Outage::default()).collect();
        let pools = cfg
            .pools
            .iter()
            .map(|_| PoolState {
                queue: PriorityQueue::new(cfg.protocol.queue_capacity),
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
            actions: Outbox {
                items: Vec::with_capacity(64),
                next: 0,
            },
            next_job: 0,
            jobs_in_flight: 0,
            visibility: VecDeque::new(),
            outage,
            sweep_due: None,
            balance: balance::BalanceState::default(),
            routes: Vec::new(),
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
            Input::Arrival(job) => self.on_arrival(now, job),
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
            Input::Heartbeat { agent, at } => self.on_heartbeat(now, agent, at),
            Input::HeartbeatsSteady { agent } => self.on_heartbeats_steady(now, agent),
            Input::QueueOutage { domain, on } => self.on_queue_outage(now, domain, on),
        }
    }

    /// The next thing the driver must do, in the order the core decided it.
    #[inline]
    pub fn poll_action(&mut self) -> Option<Action> {
        self.actions.poll()
    }

    /// When the core next needs [`Core::handle`] called without an input;
    /// `None` while it has no timers.
    pub fn next_deadline(&self) -> Option<SimInstant> {
        // Spelled out: an array → flatten → min chain compiles to stack
        // traffic on this per-event path.
        let earliest = |a: Option<SimInstant>, b: Option<SimInstant>| match (a, b) {
            (Some(a), Some(b)) => Some(a.min(b)),
            (a, b) => a.or(b),
        };
        let visibility = self.visibility.front().map(|(t, _, _)| *t);
        earliest(earliest(visibility, self.sweep_due), self.balance.due)
    }

    #[inline]
    fn send(&mut self, before: Before, from: Node, to: Node, msg: Msg) {
        self.actions.command(Command::Send {
            before,
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
}

#[cfg(test)]
mod tests;
