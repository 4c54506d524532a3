//! Measurement: HdrHistograms (3 significant digits) for latency and queue
//! wait, exact integer sums for means, counters per outcome, busy-slot
//! integrals for utilisation, and an interval time series.
//!
//! The recorder is fed by the driver from the core's actions; it never
//! changes the simulation. Memory is bounded by the org's size, not by the
//! number of jobs (no per-job storage: small distributions are raw values
//! up to a cap, see [`sample`]) nor of intervals (older ones spill to a
//! temporary file, see [`spool`]).
//! Jobs arriving before the warm-up ends are simulated but not measured.

pub mod classes;
pub mod hlog;
pub mod meter;
mod observe;
pub mod sample;
pub mod spool;
pub mod summary;

use hdrhistogram::Histogram;

use crate::core::aggregate::Status;
use crate::core::{AgentIdx, Core, DomainIdx, PoolIdx, Stranded, TaskIdx};
use crate::time::SimInstant;
pub use classes::ClassLayout;
use classes::Classes;
use meter::Integral;
use sample::Sample;
use summary::*;

/// The least highest value the histograms track: 30 simulated days. Runs
/// whose horizon is longer get histograms sized to the horizon instead.
const HIST_MIN_MAX_NS: u64 = 30 * 86_400 * 1_000_000_000;

/// The highest value the histograms must track for a run that ends by
/// `horizon`: every latency and queue wait is at most the horizon, since
/// nothing happens before 0 or after it.
pub fn histogram_max_ns(horizon: SimInstant) -> u64 {
    horizon.as_nanos().max(HIST_MIN_MAX_NS)
}

/// A histogram tracking 1 ns ..= `max_ns` to 3 significant digits.
pub(crate) fn histogram(max_ns: u64) -> Histogram<u64> {
    // Bounds are valid for any max_ns >= 2: HIST_MIN_MAX_NS guarantees it.
    Histogram::new_with_bounds(1, max_ns.max(HIST_MIN_MAX_NS), 3)
        .expect("1 ..= max_ns >= 30 d are valid histogram bounds")
}

/// The static shape of the org, as the recorder needs it.
#[derive(Clone, Debug)]
pub struct Layout {
    /// (id, name) per domain, in org order.
    pub domains: Vec<(String, String)>,
    pub agents: Vec<AgentLayout>,
    /// Each task template's priority and load stream.
    pub classes: ClassLayout,
}

#[derive(Clone, Debug)]
pub struct AgentLayout {
    pub id: String,
    pub kind: String,
    pub domain: Option<DomainIdx>,
    pub pool: Option<PoolIdx>,
    pub slots: u32,
}

/// One row of `timeseries.csv`.
#[derive(Clone, Debug, serde::Serialize, serde::Deserialize)]
pub struct SeriesRow {
    pub start_ns: u64,
    pub end_ns: u64,
    pub arrivals: u64,
    pub completed: u64,
    pub partial: u64,
    pub failed: u64,
    pub in_flight: u64,
    pub p50_ns: u64,
    pub p99_ns: u64,
    pub domain_queue: Vec<u64>,
    pub domain_util: Vec<f64>,
    /// Balancing escalations raised in the interval, levels 1–4.
    pub escalations: [u64; 4],
    pub moved: u64,
    pub shed: u64,
}

#[derive(Default)]
struct Bucket {
    arrivals: u64,
    statuses: [u64; 4],
    escalations: [u64; 4],
    moved: u64,
    shed: u64,
}

struct DomainRec {
    subtasks: u64,
    statuses: [u64; 4],
    latency: Sample,
    latency_sum: u128,
    busy: Integral,
    busy_at_interval: u128,
    capacity: u64,
    retries: u64,
    rejected: u64,
    wait: Sample,
    wait_sum: u128,
}

#[derive(Default)]
struct AgentRec {
    busy: Integral,
    attempts: u64,
    failed_attempts: u64,
    wait_sum: u128,
    wait_count: u64,
    /// When a fault first silenced it (crash or lost heartbeats): what
    /// detection and re-dispatch times count from.
    silent_since: Option<SimInstant>,
}

/// Collects everything a report needs, as the run goes.
pub struct Recorder {
    layout: Layout,
    warmup_ns: u64,
    end_ns: u64,
    interval_ns: u64,
    next_boundary_ns: u64,
    arrived_all: u64,
    arrived: u64,
    statuses_all: [u64; 4],
    statuses: [u64; 4],
    latency: Histogram<u64>,
    latency_sum: u128,
    wait_sum: u128,
    workers_sum: u64,
    work: WorkCounts,
    in_system: Integral,
    sojourn_sum_all: u128,
    domains: Vec<DomainRec>,
    agents: Vec<AgentRec>,
    classes: Classes,
    /// Busy areas at warm-up end and load end, taken lazily.
    window_marks: Vec<(u64, Vec<u128>)>,
    next_mark_ns: u64,
    bucket: Bucket,
    bucket_latency: Histogram<u64>,
    /// Each interval's latency histogram, encoded (`latency.hlog`).
    interval_log: hlog::IntervalLog,
    /// One row per closed interval (bounded memory, see [`spool`]).
    series: spool::Spool<SeriesRow>,
    /// Where the last closed interval ended.
    last_end_ns: u64,
    faults: FaultStats,
    balancing: BalancingStats,
    /// The histograms' highest tracked value, and how many records were
    /// above it (clamped; only a bug can make it non-zero, see
    /// [`histogram_max_ns`]).
    hist_max_ns: u64,
    saturated: u64,
    /// (start, end) of the fault window, and successes during and after it.
    fault_window: Option<(u64, Option<u64>)>,
    /// What faults left stranded at the end (set by the driver).
    stranded: Stranded,
    ok_during: u64,
    ok_after: u64,
    /// The D4 model's rows, one per interval (set by the sim at the end).
    realtime_series: Option<Vec<crate::realtime::RtRow>>,
}

impl Recorder {
    /// A recorder for a run measuring arrivals in `warmup..end` and
    /// stopping by `horizon` (duration + drain).
    pub fn new(
        layout: Layout,
        warmup: SimInstant,
        end: SimInstant,
        horizon: SimInstant,
        interval_ns: u64,
    ) -> Recorder {
        let hist_max_ns = histogram_max_ns(horizon);
        let domains = (0..layout.domains.len())
            .map(|d| DomainRec {
                subtasks: 0,
                statuses: [0; 4],
                latency: Sample::default(),
                latency_sum: 0,
                busy: Integral::default(),
                busy_at_interval: 0,
                capacity: layout
                    .agents
                    .iter()
                    .filter(|a| a.domain == Some(DomainIdx(d as u8)))
                    .map(|a| a.slots as u64)
                    .sum(),
                retries: 0,
                rejected: 0,
                wait: Sample::default(),
                wait_sum: 0,
            })
            .collect();
        let agents = layout.agents.iter().map(|_| AgentRec::default()).collect();
        let classes = Classes::new(&layout.classes);
        Recorder {
            layout,
            warmup_ns: warmup.as_nanos(),
            end_ns: end.as_nanos(),
            interval_ns: interval_ns.max(1),
            next_boundary_ns: interval_ns.max(1),
            arrived_all: 0,
            arrived: 0,
            statuses_all: [0; 4],
            statuses: [0; 4],
            latency: histogram(hist_max_ns),
            latency_sum: 0,
            wait_sum: 0,
            workers_sum: 0,
            work: WorkCounts::default(),
            in_system: Integral::default(),
            sojourn_sum_all: 0,
            domains,
            agents,
            classes,
            window_marks: Vec::new(),
            next_mark_ns: warmup.as_nanos(),
            bucket: Bucket::default(),
            bucket_latency: histogram(hist_max_ns),
            interval_log: hlog::IntervalLog::default(),
            series: spool::Spool::default(),
            last_end_ns: 0,
            faults: FaultStats::default(),
            balancing: BalancingStats::default(),
            hist_max_ns,
            saturated: 0,
            fault_window: None,
            stranded: Stranded::default(),
            ok_during: 0,
            ok_after: 0,
            realtime_series: None,
        }
    }

    /// Holds up to `intervals` closed intervals in memory before spilling
    /// them to a temporary file (default [`spool::KEEP_IN_MEMORY`]); the
    /// reports are the same bytes either way. Call before the run starts.
    pub fn keep_in_memory(&mut self, intervals: usize) {
        debug_assert!(self.series.is_empty(), "set before any interval closes");
        self.series = spool::Spool::with_keep(intervals);
        self.interval_log = hlog::IntervalLog::with_keep(intervals);
    }

    /// The span of the fault timeline, for during/after throughput.
    pub fn set_fault_window(&mut self, window: Option<(SimInstant, Option<SimInstant>)>) {
        self.fault_window = window.map(|(s, e)| (s.as_nanos(), e.map(|e| e.as_nanos())));
        self.faults.window_ns = self
            .fault_window
            .map(|(start, end)| FaultWindow { start, end });
    }

    /// What faults left stranded when the run ended (the core's
    /// [`Core::stranded`] at the end); decides whether the org recovered.
    pub fn set_stranded(&mut self, stranded: Stranded) {
        self.stranded = stranded;
    }

    /// Whether the org recovered from its faults by the end: nothing they
    /// stranded is still stranded. A run without faults has recovered.
    fn recovered(&self) -> bool {
        self.fault_window.is_none() || self.stranded.is_empty()
    }

    /// A crash took `busy` running attempts with it.
    pub fn on_agent_down(&mut self, t: SimInstant, agent: AgentIdx, domain: DomainIdx, busy: u32) {
        let t = t.as_nanos();
        self.agents[agent.0 as usize].busy.sub(t, busy as u64);
        self.domains[domain.0 as usize].busy.sub(t, busy as u64);
        self.faults.attempts_lost += busy as u64;
    }

    pub fn on_detection(&mut self, agent: AgentIdx, t: SimInstant, after_ns: u64) {
        self.faults.detections.push(Detection {
            agent: self.layout.agents[agent.0 as usize].id.clone(),
            at_ns: t.as_nanos(),
            detected_after_ns: after_ns,
        });
    }

    pub fn on_redispatch(&mut self, since_fault_ns: u64) {
        self.faults.orphans_redispatched += 1;
        self.faults.max_redispatch_ns = self.faults.max_redispatch_ns.max(since_fault_ns);
    }

    pub fn on_requeue(&mut self) {
        self.faults.requeues += 1;
    }

    pub fn on_late_result(&mut self) {
        self.faults.late_results_discarded += 1;
    }

    pub fn on_escalation(&mut self, level: u8) {
        let i = (level.clamp(1, 4) - 1) as usize;
        self.balancing.escalations[i] += 1;
        self.bucket.escalations[i] += 1;
    }

    pub fn on_moved(&mut self, across: bool) {
        if across {
            self.balancing.moved_across_divisions += 1;
        } else {
            self.balancing.moved_within_division += 1;
        }
        self.bucket.moved += 1;
    }

    pub fn on_shed(&mut self) {
        self.balancing.shed += 1;
        self.bucket.shed += 1;
    }

    pub fn on_slots_added(&mut self, slots: u32) {
        self.balancing.slots_added += slots as u64;
    }

    pub fn on_outage_rejected(&mut self) {
        self.faults.outage_rejections += 1;
    }

    #[inline]
    fn measured(&self, scheduled_ns: u64) -> bool {
        scheduled_ns >= self.warmup_ns && scheduled_ns < self.end_ns
    }

    /// Closes every interval and window mark at or before `t`. Call before
    /// applying the events at `t`: the state seen is the state at each mark.
    #[inline]
    pub fn advance_to(&mut self, t: SimInstant, core: &Core) {
        let t = t.as_nanos();
        if t >= self.next_boundary_ns {
            self.close_intervals(t, core);
        }
        if t >= self.next_mark_ns {
            self.take_window_marks(t);
        }
    }

    fn take_window_marks(&mut self, t: u64) {
        for mark in [self.warmup_ns, self.end_ns] {
            if self.window_marks.iter().any(|(m, _)| *m == mark) || t < mark {
                continue;
            }
            let areas = self.agents.iter().map(|a| a.busy.area_at(mark)).collect();
            self.window_marks.push((mark, areas));
        }
        self.next_mark_ns = [self.warmup_ns, self.end_ns]
            .into_iter()
            .filter(|m| !self.window_marks.iter().any(|(x, _)| x == m))
            .min()
            .unwrap_or(u64::MAX);
    }

    fn close_intervals(&mut self, t: u64, core: &Core) {
        while self.next_boundary_ns <= t {
            let end = self.next_boundary_ns;
            self.close_interval(end, core);
            self.next_boundary_ns += self.interval_ns;
        }
    }

    fn close_interval(&mut self, end: u64, core: &Core) {
        let start = self.last_end_ns;
        self.last_end_ns = end;
        let span = (end - start).max(1) as f64;
        let mut domain_queue = Vec::with_capacity(self.domains.len());
        let mut domain_util = Vec::with_capacity(self.domains.len());
        for (d, rec) in self.domains.iter_mut().enumerate() {
            domain_queue.push(core.queued_in_domain(DomainIdx(d as u8)) as u64);
            let area = rec.busy.area_at(end);
            let used = (area - rec.busy_at_interval) as f64;
            rec.busy_at_interval = area;
            domain_util.push(if rec.capacity == 0 {
                0.0
            } else {
                used / (rec.capacity as f64 * span)
            });
        }
        let b = std::mem::take(&mut self.bucket);
        let [p50_ns, p99_ns] = quantiles(&self.bucket_latency, [0.5, 0.99]);
        self.series.push(SeriesRow {
            start_ns: start,
            end_ns: end,
            arrivals: b.arrivals,
            completed: b.statuses[0] + b.statuses[1],
            partial: b.statuses[2],
            failed: b.statuses[3],
            in_flight: core.jobs_in_flight(),
            p50_ns,
            p99_ns,
            domain_queue,
            domain_util,
            escalations: b.escalations,
            moved: b.moved,
            shed: b.shed,
        });
        self.interval_log.push(start, end, &self.bucket_latency);
        self.bucket_latency.reset();
    }

    /// The D4 model's time-series rows, aligned with [`Recorder::series`].
    pub fn set_realtime_series(&mut self, rows: Vec<crate::realtime::RtRow>) {
        self.realtime_series = Some(rows);
    }

    pub fn realtime_series(&self) -> Option<&[crate::realtime::RtRow]> {
        self.realtime_series.as_deref()
    }

    /// The latency histogram of every interval, encoded.
    pub fn interval_log(&self) -> &hlog::IntervalLog {
        &self.interval_log
    }

    // ---- events ---------------------------------------------------------

    #[inline]
    pub fn on_arrival(&mut self, t: SimInstant, task: TaskIdx) {
        let t = t.as_nanos();
        self.arrived_all += 1;
        self.in_system.add(t, 1);
        self.bucket.arrivals += 1;
        if self.measured(t) {
            self.arrived += 1;
            self.classes.on_arrival(task);
        }
    }

    #[inline]
    pub fn on_subtask(&mut self, scheduled: SimInstant, domain: DomainIdx) {
        if self.measured(scheduled.as_nanos()) {
            self.domains[domain.0 as usize].subtasks += 1;
        }
    }

    #[inline]
    pub fn on_start(
        &mut self,
        t: SimInstant,
        agent: AgentIdx,
        domain: DomainIdx,
        queued_at: SimInstant,
        task: TaskIdx,
    ) {
        let t = t.as_nanos();
        let measured = self.measured(queued_at.as_nanos());
        let a = &mut self.agents[agent.0 as usize];
        a.busy.add(t, 1);
        a.attempts += 1;
        self.domains[domain.0 as usize].busy.add(t, 1);
        self.work.attempts += 1;
        if measured {
            let wait = t - queued_at.as_nanos();
            a.wait_sum += wait as u128;
            a.wait_count += 1;
            self.wait_sum += wait as u128;
            let d = &mut self.domains[domain.0 as usize];
            record_growing(&mut d.wait, wait, self.hist_max_ns, &mut self.saturated);
            d.wait_sum += wait as u128;
            self.classes.on_wait(task, wait);
        }
    }

    /// An attempt ended (`busy_ns` of service). `ok = false`: it failed.
    #[inline]
    pub fn on_finish(
        &mut self,
        t: SimInstant,
        agent: AgentIdx,
        domain: DomainIdx,
        ok: bool,
        busy_ns: u64,
    ) {
        let t = t.as_nanos();
        let a = &mut self.agents[agent.0 as usize];
        a.busy.sub(t, 1);
        self.domains[domain.0 as usize].busy.sub(t, 1);
        if ok {
            self.work.succeeded += 1;
        } else {
            a.failed_attempts += 1;
            self.work.failed_attempts += 1;
            self.work.wasted_ns += busy_ns;
        }
    }

    pub fn on_retry(&mut self, domain: DomainIdx) {
        self.work.retries += 1;
        self.domains[domain.0 as usize].retries += 1;
    }

    pub fn on_rejected(&mut self, domain: DomainIdx) {
        self.work.rejected += 1;
        self.domains[domain.0 as usize].rejected += 1;
    }

    pub fn on_work_failed(&mut self) {
        self.work.failed_items += 1;
    }

    #[inline]
    pub fn on_domain_result(
        &mut self,
        t: SimInstant,
        domain: DomainIdx,
        scheduled: SimInstant,
        status: Status,
    ) {
        if !self.measured(scheduled.as_nanos()) {
            return;
        }
        let latency = t.as_nanos() - scheduled.as_nanos();
        let d = &mut self.domains[domain.0 as usize];
        d.statuses[status as usize] += 1;
        record_growing(
            &mut d.latency,
            latency,
            self.hist_max_ns,
            &mut self.saturated,
        );
        d.latency_sum += latency as u128;
    }

    #[inline]
    pub fn on_job_result(
        &mut self,
        t: SimInstant,
        task: TaskIdx,
        scheduled: SimInstant,
        status: Status,
        workers: u16,
    ) {
        let (t, s) = (t.as_nanos(), scheduled.as_nanos());
        let latency = t - s;
        self.in_system.sub(t, 1);
        self.sojourn_sum_all += latency as u128;
        self.statuses_all[status as usize] += 1;
        self.bucket.statuses[status as usize] += 1;
        record(&mut self.bucket_latency, latency, &mut self.saturated);
        // Both rates are over the load window: results in the drain would
        // inflate them against a denominator that ends with the load.
        if let (Some((start, end)), true) = (self.fault_window, status.is_success()) {
            match end {
                _ if t < start || t >= self.end_ns => {}
                Some(end) if t >= end => self.ok_after += 1,
                _ => self.ok_during += 1,
            }
        }
        if self.measured(s) {
            self.statuses[status as usize] += 1;
            self.latency_sum += latency as u128;
            self.workers_sum += workers as u64;
            self.classes.on_result(task, status, latency);
        }
    }

    /// The time series so far, one row per closed interval.
    pub fn series(&self) -> &spool::Spool<SeriesRow> {
        &self.series
    }

    /// The overall latency histogram (measured jobs), once [`Recorder::finish`]ed.
    pub fn latency_histogram(&self) -> &Histogram<u64> {
        &self.latency
    }

    pub fn layout(&self) -> &Layout {
        &self.layout
    }

    /// What the recorder could not measure faithfully: records clamped by
    /// the histograms' range. The range covers the whole run, so any entry
    /// here is a bug in esa-sim (the run exits 3).
    pub fn violations(&self) -> Vec<String> {
        if self.saturated == 0 {
            return Vec::new();
        }
        vec![format!(
            "{} latency or queue-wait records were above the histograms' highest trackable value ({} ns) and were clamped",
            self.saturated, self.hist_max_ns
        )]
    }

    /// Closes the last (possibly partial) interval at the run's end and
    /// fills the overall latency histogram. Call once.
    pub fn finish(&mut self, end: SimInstant, core: &Core) {
        self.advance_to(end, core);
        if end.as_nanos() > self.last_end_ns {
            self.close_interval(end.as_nanos(), core);
        }
        // The measured jobs' latencies are exactly the union of the job
        // classes' (each measured result is recorded in its class), so the
        // hot path records them once, not twice.
        for sample in self.classes.latencies() {
            sample.record_into(&mut self.latency, &mut self.saturated);
        }
    }

    /// Builds the summary (SLO verdicts are filled in by the caller).
    pub fn summary(&self, end: SimInstant, core: &Core, scenario: ScenarioRef) -> Summary {
        let end_ns = end.as_nanos();
        let window_s = (self.end_ns - self.warmup_ns) as f64 / 1e9;
        let jobs = counts(self.arrived, &self.statuses, 0);
        let in_flight_all = core.jobs_in_flight();
        let jobs_all = counts(self.arrived_all, &self.statuses_all, in_flight_all);
        let jobs = JobCounts {
            in_flight_at_end: jobs
                .arrived
                .saturating_sub(jobs.results())
                .min(in_flight_all),
            ..jobs
        };
        let jobs = JobCounts {
            lost: jobs.arrived - jobs.results() - jobs.in_flight_at_end,
            ..jobs
        };
        let ok = (jobs.completed + jobs.completed_with_warnings) as f64;
        Summary {
            esa_sim_version: env!("CARGO_PKG_VERSION").to_string(),
            scenario,
            window_ns: Window {
                start: self.warmup_ns,
                end: self.end_ns,
            },
            sim_end_ns: end_ns,
            jobs,
            jobs_all,
            throughput_per_min: per_min(ok, window_s),
            completion: ratio(ok, jobs.arrived as f64),
            latency_ns: latency_of(&self.latency, self.latency_sum),
            queue_wait_ns: wait_of(&*self.merged_wait(), self.wait_sum),
            workers_per_job_mean: ratio(self.workers_sum as f64, jobs.results() as f64),
            utilization: self.utilization_overall(),
            recovery_time_ns: self.recovered().then_some(self.faults.max_redispatch_ns),
            recovered: self.recovered(),
            work: self.work,
            faults: self.fault_stats(),
            balancing: self.balancing,
            little: self.little(end_ns),
            domains: self.domain_summaries(core, window_s),
            priorities: self.classes.by_priority(window_s),
            loads: self.classes.by_load(window_s),
            agents: self.agent_summaries(core),
            realtime: None,
            slo: Vec::new(),
            passed: true,
        }
    }

    fn fault_stats(&self) -> FaultStats {
        let mut f = self.faults.clone();
        let Some((start, end)) = self.fault_window else {
            // No faults: both rates stay 0, as in every report so far.
            f.throughput_after_per_min = Some(0.0);
            return f;
        };
        f.stranded_at_end = self.stranded;
        let during_end = end.unwrap_or(self.end_ns).min(self.end_ns.max(start));
        f.throughput_during_per_min = per_min(
            self.ok_during as f64,
            during_end.saturating_sub(start) as f64 / 1e9,
        );
        // No after-period to measure when the faults never end or end
        // after the load does: null, not 0/min.
        f.throughput_after_per_min = end
            .filter(|end| *end < self.end_ns)
            .map(|end| per_min(self.ok_after as f64, (self.end_ns - end) as f64 / 1e9));
        f
    }

    /// Queue waits of all domains in one distribution (recorded per domain
    /// only, to keep the hot path to one record per start).
    fn merged_wait(&self) -> std::borrow::Cow<'_, Sample> {
        Sample::merged(&self.domains.iter().map(|d| &d.wait).collect::<Vec<_>>())
    }

    fn window_busy(&self, agent: usize) -> u128 {
        let at = |mark: u64| {
            self.window_marks
                .iter()
                .find(|(m, _)| *m == mark)
                .map_or_else(|| self.agents[agent].busy.area_at(mark), |(_, v)| v[agent])
        };
        at(self.end_ns).saturating_sub(at(self.warmup_ns))
    }

    fn window_ns(&self) -> f64 {
        (self.end_ns - self.warmup_ns).max(1) as f64
    }

    fn utilization_overall(&self) -> f64 {
        let busy: u128 = (0..self.agents.len()).map(|a| self.window_busy(a)).sum();
        let slots: u64 = self
            .layout
            .agents
            .iter()
            .filter(|a| a.domain.is_some())
            .map(|a| a.slots as u64)
            .sum();
        ratio(busy as f64, slots as f64 * self.window_ns())
    }

    fn little(&self, end_ns: u64) -> Little {
        let area = self.in_system.area_at(end_ns);
        let results: u64 = self.statuses_all.iter().sum();
        let t = end_ns.max(1) as f64;
        Little {
            jobs_in_system_area_ns: area,
            sojourn_sum_ns: self.sojourn_sum_all,
            time_ns: end_ns,
            mean_in_system: area as f64 / t,
            arrival_rate_per_s: self.arrived_all as f64 / (t / 1e9),
            mean_sojourn_s: ratio(self.sojourn_sum_all as f64 / 1e9, results as f64),
        }
    }

    fn domain_summaries(&self, core: &Core, window_s: f64) -> OrderedMap<DomainSummary> {
        let mut out = Vec::new();
        for (d, rec) in self.domains.iter().enumerate() {
            let (id, name) = &self.layout.domains[d];
            let busy: u128 = self
                .layout
                .agents
                .iter()
                .enumerate()
                .filter(|(_, a)| a.domain == Some(DomainIdx(d as u8)))
                .map(|(i, _)| self.window_busy(i))
                .sum();
            let max_queue = core.config().domains[d]
                .pools
                .iter()
                .map(|p| core.pool_queue(*p).1 as u64)
                .sum();
            let ok = (rec.statuses[0] + rec.statuses[1]) as f64;
            out.push((
                id.clone(),
                DomainSummary {
                    name: name.clone(),
                    arrived: rec.subtasks,
                    completed: rec.statuses[0],
                    completed_with_warnings: rec.statuses[1],
                    partial: rec.statuses[2],
                    failed: rec.statuses[3],
                    completion: ratio(ok, rec.subtasks as f64),
                    throughput_per_min: per_min(ok, window_s),
                    capacity_slots: rec.capacity,
                    utilization: ratio(busy as f64, rec.capacity as f64 * self.window_ns()),
                    max_queue_depth: max_queue,
                    queue_wait_ns: wait_of(&rec.wait, rec.wait_sum),
                    latency_ns: latency_of(&rec.latency, rec.latency_sum),
                    retries: rec.retries,
                    rejected: rec.rejected,
                },
            ));
        }
        OrderedMap(out)
    }

    fn agent_summaries(&self, core: &Core) -> OrderedMap<AgentSummary> {
        let mut out = Vec::new();
        for (i, a) in self.layout.agents.iter().enumerate() {
            let (Some(domain), Some(pool)) = (a.domain, a.pool) else {
                continue;
            };
            let rec = &self.agents[i];
            out.push((
                a.id.clone(),
                AgentSummary {
                    kind: a.kind.clone(),
                    domain: self.layout.domains[domain.0 as usize].0.clone(),
                    slots: a.slots as u64,
                    utilization: ratio(
                        self.window_busy(i) as f64,
                        a.slots as f64 * self.window_ns(),
                    ),
                    attempts: rec.attempts,
                    failed_attempts: rec.failed_attempts,
                    max_queue_depth: core.pool_queue(pool).1 as u64,
                    queue_wait_mean_ns: ratio(rec.wait_sum as f64, rec.wait_count as f64),
                },
            ));
        }
        OrderedMap(out)
    }
}

fn counts(arrived: u64, statuses: &[u64; 4], in_flight: u64) -> JobCounts {
    let results: u64 = statuses.iter().sum();
    JobCounts {
        arrived,
        completed: statuses[Status::Completed as usize],
        completed_with_warnings: statuses[Status::CompletedWithWarnings as usize],
        partial: statuses[Status::Partial as usize],
        failed: statuses[Status::Failed as usize],
        lost: arrived.saturating_sub(results + in_flight),
        in_flight_at_end: in_flight,
    }
}

/// Records `value`; one above the histogram's range is clamped to its
/// highest value and counted in `saturated`, never dropped silently.
#[inline]
pub(crate) fn record(h: &mut Histogram<u64>, value: u64, saturated: &mut u64) {
    if h.record(value).is_err() {
        *saturated += 1;
        h.saturating_record(value);
    }
}

/// Records `value` in a growing histogram, which takes any value: one
/// above `max_ns` (the run's horizon, see [`histogram_max_ns`]) is counted
/// in `saturated` all the same, as the fixed-range histograms count theirs.
#[inline]
fn record_growing(h: &mut Sample, value: u64, max_ns: u64, saturated: &mut u64) {
    if value > max_ns {
        *saturated += 1;
    }
    h.record(value);
}

pub(crate) fn ratio(a: f64, b: f64) -> f64 {
    if b > 0.0 {
        a / b
    } else {
        0.0
    }
}

fn per_min(count: f64, window_s: f64) -> f64 {
    ratio(count * 60.0, window_s)
}

/// The histogram's value at quantile `q` (highest equivalent value), 0 if empty.
pub fn quantile(h: &Histogram<u64>, q: f64) -> u64 {
    quantiles(h, [q])[0]
}

/// [`quantile`] at each of `qs` (ascending), in one pass over the counts.
pub fn quantiles<const N: usize>(h: &Histogram<u64>, qs: [f64; N]) -> [u64; N] {
    debug_assert!(qs.is_sorted(), "quantiles in ascending order");
    let mut out = [0; N];
    if !h.is_empty() {
        for (o, v) in out.iter_mut().zip(h.value_at_quantiles(qs)) {
            *o = h.highest_equivalent(v);
        }
    }
    out
}

/// What a summary reads from a distribution: a histogram or a [`Sample`].
pub(crate) trait Distribution {
    fn count(&self) -> u64;
    /// The highest value equivalent to the largest recorded; 0 if empty.
    fn top(&self) -> u64;
    /// The values at `qs` (ascending), as [`quantiles`] gives them.
    fn at<const N: usize>(&self, qs: [f64; N]) -> [u64; N];
}

impl Distribution for Histogram<u64> {
    fn count(&self) -> u64 {
        self.len()
    }
    fn top(&self) -> u64 {
        if self.is_empty() {
            0
        } else {
            self.highest_equivalent(self.max())
        }
    }
    fn at<const N: usize>(&self, qs: [f64; N]) -> [u64; N] {
        quantiles(self, qs)
    }
}

pub(crate) fn latency_of(h: &impl Distribution, sum: u128) -> Latency {
    let n = h.count();
    let [p50, p90, p95, p99, p999] = h.at([0.50, 0.90, 0.95, 0.99, 0.999]);
    Latency {
        count: n,
        mean: ratio(sum as f64, n as f64),
        p50,
        p90,
        p95,
        p99,
        p999,
        max: h.top(),
    }
}

pub(crate) fn wait_of(h: &impl Distribution, sum: u128) -> QueueWait {
    let n = h.count();
    let [p50, p99] = h.at([0.50, 0.99]);
    QueueWait {
        count: n,
        mean: ratio(sum as f64, n as f64),
        p50,
        p99,
        max: h.top(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn histograms_cover_the_horizon_and_count_what_they_clamp() {
        let day = 86_400 * 1_000_000_000u64;
        assert_eq!(histogram_max_ns(SimInstant(day)), HIST_MIN_MAX_NS);
        assert_eq!(histogram_max_ns(SimInstant(90 * day)), 90 * day);
        let h = histogram(u64::MAX);
        assert!(h.high() >= u64::MAX / 2, "{}", h.high());

        let mut saturated = 0;
        let mut h = histogram(histogram_max_ns(SimInstant(90 * day)));
        record(&mut h, 90 * day, &mut saturated);
        record(&mut h, 1_000, &mut saturated);
        assert_eq!(saturated, 0, "the horizon itself fits");
        let mut h = histogram(HIST_MIN_MAX_NS);
        record(&mut h, 90 * day, &mut saturated);
        assert_eq!(saturated, 1, "above the range: clamped and counted");
        assert_eq!(h.len(), 1, "a clamped record is still recorded");
    }

    #[test]
    fn growing_histograms_count_values_past_the_horizon() {
        let mut saturated = 0;
        let mut h = Sample::default();
        record_growing(&mut h, HIST_MIN_MAX_NS, HIST_MIN_MAX_NS, &mut saturated);
        assert_eq!(saturated, 0, "the horizon itself fits");
        record_growing(&mut h, HIST_MIN_MAX_NS + 1, HIST_MIN_MAX_NS, &mut saturated);
        assert_eq!(saturated, 1, "past the horizon: counted");
        assert_eq!(h.len(), 2, "and still recorded");
    }
}
