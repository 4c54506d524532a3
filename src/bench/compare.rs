//! Comparing two bench files: per scenario in both and per [`Measure`], the
//! median ratio current / baseline and a two-sided Mann–Whitney U test. A
//! regression needs both: significant (p < [`ALPHA`]) and the median worse
//! than the tolerance; an improvement is the mirror image; anything else is
//! no significant change. Scenarios in one file only are listed, never
//! regressions. [`rows`] flattens the result for `compare`'s table formats.

use serde::Serialize;

use super::stats::{mann_whitney, median};
use super::{BenchFile, BenchScenario, Sample};

/// The significance level of the test: 1 %.
pub const ALPHA: f64 = 0.01;

/// The default tolerance on the median: 5 %.
pub const DEFAULT_TOLERANCE: f64 = 0.05;

/// A compared figure of a run.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Measure {
    /// Events processed per wall-clock second (higher is better).
    EventsPerS,
    /// Jobs per wall-clock second (higher is better).
    JobsPerS,
    /// Wall-clock seconds per run (lower is better): the one that sees a
    /// change in the work done, which leaves the rates alone.
    WallS,
}

impl Measure {
    /// Every measure, in report order.
    pub const ALL: [Measure; 3] = [Measure::EventsPerS, Measure::JobsPerS, Measure::WallS];

    /// The name in files and tables.
    pub fn name(self) -> &'static str {
        match self {
            Measure::EventsPerS => "events_per_s",
            Measure::JobsPerS => "jobs_per_s",
            Measure::WallS => "wall_s",
        }
    }

    /// Whether a larger value is better.
    pub fn higher_is_better(self) -> bool {
        match self {
            Measure::EventsPerS | Measure::JobsPerS => true,
            Measure::WallS => false,
        }
    }

    /// This measure of a sample.
    pub fn of(self, s: &Sample) -> f64 {
        match self {
            Measure::EventsPerS => s.events_per_s,
            Measure::JobsPerS => s.jobs_per_s,
            Measure::WallS => s.wall_s,
        }
    }
}

/// What a comparison says about a figure (or a scenario).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Verdict {
    Regression,
    Improvement,
    NoSignificantChange,
    OnlyInBaseline,
    OnlyInCurrent,
}

impl Verdict {
    /// The words in a table.
    pub fn label(self) -> &'static str {
        match self {
            Verdict::Regression => "regression",
            Verdict::Improvement => "improvement",
            Verdict::NoSignificantChange => "no significant change",
            Verdict::OnlyInBaseline => "only in baseline",
            Verdict::OnlyInCurrent => "only in current",
        }
    }
}

/// One result of [`compare()`].
#[derive(Clone, Debug, PartialEq, Serialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum BenchDiff {
    /// A measure of a scenario present in both files.
    Measured {
        scenario: String,
        measure: Measure,
        baseline_median: f64,
        current_median: f64,
        /// current / baseline of the medians (infinite or NaN only when
        /// the baseline median is 0).
        ratio: f64,
        p_value: f64,
        /// Whether the p-value is exact rather than the normal approximation.
        exact: bool,
        verdict: Verdict,
    },
    /// A scenario in only one of the files.
    Unmatched { scenario: String, verdict: Verdict },
}

impl BenchDiff {
    pub fn verdict(&self) -> Verdict {
        match self {
            BenchDiff::Measured { verdict, .. } | BenchDiff::Unmatched { verdict, .. } => *verdict,
        }
    }
}

/// Compares `current` with `baseline`: for each scenario of the baseline
/// (in its order) then each scenario only in the current file. `tolerance`
/// is a fraction (0.05 = 5 %) of the baseline median.
pub fn compare(baseline: &BenchFile, current: &BenchFile, tolerance: f64) -> Vec<BenchDiff> {
    let mut diffs = Vec::new();
    for b in &baseline.scenarios {
        match current.scenario(&b.name) {
            Some(c) => diffs.extend(Measure::ALL.map(|m| measured(b, c, m, tolerance))),
            None => diffs.push(BenchDiff::Unmatched {
                scenario: b.name.clone(),
                verdict: Verdict::OnlyInBaseline,
            }),
        }
    }
    for c in &current.scenarios {
        if baseline.scenario(&c.name).is_none() {
            diffs.push(BenchDiff::Unmatched {
                scenario: c.name.clone(),
                verdict: Verdict::OnlyInCurrent,
            });
        }
    }
    diffs
}

/// Whether any result is a regression (`compare` exits 4).
pub fn has_regression(diffs: &[BenchDiff]) -> bool {
    diffs.iter().any(|d| d.verdict() == Verdict::Regression)
}

fn measured(b: &BenchScenario, c: &BenchScenario, m: Measure, tolerance: f64) -> BenchDiff {
    let xs: Vec<f64> = b.samples.iter().map(|s| m.of(s)).collect();
    let ys: Vec<f64> = c.samples.iter().map(|s| m.of(s)).collect();
    // Validated bench files have samples on both sides; empty ones (a
    // hand-built file) compare as no evidence.
    let baseline_median = median(&xs).unwrap_or(0.0);
    let current_median = median(&ys).unwrap_or(0.0);
    let test = mann_whitney(&xs, &ys);
    let p_value = test.map_or(1.0, |t| t.p_value);
    let ratio = current_median / baseline_median;
    BenchDiff::Measured {
        scenario: b.name.clone(),
        measure: m,
        baseline_median,
        current_median,
        ratio,
        p_value,
        exact: test.is_some_and(|t| t.exact),
        verdict: verdict(m, ratio, p_value, tolerance),
    }
}

/// The verdict of a median ratio and p-value: the one rule.
fn verdict(m: Measure, ratio: f64, p_value: f64, tolerance: f64) -> Verdict {
    if p_value >= ALPHA || ratio.is_nan() {
        return Verdict::NoSignificantChange;
    }
    let (worse, better) = if m.higher_is_better() {
        (ratio < 1.0 - tolerance, ratio > 1.0 + tolerance)
    } else {
        (ratio > 1.0 + tolerance, ratio < 1.0 - tolerance)
    };
    match (worse, better) {
        (true, _) => Verdict::Regression,
        (false, true) => Verdict::Improvement,
        (false, false) => Verdict::NoSignificantChange,
    }
}

/// One line of a comparison table: what `esa-sim compare` prints for two
/// bench files in any format (text, markdown, json, bmf).
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Row {
    /// The scenario name (Bencher's "benchmark").
    pub benchmark: String,
    /// The measure name (`events_per_s`, …); `None` for an unmatched scenario.
    pub measure: Option<&'static str>,
    pub baseline: Option<f64>,
    pub current: Option<f64>,
    /// (current / baseline − 1) · 100.
    pub change_pct: Option<f64>,
    pub verdict: Verdict,
    pub p_value: Option<f64>,
}

/// The table rows of `diffs`, in order.
pub fn rows(diffs: &[BenchDiff]) -> Vec<Row> {
    diffs.iter().map(row).collect()
}

fn row(d: &BenchDiff) -> Row {
    match d {
        BenchDiff::Measured {
            scenario,
            measure,
            baseline_median,
            current_median,
            ratio,
            p_value,
            verdict,
            ..
        } => Row {
            benchmark: scenario.clone(),
            measure: Some(measure.name()),
            baseline: Some(*baseline_median),
            current: Some(*current_median),
            change_pct: ratio.is_finite().then(|| (ratio - 1.0) * 100.0),
            verdict: *verdict,
            p_value: Some(*p_value),
        },
        BenchDiff::Unmatched { scenario, verdict } => Row {
            benchmark: scenario.clone(),
            measure: None,
            baseline: None,
            current: None,
            change_pct: None,
            verdict: *verdict,
            p_value: None,
        },
    }
}

/// Lines saying what changed from the baseline file to the current one
/// besides the samples (`esa-sim version changed: 0.1.0 → 0.2.0`):
/// esa-sim version, build profile, machine, and per scenario its hash,
/// seed, overrides and work (events per run). Empty when nothing does.
pub fn notes(baseline: &BenchFile, current: &BenchFile) -> Vec<String> {
    let mut out = Vec::new();
    let mut differ = |what: &str, b: String, c: String| {
        if b != c {
            out.push(format!("{what} changed: {b} → {c}"));
        }
    };
    differ(
        "esa-sim version",
        baseline.esa_sim_version.clone(),
        current.esa_sim_version.clone(),
    );
    let (bm, cm) = (&baseline.machine, &current.machine);
    differ("build profile", bm.profile.clone(), cm.profile.clone());
    let machine = |m: &super::Machine| {
        let cpu = m.cpu.as_deref().unwrap_or("unknown cpu");
        format!("{cpu}, {} cores, {}/{}", m.cores, m.os, m.arch)
    };
    differ("machine", machine(bm), machine(cm));
    for b in &baseline.scenarios {
        let Some(c) = current.scenario(&b.name) else {
            continue;
        };
        let n = &b.name;
        differ(
            &format!("`{n}` scenario hash"),
            b.hash.clone(),
            c.hash.clone(),
        );
        differ(
            &format!("`{n}` seed"),
            b.seed.to_string(),
            c.seed.to_string(),
        );
        differ(
            &format!("`{n}` overrides"),
            format!("{:?}", b.overrides),
            format!("{:?}", c.overrides),
        );
        differ(
            &format!("`{n}` events per run"),
            b.events.to_string(),
            c.events.to_string(),
        );
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::bench::tests::{file, scenario};

    /// Ten wall times around `centre`, ±2 % in a fixed pattern.
    fn walls(centre: f64) -> Vec<f64> {
        [0.0, 1.0, -1.0, 2.0, -2.0, 0.5, -0.5, 1.5, -1.5, 0.2]
            .iter()
            .map(|d| centre * (1.0 + d / 100.0))
            .collect()
    }

    fn verdicts(diffs: &[BenchDiff]) -> Vec<(String, Verdict)> {
        rows(diffs)
            .into_iter()
            .map(|r| {
                (
                    format!("{}/{}", r.benchmark, r.measure.unwrap_or("-")),
                    r.verdict,
                )
            })
            .collect()
    }

    #[test]
    fn same_samples_are_no_change() {
        let a = file(vec![scenario("s", &walls(1.0))]);
        let diffs = compare(&a, &a, DEFAULT_TOLERANCE);
        assert_eq!(diffs.len(), 3);
        assert!(diffs
            .iter()
            .all(|d| d.verdict() == Verdict::NoSignificantChange));
        assert!(!has_regression(&diffs));
        assert!(notes(&a, &a).is_empty());
    }

    #[test]
    fn twice_slower_is_a_regression_of_every_measure() {
        let a = file(vec![scenario("s", &walls(1.0))]);
        let b = file(vec![scenario("s", &walls(2.0))]);
        let diffs = compare(&a, &b, DEFAULT_TOLERANCE);
        assert!(
            diffs.iter().all(|d| d.verdict() == Verdict::Regression),
            "{diffs:#?}"
        );
        let r = &rows(&diffs)[2];
        assert_eq!(r.measure, Some("wall_s"));
        assert!((r.change_pct.unwrap() - 100.0).abs() < 1e-9);
        assert!(r.p_value.unwrap() < 1e-4);
        // and the other way round, an improvement
        let back = compare(&b, &a, DEFAULT_TOLERANCE);
        assert!(back.iter().all(|d| d.verdict() == Verdict::Improvement));
    }

    #[test]
    fn significant_but_within_tolerance_is_no_change() {
        // 3 % slower, completely separated samples: p tiny, but < 5 %.
        let base: Vec<f64> = (0..10).map(|i| 1.0 + i as f64 * 0.001).collect();
        let slow: Vec<f64> = base.iter().map(|w| w * 1.03 + 0.01).collect();
        let a = file(vec![scenario("s", &base)]);
        let b = file(vec![scenario("s", &slow)]);
        let diffs = compare(&a, &b, DEFAULT_TOLERANCE);
        assert!(diffs
            .iter()
            .all(|d| d.verdict() == Verdict::NoSignificantChange));
        let tight = compare(&a, &b, 0.01);
        assert!(has_regression(&tight), "{tight:#?}");
    }

    #[test]
    fn large_but_insignificant_is_no_change() {
        // Medians 1.0 vs 1.5 from three samples each: p = 0.1 at best.
        let a = file(vec![scenario("s", &[0.9, 1.0, 1.1])]);
        let b = file(vec![scenario("s", &[1.4, 1.5, 1.6])]);
        let diffs = compare(&a, &b, DEFAULT_TOLERANCE);
        assert!(!has_regression(&diffs));
    }

    #[test]
    fn unmatched_scenarios_are_listed_not_regressions() {
        let a = file(vec![scenario("old", &[1.0]), scenario("both", &walls(1.0))]);
        let b = file(vec![scenario("both", &walls(1.0)), scenario("new", &[1.0])]);
        let v = verdicts(&compare(&a, &b, DEFAULT_TOLERANCE));
        assert_eq!(v[0], ("old/-".to_string(), Verdict::OnlyInBaseline));
        assert_eq!(v[1].0, "both/events_per_s");
        assert_eq!(v[4], ("new/-".to_string(), Verdict::OnlyInCurrent));
        assert_eq!(v.len(), 5);
    }

    #[test]
    fn notes_name_what_differs() {
        let a = file(vec![scenario("s", &[1.0])]);
        let mut b = a.clone();
        b.esa_sim_version = "0.2.0".into();
        b.scenarios[0].overrides = vec!["scenario.duration=2h".into()];
        b.scenarios[0].events = 2000;
        let n = notes(&a, &b).join("\n");
        assert!(n.contains("esa-sim version changed: 0.1.0 → 0.2.0"), "{n}");
        assert!(
            n.contains("`s` overrides") && n.contains("`s` events per run"),
            "{n}"
        );
        assert!(!n.contains("seed"), "{n}");
    }
}
