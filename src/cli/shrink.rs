//! `esa-sim shrink` (DESIGN.md §9): the command-line side of shrinking —
//! arguments, the oracle that runs each candidate (every invariant checked
//! as `explore` does), the minimal scenario file and what was removed. The
//! reduction itself is `crate::explore::shrink`.

use std::io::Write;
use std::path::{Path, PathBuf};

use toml::Value;

use super::many::{RunsProgress, SeedAndSets};
use super::{execute_checked, load, stdout_result, Bar, CliError};
use crate::explore::shrink::{self, Candidate, Condition, Oracle};
use crate::scenario::document::Document;
use crate::scenario::{suggest, Arrival, Scenario};
use crate::sim::budget::{self, Limits};
use crate::sim::Checks;
use crate::time::{Rate, SimDuration};

#[derive(clap::Args, Debug)]
pub struct ShrinkArgs {
    /// The scenario file (TOML, format v1) whose run meets CONDITION.
    pub scenario: PathBuf,
    /// What the smaller scenario must still show: exit=3 (an invariant
    /// violated), exit=1 (liveness failed; explore's exit codes),
    /// slo:<key> (that SLO breached, e.g. slo:completion) or lost>0.
    #[arg(long, value_name = "CONDITION", value_parser = parse_condition)]
    pub until: Condition,
    /// Where to write the smallest scenario [default:
    /// reports/<scenario name>-shrunk.toml].
    #[arg(long, value_name = "FILE")]
    pub out: Option<PathBuf>,
    /// Most candidate runs; the smallest scenario found by then is written.
    #[arg(long, value_name = "N", default_value_t = 500,
          value_parser = clap::value_parser!(u32).range(1..=1_000_000))]
    pub max_runs: u32,
    #[command(flatten)]
    pub scenario_flags: SeedAndSets,
    /// Print nothing but errors (the file is still written).
    #[arg(short, long)]
    pub quiet: bool,
}

fn parse_condition(s: &str) -> Result<Condition, String> {
    s.parse()
}

/// `esa-sim shrink`.
pub fn shrink(
    args: &ShrinkArgs,
    out: &mut dyn Write,
    err: &mut dyn Write,
    bar: Bar,
) -> Result<i32, CliError> {
    let sets = args.scenario_flags.sets();
    let (base, _org) = load(&args.scenario, &sets)?;
    check_condition(&args.until, &base)?;
    let doc = Document::load(&args.scenario, &sets)?;
    let start = Candidate {
        faults: base.faults.clone(),
        duration: base.duration,
        rates: base.loads.iter().map(|l| one_rate(&l.arrival)).collect(),
    };
    let mut oracle = RunOracle {
        doc: &doc,
        base: &base,
        condition: &args.until,
        runs: 0,
        max_runs: args.max_runs,
        progress: RunsProgress::new(bar == Bar::Terminal && !args.quiet, "candidate runs"),
    };
    oracle.first()?;
    let small = shrink::shrink(start.clone(), &mut oracle)?;
    oracle.progress.finish();
    let path = args
        .out
        .clone()
        .unwrap_or_else(|| Path::new("reports").join(format!("{}-shrunk.toml", base.name)));
    let changes = Changes::between(&base, &start, &small);
    let replay = replay(&args.until, &path);
    write(&doc, &base, &small, &path, &header(args, &changes, &replay))?;
    if !args.quiet {
        let exhausted = oracle.runs >= args.max_runs;
        let written = (path.as_path(), replay.as_str());
        stdout_result(print(
            args,
            &base,
            &changes,
            (oracle.runs, exhausted),
            written,
            out,
        ))?;
    }
    let _ = err.flush();
    Ok(super::exit::OK)
}

/// `slo:<key>` must name one of the scenario's SLOs.
fn check_condition(condition: &Condition, scenario: &Scenario) -> Result<(), CliError> {
    let Condition::Slo(key) = condition else {
        return Ok(());
    };
    if scenario.slos.iter().any(|s| &s.key == key) {
        return Ok(());
    }
    let keys = scenario.slos.iter().map(|s| s.key.as_str());
    Err(CliError::Input(format!(
        "--until slo:{key}: the scenario has no SLO `{key}`{}",
        suggest(key, keys, "its [slo] keys")
    )))
}

/// The one rate of a Poisson or constant load; `None` for the others.
fn one_rate(arrival: &Arrival) -> Option<Rate> {
    match arrival {
        Arrival::Poisson { rate } | Arrival::Constant { rate } => Some(*rate),
        Arrival::Ramp { .. } | Arrival::Burst { .. } | Arrival::Trace { .. } => None,
    }
}

/// The scenario document with a candidate's faults, duration and rates.
fn apply(doc: &Document, base: &Scenario, c: &Candidate) -> Result<Document, String> {
    let mut doc = doc.clone();
    doc.set_faults(&c.faults);
    let text = |v: String| Value::String(v);
    if c.duration != base.duration {
        doc.set("scenario.duration", text(c.duration.to_string()))?;
        if base.warmup >= c.duration {
            let warmup = SimDuration(c.duration.as_nanos() / 2);
            doc.set("scenario.warmup", text(warmup.to_string()))?;
        }
    }
    for (i, (rate, load)) in c.rates.iter().zip(&base.loads).enumerate() {
        if let Some(rate) = rate.filter(|r| Some(*r) != one_rate(&load.arrival)) {
            doc.set(&format!("load.{i}.arrival.rate"), text(rate.to_string()))?;
        }
    }
    Ok(doc)
}

/// Runs candidates with every invariant checked, as `explore` does.
struct RunOracle<'a> {
    doc: &'a Document,
    base: &'a Scenario,
    condition: &'a Condition,
    runs: u32,
    max_runs: u32,
    progress: RunsProgress,
}

impl RunOracle<'_> {
    /// The scenario as given must meet the condition.
    fn first(&mut self) -> Result<(), CliError> {
        let scenario = self.base.clone();
        let observed = match self.run(scenario)? {
            Some(output) if self.condition.met_by(&output) => return Ok(()),
            Some(output) => self.condition.observed(&output),
            None => "the run stopped at its event budget".to_string(),
        };
        Err(CliError::Input(format!(
            "{} does not meet --until {}: {observed}; nothing to shrink",
            self.base.source.path, self.condition
        )))
    }

    /// One run: `None` when the event budget stopped it.
    fn run(&mut self, scenario: Scenario) -> Result<Option<crate::sim::RunOutput>, CliError> {
        self.runs += 1;
        self.progress.planned(1);
        let limits = Limits::for_jobs(budget::expected_arrivals(&scenario));
        let done = execute_checked(scenario, limits, Checks::Full, None, &mut |_| {})?;
        self.progress.done();
        Ok(done.ok().map(|d| d.output))
    }
}

impl Oracle for RunOracle<'_> {
    type Error = CliError;

    /// A candidate that is not a valid scenario, or whose run stops at
    /// its event budget, does not meet the condition; past `--max-runs`
    /// nothing does.
    fn meets(&mut self, c: &Candidate) -> Result<bool, CliError> {
        if self.runs >= self.max_runs {
            return Ok(false);
        }
        let origin = self.doc.origin().to_string();
        let Ok(scenario) = apply(self.doc, self.base, c)
            .and_then(|d| d.scenario(&origin).map_err(|e| e.to_string()))
        else {
            return Ok(false);
        };
        match self.run(scenario) {
            Ok(Some(output)) => Ok(self.condition.met_by(&output)),
            Ok(None) => Ok(false),
            Err(CliError::Scenario(_)) => Ok(false),
            Err(e) => Err(e),
        }
    }
}

/// What shrinking changed, as lines for the terminal and the file header.
struct Changes {
    lines: Vec<String>,
    faults: (usize, usize),
}

impl Changes {
    fn between(base: &Scenario, start: &Candidate, small: &Candidate) -> Changes {
        let mut lines = Vec::new();
        for f in &start.faults {
            let kept = small
                .faults
                .iter()
                .find(|k| k.at == f.at && k.kind == f.kind && k.target == f.target);
            match kept {
                None => lines.push(format!("removed   {}", f.describe())),
                Some(k) if k.duration != f.duration => {
                    lines.push(format!("shortened {} → {}", f.describe(), k.describe()))
                }
                Some(k) => lines.push(format!("kept      {}", k.describe())),
            }
        }
        if small.duration != start.duration {
            lines.push(format!("duration  {} → {}", start.duration, small.duration));
        }
        for (i, (a, b)) in start.rates.iter().zip(&small.rates).enumerate() {
            if let (Some(a), Some(b)) = (a, b) {
                if a != b {
                    let name = &base.loads[i].name;
                    lines.push(format!("load {i} ({name}) rate {a} → {b}"));
                }
            }
        }
        Changes {
            lines,
            faults: (start.faults.len(), small.faults.len()),
        }
    }
}

fn replay(condition: &Condition, path: &Path) -> String {
    match condition {
        Condition::Invariant | Condition::Liveness => {
            format!("esa-sim explore {} --seeds 1", path.display())
        }
        Condition::Slo(_) | Condition::Lost => format!("esa-sim run {}", path.display()),
    }
}

fn header(args: &ShrinkArgs, changes: &Changes, replay: &str) -> String {
    let mut h = format!(
        "esa-sim shrink {} --until {}: the smallest scenario found that still meets it\n",
        args.scenario.display(),
        args.until
    );
    for line in &changes.lines {
        h.push_str(line);
        h.push('\n');
    }
    h.push_str(&format!("replay: {replay}"));
    h
}

/// Writes the smallest scenario, validated as `run` would read it.
fn write(
    doc: &Document,
    base: &Scenario,
    small: &Candidate,
    path: &Path,
    header: &str,
) -> Result<(), CliError> {
    let doc = apply(doc, base, small).map_err(CliError::Invariant)?;
    doc.scenario(&path.display().to_string())?;
    if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
        std::fs::create_dir_all(dir).map_err(|source| CliError::Write {
            path: dir.to_path_buf(),
            source,
        })?;
    }
    std::fs::write(path, doc.text(header)).map_err(|source| CliError::Write {
        path: path.to_path_buf(),
        source,
    })
}

/// The terminal report: runs used (and whether `--max-runs` cut them
/// short), what changed, the file `written` and its replay command.
fn print(
    args: &ShrinkArgs,
    base: &Scenario,
    changes: &Changes,
    (runs, exhausted): (u32, bool),
    (path, replay): (&Path, &str),
    out: &mut dyn Write,
) -> std::io::Result<()> {
    writeln!(
        out,
        "shrink `{}` until {}: {} candidate runs{}",
        base.name,
        args.until,
        runs,
        if exhausted {
            " (stopped at --max-runs; the scenario may shrink further)"
        } else {
            ""
        }
    )?;
    writeln!(
        out,
        "  faults    {} → {}",
        changes.faults.0, changes.faults.1
    )?;
    for line in &changes.lines {
        writeln!(out, "  {line}")?;
    }
    writeln!(out, "written     {}", path.display())?;
    writeln!(out, "replay      {replay}")
}
