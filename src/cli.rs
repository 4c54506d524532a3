//! The command line: parse arguments, load the scenario, run, report, and
//! map the outcome to an exit code (DESIGN.md §4). Kept thin: every
//! decision about the org or the numbers lives in the library modules.

use std::io::{self, Write};
use std::path::{Path, PathBuf};
use std::time::Instant;

use clap::{Parser, Subcommand, ValueEnum};

use crate::org::{show, Org};
use crate::report::perf::Perf;
use crate::report::text::TextSummary;
use crate::report::{write_files, Reporter, RunReport};
use crate::scenario::{self, Scenario, ScenarioError};
use crate::sim::{RunOutput, Sim};
use crate::slo;

/// Exit codes (DESIGN.md §4).
pub mod exit {
    pub const OK: i32 = 0;
    pub const SLO_BREACHED: i32 = 1;
    pub const BAD_INPUT: i32 = 2;
    pub const INVARIANT: i32 = 3;
}

const EXAMPLES: &str = "\
Examples:
  esa-sim run scenarios/baseline.toml
  esa-sim run scenarios/overload.toml --seed 7 --out /tmp/overload
  esa-sim run scenarios/mmc.toml --set load.0.arrival.rate=9/s --set scenario.duration=1h
  esa-sim run scenarios/mmc.toml --format json | jq .latency_ns
  esa-sim check scenarios/*.toml
  esa-sim org show --format dot | dot -Tsvg > org.svg
  esa-sim org route \"Create user registration endpoint\"

Exit codes: 0 all SLOs met · 1 an SLO breached · 2 bad input · 3 invariant violated (a bug)";

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
    /// Validate scenarios without running them (exit 0, or 2 with the reason).
    Check {
        /// Scenario files.
        #[arg(required = true)]
        scenarios: Vec<PathBuf>,
        /// Override a scalar key by dotted path before validating.
        #[arg(long = "set", value_name = "KEY=VALUE")]
        set: Vec<String>,
    },
    /// Inspect the org: its members, reporting lines and routing.
    #[command(subcommand)]
    Org(OrgCommand),
}

#[derive(clap::Args, Debug)]
pub struct RunArgs {
    /// The scenario file (TOML, format v1).
    pub scenario: PathBuf,
    /// Root seed (0 to 2^63-1); overrides `[scenario] seed`.
    #[arg(long, value_parser = clap::value_parser!(u64).range(0..=i64::MAX as u64))]
    pub seed: Option<u64>,
    /// Output directory [default: reports/<scenario name>/].
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
}

impl From<ScenarioError> for CliError {
    fn from(e: ScenarioError) -> Self {
        CliError::Scenario(Box::new(e))
    }
}

impl CliError {
    pub fn exit_code(&self) -> i32 {
        match self {
            CliError::Scenario(_) | CliError::Write { .. } => exit::BAD_INPUT,
            CliError::Invariant(_) => exit::INVARIANT,
        }
    }
}

/// Runs the CLI and returns the process exit code.
pub fn main() -> i32 {
    let cli = Cli::parse();
    let result = match cli.command {
        Command::Run(args) => run(&args),
        Command::Check { scenarios, set } => check(&scenarios, &set),
        Command::Org(cmd) => org(cmd),
    };
    match result {
        Ok(code) => code,
        Err(e) => {
            eprintln!("error: {e}");
            e.exit_code()
        }
    }
}

/// Loads and validates a scenario, including the org-level checks.
pub fn load(path: &Path, overrides: &[String]) -> Result<(Scenario, Org), CliError> {
    let scenario = scenario::load(path, overrides)?;
    let org = Org::build(&scenario)?;
    slo::check_scopes(&scenario, &org)?;
    Ok((scenario, org))
}

fn check(paths: &[PathBuf], set: &[String]) -> Result<i32, CliError> {
    for p in paths {
        let (s, org) = load(p, set)?;
        Sim::build(&s)?;
        println!(
            "ok: {} — scenario `{}`, {} agents, {} load stream(s), {} fault(s), {} SLO(s)",
            p.display(),
            s.name,
            org.agent_count(),
            s.loads.len(),
            s.faults.len(),
            s.slos.len()
        );
    }
    Ok(exit::OK)
}

/// The result of one scenario run, ready to report.
pub struct Completed {
    pub scenario: Scenario,
    pub output: RunOutput,
    pub perf: Perf,
}

/// Builds, runs and evaluates a scenario (no output written).
pub fn execute(scenario: Scenario) -> Result<Completed, CliError> {
    let (sim, _org) = Sim::build(&scenario)?;
    let started = Instant::now();
    let mut output = sim.run();
    let wall_s = started.elapsed().as_secs_f64();
    output.summary.slo = slo::evaluate(&scenario.slos, &output.summary);
    output.summary.passed = output.summary.slo.iter().all(|v| v.pass);
    let perf = Perf::new(
        wall_s,
        output.events,
        output.summary.jobs_all.arrived,
        output.summary.sim_end_ns as f64 / 1e9,
    );
    Ok(Completed {
        scenario,
        output,
        perf,
    })
}

fn run(args: &RunArgs) -> Result<i32, CliError> {
    let mut overrides = args.set.clone();
    if let Some(seed) = args.seed {
        overrides.push(format!("scenario.seed={seed}"));
    }
    let (scenario, _) = load(&args.scenario, &overrides)?;
    let out_dir = args
        .out
        .clone()
        .unwrap_or_else(|| Path::new("reports").join(&scenario.name));
    let done = execute(scenario)?;
    let summary = &done.output.summary;
    let report = RunReport {
        summary,
        recorder: &done.output.recorder,
    };
    write_files(&out_dir, &report).map_err(|source| CliError::Write {
        path: out_dir.clone(),
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
        return Err(CliError::Invariant(invariant_report(&done)));
    }
    if !args.quiet {
        print_result(args.format, &report, &done.perf, &out_dir);
    }
    Ok(if summary.passed {
        exit::OK
    } else {
        exit::SLO_BREACHED
    })
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

fn print_result(format: Format, report: &RunReport, perf: &Perf, out_dir: &Path) {
    let stdout = io::stdout();
    let mut out = stdout.lock();
    let _ = match format {
        Format::Json => serde_json::to_writer_pretty(&mut out, report.summary)
            .map_err(io::Error::from)
            .and_then(|_| writeln!(out)),
        Format::Text => TextSummary.write(report, &mut out).and_then(|_| {
            writeln!(
                out,
                "perf        {} events in {:.3} s wall · {:.2} M events/s · {:.0} jobs/s · sim:wall {:.0}× · reports in {}",
                perf.events,
                perf.wall_s,
                perf.events_per_s / 1e6,
                perf.jobs_per_s,
                perf.sim_to_wall_ratio,
                out_dir.display()
            )
        }),
    };
}

fn org_of(scenario: Option<&Path>) -> Result<(Scenario, Org), CliError> {
    match scenario {
        Some(p) => load(p, &[]),
        None => Ok(crate::org::builtin()?),
    }
}

fn org(cmd: OrgCommand) -> Result<i32, CliError> {
    let stdout = io::stdout();
    let mut out = stdout.lock();
    let written = match cmd {
        OrgCommand::Show { scenario, format } => {
            let (_, org) = org_of(scenario.as_deref())?;
            match format {
                OrgFormat::Text => show::text(&org, &mut out),
                OrgFormat::Json => show::json(&org, &mut out),
                OrgFormat::Dot => show::dot(&org, &mut out),
            }
        }
        OrgCommand::Route { text, scenario } => {
            let (s, org) = org_of(scenario.as_deref())?;
            show::route(&org, &org.core_config(&s)?, &text, &mut out)
        }
    };
    match written {
        Err(e) if e.kind() != io::ErrorKind::BrokenPipe => Err(CliError::Write {
            path: "<stdout>".into(),
            source: e,
        }),
        _ => Ok(exit::OK),
    }
}
