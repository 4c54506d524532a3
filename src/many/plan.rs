//! `esa-sim plan` (DESIGN.md §7): how many slots each worker pool needs
//! for every SLO to pass with confidence. Sans-IO: the planner is handed
//! an `evaluate(slots per pool) → Evaluation` function (in the CLI, a set
//! of replications judged by `reduce`), so the search is unit-tested here
//! without running anything.
//!
//! The search rests on one assumption, **more slots never hurt**: adding
//! a slot to a pool never makes a verdict worse. So a configuration with
//! at least as many slots in every pool as a passing one passes, and one
//! with at most as many as a failing one fails; such verdicts are implied
//! and never run.
//!
//! - Phase 1 (grow): while the start does not pass, slots are added one
//!   at a time along a chain, each to the pool with the highest predicted
//!   utilisation (its busy slots, utilisation × slots, measured at the last
//!   configuration evaluated, over its slots on the chain) — the bottleneck.
//!   The chain is evaluated at 1, 2, 4, … added slots (at most
//!   `max_added`) until one passes, then bisected to the shortest passing
//!   prefix.
//! - Phase 2 (trim): for each pool in turn, the fewest slots (at least one
//!   per member agent) at which everything still passes, by bisection.
//!   With `--pool` these are the pools named; otherwise the pools phase 1
//!   changed, or, when the start already passed, its bottleneck.

use serde::Serialize;

use super::output::Verdict;

/// A pool the plan may change: its name and its member agents' slots as
/// the scenario has them.
#[derive(Clone, Debug)]
pub struct PoolStart {
    pub name: String,
    pub agents: Vec<String>,
    pub slots: Vec<u32>,
}

impl PoolStart {
    pub fn total(&self) -> u32 {
        self.slots.iter().sum()
    }
}

/// Which pools phase 2 trims.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Mode {
    /// No `--pool`: the bottleneck gets each slot.
    Bottleneck,
    /// `--pool`: only the pools named change.
    Named,
}

/// What the planner learns from one configuration.
#[derive(Clone, Debug, PartialEq)]
pub struct Evaluation {
    pub verdict: Verdict,
    /// Each pool's utilisation (0..1), in pool order; `None` when unknown.
    pub utilization: Vec<Option<f64>>,
}

/// Why a configuration was evaluated.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Step {
    /// The scenario as written.
    Start,
    /// Phase 1: 1, 2, 4, … slots added to the bottleneck.
    Grow,
    /// Phase 1: between the last failing and the first passing growth.
    Bisect,
    /// Phase 2: fewer slots in one pool.
    Trim,
    /// The plan itself, when no evaluation had run it.
    Confirm,
}

/// One configuration evaluated, in order.
#[derive(Clone, Debug, PartialEq)]
pub struct Trial {
    pub step: Step,
    /// Total slots per pool, in pool order.
    pub totals: Vec<u32>,
    pub evaluation: Evaluation,
}

/// The search's result.
#[derive(Clone, Debug, PartialEq)]
pub struct Plan {
    pub trials: Vec<Trial>,
    /// The pools the plan is about (phase 2's and any phase 1 changed),
    /// in pool order.
    pub pools: Vec<usize>,
    /// The planned configuration's trial; `None` when no configuration
    /// within `max_added` passed.
    pub plan: Option<usize>,
}

/// Searches for the fewest slots that make every SLO pass; see the
/// module docs. `max_added` bounds the slots phase 1 may add in all.
pub fn plan<E>(
    pools: &[PoolStart],
    mode: Mode,
    max_added: u32,
    evaluate: &mut dyn FnMut(&[u32]) -> Result<Evaluation, E>,
) -> Result<Plan, E> {
    let start: Vec<u32> = pools.iter().map(PoolStart::total).collect();
    let mut search = Search {
        trials: Vec::new(),
        evaluate,
    };
    let first = search.run(&start, Step::Start)?;
    let current = if first.verdict == Verdict::Pass {
        start.clone()
    } else {
        match search.grow(&start, max_added)? {
            Some(found) => found,
            None => {
                let changed = changed(&start, &search.trials);
                return Ok(Plan {
                    trials: search.trials,
                    pools: changed,
                    plan: None,
                });
            }
        }
    };
    let trimmed = trim_pools(mode, &start, &current, &first);
    let mut current = current;
    for &p in &trimmed {
        current[p] = search.trim(&current, p, pools[p].slots.len() as u32)?;
    }
    let plan = match search.trials.iter().position(|t| t.totals == current) {
        Some(i) => i,
        None => {
            search.run(&current, Step::Confirm)?;
            search.trials.len() - 1
        }
    };
    let mut reported = changed(&start, &search.trials);
    reported.extend(trimmed);
    reported.sort_unstable();
    reported.dedup();
    Ok(Plan {
        trials: search.trials,
        pools: reported,
        plan: Some(plan),
    })
}

/// Phase 2's pools: every named pool; else those phase 1 changed, or the
/// start's bottleneck when it changed none.
fn trim_pools(mode: Mode, start: &[u32], current: &[u32], first: &Evaluation) -> Vec<usize> {
    match mode {
        Mode::Named => (0..start.len()).collect(),
        Mode::Bottleneck => {
            let changed: Vec<usize> = (0..start.len())
                .filter(|&p| start[p] != current[p])
                .collect();
            if changed.is_empty() {
                bottleneck(&first.utilization).into_iter().collect()
            } else {
                changed
            }
        }
    }
}

/// The pool with the highest utilisation (ties: the first).
fn bottleneck(utilization: &[Option<f64>]) -> Option<usize> {
    let mut best: Option<(usize, f64)> = None;
    for (p, u) in utilization.iter().enumerate() {
        let u = u.unwrap_or(0.0);
        if best.is_none_or(|(_, b)| u > b) {
            best = Some((p, u));
        }
    }
    best.map(|(p, _)| p)
}

/// Pools whose slots some trial changed from the start.
fn changed(start: &[u32], trials: &[Trial]) -> Vec<usize> {
    (0..start.len())
        .filter(|&p| trials.iter().any(|t| t.totals[p] != start[p]))
        .collect()
}

struct Search<'a, E> {
    trials: Vec<Trial>,
    evaluate: &'a mut dyn FnMut(&[u32]) -> Result<Evaluation, E>,
}

impl<E> Search<'_, E> {
    fn run(&mut self, totals: &[u32], step: Step) -> Result<Evaluation, E> {
        let evaluation = (self.evaluate)(totals)?;
        self.trials.push(Trial {
            step,
            totals: totals.to_vec(),
            evaluation: evaluation.clone(),
        });
        Ok(evaluation)
    }

    /// Whether `totals` passes: implied by an earlier trial when one is
    /// comparable (more slots never hurt), else evaluated.
    fn passes(&mut self, totals: &[u32], step: Step) -> Result<bool, E> {
        match self.implied(totals) {
            Some(pass) => Ok(pass),
            None => Ok(self.run(totals, step)?.verdict == Verdict::Pass),
        }
    }

    fn implied(&self, totals: &[u32]) -> Option<bool> {
        let le = |a: &[u32], b: &[u32]| a.iter().zip(b).all(|(x, y)| x <= y);
        self.trials.iter().find_map(|t| {
            let pass = t.evaluation.verdict == Verdict::Pass;
            if pass && le(&t.totals, totals) {
                Some(true)
            } else if !pass && le(totals, &t.totals) {
                Some(false)
            } else {
                None
            }
        })
    }

    /// Phase 1: the shortest passing prefix of the bottleneck chain, or
    /// `None` when `max_added` slots do not pass.
    fn grow(&mut self, start: &[u32], max_added: u32) -> Result<Option<Vec<u32>>, E> {
        let mut chain = vec![start.to_vec()];
        let mut busy = busy_slots(start, &self.last_utilization());
        let (mut failing, mut added) = (0usize, 1u32.min(max_added));
        if added == 0 {
            return Ok(None);
        }
        let passing = loop {
            extend(&mut chain, &busy, added as usize);
            let at = &chain[added as usize].clone();
            if self.passes(at, Step::Grow)? {
                break added as usize;
            }
            busy = busy_slots(at, &self.last_utilization());
            failing = added as usize;
            if added == max_added {
                return Ok(None);
            }
            added = added.saturating_mul(2).min(max_added);
        };
        let (mut lo, mut hi) = (failing, passing);
        while hi - lo > 1 {
            let mid = lo + (hi - lo) / 2;
            if self.passes(&chain[mid].clone(), Step::Bisect)? {
                hi = mid;
            } else {
                lo = mid;
            }
        }
        Ok(Some(chain[hi].clone()))
    }

    fn last_utilization(&self) -> Vec<Option<f64>> {
        self.trials
            .last()
            .map(|t| t.evaluation.utilization.clone())
            .unwrap_or_default()
    }

    /// Phase 2: the fewest slots pool `p` needs (at least `floor`, one per
    /// member) with the others as in `current`, which passes.
    fn trim(&mut self, current: &[u32], p: usize, floor: u32) -> Result<u32, E> {
        let (mut lo, mut hi) = (floor.saturating_sub(1), current[p]);
        while hi - lo > 1 {
            let mid = lo + (hi - lo) / 2;
            let mut at = current.to_vec();
            at[p] = mid;
            if self.passes(&at, Step::Trim)? {
                hi = mid;
            } else {
                lo = mid;
            }
        }
        Ok(hi)
    }
}

/// Each pool's busy slots (utilisation × slots) at `totals`.
fn busy_slots(totals: &[u32], utilization: &[Option<f64>]) -> Vec<f64> {
    totals
        .iter()
        .enumerate()
        .map(|(p, &s)| utilization.get(p).copied().flatten().unwrap_or(0.0) * f64::from(s))
        .collect()
}

/// Extends the chain to `len + 1` configurations, each adding one slot to
/// the pool of highest predicted utilisation, busy ÷ slots (ties: first).
fn extend(chain: &mut Vec<Vec<u32>>, busy: &[f64], len: usize) {
    while chain.len() <= len {
        let last = chain[chain.len() - 1].clone();
        let predicted: Vec<Option<f64>> = last
            .iter()
            .zip(busy)
            .map(|(&s, b)| Some(b / f64::from(s.max(1))))
            .collect();
        let mut next = last;
        if let Some(p) = bottleneck(&predicted) {
            next[p] += 1;
        }
        chain.push(next);
    }
}

/// The member agents' slots for a pool total: slots are added one at a
/// time to the member with the fewest (ties: the first) and removed from
/// the one with the most (ties: the last), never below one.
pub fn distribute(start: &[u32], total: u32) -> Vec<u32> {
    let mut slots = start.to_vec();
    let mut sum: u32 = slots.iter().sum();
    while sum < total {
        let Some(i) = (0..slots.len()).min_by_key(|&i| (slots[i], i)) else {
            break;
        };
        slots[i] += 1;
        sum += 1;
    }
    while sum > total {
        let Some(i) = (0..slots.len())
            .filter(|&i| slots[i] > 1)
            .max_by_key(|&i| (slots[i], i))
        else {
            break;
        };
        slots[i] -= 1;
        sum -= 1;
    }
    slots
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pool(name: &str, slots: &[u32]) -> PoolStart {
        PoolStart {
            name: name.into(),
            agents: (0..slots.len()).map(|i| format!("{name}{i}")).collect(),
            slots: slots.to_vec(),
        }
    }

    /// A fake org: pool p carries `load[p]` busy slots and passes with at
    /// least `need[p]` slots.
    fn fake(load: Vec<f64>, need: Vec<u32>) -> impl FnMut(&[u32]) -> Result<Evaluation, ()> {
        move |totals: &[u32]| {
            let ok = totals.iter().zip(&need).all(|(t, n)| t >= n);
            Ok(Evaluation {
                verdict: if ok { Verdict::Pass } else { Verdict::Fail },
                utilization: totals
                    .iter()
                    .zip(&load)
                    .map(|(&t, l)| Some((l / f64::from(t)).min(1.0)))
                    .collect(),
            })
        }
    }

    fn planned(p: &Plan) -> Vec<u32> {
        p.trials[p.plan.expect("a plan")].totals.clone()
    }

    #[test]
    fn grows_from_far_below_with_few_evaluations() {
        let mut eval = fake(vec![8.0], vec![11]);
        let p = plan(&[pool("s", &[1])], Mode::Bottleneck, 10_000, &mut eval).unwrap();
        assert_eq!(planned(&p), vec![11]);
        assert!(p.trials.len() <= 9, "{} trials", p.trials.len());
        assert_eq!(p.trials[0].step, Step::Start);
    }

    #[test]
    fn trims_from_above() {
        let mut eval = fake(vec![8.0], vec![11]);
        let p = plan(&[pool("s", &[40])], Mode::Bottleneck, 10_000, &mut eval).unwrap();
        assert_eq!(planned(&p), vec![11]);
        assert!(p.trials[1..].iter().all(|t| t.step == Step::Trim));
    }

    #[test]
    fn the_bottleneck_gets_the_slots_and_others_stay() {
        let mut eval = fake(vec![6.0, 2.0, 0.5], vec![9, 3, 1]);
        let pools = [pool("a", &[2, 2]), pool("b", &[3]), pool("c", &[5])];
        let p = plan(&pools, Mode::Bottleneck, 10_000, &mut eval).unwrap();
        assert_eq!(planned(&p), vec![9, 3, 5]);
        // `a` is saturated at the start, so its busy slots are
        // underestimated and `b` gets a slot on the way, trimmed again;
        // `c` is never the bottleneck.
        assert_eq!(p.pools, vec![0, 1]);
    }

    #[test]
    fn named_pools_are_trimmed_too() {
        let mut eval = fake(vec![6.0, 2.0], vec![9, 2]);
        let pools = [pool("a", &[2, 2]), pool("b", &[6])];
        let p = plan(&pools, Mode::Named, 10_000, &mut eval).unwrap();
        assert_eq!(planned(&p), vec![9, 2]);
        assert_eq!(p.pools, vec![0, 1]);
    }

    #[test]
    fn no_plan_within_the_bound() {
        let mut eval = fake(vec![8.0], vec![100]);
        let p = plan(&[pool("s", &[1])], Mode::Bottleneck, 20, &mut eval).unwrap();
        assert_eq!(p.plan, None);
        assert_eq!(p.trials.last().unwrap().totals, vec![21]);
    }

    #[test]
    fn a_pool_keeps_one_slot_per_member() {
        let mut eval = fake(vec![0.1], vec![0]);
        let p = plan(&[pool("s", &[4, 4, 4])], Mode::Named, 10, &mut eval).unwrap();
        assert_eq!(planned(&p), vec![3]);
    }

    #[test]
    fn distribute_adds_to_the_fewest_and_removes_from_the_most() {
        assert_eq!(distribute(&[3, 1, 1], 7), vec![3, 2, 2]);
        assert_eq!(distribute(&[3, 1, 1], 8), vec![3, 3, 2]);
        assert_eq!(distribute(&[4, 4], 5), vec![3, 2]);
        assert_eq!(distribute(&[4, 4], 1), vec![1, 1]);
    }
}
