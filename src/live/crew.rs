//! The org's processes as tokio tasks around Redis: a coordinator per
//! domain takes its subtasks (BLMOVE from `tasks:pending:{domain}`), a
//! worker agent runs one consumer per slot that takes its work items,
//! serves each by sleeping its sampled service time ÷ speed, LREMs the
//! item and reports the outcome, and a heartbeat task refreshes its key. A
//! crash aborts an agent's tasks: what they held stays in Redis until the
//! core's registry declares the agent dead and the driver withdraws it.
//! The driver's own writes go through one writer task, in order.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::Duration;

use tokio::sync::mpsc::{UnboundedReceiver, UnboundedSender};
use tokio::task::JoinHandle;

use super::clock::Clock;
use super::store::{Store, StoreError, TaskMessage, Write};
use crate::core::{AgentIdx, DomainIdx};
use crate::time::SimDuration;

/// How long a blocking take waits before it looks again (below the
/// client's 500 ms response timeout).
const TAKE_WAIT: Duration = Duration::from_millis(100);

/// What the org's tasks report to the driver.
#[derive(Debug)]
pub enum Report {
    /// A coordinator took a subtask message out of its pending list.
    Subtask { domain: DomainIdx, raw: String },
    /// A worker finished serving a work item (and LREMed it).
    Done {
        agent: AgentIdx,
        epoch: u32,
        raw: String,
        message: Box<TaskMessage>,
    },
    /// A task failed talking to Redis; the run stops with this error.
    Failed(StoreError),
}

/// A running agent process: its consumers and its heartbeat.
pub struct Crew {
    tasks: Vec<JoinHandle<()>>,
    /// Its heartbeats are lost on the way (a heartbeat-loss fault).
    pub beats_lost: Arc<AtomicBool>,
}

impl Crew {
    /// Stops every task of the process at once (a crash).
    pub fn abort(self) {
        drop(self);
    }
}

/// A process whose handle is gone is stopped: aborting is how it crashes.
impl Drop for Crew {
    fn drop(&mut self) {
        for t in &self.tasks {
            t.abort();
        }
    }
}

/// What a worker process needs to start.
pub struct WorkerSpec {
    pub agent: AgentIdx,
    pub id: String,
    pub slots: u32,
    pub epoch: u32,
    pub heartbeat_interval: SimDuration,
    pub heartbeat_ttl: SimDuration,
}

/// Starts a worker agent's process: one consumer per slot and a heartbeat.
pub async fn start_worker(
    spec: WorkerSpec,
    store: &Store,
    clock: Clock,
    reports: UnboundedSender<Report>,
) -> Result<Crew, StoreError> {
    let beats_lost = Arc::new(AtomicBool::new(false));
    let mut tasks = Vec::with_capacity(spec.slots as usize + 1);
    for _ in 0..spec.slots {
        let conn = store.blocking().await?;
        let (store, id, reports) = (store.clone(), spec.id.clone(), reports.clone());
        let (agent, epoch) = (spec.agent, spec.epoch);
        tasks.push(tokio::spawn(async move {
            if let Err(e) = consume(conn, store, &id, agent, epoch, clock, &reports).await {
                let _ = reports.send(Report::Failed(e));
            }
        }));
    }
    let (mut store, id, lost) = (store.clone(), spec.id.clone(), beats_lost.clone());
    let every = clock.real(spec.heartbeat_interval);
    let ttl = clock.real(spec.heartbeat_ttl);
    tasks.push(tokio::spawn(async move {
        loop {
            if !lost.load(Ordering::Relaxed) {
                if let Err(e) = store.beat(&id, ttl).await {
                    let _ = reports.send(Report::Failed(e));
                    return;
                }
            }
            tokio::time::sleep(every).await;
        }
    }));
    Ok(Crew { tasks, beats_lost })
}

/// One slot of a worker: take, serve, report, acknowledge — forever.
async fn consume(
    mut conn: super::store::Blocking,
    mut store: Store,
    id: &str,
    agent: AgentIdx,
    epoch: u32,
    clock: Clock,
    reports: &UnboundedSender<Report>,
) -> Result<(), StoreError> {
    loop {
        let Some(raw) = conn.take(id, TAKE_WAIT).await? else {
            continue;
        };
        let message = Box::new(TaskMessage::from_json(id, &raw)?);
        let service = SimDuration(message.payload.context.service_ns.unwrap_or(0));
        tokio::time::sleep(clock.real(service)).await;
        // Acknowledged before reported: a crash in between loses the
        // report, never the item (its attempt is requeued and served again).
        store.ack(id, &raw).await?;
        let done = Report::Done {
            agent,
            epoch,
            raw,
            message,
        };
        if reports.send(done).is_err() {
            return Ok(());
        }
    }
}

/// Starts a domain coordinator's intake: subtask messages out of its
/// pending list into its active list, handed to the driver.
pub async fn start_coordinator(
    domain: DomainIdx,
    id: String,
    store: &Store,
    reports: UnboundedSender<Report>,
) -> Result<JoinHandle<()>, StoreError> {
    let mut conn = store.blocking().await?;
    Ok(tokio::spawn(async move {
        loop {
            match conn.take(&id, TAKE_WAIT).await {
                Ok(Some(raw)) => {
                    if reports.send(Report::Subtask { domain, raw }).is_err() {
                        return;
                    }
                }
                Ok(None) => {}
                Err(e) => {
                    let _ = reports.send(Report::Failed(e));
                    return;
                }
            }
        }
    }))
}

/// Most writes one pipeline carries.
const WRITE_BATCH: usize = 512;

/// Starts the writer: the driver's writes applied in order, as many as
/// are waiting to one pipeline. It ends when the driver drops its sender,
/// after the last write.
pub fn start_writer(
    mut store: Store,
    mut writes: UnboundedReceiver<Write>,
    reports: UnboundedSender<Report>,
) -> JoinHandle<()> {
    tokio::spawn(async move {
        let mut batch = Vec::with_capacity(WRITE_BATCH);
        while let Some(first) = writes.recv().await {
            batch.push(first);
            while batch.len() < WRITE_BATCH {
                match writes.try_recv() {
                    Ok(w) => batch.push(w),
                    Err(_) => break,
                }
            }
            if let Err(e) = store.apply(&batch).await {
                let _ = reports.send(Report::Failed(e));
                return;
            }
            batch.clear();
        }
    })
}
