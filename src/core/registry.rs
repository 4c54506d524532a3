//! D9 Master Control's registry: heartbeats, the sweep that declares
//! silent agents dead, crashes and restarts, the visibility timeout, and
//! requeueing active work.

use super::*;

impl Core {
    /// The first sweep that will find an expired heartbeat key.
    fn next_sweep(&self) -> Option<SimInstant> {
        (self.agents.iter())
            .filter(|a| a.registered)
            .filter_map(|a| a.key_expires)
            .map(|e| self.sweep_after(e))
            .min()
    }

    /// The first sweep time (multiples of the sweep interval) at or after `t`.
    fn sweep_after(&self, t: SimInstant) -> SimInstant {
        let every = self.cfg.protocol.sweep_interval.as_nanos().max(1);
        SimInstant(t.0.div_ceil(every).saturating_mul(every))
    }

    /// A beat sent at `at` got through: the agent's key lives until `at` +
    /// TTL. A registered agent's key is refreshed (a steady one now counts
    /// down from this, its last beat); an agent the registry dropped
    /// registers again if the key is still alive and its process is up.
    pub(super) fn on_heartbeat(&mut self, now: SimInstant, agent: AgentIdx, at: SimInstant) {
        let expires = at + self.cfg.protocol.heartbeat_ttl;
        let a = &mut self.agents[agent.0 as usize];
        match (a.registered, a.key_expires) {
            (true, None) => {
                a.key_expires = Some(expires);
                let due = self.sweep_after(expires);
                self.sweep_due = Some(self.sweep_due.map_or(due, |d| d.min(due)));
            }
            (true, Some(old)) if expires > old => {
                a.key_expires = Some(expires);
                self.sweep_due = self.next_sweep();
            }
            (true, Some(_)) => {}
            (false, _) if expires > now && a.up => {
                a.registered = true;
                a.key_expires = Some(expires);
                let due = self.sweep_after(expires);
                self.sweep_due = Some(self.sweep_due.map_or(due, |d| d.min(due)));
                self.pull(now, agent);
            }
            (false, _) => {}
        }
    }

    /// Beats get through every interval from now on: the agent registers
    /// now and its key does not expire until a last beat is named.
    pub(super) fn on_heartbeats_steady(&mut self, now: SimInstant, agent: AgentIdx) {
        let a = &mut self.agents[agent.0 as usize];
        if !a.up || (a.registered && a.key_expires.is_none()) {
            return;
        }
        let had_expiry = a.registered;
        a.registered = true;
        a.key_expires = None;
        if had_expiry {
            self.sweep_due = self.next_sweep();
        }
        self.pull(now, agent);
    }

    /// A worker that can take work again pulls from its pool's queue.
    fn pull(&mut self, now: SimInstant, agent: AgentIdx) {
        if let Some(pool) = self.cfg.agents[agent.0 as usize].pool {
            self.try_start(now, pool);
        }
    }

    pub(super) fn on_agent_down(&mut self, _now: SimInstant, agent: AgentIdx) {
        let a = &mut self.agents[agent.0 as usize];
        a.up = false;
        a.busy = 0;
    }

    /// The process restarted. Work it held when it went down was lost
    /// with the process; if the registry has not noticed yet, the restarted
    /// worker hands it back. It pulls work once a heartbeat registers it.
    pub(super) fn on_agent_up(&mut self, now: SimInstant, agent: AgentIdx) {
        let a = &mut self.agents[agent.0 as usize];
        if a.up {
            return;
        }
        a.up = true;
        self.requeue_all_on(now, agent, RequeueReason::Restarted);
    }

    pub(super) fn on_tick(&mut self, now: SimInstant) {
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
        for i in 0..self.agents.len() {
            let a = &mut self.agents[i];
            if !(a.registered && a.key_expires.is_some_and(|e| e <= now)) {
                continue;
            }
            a.registered = false;
            a.key_expires = None;
            let agent = AgentIdx(i as u16);
            self.actions.observe(Observation::AgentDead { agent });
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
        self.actions.observe(Observation::Requeued {
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
}
