//! Engine benchmarks: events/s on the M/M/c path (DESIGN.md §6).
//!
//! - `engine/esa_sim_mmc`: `scenarios/mmc.toml` shortened to 2 h of arrivals,
//!   built and run end to end (`Sim::build` + `Sim::run`, metrics included).
//! - `engine/handrolled_general`: the same M/M/10 queue (λ = 8/s, μ = 1/s,
//!   the same number of jobs) as a bare general binary-heap event loop, the
//!   anchor of `../shared/bench-anchors/rust-mmc` written fresh here so the
//!   two are measured side by side in one `cargo bench`.
//! - `engine/tokio_paused`: the same queue as tokio tasks on a paused clock.
//! - `event_queue/steady_11`: the bare `EventQueue`, a steady population of
//!   11 events (one arrival + ten busy servers), one pop + one push per event.
//!
//! Every throughput is in events (the anchors count two per job).

use std::cmp::Reverse;
use std::collections::{BinaryHeap, VecDeque};
use std::hint::black_box;
use std::path::Path;
use std::time::Duration;

use criterion::{criterion_group, criterion_main, BatchSize, Criterion, Throughput};
use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;
use rand_distr::{Distribution, Exp};

use esa_sim::scenario::{self, Scenario};
use esa_sim::sim::engine::EventQueue;
use esa_sim::sim::Sim;
use esa_sim::time::{SimDuration, SimInstant};

/// The allocator of the `esa-sim` binary (`src/main.rs`), so this measures
/// what the binary runs.
#[global_allocator]
static ALLOC: mimalloc::MiMalloc = mimalloc::MiMalloc;

const LAMBDA_PER_S: f64 = 8.0;
const MU_PER_S: f64 = 1.0;
const SERVERS: usize = 10;

fn mmc_scenario() -> Scenario {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("scenarios/mmc.toml");
    let overrides = [
        "scenario.duration=2h",
        "scenario.warmup=0s",
        "scenario.drain=10m",
    ]
    .map(String::from);
    scenario::load(&path, &overrides).expect("scenarios/mmc.toml loads")
}

/// Runs the scenario once; returns (events, jobs arrived).
fn run_once(s: &Scenario) -> (u64, u64) {
    let (sim, _org) = Sim::build(s).expect("mmc scenario builds");
    let out = sim.run();
    assert!(
        out.violations.is_empty(),
        "invariant violations: {:?}",
        out.violations
    );
    (out.events, out.summary.jobs_all.arrived)
}

fn secs_to_ns(x: f64) -> u64 {
    ((x * 1e9).round() as u64).max(1)
}

#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
enum AnchorEvent {
    Arrival { service_ns: u64 },
    Departure { arrived_ns: u64 },
}

/// A minimal general future-event list: `(time, seq)` order, FIFO ties.
struct AnchorFel {
    seq: u64,
    heap: BinaryHeap<Reverse<(u64, u64, AnchorEvent)>>,
}

impl AnchorFel {
    #[inline]
    fn push(&mut self, at_ns: u64, ev: AnchorEvent) {
        self.heap.push(Reverse((at_ns, self.seq, ev)));
        self.seq += 1;
    }
}

/// M/M/c on the general event list. Returns the summed sojourn time, so the
/// loop cannot be optimised away.
fn handrolled_general(jobs: u64, seed: u64) -> u128 {
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    let (arr, svc) = (Exp::new(LAMBDA_PER_S).unwrap(), Exp::new(MU_PER_S).unwrap());
    let mut draw = move || {
        (
            secs_to_ns(arr.sample(&mut rng)),
            secs_to_ns(svc.sample(&mut rng)),
        )
    };
    let mut fel = AnchorFel {
        seq: 0,
        heap: BinaryHeap::with_capacity(64),
    };
    let mut waiting: VecDeque<(u64, u64)> = VecDeque::with_capacity(1024);
    let (mut busy, mut generated, mut sojourn_ns) = (0usize, 1u64, 0u128);
    let (a0, s0) = draw();
    fel.push(a0, AnchorEvent::Arrival { service_ns: s0 });
    while let Some(Reverse((now, _, ev))) = fel.heap.pop() {
        match ev {
            AnchorEvent::Arrival { service_ns } => {
                if busy < SERVERS {
                    busy += 1;
                    fel.push(now + service_ns, AnchorEvent::Departure { arrived_ns: now });
                } else {
                    waiting.push_back((now, service_ns));
                }
                if generated < jobs {
                    let (a, s) = draw();
                    fel.push(now + a, AnchorEvent::Arrival { service_ns: s });
                    generated += 1;
                }
            }
            AnchorEvent::Departure { arrived_ns } => {
                sojourn_ns += u128::from(now - arrived_ns);
                match waiting.pop_front() {
                    Some((arrived, service)) => fel.push(
                        now + service,
                        AnchorEvent::Departure {
                            arrived_ns: arrived,
                        },
                    ),
                    None => busy -= 1,
                }
            }
        }
    }
    sojourn_ns
}

/// M/M/c as tokio tasks on a paused clock: a `Semaphore(c)` of servers and
/// one task per job that sleeps its service time (1 ms timer resolution).
fn tokio_paused(jobs: u64, seed: u64) -> u64 {
    use std::sync::Arc;
    use tokio::sync::Semaphore;
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_time()
        .start_paused(true)
        .build()
        .expect("tokio runtime");
    rt.block_on(async move {
        let mut rng = ChaCha8Rng::seed_from_u64(seed);
        let (arr, svc) = (Exp::new(LAMBDA_PER_S).unwrap(), Exp::new(MU_PER_S).unwrap());
        let servers = Arc::new(Semaphore::new(SERVERS));
        let mut handles = Vec::with_capacity(jobs as usize);
        for _ in 0..jobs {
            let (a, s) = (
                secs_to_ns(arr.sample(&mut rng)),
                secs_to_ns(svc.sample(&mut rng)),
            );
            tokio::time::sleep(Duration::from_nanos(a)).await;
            let servers = servers.clone();
            handles.push(tokio::spawn(async move {
                let _permit = servers.acquire().await.expect("semaphore open");
                tokio::time::sleep(Duration::from_nanos(s)).await;
            }));
        }
        for h in handles {
            h.await.expect("job task");
        }
        jobs
    })
}

fn engine(c: &mut Criterion) {
    let scenario = mmc_scenario();
    let (events, jobs) = run_once(&scenario);
    let mut g = c.benchmark_group("engine");
    g.sample_size(10).measurement_time(Duration::from_secs(6));

    g.throughput(Throughput::Elements(events));
    g.bench_function("esa_sim_mmc", |b| {
        b.iter(|| {
            let (sim, _org) = Sim::build(black_box(&scenario)).expect("builds");
            black_box(sim.run().events)
        })
    });

    g.throughput(Throughput::Elements(2 * jobs));
    g.bench_function("handrolled_general", |b| {
        b.iter(|| handrolled_general(black_box(jobs), 1))
    });

    let tokio_jobs = jobs / 8;
    g.throughput(Throughput::Elements(2 * tokio_jobs));
    g.bench_function("tokio_paused", |b| {
        b.iter(|| tokio_paused(black_box(tokio_jobs), 1))
    });
    g.finish();
}

/// Pops one event and pushes its successor, `n` times, on a queue holding
/// 11 events, with pre-drawn exponential delays (mean 1 s).
fn event_queue(c: &mut Criterion) {
    const POPULATION: u64 = 11;
    const STEPS: u64 = 100_000;
    let mut rng = ChaCha8Rng::seed_from_u64(7);
    let exp = Exp::new(MU_PER_S).unwrap();
    let delays: Vec<u64> = (0..4096)
        .map(|_| secs_to_ns(exp.sample(&mut rng)))
        .collect();
    let fresh = || {
        let mut q: EventQueue<(u32, u64)> = EventQueue::with_capacity(64);
        for i in 0..POPULATION {
            q.schedule_at(SimInstant(delays[i as usize]), (i as u32, 0));
        }
        q
    };
    let mut g = c.benchmark_group("event_queue");
    g.sample_size(10).measurement_time(Duration::from_secs(5));
    g.throughput(Throughput::Elements(STEPS));
    g.bench_function("steady_11", |b| {
        b.iter_batched_ref(
            fresh,
            |q| {
                for k in 0..STEPS as usize {
                    let (_, (id, n)) = q.pop().expect("population is constant");
                    q.schedule_in(SimDuration(delays[k & 4095]), (id, n + 1));
                }
                black_box(q.now())
            },
            BatchSize::SmallInput,
        )
    });
    g.finish();
}

criterion_group!(benches, engine, event_queue);
criterion_main!(benches);
