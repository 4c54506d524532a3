//! `esa-sim bench` (DESIGN.md §8): runs each scenario `--repeat` times, one
//! run at a time in this process (samples must not compete for cores),
//! and writes the bench file (`crate::bench`) with the machine's
//! description. The comparison of two bench files is `crate::bench::compare`.

use std::io::Write;
use std::path::{Path, PathBuf};

use indicatif::ProgressBar;

use super::many::write_json;
use super::{
    check_size, execute_with, load, prepare_out_dir, stderr_bar, stdout_result, Bar, CliError,
};
use crate::bench::{stats, BenchFile, BenchScenario, Machine, Sample};
use crate::report::perf::Perf;
use crate::scenario::Scenario;
use crate::sim::budget::{self, Limits};

#[derive(clap::Args, Debug)]
pub struct BenchArgs {
    /// Scenario files (TOML, format v1); each `[scenario] name` once.
    #[arg(required = true)]
    pub scenarios: Vec<PathBuf>,
    /// Runs per scenario.
    #[arg(long, value_name = "N", default_value_t = 10,
          value_parser = clap::value_parser!(u32).range(1..=10_000))]
    pub repeat: u32,
    /// Untimed runs of each scenario before its samples (caches, page
    /// faults and CPU frequency settle).
    #[arg(long, value_name = "N", default_value_t = 1,
          value_parser = clap::value_parser!(u32).range(0..=1_000))]
    pub warmup: u32,
    /// The bench file to write.
    #[arg(long, value_name = "FILE", default_value = "reports/bench.json")]
    pub out: PathBuf,
    /// Override a scalar key of every scenario by dotted path.
    #[arg(long = "set", value_name = "KEY=VALUE")]
    pub set: Vec<String>,
    /// Print nothing but errors (the file is still written).
    #[arg(short, long)]
    pub quiet: bool,
    /// Refuse, before starting, a scenario expecting more arrivals than this.
    #[arg(long, value_name = "N", default_value_t = budget::DEFAULT_MAX_JOBS)]
    pub max_jobs: u64,
}

/// `esa-sim bench`: loads every scenario first (bad input stops before any
/// run), runs them, writes the file, prints medians and ranges.
pub fn bench(
    args: &BenchArgs,
    out: &mut dyn Write,
    err: &mut dyn Write,
    bar: Bar,
) -> Result<i32, CliError> {
    let scenarios = load_all(args)?;
    if let Some(dir) = args.out.parent().filter(|d| !d.as_os_str().is_empty()) {
        prepare_out_dir(dir)?;
    }
    let progress = (bar == Bar::Terminal && !args.quiet).then(|| {
        stderr_bar(
            scenarios.len() as u64 * u64::from(args.warmup + args.repeat),
            "{elapsed_precise} [{bar:30}] {pos}/{len} runs · {msg} · ETA {eta}",
        )
    });
    let mut results = Vec::with_capacity(scenarios.len());
    for s in &scenarios {
        results.push(bench_one(s, args, progress.as_ref())?);
    }
    if let Some(bar) = &progress {
        bar.finish_and_clear();
    }
    let file = BenchFile {
        esa_sim_version: env!("CARGO_PKG_VERSION").to_string(),
        machine: machine(),
        scenarios: results,
    };
    write_json(&args.out, &file)?;
    if !args.quiet {
        stdout_result(print_table(out, &file, &args.out))?;
    }
    let _ = err.flush();
    Ok(super::exit::OK)
}

/// Loads and size-checks every scenario; refuses two with one name.
fn load_all(args: &BenchArgs) -> Result<Vec<Scenario>, CliError> {
    let mut all: Vec<Scenario> = Vec::with_capacity(args.scenarios.len());
    for path in &args.scenarios {
        let (s, _) = load(path, &args.set)?;
        check_size(&s, budget::expected_arrivals(&s), args.max_jobs)?;
        if let Some(first) = all.iter().find(|t| t.name == s.name) {
            return Err(CliError::Input(format!(
                "{} and {} are both scenario `{}`: a bench file holds each scenario name once; \
                 give each file once, or rename one's [scenario] name",
                first.source.path,
                path.display(),
                s.name
            )));
        }
        all.push(s);
    }
    Ok(all)
}

/// Runs `scenario` `--warmup` times untimed, then `--repeat` times with a
/// sample per run.
fn bench_one(
    scenario: &Scenario,
    args: &BenchArgs,
    bar: Option<&ProgressBar>,
) -> Result<BenchScenario, CliError> {
    if let Some(bar) = bar {
        bar.set_message(scenario.name.clone());
    }
    for _ in 0..args.warmup {
        run_once(scenario, bar)?;
    }
    let mut samples = Vec::with_capacity(args.repeat as usize);
    let (mut events, mut jobs) = (0, 0);
    for _ in 0..args.repeat {
        let p = run_once(scenario, bar)?;
        samples.push(Sample::new(p.wall_s, p.events, p.jobs, p.sim_time_s));
        (events, jobs) = (p.events, p.jobs);
    }
    Ok(BenchScenario {
        name: scenario.name.clone(),
        hash: scenario.source.hash.clone(),
        seed: scenario.seed,
        overrides: scenario.source.overrides.clone(),
        events,
        jobs,
        samples,
    })
}

/// One run of `scenario` (the same path as `esa-sim run`): its wall-clock figures.
fn run_once(scenario: &Scenario, bar: Option<&ProgressBar>) -> Result<Perf, CliError> {
    let limits = Limits::for_jobs(budget::expected_arrivals(scenario));
    let done = execute_with(scenario.clone(), limits, &mut |_| {})?;
    if !done.output.violations.is_empty() {
        return Err(CliError::Invariant(super::invariant_report(&done)));
    }
    if let Some(bar) = bar {
        bar.inc(1);
    }
    Ok(done.perf)
}

/// This machine: CPU model, threads, OS, build profile, compiler.
fn machine() -> Machine {
    let cpuinfo = std::fs::read_to_string("/proc/cpuinfo").unwrap_or_default();
    Machine {
        cpu: crate::bench::cpu_model(&cpuinfo),
        cores: std::thread::available_parallelism().map_or(1, |n| n.get()),
        os: std::env::consts::OS.to_string(),
        arch: std::env::consts::ARCH.to_string(),
        profile: if cfg!(debug_assertions) {
            "debug"
        } else {
            "release"
        }
        .to_string(),
        rustc: option_env!("ESA_SIM_RUSTC_VERSION").map(str::to_string),
    }
}

/// Per scenario: runs, median (min–max) of events/s and jobs/s, median wall.
fn print_table(out: &mut dyn Write, file: &BenchFile, path: &Path) -> std::io::Result<()> {
    writeln!(
        out,
        "{:<24} {:>5}  {:<30} {:<30} {:>10}",
        "scenario",
        "runs",
        "events/s median (min – max)",
        "jobs/s median (min – max)",
        "wall median"
    )?;
    for s in &file.scenarios {
        let events: Vec<f64> = s.samples.iter().map(|x| x.events_per_s).collect();
        let jobs: Vec<f64> = s.samples.iter().map(|x| x.jobs_per_s).collect();
        let walls: Vec<f64> = s.samples.iter().map(|x| x.wall_s).collect();
        writeln!(
            out,
            "{:<24} {:>5}  {:<30} {:<30} {:>9.3}s",
            s.name,
            s.samples.len(),
            spread(&events),
            spread(&jobs),
            stats::median(&walls).unwrap_or(0.0)
        )?;
    }
    let m = &file.machine;
    writeln!(
        out,
        "machine: {}, {} cores, {}/{}, {} build · wrote {}",
        m.cpu.as_deref().unwrap_or("unknown cpu"),
        m.cores,
        m.os,
        m.arch,
        m.profile,
        path.display()
    )
}

/// "1.23 M (1.20 M – 1.30 M)" of `xs` (not empty).
fn spread(xs: &[f64]) -> String {
    let min = xs.iter().copied().fold(f64::INFINITY, f64::min);
    let max = xs.iter().copied().fold(f64::NEG_INFINITY, f64::max);
    let med = stats::median(xs).unwrap_or(0.0);
    format!("{} ({} – {})", si(med), si(min), si(max))
}

/// A rate with an SI suffix: 2.35 M, 41.2 k, 812.
fn si(x: f64) -> String {
    if x >= 1e6 {
        format!("{:.2} M", x / 1e6)
    } else if x >= 1e3 {
        format!("{:.1} k", x / 1e3)
    } else {
        format!("{x:.0}")
    }
}
