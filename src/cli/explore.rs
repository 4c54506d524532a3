//! `esa-sim explore` (DESIGN.md §9): the scenario under many seeds, in
//! parallel, every run checking the invariants after every event
//! (`Checks::Full`) and liveness at its end; a table of outcomes, explore.json, and for every
//! failing seed a scenario file with its schedule and the one command
//! that replays it. The judging is `crate::explore`.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::time::Instant;

use rayon::prelude::*;
use serde::Serialize;

use super::many::{thread_pool, write_json, ManyRuns, RunsProgress};
use super::{check_size, execute_checked, load, prepare_out_dir, stdout_result, Bar, CliError};
use crate::explore::swarm::{self, Targets};
use crate::explore::{Failure, SeedRun, Tally};
use crate::many::spec::replication_seed;
use crate::scenario::document::Document;
use crate::scenario::Scenario;
use crate::sim::budget::{self, Limits};
use crate::sim::Checks;

/// Failing seeds listed on the terminal (all are in explore.json).
const LISTED: usize = 20;

#[derive(clap::Args, Debug)]
pub struct ExploreArgs {
    /// The scenario file (TOML, format v1).
    pub scenario: PathBuf,
    /// How many seeds to run: the scenario's own (or --seed), then seeds
    /// derived from it.
    #[arg(long, value_name = "N", default_value_t = 100,
          value_parser = clap::value_parser!(u32).range(1..=10_000_000))]
    pub seeds: u32,
    /// Whose fault schedule each seed runs: the scenario's `[[fault]]`
    /// list, or one each seed draws (kinds, targets, windows, permanent
    /// crashes), replacing the scenario's.
    #[arg(long, value_enum, default_value_t = FaultMode::Scenario)]
    pub faults: FaultMode,
    /// Invariants checked after every event: all whose cost is the org's
    /// size, with a sweep of the live state every 1,024 events (about 2×
    /// a plain run), or only the constant-time ones, as `run` does (all
    /// are checked at the end of every run).
    #[arg(long, value_enum, default_value_t = CheckLevel::Full)]
    pub checks: CheckLevel,
    /// Output directory [default: reports/<scenario name>-explore/].
    #[arg(long, value_name = "DIR")]
    pub out: Option<PathBuf>,
    #[command(flatten)]
    pub runs: ManyRuns,
}

/// `--checks`: which invariants run after every event.
#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum CheckLevel {
    Full,
    Cheap,
}

impl CheckLevel {
    fn checks(self) -> Checks {
        match self {
            CheckLevel::Full => Checks::Full,
            CheckLevel::Cheap => Checks::Cheap,
        }
    }
}

/// Where each seed's faults come from.
#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum FaultMode {
    /// The scenario's own `[[fault]]` list.
    Scenario,
    /// A schedule drawn from each seed (swarm testing).
    Swarm,
}

/// `esa-sim explore`.
pub fn explore(
    args: &ExploreArgs,
    out: &mut dyn Write,
    err: &mut dyn Write,
    bar: Bar,
) -> Result<i32, CliError> {
    let sets = args.runs.sets();
    let (base, org) = load(&args.scenario, &sets)?;
    let doc = Document::load(&args.scenario, &sets)?;
    let expected = budget::expected_arrivals(&base);
    check_size(&base, expected, args.runs.max_jobs)?;
    let limits = Limits::given_or_for_jobs(args.runs.max_events, expected);
    let dir = args
        .out
        .clone()
        .unwrap_or_else(|| Path::new("reports").join(format!("{}-explore", base.name)));
    prepare_out_dir(&dir)?;
    let started = Instant::now();
    let runs = run_seeds(args, &base, &Targets::of(&org), limits, bar)?;
    let wall_s = started.elapsed().as_secs_f64();
    let tally = Tally::of(&runs);
    let failures = write_failures(args, &doc, &dir, &runs)?;
    let file = ExploreFile {
        esa_sim_version: env!("CARGO_PKG_VERSION"),
        scenario: ScenarioRef {
            name: &base.name,
            path: base.source.path.clone(),
            hash: &base.source.hash,
            seed: base.seed,
            overrides: &base.source.overrides,
        },
        seeds: args.seeds,
        faults: args.faults,
        checks: args.checks,
        tally: &tally,
        failures: &failures,
    };
    write_json(&dir.join("explore.json"), &file)?;
    let perf = ExplorePerf::new(wall_s, &tally, args.runs.jobs);
    write_json(&dir.join("perf.json"), &perf)?;
    if !args.runs.quiet {
        stdout_result(table(&file, &perf, &dir, out))?;
    }
    let _ = err.flush();
    Ok(tally.exit_code())
}

/// Runs every seed on `--jobs` threads; the runs come back in seed order.
fn run_seeds(
    args: &ExploreArgs,
    base: &Scenario,
    targets: &Targets,
    limits: Limits,
    bar: Bar,
) -> Result<Vec<SeedRun>, CliError> {
    let pool = thread_pool(args.runs.jobs)?;
    let progress = RunsProgress::new(bar == Bar::Terminal && !args.runs.quiet, "seeds");
    progress.planned(u64::from(args.seeds));
    let runs: Vec<Result<SeedRun, CliError>> = pool.install(|| {
        (0..args.seeds)
            .into_par_iter()
            .map(|index| {
                let run = run_seed(base, targets, args, limits, index);
                progress.done();
                run
            })
            .collect()
    });
    progress.finish();
    runs.into_iter().collect()
}

/// One seed: its schedule, a run with the invariants checked after every
/// event, and the verdict.
fn run_seed(
    base: &Scenario,
    targets: &Targets,
    args: &ExploreArgs,
    limits: Limits,
    index: u32,
) -> Result<SeedRun, CliError> {
    let mut scenario = base.clone();
    let seed = replication_seed(base.seed, index);
    scenario.seed = seed;
    if args.faults == FaultMode::Swarm {
        scenario.faults = swarm::draw(seed, targets, scenario.duration);
    }
    let faults = scenario.faults.clone();
    Ok(
        match execute_checked(scenario, limits, args.checks.checks(), None, &mut |_| {})? {
            Ok(done) => SeedRun::finished(index, seed, faults, &done.output),
            Err(stop) => SeedRun::over_budget(index, seed, faults, &stop.to_string()),
        },
    )
}

/// One failing seed in explore.json.
#[derive(Serialize)]
struct FailureRef {
    index: u32,
    seed: u64,
    kind: Failure,
    messages: Vec<String>,
    faults: Vec<String>,
    /// The scenario file with this seed and its fault schedule.
    file: String,
    replay: String,
    /// For a liveness failure: the `run --trace` line that follows the
    /// first stuck job from arrival to where it stopped.
    #[serde(skip_serializing_if = "Option::is_none")]
    follow: Option<String>,
}

/// Writes `seeds/seed-<S>.toml` for every failing seed (the scenario with
/// that seed and its schedule, validated as `run` would) and lists them.
fn write_failures(
    args: &ExploreArgs,
    doc: &Document,
    dir: &Path,
    runs: &[SeedRun],
) -> Result<Vec<FailureRef>, CliError> {
    let failing: Vec<(&SeedRun, Failure)> = (runs.iter())
        .filter_map(|r| r.failure().map(|f| (r, f)))
        .collect();
    if failing.is_empty() {
        return Ok(Vec::new());
    }
    let seeds_dir = dir.join("seeds");
    std::fs::create_dir_all(&seeds_dir).map_err(|source| CliError::Write {
        path: seeds_dir.clone(),
        source,
    })?;
    failing
        .into_iter()
        .map(|(run, kind)| write_failure(args, doc, &seeds_dir, run, kind))
        .collect()
}

fn write_failure(
    args: &ExploreArgs,
    doc: &Document,
    seeds_dir: &Path,
    run: &SeedRun,
    kind: Failure,
) -> Result<FailureRef, CliError> {
    let path = seeds_dir.join(format!("seed-{}.toml", run.seed));
    let mut replay = format!("esa-sim explore {} --seeds 1", path.display());
    if let Some(n) = args.runs.max_events {
        replay.push_str(&format!(" --max-events {n}"));
    }
    let mut doc = doc.clone();
    let seed = toml::Value::Integer(run.seed as i64);
    doc.set("scenario.seed", seed)
        .map_err(|e| CliError::Invariant(format!("writing {}: {e}", path.display())))?;
    doc.set_faults(&run.faults);
    check_replays(&doc, &path, run)?;
    let messages = run.messages();
    let header = format!(
        "esa-sim explore of {}: seed #{} ({}), {} failure\n{}\nreplay: {replay}",
        doc.origin(),
        run.index,
        run.seed,
        kind.name(),
        messages.join("\n")
    );
    std::fs::write(&path, doc.text(&header)).map_err(|source| CliError::Write {
        path: path.clone(),
        source,
    })?;
    Ok(FailureRef {
        index: run.index,
        seed: run.seed,
        kind,
        messages,
        faults: run.faults.iter().map(|f| f.describe()).collect(),
        follow: run.first_stuck().map(|job| {
            format!(
                "esa-sim run {} --trace seed-{}.jsonl --trace-filter job={job}",
                path.display(),
                run.seed
            )
        }),
        file: path.display().to_string(),
        replay,
    })
}

/// The written file must run exactly what the seed ran.
fn check_replays(doc: &Document, path: &Path, run: &SeedRun) -> Result<(), CliError> {
    let s = doc.scenario(&path.display().to_string())?;
    if s.seed != run.seed || s.faults != run.faults {
        return Err(CliError::Invariant(format!(
            "the replay file {} does not hold seed {}'s schedule",
            path.display(),
            run.seed
        )));
    }
    Ok(())
}

/// explore.json: everything deterministic about the exploration.
#[derive(Serialize)]
struct ExploreFile<'a> {
    esa_sim_version: &'a str,
    scenario: ScenarioRef<'a>,
    seeds: u32,
    faults: FaultMode,
    checks: CheckLevel,
    tally: &'a Tally,
    failures: &'a [FailureRef],
}

#[derive(Serialize)]
struct ScenarioRef<'a> {
    name: &'a str,
    path: String,
    hash: &'a str,
    /// The root seed: seed #0; the others derive from it.
    seed: u64,
    overrides: &'a [String],
}

/// perf.json of an exploration (wall-clock figures, kept apart).
#[derive(Serialize)]
struct ExplorePerf {
    wall_s: f64,
    seeds: u64,
    seeds_per_s: f64,
    events: u64,
    events_per_s: f64,
    threads: usize,
}

impl ExplorePerf {
    fn new(wall_s: f64, tally: &Tally, jobs: Option<u32>) -> ExplorePerf {
        let per_s = |n: u64| if wall_s > 0.0 { n as f64 / wall_s } else { 0.0 };
        ExplorePerf {
            wall_s,
            seeds: tally.seeds,
            seeds_per_s: per_s(tally.seeds),
            events: tally.events,
            events_per_s: per_s(tally.events),
            threads: jobs.map_or_else(rayon::current_num_threads, |j| j as usize),
        }
    }
}

/// The terminal table: outcomes, SLO breaches, failing seeds with their
/// replay commands, where the files are.
fn table(
    file: &ExploreFile,
    perf: &ExplorePerf,
    dir: &Path,
    out: &mut dyn Write,
) -> std::io::Result<()> {
    let t = file.tally;
    let faults = match file.faults {
        FaultMode::Scenario => "the scenario's faults".to_string(),
        FaultMode::Swarm => format!(
            "swarm faults ({} drawn, {} permanent)",
            t.faults, t.permanent_faults
        ),
    };
    let checks = match file.checks {
        CheckLevel::Full => "all invariants (the live-state sweep every 1024 events)",
        CheckLevel::Cheap => "the constant-time invariants",
    };
    writeln!(
        out,
        "explore `{}`: {} seeds from root {}, {faults}; {checks} checked after every event",
        file.scenario.name, t.seeds, file.scenario.seed
    )?;
    let row = |out: &mut dyn Write, what: &str, n: u64, note: &str| {
        writeln!(out, "  {what:<38} {n:>8}{note}")
    };
    row(out, "ok", t.ok, "")?;
    row(out, "invariant violated (exit 3)", t.invariant, "")?;
    row(out, "liveness failed (exit 1)", t.liveness, "")?;
    if t.budget > 0 {
        row(out, "stopped by the event budget (exit 2)", t.budget, "")?;
    }
    let breaches: Vec<String> = (t.breaches.iter())
        .map(|(k, n)| format!("{k} {n}"))
        .collect();
    let note = if breaches.is_empty() {
        String::new()
    } else {
        format!("   {}", breaches.join(" · "))
    };
    row(
        out,
        "SLO breached (counted, not a failure)",
        t.slo_breached,
        &note,
    )?;
    if t.jobs_excused > 0 {
        writeln!(
            out,
            "  jobs held at the end by faults that never ended (not held to liveness): {}",
            t.jobs_excused
        )?;
    }
    failures(file.failures, out)?;
    writeln!(
        out,
        "perf        {} seeds in {:.1} s wall on {} thread(s) · {:.1} M events · {:.2} M events/s",
        perf.seeds,
        perf.wall_s,
        perf.threads,
        perf.events as f64 / 1e6,
        perf.events_per_s / 1e6
    )?;
    writeln!(
        out,
        "files       {}/explore.json{}",
        dir.display(),
        seeds_note(file, dir)
    )
}

fn failures(list: &[FailureRef], out: &mut dyn Write) -> std::io::Result<()> {
    if list.is_empty() {
        return Ok(());
    }
    writeln!(out, "failing seeds ({}):", list.len())?;
    for f in list.iter().take(LISTED) {
        writeln!(out, "  #{} seed {}: {}", f.index, f.seed, f.kind.name())?;
        for m in &f.messages {
            writeln!(out, "      {m}")?;
        }
        writeln!(out, "      replay: {}", f.replay)?;
        if let Some(follow) = &f.follow {
            writeln!(out, "      follow: {follow}")?;
        }
    }
    if list.len() > LISTED {
        writeln!(out, "  … {} more in explore.json", list.len() - LISTED)?;
    }
    Ok(())
}

fn seeds_note(file: &ExploreFile, dir: &Path) -> String {
    match file.failures.len() {
        0 => String::new(),
        n => format!(", {}/seeds/ ({n} scenario files)", dir.display()),
    }
}
