//! How big a run is before it starts, and the bounds that keep a run from
//! going on without end: the expected number of arrivals (the integral of
//! each load's rate over the load window), a cap on it checked up front,
//! and an event budget checked while the run goes.
//!
//! The estimate is exact in expectation for every arrival process (Poisson,
//! constant, ramp, burst) and exact for traces; it never samples, so it
//! cannot change a run's random draws.

use crate::scenario::{Arrival, Scenario};
use crate::time::SimDuration;

/// Default cap on a run's expected arrivals (`run --max-jobs`).
pub const DEFAULT_MAX_JOBS: u64 = 1_000_000_000;
/// Events any run may use regardless of its load (timers, faults, drain).
pub const BASE_EVENTS: u64 = 10_000_000;
/// Events allowed per expected job on top of [`BASE_EVENTS`]: a job costs
/// about 10 events through the full org; retries, requeues and moves add a
/// few more; 1,000 leaves room for anything but an event storm.
pub const EVENTS_PER_JOB: u64 = 1_000;

/// Limits for one run.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Limits {
    /// The run stops (an error, not a result) after this many events.
    pub max_events: u64,
}

impl Limits {
    /// No limit at all (tests and benches that know their size).
    pub const NONE: Limits = Limits {
        max_events: u64::MAX,
    };

    /// `--max-events N` when given, else [`Limits::for_jobs`].
    pub fn given_or_for_jobs(max_events: Option<u64>, expected_jobs: f64) -> Limits {
        max_events.map_or_else(
            || Limits::for_jobs(expected_jobs),
            |n| Limits { max_events: n },
        )
    }

    /// The default budget for a run expecting `expected_jobs` arrivals.
    pub fn for_jobs(expected_jobs: f64) -> Limits {
        let per_job = (expected_jobs.max(0.0).ceil() as u64).saturating_mul(EVENTS_PER_JOB);
        Limits {
            max_events: BASE_EVENTS.saturating_add(per_job),
        }
    }
}

/// Expected arrivals of every `[[load]]` of the scenario over its duration.
pub fn expected_arrivals(scenario: &Scenario) -> f64 {
    scenario
        .loads
        .iter()
        .map(|l| arrivals_of(&l.arrival, scenario.duration))
        .sum()
}

/// Expected arrivals of one process over `[0, window)`.
pub fn arrivals_of(arrival: &Arrival, window: SimDuration) -> f64 {
    let d = window.as_secs_f64();
    match arrival {
        Arrival::Poisson { rate } | Arrival::Constant { rate } => rate.per_s() * d,
        Arrival::Ramp { from, to, over } => {
            let (from, to, over) = (from.per_s(), to.per_s(), over.as_secs_f64());
            let rising = d.min(over);
            let at_end = from + (to - from) * ratio(rising, over);
            (from + at_end) / 2.0 * rising + to * (d - rising).max(0.0)
        }
        Arrival::Burst {
            base,
            peak,
            every,
            for_,
        } => {
            let (every, for_) = (every.as_secs_f64(), for_.as_secs_f64());
            let periods = (d / every).floor();
            let peak_s = periods * for_ + (d - periods * every).min(for_);
            peak.per_s() * peak_s + base.per_s() * (d - peak_s)
        }
        Arrival::Trace { times, .. } => times.iter().filter(|t| **t < window).count() as f64,
    }
}

fn ratio(a: f64, b: f64) -> f64 {
    if b > 0.0 {
        a / b
    } else {
        1.0
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::time::Rate;

    fn per_s(r: f64) -> Rate {
        Rate::per_second(r)
    }

    #[test]
    fn integrals_of_each_process() {
        let hour = SimDuration::from_secs(3_600);
        let poisson = Arrival::Poisson { rate: per_s(2.0) };
        assert_eq!(arrivals_of(&poisson, hour), 7_200.0);
        // 0 → 10/s over 10 min, then flat at 10/s for 50 min.
        let ramp = Arrival::Ramp {
            from: per_s(0.0),
            to: per_s(10.0),
            over: SimDuration::from_secs(600),
        };
        assert_eq!(arrivals_of(&ramp, hour), 3_000.0 + 30_000.0);
        // Half-way up the ramp: mean rate 2.5/s over 300 s.
        let half = SimDuration::from_secs(300);
        assert_eq!(arrivals_of(&ramp, half), 750.0);
        // 1/s base, 11/s for the first minute of every 10 minutes.
        let burst = Arrival::Burst {
            base: per_s(1.0),
            peak: per_s(11.0),
            every: SimDuration::from_secs(600),
            for_: SimDuration::from_secs(60),
        };
        assert_eq!(arrivals_of(&burst, hour), 3_600.0 + 6.0 * 60.0 * 10.0);
        // 10.5 periods: the half period starts with a full burst minute.
        let w = SimDuration::from_secs(6_300);
        assert_eq!(arrivals_of(&burst, w), 6_300.0 + 11.0 * 600.0);
    }

    #[test]
    fn budget_grows_with_load_and_saturates() {
        assert_eq!(Limits::for_jobs(0.0).max_events, BASE_EVENTS);
        assert_eq!(
            Limits::for_jobs(1_000.0).max_events,
            BASE_EVENTS + 1_000 * EVENTS_PER_JOB
        );
        assert_eq!(Limits::for_jobs(f64::INFINITY).max_events, u64::MAX);
    }
}
