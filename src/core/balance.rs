//! Workload balancing (seed 001, esa-org.md §4) as core logic.
//!
//! Every `interval` the load of each worker pool (busy slots ÷ slots of its
//! live members) is checked against the protocol's thresholds: < 70 %
//! normal; 70–85 % busy → level 1, self-management (urgent work first;
//! low-priority work may not take the last free slot); 85–95 % → level
//! 2, the Chief moves queued work to a peer in the division; > 95 %
//! critical → level 3, #63 moves it to other divisions; more than half of
//! all worker agents at ≥ 85 % → level 4, the CEO adds slots or sheds
//! low-priority work. Each level acts after its reaction delay. A move
//! goes only to a pool whose keywords or skills match the work's task text
//! and that has idle slots. Every escalation, move and shed is reported as
//! an action, so it is counted, never silent.

use super::types::{Level4Action, Priority};
use super::{AgentIdx, Before, Core, Msg, Node, Observation, PoolIdx, WorkKey};
use crate::time::SimInstant;

const BUSY: f64 = 0.70;
const OVERLOADED: f64 = 0.85;
const CRITICAL: f64 = 0.95;

/// Balancing timers.
#[derive(Debug, Default)]
pub(super) struct BalanceState {
    /// The earliest balancing timer (check, pending action, or CEO).
    pub due: Option<SimInstant>,
    next_check: Option<SimInstant>,
    ceo_due: Option<SimInstant>,
}

/// The protocol level of a load.
fn level_of(load: f64) -> u8 {
    match load {
        l if l > CRITICAL => 3,
        l if l >= OVERLOADED => 2,
        l if l >= BUSY => 1,
        _ => 0,
    }
}

impl Core {
    /// Arms the first load check.
    pub(super) fn start_balancing(&mut self) {
        if let Some(b) = self.cfg.protocol.balancing {
            self.balance.next_check = Some(SimInstant::ZERO + b.interval);
            self.recompute_balance_due();
        }
    }

    pub(super) fn on_balance_timer(&mut self, now: SimInstant) {
        let Some(cfg) = self.cfg.protocol.balancing else {
            return;
        };
        if self.balance.next_check.is_some_and(|t| t <= now) {
            self.check_load(now);
            self.balance.next_check = Some(now + cfg.interval);
        }
        for p in 0..self.pools.len() {
            if let Some((level, due)) = self.pools[p].pending {
                if due <= now {
                    self.pools[p].pending = None;
                    self.act(now, PoolIdx(p as u16), level);
                }
            }
        }
        if self.balance.ceo_due.is_some_and(|t| t <= now) {
            self.balance.ceo_due = None;
            self.ceo_act(now, cfg.level4);
        }
        self.recompute_balance_due();
    }

    fn recompute_balance_due(&mut self) {
        let pending = self.pools.iter().filter_map(|p| p.pending.map(|(_, t)| t));
        self.balance.due = pending
            .chain(self.balance.next_check)
            .chain(self.balance.ceo_due)
            .min();
    }

    /// Slots of an agent, CEO additions included.
    fn slots_of(&self, agent: AgentIdx) -> u32 {
        self.cfg.agents[agent.0 as usize].slots + self.agents[agent.0 as usize].extra_slots
    }

    fn live(&self, agent: AgentIdx) -> bool {
        let a = &self.agents[agent.0 as usize];
        a.up && a.registered
    }

    /// (busy, slots) over the pool's live members.
    fn pool_usage(&self, pool: PoolIdx) -> (u32, u32) {
        let members = &self.cfg.pools[pool.0 as usize].members;
        members
            .iter()
            .filter(|m| self.live(**m))
            .fold((0, 0), |(b, s), m| {
                (b + self.agents[m.0 as usize].busy, s + self.slots_of(*m))
            })
    }

    /// busy ÷ slots; a pool with no live member is fully loaded.
    fn pool_load(&self, pool: PoolIdx) -> f64 {
        match self.pool_usage(pool) {
            (_, 0) => 1.0,
            (busy, slots) => busy as f64 / slots as f64,
        }
    }

    /// Raises escalations for every loaded pool without one pending, and
    /// the CEO's when more than half the worker agents are overloaded.
    fn check_load(&mut self, now: SimInstant) {
        let cfg = self.cfg.protocol.balancing.expect("balancing on");
        for p in 0..self.pools.len() {
            let pool = PoolIdx(p as u16);
            let level = level_of(self.pool_load(pool));
            if level == 0 {
                self.pools[p].deferring = false;
                continue;
            }
            if self.pools[p].pending.is_none() {
                let due = now + cfg.delays[level as usize - 1];
                self.pools[p].pending = Some((level, due));
                self.actions.observe(Observation::Escalated {
                    level,
                    pool: Some(pool),
                });
            }
        }
        let workers: Vec<AgentIdx> = (0..self.agents.len())
            .map(|i| AgentIdx(i as u16))
            .filter(|a| self.cfg.agents[a.0 as usize].pool.is_some())
            .collect();
        let overloaded = workers
            .iter()
            .filter(|a| self.agent_overloaded(**a))
            .count();
        if overloaded * 2 > workers.len() && self.balance.ceo_due.is_none() {
            self.balance.ceo_due = Some(now + cfg.delays[3]);
            self.actions.observe(Observation::Escalated {
                level: 4,
                pool: None,
            });
        }
    }

    fn agent_overloaded(&self, agent: AgentIdx) -> bool {
        let busy = self.agents[agent.0 as usize].busy as f64;
        !self.live(agent) || busy >= OVERLOADED * self.slots_of(agent) as f64
    }

    /// Carries out a pool's escalation, if the pool is still loaded.
    fn act(&mut self, now: SimInstant, pool: PoolIdx, level: u8) {
        if level_of(self.pool_load(pool)) == 0 {
            return;
        }
        self.pools[pool.0 as usize].deferring = true;
        if level >= 2 {
            self.move_work(now, pool, level >= 3);
        }
        self.try_start(now, pool);
    }

    /// Moves up to `moves` queued items, least urgent and newest first, to
    /// pools that can do them and have idle slots: in the same division
    /// (level 2, the Chief) or in other divisions (level 3, #63).
    fn move_work(&mut self, _now: SimInstant, from: PoolIdx, across: bool) {
        let cfg = self.cfg.protocol.balancing.expect("balancing on");
        let division = self.cfg.pools[from.0 as usize].division;
        let mut kept = Vec::new();
        let mut moved = 0;
        // Bounded: each try removes one item from the queue.
        for _ in 0..cfg.moves.saturating_mul(4) {
            if moved == cfg.moves {
                break;
            }
            let Some(work_key) = self.pools[from.0 as usize].queue.pop_least_urgent() else {
                break;
            };
            match self.move_target(work_key, from, division, across) {
                Some(to) => {
                    self.send_moved(work_key, from, to);
                    moved += 1;
                }
                None => kept.push(work_key),
            }
        }
        for work_key in kept.into_iter().rev() {
            let priority = self
                .works
                .get(work_key.0)
                .expect("queued work is live")
                .priority;
            self.pools[from.0 as usize]
                .queue
                .push_back_unbounded(priority, work_key);
        }
    }

    /// The least loaded pool that can take `work_key` and has an idle slot.
    fn move_target(
        &self,
        work_key: WorkKey,
        from: PoolIdx,
        division: u16,
        across: bool,
    ) -> Option<PoolIdx> {
        let work = self.works.get(work_key.0)?;
        let job = self
            .subs
            .get(work.sub.0)
            .and_then(|s| self.jobs.get(s.job.0))?;
        job.capable
            .iter()
            .filter(|p| *p != from)
            .filter(|p| (self.cfg.pools[p.0 as usize].division == division) != across)
            .filter(|p| {
                let (busy, slots) = self.pool_usage(*p);
                let queued = self.pools[p.0 as usize].queue.len() as u32;
                busy + queued < slots && (busy as f64) < BUSY * slots as f64
            })
            .min_by(|a, b| self.pool_load(*a).total_cmp(&self.pool_load(*b)))
    }

    fn send_moved(&mut self, work_key: WorkKey, from: PoolIdx, to: PoolIdx) {
        let work = self.works.get_mut(work_key.0).expect("queued work is live");
        work.pool = to;
        let across =
            self.cfg.pools[from.0 as usize].division != self.cfg.pools[to.0 as usize].division;
        self.actions.observe(Observation::Moved {
            from,
            to,
            across,
            work: work_key,
        });
        self.send(
            Before::Planning,
            Node::Pool(from),
            Node::Pool(to),
            Msg::Enqueue(work_key),
        );
    }

    /// Level 4: add slots to every overloaded agent, or shed the queued
    /// low-priority work of every overloaded pool.
    fn ceo_act(&mut self, now: SimInstant, action: Level4Action) {
        match action {
            Level4Action::AddSlots => {
                for i in 0..self.agents.len() {
                    let agent = AgentIdx(i as u16);
                    let Some(pool) = self.cfg.agents[i].pool else {
                        continue;
                    };
                    if self.live(agent) && self.agent_overloaded(agent) {
                        let add = (self.cfg.agents[i].slots / 2).max(1);
                        self.agents[i].extra_slots += add;
                        self.actions
                            .observe(Observation::SlotsAdded { agent, slots: add });
                        self.try_start(now, pool);
                    }
                }
            }
            Level4Action::ShedLow => {
                for p in 0..self.pools.len() {
                    let pool = PoolIdx(p as u16);
                    if self.pool_load(pool) >= OVERLOADED {
                        self.shed_low(pool);
                    }
                }
            }
        }
    }

    fn shed_low(&mut self, pool: PoolIdx) {
        let domain = self.cfg.pools[pool.0 as usize].domain;
        while let Some(work_key) = self.pools[pool.0 as usize].queue.pop_back_of(Priority::Low) {
            let home = self
                .works
                .get(work_key.0)
                .expect("queued work is live")
                .home;
            self.actions.observe(Observation::Shed {
                pool,
                domain,
                work: work_key,
            });
            let msg = Msg::WorkResult {
                work: work_key,
                ok: false,
            };
            self.send(Before::Nothing, Node::Pool(pool), Node::Domain(home), msg);
        }
    }

    /// The next item `try_start` may start. With level-1 self-management
    /// on, low-priority work is deferred: it never takes the pool's last
    /// free slot, which stays as headroom for more urgent work.
    pub(super) fn pop_startable(&mut self, pool: PoolIdx) -> Option<WorkKey> {
        let defer = self.pools[pool.0 as usize].deferring && {
            let (busy, slots) = self.pool_usage(pool);
            busy + 1 >= slots
        };
        let queue = &mut self.pools[pool.0 as usize].queue;
        if defer {
            queue.pop_at_least(Priority::Normal)
        } else {
            queue.pop()
        }
    }
}
