//! Runs a scenario N times in one process, as the criterion benches do
//! (`Sim::build` + `Sim::run`, no report files), for a profiler:
//!
//! ```text
//! cargo build --release --example profile
//! valgrind --tool=callgrind target/release/examples/profile \
//!     scenarios/baseline.toml 20 scenario.duration=5m scenario.warmup=0s scenario.drain=2m
//! perf record -g target/release/examples/profile scenarios/mmc.toml 5
//! ```
//!
//! Arguments: the scenario, the number of runs (default 10), then any
//! `--set` overrides as `key=value`. Prints jobs and events per run and the
//! fastest and median run's wall time (the fastest is the least noisy
//! figure for an A/B comparison); `ESA_PROFILE_EACH=1` also prints every
//! run's time (ms) on stderr.

use std::path::Path;
use std::process::ExitCode;
use std::time::{Duration, Instant};

use esa_sim::scenario;
use esa_sim::sim::Sim;

/// The allocator of the `esa-sim` binary (`src/main.rs`), so this measures
/// what the binary runs.
#[global_allocator]
static ALLOC: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn micros(d: Option<&Duration>) -> f64 {
    d.map_or(0.0, |d| d.as_secs_f64() * 1e6)
}

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let Some(file) = args.first() else {
        eprintln!("usage: profile <scenario.toml> [runs] [key=value ...]");
        return ExitCode::from(2);
    };
    let runs: u32 = match args.get(1).map(|n| n.parse()) {
        None => 10,
        Some(Ok(n)) => n,
        Some(Err(e)) => {
            eprintln!("runs: {e}");
            return ExitCode::from(2);
        }
    };
    let overrides = args.get(2..).unwrap_or_default().to_vec();
    let s = match scenario::load(Path::new(file), &overrides) {
        Ok(s) => s,
        Err(e) => {
            eprintln!("{e}");
            return ExitCode::from(2);
        }
    };
    let each = std::env::var_os("ESA_PROFILE_EACH").is_some();
    let (mut jobs, mut events) = (0, 0);
    let mut times: Vec<Duration> = Vec::new();
    for _ in 0..runs {
        let start = Instant::now();
        let (sim, _org) = Sim::build(&s).expect("a loaded scenario builds");
        let out = sim.run();
        let took = start.elapsed();
        times.push(took);
        if each {
            eprint!("{:.1} ", took.as_secs_f64() * 1e3);
        }
        jobs += out.summary.jobs_all.arrived;
        events += out.events;
    }
    times.sort();
    println!(
        "{runs} runs: {} jobs, {} events per run, fastest {:.1} us, median {:.1} us",
        jobs / u64::from(runs.max(1)),
        events / u64::from(runs.max(1)),
        micros(times.first()),
        micros(times.get(times.len() / 2))
    );
    ExitCode::SUCCESS
}
