//! Two bench files as a [`Comparison`]: the verdicts are
//! `crate::bench::compare`'s (Mann–Whitney U at 1 % and the median beyond
//! the tolerance); this adapter gives each measure its tolerance from
//! `--tolerance` (`wall_s=10%`, `*=10%`; default 5 %) and turns the result
//! into the rows and groups every format prints.

use super::tolerance::{self, Applied, Source};
use super::{Comparison, Figure, Group, Row, Tolerance, Unit, Verdict};
use crate::bench::compare::DEFAULT_TOLERANCE;
use crate::bench::stats::median;
use crate::bench::{self, BenchDiff, BenchFile, Measure};

/// Compares two bench files.
pub fn comparison(baseline: &BenchFile, current: &BenchFile, cli: &[Tolerance]) -> Comparison {
    let tolerances = Measure::ALL.map(|m| applied(m, cli));
    let by_tolerance = tolerances.map(|t| bench::compare(baseline, current, t.fraction));
    let mut notes = bench::notes(baseline, current);
    let mut rows = Vec::new();
    // Every call lists the same diffs in the same order; each measure's
    // diff is taken from the call with that measure's tolerance.
    for (i, diff) in by_tolerance[0].iter().enumerate() {
        match diff {
            BenchDiff::Measured { measure, .. } => {
                let k = index(*measure);
                rows.push(row(&by_tolerance[k][i], tolerances[k]));
            }
            BenchDiff::Unmatched { scenario, verdict } => {
                notes.push(format!("{scenario}: {}", verdict.label()));
            }
        }
    }
    let names: Vec<&str> = current.scenarios.iter().map(|s| s.name.as_str()).collect();
    Comparison {
        scenario: names.join(", "),
        baseline: None,
        current: None,
        notes,
        figures: rows.len(),
        rows,
        current_groups: groups(current),
    }
}

fn applied(m: Measure, cli: &[Tolerance]) -> Applied {
    tolerance::given(m.name(), cli, &[]).unwrap_or(Applied {
        fraction: DEFAULT_TOLERANCE,
        source: Source::Default,
    })
}

fn index(m: Measure) -> usize {
    match m {
        Measure::EventsPerS => 0,
        Measure::JobsPerS => 1,
        Measure::WallS => 2,
    }
}

fn unit(m: Measure) -> Unit {
    match m {
        Measure::EventsPerS | Measure::JobsPerS => Unit::PerSecond,
        Measure::WallS => Unit::Seconds,
    }
}

fn direction(m: Measure) -> super::Direction {
    match m.higher_is_better() {
        true => super::Direction::HigherIsBetter,
        false => super::Direction::LowerIsBetter,
    }
}

fn row(diff: &BenchDiff, tolerance: Applied) -> Row {
    let r = &bench::rows(std::slice::from_ref(diff))[0];
    let measure = match diff {
        BenchDiff::Measured { measure, .. } => Some(*measure),
        BenchDiff::Unmatched { .. } => None,
    };
    Row {
        benchmark: r.benchmark.clone(),
        metric: r.measure.unwrap_or("").to_string(),
        unit: measure.map_or(Unit::Seconds, unit),
        direction: measure.map(direction),
        baseline: r.baseline,
        current: r.current,
        current_ci: None,
        change: r.change_pct.map(|p| p / 100.0),
        tolerance,
        p_value: r.p_value,
        verdict: verdict(r.verdict),
    }
}

fn verdict(v: bench::Verdict) -> Verdict {
    match v {
        bench::Verdict::Regression => Verdict::Regression,
        bench::Verdict::Improvement => Verdict::Improved,
        bench::Verdict::NoSignificantChange => Verdict::NotSignificant,
        bench::Verdict::OnlyInBaseline | bench::Verdict::OnlyInCurrent => Verdict::Changed,
    }
}

/// The current file's medians, for Bencher Metric Format; the samples'
/// range is the interval.
fn groups(current: &BenchFile) -> Vec<Group> {
    current
        .scenarios
        .iter()
        .map(|s| Group {
            benchmark: s.name.clone(),
            figures: Measure::ALL
                .iter()
                .map(|&m| {
                    let xs: Vec<f64> = s.samples.iter().map(|x| m.of(x)).collect();
                    let lo = xs.iter().copied().fold(f64::INFINITY, f64::min);
                    let hi = xs.iter().copied().fold(f64::NEG_INFINITY, f64::max);
                    Figure {
                        name: m.name().to_string(),
                        unit: unit(m),
                        direction: Some(direction(m)),
                        value: median(&xs),
                        ci: (lo <= hi).then_some((lo, hi)),
                    }
                })
                .collect(),
        })
        .collect()
}
