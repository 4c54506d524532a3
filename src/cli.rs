//! The command line: parse arguments, load the scenario, run, report, and
//! map the outcome to an exit code (DESIGN.md §4). Kept thin: every
//! decision about the org or the numbers lives in the library modules.

use std::ffi::OsString;
use std::io::{self, IsTerminal, Write};
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use clap::{Parser, Subcommand, ValueEnum};
use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};

mod bench;
mod compare;
mod explore;
mod live;
mod many;
mod plan;
mod shrink;

use crate::org::{show, Org};
use crate::report::html::{self, ReportError};
use crate::report::perf::Perf;
use crate::report::text::TextSummary;
use crate::report::{fmt_ns, write_files, Reporter, RunReport};
use crate::scenario::{Scenario, ScenarioError};
use crate::sim::budget::{self, Limits};
use crate::sim::trace::{JsonlTrace, TraceFilter, TraceSink};
use crate::sim::{BudgetExceeded, Checks, Progress, RunOutput, Sim};
use crate::slo;

/// Exit codes (DESIGN.md §4).
pub mod exit {
    pub const OK: i32 = 0;
    pub const SLO_BREACHED: i32 = 1;
    pub const BAD_INPUT: i32 = 2;
    pub const INVARIANT: i32 = 3;
    /// `compare` or `run --baseline`: a figure worse than its tolerance.
    pub const REGRESSION: i32 = 4;
}

const EXAMPLES: &str = "\
Examples:
  esa-sim run scenarios/baseline.toml
  esa-sim run scenarios/overload.toml --seed 7 --out /tmp/overload
  esa-sim run scenarios/mmc.toml --set load.0.arrival.rate=9/s --set scenario.duration=1h
  esa-sim run scenarios/mmc.toml --format json | jq .latency_ns
  esa-sim run scenarios/worker-failure.toml --html --out /tmp/wf   # also writes /tmp/wf/report.html
  esa-sim run scenarios/worker-failure.toml --trace /tmp/wf.jsonl --trace-filter job=16121   # one job's events
  esa-sim report /tmp/wf
  esa-sim check scenarios/*.toml
  esa-sim org show --format dot | dot -Tsvg > org.svg
  esa-sim org route \"Create user registration endpoint\"

Exit codes: 0 all SLOs met · 1 an SLO breached · 2 bad input · 3 invariant violated (a bug) · 4 regression (--baseline)";

const SWEEP_EXAMPLES: &str = "\
Examples:
  esa-sim sweep scenarios/mmc.toml --vary load.0.arrival.rate=4/s..9/s:6 --replications 10
  esa-sim sweep scenarios/mmc.toml --vary org.agent.server.slots=9,10,12 --precision 2%
  esa-sim sweep scenarios/capacity.toml --vary load.0.arrival.rate=600/min..6000/min:10 --jobs 2
  # one sweep over three machines (same command line, I = 1, 2, 3), then merge:
  esa-sim sweep scenarios/mmc.toml --vary load.0.arrival.rate=4/s..9/s:6 --shard 2/3 --out shard-2
  esa-sim merge shard-1 shard-2 shard-3 --out reports/mmc-sweep

Outputs: sweep.json, sweep.csv, points/<i>/latency.hgrm and latency.hlog, perf.json.
Exit codes: 0 the sweep ran (verdicts are in its files) · 2 bad input · 3 invariant violated (a bug)";
const EXPLORE_EXAMPLES: &str = "\
Examples:
  esa-sim explore scenarios/baseline.toml --seeds 1000 --faults swarm --set scenario.duration=10m
  esa-sim explore scenarios/worker-failure.toml --seeds 200 --jobs 2
  esa-sim explore scenarios/overload.toml --seeds 50 --checks cheap    # only the constant-time checks per event
  esa-sim explore reports/baseline-explore/seeds/seed-123.toml --seeds 1   # replay one failing seed

Seed #0 is the scenario's seed (or --seed); the others derive from it. With
--faults swarm each seed draws its own schedule (which kinds, how many faults,
targets, windows inside the load, some crashes permanent) in place of the
scenario's. Every run checks the invariants after every event, and liveness:
once load stops and faults heal, every job has a result by the end of the
drain (jobs held by a fault that never ends are excused). SLO breaches are
counted, not failures. Outputs: explore.json, seeds/seed-<S>.toml per failing
seed (its schedule, replayable), perf.json.
Exit codes: 0 no failure · 1 liveness failed · 2 bad input or a run over its event budget · 3 invariant violated (a bug)";
const SHRINK_EXAMPLES: &str = "\
Examples:
  esa-sim shrink scenarios/worker-failure.toml --until slo:completion --out /tmp/wf-min.toml
  esa-sim shrink reports/baseline-explore/seeds/seed-123.toml --until exit=1
  esa-sim shrink my.toml --until lost>0 --max-runs 200

CONDITION: exit=3 (an invariant violated) and exit=1 (liveness failed) as
`explore` judges a seed; slo:<key> (that [slo] key breached); lost>0. Each
candidate runs with every invariant checked. The reduction: delta debugging
(ddmin) over the [[fault]] list, then each finite fault's window, then
scenario.duration, then each Poisson or constant load's rate (bisection);
permanent faults stay permanent. The file's header lists what was removed.
Exit codes: 0 a smallest scenario was written · 2 bad input, or the scenario does not meet CONDITION";
const COMPARE_EXAMPLES: &str = "\
Examples:
  esa-sim run scenarios/baseline.toml -q --out /tmp/before
  esa-sim run scenarios/baseline.toml -q --out /tmp/after --set org.agent.L12.service.mean=1.2s
  esa-sim compare /tmp/before /tmp/after
  esa-sim compare /tmp/before /tmp/after --tolerance latency_mean=150% --tolerance 'domain.*.latency_p99=10%'
  esa-sim compare /tmp/before /tmp/after --format markdown >> \"$GITHUB_STEP_SUMMARY\"
  esa-sim compare /tmp/before /tmp/after --format bmf > results.json   # Bencher / github-action-benchmark
  esa-sim run scenarios/baseline.toml --baseline baselines/baseline     # run and compare in one command

Exit codes: 0 no regression · 2 the inputs cannot be compared (the message says why) · 4 regression";
const REPORT_EXAMPLES: &str = "\
Examples:
  esa-sim run scenarios/overload.toml -q --out /tmp/overload
  esa-sim report /tmp/overload      # writes /tmp/overload/report.html
  esa-sim report reports/mmc-sweep  # a sweep directory (sweep.json)

The page is one self-contained HTML file (inline SVG, no script, nothing
fetched) and a pure function of the directory's files: writing it twice
gives the same bytes.";

const PLAN_EXAMPLES: &str = "\
Examples:
  esa-sim plan scenarios/mmc.toml --set org.agent.server.slots=1
  esa-sim plan scenarios/capacity.toml --pool L12 --pool L20 --replications 5 --jobs 2

Outputs: plan.json (pools, slots now and needed, utilisation, SLOs at the plan,
every evaluation), plan.toml (the [[org.agent]] overrides to paste), perf.json.
Assumes more slots never make an SLO worse (growth doubles, then bisects).
Exit codes: 0 a plan was found · 1 none within --max-slots · 2 bad input · 3 invariant violated (a bug)";

const BENCH_EXAMPLES: &str = "\
Examples:
  esa-sim bench scenarios/baseline.toml scenarios/mmc.toml --repeat 10 --out reports/bench.json
  esa-sim bench scenarios/mmc.toml --set scenario.duration=2h --repeat 20 -q

Each scenario runs --warmup times untimed, then --repeat times, one run at a
time (never in parallel, so samples do not compete for cores).
The file holds every run's wall_s, events_per_s, jobs_per_s and sim_to_wall,
with the CPU, cores, OS, build profile and rustc; two files compare with a
Mann–Whitney U test (regression: p < 1 % and median more than 5 % slower).
Exit codes: 0 the runs finished · 2 bad input · 3 invariant violated (a bug)";

/// Deterministic simulator and benchmark harness for the ESA 105-agent org.
#[derive(Parser, Debug)]
#[command(name = "esa-sim", version, about, after_help = EXAMPLES)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Subcommand, Debug)]
pub enum Command {
    /// Run a scenario: print the SLO table, write the reports, exit 0/1.
    #[command(after_help = EXAMPLES)]
    Run(RunArgs),
    /// Run a scenario many times: a grid of --vary values × replications,
    /// with confidence intervals, SLO verdicts and the knee.
    #[command(after_help = SWEEP_EXAMPLES)]
    Sweep(many::SweepArgs),
    /// How many agents: add slots to the bottleneck pool (or the --pools
    /// named) until every SLO passes with confidence, then remove the
    /// slots not needed; prints and writes plan.json and plan.toml.
    #[command(after_help = PLAN_EXAMPLES)]
    Plan(plan::PlanArgs),
    /// Time scenarios: run each --repeat times in turn and write the
    /// samples (events/s, jobs/s, wall time) with the machine's description.
    #[command(after_help = BENCH_EXAMPLES)]
    Bench(bench::BenchArgs),
    /// Run the scenario under many seeds (optionally each with its own
    /// random fault schedule), checking the invariants after every event
    /// and liveness at the end; list each failing seed with its replay.
    #[command(after_help = EXPLORE_EXAMPLES)]
    Explore(explore::ExploreArgs),
    /// Run a scenario live: the same core on tokio against a real Redis
    /// (the org's protocol), workers sleeping service time ÷ --speed; the
    /// same reports and SLO verdicts as `run`, plus live.json.
    Live(live::LiveArgs),
    /// Reduce a scenario whose run meets CONDITION to a smallest one that
    /// still does: fewest faults, shortest windows, shortest load, lowest
    /// rates; writes it as a scenario file.
    #[command(after_help = SHRINK_EXAMPLES)]
    Shrink(shrink::ShrinkArgs),
    /// Combine the shard directories of one sweep into its files.
    #[command(after_help = SWEEP_EXAMPLES)]
    Merge(many::MergeArgs),
    /// Compare two run directories, sweep directories or bench files:
    /// every changed figure, with a verdict; exit 4 on a regression.
    #[command(after_help = COMPARE_EXAMPLES)]
    Compare(compare::CompareArgs),
    /// Validate scenarios without running them (exit 0, or 2 with the reason).
    Check {
        /// Scenario files.
        #[arg(required = true)]
        scenarios: Vec<PathBuf>,
        /// Override a scalar key by dotted path before validating.
        #[arg(long = "set", value_name = "KEY=VALUE")]
        set: Vec<String>,
    },
    /// (Re)write DIR/report.html from a run or sweep directory.
    #[command(after_help = REPORT_EXAMPLES)]
    Report {
        /// The --out directory of `esa-sim run` (summary.json,
        /// timeseries.csv) or `esa-sim sweep` (sweep.json).
        dir: PathBuf,
    },
    /// Inspect the org: its members, reporting lines and routing.
    #[command(subcommand)]
    Org(OrgCommand),
}

#[derive(clap::Args, Debug)]
pub struct RunArgs {
    /// The scenario file (TOML, format v1).
    pub scenario: PathBuf,
    #[command(flatten)]
    pub shown: RunFlags,
    /// Refuse, before starting, a run expecting more arrivals than this.
    #[arg(long, value_name = "N", default_value_t = budget::DEFAULT_MAX_JOBS)]
    pub max_jobs: u64,
    /// Stop a run that processes more events than this [default:
    /// 10,000,000 + 1,000 per expected job].
    #[arg(long, value_name = "N")]
    pub max_events: Option<u64>,
    /// After the run, compare it with this run directory (as `esa-sim
    /// compare DIR OUT` with the scenario's `[compare]` tolerances) and
    /// print the table; exit 4 on a regression, else the run's own code.
    #[arg(long, value_name = "DIR")]
    pub baseline: Option<PathBuf>,
    /// Write every event of the run to FILE as JSON lines (deterministic:
    /// the same scenario and seed give the same bytes).
    ///
    /// Each line has `time_ns` and `event`, and where they apply `job` (its
    /// number, from 0 in arrival order), `subtask` (the domain id, e.g.
    /// "D3"), `agent` (e.g. "L12"), `attempt` (0 for the first), `pool`,
    /// `to`, `ok`, `status`, `reason`, `level`, `slots`, `fault` (the
    /// [[fault]] index). Events: arrival, subtask, dispatch, start, done,
    /// retry, rejected, outage-rejected, requeued, late-result, lost,
    /// work-failed, domain-result, job-result, agent-dead, agent-down,
    /// agent-up, fault-start, fault-end, escalated, moved, shed,
    /// slots-added.
    #[arg(long, value_name = "FILE")]
    pub trace: Option<PathBuf>,
    /// Keep only the trace lines that match: `job=N`, `agent=ID` or
    /// `event=NAME`; several filters must all match.
    #[arg(long, value_name = "KEY=VALUE", requires = "trace")]
    pub trace_filter: Vec<String>,
}

/// The flags `run` and `live` share: the seed, overrides, where the
/// reports go and how the result is shown.
#[derive(clap::Args, Debug)]
pub struct RunFlags {
    /// Root seed (0 to 2^63-1); overrides `[scenario] seed`.
    #[arg(long, value_parser = clap::value_parser!(u64).range(0..=i64::MAX as u64))]
    pub seed: Option<u64>,
    /// Output directory [default: reports/<scenario name>/ (`live`: reports/<scenario name>-live/)].
    #[arg(long, value_name = "DIR")]
    pub out: Option<PathBuf>,
    /// Override a scalar key by dotted path, e.g. `load.0.arrival.rate=2400/min`.
    #[arg(long = "set", value_name = "KEY=VALUE")]
    pub set: Vec<String>,
    /// What to print on stdout.
    #[arg(long, value_enum, default_value_t = Format::Text)]
    pub format: Format,
    /// Print nothing but errors (the reports are still written).
    #[arg(short, long)]
    pub quiet: bool,
    /// Also write report.html (time series, latency percentiles, SLO
    /// table) into the output directory.
    #[arg(long)]
    pub html: bool,
}

impl RunFlags {
    /// `--set`s, then `--seed` as `scenario.seed`.
    pub fn overrides(&self) -> Vec<String> {
        let mut overrides = self.set.clone();
        if let Some(seed) = self.seed {
            overrides.push(format!("scenario.seed={seed}"));
        }
        overrides
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum Format {
    Text,
    Json,
}

#[derive(Subcommand, Debug)]
pub enum OrgCommand {
    /// Print the org: members per kind, reporting tree, routing keywords.
    Show {
        /// Show the org of this scenario (preset plus its overrides)
        /// [default: the built-in esa-105].
        #[arg(long)]
        scenario: Option<PathBuf>,
        #[arg(long, value_enum, default_value_t = OrgFormat::Text)]
        format: OrgFormat,
    },
    /// Show where the orchestrator routes a task text.
    Route {
        /// The task text, e.g. "Run the nightly ETL batch pipeline".
        text: String,
        #[arg(long)]
        scenario: Option<PathBuf>,
    },
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum OrgFormat {
    Text,
    Json,
    Dot,
}

/// Errors at the CLI boundary, each with its exit code.
#[derive(Debug, thiserror::Error)]
pub enum CliError {
    #[error("{0}")]
    Scenario(Box<ScenarioError>),
    #[error(
        "cannot write {path}: {source}; check that the directory is writable or pass --out DIR"
    )]
    Write { path: PathBuf, source: io::Error },
    #[error("invariant violated (this is a bug in esa-sim; please report it with the seed and scenario hash):\n{0}")]
    Invariant(String),
    /// Bad input that is not a scenario file's: a command-line value, a
    /// shard file.
    #[error("{0}")]
    Input(String),
    /// The run would be (or turned out) too big for its bounds.
    #[error("{0}")]
    TooBig(String),
    #[error("{0}")]
    Report(#[from] ReportError),
}

impl From<ScenarioError> for CliError {
    fn from(e: ScenarioError) -> Self {
        CliError::Scenario(Box::new(e))
    }
}

impl CliError {
    pub fn exit_code(&self) -> i32 {
        match self {
            CliError::Scenario(_)
            | CliError::Write { .. }
            | CliError::Input(_)
            | CliError::TooBig(_)
            | CliError::Report(_) => exit::BAD_INPUT,
            CliError::Invariant(_) => exit::INVARIANT,
        }
    }
}

/// Runs the CLI on the process's arguments and standard streams and
/// returns the process exit code. Stderr is not held locked: progress bars
/// draw on it from worker threads.
pub fn main() -> i32 {
    let (stdout, mut stderr) = (io::stdout(), io::stderr());
    let bar = if stderr.is_terminal() {
        Bar::Terminal
    } else {
        Bar::Hidden
    };
    main_with(std::env::args_os(), &mut stdout.lock(), &mut stderr, bar)
}

/// Whether a long run may draw a progress bar on the terminal's stderr.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Bar {
    Hidden,
    Terminal,
}

/// Runs the CLI on `args` (program name first), writing to `out` and `err`;
/// returns the exit code. Never panics on a closed pipe: output that cannot
/// be written is dropped silently when the reader went away (`| head`), and
/// is an error (exit 2) otherwise.
pub fn main_with(
    args: impl IntoIterator<Item = impl Into<OsString> + Clone>,
    out: &mut dyn Write,
    err: &mut dyn Write,
    bar: Bar,
) -> i32 {
    let cli = match Cli::try_parse_from(args) {
        Ok(cli) => cli,
        Err(e) => {
            let code = e.exit_code();
            let sink: &mut dyn Write = if code == 0 { out } else { err };
            let _ = write!(sink, "{}", e.render());
            return if code == 0 { exit::OK } else { exit::BAD_INPUT };
        }
    };
    let result = match cli.command {
        Command::Run(args) => run(&args, out, err, bar),
        Command::Sweep(args) => many::sweep(&args, out, err, bar),
        Command::Plan(args) => plan::plan(&args, out, err, bar),
        Command::Bench(args) => bench::bench(&args, out, err, bar),
        Command::Explore(args) => explore::explore(&args, out, err, bar),
        Command::Live(args) => live::live(&args, out, err, bar),
        Command::Shrink(args) => shrink::shrink(&args, out, err, bar),
        Command::Merge(args) => many::merge(&args, out),
        Command::Compare(args) => compare::compare(&args, out),
        Command::Check { scenarios, set } => check(&scenarios, &set, out, err),
        Command::Org(cmd) => org(cmd, out),
        Command::Report { dir } => report(&dir),
    };
    match result {
        Ok(code) => code,
        Err(e) => {
            let _ = writeln!(err, "error: {e}");
            e.exit_code()
        }
    }
}

/// Maps a failed write to stdout: a reader that went away is not an error.
fn stdout_result(written: io::Result<()>) -> Result<(), CliError> {
    match written {
        Err(e) if e.kind() != io::ErrorKind::BrokenPipe => Err(CliError::Write {
            path: "<stdout>".into(),
            source: e,
        }),
        _ => Ok(()),
    }
}

/// Loads and validates a scenario, including the org-level checks.
pub fn load(path: &Path, overrides: &[String]) -> Result<(Scenario, Org), CliError> {
    Ok(Org::load(path, overrides)?)
}

/// Validates every file (each one fully, as `run` would before starting)
/// and reports each; exit 2 if any is invalid.
fn check(
    paths: &[PathBuf],
    set: &[String],
    out: &mut dyn Write,
    err: &mut dyn Write,
) -> Result<i32, CliError> {
    let mut invalid = 0;
    for p in paths {
        match check_one(p, set) {
            Ok(line) => stdout_result(writeln!(out, "ok: {} — {line}", p.display()))?,
            Err(e) => {
                invalid += 1;
                let _ = writeln!(err, "error: {e}");
            }
        }
    }
    if invalid == 0 {
        return Ok(exit::OK);
    }
    if paths.len() > 1 {
        let _ = writeln!(
            err,
            "{invalid} of {} scenario files are invalid",
            paths.len()
        );
    }
    Ok(exit::BAD_INPUT)
}

fn check_one(path: &Path, set: &[String]) -> Result<String, CliError> {
    let (s, org) = load(path, set)?;
    Sim::build(&s)?;
    Ok(format!(
        "scenario `{}`, {} agents, {} load stream(s), {} fault(s), {} SLO(s), about {} jobs",
        s.name,
        org.agent_count(),
        s.loads.len(),
        s.faults.len(),
        s.slos.len(),
        budget::expected_arrivals(&s).round()
    ))
}

/// The result of one scenario run, ready to report.
pub struct Completed {
    pub scenario: Scenario,
    pub output: RunOutput,
    pub perf: Perf,
}

impl Completed {
    /// A finished run of `scenario` with its SLO verdicts and its perf
    /// figures (`wall_s` of wall time).
    pub fn judge(scenario: Scenario, mut output: RunOutput, wall_s: f64) -> Completed {
        output.summary.slo = slo::evaluate(&scenario.slos, &output.summary);
        output.summary.passed = output.summary.slo.iter().all(|v| v.pass);
        let perf = Perf::new(
            wall_s,
            output.events,
            output.summary.jobs_all.arrived,
            output.summary.sim_end_ns as f64 / 1e9,
        );
        Completed {
            scenario,
            output,
            perf,
        }
    }
}

/// Builds, runs and evaluates a scenario (no output written).
pub fn execute(scenario: Scenario) -> Result<Completed, CliError> {
    execute_with(scenario, Limits::NONE, &mut |_| {})
}

/// [`execute`] within `limits`, reporting progress to `progress`.
pub fn execute_with(
    scenario: Scenario,
    limits: Limits,
    progress: &mut dyn FnMut(Progress),
) -> Result<Completed, CliError> {
    execute_traced(scenario, limits, progress, None)
}

/// [`execute_with`], sending every event to `trace` (`run --trace`).
pub fn execute_traced(
    scenario: Scenario,
    limits: Limits,
    progress: &mut dyn FnMut(Progress),
    trace: Option<Box<dyn TraceSink>>,
) -> Result<Completed, CliError> {
    execute_checked(scenario, limits, Checks::DEFAULT, trace, progress)?
        .map_err(|stop| event_budget_error(limits, stop))
}

/// Builds, runs and evaluates a scenario checking `checks` after every
/// event and sending every event to `trace`; a run stopped by its event
/// budget is the inner error.
pub fn execute_checked(
    scenario: Scenario,
    limits: Limits,
    checks: Checks,
    trace: Option<Box<dyn TraceSink>>,
    progress: &mut dyn FnMut(Progress),
) -> Result<Result<Completed, BudgetExceeded>, CliError> {
    let (mut sim, _org) = Sim::build(&scenario)?;
    if let Some(sink) = trace {
        sim.set_trace(sink);
    }
    let started = Instant::now();
    let output = match sim.with_checks(checks).run_with(limits, progress) {
        Ok(output) => output,
        Err(stop) => return Ok(Err(stop)),
    };
    let wall_s = started.elapsed().as_secs_f64();
    Ok(Ok(Completed::judge(scenario, output, wall_s)))
}

fn event_budget_error(limits: Limits, stop: BudgetExceeded) -> CliError {
    CliError::TooBig(format!(
        "the run stopped after {} events at simulated {} of {}: more than --max-events allows ({}; by default 10,000,000 + 1,000 per expected job). \
         Something in the scenario makes events without load — e.g. a very short timer ([org.balancing] interval, visibility_timeout, retry_backoff) over a long run. \
         Raise the bound with --max-events N if the run is meant to be this big. No reports were written.",
        stop.events,
        fmt_ns(stop.at.as_nanos() as f64),
        fmt_ns(stop.end.as_nanos() as f64),
        limits.max_events
    ))
}

/// Refuses, before anything runs, a run expecting more jobs than allowed.
fn check_size(scenario: &Scenario, expected_jobs: f64, max_jobs: u64) -> Result<(), CliError> {
    if expected_jobs <= max_jobs as f64 {
        return Ok(());
    }
    Err(CliError::TooBig(format!(
        "scenario `{}` expects about {:.3e} jobs (the [[load]] rates over duration {}); the limit is {max_jobs}. \
         Lower the rates or shorten scenario.duration, or raise the limit with --max-jobs N \
         (the full org runs about 0.5 M jobs per second of wall time).",
        scenario.name, expected_jobs, scenario.duration
    )))
}

/// `run --trace FILE`: the trace file, created now (so a bad path fails
/// before the simulation), with the `--trace-filter`s checked against the org.
fn open_trace(args: &RunArgs, org: &Org) -> Result<Option<SharedTrace>, CliError> {
    let Some(path) = &args.trace else {
        return Ok(None);
    };
    let filters = (args.trace_filter.iter())
        .map(|f| TraceFilter::parse(f, org))
        .collect::<Result<Vec<_>, _>>()
        .map_err(CliError::Input)?;
    let file = std::fs::File::create(path).map_err(|e| {
        CliError::Input(format!(
            "--trace {}: cannot create the file: {e}; check that its directory exists and is writable",
            path.display()
        ))
    })?;
    let sink = JsonlTrace::new(io::BufWriter::new(file), org, filters);
    Ok(Some(Arc::new(Mutex::new(sink))))
}

/// The `--trace` writer, shared with the run (which owns its sink).
type SharedTrace = Arc<Mutex<JsonlTrace<io::BufWriter<std::fs::File>>>>;

/// Creates the report directory and proves it is writable, so a bad
/// `--out` is reported before the simulation, not after it.
fn prepare_out_dir(dir: &Path) -> Result<(), CliError> {
    let fail = |path: PathBuf, source| CliError::Write { path, source };
    std::fs::create_dir_all(dir).map_err(|e| fail(dir.to_path_buf(), e))?;
    let probe = dir.join(".esa-sim-write-probe");
    std::fs::File::create(&probe).map_err(|e| fail(dir.to_path_buf(), e))?;
    std::fs::remove_file(&probe).map_err(|e| fail(probe, e))
}

fn run(
    args: &RunArgs,
    out: &mut dyn Write,
    err: &mut dyn Write,
    bar: Bar,
) -> Result<i32, CliError> {
    let (scenario, org) = load(&args.scenario, &args.shown.overrides())?;
    let out_dir = (args.shown.out)
        .clone()
        .unwrap_or_else(|| Path::new("reports").join(&scenario.name));
    let expected = budget::expected_arrivals(&scenario);
    check_size(&scenario, expected, args.max_jobs)?;
    let limits = Limits::given_or_for_jobs(args.max_events, expected);
    if let Some(dir) = &args.baseline {
        compare::check_baseline(dir)?;
    }
    prepare_out_dir(&out_dir)?;
    let trace = open_trace(args, &org)?;
    let sink = (trace.clone()).map(|t| Box::new(t) as Box<dyn TraceSink>);
    let mut view = ProgressView::new(bar == Bar::Terminal && !args.shown.quiet);
    let done = execute_traced(scenario, limits, &mut |p| view.update(p), sink);
    view.finish();
    let done = done?;
    if let (Some(mut trace), Some(path)) = (trace, &args.trace) {
        trace.finish().map_err(|e| {
            CliError::Input(format!(
                "--trace {}: cannot write the trace: {e}; check the disk space and permissions, or trace less with --trace-filter",
                path.display()
            ))
        })?;
    }
    let shown = Shown {
        format: args.shown.format,
        quiet: args.shown.quiet,
        html: args.shown.html,
        trace: args.trace.as_deref(),
    };
    let code = report_run(&done, &out_dir, shown, out, err)?;
    against_baseline(args, &done.scenario, &out_dir, code, out, err)
}

/// How a finished run is shown: stdout format, quiet, report.html, trace.
#[derive(Clone, Copy)]
pub(crate) struct Shown<'a> {
    pub format: Format,
    pub quiet: bool,
    pub html: bool,
    pub trace: Option<&'a Path>,
}

/// Writes a finished run's reports into `out_dir` and prints its result;
/// the exit code of its SLO verdict (an invariant violation is an error).
pub(crate) fn report_run(
    done: &Completed,
    out_dir: &Path,
    shown: Shown,
    out: &mut dyn Write,
    err: &mut dyn Write,
) -> Result<i32, CliError> {
    let summary = &done.output.summary;
    let report = RunReport {
        summary,
        recorder: &done.output.recorder,
    };
    write_files(out_dir, &report).map_err(|source| CliError::Write {
        path: out_dir.to_path_buf(),
        source,
    })?;
    let perf_path = out_dir.join("perf.json");
    std::fs::write(
        &perf_path,
        serde_json::to_string_pretty(&done.perf).expect("perf serializes") + "\n",
    )
    .map_err(|source| CliError::Write {
        path: perf_path,
        source,
    })?;
    if !done.output.violations.is_empty() {
        return Err(CliError::Invariant(invariant_report(done)));
    }
    if shown.html {
        html::write_run_report(out_dir)?;
    }
    if !shown.quiet {
        stdout_result(print_result(
            out,
            shown.format,
            &report,
            &done.perf,
            out_dir,
            shown.trace,
        ))?;
    }
    let _ = err.flush();
    Ok(if summary.passed {
        exit::OK
    } else {
        exit::SLO_BREACHED
    })
}

/// `run --baseline DIR`: the comparison's table after the run's output (on
/// stderr when stdout is the JSON summary); exit 4 on a regression, else
/// the run's `code`.
fn against_baseline(
    args: &RunArgs,
    scenario: &Scenario,
    out_dir: &Path,
    code: i32,
    out: &mut dyn Write,
    err: &mut dyn Write,
) -> Result<i32, CliError> {
    let Some(dir) = &args.baseline else {
        return Ok(code);
    };
    let to: &mut dyn Write = match args.shown.format {
        Format::Text => out,
        Format::Json => err,
    };
    compare::after_run(
        dir,
        out_dir,
        &scenario.tolerances,
        args.shown.quiet,
        to,
        code,
    )
}

/// A progress bar on stderr for runs that take more than a second of wall
/// time: simulated time done, events, ETA. Never shown for short runs, with
/// `-q`, or when stderr is not a terminal.
struct ProgressView {
    enabled: bool,
    started: Instant,
    bar: Option<ProgressBar>,
}

impl ProgressView {
    const DELAY: Duration = Duration::from_secs(1);

    fn new(enabled: bool) -> ProgressView {
        ProgressView {
            enabled,
            started: Instant::now(),
            bar: None,
        }
    }

    fn update(&mut self, p: Progress) {
        if !self.enabled || self.started.elapsed() < Self::DELAY {
            return;
        }
        let bar = self.bar.get_or_insert_with(|| {
            stderr_bar(
                p.end.as_nanos() / 1_000_000,
                "{elapsed_precise} [{bar:30}] {percent:>3}% simulated · {msg} · ETA {eta}",
            )
        });
        bar.set_position(p.now.as_nanos() / 1_000_000);
        let events = match p.events {
            n if n < 1_000_000 => format!("{n} events"),
            n => format!("{:.1} M events", n as f64 / 1e6),
        };
        bar.set_message(format!(
            "{} of {} · {events}",
            fmt_ns(p.now.as_nanos() as f64),
            fmt_ns(p.end.as_nanos() as f64),
        ));
    }

    fn finish(self) {
        if let Some(bar) = self.bar {
            bar.finish_and_clear();
        }
    }
}

/// A progress bar of length `len` on stderr, drawn with `template`.
fn stderr_bar(len: u64, template: &str) -> ProgressBar {
    let bar = ProgressBar::with_draw_target(Some(len), ProgressDrawTarget::stderr());
    let style = ProgressStyle::with_template(template)
        .unwrap_or_else(|_| ProgressStyle::default_bar())
        .progress_chars("=> ");
    bar.set_style(style);
    bar
}

fn invariant_report(done: &Completed) -> String {
    let s = &done.output.summary;
    let mut msg: String = done
        .output
        .violations
        .iter()
        .map(|v| format!("  - {v}\n"))
        .collect();
    msg.push_str(&format!(
        "  reproduce: esa-sim run {} --seed {}   (scenario {}, esa-sim {})",
        done.scenario.source.path, s.scenario.seed, s.scenario.hash, s.esa_sim_version
    ));
    msg
}

fn print_result(
    out: &mut dyn Write,
    format: Format,
    report: &RunReport,
    perf: &Perf,
    out_dir: &Path,
    trace: Option<&Path>,
) -> io::Result<()> {
    match format {
        Format::Json => {
            serde_json::to_writer_pretty(&mut *out, report.summary).map_err(io::Error::from)?;
            writeln!(out)
        }
        Format::Text => {
            TextSummary.write(report, out)?;
            writeln!(
                out,
                "perf        {} events in {:.3} s wall · {:.2} M events/s · {:.0} jobs/s · sim:wall {:.0}× · reports in {}",
                perf.events,
                perf.wall_s,
                perf.events_per_s / 1e6,
                perf.jobs_per_s,
                perf.sim_to_wall_ratio,
                out_dir.display()
            )?;
            match trace {
                Some(path) => writeln!(out, "trace       {}", path.display()),
                None => Ok(()),
            }
        }
    }
}

fn org_of(scenario: Option<&Path>) -> Result<(Scenario, Org), CliError> {
    match scenario {
        Some(p) => load(p, &[]),
        None => Ok(crate::org::builtin()?),
    }
}

fn org(cmd: OrgCommand, out: &mut dyn Write) -> Result<i32, CliError> {
    let written = match cmd {
        OrgCommand::Show { scenario, format } => {
            let (_, org) = org_of(scenario.as_deref())?;
            match format {
                OrgFormat::Text => show::text(&org, out),
                OrgFormat::Json => show::json(&org, out),
                OrgFormat::Dot => show::dot(&org, out),
            }
        }
        OrgCommand::Route { text, scenario } => {
            let (s, org) = org_of(scenario.as_deref())?;
            show::route(&org, &crate::sim::core_config(&s, &org)?, &text, out)
        }
    };
    stdout_result(written)?;
    Ok(exit::OK)
}

/// `esa-sim report DIR`: (re)writes DIR/report.html.
fn report(dir: &Path) -> Result<i32, CliError> {
    html::write_report(dir)?;
    Ok(exit::OK)
}
