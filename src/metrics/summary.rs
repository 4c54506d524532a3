//! The run's results as plain data: what `summary.json` holds and what the
//! SLO evaluator and the terminal report read. Field names are stable (CI
//! and scripts read them); durations are integer ns with a `_ns` suffix.

use std::fmt;
use std::marker::PhantomData;

use serde::de::{Deserialize, Deserializer, MapAccess, Visitor};
use serde::ser::{Serialize, SerializeMap, Serializer};
use serde::Serialize as DeriveSerialize;

use crate::core::Stranded;

/// A JSON object whose keys keep insertion (org) order.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct OrderedMap<T>(pub Vec<(String, T)>);

impl<T> OrderedMap<T> {
    pub fn get(&self, key: &str) -> Option<&T> {
        self.0.iter().find(|(k, _)| k == key).map(|(_, v)| v)
    }
}

impl<T: Serialize> Serialize for OrderedMap<T> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let mut map = s.serialize_map(Some(self.0.len()))?;
        for (k, v) in &self.0 {
            map.serialize_entry(k, v)?;
        }
        map.end()
    }
}

impl<'de, T: Deserialize<'de>> Deserialize<'de> for OrderedMap<T> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct Entries<T>(PhantomData<T>);
        impl<'de, T: Deserialize<'de>> Visitor<'de> for Entries<T> {
            type Value = OrderedMap<T>;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("a JSON object")
            }
            fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Self::Value, A::Error> {
                let mut entries = Vec::with_capacity(map.size_hint().unwrap_or(0));
                while let Some(entry) = map.next_entry()? {
                    entries.push(entry);
                }
                Ok(OrderedMap(entries))
            }
        }
        d.deserialize_map(Entries(PhantomData))
    }
}

#[derive(Clone, Debug, DeriveSerialize, serde::Deserialize)]
pub struct Summary {
    pub esa_sim_version: String,
    pub scenario: ScenarioRef,
    pub window_ns: Window,
    /// Simulated time when the run stopped.
    pub sim_end_ns: u64,
    /// Jobs that arrived in the measured window, by final outcome.
    pub jobs: JobCounts,
    /// All jobs of the run, warm-up included (for conservation checks).
    pub jobs_all: JobCounts,
    pub throughput_per_min: f64,
    /// (completed + completed_with_warnings) ÷ measured arrivals.
    pub completion: f64,
    pub latency_ns: Latency,
    pub queue_wait_ns: QueueWait,
    pub workers_per_job_mean: f64,
    pub utilization: f64,
    /// Longest time from a fault to the re-dispatch of all the work it
    /// orphaned: 0 when no fault orphaned anything, `null` when the org
    /// had not recovered by the end of the run (`recovered` is false).
    pub recovery_time_ns: Option<u64>,
    /// False when work a fault stranded was still stranded at the end
    /// (`faults.stranded_at_end`): orphans never re-dispatched, work held
    /// by a down agent, work queued on a pool with no live member, pushes
    /// parked by a queue outage.
    pub recovered: bool,
    pub work: WorkCounts,
    pub faults: FaultStats,
    pub balancing: BalancingStats,
    pub little: Little,
    pub domains: OrderedMap<DomainSummary>,
    /// Measured jobs by their task's priority: the priorities some task
    /// uses, most urgent first.
    pub priorities: OrderedMap<ClassSummary>,
    /// Measured jobs by the `[[load]]` that drew them, in scenario order.
    pub loads: OrderedMap<ClassSummary>,
    pub agents: OrderedMap<AgentSummary>,
    /// The D4 model's figures; only in a scenario with `[[connections]]`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub realtime: Option<RealtimeSummary>,
    pub slo: Vec<SloVerdict>,
    pub passed: bool,
}

#[derive(Clone, Debug, DeriveSerialize, serde::Deserialize)]
pub struct ScenarioRef {
    pub name: String,
    pub seed: u64,
    /// Covers the scenario bytes and every file in `inputs`.
    pub hash: String,
    pub overrides: Vec<String>,
    /// Other files the run read (org file, traces); omitted when none.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub inputs: Vec<InputRef>,
}

/// One input file of the run, as `summary.json` records it.
#[derive(Clone, Debug, DeriveSerialize, serde::Deserialize)]
pub struct InputRef {
    /// The scenario key naming it (`org.preset`, `load[0].arrival.file`).
    pub key: String,
    /// The path as written, relative to the scenario file.
    pub path: String,
    pub hash: String,
}

#[derive(Clone, Copy, Debug, DeriveSerialize, serde::Deserialize)]
pub struct Window {
    pub start: u64,
    pub end: u64,
}

#[derive(Clone, Copy, Debug, Default, DeriveSerialize, serde::Deserialize, PartialEq, Eq)]
pub struct JobCounts {
    pub arrived: u64,
    pub completed: u64,
    pub completed_with_warnings: u64,
    pub partial: u64,
    pub failed: u64,
    /// Arrived jobs with neither a result nor a place in flight: always 0
    /// unless esa-sim has a bug (the run then exits 3).
    pub lost: u64,
    pub in_flight_at_end: u64,
}

impl JobCounts {
    pub fn results(&self) -> u64 {
        self.completed + self.completed_with_warnings + self.partial + self.failed
    }
}

#[derive(Clone, Copy, Debug, Default, DeriveSerialize, serde::Deserialize)]
pub struct Latency {
    pub count: u64,
    pub mean: f64,
    pub p50: u64,
    pub p90: u64,
    pub p95: u64,
    pub p99: u64,
    pub p999: u64,
    pub max: u64,
}

#[derive(Clone, Copy, Debug, Default, DeriveSerialize, serde::Deserialize)]
pub struct QueueWait {
    pub count: u64,
    pub mean: f64,
    pub p50: u64,
    pub p99: u64,
    pub max: u64,
}

/// Work-item level counters over the whole run.
#[derive(Clone, Copy, Debug, Default, DeriveSerialize, serde::Deserialize)]
pub struct WorkCounts {
    pub attempts: u64,
    pub succeeded: u64,
    pub failed_attempts: u64,
    pub retries: u64,
    pub rejected: u64,
    pub failed_items: u64,
    /// Service time spent on attempts that failed, in ns.
    pub wasted_ns: u64,
}

/// Little's law on the whole run: L = λW with L = ∫N(t)dt / T and
/// W the mean sojourn of the jobs with a result. Exact when the run ends
/// empty, since then ∫N(t)dt is the sum of all sojourn times.
#[derive(Clone, Copy, Debug, Default, DeriveSerialize, serde::Deserialize)]
pub struct Little {
    pub jobs_in_system_area_ns: u128,
    pub sojourn_sum_ns: u128,
    pub time_ns: u64,
    pub mean_in_system: f64,
    pub arrival_rate_per_s: f64,
    pub mean_sojourn_s: f64,
}

#[derive(Clone, Debug, Default, DeriveSerialize, serde::Deserialize)]
pub struct DomainSummary {
    pub name: String,
    pub arrived: u64,
    pub completed: u64,
    pub completed_with_warnings: u64,
    pub partial: u64,
    pub failed: u64,
    pub completion: f64,
    pub throughput_per_min: f64,
    pub capacity_slots: u64,
    pub utilization: f64,
    pub max_queue_depth: u64,
    pub queue_wait_ns: QueueWait,
    pub latency_ns: Latency,
    pub retries: u64,
    pub rejected: u64,
}

/// Measured jobs of one class (a priority or a load stream), computed
/// like the global figures over the measured window.
#[derive(Clone, Debug, Default, DeriveSerialize, serde::Deserialize)]
pub struct ClassSummary {
    pub arrived: u64,
    pub completed: u64,
    pub completed_with_warnings: u64,
    pub partial: u64,
    pub failed: u64,
    pub in_flight_at_end: u64,
    pub completion: f64,
    pub throughput_per_min: f64,
    pub latency_ns: Latency,
    /// Waits of the class's work items that were queued in the window.
    pub queue_wait_ns: QueueWait,
}

#[derive(Clone, Debug, Default, DeriveSerialize, serde::Deserialize)]
pub struct AgentSummary {
    pub kind: String,
    pub domain: String,
    pub slots: u64,
    pub utilization: f64,
    pub attempts: u64,
    pub failed_attempts: u64,
    pub max_queue_depth: u64,
    pub queue_wait_mean_ns: f64,
}

#[derive(Clone, Debug, DeriveSerialize, serde::Deserialize)]
pub struct SloVerdict {
    pub metric: String,
    pub target: String,
    /// In `unit`; `null` when there is no value (a run that never
    /// recovered has no recovery time), and the SLO then fails.
    pub measured: Option<f64>,
    pub unit: String,
    pub pass: bool,
}

/// What faults did and how the org recovered (DESIGN.md §3 `[[fault]]`).
#[derive(Clone, Debug, Default, DeriveSerialize, serde::Deserialize)]
pub struct FaultStats {
    /// Active work items put back in their queue (dead agent, timeout, restart).
    pub requeues: u64,
    /// Results of superseded attempts that arrived and were discarded.
    pub late_results_discarded: u64,
    /// Pushes refused by a queue outage (retried by the sender).
    pub outage_rejections: u64,
    /// Attempts lost with a crashed agent.
    pub attempts_lost: u64,
    /// Each time the registry declared an agent dead.
    pub detections: Vec<Detection>,
    /// Requeued work items started again, and the longest time from the
    /// fault to such a restart.
    pub orphans_redispatched: u64,
    pub max_redispatch_ns: u64,
    /// Work faults left with no way forward when the run ended.
    pub stranded_at_end: Stranded,
    /// From the first fault's start to the last fault's end.
    pub window_ns: Option<FaultWindow>,
    pub throughput_during_per_min: f64,
    /// Over the rest of the load window after the faults end; `null` when
    /// they never end (a permanent fault) or end after the load does; 0
    /// (like the rate during) when the run had no faults.
    pub throughput_after_per_min: Option<f64>,
}

/// The span of the fault timeline.
#[derive(Clone, Copy, Debug, DeriveSerialize, serde::Deserialize)]
pub struct FaultWindow {
    pub start: u64,
    /// `null`: a permanent fault, the window never ends.
    pub end: Option<u64>,
}

#[derive(Clone, Debug, DeriveSerialize, serde::Deserialize)]
pub struct Detection {
    pub agent: String,
    pub at_ns: u64,
    /// From the fault (crash, heartbeat loss) to the registry noticing.
    pub detected_after_ns: u64,
}

/// What workload balancing did (seed 001's four levels).
#[derive(Clone, Copy, Debug, Default, DeriveSerialize, serde::Deserialize)]
pub struct BalancingStats {
    /// Escalations raised at levels 1, 2, 3 and 4.
    pub escalations: [u64; 4],
    /// Queued work items the Chief moved within a division (level 2).
    pub moved_within_division: u64,
    /// Queued work items #63 moved across divisions (level 3).
    pub moved_across_divisions: u64,
    /// Low-priority work items the CEO shed (level 4, `shed-low`).
    pub shed: u64,
    /// Slots the CEO added (level 4, `add-slots`).
    pub slots_added: u64,
}

/// D4 real-time communications: connections, uptime, deliveries and
/// recovery from gateway crashes (DESIGN.md §11). Message figures count
/// messages sent in the measured window; connection figures cover the
/// whole run, uptime the measured window.
#[derive(Clone, Debug, DeriveSerialize, serde::Deserialize)]
pub struct RealtimeSummary {
    /// Client sessions started (connections wanted), warm-up included.
    pub sessions: u64,
    /// Connections established (first connects and reconnects).
    pub connections_opened: u64,
    /// The most connections open at once.
    pub connections_peak: u64,
    pub connections_at_end: u64,
    /// Connections cut by a gateway crash.
    pub connections_dropped: u64,
    /// Attempts refused because no live gateway had room.
    pub connections_refused: u64,
    /// Connected time ÷ (connected + disconnected time) of clients that
    /// wanted a connection, over the measured window; `null` if no client
    /// wanted one then.
    pub uptime: Option<f64>,
    /// Client-seconds connected and wanted but disconnected in the window.
    pub connected_client_s: f64,
    pub disconnected_client_s: f64,
    /// Send → delivery, per recipient.
    pub delivery_latency_ns: Latency,
    /// Drop → connected again, per dropped connection.
    pub reconnect_time_ns: QueueWait,
    /// Deliveries given up: `messages.dropped_*` summed.
    pub messages_dropped: u64,
    pub messages: MessageCounts,
    /// Every message of the run, warm-up included (conservation checks).
    pub messages_all: MessageCounts,
    /// The longest time from a gateway crash until 99 % of the connections
    /// it dropped were back (or their sessions ended): 0 with no crash
    /// that dropped any, `null` when one had not recovered by the end.
    pub recovery_time_ns: Option<u64>,
    pub crashes: Vec<GatewayCrash>,
    pub gateways: OrderedMap<GatewaySummary>,
}

/// What became of messages and of each recipient's copy. Every message
/// is routed, dropped at the router or still there at the end; every copy
/// is delivered, dropped or still pending at the end.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, DeriveSerialize, serde::Deserialize)]
pub struct MessageCounts {
    pub sent: u64,
    pub routed: u64,
    /// Router queue full (`org.queue_capacity`) or a router error.
    pub dropped_router_full: u64,
    pub dropped_router_error: u64,
    pub in_router_at_end: u64,
    /// Routed with nobody to receive it (no client present).
    pub no_recipients: u64,
    /// Recipient copies made when messages were routed.
    pub copies: u64,
    pub delivered: u64,
    /// Of `delivered`: held while the recipient was disconnected.
    pub delivered_on_reconnect: u64,
    pub dropped_ttl: u64,
    /// The recipient's session ended while it was disconnected.
    pub dropped_recipient_left: u64,
    /// The recipient's mailbox held `realtime.max_pending` already.
    pub dropped_mailbox_full: u64,
    pub pending_at_end: u64,
}

/// One gateway crash and its recovery.
#[derive(Clone, Debug, DeriveSerialize, serde::Deserialize)]
pub struct GatewayCrash {
    pub gateway: String,
    pub at_ns: u64,
    pub dropped: u64,
    /// Until 99 % of `dropped` were back; `null`: not by the end.
    pub recovery_ns: Option<u64>,
}

#[derive(Clone, Copy, Debug, DeriveSerialize, serde::Deserialize)]
pub struct GatewaySummary {
    pub max_connections: u32,
    pub connections_peak: u64,
    pub connections_at_end: u64,
    pub dropped: u64,
}
