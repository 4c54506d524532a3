//! What crosses the core's boundary: the inputs a driver feeds it, the
//! messages it sends between org members, and the actions it asks for.

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
