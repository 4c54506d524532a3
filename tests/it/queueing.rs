//! The simulator against queueing theory. With `preset = "none"`, one
//! domain, one agent with `slots = c`, no hop latency and no planning time,
//! the org reduces to a plain G/G/c FIFO queue, so:
//!
//! - M/M/c must match Erlang C (computed below, not pasted);
//! - M/D/1 must match Pollaczek–Khinchine;
//! - Little's law must hold *exactly* on the simulated data when the run
//!   ends empty (∫N(t)dt is then the sum of all sojourn times).
//!
//! Every tolerance is checked against a batch-means standard error measured
//! in the same test (20 independent seeds, each 1/20 of the main run; the
//! SE of the main run's mean is sd(batch means)/√20): the 3 % bound must be
//! at least 3 standard errors, so the test is not flaky by construction,
//! and the measured SE is printed (`--nocapture`) so anyone can see how
//! much slack the bound has.

use esa_sim::metrics::summary::Summary;
use esa_sim::scenario::parse_str;
use esa_sim::sim::Sim;
use esa_sim::time::SimDuration;
use std::path::Path;

use crate::OnePool;

// ---- theory ---------------------------------------------------------------

/// Erlang C: the probability that an arrival waits in an M/M/c queue with
/// offered load `a = λ/μ` (requires a < c).
pub(crate) fn erlang_c(c: u32, a: f64) -> f64 {
    assert!(a < c as f64, "unstable queue");
    // sum_{k<c} a^k/k!, and term = a^c/c! at the end.
    let mut term = 1.0;
    let mut sum = 0.0;
    for k in 0..c {
        sum += term;
        term *= a / f64::from(k + 1);
    }
    let tail = term * f64::from(c) / (f64::from(c) - a);
    tail / (sum + tail)
}

/// Mean wait in queue of M/M/c: Wq = P(wait) / (cμ − λ).
pub(crate) fn mmc_wq(c: u32, lambda: f64, mu: f64) -> f64 {
    erlang_c(c, lambda / mu) / (f64::from(c) * mu - lambda)
}

/// Mean wait in queue of M/D/1 (Pollaczek–Khinchine): Wq = ρ / (2μ(1−ρ)).
fn md1_wq(lambda: f64, mu: f64) -> f64 {
    let rho = lambda / mu;
    rho / (2.0 * mu * (1.0 - rho))
}

#[test]
fn theory_functions_agree_with_closed_forms() {
    // M/M/1: P(wait) = ρ; M/M/2: P(wait) = 2ρ²/(1+ρ) with ρ = a/2.
    for rho in [0.1, 0.5, 0.8, 0.95] {
        assert!((erlang_c(1, rho) - rho).abs() < 1e-12);
        let a = 2.0 * rho;
        assert!((erlang_c(2, a) - 2.0 * rho * rho / (1.0 + rho)).abs() < 1e-12);
        // M/M/1 Wq = ρ/(μ−λ); P-K for M/D/1 is half of it.
        assert!((mmc_wq(1, rho, 1.0) - rho / (1.0 - rho)).abs() < 1e-12);
        assert!((md1_wq(rho, 1.0) - mmc_wq(1, rho, 1.0) / 2.0).abs() < 1e-12);
    }
}

// ---- running a queue ------------------------------------------------------

/// A single-pool G/G/c queue as a scenario.
#[derive(Clone, Copy)]
struct Queue {
    rate: &'static str,
    slots: u32,
    service: &'static str,
    duration: &'static str,
    warmup: &'static str,
    drain: &'static str,
    seed: u64,
}

fn scenario_text(q: &Queue) -> String {
    OnePool {
        name: "queue",
        seed: q.seed,
        duration: q.duration,
        warmup: q.warmup,
        drain: q.drain,
        interval: "1h",
        org_extra: "",
        slots: q.slots,
        service: q.service,
        load: "arrivals",
        process: "poisson",
        rate: q.rate,
    }
    .text()
}

fn simulate(q: &Queue) -> Summary {
    let text = scenario_text(q);
    let scenario =
        parse_str("queue.toml", &text, Path::new("."), &[]).expect("queue scenario is valid");
    let (sim, _org) = Sim::build(&scenario).expect("queue scenario builds");
    let out = sim.run();
    assert!(
        out.violations.is_empty(),
        "invariant violations: {:?}",
        out.violations
    );
    out.summary
}

fn wq_s(s: &Summary) -> f64 {
    s.queue_wait_ns.mean / 1e9
}

fn w_s(s: &Summary) -> f64 {
    s.latency_ns.mean / 1e9
}

/// Batch means over independent replications: `n` runs of `q` with the
/// given (shorter) duration and distinct seeds. Returns, per metric, the
/// standard error a run `n` times as long would have: sd(batch means)/√n.
fn batch_se(
    q: &Queue,
    batch_duration: &'static str,
    n: u64,
    metrics: &[fn(&Summary) -> f64],
) -> Vec<f64> {
    let runs: Vec<Summary> = (0..n)
        .map(|i| {
            simulate(&Queue {
                duration: batch_duration,
                seed: 1_000 + i,
                ..*q
            })
        })
        .collect();
    metrics
        .iter()
        .map(|m| {
            let xs: Vec<f64> = runs.iter().map(m).collect();
            let mean = xs.iter().sum::<f64>() / n as f64;
            let var = xs.iter().map(|x| (x - mean).powi(2)).sum::<f64>() / (n - 1) as f64;
            (var / n as f64).sqrt()
        })
        .collect()
}

/// `measured` within `rel_tol` of `theory`, and the tolerance ≥ 3 SE.
fn check(what: &str, measured: f64, theory: f64, rel_tol: f64, se: f64) {
    let err = (measured - theory) / theory;
    println!(
        "{what}: theory {theory:.6}, simulated {measured:.6}, error {:+.3} %, batch-means SE {se:.6} ({:.3} %), tolerance = {:.1} SE",
        err * 100.0,
        se / theory * 100.0,
        rel_tol * theory / se
    );
    assert!(
        rel_tol * theory >= 3.0 * se,
        "{what}: the {:.1} % tolerance is only {:.2} standard errors ({se:.6} s); lengthen the run",
        rel_tol * 100.0,
        rel_tol * theory / se
    );
    assert!(
        err.abs() <= rel_tol,
        "{what}: simulated {measured:.6} s vs theory {theory:.6} s ({:+.3} %, tolerance {:.1} %)",
        err * 100.0,
        rel_tol * 100.0
    );
}

// ---- M/M/10 vs Erlang C -----------------------------------------------------

/// M/M/10 at ρ = 0.8 (λ = 8/s, μ = 1/s).
///
/// Run length: the waits of successive jobs are strongly correlated, so at
/// 10⁶ jobs (36 h) the batch-means SE of mean Wq is about 1.5 % of Wq
/// (measured here: 0.0031 s, 1.5 %; an independent Python M/M/10 gives
/// 1.85 %) — the 3 % bound would be only ~2 SE and the test would fail for
/// about 1 seed in 20. The run is therefore 288 h (≈ 8.3 M jobs), which
/// brings the SE of Wq to ≈ 0.7 % (measured 0.69 %: 3 % ≈ 4.3 SE) and of W
/// to ≈ 0.14 % (≈ 22 SE; the service-time part of W is nearly independent
/// across jobs). Utilisation: 1 % relative, SE ≈ 0.05 % (≈ 20 SE).
#[test]
fn mm10_matches_erlang_c() {
    let (lambda, mu, c) = (8.0, 1.0, 10);
    let q = Queue {
        rate: "8/s",
        slots: c,
        service: r#"{ dist = "exp", mean = "1s" }"#,
        duration: "288h",
        warmup: "10m",
        drain: "10m",
        seed: 42,
    };
    let s = simulate(&q);
    assert!(
        s.jobs.arrived >= 1_000_000,
        "only {} measured jobs",
        s.jobs.arrived
    );
    assert!(s.latency_ns.count >= 1_000_000 && s.queue_wait_ns.count >= 1_000_000);
    assert_eq!(s.jobs.lost, 0);

    // The arrival process itself: Poisson(λT) arrivals, within 5 σ.
    let expected = lambda * 288.0 * 3600.0;
    let z = (s.jobs_all.arrived as f64 - expected) / expected.sqrt();
    println!(
        "M/M/10 arrivals: {} vs λT = {expected:.0} (z = {z:+.2})",
        s.jobs_all.arrived
    );
    assert!(
        z.abs() < 5.0,
        "arrivals {} vs λT = {expected} (z = {z:.2})",
        s.jobs_all.arrived
    );

    let wq = mmc_wq(c, lambda, mu);
    let w = wq + 1.0 / mu;
    let rho = lambda / (f64::from(c) * mu);
    let se = batch_se(&q, "864m", 20, &[wq_s, w_s, |s| s.utilization]);
    println!(
        "M/M/10: P(wait) = {:.5}, {} measured jobs",
        erlang_c(c, lambda / mu),
        s.jobs.arrived
    );
    check("M/M/10 Wq", wq_s(&s), wq, 0.03, se[0]);
    check("M/M/10 W ", w_s(&s), w, 0.03, se[1]);
    check("M/M/10 utilisation", s.utilization, rho, 0.01, se[2]);
}

// ---- M/D/1 vs Pollaczek–Khinchine --------------------------------------------

/// M/D/1 at ρ = 0.8 (λ = 0.8/s, constant 1 s service, one slot).
///
/// Run length: at 10⁶ jobs the batch-means SE of mean Wq is ≈ 0.7 % of Wq
/// (3 % ≈ 4 SE, with little margin for the SE estimate's own ±16 % error),
/// so the run is 720 h (≈ 2.07 M jobs): measured SE 0.43 % of Wq (3 % ≈
/// 6.9 SE), 0.29 % of W (≈ 10 SE), 0.06 % of utilisation (1 % ≈ 17 SE).
#[test]
fn md1_matches_pollaczek_khinchine() {
    let (lambda, mu) = (0.8, 1.0);
    let q = Queue {
        rate: "0.8/s",
        slots: 1,
        service: r#"{ dist = "const", value = "1s" }"#,
        duration: "720h",
        warmup: "1h",
        drain: "2h",
        seed: 42,
    };
    let s = simulate(&q);
    assert!(
        s.jobs.arrived >= 1_000_000,
        "only {} measured jobs",
        s.jobs.arrived
    );
    assert!(s.latency_ns.count >= 1_000_000);
    assert_eq!(s.jobs.lost, 0);

    let wq = md1_wq(lambda, mu);
    let w = wq + 1.0 / mu;
    let se = batch_se(&q, "36h", 20, &[wq_s, w_s, |s| s.utilization]);
    println!("M/D/1: {} measured jobs", s.jobs.arrived);
    check("M/D/1 Wq", wq_s(&s), wq, 0.03, se[0]);
    check("M/D/1 W ", w_s(&s), w, 0.03, se[1]);
    check("M/D/1 utilisation", s.utilization, lambda / mu, 0.01, se[2]);
}

// ---- Little's law, exactly ---------------------------------------------------

/// With no warm-up and a drain long enough that the run ends empty,
/// ∫N(t)dt equals the sum of the sojourn times to the nanosecond, and the
/// reported L equals λW up to floating-point rounding.
fn assert_little_exact(what: &str, q: &Queue) {
    let s = simulate(q);
    let l = &s.little;
    assert_eq!(
        s.jobs_all.in_flight_at_end, 0,
        "{what}: the drain must empty the system"
    );
    assert_eq!(
        s.jobs_all.arrived,
        s.jobs_all.results(),
        "{what}: every job has a result"
    );
    assert!(
        s.jobs_all.arrived > 10_000,
        "{what}: too few jobs ({})",
        s.jobs_all.arrived
    );
    assert_eq!(
        l.time_ns, s.sim_end_ns,
        "{what}: Little's T is the run's length"
    );
    let duration: SimDuration = q.duration.parse().unwrap();
    assert!(
        l.time_ns >= duration.as_nanos(),
        "{what}: the run ended before the load window did"
    );
    assert_eq!(
        l.jobs_in_system_area_ns, l.sojourn_sum_ns,
        "{what}: ∫N(t)dt ≠ Σ sojourn on a run that ends empty"
    );
    let lambda_w = l.arrival_rate_per_s * l.mean_sojourn_s;
    let rel = (l.mean_in_system - lambda_w).abs() / lambda_w;
    println!(
        "{what}: L = {:.6}, λW = {:.6} (λ = {:.6}/s, W = {:.6} s), rel. diff {rel:.2e}",
        l.mean_in_system, lambda_w, l.arrival_rate_per_s, l.mean_sojourn_s
    );
    assert!(
        rel <= 1e-9,
        "{what}: L = {} but λW = {lambda_w} (rel. diff {rel:e})",
        l.mean_in_system
    );
}

#[test]
fn little_law_exact_on_mm10() {
    assert_little_exact(
        "M/M/10",
        &Queue {
            rate: "8/s",
            slots: 10,
            service: r#"{ dist = "exp", mean = "1s" }"#,
            duration: "2h",
            warmup: "0s",
            drain: "2h",
            seed: 3,
        },
    );
}

#[test]
fn little_law_exact_on_md1() {
    assert_little_exact(
        "M/D/1",
        &Queue {
            rate: "0.8/s",
            slots: 1,
            service: r#"{ dist = "const", value = "1s" }"#,
            duration: "24h",
            warmup: "0s",
            drain: "24h",
            seed: 3,
        },
    );
}

// ---- arrival rates near the clock's resolution ----------------------------------

/// A Poisson stream must deliver its rate, or the scenario must be rejected
/// at load: `Rate` accepts up to 1e12/s, so "1e9/s" for 1 ms is a valid
/// scenario and must give Poisson(10⁶) arrivals (5 σ = 0.5 %).
#[test]
fn high_poisson_rates_are_delivered_or_rejected() {
    let q = Queue {
        rate: "1e9/s",
        slots: 1_000,
        service: r#"{ dist = "const", value = "1ns" }"#,
        duration: "1ms",
        warmup: "0s",
        drain: "1s",
        seed: 1,
    };
    let text = scenario_text(&q);
    let Ok(scenario) = parse_str("queue.toml", &text, Path::new("."), &[]) else {
        return; // rejected at load: acceptable
    };
    let Ok((sim, _)) = Sim::build(&scenario) else {
        return;
    };
    let s = sim.run().summary;
    let expected = 1e6;
    let z = (s.jobs_all.arrived as f64 - expected) / expected.sqrt();
    assert!(
        z.abs() < 5.0,
        "1e9/s over 1 ms gave {} arrivals, expected ~{expected} (z = {z:.1})",
        s.jobs_all.arrived
    );
}
