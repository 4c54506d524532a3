//! Statistics over replications: mean, sample standard deviation and the
//! Student-t confidence interval of the mean, and the pass / fail /
//! uncertain verdict of an interval against an SLO target. Sums run in
//! replication order, so the figures are the same however the runs were
//! scheduled.

use statrs::distribution::{ContinuousCDF, StudentsT};

use super::output::{MetricStats, Verdict};
use crate::scenario::CmpOp;

/// The statistics of one metric's values, in replication order (`None`: a
/// replication that gave the metric no value).
pub fn summarize(unit: &str, values: &[Option<f64>], confidence: f64) -> MetricStats {
    let xs: Vec<f64> = values.iter().flatten().copied().collect();
    let n = xs.len();
    let mean = (n > 0).then(|| xs.iter().sum::<f64>() / n as f64);
    let stddev = mean.filter(|_| n >= 2).map(|m| {
        let ss: f64 = xs.iter().map(|x| (x - m) * (x - m)).sum();
        (ss / (n - 1) as f64).sqrt()
    });
    let half = stddev.map(|sd| t_quantile(confidence, n - 1) * sd / (n as f64).sqrt());
    MetricStats {
        unit: unit.to_string(),
        n: n as u32,
        mean,
        stddev,
        ci_low: mean.zip(half).map(|(m, h)| m - h),
        ci_high: mean.zip(half).map(|(m, h)| m + h),
    }
}

/// The two-sided Student-t quantile t_{(1+confidence)/2, df}; `df` ≥ 1.
pub fn t_quantile(confidence: f64, df: usize) -> f64 {
    // A unit t distribution with df ≥ 1 always exists.
    let t = StudentsT::new(0.0, 1.0, df as f64).expect("df >= 1 is a valid t distribution");
    t.inverse_cdf(0.5 + confidence / 2.0)
}

/// The half-width of the interval, if there is one.
pub fn half_width(s: &MetricStats) -> Option<f64> {
    s.ci_low.zip(s.ci_high).map(|(lo, hi)| (hi - lo) / 2.0)
}

/// Whether the interval is narrow enough: half-width ≤ `precision` × |mean|
/// (a metric that did not vary at all always is).
pub fn precise_enough(s: &MetricStats, precision: f64) -> bool {
    match (s.mean, half_width(s)) {
        (Some(m), Some(h)) => h == 0.0 || h <= precision * m.abs(),
        _ => false,
    }
}

/// The verdict of `stats` against `op threshold`: `pass` when the whole
/// interval meets it, `fail` when none of it does, else `uncertain`. With
/// one replication the interval is the single value. A replication that
/// gave no value fails the target (as `run` does): all missing is `fail`,
/// some missing is at best `uncertain`.
pub fn verdict(stats: &MetricStats, replications: u32, op: CmpOp, threshold: f64) -> Verdict {
    let Some(mean) = stats.mean else {
        return Verdict::Fail;
    };
    let (lo, hi) = stats.ci_low.zip(stats.ci_high).unwrap_or((mean, mean));
    let (at_lo, at_hi) = (op.holds(lo, threshold), op.holds(hi, threshold));
    // The target is monotone in the value, so the ends decide; an
    // equality holds across an interval only when it is that one point.
    let inside = at_lo && at_hi;
    let outside = match op {
        CmpOp::Eq => !(lo..=hi).contains(&threshold),
        CmpOp::Lt | CmpOp::Le | CmpOp::Gt | CmpOp::Ge => !at_lo && !at_hi,
    };
    if stats.n < replications {
        return if outside {
            Verdict::Fail
        } else {
            Verdict::Uncertain
        };
    }
    if inside {
        Verdict::Pass
    } else if outside {
        Verdict::Fail
    } else {
        Verdict::Uncertain
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn t_quantiles_match_tables() {
        // Two-sided 95 %: t(0.975; 1) = 12.706, t(0.975; 9) = 2.262, t(0.975; 30) = 2.042.
        for (df, want) in [(1, 12.706), (9, 2.262), (30, 2.042)] {
            assert!((t_quantile(0.95, df) - want).abs() < 1e-3, "df {df}");
        }
        assert!((t_quantile(0.99, 9) - 3.250).abs() < 1e-3);
    }

    #[test]
    fn interval_of_known_sample() {
        // 1..=5: mean 3, sd sqrt(2.5), half-width t(0.975;4) * sd / sqrt 5.
        let vals: Vec<Option<f64>> = (1..=5).map(|x| Some(x as f64)).collect();
        let s = summarize("count", &vals, 0.95);
        let h = 2.776_445 * 2.5f64.sqrt() / 5f64.sqrt();
        assert_eq!(s.n, 5);
        assert_eq!(s.mean, Some(3.0));
        assert!((s.ci_high.unwrap() - (3.0 + h)).abs() < 1e-5);
        assert!((s.ci_low.unwrap() - (3.0 - h)).abs() < 1e-5);
    }

    #[test]
    fn verdicts_follow_the_interval() {
        let s = |lo: f64, hi: f64| MetricStats {
            unit: "ns".into(),
            n: 3,
            mean: Some((lo + hi) / 2.0),
            stddev: Some(1.0),
            ci_low: Some(lo),
            ci_high: Some(hi),
        };
        assert_eq!(verdict(&s(1.0, 2.0), 3, CmpOp::Lt, 3.0), Verdict::Pass);
        assert_eq!(verdict(&s(1.0, 4.0), 3, CmpOp::Lt, 3.0), Verdict::Uncertain);
        assert_eq!(verdict(&s(3.5, 4.0), 3, CmpOp::Lt, 3.0), Verdict::Fail);
        assert_eq!(verdict(&s(3.5, 4.0), 3, CmpOp::Gt, 3.0), Verdict::Pass);
        assert_eq!(verdict(&s(0.0, 0.0), 3, CmpOp::Eq, 0.0), Verdict::Pass);
        assert_eq!(verdict(&s(0.0, 1.0), 3, CmpOp::Eq, 0.0), Verdict::Uncertain);
        assert_eq!(verdict(&s(1.0, 2.0), 3, CmpOp::Eq, 0.0), Verdict::Fail);
        // A replication without a value: never a pass.
        assert_eq!(verdict(&s(1.0, 2.0), 4, CmpOp::Lt, 3.0), Verdict::Uncertain);
        let none = summarize("ns", &[None, None], 0.95);
        assert_eq!(verdict(&none, 2, CmpOp::Lt, 3.0), Verdict::Fail);
    }
}
