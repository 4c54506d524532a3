//! A latency or queue-wait distribution that is kept as its raw values
//! while it is small and becomes a growing HdrHistogram past [`RAW_CAP`]
//! values.
//!
//! Why: a histogram at 1 ns resolution and 3 significant digits covering
//! seconds is ~200 KB of counts, and a run keeps two per domain and two per
//! job class. For a short run (a benchmark, one point of a sweep) zeroing,
//! growing and merging those dominated the cost of the run, though most
//! hold a few thousand values. Memory stays bounded: at most `RAW_CAP`
//! values, then the histogram.
//!
//! Exact: a quantile of the raw values is what HdrHistogram's
//! `value_at_quantile` returns for the same values (the highest value
//! equivalent to the `ceil(q·n)`-th smallest, HdrHistogram's own rounding
//! of the count), so the reports do not change by a byte.

use std::borrow::Cow;
use std::sync::OnceLock;

use hdrhistogram::Histogram;

use super::classes::{grow_record, growing_histogram};
use super::Distribution;

/// How many raw values a sample holds before it becomes a histogram:
/// 128 KB of `u64`s, less than the ~200 KB histogram of a distribution
/// that reaches seconds.
pub const RAW_CAP: usize = 16_384;

/// One distribution: raw values, or the histogram they grew into.
#[derive(Clone, Debug)]
pub enum Sample {
    Raw(Vec<u64>),
    Hist(Histogram<u64>),
}

impl Default for Sample {
    fn default() -> Self {
        Sample::Raw(Vec::new())
    }
}

/// HdrHistogram's equivalence classes (1 ns, 3 digits) depend on neither
/// the range nor the counts: one small histogram answers for any value.
fn classes() -> &'static Histogram<u64> {
    static CLASSES: OnceLock<Histogram<u64>> = OnceLock::new();
    CLASSES.get_or_init(growing_histogram)
}

impl Sample {
    /// Records `value`.
    #[inline]
    pub fn record(&mut self, value: u64) {
        match self {
            Sample::Raw(values) if values.len() < RAW_CAP => values.push(value),
            Sample::Raw(_) => {
                self.promote();
                self.record(value);
            }
            Sample::Hist(h) => grow_record(h, value),
        }
    }

    /// Turns the raw values into a histogram sized once for their maximum.
    #[cold]
    fn promote(&mut self) {
        if let Sample::Raw(values) = self {
            *self = Sample::Hist(histogram_of(values, &[]));
        }
    }

    /// How many values were recorded.
    pub fn len(&self) -> u64 {
        match self {
            Sample::Raw(values) => values.len() as u64,
            Sample::Hist(h) => h.len(),
        }
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Adds every value to the fixed-range `h`; one above its range is
    /// clamped and counted in `saturated` (as [`super::record`] does).
    pub fn record_into(&self, h: &mut Histogram<u64>, saturated: &mut u64) {
        match self {
            Sample::Raw(values) => {
                for &v in values {
                    super::record(h, v, saturated);
                }
            }
            Sample::Hist(src) => {
                if h.add(src).is_err() {
                    for v in src.iter_recorded() {
                        let (value, n) = (v.value_iterated_to(), v.count_at_value());
                        if h.record_n(value, n).is_err() {
                            *saturated += n;
                            h.saturating_record_n(value, n);
                        }
                    }
                }
            }
        }
    }

    /// The union of `parts`, to read: the part itself when there is one,
    /// raw values while every part is raw.
    pub fn merged<'a>(parts: &[&'a Sample]) -> Cow<'a, Sample> {
        if let [only] = parts {
            return Cow::Borrowed(*only);
        }
        let raw: Vec<&[u64]> = (parts.iter())
            .filter_map(|p| match p {
                Sample::Raw(values) => Some(&values[..]),
                Sample::Hist(_) => None,
            })
            .collect();
        let hists: Vec<&Histogram<u64>> = (parts.iter())
            .filter_map(|p| match p {
                Sample::Hist(h) => Some(h),
                Sample::Raw(_) => None,
            })
            .collect();
        // A union of raw parts stays raw, past the cap too: it is read once
        // and dropped, and no bigger than its parts.
        if hists.is_empty() {
            return Cow::Owned(Sample::Raw(raw.concat()));
        }
        let mut h = histogram_of(&raw.concat(), &hists);
        for part in hists {
            h.add(part)
                .expect("auto-resizing histograms take any value");
        }
        Cow::Owned(Sample::Hist(h))
    }
}

/// What a summary reads: for raw values, exactly what the histogram they
/// would make gives.
impl Distribution for Sample {
    fn count(&self) -> u64 {
        self.len()
    }

    fn top(&self) -> u64 {
        match self {
            Sample::Raw(values) => values
                .iter()
                .max()
                .map_or(0, |&v| classes().highest_equivalent(v)),
            Sample::Hist(h) => h.top(),
        }
    }

    /// The values at `qs` (ascending, each in `(0, 1]`), as
    /// [`super::quantiles`] gives them for a histogram of the same values.
    fn at<const N: usize>(&self, qs: [f64; N]) -> [u64; N] {
        let values = match self {
            Sample::Hist(h) => return h.at(qs),
            Sample::Raw(values) if values.is_empty() => return [0; N],
            Sample::Raw(values) => values,
        };
        // The k-th smallest by selection, not a sort: each select leaves
        // everything after its position no smaller, so the next (higher)
        // quantile is selected in what is left.
        let mut values = values.clone();
        let n = values.len();
        let mut from = 0;
        qs.map(|q| {
            debug_assert!(q > 0.0, "quantile 0 rounds down in HdrHistogram");
            // HdrHistogram's target count: ceil(q·n), at least 1.
            let k = ((q.clamp(0.0, 1.0) * n as f64).ceil() as usize).clamp(1, n);
            let at = (k - 1).max(from);
            let (_, v, _) = values[from..].select_nth_unstable(at - from);
            let v = *v;
            from = at;
            classes().highest_equivalent(v)
        })
    }
}

/// A growing histogram sized once for the largest of `values` and of
/// `also`'s maxima, holding `values`.
fn histogram_of(values: &[u64], also: &[&Histogram<u64>]) -> Histogram<u64> {
    let top = (values.iter().copied())
        .chain(also.iter().filter(|h| !h.is_empty()).map(|h| h.max()))
        .max();
    let mut h = match top {
        // Past what a histogram can size itself for, let it grow (and clamp).
        Some(top) if top < u64::MAX / 4 => {
            let mut h = Histogram::new_with_bounds(1, top.max(2), 3)
                .expect("1 ..= a value >= 2 are valid histogram bounds");
            h.auto(true);
            h
        }
        _ => growing_histogram(),
    };
    for &v in values {
        grow_record(&mut h, v);
    }
    h
}

#[cfg(test)]
mod tests {
    use super::*;

    const QS: [f64; 6] = [0.01, 0.5, 0.9, 0.99, 0.999, 1.0];

    fn spread(n: u64, seed: u64) -> Vec<u64> {
        // A deterministic spread over ns .. minutes, with repeats and zeros.
        let mut x = seed;
        (0..n)
            .map(|i| {
                x = x
                    .wrapping_mul(6364136223846793005)
                    .wrapping_add(1442695040888963407);
                if i % 17 == 0 {
                    0
                } else {
                    (x >> 33) % (1 << ((x >> 20) % 37))
                }
            })
            .collect()
    }

    fn as_histogram(values: &[u64]) -> Histogram<u64> {
        let mut h = growing_histogram();
        for &v in values {
            grow_record(&mut h, v);
        }
        h
    }

    #[test]
    fn raw_quantiles_are_hdrhistograms() {
        for n in [1, 2, 3, 10, 999, 1000, 4095, RAW_CAP as u64 - 1] {
            let values = spread(n, n);
            let mut s = Sample::default();
            values.iter().for_each(|&v| s.record(v));
            assert!(matches!(s, Sample::Raw(_)));
            let h = as_histogram(&values);
            assert_eq!(s.at(QS), crate::metrics::quantiles(&h, QS), "n = {n}");
            assert_eq!(s.top(), h.highest_equivalent(h.max()), "n = {n}");
            assert_eq!(s.len(), h.len());
        }
    }

    #[test]
    fn grows_into_the_same_histogram_past_the_cap() {
        let values = spread(RAW_CAP as u64 * 3, 5);
        let mut s = Sample::default();
        values.iter().for_each(|&v| s.record(v));
        assert!(matches!(s, Sample::Hist(_)), "past the cap: a histogram");
        let h = as_histogram(&values);
        assert_eq!(s.at(QS), crate::metrics::quantiles(&h, QS));
        assert_eq!((s.len(), s.top()), (h.len(), h.highest_equivalent(h.max())));
    }

    #[test]
    fn recording_into_a_fixed_histogram_counts_what_it_clamps() {
        let top = 1u64 << 40;
        for n in [10, RAW_CAP as u64 + 10] {
            let mut s = Sample::default();
            (0..n).for_each(|i| s.record(if i % 5 == 0 { top * 4 } else { i }));
            let mut h = Histogram::<u64>::new_with_bounds(1, top, 3).unwrap();
            let mut saturated = 0;
            s.record_into(&mut h, &mut saturated);
            assert_eq!(saturated, n.div_ceil(5), "n = {n}");
            assert_eq!(h.len(), n, "clamped values are still recorded");
        }
    }

    #[test]
    fn merges_are_unions() {
        let (a, b, c) = (
            spread(100, 1),
            spread(3000, 2),
            spread(RAW_CAP as u64 + 7, 3),
        );
        let sample = |v: &[u64]| {
            let mut s = Sample::default();
            v.iter().for_each(|&x| s.record(x));
            s
        };
        let (sa, sb, sc) = (sample(&a), sample(&b), sample(&c));
        for parts in [
            vec![&sa],
            vec![&sa, &sb],
            vec![&sa, &sb, &sc],
            vec![&sc, &sa],
        ] {
            let all: Vec<u64> = (parts.iter())
                .flat_map(|p| match p {
                    Sample::Raw(v) => v.clone(),
                    Sample::Hist(_) => c.clone(),
                })
                .collect();
            let m = Sample::merged(&parts);
            let h = as_histogram(&all);
            assert_eq!(m.len(), all.len() as u64);
            assert_eq!(m.at(QS), crate::metrics::quantiles(&h, QS));
            assert_eq!(m.top(), h.highest_equivalent(h.max()));
        }
        assert!(Sample::merged(&[]).is_empty());
    }
}
