//! The validated scenario: what the rest of esa-sim sees after parsing.
//!
//! Every value here has been checked and converted to its final unit
//! (integer-ns durations, rates, fractions), so the engine never parses or
//! re-validates. The raw, serde-facing shapes live in `raw.rs`; this file
//! must not depend on TOML.

pub use crate::core::types::{Level4Action, Priority};
use crate::time::{Rate, SimDuration};

/// A fully validated scenario, ready to build a simulation from.
#[derive(Clone, Debug)]
pub struct Scenario {
    pub name: String,
    pub description: String,
    pub seed: u64,
    /// Simulated time during which load arrives.
    pub duration: SimDuration,
    /// Jobs arriving before this are simulated but not measured.
    pub warmup: SimDuration,
    /// After `duration`, keep running at most this long so in-flight jobs finish.
    pub drain: SimDuration,
    /// Time-series bucket width.
    pub interval: SimDuration,
    pub org: OrgSpec,
    pub loads: Vec<LoadSpec>,
    pub faults: Vec<FaultSpec>,
    /// `[realtime]`, `[[connections]]` and `[[messages]]`: the D4 model;
    /// `None` when the scenario has no `[[connections]]`.
    pub realtime: Option<RealtimeSpec>,
    pub slos: Vec<SloSpec>,
    /// `[compare] tolerance`: how far each metric may worsen before
    /// `esa-sim compare` (and `run --baseline`) calls it a regression.
    pub tolerances: Vec<crate::compare::Tolerance>,
    /// Where the scenario came from, for error messages and reports.
    pub source: SourceInfo,
}

/// The scenario's origin: path and a hash of its exact bytes and of every
/// other file the run reads.
#[derive(Clone, Debug, Default)]
pub struct SourceInfo {
    pub path: String,
    /// `"sha256:<hex>"` of the file bytes (before `--set` overrides) when
    /// `inputs` is empty; else of the file bytes followed by one line
    /// `\n<key>=<hash>` per input, in order, so changing any input changes it.
    pub hash: String,
    /// Other files the run reads (an org file, trace files), in the order
    /// the scenario names them.
    pub inputs: Vec<InputFile>,
    /// The `--set` overrides applied, in order, as given (`key=value`).
    pub overrides: Vec<String>,
    /// (canonical key path, argument) of each override, in order: the path
    /// it changed, with an id resolved to its entry's index
    /// (`org.agent.L12.slots` → `org.agent[3].slots`), so errors found later
    /// can name the `--set` argument.
    pub override_paths: Vec<(String, String)>,
    /// The file text as read (before overrides), so later errors can point
    /// at a key's line and column (`SourceInfo::locate`).
    pub text: std::sync::Arc<str>,
}

/// A file besides the scenario that changes the run: an org file or a trace.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct InputFile {
    /// The key that names it (`org.preset`, `load[0].arrival.file`).
    pub key: String,
    /// The path as written in the scenario (relative to its directory).
    pub path: String,
    /// `"sha256:<hex>"` of its bytes.
    pub hash: String,
}

/// The built-in 105-agent org's file (`preset = "esa-105"`), kept as a
/// readable TOML file in `scenarios/orgs/` and embedded at compile time.
pub const ESA_105: &str = include_str!("../../scenarios/orgs/esa-105.toml");

/// Which org the scenario runs.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Preset {
    /// Only the domains and agents the scenario defines.
    None,
    /// The built-in ESA 105-agent org (`"esa-105"`).
    Esa105,
    /// A user org file: its path (resolved relative to the scenario file)
    /// and its text, read once when the scenario is loaded.
    File {
        path: String,
        text: std::sync::Arc<str>,
    },
}

impl Preset {
    /// The org file the preset reads — its name for messages and its text —
    /// or `None` for `preset = "none"`. The one place a preset becomes text.
    pub fn source(&self) -> Option<(&str, &str)> {
        match self {
            Preset::None => None,
            Preset::Esa105 => Some(("esa-105 (built-in)", ESA_105)),
            Preset::File { path, text } => Some((path, text)),
        }
    }
}

/// What kind of member an agent is. Numeric ids repeat across kinds (#10 is
/// an expert and a layer), so an agent is always named by kind and id.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum AgentKind {
    Ceo,
    Chief,
    Domain,
    Layer,
    Expert,
    Operational,
    LifeCeo,
    /// A worker defined by a scenario (`preset = "none"`).
    Worker,
}

impl AgentKind {
    pub const ALL: [AgentKind; 8] = [
        AgentKind::Ceo,
        AgentKind::Chief,
        AgentKind::Domain,
        AgentKind::Layer,
        AgentKind::Expert,
        AgentKind::Operational,
        AgentKind::LifeCeo,
        AgentKind::Worker,
    ];

    /// The spelling in scenario and org files (`kind = "life-ceo"`).
    pub fn name(self) -> &'static str {
        match self {
            AgentKind::Ceo => "ceo",
            AgentKind::Chief => "chief",
            AgentKind::Domain => "domain",
            AgentKind::Layer => "layer",
            AgentKind::Expert => "expert",
            AgentKind::Operational => "operational",
            AgentKind::LifeCeo => "life-ceo",
            AgentKind::Worker => "worker",
        }
    }

    pub fn parse(s: &str) -> Option<AgentKind> {
        AgentKind::ALL.iter().copied().find(|k| k.name() == s)
    }
}

/// `[org]`: the organisation and its protocol parameters.
#[derive(Clone, Debug, PartialEq)]
pub struct OrgSpec {
    pub preset: Preset,
    pub hop_latency: SimDuration,
    /// Orchestrator analyse/plan time, once per job.
    pub plan_time: SimDuration,
    /// Domain coordinator planning time per dispatch stage (default: `plan_time`).
    pub dispatch_time: SimDuration,
    pub heartbeat_interval: SimDuration,
    pub heartbeat_ttl: SimDuration,
    pub visibility_timeout: SimDuration,
    /// Retries per work item before it counts as failed.
    pub max_retries: u32,
    /// Delay before a failed work item is retried (doubles each attempt).
    pub retry_backoff: SimDuration,
    pub fallback_domain: String,
    /// Bound of each agent's pending queue; `None` = unbounded.
    pub queue_capacity: Option<u32>,
    pub balancing: BalancingSpec,
    pub defaults: AgentDefaults,
    /// `[[org.domain]]` entries (define, or override a preset's).
    pub domains: Vec<DomainSpec>,
    /// `[[org.agent]]` entries (define, or override a preset's).
    pub agents: Vec<AgentSpec>,
}

/// `[org.balancing]`: the workload-balancing protocol's knobs.
#[derive(Clone, Debug, PartialEq)]
pub struct BalancingSpec {
    pub enabled: bool,
    pub interval: SimDuration,
    /// Level-4 action when more than half the agents are overloaded.
    pub level4: Level4Action,
    /// Reaction delay of each escalation level (1–4) before it acts.
    pub delays: [SimDuration; 4],
    /// Queued work items one redistribution moves (the protocol: 2–3).
    pub moves: u32,
}

/// `[org.defaults]`: values every worker agent gets unless it overrides them.
#[derive(Clone, Debug, PartialEq)]
pub struct AgentDefaults {
    pub slots: u32,
    pub service: Dist,
    /// Probability that one attempt of a work item fails.
    pub error_rate: f64,
}

/// A domain coordinator: its routing keywords and reporting line.
#[derive(Clone, Debug, PartialEq, Default)]
pub struct DomainSpec {
    pub id: String,
    pub name: Option<String>,
    pub keywords: Option<Vec<String>>,
    pub reports_to: Option<Vec<String>>,
}

/// An agent definition or override. `None` fields keep the preset's value
/// (or the defaults, for a new agent).
#[derive(Clone, Debug, PartialEq, Default)]
pub struct AgentSpec {
    pub id: String,
    /// Parsed once, while validating; `None` keeps the preset's (or `worker`).
    pub kind: Option<AgentKind>,
    pub name: Option<String>,
    /// The domain whose coordinator dispatches work to this agent.
    pub domain: Option<String>,
    pub reports_to: Option<Vec<String>>,
    pub keywords: Option<Vec<String>>,
    pub slots: Option<u32>,
    pub service: Option<Dist>,
    pub error_rate: Option<f64>,
    /// Agents (ids) that must finish first when selected for the same subtask.
    pub after: Option<Vec<String>>,
    /// Agents (ids) whose work this agent's work always needs too (seed 002:
    /// auth work needs the user/role tables from the db worker).
    pub requires: Option<Vec<String>>,
    /// Agents with the same pool share work items (replicas); default: own id.
    pub pool: Option<String>,
    /// Words of work it can take over when balancing moves work to it;
    /// not used for routing.
    pub skills: Option<Vec<String>>,
    /// A critical worker's failure fails its domain result.
    pub critical: Option<bool>,
}

/// A service-time distribution; parameters already in integer ns.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Dist {
    Exp { mean: SimDuration },
    Const { value: SimDuration },
    LogNormal { mean: SimDuration, cv: f64 },
    Uniform { min: SimDuration, max: SimDuration },
    Erlang { mean: SimDuration, k: u32 },
}

impl Dist {
    /// The distribution's mean, in seconds.
    pub fn mean_secs(&self) -> f64 {
        match *self {
            Dist::Exp { mean } | Dist::LogNormal { mean, .. } | Dist::Erlang { mean, .. } => {
                mean.as_secs_f64()
            }
            Dist::Const { value } => value.as_secs_f64(),
            Dist::Uniform { min, max } => (min.as_secs_f64() + max.as_secs_f64()) / 2.0,
        }
    }
}

/// One `[[load]]` stream.
#[derive(Clone, Debug)]
pub struct LoadSpec {
    pub name: String,
    pub arrival: Arrival,
    pub tasks: Vec<TaskSpec>,
}

/// An arrival process.
#[derive(Clone, Debug, PartialEq)]
pub enum Arrival {
    Poisson {
        rate: Rate,
    },
    Constant {
        rate: Rate,
    },
    /// Poisson with a rate rising linearly from `from` to `to` over `over`, then flat.
    Ramp {
        from: Rate,
        to: Rate,
        over: SimDuration,
    },
    /// Poisson at `base`, at `peak` for `for_` at the start of every `every`.
    Burst {
        base: Rate,
        peak: Rate,
        every: SimDuration,
        for_: SimDuration,
    },
    /// Arrival times read from a CSV file (resolved path), already sorted.
    Trace {
        file: String,
        times: Vec<SimDuration>,
    },
}

/// A task template: text, relative weight and priority.
#[derive(Clone, Debug, PartialEq)]
pub struct TaskSpec {
    pub text: String,
    pub weight: u32,
    pub priority: Priority,
}

/// One `[[fault]]`.
#[derive(Clone, Debug, PartialEq)]
pub struct FaultSpec {
    pub at: SimDuration,
    pub kind: FaultKind,
    pub target: FaultTarget,
    /// `None` = permanent.
    pub duration: Option<SimDuration>,
}

#[derive(Clone, Debug, PartialEq)]
pub enum FaultKind {
    Crash,
    Slow { factor: f64 },
    Error { rate: f64 },
    Partition { between: [String; 2] },
    QueueOutage,
    HeartbeatLoss,
}

impl FaultKind {
    /// The `kind` as a scenario file writes it.
    pub fn name(&self) -> &'static str {
        match self {
            FaultKind::Crash => "crash",
            FaultKind::Slow { .. } => "slow",
            FaultKind::Error { .. } => "error",
            FaultKind::Partition { .. } => "partition",
            FaultKind::QueueOutage => "queue-outage",
            FaultKind::HeartbeatLoss => "heartbeat-loss",
        }
    }
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub enum FaultTarget {
    /// An agent or domain id, resolved against the org when the sim is built.
    Id(String),
    /// `random:N` — N agents drawn from the fault stream.
    Random(u32),
}

impl std::fmt::Display for FaultTarget {
    /// As a scenario file writes it: `L12`, `random:3`.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            FaultTarget::Id(id) => f.write_str(id),
            FaultTarget::Random(n) => write!(f, "random:{n}"),
        }
    }
}

impl FaultSpec {
    /// When it ends; `None`: never.
    pub fn end(&self) -> Option<SimDuration> {
        self.duration.map(|d| self.at + d)
    }

    /// Whether the two may not both be scheduled: the same kind on the
    /// same id target (or a partition between the same places) with
    /// intersecting windows. `random:N` draws are independent.
    pub fn conflicts_with(&self, other: &FaultSpec) -> bool {
        let never = SimDuration(u64::MAX);
        let (end_a, end_b) = (self.end().unwrap_or(never), other.end().unwrap_or(never));
        same_slot(self, other) && self.at < end_b && other.at < end_a
    }

    /// `crash on `L12` from 20m to 25m`, `… from 20m, permanent`.
    pub fn describe(&self) -> String {
        let (kind, target) = (self.kind.name(), &self.target);
        let target = match &self.kind {
            FaultKind::Partition { between: [a, b] } => format!("{a}|{b}"),
            _ => target.to_string(),
        };
        match self.end() {
            Some(end) => format!("{kind} on `{target}` from {} to {end}", self.at),
            None => format!("{kind} on `{target}` from {}, permanent", self.at),
        }
    }
}

fn same_slot(a: &FaultSpec, b: &FaultSpec) -> bool {
    match (&a.kind, &b.kind) {
        (FaultKind::Partition { between: x }, FaultKind::Partition { between: y }) => {
            let (mut x, mut y) = (x.clone(), y.clone());
            x.sort();
            y.sort();
            x == y
        }
        (x, y) => {
            std::mem::discriminant(x) == std::mem::discriminant(y)
                && matches!(a.target, FaultTarget::Id(_))
                && a.target == b.target
        }
    }
}

/// One `[slo]` threshold, e.g. `latency_mean = "< 5s"`.
#[derive(Clone, Debug, PartialEq)]
pub struct SloSpec {
    /// The key as written (`"latency_mean"`, `"domain.D3.latency_mean"`).
    pub key: String,
    pub scope: SloScope,
    pub metric: SloMetric,
    pub op: CmpOp,
    /// Threshold in the metric's canonical unit (see [`SloMetric::unit`]).
    pub threshold: f64,
    /// The target as written (`"< 5s"`).
    pub target: String,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub enum SloScope {
    Global,
    Domain(String),
    /// `priority.<p>.<metric>`: the measured jobs of one priority.
    Priority(Priority),
    /// `load.<name>.<metric>`: the measured jobs of one `[[load]]`.
    Load(String),
}

impl SloScope {
    /// Why `metric` has no form in this scope, with what to write
    /// instead; `None` when it has one.
    pub fn rejects(&self, metric: SloMetric) -> Option<&'static str> {
        match self {
            SloScope::Global => None,
            SloScope::Domain(_) => metric.not_per_domain(),
            SloScope::Priority(_) | SloScope::Load(_) => metric.not_per_class(),
        }
    }
}

/// The v1 SLO metric names (DESIGN.md §3).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SloMetric {
    Throughput,
    LatencyMean,
    LatencyP50,
    LatencyP90,
    LatencyP95,
    LatencyP99,
    LatencyP999,
    LatencyMax,
    Completion,
    FailedJobs,
    PartialJobs,
    LostJobs,
    RecoveryTime,
    QueueWaitMean,
    Utilization,
    /// D4: the most connections open at once.
    ConnectionsPeak,
    /// D4: connection attempts refused because no live gateway had room.
    ConnectionsRefused,
    /// D4: connected time ÷ time clients wanted a connection.
    Uptime,
    DeliveryLatencyMean,
    DeliveryLatencyP99,
    /// D4: message deliveries given up (TTL, recipient gone, full mailbox
    /// or router queue, router error).
    MessagesDropped,
    ReconnectTimeP99,
    /// D4: the longest time from a gateway crash until 99 % of the
    /// connections it dropped were back.
    ConnectionRecoveryTime,
}

/// Which way a figure is better.
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Direction {
    LowerIsBetter,
    HigherIsBetter,
}

/// The canonical unit a metric's threshold and measured value are in.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum MetricUnit {
    /// Nanoseconds (targets written as durations).
    Nanos,
    /// Jobs per minute (targets written as rates).
    PerMin,
    /// A fraction 0..=1 (targets written as `"99%"` or `0.99`).
    Fraction,
    /// A plain count.
    Count,
}

impl SloMetric {
    pub const ALL: [(&'static str, SloMetric); 23] = [
        ("throughput", SloMetric::Throughput),
        ("latency_mean", SloMetric::LatencyMean),
        ("latency_p50", SloMetric::LatencyP50),
        ("latency_p90", SloMetric::LatencyP90),
        ("latency_p95", SloMetric::LatencyP95),
        ("latency_p99", SloMetric::LatencyP99),
        ("latency_p999", SloMetric::LatencyP999),
        ("latency_max", SloMetric::LatencyMax),
        ("completion", SloMetric::Completion),
        ("failed_jobs", SloMetric::FailedJobs),
        ("partial_jobs", SloMetric::PartialJobs),
        ("lost_jobs", SloMetric::LostJobs),
        ("recovery_time", SloMetric::RecoveryTime),
        ("queue_wait_mean", SloMetric::QueueWaitMean),
        ("utilization", SloMetric::Utilization),
        ("connections_peak", SloMetric::ConnectionsPeak),
        ("connections_refused", SloMetric::ConnectionsRefused),
        ("uptime", SloMetric::Uptime),
        ("delivery_latency_mean", SloMetric::DeliveryLatencyMean),
        ("delivery_latency_p99", SloMetric::DeliveryLatencyP99),
        ("messages_dropped", SloMetric::MessagesDropped),
        ("reconnect_time_p99", SloMetric::ReconnectTimeP99),
        (
            "connection_recovery_time",
            SloMetric::ConnectionRecoveryTime,
        ),
    ];

    /// Whether the metric measures the D4 real-time model (connections and
    /// messages), which exists only in a scenario with `[[connections]]`.
    pub fn is_realtime(self) -> bool {
        use SloMetric::*;
        match self {
            ConnectionsPeak
            | ConnectionsRefused
            | Uptime
            | DeliveryLatencyMean
            | DeliveryLatencyP99
            | MessagesDropped
            | ReconnectTimeP99
            | ConnectionRecoveryTime => true,
            Throughput | LatencyMean | LatencyP50 | LatencyP90 | LatencyP95 | LatencyP99
            | LatencyP999 | LatencyMax | Completion | FailedJobs | PartialJobs | LostJobs
            | RecoveryTime | QueueWaitMean | Utilization => false,
        }
    }

    /// Why a D4 metric has no scoped form; `None` for job metrics.
    fn realtime_only_global(self) -> Option<&'static str> {
        self.is_realtime().then_some(
            "connections and messages belong to D4's gateways and router, not to one domain's subtasks or one class of jobs, so the real-time metrics are measured for the whole run only; \
             write it at the top of [slo], e.g. `uptime = \"> 99.9%\"`",
        )
    }

    pub fn from_name(name: &str) -> Option<SloMetric> {
        Self::ALL.iter().find(|(n, _)| *n == name).map(|(_, m)| *m)
    }

    pub fn name(self) -> &'static str {
        Self::ALL
            .iter()
            .find(|(_, m)| *m == self)
            .map(|(n, _)| *n)
            .unwrap_or("?")
    }

    /// Why the metric has no `domain.<ID>.` form, with what to write
    /// instead; `None` when it has one.
    pub fn not_per_domain(self) -> Option<&'static str> {
        use SloMetric::*;
        match self {
            LostJobs => Some(
                "a job is lost as a whole, never inside one domain, so `lost_jobs` is counted for the whole run only; \
                 write `lost_jobs = \"== 0\"` at the top of [slo], or use this domain's `failed_jobs` or `completion` for its own subtasks",
            ),
            RecoveryTime => Some(
                "recovery time runs from each fault until all the work it orphaned is running again anywhere in the org, so it is measured for the whole run only; \
                 write `recovery_time = \"< 2m\"` at the top of [slo]",
            ),
            Throughput | LatencyMean | LatencyP50 | LatencyP90 | LatencyP95 | LatencyP99
            | LatencyP999 | LatencyMax | Completion | FailedJobs | PartialJobs | QueueWaitMean
            | Utilization => None,
            ConnectionsPeak | ConnectionsRefused | Uptime | DeliveryLatencyMean
            | DeliveryLatencyP99 | MessagesDropped | ReconnectTimeP99
            | ConnectionRecoveryTime => self.realtime_only_global(),
        }
    }

    /// Why the metric has no `priority.<p>.` or `load.<name>.` form, with
    /// what to write instead; `None` when it has one.
    pub fn not_per_class(self) -> Option<&'static str> {
        use SloMetric::*;
        match self {
            LostJobs => Some(
                "`lost_jobs` is counted for the whole run only (it is 0 unless esa-sim has a bug); \
                 write `lost_jobs = \"== 0\"` at the top of [slo], or use this class's `failed_jobs` or `completion`",
            ),
            RecoveryTime => Some(
                "recovery time runs from each fault until all the work it orphaned is running again, whatever its priority or load, so it is measured for the whole run only; \
                 write `recovery_time = \"< 2m\"` at the top of [slo]",
            ),
            Utilization => Some(
                "agents' slots are shared by every priority and load, so utilisation belongs to the org or a domain, not to a class of jobs; \
                 write `utilization = \"< 80%\"` at the top of [slo] or `domain.<ID>.utilization`",
            ),
            Throughput | LatencyMean | LatencyP50 | LatencyP90 | LatencyP95 | LatencyP99
            | LatencyP999 | LatencyMax | Completion | FailedJobs | PartialJobs | QueueWaitMean => {
                None
            }
            ConnectionsPeak | ConnectionsRefused | Uptime | DeliveryLatencyMean
            | DeliveryLatencyP99 | MessagesDropped | ReconnectTimeP99
            | ConnectionRecoveryTime => self.realtime_only_global(),
        }
    }

    /// Which way the metric is better, for `esa-sim compare`; `None` for
    /// utilisation, which is neither (busier agents may mean more work
    /// done or the same work done slower).
    pub fn direction(self) -> Option<Direction> {
        use SloMetric::*;
        match self {
            Throughput | Completion | ConnectionsPeak | Uptime => Some(Direction::HigherIsBetter),
            LatencyMean
            | LatencyP50
            | LatencyP90
            | LatencyP95
            | LatencyP99
            | LatencyP999
            | LatencyMax
            | FailedJobs
            | PartialJobs
            | LostJobs
            | RecoveryTime
            | QueueWaitMean
            | ConnectionsRefused
            | DeliveryLatencyMean
            | DeliveryLatencyP99
            | MessagesDropped
            | ReconnectTimeP99
            | ConnectionRecoveryTime => Some(Direction::LowerIsBetter),
            Utilization => None,
        }
    }

    pub fn unit(self) -> MetricUnit {
        use SloMetric::*;
        match self {
            Throughput => MetricUnit::PerMin,
            Completion | Utilization | Uptime => MetricUnit::Fraction,
            FailedJobs | PartialJobs | LostJobs | ConnectionsPeak | ConnectionsRefused
            | MessagesDropped => MetricUnit::Count,
            LatencyMean
            | LatencyP50
            | LatencyP90
            | LatencyP95
            | LatencyP99
            | LatencyP999
            | LatencyMax
            | RecoveryTime
            | QueueWaitMean
            | DeliveryLatencyMean
            | DeliveryLatencyP99
            | ReconnectTimeP99
            | ConnectionRecoveryTime => MetricUnit::Nanos,
        }
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub enum CmpOp {
    #[serde(rename = "<")]
    Lt,
    #[serde(rename = "<=")]
    Le,
    #[serde(rename = ">")]
    Gt,
    #[serde(rename = ">=")]
    Ge,
    #[serde(rename = "==")]
    Eq,
}

impl CmpOp {
    pub fn holds(self, measured: f64, threshold: f64) -> bool {
        match self {
            CmpOp::Lt => measured < threshold,
            CmpOp::Le => measured <= threshold,
            CmpOp::Gt => measured > threshold,
            CmpOp::Ge => measured >= threshold,
            CmpOp::Eq => measured == threshold,
        }
    }
    pub fn symbol(self) -> &'static str {
        match self {
            CmpOp::Lt => "<",
            CmpOp::Le => "<=",
            CmpOp::Gt => ">",
            CmpOp::Ge => ">=",
            CmpOp::Eq => "==",
        }
    }
}

/// The D4 real-time model (DESIGN.md §11): client connections held by the
/// gateway pool, and message streams routed through the router pool.
/// Present when the scenario has `[[connections]]`.
#[derive(Clone, Debug, PartialEq)]
pub struct RealtimeSpec {
    /// The pool (`pool` name, default the agent's id) whose members are the
    /// WebSocket gateways: L11 and its replicas.
    pub gateways: String,
    /// The pool whose members route messages: L25 and its replicas.
    pub router: String,
    /// Messages one router member routes at once.
    pub router_slots: u32,
    /// Routing one message (not the member's job service time).
    pub router_service: Dist,
    /// Connections one gateway holds at most.
    pub max_connections: u32,
    /// Messages held for one disconnected client at most; one more is
    /// dropped (counted).
    pub max_pending: u32,
    pub populations: Vec<ConnectionsSpec>,
    pub streams: Vec<MessagesSpec>,
}

/// One `[[connections]]` population.
#[derive(Clone, Debug, PartialEq)]
pub struct ConnectionsSpec {
    pub name: String,
    pub clients: Clients,
    /// How long one client stays (its session); `None`: until the run ends.
    pub session: Option<Dist>,
    pub reconnect: Backoff,
}

/// Where a population's clients come from.
#[derive(Clone, Debug, PartialEq)]
pub enum Clients {
    /// `count` clients at all times: they connect spread evenly over
    /// `ramp`, and a client whose session ends is replaced at once (churn).
    Count { count: u32, ramp: SimDuration },
    /// Clients arrive by a process while load arrives, each for one session.
    Arrival(Arrival),
}

/// Reconnect backoff: attempt k after a drop or refusal waits
/// `min(max, initial × multiplier^k)`, shortened by up to `jitter` of it
/// (uniform; 100 % is "full jitter").
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Backoff {
    pub initial: SimDuration,
    pub max: SimDuration,
    pub multiplier: f64,
    pub jitter: f64,
}

/// One `[[messages]]` stream.
#[derive(Clone, Debug, PartialEq)]
pub struct MessagesSpec {
    pub name: String,
    pub arrival: Arrival,
    pub fanout: Fanout,
    /// How long a message waits for a disconnected recipient before it is
    /// dropped (counted).
    pub ttl: SimDuration,
}

/// Who receives a message.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Fanout {
    /// One client, drawn uniformly.
    Direct,
    /// A group of `min..=max` distinct clients (size uniform), drawn uniformly.
    Group { min: u32, max: u32 },
    /// Every client.
    Broadcast,
}

impl Fanout {
    /// The `kind` as a scenario file writes it.
    pub fn name(self) -> &'static str {
        match self {
            Fanout::Direct => "direct",
            Fanout::Group { .. } => "group",
            Fanout::Broadcast => "broadcast",
        }
    }
}
