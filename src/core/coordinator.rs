//! The domain coordinators: a subtask is planned into work items, one per
//! selected worker pool, dispatched in `after` order, and aggregated into
//! the domain's result.

use super::*;

impl Core {
    pub(super) fn on_message(&mut self, now: SimInstant, msg: Msg) {
        match msg {
            Msg::Subtask(sub) => self.dispatch_ready(now, sub),
            Msg::Enqueue(work) => self.enqueue(now, work),
            Msg::WorkResult { work, ok } => self.on_work_result(now, work, ok),
            Msg::DomainResult(sub) => self.on_domain_result(sub),
        }
    }

    /// Dispatches every selected pool whose predecessors have succeeded;
    /// gives up on those whose predecessor failed; publishes the domain
    /// result once nothing is left.
    fn dispatch_ready(&mut self, now: SimInstant, sub_key: SubKey) {
        let Some(sub) = self.subs.get(sub_key.0) else {
            self.broken("dispatch for unknown subtask");
            return;
        };
        let domain = sub.domain;
        let priority = sub.priority;
        let task = sub.task;
        let (ready, skipped) = self.plan(sub);
        let pools = &self.cfg.domains[domain.0 as usize].pools;
        for local in bit_indices(ready) {
            let pool = pools[local];
            let work = WorkKey(self.works.insert(Work {
                sub: sub_key,
                home: domain,
                bit: local as u8,
                pool,
                priority,
                task,
                attempt: 0,
                token: 0,
                queued_at: now,
                running_on: None,
                orphan_of: None,
            }));
            self.actions.command(Command::Send {
                before: Before::Dispatching,
                from: Node::Domain(domain),
                to: Node::Pool(pool),
                msg: Msg::Enqueue(work),
            });
        }
        for local in bit_indices(skipped) {
            self.actions.observe(Observation::WorkFailed {
                pool: pools[local],
                domain,
                sub: sub_key,
            });
        }
        let sub = self.subs.get_mut(sub_key.0).expect("subtask present");
        sub.dispatched |= ready | skipped;
        sub.failed |= skipped;
        if sub.succeeded | sub.failed == sub.selected {
            self.publish_domain_result(sub_key);
        }
    }

    /// (ready to dispatch, never runnable) local pool masks of a subtask.
    fn plan(&self, sub: &Sub) -> (u64, u64) {
        let pools = &self.cfg.domains[sub.domain.0 as usize].pools;
        let mut ready = 0;
        let mut skipped = 0;
        let mut failed = sub.failed;
        // Skipping can cascade along `after` chains; each pass settles at
        // least one pool, so this loop runs at most 64 times.
        loop {
            let mut changed = false;
            for local in bit_indices(sub.selected & !sub.dispatched & !skipped & !ready) {
                let after = self.cfg.pools[pools[local].0 as usize].after & sub.selected;
                if after & failed != 0 {
                    skipped |= 1 << local;
                    failed |= 1 << local;
                    changed = true;
                } else if after & !sub.succeeded == 0 {
                    ready |= 1 << local;
                }
            }
            if !changed {
                return (ready, skipped);
            }
        }
    }

    fn publish_domain_result(&mut self, sub_key: SubKey) {
        let sub = self.subs.get_mut(sub_key.0).expect("subtask present");
        let critical = self.cfg.domains[sub.domain.0 as usize].critical;
        sub.status = Some(domain_status(
            sub.selected,
            sub.failed,
            critical,
            sub.warned,
        ));
        let domain = sub.domain;
        self.send(
            Before::Nothing,
            Node::Domain(domain),
            Node::Orchestrator,
            Msg::DomainResult(sub_key),
        );
    }

    fn on_work_result(&mut self, now: SimInstant, work_key: WorkKey, ok: bool) {
        let Some(work) = self.works.remove(work_key.0) else {
            self.broken("result for unknown work item");
            return;
        };
        if let Some(a) = work.running_on {
            self.broken("result for a work item still running");
            self.agents[a.0 as usize].running -= 1;
        }
        let local = work.bit;
        let Some(sub) = self.subs.get_mut(work.sub.0) else {
            self.broken("work result for unknown subtask");
            return;
        };
        if ok {
            sub.succeeded |= 1 << local;
            sub.warned |= work.attempt > 0;
        } else {
            sub.failed |= 1 << local;
        }
        self.dispatch_ready(now, work.sub);
    }
}

/// The domain-local pools a routed text selects in domain `d`: the ones
/// whose keywords matched (default pool if none), closed under `requires`.
pub fn select_pools(cfg: &CoreConfig, d: DomainIdx, route: &Route) -> u64 {
    let dcfg = &cfg.domains[d.0 as usize];
    let mut selected = 0u64;
    for (local, p) in dcfg.pools.iter().enumerate() {
        if route.pools.contains(*p) {
            selected |= 1 << local;
        }
    }
    if selected == 0 {
        selected = 1;
    }
    loop {
        let mut grown = selected;
        let mut bits = selected;
        while bits != 0 {
            let local = bits.trailing_zeros() as usize;
            bits &= bits - 1;
            grown |= cfg.pools[dcfg.pools[local].0 as usize].requires;
        }
        if grown == selected {
            return selected;
        }
        selected = grown;
    }
}

/// Indices of the set bits of `mask`, ascending.
#[inline]
fn bit_indices(mut mask: u64) -> impl Iterator<Item = usize> {
    std::iter::from_fn(move || {
        if mask == 0 {
            return None;
        }
        let i = mask.trailing_zeros() as usize;
        mask &= mask - 1;
        Some(i)
    })
}
