//! The liveness check of a finished run: once load has stopped and every
//! fault that heals has healed, every job reaches a result within the
//! drain. A job still open at the end is excused only when a fault that
//! never ended holds it (a permanent crash of its pool, an outage or a
//! partition still on); any other open job is stuck — a liveness failure
//! (`explore` exit 1).

use crate::core::{JobId, Unfinished};
use crate::time::SimInstant;

/// Most stuck job ids a [`Liveness`] keeps, to name in messages.
const KEPT: usize = 10;

/// The liveness verdict of one run.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Liveness {
    /// Load stopped and every fault that ends had ended.
    pub quiet_from: SimInstant,
    /// The end of the run (duration + drain, or earlier when nothing was
    /// left to happen).
    pub end: SimInstant,
    /// Jobs without a result at the end.
    pub unfinished: u64,
    /// Of those, held by a fault still active at the end.
    pub excused: u64,
    /// The rest: open with nothing holding them.
    pub stuck: u64,
    /// The first stuck jobs, in job order (at most ten).
    pub first_stuck: Vec<JobId>,
}

impl Liveness {
    /// Judges the jobs open at `end`; `cut` has bit d set when an active
    /// partition cuts domain d off (messages to it wait forever).
    pub fn judge(
        open: &[Unfinished],
        cut: u64,
        quiet_from: SimInstant,
        end: SimInstant,
    ) -> Liveness {
        let stuck: Vec<JobId> = open
            .iter()
            .filter(|u| !u.blocked && u.domains & cut == 0)
            .map(|u| u.job)
            .collect();
        Liveness {
            quiet_from,
            end,
            unfinished: open.len() as u64,
            excused: (open.len() - stuck.len()) as u64,
            stuck: stuck.len() as u64,
            first_stuck: stuck.into_iter().take(KEPT).collect(),
        }
    }

    /// Every job open at the end is held by a fault that never ended.
    pub fn holds(&self) -> bool {
        self.stuck == 0
    }

    /// One line saying what failed and the likely fix; `None` when it holds.
    pub fn failure(&self) -> Option<String> {
        if self.holds() {
            return None;
        }
        let ids: Vec<String> = self.first_stuck.iter().map(|j| j.0.to_string()).collect();
        let quiet = self.end.saturating_since(self.quiet_from);
        Some(format!(
            "{} job(s) without a result {} after load stopped and the last fault healed (jobs {}{}); \
             if they are a backlog still draining, lengthen scenario.drain",
            self.stuck,
            quiet,
            ids.join(", "),
            if self.stuck as usize > ids.len() { ", …" } else { "" }
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn job(id: u64, domains: u64, blocked: bool) -> Unfinished {
        Unfinished {
            job: JobId(id),
            domains,
            blocked,
        }
    }

    #[test]
    fn only_jobs_nothing_holds_are_stuck() {
        let open = [job(3, 0b01, true), job(5, 0b10, false), job(8, 0b01, false)];
        let l = Liveness::judge(&open, 0b10, SimInstant(10), SimInstant(20));
        assert_eq!((l.unfinished, l.excused, l.stuck), (3, 2, 1));
        assert_eq!(l.first_stuck, vec![JobId(8)]);
        assert!(l.failure().unwrap().contains("jobs 8"));
        let none = Liveness::judge(&[], 0, SimInstant(10), SimInstant(20));
        assert!(none.holds() && none.failure().is_none());
    }
}
