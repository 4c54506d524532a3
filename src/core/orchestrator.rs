//! The top orchestrator: a job arrives, is routed to its domains (one
//! subtask each), and gets its one result once every domain has answered.

use super::*;

/// Most task templates whose routes the orchestrator remembers.
const MAX_REMEMBERED_ROUTES: usize = 4096;

/// A task template's last text and what routing read from it.
pub(super) struct RouteMemo {
    text: Box<str>,
    route: Route,
    capable: PoolSet,
}

impl Core {
    pub(super) fn on_arrival(&mut self, now: SimInstant, new: NewJob) {
        let NewJob {
            text,
            priority,
            class: task,
            external,
        } = new;
        let (route, capable) = self.route_of(task, text);
        let domains = if route.domains == 0 {
            1u64 << self.cfg.fallback.0
        } else {
            route.domains
        };
        let id = JobId(self.next_job);
        self.next_job += 1;
        self.jobs_in_flight += 1;
        let job = JobKey(self.jobs.insert(Job {
            id,
            external,
            scheduled: now,
            task,
            capable,
            pending: domains.count_ones() as u8,
            domains: domains.count_ones() as u8,
            results: StatusCounts::default(),
            workers: 0,
            failed_workers: 0,
        }));
        let mut bits = domains;
        while bits != 0 {
            let d = DomainIdx(bits.trailing_zeros() as u8);
            bits &= bits - 1;
            let selected = select_pools(&self.cfg, d, &route);
            let sub = SubKey(self.subs.insert(Sub {
                job,
                domain: d,
                task,
                priority,
                selected,
                dispatched: 0,
                succeeded: 0,
                failed: 0,
                warned: false,
                status: None,
            }));
            if let Some(j) = self.jobs.get_mut(job.0) {
                j.workers += selected.count_ones() as u16;
            }
            self.actions.observe(Observation::Routed { domain: d, sub });
            self.send(
                Before::Planning,
                Node::Orchestrator,
                Node::Domain(d),
                Msg::Subtask(sub),
            );
        }
    }

    /// What routing reads from `text`: its route, and the pools balancing
    /// may move its work to (read once, while the text is here). A task
    /// template's jobs all say the same, so the answer is remembered per
    /// template and reused while the text is the same; a driver that sends
    /// other texts under one template is still routed by what each says.
    fn route_of(&mut self, task: TaskIdx, text: &str) -> (Route, PoolSet) {
        let i = task.0 as usize;
        if let Some(Some(m)) = self.routes.get(i) {
            if *m.text == *text {
                return (m.route, m.capable);
            }
        }
        let route = self.cfg.router.route(text);
        let capable = match self.cfg.protocol.balancing {
            Some(_) => self.cfg.skill_router.route(text).pools,
            None => PoolSet::default(),
        };
        if i < MAX_REMEMBERED_ROUTES {
            if self.routes.len() <= i {
                self.routes.resize_with(i + 1, || None);
            }
            self.routes[i] = Some(RouteMemo {
                text: text.into(),
                route,
                capable,
            });
        }
        (route, capable)
    }

    pub(super) fn on_domain_result(&mut self, sub_key: SubKey) {
        let Some(sub) = self.subs.remove(sub_key.0) else {
            self.broken("domain result for unknown subtask");
            return;
        };
        let status = sub.status.expect("domain result sent before aggregation");
        let Some(job) = self.jobs.get_mut(sub.job.0) else {
            self.broken("domain result for unknown job");
            return;
        };
        job.results.add(status);
        job.failed_workers += sub.failed.count_ones() as u16;
        job.pending -= 1;
        self.actions.observe(Observation::DomainResult {
            domain: sub.domain,
            job: job.id,
            scheduled: job.scheduled,
            status,
        });
        if job.pending == 0 {
            let job = self.jobs.remove(sub.job.0).expect("job present");
            self.jobs_in_flight -= 1;
            self.actions.observe(Observation::JobResult {
                job: job.id,
                external: job.external,
                task: job.task,
                scheduled: job.scheduled,
                status: job.results.merge(),
                domains: job.domains,
                workers: job.workers,
                failed_workers: job.failed_workers,
            });
        }
    }
}
