//! Statistics by job class: by priority and by load stream.
//!
//! Every job belongs to exactly one (priority, load) pair — its task
//! template's priority and the `[[load]]` that drew it. The recorder keeps
//! one record set per pair that the scenario's tasks use, so the hot path
//! costs one extra latency record per measured job and one extra queue-wait
//! record per measured start; the `priorities.<p>` and `loads.<name>`
//! blocks are exact sums of pairs (integer counts and sums, unions of
//! [`Sample`]s), so per-priority counts always add up to the global ones.

use hdrhistogram::Histogram;

use super::sample::Sample;
use super::summary::{ClassSummary, OrderedMap};
use super::{latency_of, per_min, ratio, wait_of};
use crate::core::aggregate::Status;
use crate::core::TaskIdx;
use crate::scenario::Priority;

/// The class of each task template, as the recorder needs it.
#[derive(Clone, Debug, Default)]
pub struct ClassLayout {
    /// `[[load]]` names, in scenario order.
    pub loads: Vec<String>,
    /// Per task template, in [`TaskIdx`] order: its priority and the index
    /// of its load in `loads`.
    pub tasks: Vec<(Priority, u32)>,
}

/// What one (priority, load) pair measured.
struct PairRec {
    priority: Priority,
    load: u32,
    arrived: u64,
    statuses: [u64; 4],
    latency: Sample,
    latency_sum: u128,
    wait: Sample,
    wait_sum: u128,
}

/// A histogram with the global ones' resolution (1 ns, 3 significant
/// digits) that grows with the values it sees: a pair costs memory for
/// the range its own jobs reach, not for the whole horizon.
pub(super) fn growing_histogram() -> Histogram<u64> {
    let mut h = Histogram::new_with_bounds(1, 2, 3).expect("1 ..= 2 are valid histogram bounds");
    h.auto(true);
    h
}

/// Records `value` in a growing histogram. Only a value beyond what any
/// histogram can track fails to grow it; that one is clamped (the global
/// histograms record the same values and count such clamps).
#[inline]
pub(super) fn grow_record(h: &mut Histogram<u64>, value: u64) {
    if h.record(value).is_err() {
        h.saturating_record(value);
    }
}

/// Per-pair records, and the task → pair map.
pub struct Classes {
    loads: Vec<String>,
    /// Task index → index in `pairs`.
    task_pair: Vec<u32>,
    pairs: Vec<PairRec>,
}

impl Classes {
    pub fn new(layout: &ClassLayout) -> Classes {
        let mut pairs: Vec<PairRec> = Vec::new();
        let mut task_pair = Vec::with_capacity(layout.tasks.len());
        for &(priority, load) in &layout.tasks {
            let at = pairs
                .iter()
                .position(|p| p.priority == priority && p.load == load)
                .unwrap_or_else(|| {
                    pairs.push(PairRec {
                        priority,
                        load,
                        arrived: 0,
                        statuses: [0; 4],
                        latency: Sample::default(),
                        latency_sum: 0,
                        wait: Sample::default(),
                        wait_sum: 0,
                    });
                    pairs.len() - 1
                });
            task_pair.push(at as u32);
        }
        Classes {
            loads: layout.loads.clone(),
            task_pair,
            pairs,
        }
    }

    #[inline]
    fn pair(&mut self, task: TaskIdx) -> &mut PairRec {
        &mut self.pairs[self.task_pair[task.0 as usize] as usize]
    }

    /// A measured job arrived.
    #[inline]
    pub fn on_arrival(&mut self, task: TaskIdx) {
        self.pair(task).arrived += 1;
    }

    /// A measured job's work item started after waiting `wait_ns`.
    #[inline]
    pub fn on_wait(&mut self, task: TaskIdx, wait_ns: u64) {
        let p = self.pair(task);
        p.wait.record(wait_ns);
        p.wait_sum += wait_ns as u128;
    }

    /// A measured job ended with `status` after `latency_ns`.
    #[inline]
    pub fn on_result(&mut self, task: TaskIdx, status: Status, latency_ns: u64) {
        let p = self.pair(task);
        p.statuses[status as usize] += 1;
        p.latency.record(latency_ns);
        p.latency_sum += latency_ns as u128;
    }

    /// Every pair's latencies (together: every measured result's).
    pub fn latencies(&self) -> impl Iterator<Item = &Sample> {
        self.pairs.iter().map(|p| &p.latency)
    }

    /// `priorities.<p>`: the priorities some task uses, most urgent first.
    pub fn by_priority(&self, window_s: f64) -> OrderedMap<ClassSummary> {
        let blocks = Priority::ALL.iter().filter_map(|&prio| {
            let block = self.block(|p| p.priority == prio, window_s)?;
            Some((prio.name().to_string(), block))
        });
        OrderedMap(blocks.collect())
    }

    /// `loads.<name>`: every load stream, in scenario order.
    pub fn by_load(&self, window_s: f64) -> OrderedMap<ClassSummary> {
        let blocks = self.loads.iter().enumerate().filter_map(|(i, name)| {
            let block = self.block(|p| p.load == i as u32, window_s)?;
            Some((name.clone(), block))
        });
        OrderedMap(blocks.collect())
    }

    /// The sum of the pairs `member` picks; `None` when it picks none.
    fn block(&self, member: impl Fn(&PairRec) -> bool, window_s: f64) -> Option<ClassSummary> {
        let picked: Vec<&PairRec> = self.pairs.iter().filter(|p| member(p)).collect();
        if picked.is_empty() {
            return None;
        }
        let mut arrived = 0;
        let mut statuses = [0u64; 4];
        let (mut latency_sum, mut wait_sum) = (0u128, 0u128);
        for p in &picked {
            arrived += p.arrived;
            for (sum, n) in statuses.iter_mut().zip(p.statuses) {
                *sum += n;
            }
            latency_sum += p.latency_sum;
            wait_sum += p.wait_sum;
        }
        let latency = Sample::merged(&picked.iter().map(|p| &p.latency).collect::<Vec<_>>());
        let wait = Sample::merged(&picked.iter().map(|p| &p.wait).collect::<Vec<_>>());
        Some(class_summary(
            arrived,
            statuses,
            window_s,
            latency_of(&*latency, latency_sum),
            wait_of(&*wait, wait_sum),
        ))
    }
}

fn class_summary(
    arrived: u64,
    statuses: [u64; 4],
    window_s: f64,
    latency_ns: super::summary::Latency,
    queue_wait_ns: super::summary::QueueWait,
) -> ClassSummary {
    let at = |s: Status| statuses[s as usize];
    let ok = (at(Status::Completed) + at(Status::CompletedWithWarnings)) as f64;
    ClassSummary {
        arrived,
        completed: at(Status::Completed),
        completed_with_warnings: at(Status::CompletedWithWarnings),
        partial: at(Status::Partial),
        failed: at(Status::Failed),
        // Measured jobs without a result are still running: a job is
        // never lost (the global `jobs.lost` checks that).
        in_flight_at_end: arrived.saturating_sub(statuses.iter().sum()),
        completion: ratio(ok, arrived as f64),
        throughput_per_min: per_min(ok, window_s),
        latency_ns,
        queue_wait_ns,
    }
}
