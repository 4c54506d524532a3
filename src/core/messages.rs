//! What crosses the core's boundary: the inputs a driver feeds it, the
//! messages it sends between org members, the commands it gives its driver
//! and the observations it reports.
//!
//! Commands are what a driver must carry out (deliver a message, serve a
//! work item); observations are what happened, for the one
//! [`crate::metrics::Recorder`] both drivers feed, traces and a live
//! store. Both come out of [`Core::poll_action`] in the order the core
//! decided them.

use super::*;

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

/// A job as it arrives at the orchestrator: its text (what routing reads),
/// its priority, the driver's class tag (reported back with its results)
/// and the driver's id for it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct NewJob<'a> {
    pub text: &'a str,
    pub priority: Priority,
    /// The task template it came from (its load stream and priority class).
    pub class: TaskIdx,
    pub external: ExternalId,
}

/// What the driver feeds the core.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Input<'a> {
    /// A job arrives at the orchestrator.
    Arrival(NewJob<'a>),
    /// A message sent earlier has arrived.
    Deliver(Msg),
    /// An agent finished an attempt of a work item; `ok` is the outcome the
    /// driver drew; `token` is the one its [`Command::StartWork`] carried.
    WorkDone {
        agent: AgentIdx,
        work: WorkKey,
        token: u32,
        ok: bool,
    },
    /// The time [`Core::next_deadline`] asked for has come.
    Tick,
    /// The agent's process stopped: it stops pulling work, and what it was
    /// running is lost (the driver drops its completions). Its heartbeats
    /// stop too: the driver says when the last one was.
    AgentDown(AgentIdx),
    /// The agent's process (re)started and pulls work again once the
    /// registry lists it (after its next heartbeat).
    AgentUp(AgentIdx),
    /// A heartbeat of `agent` sent at `at` (≤ now) got through: its
    /// registry key lives until `at` + the heartbeat TTL, and an agent the
    /// registry had dropped registers again. The live driver feeds the
    /// beats it reads from Redis; the simulation feeds only the last beat
    /// before its agent went silent (see [`Input::HeartbeatsSteady`]).
    Heartbeat { agent: AgentIdx, at: SimInstant },
    /// From now on `agent` beats every heartbeat interval, shorter than the
    /// TTL, until a [`Input::Heartbeat`] names the last beat: its key never
    /// expires meanwhile, and it registers now. The simulation's lazy
    /// heartbeats: no input per beat.
    HeartbeatsSteady { agent: AgentIdx },
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

/// What the sender does before a message leaves: how long planning takes
/// is the driver's business (the simulation's `plan_time` and
/// `dispatch_time`); a retry's backoff is the protocol's own wait.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Before {
    /// Nothing: the message leaves at once.
    Nothing,
    /// The orchestrator (or a Chief moving work) analyses and plans.
    Planning,
    /// A domain coordinator plans a dispatch stage.
    Dispatching,
    /// A failed attempt waits out its backoff before it is pushed again.
    Backoff(SimDuration),
}

/// One item of the core's output.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Action {
    Command(Command),
    Observation(Observation),
}

/// What the core asks its driver to do.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Command {
    /// Deliver `msg` to `to` (through [`Input::Deliver`]) once `before` is
    /// done and the message has crossed the link.
    Send {
        before: Before,
        from: Node,
        to: Node,
        msg: Msg,
    },
    /// `agent` starts an attempt of `work`; the driver serves it (samples
    /// its service time and outcome) and answers with [`Input::WorkDone`].
    StartWork {
        agent: AgentIdx,
        work: WorkKey,
        domain: DomainIdx,
        token: u32,
    },
}

/// What the core reports as having happened.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Observation {
    /// The orchestrator routed a job to `domain` (a subtask is on its way).
    Routed { domain: DomainIdx, sub: SubKey },
    /// `agent` starts an attempt of `work` (its [`Command::StartWork`]
    /// follows).
    Started {
        agent: AgentIdx,
        work: WorkKey,
        domain: DomainIdx,
        queued_at: SimInstant,
        /// The job's task template (its priority and load stream).
        task: TaskIdx,
        attempt: u32,
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
        /// The driver's id for it.
        external: ExternalId,
        /// The job's task template (its priority and load stream).
        task: TaskIdx,
        scheduled: SimInstant,
        status: Status,
        domains: u8,
        workers: u16,
        failed_workers: u16,
    },
}
