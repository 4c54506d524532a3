//! The workload generator: one arrival stream per `[[load]]`, each with its
//! own random stream, producing (arrival time, task template) pairs until the
//! scenario's duration ends. Time-varying rates (ramp, burst) use thinning
//! of a Poisson process at the peak rate, which is exact for a
//! non-homogeneous Poisson process.

use rand::Rng;
use rand_distr::weighted::WeightedIndex;
use rand_distr::{Distribution, Exp};

use super::dist::secs_to_ns;
use super::rng::{stream, Stream};
use crate::core::TaskIdx;
use crate::scenario::{Arrival, LoadSpec};
use crate::time::{Rate, SimInstant};

/// How the next arrival time is drawn.
#[derive(Clone, Debug)]
enum Process {
    Poisson(Exp<f64>),
    Constant {
        gap_ns: u64,
    },
    /// Thinned Poisson: candidates at `peak`, accepted with rate(t)/peak.
    Thinned {
        peak: Exp<f64>,
        peak_per_s: f64,
        shape: Shape,
    },
    Trace {
        times: Vec<u64>,
        pos: usize,
    },
    Never,
}

#[derive(Clone, Copy, Debug)]
enum Shape {
    Ramp {
        from: f64,
        to: f64,
        over_ns: u64,
    },
    Burst {
        base: f64,
        peak: f64,
        every_ns: u64,
        for_ns: u64,
    },
}

impl Shape {
    fn rate_per_s(self, t_ns: u64) -> f64 {
        match self {
            Shape::Ramp { from, to, over_ns } => {
                let x = if over_ns == 0 {
                    1.0
                } else {
                    (t_ns as f64 / over_ns as f64).min(1.0)
                };
                from + (to - from) * x
            }
            Shape::Burst {
                base,
                peak,
                every_ns,
                for_ns,
            } => {
                if t_ns % every_ns.max(1) < for_ns {
                    peak
                } else {
                    base
                }
            }
        }
    }
}

/// One load stream.
pub struct LoadGen {
    arrivals: Arrivals,
    tasks: WeightedIndex<u32>,
    first_task: u32,
    single_task: bool,
    rng: Stream,
}

/// The times of one arrival process, up to the end of the load window;
/// the draws come from the caller's stream.
#[derive(Clone, Debug)]
pub struct Arrivals {
    process: Process,
    last_ns: u64,
    end_ns: u64,
}

impl Arrivals {
    /// The times of `arrival` before `end`.
    pub fn new(arrival: &Arrival, end: SimInstant) -> Arrivals {
        Arrivals {
            process: process_for(arrival),
            last_ns: 0,
            end_ns: end.as_nanos(),
        }
    }

    /// The next arrival time, drawn from `rng`; `None` once past the end.
    pub fn next(&mut self, rng: &mut Stream) -> Option<SimInstant> {
        let t = self.next_time(rng)?;
        if t >= self.end_ns {
            self.process = Process::Never;
            return None;
        }
        self.last_ns = t;
        Some(SimInstant(t))
    }
}

/// An exponential gap at `rate`; `None` for a zero (or invalid) rate, which
/// never arrives.
fn exp_at(rate: Rate) -> Option<Exp<f64>> {
    if rate.per_s() > 0.0 {
        Exp::new(rate.per_s()).ok()
    } else {
        None
    }
}

fn process_for(arrival: &Arrival) -> Process {
    let thinned = |peak_per_s: f64, shape| match exp_at(Rate::per_second(peak_per_s)) {
        Some(peak) => Process::Thinned {
            peak,
            peak_per_s,
            shape,
        },
        None => Process::Never,
    };
    match arrival {
        Arrival::Poisson { rate } => exp_at(*rate).map_or(Process::Never, Process::Poisson),
        Arrival::Constant { rate } => match rate.mean_gap() {
            Some(gap) => Process::Constant {
                gap_ns: gap.as_nanos().max(1),
            },
            None => Process::Never,
        },
        Arrival::Ramp { from, to, over } => thinned(
            from.per_s().max(to.per_s()),
            Shape::Ramp {
                from: from.per_s(),
                to: to.per_s(),
                over_ns: over.as_nanos(),
            },
        ),
        Arrival::Burst {
            base,
            peak,
            every,
            for_,
        } => thinned(
            base.per_s().max(peak.per_s()),
            Shape::Burst {
                base: base.per_s(),
                peak: peak.per_s(),
                every_ns: every.as_nanos(),
                for_ns: for_.as_nanos(),
            },
        ),
        Arrival::Trace { times, .. } => Process::Trace {
            times: times.iter().map(|t| t.as_nanos()).collect(),
            pos: 0,
        },
    }
}

impl LoadGen {
    /// The generator for load `index`; its tasks are numbered from `first_task`.
    /// Fails (with the reason, for the caller to locate at `load[i].tasks`)
    /// if the task weights cannot be drawn from: none, all zero, or a total
    /// above `u32::MAX` — the scenario validator rejects all three first.
    pub fn new(
        seed: u64,
        index: usize,
        spec: &LoadSpec,
        first_task: u32,
        end: SimInstant,
    ) -> Result<LoadGen, String> {
        let weights: Vec<u32> = spec.tasks.iter().map(|t| t.weight).collect();
        let tasks = WeightedIndex::new(weights)
            .map_err(|e| format!("the task weights cannot be drawn from ({e}); give each task a weight from 1 and keep their total at most {}", u32::MAX))?;
        Ok(LoadGen {
            arrivals: Arrivals::new(&spec.arrival, end),
            tasks,
            first_task,
            single_task: spec.tasks.len() == 1,
            rng: stream(seed, &format!("load/{index}/{}", spec.name)),
        })
    }

    /// The next arrival: its time and the task drawn for it; `None` once the
    /// stream has passed the end of the load window.
    pub fn next_arrival(&mut self) -> Option<(SimInstant, TaskIdx)> {
        let t = self.arrivals.next(&mut self.rng)?;
        let pick = if self.single_task {
            0
        } else {
            self.tasks.sample(&mut self.rng) as u32
        };
        let task = self.first_task + pick;
        Some((t, TaskIdx(task)))
    }
}

impl Arrivals {
    fn next_time(&mut self, rng: &mut Stream) -> Option<u64> {
        match &mut self.process {
            Process::Never => None,
            Process::Poisson(exp) => Some(
                self.last_ns
                    .saturating_add(secs_to_ns(exp.sample(&mut *rng))),
            ),
            Process::Constant { gap_ns } => Some(self.last_ns.saturating_add(*gap_ns)),
            Process::Thinned {
                peak,
                peak_per_s,
                shape,
            } => {
                let mut t = self.last_ns;
                loop {
                    t = t.saturating_add(secs_to_ns(peak.sample(&mut *rng)));
                    if t >= self.end_ns {
                        return Some(t);
                    }
                    let accept = shape.rate_per_s(t) / *peak_per_s;
                    if rng.random::<f64>() < accept {
                        return Some(t);
                    }
                }
            }
            Process::Trace { times, pos } => {
                let t = times.get(*pos).copied();
                *pos += 1;
                t
            }
        }
    }
}
