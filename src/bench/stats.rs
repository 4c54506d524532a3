//! The statistics of bench samples: the median, and the two-sided
//! Mann–Whitney U test (Wilcoxon rank-sum) of "the two samples come from the
//! same distribution". Pure functions of the given samples: no clock, no
//! randomness, so the p-values are the same on every machine.

use statrs::distribution::{ContinuousCDF, Normal};

/// Samples up to this size on both sides, without ties, get the exact
/// p-value (the distribution of U by counting); larger ones or ties use the
/// normal approximation with tie and continuity corrections.
pub const EXACT_MAX_N: usize = 30;

/// The median of `xs` (mean of the two middle values for an even count);
/// `None` when empty. NaN sorts last and is never produced by bench files
/// (they are validated finite).
pub fn median(xs: &[f64]) -> Option<f64> {
    let mut v = xs.to_vec();
    v.sort_by(f64::total_cmp);
    let n = v.len();
    match n {
        0 => None,
        _ if n % 2 == 1 => Some(v[n / 2]),
        _ => Some((v[n / 2 - 1] + v[n / 2]) / 2.0),
    }
}

/// The result of a Mann–Whitney U test.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct MannWhitney {
    /// U of the first sample: the number of pairs (x, y) with x > y, ties
    /// counting one half.
    pub u1: f64,
    /// The two-sided p-value, in [0, 1].
    pub p_value: f64,
    /// Whether `p_value` is exact (small samples without ties).
    pub exact: bool,
}

/// The two-sided Mann–Whitney U test of `xs` against `ys`; `None` when
/// either is empty.
pub fn mann_whitney(xs: &[f64], ys: &[f64]) -> Option<MannWhitney> {
    if xs.is_empty() || ys.is_empty() {
        return None;
    }
    let (u1, tie_term) = u_statistic(xs, ys);
    let (m, n) = (xs.len(), ys.len());
    let exact = tie_term == 0.0 && m <= EXACT_MAX_N && n <= EXACT_MAX_N;
    let p_value = if exact {
        exact_p(u1, m, n)
    } else {
        normal_p(u1, m, n, tie_term)
    };
    Some(MannWhitney {
        u1,
        p_value: p_value.clamp(0.0, 1.0),
        exact,
    })
}

/// U of `xs` from mid-ranks of the pooled sample, and Σ (t³ − t) over the
/// groups of tied values (0 without ties).
fn u_statistic(xs: &[f64], ys: &[f64]) -> (f64, f64) {
    let mut pooled: Vec<(f64, bool)> = xs.iter().map(|&x| (x, true)).collect();
    pooled.extend(ys.iter().map(|&y| (y, false)));
    pooled.sort_by(|a, b| a.0.total_cmp(&b.0));
    let (mut rank_sum, mut tie_term, mut i) = (0.0, 0.0, 0);
    while i < pooled.len() {
        let j = i + pooled[i..]
            .iter()
            .take_while(|p| p.0 == pooled[i].0)
            .count();
        let mid_rank = (i + 1 + j) as f64 / 2.0;
        let in_x = pooled[i..j].iter().filter(|p| p.1).count();
        rank_sum += mid_rank * in_x as f64;
        let t = (j - i) as f64;
        tie_term += t * t * t - t;
        i = j;
    }
    let m = xs.len() as f64;
    (rank_sum - m * (m + 1.0) / 2.0, tie_term)
}

/// The exact two-sided p-value: 2 · P(U ≤ min(u, mn − u)) under the null,
/// from the count of arrangements giving each U.
fn exact_p(u1: f64, m: usize, n: usize) -> f64 {
    let counts = u_counts(m, n);
    let total: f64 = counts.iter().sum();
    let tail_u = u1.min((m * n) as f64 - u1).floor() as usize;
    let tail: f64 = counts[..=tail_u].iter().sum();
    (2.0 * tail / total).min(1.0)
}

/// `counts[u]`: the number of orderings of m x's and n y's whose U is u.
/// Built by adding one y at a time: with i x's and j y's, U counts the y's
/// below each x, and f(i, j, u) = f(i − 1, j, u − j) + f(i, j − 1, u).
fn u_counts(m: usize, n: usize) -> Vec<f64> {
    // f[i] holds f(i, j, ·) for the current j.
    let mut f: Vec<Vec<f64>> = (0..=m).map(|_| vec![1.0]).collect();
    for j in 1..=n {
        let mut next: Vec<Vec<f64>> = Vec::with_capacity(m + 1);
        next.push(vec![1.0]);
        for i in 1..=m {
            let mut row = vec![0.0; i * j + 1];
            for (u, c) in f[i].iter().enumerate() {
                row[u] += c;
            }
            for (u, c) in next[i - 1].iter().enumerate() {
                row[u + j] += c;
            }
            next.push(row);
        }
        f = next;
    }
    f.swap_remove(m)
}

/// The normal approximation with the tie-corrected variance and a
/// continuity correction of ½.
fn normal_p(u1: f64, m: usize, n: usize, tie_term: f64) -> f64 {
    let (mf, nf) = (m as f64, n as f64);
    let big_n = mf + nf;
    let mean = mf * nf / 2.0;
    let ties = if big_n > 1.0 {
        tie_term / (big_n * (big_n - 1.0))
    } else {
        0.0
    };
    let var = mf * nf / 12.0 * ((big_n + 1.0) - ties);
    if var <= 0.0 {
        return 1.0; // every value equal: no evidence of any difference
    }
    let z = ((u1 - mean).abs() - 0.5).max(0.0) / var.sqrt();
    // A standard normal always exists.
    let normal = Normal::new(0.0, 1.0).expect("N(0, 1) is valid");
    2.0 * (1.0 - normal.cdf(z))
}

#[cfg(test)]
mod tests {
    use super::*;

    // The textbook example of scipy.stats.mannwhitneyu (after Mann and
    // Whitney 1947): ages of 5 males and 4 females; U1 = 17, exact
    // two-sided p = 14/126 = 0.1111…, asymptotic (continuity-corrected)
    // p = 0.11134688653314041.
    const MALES: [f64; 5] = [19.0, 22.0, 16.0, 29.0, 24.0];
    const FEMALES: [f64; 4] = [20.0, 11.0, 17.0, 12.0];

    #[test]
    fn textbook_example_exact() {
        let r = mann_whitney(&MALES, &FEMALES).unwrap();
        assert_eq!(r.u1, 17.0);
        assert!(r.exact);
        assert!((r.p_value - 14.0 / 126.0).abs() < 1e-12, "{r:?}");
    }

    #[test]
    fn textbook_example_normal_approximation() {
        let (u1, ties) = u_statistic(&MALES, &FEMALES);
        let p = normal_p(u1, 5, 4, ties);
        assert!((p - 0.111_346_886_533_140_41).abs() < 1e-9, "{p}");
    }

    #[test]
    fn counts_are_the_binomial_total_and_symmetric() {
        let c = u_counts(5, 4);
        assert_eq!(c.len(), 21);
        assert_eq!(c.iter().sum::<f64>(), 126.0);
        assert_eq!(&c[..4], &[1.0, 1.0, 2.0, 3.0]);
        for u in 0..=20 {
            assert_eq!(c[u], c[20 - u]);
        }
    }

    #[test]
    fn separated_samples_are_significant_overlapping_are_not() {
        let a: Vec<f64> = (0..10).map(|i| 100.0 + i as f64).collect();
        let b: Vec<f64> = (0..10).map(|i| 200.0 + i as f64).collect();
        let r = mann_whitney(&a, &b).unwrap();
        assert_eq!(r.u1, 0.0);
        // 2 / C(20, 10) = 2 / 184756
        assert!((r.p_value - 2.0 / 184_756.0).abs() < 1e-15, "{r:?}");
        let c: Vec<f64> = (0..10).map(|i| 100.5 + i as f64).collect();
        assert!(mann_whitney(&a, &c).unwrap().p_value > 0.5);
    }

    #[test]
    fn ties_use_the_corrected_normal_approximation() {
        let a = [1.0, 2.0, 2.0, 3.0];
        let b = [2.0, 3.0, 3.0, 4.0];
        let r = mann_whitney(&a, &b).unwrap();
        assert!(!r.exact);
        // mid-ranks: 1, 3, 3, 3, 6, 6, 6, 8; x ranks 1+3+3+6 = 13, U = 3
        assert_eq!(r.u1, 3.0);
        // var = 16/12 · (9 − (24 + 24)/56) = 10.857…; z = 4.5 / 3.295
        let z: f64 = 4.5 / (16.0 / 12.0 * (9.0 - 48.0 / 56.0_f64)).sqrt();
        let want = 2.0 * (1.0 - Normal::new(0.0, 1.0).unwrap().cdf(z));
        assert!((r.p_value - want).abs() < 1e-12);
        let same = mann_whitney(&[5.0; 4], &[5.0; 4]).unwrap();
        assert_eq!(same.p_value, 1.0);
    }

    #[test]
    fn empty_and_medians() {
        assert!(mann_whitney(&[], &[1.0]).is_none());
        assert_eq!(median(&[]), None);
        assert_eq!(median(&[3.0, 1.0, 2.0]), Some(2.0));
        assert_eq!(median(&[4.0, 1.0, 3.0, 2.0]), Some(2.5));
    }
}
