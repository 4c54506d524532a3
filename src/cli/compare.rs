//! `esa-sim compare` and `run --baseline` (DESIGN.md §8): the command-line
//! side of regression comparison — reading the two inputs, the tolerances
//! of the command line and the scenario, printing, and exit 4 on a
//! regression. The judging itself is `crate::compare`.

use std::io::Write;
use std::path::{Path, PathBuf};

use super::{exit, load, stdout_result, CliError};
use crate::bench::BenchFile;
use crate::compare::format::{self, Format};
use crate::compare::{self, run, sweep, Comparison, Side, Tolerance};
use crate::many::output::SweepFile;
use crate::metrics::summary::Summary;

/// Largest `summary.json` or `sweep.json` read, in bytes.
const MAX_INPUT_BYTES: u64 = 256 * 1024 * 1024;

#[derive(clap::Args, Debug)]
pub struct CompareArgs {
    /// The baseline: a run directory (summary.json), a sweep directory
    /// (sweep.json) or a file written by `esa-sim bench --out`.
    pub baseline: PathBuf,
    /// The result to judge, of the same kind and scenario.
    pub current: PathBuf,
    /// How far METRIC may worsen before it is a regression, e.g.
    /// `latency_mean=5%` or `domain.*.latency_p99=10%` (`*` matches within
    /// one dot-separated segment); repeatable, the last match wins
    /// [default: 0% for lost_jobs and failed_jobs, 2% otherwise]. For bench
    /// files: `events_per_s`, `jobs_per_s`, `wall_s` or `*` [default 5%],
    /// and a regression must also be significant at 1%.
    #[arg(long = "tolerance", value_name = "METRIC=P%", value_parser = Tolerance::parse_arg)]
    pub tolerance: Vec<Tolerance>,
    /// Also use the `[compare] tolerance` table of this scenario file
    /// (the command line's --tolerance wins).
    #[arg(long, value_name = "FILE")]
    pub scenario: Option<PathBuf>,
    /// What to print: a terminal table, a GitHub markdown table, JSON, or
    /// Bencher Metric Format (the current figures).
    #[arg(long, value_enum, default_value_t = Format::Text)]
    pub format: Format,
}

/// `esa-sim compare BASELINE CURRENT`.
pub fn compare(args: &CompareArgs, out: &mut dyn Write) -> Result<i32, CliError> {
    let scenario_tolerances = match &args.scenario {
        Some(path) => load(path, &[])?.0.tolerances,
        None => Vec::new(),
    };
    let c = judge(
        &args.baseline,
        &args.current,
        &args.tolerance,
        &scenario_tolerances,
    )?;
    stdout_result(format::write(&c, args.format, out))?;
    Ok(exit_code(&c, exit::OK))
}

/// `run --baseline DIR`: compares the run just written to `out_dir` with
/// `DIR` using the scenario's tolerances, prints the table (with `quiet`,
/// only when something changed) and gives the exit code: 4 on a
/// regression, else the run's own `run_code`.
pub fn after_run(
    baseline: &Path,
    out_dir: &Path,
    tolerances: &[Tolerance],
    quiet: bool,
    out: &mut dyn Write,
    run_code: i32,
) -> Result<i32, CliError> {
    let c = judge(baseline, out_dir, &[], tolerances)?;
    if !quiet || !c.rows.is_empty() || !c.notes.is_empty() {
        stdout_result(format::write(&c, Format::Text, out))?;
    }
    Ok(exit_code(&c, run_code))
}

/// Checks, before a run, that `--baseline DIR` is a readable run
/// directory, so a wrong path fails at once rather than after the run.
pub fn check_baseline(dir: &Path) -> Result<(), CliError> {
    let side = read_side(dir).map_err(|e| CliError::Input(format!("--baseline: {e}")))?;
    match side {
        (Kind::Run, _) => Ok(()),
        (Kind::Sweep | Kind::Bench, _) => Err(CliError::Input(format!(
            "--baseline {} is a sweep directory (sweep.json); `run --baseline` needs a run directory with summary.json (compare sweeps with `esa-sim compare`)",
            dir.display()
        ))),
    }
}

fn exit_code(c: &Comparison, otherwise: i32) -> i32 {
    match c.regressions() {
        0 => otherwise,
        _ => exit::REGRESSION,
    }
}

fn judge(
    baseline: &Path,
    current: &Path,
    cli: &[Tolerance],
    scenario: &[Tolerance],
) -> Result<Comparison, CliError> {
    let (b, c) = (read_input(baseline)?, read_input(current)?);
    let mismatch = |b: Kind, c: Kind| {
        CliError::Input(format!(
            "cannot compare {} ({}) with {} ({}); pass two run directories, two sweep directories or two bench files",
            baseline.display(),
            b.describe(),
            current.display(),
            c.describe()
        ))
    };
    match (b, c) {
        (Input::Side(bk, _), Input::Side(ck, _)) if bk != ck => Err(mismatch(bk, ck)),
        (Input::Side(_, b), Input::Side(_, c)) => {
            compare::compare(&b, &c, cli, scenario).map_err(|e| CliError::Input(e.to_string()))
        }
        (Input::Bench(b), Input::Bench(c)) => Ok(compare::bench::comparison(&b, &c, cli)),
        (Input::Side(bk, _), Input::Bench(_)) => Err(mismatch(bk, Kind::Bench)),
        (Input::Bench(_), Input::Side(ck, _)) => Err(mismatch(Kind::Bench, ck)),
    }
}

/// One input, read.
enum Input {
    Side(Kind, Side),
    Bench(Box<BenchFile>),
}

/// A run or sweep directory, or a bench file.
fn read_input(path: &Path) -> Result<Input, CliError> {
    if !path.is_file() {
        let (kind, side) = read_side(path)?;
        return Ok(Input::Side(kind, side));
    }
    let text = read_bounded(path)?;
    let file = BenchFile::parse(&path.display().to_string(), &text)
        .map_err(|e| CliError::Input(e.to_string()))?;
    Ok(Input::Bench(Box::new(file)))
}

/// What a compare input is.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Kind {
    Run,
    Sweep,
    Bench,
}

impl Kind {
    fn file(self) -> &'static str {
        match self {
            Kind::Run => "summary.json",
            Kind::Sweep => "sweep.json",
            Kind::Bench => "bench file",
        }
    }

    fn describe(self) -> &'static str {
        match self {
            Kind::Run => "a run directory, summary.json",
            Kind::Sweep => "a sweep directory, sweep.json",
            Kind::Bench => "a bench file",
        }
    }

    fn writer(self) -> &'static str {
        match self {
            Kind::Run => "esa-sim run",
            Kind::Sweep => "esa-sim sweep",
            Kind::Bench => "esa-sim bench",
        }
    }
}

/// Reads a run or a sweep directory.
fn read_side(path: &Path) -> Result<(Kind, Side), CliError> {
    let shown = path.display();
    if !path.is_dir() {
        return Err(CliError::Input(format!(
            "{shown} does not exist; pass the --out directory of `esa-sim run` (summary.json) or `esa-sim sweep` (sweep.json)"
        )));
    }
    let kind = [Kind::Run, Kind::Sweep]
        .into_iter()
        .find(|k| path.join(k.file()).is_file())
        .ok_or_else(|| {
            CliError::Input(format!(
                "{shown} has neither summary.json nor sweep.json; pass the --out directory of `esa-sim run` or `esa-sim sweep`"
            ))
        })?;
    let file = path.join(kind.file());
    let origin = file.display().to_string();
    let text = read_bounded(&file)?;
    let malformed = |e: serde_json::Error| {
        CliError::Input(format!(
            "{origin} is not a {} this esa-sim can read: {e}; write it again with `{}` of this version",
            kind.file(),
            kind.writer()
        ))
    };
    let side = match kind {
        Kind::Run => run::side(
            &origin,
            &serde_json::from_str::<Summary>(&text).map_err(malformed)?,
        ),
        Kind::Sweep => sweep::side(
            &origin,
            &serde_json::from_str::<SweepFile>(&text).map_err(malformed)?,
        ),
        Kind::Bench => {
            return Err(CliError::Input(format!(
                "{shown} is a directory, not a bench file"
            )))
        }
    };
    Ok((kind, side))
}

fn read_bounded(file: &Path) -> Result<String, CliError> {
    let unreadable = |e: std::io::Error| {
        CliError::Input(format!(
            "cannot read {}: {e}; check the path and permissions",
            file.display()
        ))
    };
    let len = std::fs::metadata(file).map_err(unreadable)?.len();
    if len > MAX_INPUT_BYTES {
        return Err(CliError::Input(format!(
            "{} is {len} bytes, more than the {MAX_INPUT_BYTES} bytes compare reads; is it the right file?",
            file.display()
        )));
    }
    std::fs::read_to_string(file).map_err(unreadable)
}
