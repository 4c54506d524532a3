//! Worker pools: queues, queue outages, starting work on the least busy
//! member, completions, retries with backoff.

use super::*;

impl Core {
    /// Switches a domain's outage; when it ends, every push it refused is
    /// made again, in the order it was refused.
    pub(super) fn on_queue_outage(&mut self, now: SimInstant, domain: DomainIdx, on: bool) {
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

    pub(super) fn enqueue(&mut self, now: SimInstant, work_key: WorkKey) {
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
            self.actions.observe(Observation::OutageRejected {
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
            self.actions.observe(Observation::Rejected {
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
    pub(super) fn try_start(&mut self, now: SimInstant, pool: PoolIdx) {
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
            self.visibility.push_back((
                now + self.cfg.protocol.visibility_timeout,
                work_key,
                work.token,
            ));
            let token = work.token;
            self.actions.observe(Observation::Started {
                agent,
                work: work_key,
                domain,
                queued_at: work.queued_at,
                task: work.task,
                attempt: work.attempt,
                orphan_of,
            });
            self.actions.command(Command::StartWork {
                agent,
                work: work_key,
                domain,
                token,
            });
        }
    }

    pub(super) fn on_work_done(
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
            self.actions.observe(Observation::LateResult {
                agent,
                work: work_key,
            });
        } else if let Some(work) = self.works.get_mut(work_key.0) {
            work.running_on = None;
            self.agents[agent.0 as usize].running -= 1;
            let (pool, home) = (work.pool, work.home);
            if ok {
                self.send(
                    Before::Nothing,
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
        if work.attempt < self.cfg.protocol.max_retries {
            let backoff =
                (self.cfg.protocol.retry_backoff).saturating_mul(1 << work.attempt.min(6));
            work.attempt += 1;
            self.actions.observe(Observation::Retry {
                pool,
                domain,
                work: work_key,
            });
            self.send(
                Before::Backoff(backoff),
                Node::Pool(pool),
                Node::Pool(pool),
                Msg::Enqueue(work_key),
            );
        } else {
            self.actions
                .observe(Observation::WorkFailed { pool, domain, sub });
            self.send(
                Before::Nothing,
                Node::Pool(pool),
                Node::Domain(home),
                Msg::WorkResult {
                    work: work_key,
                    ok: false,
                },
            );
        }
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
