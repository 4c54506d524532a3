//! Regression comparison (DESIGN.md §8), sans-IO: two [`Side`]s in (the
//! figures of a baseline and of a current result, already read), one
//! [`Comparison`] out (every changed figure with its verdict). It knows
//! nothing of files or the command line; `cli/compare.rs` reads the inputs
//! and `format` renders the result.
//!
//! The core is generic over named figures with a direction: a run's
//! summary ([`run`]) and a sweep's points ([`sweep`]) turn themselves into
//! [`Group`]s of [`Figure`]s. Bench files ([`bench`]) bring their own
//! statistical verdicts (`crate::bench::compare`) and share the rows and
//! the formats.

pub mod bench;
pub mod format;
pub mod run;
pub mod sweep;
pub mod tolerance;

use serde::Serialize;

pub use crate::scenario::{Direction, MetricUnit};
pub use tolerance::Tolerance;
use tolerance::{Applied, Source};

/// The unit of a figure.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Unit {
    /// An SLO metric's canonical unit (ns, per minute, fraction, count).
    Metric(MetricUnit),
    /// Per wall-clock second (bench rates).
    PerSecond,
    /// Wall-clock seconds (bench run time).
    Seconds,
}

impl Unit {
    /// The name in JSON output: `ns`, `per_min`, `fraction`, `count`,
    /// `per_s`, `s`.
    pub fn name(self) -> &'static str {
        match self {
            Unit::Metric(u) => crate::slo::unit_name(u),
            Unit::PerSecond => "per_s",
            Unit::Seconds => "s",
        }
    }
}

/// One measured figure of one result.
#[derive(Clone, Debug, PartialEq)]
pub struct Figure {
    /// The metric's name as an SLO key writes it (`latency_mean`,
    /// `domain.D3.latency_p99`) or a plain count (`jobs.arrived`).
    pub name: String,
    pub unit: Unit,
    /// `None`: listed when it changes, never a regression.
    pub direction: Option<Direction>,
    /// The value (a sweep point's mean); `None` when there is none (no job
    /// finished, the org never recovered).
    pub value: Option<f64>,
    /// The confidence interval around `value`, for sweeps.
    pub ci: Option<(f64, f64)>,
}

/// The figures of one benchmark: a run, or one point of a sweep.
#[derive(Clone, Debug, PartialEq)]
pub struct Group {
    /// The scenario name, plus the point's values for a sweep
    /// (`mmc [load.0.arrival.rate=4/s]`).
    pub benchmark: String,
    pub figures: Vec<Figure>,
}

/// What identifies a result: differences are reported, and a different
/// scenario name makes the two incomparable.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Identity {
    pub scenario: String,
    pub seed: u64,
    pub hash: String,
    pub version: String,
    pub overrides: Vec<String>,
}

/// One input of a comparison.
#[derive(Clone, Debug, PartialEq)]
pub struct Side {
    /// Where it was read from, for messages.
    pub origin: String,
    pub identity: Identity,
    pub groups: Vec<Group>,
}

/// The verdict on one figure.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Verdict {
    /// Worse beyond its tolerance (for a sweep: the whole interval).
    Regression,
    /// Better beyond its tolerance.
    Improved,
    /// Different, but neither of the above.
    Changed,
    /// Bench samples that differ without a significant difference.
    NotSignificant,
}

impl Verdict {
    pub fn label(self) -> &'static str {
        match self {
            Verdict::Regression => "REGRESSION",
            Verdict::Improved => "improved",
            Verdict::Changed => "changed",
            Verdict::NotSignificant => "no significant change",
        }
    }
}

/// One changed figure.
#[derive(Clone, Debug, Serialize)]
pub struct Row {
    pub benchmark: String,
    pub metric: String,
    #[serde(serialize_with = "unit_name")]
    pub unit: Unit,
    pub direction: Option<Direction>,
    pub baseline: Option<f64>,
    pub current: Option<f64>,
    pub current_ci: Option<(f64, f64)>,
    /// (current − baseline) ÷ |baseline|; `None` when either is missing
    /// or the baseline is 0.
    pub change: Option<f64>,
    pub tolerance: Applied,
    /// The significance of the difference (bench files: Mann–Whitney U).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub p_value: Option<f64>,
    pub verdict: Verdict,
}

fn unit_name<S: serde::Serializer>(u: &Unit, s: S) -> Result<S::Ok, S::Error> {
    s.serialize_str(u.name())
}

/// The result of comparing two sides.
#[derive(Clone, Debug, Serialize)]
pub struct Comparison {
    /// The scenario compared (for bench files: every scenario, joined).
    pub scenario: String,
    /// What each side is (runs and sweeps; a bench file has one per
    /// scenario, and its notes say what differs).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub baseline: Option<Identity>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub current: Option<Identity>,
    /// Identity differences and unmatched sweep points, one line each.
    pub notes: Vec<String>,
    /// Every changed figure, in the current side's order.
    pub rows: Vec<Row>,
    /// Figures compared in all.
    pub figures: usize,
    /// The current side's figures, for Bencher Metric Format.
    #[serde(skip)]
    pub current_groups: Vec<Group>,
}

impl Comparison {
    pub fn regressions(&self) -> usize {
        self.count(Verdict::Regression)
    }

    pub fn count(&self, verdict: Verdict) -> usize {
        self.rows.iter().filter(|r| r.verdict == verdict).count()
    }
}

/// Why two inputs cannot be compared.
#[derive(Debug, thiserror::Error, PartialEq)]
#[error("{0}")]
pub struct Incomparable(pub String);

/// Compares `current` with `baseline`; tolerances from the command line
/// (`cli`) win over the scenario's `[compare]` ones, which win over the
/// defaults.
pub fn compare(
    baseline: &Side,
    current: &Side,
    cli: &[Tolerance],
    scenario: &[Tolerance],
) -> Result<Comparison, Incomparable> {
    let (b, c) = (&baseline.identity, &current.identity);
    if b.scenario != c.scenario {
        return Err(Incomparable(format!(
            "{} is scenario `{}` but {} is scenario `{}`; compare results of the same scenario",
            baseline.origin, b.scenario, current.origin, c.scenario
        )));
    }
    let mut notes = identity_notes(b, c);
    let mut rows = Vec::new();
    let mut figures = 0;
    for group in &current.groups {
        let Some(base) = baseline
            .groups
            .iter()
            .find(|g| g.benchmark == group.benchmark)
        else {
            notes.push(format!("{} is only in the current result", group.benchmark));
            continue;
        };
        figures += group.figures.len();
        rows.extend(compare_group(base, group, cli, scenario));
    }
    for group in &baseline.groups {
        if !current
            .groups
            .iter()
            .any(|g| g.benchmark == group.benchmark)
        {
            notes.push(format!("{} is only in the baseline", group.benchmark));
        }
    }
    Ok(Comparison {
        scenario: c.scenario.clone(),
        baseline: Some(b.clone()),
        current: Some(c.clone()),
        notes,
        rows,
        figures,
        current_groups: current.groups.clone(),
    })
}

fn identity_notes(b: &Identity, c: &Identity) -> Vec<String> {
    let mut notes = Vec::new();
    if b.hash != c.hash {
        notes.push(format!("scenario hash differs: {} → {}", b.hash, c.hash));
    }
    if b.seed != c.seed {
        notes.push(format!("seed differs: {} → {}", b.seed, c.seed));
    }
    if b.version != c.version {
        notes.push(format!(
            "esa-sim version differs: {} → {}",
            b.version, c.version
        ));
    }
    if b.overrides != c.overrides {
        let show = |o: &[String]| match o.is_empty() {
            true => "none".to_string(),
            false => o.join(" "),
        };
        notes.push(format!(
            "--set overrides differ: {} → {}",
            show(&b.overrides),
            show(&c.overrides)
        ));
    }
    notes
}

/// The changed figures of one benchmark: the current side's figures in
/// order, then those only the baseline has.
fn compare_group(base: &Group, cur: &Group, cli: &[Tolerance], scenario: &[Tolerance]) -> Vec<Row> {
    let missing = |f: &Figure| Figure {
        value: None,
        ci: None,
        ..f.clone()
    };
    let pairs = cur
        .figures
        .iter()
        .map(|c| {
            let b = base.figures.iter().find(|b| b.name == c.name);
            (b.cloned().unwrap_or_else(|| missing(c)), c.clone())
        })
        .chain(
            base.figures
                .iter()
                .filter(|b| !cur.figures.iter().any(|c| c.name == b.name))
                .map(|b| (b.clone(), missing(b))),
        );
    pairs
        .filter(|(b, c)| b.value != c.value || b.ci != c.ci)
        .map(|(b, c)| {
            let tolerance = tolerance::applied(&c.name, cli, scenario);
            row(&cur.benchmark, &b, &c, tolerance)
        })
        .collect()
}

fn row(benchmark: &str, b: &Figure, c: &Figure, tolerance: Applied) -> Row {
    let change = match (b.value, c.value) {
        (Some(b), Some(c)) if b != 0.0 => Some((c - b) / b.abs()),
        _ => None,
    };
    Row {
        benchmark: benchmark.to_string(),
        metric: c.name.clone(),
        unit: c.unit,
        direction: c.direction,
        baseline: b.value,
        current: c.value,
        current_ci: c.ci,
        change,
        tolerance,
        p_value: None,
        verdict: verdict(b, c, tolerance),
    }
}

/// Regression when the current value — for a sweep, its whole confidence
/// interval — is worse than the baseline by more than the tolerance;
/// improved when the value is better by more than it; else changed. From
/// a zero baseline any worsening is a regression unless the metric's
/// tolerance names it explicitly and is above 0 (a percentage of 0 is 0).
pub fn verdict(b: &Figure, c: &Figure, tol: Applied) -> Verdict {
    let (Some(base), Some(cur), Some(dir)) = (b.value, c.value, c.direction) else {
        return Verdict::Changed;
    };
    let (lo, hi) = c.ci.unwrap_or((cur, cur));
    let t = tol.fraction;
    let margin = base.abs() * t;
    let (worse, better) = match dir {
        Direction::LowerIsBetter => (lo > base + margin, cur < base - margin),
        Direction::HigherIsBetter => (hi < base - margin, cur > base + margin),
    };
    let accepted_from_zero = base == 0.0 && tol.source == Source::Explicit && t > 0.0;
    match (worse && !accepted_from_zero, better) {
        (true, _) => Verdict::Regression,
        (false, true) => Verdict::Improved,
        (false, false) => Verdict::Changed,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fig(v: f64, ci: Option<(f64, f64)>, dir: Direction) -> Figure {
        Figure {
            name: "latency_mean".into(),
            unit: Unit::Metric(MetricUnit::Nanos),
            direction: Some(dir),
            value: Some(v),
            ci,
        }
    }

    fn tol(fraction: f64, source: Source) -> Applied {
        Applied { fraction, source }
    }

    #[test]
    fn verdicts_follow_direction_and_tolerance() {
        use Direction::*;
        let d = tol(0.02, Source::Default);
        let v = |b, c, dir| verdict(&fig(b, None, dir), &fig(c, None, dir), d);
        assert_eq!(v(100.0, 103.0, LowerIsBetter), Verdict::Regression);
        assert_eq!(v(100.0, 101.0, LowerIsBetter), Verdict::Changed);
        assert_eq!(v(100.0, 97.0, LowerIsBetter), Verdict::Improved);
        assert_eq!(v(100.0, 97.0, HigherIsBetter), Verdict::Regression);
        assert_eq!(v(100.0, 103.0, HigherIsBetter), Verdict::Improved);
    }

    #[test]
    fn a_sweep_regresses_only_when_the_whole_interval_is_beyond() {
        use Direction::*;
        let d = tol(0.02, Source::Default);
        let b = fig(100.0, Some((90.0, 110.0)), LowerIsBetter);
        let straddles = fig(110.0, Some((101.0, 119.0)), LowerIsBetter);
        let beyond = fig(110.0, Some((103.0, 117.0)), LowerIsBetter);
        assert_eq!(verdict(&b, &straddles, d), Verdict::Changed);
        assert_eq!(verdict(&b, &beyond, d), Verdict::Regression);
    }

    #[test]
    fn appearing_from_zero() {
        use Direction::*;
        let (b, c) = (fig(0.0, None, LowerIsBetter), fig(1.0, None, LowerIsBetter));
        for t in [
            tol(0.0, Source::Default),
            tol(1000.0, Source::Glob),
            tol(0.0, Source::Explicit),
        ] {
            assert_eq!(verdict(&b, &c, t), Verdict::Regression, "{t:?}");
        }
        assert_eq!(
            verdict(&b, &c, tol(0.05, Source::Explicit)),
            Verdict::Changed
        );
    }
}
