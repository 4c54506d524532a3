//! D9 Master Control's registry: heartbeats, the sweep that declares
//! silent agents dead, crashes and restarts, the visibility timeout, and
//! requeueing active work.

use super::*;

impl Core {
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

    pub(super) fn on_agent_down(&mut self, now: SimInstant, agent: AgentIdx) {
        self.stop_beating(now, agent);
        let a = &mut self.agents[agent.0 as usize];
        a.up = false;
        a.busy = 0;
    }

    pub(super) fn on_agent_up(&mut self, now: SimInstant, agent: AgentIdx) {
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
    pub(super) fn on_heartbeat_loss(&mut self, now: SimInstant, agent: AgentIdx, lost: bool) {
        self.agents[agent.0 as usize].heartbeat_lost = lost;
        if lost {
            self.stop_beating(now, agent);
        } else {
            self.start_beating(now, agent);
        }
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
}
