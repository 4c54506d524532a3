//! Full-org benchmarks (DESIGN.md §6).
//!
//! - `org/baseline_5m`: jobs/s through the real routing → planning →
//!   dispatch → aggregation path: `scenarios/baseline.toml` (the 105-agent
//!   org, two load streams, hop latency and plan time) shortened to 5 min of
//!   arrivals, built and run end to end.
//! - `org/faults_balancing`: the same org path with faults and workload
//!   balancing on: `scenarios/worker-failure.toml` (three D3 crashes, 1 h
//!   of arrivals) with [`BALANCING`] added, end to end, so the cost of
//!   heartbeats, requeues, escalations and moves stays visible.
//! - `routing/baseline_texts`: the keyword router alone over the baseline's
//!   task texts; one element per text.

use std::hint::black_box;
use std::path::Path;
use std::time::Duration;

use criterion::{criterion_group, criterion_main, Criterion, Throughput};

use esa_sim::scenario::{self, Scenario};
use esa_sim::sim::Sim;

/// The allocator of the `esa-sim` binary (`src/main.rs`), so this measures
/// what the binary runs.
#[global_allocator]
static ALLOC: mimalloc::MiMalloc = mimalloc::MiMalloc;

/// A scenario file of this crate (relative to its root), with overrides.
fn load(file: &str, overrides: &[&str]) -> Scenario {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join(file);
    let overrides: Vec<String> = overrides.iter().map(|o| o.to_string()).collect();
    scenario::load(&path, &overrides).unwrap_or_else(|e| panic!("{file} loads: {e}"))
}

fn baseline_scenario() -> Scenario {
    load(
        "scenarios/baseline.toml",
        &[
            "scenario.duration=5m",
            "scenario.warmup=0s",
            "scenario.drain=2m",
        ],
    )
}

/// Workload balancing as `scenarios/overload.toml` configures it; `--set`
/// cannot add a table, so the bench appends it to the scenario's text.
const BALANCING: &str = r#"
[org.balancing]
enabled = true
interval = "10s"
level1_delay = "0s"
level2_delay = "1m"
level3_delay = "2m"
level4_delay = "5m"
moves = 20
level4 = "add-slots"
"#;

/// `scenarios/worker-failure.toml` with [`BALANCING`] on.
fn faults_balancing_scenario() -> Scenario {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("scenarios/worker-failure.toml");
    let text = std::fs::read_to_string(&path).expect("scenarios/worker-failure.toml reads");
    let text = format!("{text}{BALANCING}");
    let dir = path.parent().expect("a scenario has a directory");
    scenario::parse_str(&path.display().to_string(), &text, dir, &[])
        .unwrap_or_else(|e| panic!("worker-failure with balancing loads: {e}"))
}

/// Jobs arrived in one run of `scenario`; a run with invariant
/// violations is not worth timing.
fn jobs_of(scenario: &Scenario) -> u64 {
    let (sim, _org) = Sim::build(scenario).expect("scenario builds");
    let out = sim.run();
    assert!(
        out.violations.is_empty(),
        "invariant violations: {:?}",
        out.violations
    );
    out.summary.jobs_all.arrived
}

fn full_org(c: &mut Criterion) {
    let runs = [
        ("baseline_5m", baseline_scenario()),
        ("faults_balancing", faults_balancing_scenario()),
    ];
    let mut g = c.benchmark_group("org");
    g.sample_size(10).measurement_time(Duration::from_secs(8));
    for (name, scenario) in &runs {
        g.throughput(Throughput::Elements(jobs_of(scenario)));
        g.bench_function(*name, |b| {
            b.iter(|| {
                let (sim, _org) = Sim::build(black_box(scenario)).expect("builds");
                black_box(sim.run().summary.jobs_all.completed)
            })
        });
    }
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
