//! Service-time sampling: each scenario distribution becomes a sampler that
//! returns whole nanoseconds (at least 1 ns, so service always takes time).
//! Parameters are converted once, when the sampler is built.

use rand::Rng;
use rand_distr::{Distribution, Exp, Gamma, LogNormal};

use super::rng::Stream;
use crate::scenario::Dist;
use crate::time::SimDuration;

/// A ready-to-draw service-time distribution.
#[derive(Clone, Debug)]
pub enum Sampler {
    Exp(Exp<f64>),
    Const(u64),
    LogNormal(LogNormal<f64>),
    Uniform { min: u64, max: u64 },
    Erlang(Gamma<f64>),
}

/// Seconds to whole nanoseconds, at least 1.
#[inline]
pub(super) fn secs_to_ns(x: f64) -> u64 {
    SimDuration::from_secs_f64(x).as_nanos().max(1)
}

impl Sampler {
    /// Builds the sampler; the scenario validator has already checked the
    /// parameters, so a failure here is reported, not panicked on.
    pub fn new(dist: &Dist) -> Result<Sampler, String> {
        let err = |e: &dyn std::fmt::Display| {
            format!(
                "service distribution {} cannot be sampled ({e}); check its parameters",
                describe(dist)
            )
        };
        Ok(match *dist {
            Dist::Exp { mean } => {
                Sampler::Exp(Exp::new(1.0 / mean.as_secs_f64()).map_err(|e| err(&e))?)
            }
            Dist::Const { value } => Sampler::Const(value.as_nanos().max(1)),
            Dist::LogNormal { mean, cv } => {
                let sigma2 = (1.0 + cv * cv).ln();
                let mu = mean.as_secs_f64().ln() - sigma2 / 2.0;
                Sampler::LogNormal(LogNormal::new(mu, sigma2.sqrt()).map_err(|e| err(&e))?)
            }
            Dist::Uniform { min, max } => Sampler::Uniform {
                min: min.as_nanos().max(1),
                max: max.as_nanos().max(1),
            },
            Dist::Erlang { mean, k } => {
                let scale = mean.as_secs_f64() / k as f64;
                Sampler::Erlang(Gamma::new(k as f64, scale).map_err(|e| err(&e))?)
            }
        })
    }

    /// One draw, in nanoseconds.
    #[inline]
    pub fn sample(&self, rng: &mut Stream) -> u64 {
        match self {
            Sampler::Exp(d) => secs_to_ns(d.sample(rng)),
            Sampler::Const(ns) => *ns,
            Sampler::LogNormal(d) => secs_to_ns(d.sample(rng)),
            Sampler::Uniform { min, max } => rng.random_range(*min..=*max),
            Sampler::Erlang(d) => secs_to_ns(d.sample(rng)),
        }
    }
}

/// `lognormal(mean = 1.5s, cv = 0.6)`: a distribution as the scenario
/// writes it.
fn describe(dist: &Dist) -> String {
    match *dist {
        Dist::Exp { mean } => format!("exp(mean = {mean})"),
        Dist::Const { value } => format!("const(value = {value})"),
        Dist::LogNormal { mean, cv } => format!("lognormal(mean = {mean}, cv = {cv:?})"),
        Dist::Uniform { min, max } => format!("uniform(min = {min}, max = {max})"),
        Dist::Erlang { mean, k } => format!("erlang(mean = {mean}, k = {k})"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sim::rng::stream;

    fn mean_and_cv(dist: Dist) -> (f64, f64) {
        let s = Sampler::new(&dist).unwrap();
        let mut rng = stream(7, "t");
        let n = 200_000;
        let xs: Vec<f64> = (0..n).map(|_| s.sample(&mut rng) as f64 / 1e9).collect();
        let m = xs.iter().sum::<f64>() / n as f64;
        let var = xs.iter().map(|x| (x - m) * (x - m)).sum::<f64>() / n as f64;
        (m, var.sqrt() / m)
    }

    /// The validator's bounds (mean 1ns to 100 years, cv up to 100, k up to
    /// 10,000) never make a sampler fail; outside them it fails with a
    /// readable message, not a Debug dump.
    #[test]
    fn validated_extremes_build() {
        let (lo, hi) = (SimDuration(1), crate::scenario::MAX_HORIZON);
        for mean in [lo, hi] {
            for dist in [
                Dist::Exp { mean },
                Dist::Const { value: mean },
                Dist::LogNormal { mean, cv: 1e-300 },
                Dist::LogNormal { mean, cv: 100.0 },
                Dist::Uniform { min: lo, max: mean },
                Dist::Erlang { mean, k: 1 },
                Dist::Erlang { mean, k: 10_000 },
            ] {
                assert!(Sampler::new(&dist).is_ok(), "{dist:?}");
            }
        }
        let bad = Dist::LogNormal {
            mean: SimDuration::from_secs(1),
            cv: 1e308,
        };
        let e = Sampler::new(&bad).unwrap_err();
        assert!(e.contains("lognormal(mean = 1s, cv = 1e308)"), "{e}");
        assert!(!e.contains("LogNormal {"), "{e}");
    }

    #[test]
    fn moments_match_parameters() {
        let s = SimDuration::from_secs;
        let cases = [
            (Dist::Exp { mean: s(2) }, 2.0, 1.0),
            (Dist::Const { value: s(1) }, 1.0, 0.0),
            (
                Dist::LogNormal {
                    mean: s(1),
                    cv: 0.6,
                },
                1.0,
                0.6,
            ),
            (
                Dist::Uniform {
                    min: s(1),
                    max: s(3),
                },
                2.0,
                (1.0f64 / 3.0).sqrt() / 2.0,
            ),
            (Dist::Erlang { mean: s(1), k: 4 }, 1.0, 0.5),
        ];
        for (dist, mean, cv) in cases {
            let (m, c) = mean_and_cv(dist);
            assert!((m - mean).abs() / mean < 0.01, "{dist:?}: mean {m}");
            assert!((c - cv).abs() < 0.02, "{dist:?}: cv {c}");
        }
    }
}
