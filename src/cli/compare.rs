//! `esa-sim compare` and `run --baseline` (DESIGN.md §8): the command-line
//! side of regression comparison — reading the two inputs, the tolerances
//! of the command line and the scenario, printing, and exit 4 on a
//! regression. The judging itself is `crate::compare`.

use std::io::Write;
use std::path::{Path, PathBuf};

use super::{exit, load, stdout_result, CliError};
use crate::compare::format::{self, Format};
use crate::compare::{self, run, sweep, Comparison, Side, Tolerance};
use crate::many::output::SweepFile;
use crate::metrics::summary::Summary;

/// Largest `summary.json` or `sweep.json` read, in bytes.
const MAX_INPUT_BYTES: u64 = 256 * 1024 * 1024;

#[derive(clap::Args, Debug)]
pub struct CompareArgs {
    /// The baseline: a run directory (summary.json) or a sweep directory
    /// (sweep.json).
    pub baseline: PathBuf,
    /// The result to judge, of the same kind and scenario.
    pub current: PathBuf,
    /// How far METRIC may worsen before it is a regression, e.g.
    /// `latency_mean=5%` or `domain.*.latency_p99=10%` (`*` matches within
    /// one dot-separated segment); repeatable, the last match wins
    /// [default: 0% for lost_jobs and failed_jobs, 2% otherwise].
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
        (Kind::Sweep, _) => Err(CliError::Input(format!(
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
    let (b_kind, b) = read_side(baseline)?;
    let (c_kind, c) = read_side(current)?;
    if b_kind != c_kind {
        return Err(CliError::Input(format!(
            "cannot compare {} ({}) with {} ({}); pass two run directories or two sweep directories",
            baseline.display(),
            b_kind.describe(),
            current.display(),
            c_kind.describe()
        )));
    }
    compare::compare(&b, &c, cli, scenario).map_err(|e| CliError::Input(e.to_string()))
}

/// What a compare input is.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Kind {
    Run,
    Sweep,
}

impl Kind {
    fn file(self) -> &'static str {
        match self {
            Kind::Run => "summary.json",
            Kind::Sweep => "sweep.json",
        }
    }

    fn describe(self) -> &'static str {
        match self {
            Kind::Run => "a run directory, summary.json",
            Kind::Sweep => "a sweep directory, sweep.json",
        }
    }

    fn writer(self) -> &'static str {
        match self {
            Kind::Run => "esa-sim run",
            Kind::Sweep => "esa-sim sweep",
        }
    }
}

/// Reads one input: a run or a sweep directory. A plain file would be a
/// `bench` file, which this version cannot compare yet.
fn read_side(path: &Path) -> Result<(Kind, Side), CliError> {
    let shown = path.display();
    if path.is_file() {
        return Err(CliError::Input(format!(
            "{shown} is a file: comparing `esa-sim bench` files is not supported yet; \
             pass two run directories (summary.json) or two sweep directories (sweep.json)"
        )));
    }
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
