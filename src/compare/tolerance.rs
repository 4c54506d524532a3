//! Tolerances: how far a figure may worsen before it is a regression.
//! A tolerance is a metric-name pattern (`latency_p99`,
//! `domain.*.latency_p99`, `*`) and a fraction (`"5%"` → 0.05). This module
//! owns the pattern syntax (over SLO metric names and bench measures), the `P%` syntax, the defaults and which
//! tolerance applies to a figure; it reads no files.

use crate::bench::Measure;
use crate::scenario::SloMetric;

/// Default tolerance of every figure but lost and failed jobs.
pub const DEFAULT: f64 = 0.02;

/// Largest tolerance accepted: 100000 %.
const MAX_PERCENT: f64 = 100_000.0;

/// One `METRIC=P%`: a pattern over metric names and the allowed worsening.
#[derive(Clone, Debug, PartialEq)]
pub struct Tolerance {
    /// Dot-separated segments; `*` in a segment matches any run of
    /// characters within that segment (`domain.*.latency_p99`, `latency_*`).
    pub pattern: String,
    /// The allowed relative worsening, e.g. 0.05 for `5%`.
    pub fraction: f64,
}

/// Where a figure's tolerance came from.
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Source {
    /// The built-in default: 0 for lost and failed jobs, 2 % otherwise.
    Default,
    /// A pattern with a wildcard in its metric segment (`*`, `latency_*`).
    Glob,
    /// A pattern naming the metric itself (`failed_jobs`,
    /// `domain.*.failed_jobs`): the user accepts changes of this metric,
    /// so a zero baseline may become non-zero.
    Explicit,
}

/// The tolerance that applies to one figure.
#[derive(Clone, Copy, Debug, PartialEq, serde::Serialize)]
pub struct Applied {
    pub fraction: f64,
    pub source: Source,
}

impl Tolerance {
    /// Parses `METRIC=P%` (the `--tolerance` argument).
    pub fn parse_arg(arg: &str) -> Result<Tolerance, String> {
        let Some((pattern, value)) = arg.split_once('=') else {
            return Err(format!(
                "`--tolerance {arg}` needs METRIC=P%, e.g. --tolerance latency_mean=5% or --tolerance 'domain.*.latency_p99=10%'"
            ));
        };
        let pattern = pattern.trim();
        check_pattern(pattern).map_err(|e| format!("`--tolerance {arg}`: {e}"))?;
        let fraction = parse_percent(value).map_err(|e| format!("`--tolerance {arg}`: {e}"))?;
        Ok(Tolerance {
            pattern: pattern.to_string(),
            fraction,
        })
    }

    /// Whether the pattern matches the metric name `name`.
    pub fn matches(&self, name: &str) -> bool {
        let pat: Vec<&str> = self.pattern.split('.').collect();
        let segs: Vec<&str> = name.split('.').collect();
        if self.pattern == "*" {
            return true;
        }
        pat.len() == segs.len() && pat.iter().zip(&segs).all(|(p, s)| glob(p, s))
    }

    /// Whether the pattern names its metric without a wildcard.
    fn is_explicit(&self) -> bool {
        !self.pattern.rsplit('.').next().unwrap_or("*").contains('*')
    }
}

/// `"5%"` → 0.05: a non-negative percentage with its `%` sign.
pub fn parse_percent(value: &str) -> Result<f64, String> {
    let v = value.trim();
    let number = v
        .strip_suffix('%')
        .map(str::trim)
        .and_then(|n| n.parse::<f64>().ok())
        .filter(|n| n.is_finite());
    match number {
        Some(n) if (0.0..=MAX_PERCENT).contains(&n) => Ok(n / 100.0),
        Some(_) => Err(format!(
            "`{v}` is out of range: write a percentage from 0% to {MAX_PERCENT}%"
        )),
        None => Err(format!(
            "`{v}` is not a percentage; write it with a % sign, e.g. 5% or 0.5%"
        )),
    }
}

/// Checks a pattern: non-empty segments, and a last segment that matches
/// at least one metric name (so a typo is an error, not a silent no-op).
pub fn check_pattern(pattern: &str) -> Result<(), String> {
    if pattern.is_empty() || pattern.split('.').any(str::is_empty) {
        return Err(format!(
            "`{pattern}` is not a metric pattern; write a metric name such as latency_mean, domain.D3.latency_p99 or domain.*.latency_p99"
        ));
    }
    if pattern == "*" {
        return Ok(());
    }
    let last = pattern.rsplit('.').next().unwrap_or(pattern);
    let names: Vec<&str> = SloMetric::ALL
        .iter()
        .map(|(n, _)| *n)
        .chain(Measure::ALL.map(Measure::name))
        .collect();
    if names.iter().any(|n| glob(last, n)) {
        return Ok(());
    }
    Err(format!(
        "`{pattern}` matches no metric: its last segment `{last}` must name one (or be a glob such as latency_*){}",
        crate::scenario::suggest(last, names.iter().copied(), "metrics")
    ))
}

/// The tolerance for the figure `name`: the last matching `cli` pattern,
/// else the last matching `scenario` pattern, else the default (0 for lost
/// and failed jobs in any scope, 2 % otherwise).
pub fn applied(name: &str, cli: &[Tolerance], scenario: &[Tolerance]) -> Applied {
    given(name, cli, scenario).unwrap_or(Applied {
        fraction: default_for(name),
        source: Source::Default,
    })
}

/// The tolerance `cli` or `scenario` give `name` (the last match, the
/// command line first); `None` when neither matches it.
pub fn given(name: &str, cli: &[Tolerance], scenario: &[Tolerance]) -> Option<Applied> {
    let found = cli
        .iter()
        .rev()
        .chain(scenario.iter().rev())
        .find(|t| t.matches(name))?;
    Some(Applied {
        fraction: found.fraction,
        source: if found.is_explicit() {
            Source::Explicit
        } else {
            Source::Glob
        },
    })
}

fn default_for(name: &str) -> f64 {
    let metric = name.rsplit('.').next().and_then(SloMetric::from_name);
    match metric {
        Some(SloMetric::LostJobs | SloMetric::FailedJobs) => 0.0,
        Some(_) | None => DEFAULT,
    }
}

/// `*` matches any run of characters (within one segment).
fn glob(pattern: &str, text: &str) -> bool {
    let parts: Vec<&str> = pattern.split('*').collect();
    if parts.len() == 1 {
        return pattern == text;
    }
    let (first, last) = (parts[0], parts[parts.len() - 1]);
    if !text.starts_with(first) || text.len() < first.len() + last.len() || !text.ends_with(last) {
        return false;
    }
    let mut rest = &text[first.len()..text.len() - last.len()];
    for mid in &parts[1..parts.len() - 1] {
        match rest.find(mid) {
            Some(i) => rest = &rest[i + mid.len()..],
            None => return false,
        }
    }
    true
}

#[cfg(test)]
mod tests {
    use super::*;

    fn t(arg: &str) -> Tolerance {
        Tolerance::parse_arg(arg).unwrap()
    }

    #[test]
    fn globs_match_within_segments() {
        assert!(t("domain.*.latency_p99=5%").matches("domain.D3.latency_p99"));
        assert!(!t("domain.*.latency_p99=5%").matches("latency_p99"));
        assert!(!t("domain.*.latency_p99=5%").matches("priority.high.latency_p99"));
        assert!(t("latency_*=5%").matches("latency_p99"));
        assert!(!t("latency_*=5%").matches("domain.D3.latency_p99"));
        assert!(t("*=5%").matches("domain.D3.latency_p99"));
        assert!(t("*.*.latency_p*9=1%").matches("load.etl.latency_p999"));
        assert!(glob("a*b*c", "aXbYc") && !glob("a*b*c", "aXc") && !glob("ab*ba", "aba"));
    }

    #[test]
    fn defaults_and_precedence() {
        assert_eq!(applied("failed_jobs", &[], &[]).fraction, 0.0);
        assert_eq!(applied("domain.D3.failed_jobs", &[], &[]).fraction, 0.0);
        assert_eq!(applied("lost_jobs", &[], &[]).fraction, 0.0);
        assert_eq!(applied("latency_mean", &[], &[]).fraction, DEFAULT);
        let scen = [t("latency_mean=10%")];
        let cli = [t("*=50%"), t("latency_mean=20%")];
        assert_eq!(applied("latency_mean", &[], &scen).fraction, 0.10);
        let a = applied("latency_mean", &cli, &scen);
        assert_eq!((a.fraction, a.source), (0.20, Source::Explicit));
        let a = applied("failed_jobs", &cli, &scen);
        assert_eq!((a.fraction, a.source), (0.50, Source::Glob));
    }

    #[test]
    fn bad_tolerances_say_why() {
        for (arg, why) in [
            ("latency_mean", "needs METRIC=P%"),
            ("latency_mean=5", "with a % sign"),
            ("latency_mean=-5%", "out of range"),
            ("latncy_mean=5%", "did you mean"),
            ("domain..latency_mean=5%", "not a metric pattern"),
        ] {
            let e = Tolerance::parse_arg(arg).unwrap_err();
            assert!(e.contains(why), "{arg}: {e}");
        }
    }
}
