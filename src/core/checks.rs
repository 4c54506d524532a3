//! The core's invariants: constant-time ones for every event of every run,
//! org-size ones for every event of `explore`, and a sweep over the live
//! state.

use super::*;

impl Core {
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
