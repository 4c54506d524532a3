//! Exploration (DESIGN.md §9): one scenario under many seeds, each run
//! checked for invariants after every event and for liveness at its end,
//! in the manner of FoundationDB's simulation and TigerBeetle's VOPR.
//!
//! This module is the sans-IO part: the seeds, the swarm fault schedules
//! ([`swarm`]), what one seed's run found ([`SeedRun`]), and the tally
//! over all of them ([`Tally`]) that decides the exit code. Running the
//! seeds in parallel and writing files is the CLI's (`esa-sim explore`).
//! SLO breaches are counted, never failures: random faults are expected
//! to breach SLOs; a violated invariant (a bug, exit 3) or a job left
//! without a result once faults healed (liveness, exit 1) is a failure.

pub mod shrink;
pub mod swarm;

use std::collections::BTreeMap;

use serde::Serialize;

use crate::scenario::FaultSpec;
use crate::sim::{Liveness, RunOutput};

/// What failed in a seed's run, worst first.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Failure {
    /// An invariant was violated: a bug in esa-sim.
    Invariant,
    /// Jobs were left without a result after load stopped and faults healed.
    Liveness,
    /// The run used up its event budget before the end.
    Budget,
}

impl Failure {
    pub fn name(self) -> &'static str {
        match self {
            Failure::Invariant => "invariant",
            Failure::Liveness => "liveness",
            Failure::Budget => "event budget",
        }
    }
}

/// What one seed's run found.
#[derive(Clone, Debug)]
pub struct SeedRun {
    /// Position in the exploration (0 is the scenario's own seed).
    pub index: u32,
    pub seed: u64,
    /// The fault schedule it ran (the scenario's, or the one it drew).
    pub faults: Vec<FaultSpec>,
    pub outcome: Outcome,
}

/// How a seed's run ended.
#[derive(Clone, Debug)]
pub enum Outcome {
    Finished {
        violations: Vec<String>,
        liveness: Liveness,
        /// Keys of the SLOs it breached.
        breached: Vec<String>,
        events: u64,
    },
    /// Stopped by the event budget (the message says where).
    OverBudget(String),
}

impl SeedRun {
    /// Judges a finished run whose SLOs have been evaluated.
    pub fn finished(index: u32, seed: u64, faults: Vec<FaultSpec>, output: &RunOutput) -> SeedRun {
        let breached = (output.summary.slo.iter())
            .filter(|v| !v.pass)
            .map(|v| v.metric.clone())
            .collect();
        SeedRun {
            index,
            seed,
            faults,
            outcome: Outcome::Finished {
                violations: output.violations.clone(),
                liveness: output.liveness.clone(),
                breached,
                events: output.events,
            },
        }
    }

    /// A run stopped by its event budget (`message` says where).
    pub fn over_budget(index: u32, seed: u64, faults: Vec<FaultSpec>, message: &str) -> SeedRun {
        SeedRun {
            index,
            seed,
            faults,
            outcome: Outcome::OverBudget(message.to_string()),
        }
    }

    /// The worst failure, if any.
    pub fn failure(&self) -> Option<Failure> {
        match &self.outcome {
            Outcome::Finished { violations, .. } if !violations.is_empty() => {
                Some(Failure::Invariant)
            }
            Outcome::Finished { liveness, .. } if !liveness.holds() => Some(Failure::Liveness),
            Outcome::Finished { .. } => None,
            Outcome::OverBudget(_) => Some(Failure::Budget),
        }
    }

    /// The first job liveness found stuck, to follow with `run --trace`.
    pub fn first_stuck(&self) -> Option<u64> {
        match &self.outcome {
            Outcome::Finished { liveness, .. } => liveness.first_stuck.first().map(|j| j.0),
            Outcome::OverBudget(_) => None,
        }
    }

    /// What went wrong, one message per line.
    pub fn messages(&self) -> Vec<String> {
        match &self.outcome {
            Outcome::Finished {
                violations,
                liveness,
                ..
            } => violations
                .iter()
                .cloned()
                .chain(liveness.failure())
                .collect(),
            Outcome::OverBudget(message) => vec![message.clone()],
        }
    }
}

/// Counts over every seed, for the table and explore.json.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
pub struct Tally {
    pub seeds: u64,
    pub ok: u64,
    pub invariant: u64,
    pub liveness: u64,
    pub budget: u64,
    /// Seeds that breached at least one SLO (not failures).
    pub slo_breached: u64,
    /// Per SLO key: seeds that breached it.
    pub breaches: BTreeMap<String, u64>,
    /// Faults scheduled over all seeds, and of them permanent.
    pub faults: u64,
    pub permanent_faults: u64,
    /// Jobs open at a run's end that a never-ending fault held, summed.
    pub jobs_excused: u64,
    pub events: u64,
}

impl Tally {
    pub fn of(runs: &[SeedRun]) -> Tally {
        let mut t = Tally::default();
        for r in runs {
            t.add(r);
        }
        t
    }

    fn add(&mut self, r: &SeedRun) {
        self.seeds += 1;
        self.faults += r.faults.len() as u64;
        self.permanent_faults += r.faults.iter().filter(|f| f.end().is_none()).count() as u64;
        match r.failure() {
            None => self.ok += 1,
            Some(Failure::Invariant) => self.invariant += 1,
            Some(Failure::Liveness) => self.liveness += 1,
            Some(Failure::Budget) => self.budget += 1,
        }
        if let Outcome::Finished {
            liveness,
            breached,
            events,
            ..
        } = &r.outcome
        {
            self.events += events;
            self.jobs_excused += liveness.excused;
            if !breached.is_empty() {
                self.slo_breached += 1;
            }
            for key in breached {
                *self.breaches.entry(key.clone()).or_default() += 1;
            }
        }
    }

    /// 3 if an invariant failed, else 1 if liveness did, else 2 if a run
    /// was stopped by its event budget, else 0.
    pub fn exit_code(&self) -> i32 {
        use crate::cli::exit;
        if self.invariant > 0 {
            exit::INVARIANT
        } else if self.liveness > 0 {
            exit::SLO_BREACHED
        } else if self.budget > 0 {
            exit::BAD_INPUT
        } else {
            exit::OK
        }
    }
}
