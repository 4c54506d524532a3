//! `esa-sim sweep` and `esa-sim merge` (DESIGN.md §7): the command-line
//! side of many runs — arguments, output directory, progress bar, errors
//! and exit codes. The work itself is `crate::many`.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::time::Instant;

use indicatif::ProgressBar;
use serde::Serialize;

use super::{check_size, prepare_out_dir, stderr_bar, stdout_result, Bar, CliError};
use crate::many::output::{Replications, SweepFile};
use crate::many::reduce::{self, Reduced};
use crate::many::run::{RepRecord, RunError, Runner};
use crate::many::shard::{self, Shard, ShardFile};
use crate::many::spec::{self, PointRun, Request, SweepSpec};
use crate::many::{self as engine, files, text, vary, PRECISION_MIN_REPLICATIONS};
use crate::report::html::write_sweep_report;
use crate::sim::budget;

/// Replications per point when neither `--replications` nor
/// `--precision` is given.
pub const DEFAULT_REPLICATIONS: u32 = 5;

#[derive(clap::Args, Debug)]
pub struct SweepArgs {
    /// The scenario file (TOML, format v1).
    pub scenario: PathBuf,
    /// A key to vary: a list `a,b,c` or a range `FROM..TO:N` in the key's
    /// units (`load.0.arrival.rate=600/min..6000/min:10`,
    /// `org.agent.L12.slots=2..12:6`). Several make a grid.
    #[arg(long = "vary", value_name = "KEY=VALUES")]
    pub vary: Vec<String>,
    /// Replications per point [default: 5].
    #[arg(long, value_name = "N", conflicts_with = "precision",
          value_parser = clap::value_parser!(u32).range(1..=10_000))]
    pub replications: Option<u32>,
    /// Add replications until every SLO metric's confidence half-width is
    /// at most P % of its mean (`5%`), starting from 3.
    #[arg(long, value_name = "P%", value_parser = parse_precision)]
    pub precision: Option<f64>,
    /// The most replications `--precision` may run per point.
    #[arg(long, value_name = "N", default_value_t = 50,
          value_parser = clap::value_parser!(u32).range(3..=10_000))]
    pub max_replications: u32,
    /// Run only the I-th of N slices of the work and write DIR/shard.json
    /// for `esa-sim merge`.
    #[arg(long, value_name = "I/N")]
    pub shard: Option<Shard>,
    /// Output directory [default: reports/<scenario name>-sweep/].
    #[arg(long, value_name = "DIR")]
    pub out: Option<PathBuf>,
    #[command(flatten)]
    pub stats: Intervals,
    #[command(flatten)]
    pub runs: ManyRuns,
}

/// The confidence intervals of the commands that replicate (`sweep`, `plan`).
#[derive(clap::Args, Debug)]
pub struct Intervals {
    /// Confidence level of the Student-t intervals, between 0 and 1.
    #[arg(long, value_name = "C", default_value_t = 0.95, value_parser = parse_confidence)]
    pub confidence: f64,
}

/// The flags every command of many runs (`sweep`, `plan`, `explore`) shares.
#[derive(clap::Args, Debug)]
pub struct ManyRuns {
    /// Threads to run on [default: all cores]; results do not depend on it.
    #[arg(long, value_name = "N", value_parser = clap::value_parser!(u32).range(1..=4096))]
    pub jobs: Option<u32>,
    #[command(flatten)]
    pub scenario: SeedAndSets,
    /// Print nothing but errors (the files are still written).
    #[arg(short, long)]
    pub quiet: bool,
    /// Refuse a configuration expecting more arrivals than this (per run).
    #[arg(long, value_name = "N", default_value_t = budget::DEFAULT_MAX_JOBS)]
    pub max_jobs: u64,
    /// Stop a run that processes more events than this [default: 10,000,000
    /// + 1,000 per expected job].
    #[arg(long, value_name = "N")]
    pub max_events: Option<u64>,
}

/// `--seed` and `--set`: the scenario as a command of many runs (or
/// `shrink`) takes it.
#[derive(clap::Args, Debug)]
pub struct SeedAndSets {
    /// Root seed (0 to 2^63-1): replication 0 of every run, explore's seed
    /// #0, the seed shrink runs.
    #[arg(long, value_parser = clap::value_parser!(u64).range(0..=i64::MAX as u64))]
    pub seed: Option<u64>,
    /// Override a key of every run, as for `run`.
    #[arg(long = "set", value_name = "KEY=VALUE")]
    pub set: Vec<String>,
}

impl SeedAndSets {
    /// The `--set` overrides, with `--seed` as the last one.
    pub fn sets(&self) -> Vec<String> {
        let mut sets = self.set.clone();
        if let Some(seed) = self.seed {
            sets.push(format!("scenario.seed={seed}"));
        }
        sets
    }
}

impl ManyRuns {
    /// The `--set` overrides, with `--seed` as the last one.
    pub fn sets(&self) -> Vec<String> {
        self.scenario.sets()
    }
}

#[derive(clap::Args, Debug)]
pub struct MergeArgs {
    /// Shard directories written by `esa-sim sweep --shard I/N --out DIR`.
    #[arg(required = true, value_name = "SHARD_DIR")]
    pub shards: Vec<PathBuf>,
    /// Where to write the merged sweep.
    #[arg(long, value_name = "DIR", required = true)]
    pub out: PathBuf,
    #[arg(short, long)]
    pub quiet: bool,
}

fn parse_precision(s: &str) -> Result<f64, String> {
    let t = s.trim();
    let value = match t.strip_suffix('%') {
        Some(p) => p.trim().parse::<f64>().map(|p| p / 100.0),
        None => t.parse::<f64>(),
    };
    value
        .ok()
        .filter(|p| *p > 0.0 && *p < 1.0)
        .ok_or_else(|| format!("`{s}` is not a precision; write a percentage above 0 and below 100, e.g. `--precision 5%`"))
}

pub(super) fn parse_confidence(s: &str) -> Result<f64, String> {
    s.trim()
        .parse::<f64>()
        .ok()
        .filter(|c| *c > 0.0 && *c < 1.0)
        .ok_or_else(|| format!("`{s}` is not a confidence level; write a number between 0 and 1, e.g. `--confidence 0.95`"))
}

/// `esa-sim sweep`.
pub fn sweep(
    args: &SweepArgs,
    out: &mut dyn Write,
    err: &mut dyn Write,
    bar: Bar,
) -> Result<i32, CliError> {
    let req = request(args)?;
    let (spec, points) = spec::build(&req).map_err(|e| CliError::Input(e.to_string()))?;
    for p in &points {
        check_size(&p.scenario, p.expected_jobs, args.runs.max_jobs)?;
    }
    let out_dir = args
        .out
        .clone()
        .unwrap_or_else(|| default_dir(&spec.scenario.name, args.shard));
    prepare_out_dir(&out_dir)?;
    let started = Instant::now();
    let records = run_all(&spec, &points, args, bar)?;
    let perf = SweepPerf::new(started, &records, args.runs.jobs);
    write_json(&out_dir.join("perf.json"), &perf)?;
    if let Some(shard) = args.shard {
        let runs = records.len();
        let file = ShardFile {
            esa_sim_version: env!("CARGO_PKG_VERSION").to_string(),
            shard,
            spec,
            records,
        };
        write_json(&out_dir.join(shard::SHARD_FILE), &file)?;
        if !args.runs.quiet {
            stdout_result(writeln!(
                out,
                "shard {shard}: {runs} run(s) in {:.2} s written to {}; combine every shard with\n  esa-sim merge SHARD_DIR... --out DIR",
                perf.wall_s,
                out_dir.join(shard::SHARD_FILE).display()
            ))?;
        }
        return Ok(super::exit::OK);
    }
    let reduced = reduce::reduce(&spec, records).map_err(|e| CliError::Invariant(e.to_string()))?;
    finish(&out_dir, &spec, &reduced, args.runs.quiet, out)?;
    if !args.runs.quiet {
        stdout_result(writeln!(
            out,
            "perf        {} runs, {} events in {:.2} s wall on {} thread(s) · {:.1} runs/s",
            perf.runs, perf.events, perf.wall_s, perf.threads, perf.runs_per_s
        ))?;
    }
    let _ = err.flush();
    Ok(super::exit::OK)
}

/// `esa-sim merge`.
pub fn merge(args: &MergeArgs, out: &mut dyn Write) -> Result<i32, CliError> {
    let mut shards = Vec::with_capacity(args.shards.len());
    for dir in &args.shards {
        shards.push((
            dir.clone(),
            shard::read(dir).map_err(|e| CliError::Input(e.to_string()))?,
        ));
    }
    let (spec, records) = shard::combine(shards).map_err(|e| CliError::Input(e.to_string()))?;
    let reduced = reduce::reduce(&spec, records)
        .map_err(|e| CliError::Input(format!("the shards do not make a whole sweep: {e}")))?;
    prepare_out_dir(&args.out)?;
    finish(&args.out, &spec, &reduced, args.quiet, out)?;
    Ok(super::exit::OK)
}

fn request(args: &SweepArgs) -> Result<Request, CliError> {
    let axes = vary::parse_all(&args.vary).map_err(|e| CliError::Input(e.to_string()))?;
    let sets = args.runs.sets();
    let replications = match args.precision {
        Some(precision) => Replications::Precision {
            precision,
            min: PRECISION_MIN_REPLICATIONS,
            max: args.max_replications,
        },
        None => Replications::Fixed {
            n: args.replications.unwrap_or(DEFAULT_REPLICATIONS),
        },
    };
    Ok(Request {
        scenario: args.scenario.clone(),
        sets,
        axes,
        confidence: args.stats.confidence,
        replications,
        max_events: args.runs.max_events,
    })
}

fn default_dir(name: &str, shard: Option<Shard>) -> PathBuf {
    let base = Path::new("reports");
    match shard {
        None => base.join(format!("{name}-sweep")),
        Some(s) => base.join(format!("{name}-sweep-shard-{}-of-{}", s.index, s.count)),
    }
}

/// Runs the sweep's work on `--jobs` threads with a progress bar.
fn run_all(
    spec: &SweepSpec,
    points: &[PointRun],
    args: &SweepArgs,
    bar: Bar,
) -> Result<Vec<RepRecord>, CliError> {
    let pool = thread_pool(args.runs.jobs)?;
    let progress = RunsProgress::new(
        bar == Bar::Terminal && !args.runs.quiet,
        "runs (points × replications)",
    );
    let runner = Runner {
        pool: &pool,
        on_planned: &|n| progress.planned(n),
        on_done: &|| progress.done(),
    };
    let records = engine::collect(spec, points, &runner, args.shard);
    progress.finish();
    records.map_err(|e| run_error(e, spec, args))
}

fn run_error(e: RunError, spec: &SweepSpec, args: &SweepArgs) -> CliError {
    let reproduce = |point: usize, seed: u64| reproduce(&args.scenario, spec, point, seed);
    match e {
        RunError::Budget { point, seed, .. } => CliError::TooBig(format!(
            "{e}. Raise the bound with --max-events N if runs are meant to be this big; reproduce one with: {}",
            reproduce(point, seed)
        )),
        RunError::Invariant { point, seed, .. } => {
            CliError::Invariant(format!("  - {e}\n  reproduce: {}", reproduce(point, seed)))
        }
        RunError::Internal { .. } => CliError::Invariant(e.to_string()),
    }
}

/// The `esa-sim run` command line of one replication of one point.
fn reproduce(scenario: &Path, spec: &SweepSpec, point: usize, seed: u64) -> String {
    let values = spec.points[point]
        .values
        .0
        .iter()
        .map(|(k, v)| format!("{k}={v}"));
    let sets: String = spec
        .scenario
        .overrides
        .iter()
        .cloned()
        .chain(values)
        .map(|s| format!(" --set '{s}'"))
        .collect();
    format!("esa-sim run {}{sets} --seed {seed}", scenario.display())
}

/// Writes the deterministic files and the report, and prints the table.
fn finish(
    dir: &Path,
    spec: &SweepSpec,
    reduced: &Reduced,
    quiet: bool,
    out: &mut dyn Write,
) -> Result<(), CliError> {
    let windows: Vec<(u64, u64)> = spec.points.iter().map(|p| p.window_ns).collect();
    files::write_all(dir, reduced, &windows)
        .and_then(|_| write_sweep_report(dir, &reduced.file))
        .map_err(|source| CliError::Write {
            path: dir.to_path_buf(),
            source,
        })?;
    if !quiet {
        stdout_result(
            text::write(&reduced.file, out)
                .and_then(|_| writeln!(out, "files       {}", written(dir, &reduced.file))),
        )?;
    }
    Ok(())
}

fn written(dir: &Path, file: &SweepFile) -> String {
    format!(
        "{0}/report.html, {0}/sweep.json, {0}/sweep.csv, {0}/points/<0..{1}>/latency.hgrm and .hlog",
        dir.display(),
        file.points.len()
    )
}

/// A pool of `jobs` threads (all cores when `None`).
pub(super) fn thread_pool(jobs: Option<u32>) -> Result<rayon::ThreadPool, CliError> {
    rayon::ThreadPoolBuilder::new()
        .num_threads(jobs.unwrap_or(0) as usize)
        .build()
        .map_err(|e| {
            CliError::Input(format!(
                "cannot start {} thread(s): {e}; pass a smaller --jobs",
                jobs.unwrap_or(0)
            ))
        })
}

pub(super) fn write_json(path: &Path, value: &impl Serialize) -> Result<(), CliError> {
    files::write_file(path, |out| {
        serde_json::to_writer_pretty(&mut *out, value)?;
        out.write_all(b"\n")
    })
    .map_err(|source| CliError::Write {
        path: path.to_path_buf(),
        source,
    })
}

/// `perf.json` of a sweep: wall-clock figures, never in the deterministic files.
#[derive(Serialize)]
struct SweepPerf {
    wall_s: f64,
    runs: usize,
    runs_per_s: f64,
    events: u64,
    events_per_s: f64,
    threads: usize,
}

impl SweepPerf {
    fn new(started: Instant, records: &[RepRecord], jobs: Option<u32>) -> SweepPerf {
        let wall_s = started.elapsed().as_secs_f64();
        let events: u64 = records.iter().map(|r| r.events).sum();
        let per_s = |n: f64| if wall_s > 0.0 { n / wall_s } else { 0.0 };
        SweepPerf {
            wall_s,
            runs: records.len(),
            runs_per_s: per_s(records.len() as f64),
            events,
            events_per_s: per_s(events as f64),
            threads: jobs.map_or_else(rayon::current_num_threads, |j| j as usize),
        }
    }
}

/// A progress bar of runs done out of runs planned, with ETA; drawn on
/// stderr only when enabled (a terminal, no `-q`).
pub struct RunsProgress {
    bar: Option<ProgressBar>,
}

impl RunsProgress {
    /// `what` names the runs counted, e.g. `runs (points × replications)`.
    pub fn new(enabled: bool, what: &str) -> RunsProgress {
        let bar = enabled.then(|| {
            stderr_bar(
                0,
                &format!("{{elapsed_precise}} [{{bar:30}}] {{pos}}/{{len}} {what} · ETA {{eta}}"),
            )
        });
        RunsProgress { bar }
    }

    pub fn planned(&self, more: u64) {
        if let Some(bar) = &self.bar {
            bar.inc_length(more);
        }
    }

    pub fn done(&self) {
        if let Some(bar) = &self.bar {
            bar.inc(1);
        }
    }

    pub fn finish(&self) {
        if let Some(bar) = &self.bar {
            bar.finish_and_clear();
        }
    }
}
