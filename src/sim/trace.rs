//! `run --trace`: every event of one run as a JSON line.
//!
//! The driver ([`super::Sim`]) hands each event and each core action to an
//! optional [`TraceSink`] as a [`TraceRecord`] of indices; [`JsonlTrace`]
//! names them (agent, domain and pool ids from the org), applies the
//! `--trace-filter`s and writes one JSON object per line with a fixed field
//! order and no field that does not apply. The core is only read (job ids
//! of subtasks and work items), never driven, so a traced run is the same
//! run. Nothing here reads a clock or iterates a hash map: the file is a
//! pure function of the scenario and the seed.

use std::io::{self, Write};

use serde::Serialize;

use super::Event;
use crate::core::aggregate::Status;
use crate::core::{
    Action, AgentIdx, Command, Core, DomainIdx, JobId, Msg, Node, Observation, PoolIdx,
    RequeueReason, WorkKey,
};
use crate::org::Org;
use crate::scenario::suggest;
use crate::time::SimInstant;

/// What happened; the `event` field of a trace line.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum TraceEvent {
    /// A job arrived at the orchestrator.
    #[default]
    Arrival,
    /// The orchestrator sent a domain its subtask.
    Subtask,
    /// A coordinator sent a work item to a pool's queue.
    Dispatch,
    /// An agent started an attempt of a work item.
    Start,
    /// An attempt finished (`ok`).
    Done,
    /// A failed attempt will be retried after a backoff.
    Retry,
    /// A full queue refused a push; the attempt counts as failed.
    Rejected,
    /// A queue outage refused a push; it is pushed again when it ends.
    OutageRejected,
    /// An active work item went back to its queue (`reason`).
    Requeued,
    /// A superseded attempt's result arrived and was discarded.
    LateResult,
    /// A completion dropped because its agent crashed meanwhile.
    Lost,
    /// A work item was given up.
    WorkFailed,
    /// A domain published its result for a job (`status`).
    DomainResult,
    /// The job's final result (`status`).
    JobResult,
    /// The registry declared an agent dead.
    AgentDead,
    /// An agent's process went down (a crash).
    AgentDown,
    /// An agent's process came back up.
    AgentUp,
    /// A `[[fault]]` started (`fault` is its index).
    FaultStart,
    /// A `[[fault]]` ended.
    FaultEnd,
    /// Workload balancing raised an escalation (`level`).
    Escalated,
    /// Balancing moved a queued work item from `pool` to `to`.
    Moved,
    /// The CEO shed a queued low-priority work item.
    Shed,
    /// The CEO added `slots` to an agent.
    SlotsAdded,
}

impl TraceEvent {
    pub const ALL: [TraceEvent; 23] = [
        TraceEvent::Arrival,
        TraceEvent::Subtask,
        TraceEvent::Dispatch,
        TraceEvent::Start,
        TraceEvent::Done,
        TraceEvent::Retry,
        TraceEvent::Rejected,
        TraceEvent::OutageRejected,
        TraceEvent::Requeued,
        TraceEvent::LateResult,
        TraceEvent::Lost,
        TraceEvent::WorkFailed,
        TraceEvent::DomainResult,
        TraceEvent::JobResult,
        TraceEvent::AgentDead,
        TraceEvent::AgentDown,
        TraceEvent::AgentUp,
        TraceEvent::FaultStart,
        TraceEvent::FaultEnd,
        TraceEvent::Escalated,
        TraceEvent::Moved,
        TraceEvent::Shed,
        TraceEvent::SlotsAdded,
    ];

    pub fn name(self) -> &'static str {
        match self {
            TraceEvent::Arrival => "arrival",
            TraceEvent::Subtask => "subtask",
            TraceEvent::Dispatch => "dispatch",
            TraceEvent::Start => "start",
            TraceEvent::Done => "done",
            TraceEvent::Retry => "retry",
            TraceEvent::Rejected => "rejected",
            TraceEvent::OutageRejected => "outage-rejected",
            TraceEvent::Requeued => "requeued",
            TraceEvent::LateResult => "late-result",
            TraceEvent::Lost => "lost",
            TraceEvent::WorkFailed => "work-failed",
            TraceEvent::DomainResult => "domain-result",
            TraceEvent::JobResult => "job-result",
            TraceEvent::AgentDead => "agent-dead",
            TraceEvent::AgentDown => "agent-down",
            TraceEvent::AgentUp => "agent-up",
            TraceEvent::FaultStart => "fault-start",
            TraceEvent::FaultEnd => "fault-end",
            TraceEvent::Escalated => "escalated",
            TraceEvent::Moved => "moved",
            TraceEvent::Shed => "shed",
            TraceEvent::SlotsAdded => "slots-added",
        }
    }
}

/// One traced event, in the core's indices; absent fields do not apply.
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct TraceRecord {
    pub time: SimInstant,
    pub event: TraceEvent,
    pub job: Option<JobId>,
    /// The subtask's domain (a job has at most one subtask per domain).
    pub domain: Option<DomainIdx>,
    pub agent: Option<AgentIdx>,
    pub attempt: Option<u32>,
    pub pool: Option<PoolIdx>,
    /// Where a moved item went.
    pub to: Option<PoolIdx>,
    pub ok: Option<bool>,
    pub status: Option<Status>,
    pub reason: Option<RequeueReason>,
    pub level: Option<u8>,
    pub slots: Option<u32>,
    /// The `[[fault]]` index.
    pub fault: Option<u16>,
}

/// Where the driver sends trace records.
pub trait TraceSink: Send {
    fn record(&mut self, record: &TraceRecord);
    /// Flushes; the first write error of the run, if any.
    fn finish(&mut self) -> io::Result<()>;
}

// ---- records from the driver's events and the core's actions -----------

fn at(time: SimInstant, event: TraceEvent) -> TraceRecord {
    TraceRecord {
        time,
        event,
        ..TraceRecord::default()
    }
}

/// A record about work item `work` (job, domain, pool, attempt looked up;
/// absent once the item is gone).
fn of_work(time: SimInstant, event: TraceEvent, core: &Core, work: WorkKey) -> TraceRecord {
    let mut r = at(time, event);
    if let Some(info) = core.work_info(work) {
        r.job = Some(info.job);
        r.domain = Some(info.domain);
        r.pool = Some(info.pool);
        r.attempt = Some(info.attempt);
    }
    r
}

/// The record of a future-event-list event, before the core sees it
/// (`None`: nothing to trace, e.g. the core's timer). `lost`: a completion
/// whose agent crashed since it started.
pub(super) fn of_event(
    t: SimInstant,
    event: &Event,
    core: &Core,
    lost: bool,
) -> Option<TraceRecord> {
    match *event {
        Event::Arrival { .. } => Some(TraceRecord {
            job: Some(JobId(core.jobs_arrived())),
            ..at(t, TraceEvent::Arrival)
        }),
        Event::WorkDone {
            agent, work, ok, ..
        } => {
            let kind = if lost {
                TraceEvent::Lost
            } else {
                TraceEvent::Done
            };
            Some(TraceRecord {
                agent: Some(agent),
                ok: Some(ok),
                ..of_work(t, kind, core, work)
            })
        }
        Event::Fault { index, start } => Some(TraceRecord {
            fault: Some(index),
            ..at(
                t,
                if start {
                    TraceEvent::FaultStart
                } else {
                    TraceEvent::FaultEnd
                },
            )
        }),
        // The D4 model's connection and message events are not traced:
        // a trace follows jobs.
        Event::Deliver(_) | Event::Tick | Event::Rt(_) => None,
    }
}

/// The record of a core action, taken before the driver carries it out
/// (so the items it names are still live). `None`: nothing to trace.
pub(super) fn of_action(t: SimInstant, action: &Action, core: &Core) -> Option<TraceRecord> {
    match *action {
        Action::Command(Command::Send { from, msg, .. }) => of_send(t, from, msg, core),
        // Traced as the `Started` observation just before it.
        Action::Command(Command::StartWork { .. }) => None,
        Action::Observation(ref o) => of_observation(t, o, core),
    }
}

/// The record of an observation (`None`: nothing to trace).
fn of_observation(t: SimInstant, observation: &Observation, core: &Core) -> Option<TraceRecord> {
    let r = match *observation {
        // Traced as the subtask's send just after it.
        Observation::Routed { .. } => return None,
        Observation::Started {
            agent,
            work,
            attempt,
            ..
        } => TraceRecord {
            agent: Some(agent),
            attempt: Some(attempt),
            ..of_work(t, TraceEvent::Start, core, work)
        },
        Observation::Retry { work, .. } => of_work(t, TraceEvent::Retry, core, work),
        Observation::Rejected { work, .. } => of_work(t, TraceEvent::Rejected, core, work),
        Observation::OutageRejected { work, .. } => {
            of_work(t, TraceEvent::OutageRejected, core, work)
        }
        Observation::Requeued {
            agent,
            reason,
            work,
            ..
        } => TraceRecord {
            agent: Some(agent),
            reason: Some(reason),
            ..of_work(t, TraceEvent::Requeued, core, work)
        },
        Observation::LateResult { agent, work } => TraceRecord {
            agent: Some(agent),
            ..of_work(t, TraceEvent::LateResult, core, work)
        },
        Observation::WorkFailed { pool, sub, .. } => {
            let mut r = at(t, TraceEvent::WorkFailed);
            (r.job, r.domain) = core.sub_info(sub).unzip();
            r.pool = Some(pool);
            r
        }
        Observation::Moved { from, to, work, .. } => TraceRecord {
            pool: Some(from),
            to: Some(to),
            ..of_work(t, TraceEvent::Moved, core, work)
        },
        Observation::Shed { work, .. } => of_work(t, TraceEvent::Shed, core, work),
        Observation::AgentDead { agent } => TraceRecord {
            agent: Some(agent),
            ..at(t, TraceEvent::AgentDead)
        },
        Observation::Escalated { level, pool } => TraceRecord {
            level: Some(level),
            pool,
            ..at(t, TraceEvent::Escalated)
        },
        Observation::SlotsAdded { agent, slots } => TraceRecord {
            agent: Some(agent),
            slots: Some(slots),
            ..at(t, TraceEvent::SlotsAdded)
        },
        Observation::DomainResult {
            domain,
            job,
            status,
            ..
        } => TraceRecord {
            job: Some(job),
            domain: Some(domain),
            status: Some(status),
            ..at(t, TraceEvent::DomainResult)
        },
        Observation::JobResult { job, status, .. } => TraceRecord {
            job: Some(job),
            status: Some(status),
            ..at(t, TraceEvent::JobResult)
        },
    };
    Some(r)
}

/// Messages worth a line: a subtask sent to its domain, and a work item a
/// coordinator sends to a queue (retries and moves have their own events;
/// results show as done / work-failed / domain-result).
fn of_send(t: SimInstant, from: Node, msg: Msg, core: &Core) -> Option<TraceRecord> {
    match (msg, from) {
        (Msg::Subtask(sub), _) => {
            let mut r = at(t, TraceEvent::Subtask);
            (r.job, r.domain) = core.sub_info(sub).unzip();
            Some(r)
        }
        (Msg::Enqueue(work), Node::Domain(_)) => Some(of_work(t, TraceEvent::Dispatch, core, work)),
        (Msg::Enqueue(_), Node::Orchestrator | Node::Pool(_) | Node::Agent(_))
        | (Msg::WorkResult { .. } | Msg::DomainResult(_), _) => None,
    }
}

/// An agent's process went down or came back up.
pub(super) fn of_agent(t: SimInstant, agent: AgentIdx, up: bool) -> TraceRecord {
    TraceRecord {
        agent: Some(agent),
        ..at(
            t,
            if up {
                TraceEvent::AgentUp
            } else {
                TraceEvent::AgentDown
            },
        )
    }
}

// ---- filters ---------------------------------------------------------------

/// One `--trace-filter KEY=VALUE`; a line is kept when every filter holds.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum TraceFilter {
    Job(JobId),
    Agent(AgentIdx),
    Event(TraceEvent),
}

impl TraceFilter {
    /// Parses `job=N`, `agent=ID` (an agent of `org`) or `event=NAME`;
    /// `Err` says what is wrong and how to write it.
    pub fn parse(text: &str, org: &Org) -> Result<TraceFilter, String> {
        let bad = |why: String| format!("--trace-filter `{text}`: {why}");
        let Some((key, value)) = text.split_once('=') else {
            return Err(bad(
                "write KEY=VALUE: job=123, agent=L12 or event=start".to_string()
            ));
        };
        match key.trim() {
            "job" => value.trim().parse().map(|n| TraceFilter::Job(JobId(n))).map_err(|_| {
                bad(format!("`{value}` is not a job number; write job=N with N ≥ 0 (jobs count from 0 in arrival order)"))
            }),
            "agent" => org.agent_index(value.trim()).map(TraceFilter::Agent).ok_or_else(|| {
                let ids = org.agents.iter().map(|a| a.id.as_str());
                bad(format!("no agent `{value}` in the org{}", suggest(value.trim(), ids, "agent")))
            }),
            "event" => (TraceEvent::ALL.iter())
                .find(|e| e.name() == value.trim())
                .map(|e| TraceFilter::Event(*e))
                .ok_or_else(|| {
                    let names = TraceEvent::ALL.iter().map(|e| e.name());
                    bad(format!("no event `{value}`{}", suggest(value.trim(), names, "event")))
                }),
            other => Err(bad(format!(
                "unknown key `{other}`; filter by job=N, agent=ID or event=NAME"
            ))),
        }
    }

    fn keeps(self, r: &TraceRecord) -> bool {
        match self {
            TraceFilter::Job(job) => r.job == Some(job),
            TraceFilter::Agent(agent) => r.agent == Some(agent),
            TraceFilter::Event(event) => r.event == event,
        }
    }
}

// ---- JSON lines ------------------------------------------------------------

/// A trace line as written: field order is declaration order.
#[derive(Serialize)]
struct Line<'a> {
    time_ns: u64,
    event: &'static str,
    #[serde(skip_serializing_if = "Option::is_none")]
    job: Option<u64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    subtask: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    agent: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    attempt: Option<u32>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pool: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    to: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    ok: Option<bool>,
    #[serde(skip_serializing_if = "Option::is_none")]
    status: Option<&'static str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    reason: Option<&'static str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    level: Option<u8>,
    #[serde(skip_serializing_if = "Option::is_none")]
    slots: Option<u32>,
    #[serde(skip_serializing_if = "Option::is_none")]
    fault: Option<u16>,
}

fn reason_name(reason: RequeueReason) -> &'static str {
    match reason {
        RequeueReason::AgentDead => "agent-dead",
        RequeueReason::Timeout => "timeout",
        RequeueReason::Restarted => "restarted",
    }
}

/// Writes the kept records as JSON lines to `out`, naming indices by the org.
pub struct JsonlTrace<W: Write + Send> {
    out: W,
    agents: Vec<String>,
    domains: Vec<String>,
    pools: Vec<String>,
    filters: Vec<TraceFilter>,
    /// The first write error; later records are dropped.
    error: Option<io::Error>,
}

impl<W: Write + Send> JsonlTrace<W> {
    pub fn new(out: W, org: &Org, filters: Vec<TraceFilter>) -> JsonlTrace<W> {
        JsonlTrace {
            out,
            agents: org.agents.iter().map(|a| a.id.clone()).collect(),
            domains: org.domains.iter().map(|d| d.id.clone()).collect(),
            pools: org.pools.iter().map(|p| p.name.clone()).collect(),
            filters,
            error: None,
        }
    }

    fn line<'a>(&'a self, r: &TraceRecord) -> Line<'a> {
        let pool = |p: Option<PoolIdx>| p.map(|p| self.pools[p.0 as usize].as_str());
        Line {
            time_ns: r.time.0,
            event: r.event.name(),
            job: r.job.map(|j| j.0),
            subtask: r.domain.map(|d| self.domains[d.0 as usize].as_str()),
            agent: r.agent.map(|a| self.agents[a.0 as usize].as_str()),
            attempt: r.attempt,
            pool: pool(r.pool),
            to: pool(r.to),
            ok: r.ok,
            status: r.status.map(Status::name),
            reason: r.reason.map(reason_name),
            level: r.level,
            slots: r.slots,
            fault: r.fault,
        }
    }

    fn write(&mut self, r: &TraceRecord) -> io::Result<()> {
        let mut buf = serde_json::to_vec(&self.line(r)).map_err(io::Error::from)?;
        buf.push(b'\n');
        self.out.write_all(&buf)
    }
}

impl<W: Write + Send> TraceSink for JsonlTrace<W> {
    fn record(&mut self, record: &TraceRecord) {
        if self.error.is_some() || !self.filters.iter().all(|f| f.keeps(record)) {
            return;
        }
        if let Err(e) = self.write(record) {
            self.error = Some(e);
        }
    }

    fn finish(&mut self) -> io::Result<()> {
        match self.error.take() {
            Some(e) => Err(e),
            None => self.out.flush(),
        }
    }
}

/// A sink the caller keeps a handle on (to call [`TraceSink::finish`]
/// after the run has consumed the simulation).
impl<T: TraceSink> TraceSink for std::sync::Arc<std::sync::Mutex<T>> {
    fn record(&mut self, record: &TraceRecord) {
        self.lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
            .record(record);
    }

    fn finish(&mut self) -> io::Result<()> {
        self.lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
            .finish()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Every event once in `ALL`, each with its own kebab-case name (the
    /// match in `name` is exhaustive, so a new event must be named there).
    #[test]
    fn every_event_has_one_kebab_case_name() {
        let mut names: Vec<&str> = TraceEvent::ALL.iter().map(|e| e.name()).collect();
        assert!(names
            .iter()
            .all(|n| n.chars().all(|c| c.is_ascii_lowercase() || c == '-')));
        names.sort_unstable();
        names.dedup();
        assert_eq!(names.len(), TraceEvent::ALL.len());
    }

    #[test]
    fn a_record_becomes_one_line_without_absent_fields() {
        let org = Org::build(&crate::org::builtin().expect("esa-105").0).expect("org");
        let mut trace = JsonlTrace::new(Vec::new(), &org, vec![TraceFilter::Job(JobId(7))]);
        let record = TraceRecord {
            time: SimInstant(5),
            job: Some(JobId(7)),
            domain: Some(DomainIdx(2)),
            agent: Some(AgentIdx(0)),
            status: Some(Status::Partial),
            ..at(SimInstant(5), TraceEvent::DomainResult)
        };
        trace.record(&record);
        trace.record(&TraceRecord {
            job: Some(JobId(8)),
            ..record
        });
        trace.finish().expect("a Vec takes every write");
        let text = String::from_utf8(trace.out).expect("UTF-8");
        let expected = format!(
            "{{\"time_ns\":5,\"event\":\"domain-result\",\"job\":7,\"subtask\":\"{}\",\"agent\":\"{}\",\"status\":\"partial\"}}\n",
            org.domains[2].id, org.agents[0].id
        );
        assert_eq!(text, expected);
    }
}
