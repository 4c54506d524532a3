//! Sweep benchmarks (DESIGN.md §6: replications and sweep points run in
//! parallel across cores): the wall time of one sweep — `scenarios/mmc.toml`
//! over 6 arrival rates × 4 replications, 2 h of arrivals each (24 runs,
//! about 0.4 M jobs) — on a rayon pool of 1 thread and of 2 threads. The
//! ratio of the two is the parallel speed-up (target ≥ 1.8× on 2 cores).

use std::path::PathBuf;
use std::time::Duration;

use criterion::{criterion_group, criterion_main, Criterion, Throughput};

use esa_sim::many::output::Replications;
use esa_sim::many::run::Runner;
use esa_sim::many::spec::{self, Request};
use esa_sim::many::{collect, vary};

/// The allocator of the `esa-sim` binary (`src/main.rs`), so this measures
/// what the binary runs.
#[global_allocator]
static ALLOC: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn request() -> Request {
    Request {
        scenario: PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("scenarios/mmc.toml"),
        sets: vec!["scenario.duration=2h".into()],
        axes: vary::parse_all(&["load.0.arrival.rate=4/s..9/s:6".into()]).expect("axis parses"),
        confidence: 0.95,
        replications: Replications::Fixed { n: 4 },
        max_events: None,
    }
}

fn sweep(c: &mut Criterion) {
    let (spec, points) = spec::build(&request()).expect("the sweep builds");
    let runs = (spec.points.len() * 4) as u64;
    let mut group = c.benchmark_group("sweep");
    group
        .sample_size(10)
        .measurement_time(Duration::from_secs(20))
        .throughput(Throughput::Elements(runs));
    for threads in [1, 2] {
        let pool = rayon::ThreadPoolBuilder::new()
            .num_threads(threads)
            .build()
            .expect("a thread pool");
        let runner = Runner {
            pool: &pool,
            on_planned: &|_| {},
            on_done: &|| {},
        };
        group.bench_function(format!("mmc_6x4_jobs_{threads}"), |b| {
            b.iter(|| collect(&spec, &points, &runner, None).expect("the sweep runs"))
        });
    }
    group.finish();
}

criterion_group!(benches, sweep);
criterion_main!(benches);
