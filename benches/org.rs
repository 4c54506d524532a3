//! Full-org benchmarks (DESIGN.md §6).
//!
//! - `org/baseline_5m`: jobs/s through the real routing → planning →
//!   dispatch → aggregation path: `scenarios/baseline.toml` (the 105-agent
//!   org, two load streams, hop latency and plan time) shortened to 5 min of
//!   arrivals, built and run end to end.
//! - `routing/baseline_texts`: the keyword router alone over the baseline's
//!   task texts; one element per text.

use std::hint::black_box;
use std::path::Path;
use std::time::Duration;

use criterion::{criterion_group, criterion_main, Criterion, Throughput};

use esa_sim::scenario::{self, Scenario};
use esa_sim::sim::Sim;

fn baseline_scenario() -> Scenario {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("scenarios/baseline.toml");
    let overrides = [
        "scenario.duration=5m",
        "scenario.warmup=0s",
        "scenario.drain=2m",
    ]
    .map(String::from);
    scenario::load(&path, &overrides).expect("scenarios/baseline.toml loads")
}

fn full_org(c: &mut Criterion) {
    let scenario = baseline_scenario();
    let (sim, _org) = Sim::build(&scenario).expect("baseline builds");
    let out = sim.run();
    assert!(
        out.violations.is_empty(),
        "invariant violations: {:?}",
        out.violations
    );
    let jobs = out.summary.jobs_all.arrived;

    let mut g = c.benchmark_group("org");
    g.sample_size(10).measurement_time(Duration::from_secs(8));
    g.throughput(Throughput::Elements(jobs));
    g.bench_function("baseline_5m", |b| {
        b.iter(|| {
            let (sim, _org) = Sim::build(black_box(&scenario)).expect("builds");
            black_box(sim.run().summary.jobs_all.completed)
        })
    });
    g.finish();
}

fn routing(c: &mut Criterion) {
    let scenario = baseline_scenario();
    let (_sim, org) = Sim::build(&scenario).expect("baseline builds");
    let router = esa_sim::sim::core_config(&scenario, &org).unwrap().router;
    let texts: Vec<&str> = scenario
        .loads
        .iter()
        .flat_map(|l| l.tasks.iter().map(|t| t.text.as_str()))
        .collect();

    let mut g = c.benchmark_group("routing");
    g.sample_size(10).measurement_time(Duration::from_secs(5));
    g.throughput(Throughput::Elements(texts.len() as u64));
    g.bench_function("baseline_texts", |b| {
        b.iter(|| {
            for t in &texts {
                black_box(router.route(black_box(t)));
            }
        })
    });
    g.finish();
}

criterion_group!(benches, full_org, routing);
criterion_main!(benches);
