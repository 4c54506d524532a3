//! Read-only views of the core's state for drivers, traces, metrics and
//! the end-of-run checks (what faults stranded, which jobs are unfinished).

use super::*;

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

impl Core {
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
}
