//! `esa-sim plan` (DESIGN.md §7): the command-line side of capacity
//! planning — arguments, which pools, one evaluation (replications of the
//! scenario with some slots, reduced to a verdict), files, table, exit
//! codes. The search itself is `crate::many::plan`.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::time::Instant;

use serde::Serialize;

use super::many::{
    thread_pool, write_json, Intervals, ManyRuns, RunsProgress, DEFAULT_REPLICATIONS,
};
use super::{check_size, exit, load, prepare_out_dir, stdout_result, Bar, CliError};
use crate::many::output::{Point, Replications, SweepScenario, Verdict};
use crate::many::plan::{self as planner, distribute, Evaluation, Mode, PoolStart};
use crate::many::planfile::{self, PlanFile};
use crate::many::reduce;
use crate::many::run::{RunError, Runner};
use crate::many::spec::{self, Request};
use crate::many::{self as engine, files};
use crate::org::Org;
use crate::scenario::suggest;

/// Slots phase 1 may add in all when `--max-slots` is not given.
pub const DEFAULT_MAX_SLOTS: u32 = 10_000;

#[derive(clap::Args, Debug)]
pub struct PlanArgs {
    /// The scenario file (TOML, format v1); it needs an `[slo]` table.
    pub scenario: PathBuf,
    /// A worker pool (or an agent of one) whose slots may change; several
    /// may be given [default: every worker pool, each slot to the
    /// bottleneck].
    #[arg(long = "pool", value_name = "ID")]
    pub pool: Vec<String>,
    /// Replications per evaluated configuration.
    #[arg(long, value_name = "N", default_value_t = DEFAULT_REPLICATIONS,
          value_parser = clap::value_parser!(u32).range(2..=10_000))]
    pub replications: u32,
    /// The most slots the plan may add in all; no plan within it is exit 1.
    #[arg(long, value_name = "N", default_value_t = DEFAULT_MAX_SLOTS,
          value_parser = clap::value_parser!(u32).range(1..=1_000_000))]
    pub max_slots: u32,
    /// Output directory [default: reports/<scenario name>-plan/].
    #[arg(long, value_name = "DIR")]
    pub out: Option<PathBuf>,
    #[command(flatten)]
    pub stats: Intervals,
    #[command(flatten)]
    pub runs: ManyRuns,
}

/// `esa-sim plan`.
pub fn plan(
    args: &PlanArgs,
    out: &mut dyn Write,
    err: &mut dyn Write,
    bar: Bar,
) -> Result<i32, CliError> {
    let sets = args.runs.sets();
    let (scenario, org) = load(&args.scenario, &sets)?;
    if scenario.slos.is_empty() {
        return Err(CliError::Input(format!(
            "{}: the scenario has no [slo] table, so no number of agents is \"enough\"; add targets, e.g. `--set slo.latency_mean='< 5s'`",
            args.scenario.display()
        )));
    }
    let (mode, pools) = pools(&org, &args.pool)?;
    let out_dir = args
        .out
        .clone()
        .unwrap_or_else(|| Path::new("reports").join(format!("{}-plan", scenario.name)));
    prepare_out_dir(&out_dir)?;
    let started = Instant::now();
    let pool = thread_pool(args.runs.jobs)?;
    let progress = RunsProgress::new(
        bar == Bar::Terminal && !args.runs.quiet,
        "runs (configurations × replications)",
    );
    let runner = Runner {
        pool: &pool,
        on_planned: &|n| progress.planned(n),
        on_done: &|| progress.done(),
    };
    let mut judge = Judge {
        args,
        sets: &sets,
        pools: &pools,
        runner: &runner,
        points: Vec::new(),
        runs: 0,
        events: 0,
        scenario: None,
    };
    let searched = planner::plan(&pools, mode, args.max_slots, &mut |totals| {
        judge.evaluate(totals)
    });
    progress.finish();
    let found = searched?;
    let head = (
        judge.scenario.clone().ok_or_else(|| {
            CliError::Invariant("the plan evaluated nothing, not even the start".into())
        })?,
        mode,
        args.replications,
        args.stats.confidence,
        args.max_slots,
    );
    let file = planfile::build(head, &pools, &found, &judge.points);
    let perf = PlanPerf::new(started, &judge, args.runs.jobs);
    write_json(&out_dir.join("perf.json"), &perf)?;
    write_json(&out_dir.join("plan.json"), &file)?;
    if file.found {
        write_text_file(&out_dir.join("plan.toml"), &planfile::toml(&file))?;
    }
    let at = found.plan.map(|i| &judge.points[i]);
    if !args.runs.quiet {
        stdout_result(print(&file, at, &out_dir, &perf, out))?;
    }
    let code = outcome(&file, args.max_slots, err);
    let _ = err.flush();
    Ok(code)
}

/// Exit 0 with a plan whose own evaluation passes; 1 otherwise, saying why.
fn outcome(file: &PlanFile, max_slots: u32, err: &mut dyn Write) -> i32 {
    match (file.found, file.verdict) {
        (true, Some(Verdict::Pass)) => exit::OK,
        (true, Some(Verdict::Uncertain | Verdict::Fail) | None) => {
            let _ = writeln!(
                err,"note: the planned slots passed where they were implied by other evaluations, but their own evaluation is not a clear pass; rerun with more --replications");
            exit::SLO_BREACHED
        }
        (false, _) => {
            let _ = writeln!(
                err,
                "no plan: even {max_slots} more slot(s) do not make every SLO pass with confidence; raise --max-slots, name other --pool(s), or check that slots are what limits the SLOs"
            );
            exit::SLO_BREACHED
        }
    }
}

fn print(
    file: &PlanFile,
    at: Option<&Point>,
    dir: &Path,
    perf: &PlanPerf,
    out: &mut dyn Write,
) -> std::io::Result<()> {
    planfile::write_text(file, at, out)?;
    if file.found {
        planfile::write_overrides(file, out)?;
    }
    writeln!(
        out,
        "files       {0}/plan.json{1}",
        dir.display(),
        if file.found {
            format!(", {}/plan.toml", dir.display())
        } else {
            String::new()
        }
    )?;
    writeln!(
        out,
        "perf        {} evaluations, {} runs, {} events in {:.2} s wall on {} thread(s)",
        perf.evaluations, perf.runs, perf.events, perf.wall_s, perf.threads
    )
}

/// The pools the plan may change: the `--pool`s named (an agent stands
/// for its pool), or every worker pool.
fn pools(org: &Org, named: &[String]) -> Result<(Mode, Vec<PoolStart>), CliError> {
    let start = |p: usize| {
        let pool = &org.pools[p];
        PoolStart {
            name: pool.name.clone(),
            agents: pool
                .members
                .iter()
                .map(|a| org.agents[a.0 as usize].id.clone())
                .collect(),
            slots: pool
                .members
                .iter()
                .map(|a| org.agents[a.0 as usize].slots)
                .collect(),
        }
    };
    if named.is_empty() {
        return Ok((Mode::Bottleneck, (0..org.pools.len()).map(start).collect()));
    }
    let mut chosen = Vec::new();
    for id in named {
        chosen.push(pool_index(org, id)?);
    }
    chosen.sort_unstable();
    chosen.dedup();
    Ok((Mode::Named, chosen.into_iter().map(start).collect()))
}

fn pool_index(org: &Org, id: &str) -> Result<usize, CliError> {
    if let Some(p) = org.pools.iter().position(|p| p.name == id) {
        return Ok(p);
    }
    let names: Vec<&str> = org.pools.iter().map(|p| p.name.as_str()).collect();
    if let Some(a) = org.agent_index(id) {
        let agent = &org.agents[a.0 as usize];
        return match agent.pool {
            Some(p) => Ok(p.0 as usize),
            None => Err(CliError::Input(format!(
                "--pool {id}: `{id}` is a {} agent, not a worker: only workers take queued work in slots; name a worker pool{}",
                agent.kind.name(),
                suggest(id, names, "worker pools")
            ))),
        };
    }
    if let Some(d) = org.domain_index(id) {
        let mine: Vec<&str> = org.domains[d.0 as usize]
            .pools
            .iter()
            .map(|p| org.pools[p.0 as usize].name.as_str())
            .collect();
        return Err(CliError::Input(format!(
            "--pool {id}: `{id}` is a domain coordinator, which routes work and has no slots; name one of its worker pools: {}",
            mine.join(", ")
        )));
    }
    Err(CliError::Input(format!(
        "--pool {id}: no worker pool or agent `{id}`{}",
        suggest(id, names, "worker pools")
    )))
}

/// Evaluates configurations: each is the scenario with the pools' slots
/// set by id, run `--replications` times and reduced to a point.
struct Judge<'a> {
    args: &'a PlanArgs,
    sets: &'a [String],
    pools: &'a [PoolStart],
    runner: &'a Runner<'a>,
    /// The point of each evaluation, in order (the planner's trials).
    points: Vec<Point>,
    runs: usize,
    events: u64,
    scenario: Option<SweepScenario>,
}

impl Judge<'_> {
    fn evaluate(&mut self, totals: &[u32]) -> Result<Evaluation, CliError> {
        let slots: Vec<Vec<u32>> = self
            .pools
            .iter()
            .zip(totals)
            .map(|(p, &t)| distribute(&p.slots, t))
            .collect();
        let mut sets = self.sets.to_vec();
        for (p, now) in self.pools.iter().zip(&slots) {
            for ((id, &was), &n) in p.agents.iter().zip(&p.slots).zip(now) {
                if n != was {
                    sets.push(format!("org.agent.{id}.slots={n}"));
                }
            }
        }
        let req = Request {
            scenario: self.args.scenario.clone(),
            sets,
            axes: Vec::new(),
            confidence: self.args.stats.confidence,
            replications: Replications::Fixed {
                n: self.args.replications,
            },
            max_events: self.args.runs.max_events,
        };
        let (spec, mut points) = spec::build(&req).map_err(|e| CliError::Input(e.to_string()))?;
        for p in &mut points {
            check_size(&p.scenario, p.expected_jobs, self.args.runs.max_jobs)?;
            p.agents = self.pools.iter().flat_map(|p| p.agents.clone()).collect();
        }
        let records =
            engine::collect(&spec, &points, self.runner, None).map_err(|e| run_error(e, &req))?;
        let utilization = pool_utilization(self.pools, &slots, &records);
        self.runs += records.len();
        self.events += records.iter().map(|r| r.events).sum::<u64>();
        let reduced =
            reduce::reduce(&spec, records).map_err(|e| CliError::Invariant(e.to_string()))?;
        let point = reduced
            .file
            .points
            .into_iter()
            .next()
            .ok_or_else(|| CliError::Invariant("an evaluation reduced to no point".into()))?;
        self.scenario.get_or_insert_with(|| {
            let mut s = spec.scenario.clone();
            s.overrides = self.sets.to_vec();
            s
        });
        let verdict = point.verdict;
        self.points.push(point);
        Ok(Evaluation {
            verdict,
            utilization,
        })
    }
}

/// Each pool's utilisation: its agents' slot-weighted mean, averaged
/// over the replications.
fn pool_utilization(
    pools: &[PoolStart],
    slots: &[Vec<u32>],
    records: &[crate::many::run::RepRecord],
) -> Vec<Option<f64>> {
    let mut offset = 0;
    pools
        .iter()
        .zip(slots)
        .map(|(p, s)| {
            let range = offset..offset + p.agents.len();
            offset = range.end;
            let total: f64 = s.iter().map(|&n| f64::from(n)).sum();
            let per_rep: Option<Vec<f64>> = records
                .iter()
                .map(|r| {
                    r.agent_utilization.get(range.clone()).and_then(|us| {
                        us.iter()
                            .zip(s)
                            .map(|(u, &n)| u.map(|u| u * f64::from(n)))
                            .sum::<Option<f64>>()
                    })
                })
                .collect();
            per_rep
                .filter(|v| !v.is_empty() && total > 0.0)
                .map(|v| v.iter().sum::<f64>() / v.len() as f64 / total)
        })
        .collect()
}

fn run_error(e: RunError, req: &Request) -> CliError {
    let mut reproduce = format!("esa-sim run {}", req.scenario.display());
    for s in &req.sets {
        reproduce.push_str(&format!(" --set '{s}'"));
    }
    match e {
        RunError::Budget { seed, .. } => CliError::TooBig(format!(
            "{e}. Raise the bound with --max-events N if runs are meant to be this big; reproduce one with: {reproduce} --seed {seed}"
        )),
        RunError::Invariant { seed, .. } => {
            CliError::Invariant(format!("  - {e}\n  reproduce: {reproduce} --seed {seed}"))
        }
        RunError::Internal { .. } => CliError::Invariant(e.to_string()),
    }
}

fn write_text_file(path: &Path, text: &str) -> Result<(), CliError> {
    files::write_file(path, |out| out.write_all(text.as_bytes())).map_err(|source| {
        CliError::Write {
            path: path.to_path_buf(),
            source,
        }
    })
}

/// `perf.json` of a plan: wall-clock figures, never in `plan.json`.
#[derive(Serialize)]
struct PlanPerf {
    wall_s: f64,
    evaluations: usize,
    runs: usize,
    events: u64,
    runs_per_s: f64,
    threads: usize,
}

impl PlanPerf {
    fn new(started: Instant, judge: &Judge, jobs: Option<u32>) -> PlanPerf {
        let wall_s = started.elapsed().as_secs_f64();
        PlanPerf {
            wall_s,
            evaluations: judge.points.len(),
            runs: judge.runs,
            events: judge.events,
            runs_per_s: if wall_s > 0.0 {
                judge.runs as f64 / wall_s
            } else {
                0.0
            },
            threads: jobs.map_or_else(rayon::current_num_threads, |j| j as usize),
        }
    }
}
