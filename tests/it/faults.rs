//! Fault-property test: for many seeds, a scenario with randomly drawn
//! faults (crash, slow, heartbeat-loss, partition, queue-outage) runs to the
//! end and every invariant holds: no job lost, exactly one result per job
//! (results + in flight = arrivals), nothing left in flight once the drain
//! is over, no work running on an agent the registry declared dead.

use std::path::Path;

use esa_sim::scenario::parse_str;
use esa_sim::sim::Sim;
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;

const SEEDS: u64 = 200;

const ORG: &str = r#"
[org]
preset = "none"
hop_latency = "1ms"
plan_time = "2ms"
heartbeat_interval = "1s"
heartbeat_ttl = "3s"
visibility_timeout = "1h"
max_retries = 2
retry_backoff = "200ms"
fallback_domain = "X"

[org.balancing]
enabled = true
interval = "5s"
level1_delay = "0s"
level2_delay = "5s"
level3_delay = "10s"
level4_delay = "20s"
moves = 5
level4 = "LEVEL4"

[[org.domain]]
id = "X"
keywords = ["alpha"]

[[org.domain]]
id = "Y"
keywords = ["gamma"]

[[org.agent]]
id = "A1"
domain = "X"
pool = "A"
keywords = ["alpha", "beta"]
slots = 3
service = { dist = "exp", mean = "500ms" }

[[org.agent]]
id = "A2"
domain = "X"
pool = "A"
slots = 3
service = { dist = "exp", mean = "500ms" }

[[org.agent]]
id = "B1"
domain = "X"
keywords = ["beta-only", "delta"]
skills = ["alpha"]
after = ["A1"]
slots = 2
service = { dist = "lognormal", mean = "300ms", cv = 0.5 }
error_rate = "2%"

[[org.agent]]
id = "C1"
domain = "Y"
pool = "C"
keywords = ["gamma"]
slots = 2
service = { dist = "exp", mean = "400ms" }

[[org.agent]]
id = "C2"
domain = "Y"
pool = "C"
skills = ["alpha"]
slots = 2
service = { dist = "exp", mean = "400ms" }

[[load]]
arrival = { process = "poisson", rate = "6/s" }
tasks = [
  { text = "alpha job", weight = 2 },
  { text = "alpha and delta job", weight = 2, priority = "high" },
  { text = "gamma job", weight = 2, priority = "low" },
  { text = "alpha gamma delta job", weight = 1, priority = "critical" },
]
"#;

const KINDS: [&str; 5] = [
    "crash",
    "slow",
    "heartbeat-loss",
    "partition",
    "queue-outage",
];
const AGENTS: [&str; 5] = ["A1", "A2", "B1", "C1", "C2"];

/// Non-overlapping random faults: fault i starts in its own minute.
fn random_faults(seed: u64) -> String {
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    let n = rng.random_range(1..=6);
    let mut out = String::new();
    let victim = ["A1", "A2", "C1", "C2"][rng.random_range(0..4)];
    let permanent = rng.random_bool(0.5);
    if permanent {
        // One replica of a two-agent pool dies for good: only the
        // registry's sweep and requeue can save its active work.
        let at = rng.random_range(30..300);
        out.push_str(&format!(
            "\n[[fault]]\nat = \"{at}s\"\nkind = \"crash\"\ntarget = \"{victim}\"\n"
        ));
    }
    for i in 0..n {
        let kind = KINDS[rng.random_range(0..KINDS.len())];
        let at = i * 60 + rng.random_range(0..20);
        let dur = rng.random_range(1..=40);
        let mut target = AGENTS[rng.random_range(0..AGENTS.len())];
        if permanent && kind == "crash" && target == victim {
            target = "B1"; // a second crash of the dead agent would overlap
        }
        out.push_str(&format!(
            "\n[[fault]]\nat = \"{at}s\"\nkind = \"{kind}\"\nduration = \"{dur}s\"\n"
        ));
        match kind {
            "partition" => {
                let side = if rng.random_bool(0.5) { "X" } else { "Y" };
                out.push_str(&format!("between = [\"{side}\", \"orchestrator\"]\n"));
            }
            "queue-outage" => out.push_str(&format!(
                "target = \"{}\"\n",
                if rng.random_bool(0.5) { "X" } else { "Y" }
            )),
            "slow" => out.push_str(&format!(
                "target = \"{target}\"\nfactor = {}\n",
                rng.random_range(2..30)
            )),
            _ => out.push_str(&format!("target = \"{target}\"\n")),
        }
    }
    out
}

/// Balancing runs too (its moves interleave with requeues); even seeds
/// let the CEO add slots, odd ones shed low-priority work.
fn scenario_text(seed: u64) -> String {
    let level4 = if seed.is_multiple_of(2) {
        "add-slots"
    } else {
        "shed-low"
    };
    format!(
        "[scenario]\nname = \"fault-prop\"\nseed = {seed}\nduration = \"6m\"\ndrain = \"15m\"\ninterval = \"1m\"\n{}{}",
        ORG.replace("LEVEL4", level4),
        random_faults(seed)
    )
}

#[test]
fn invariants_hold_under_random_faults() {
    let mut requeues = 0;
    let mut late = 0;
    let mut moved = 0;
    for seed in 0..SEEDS {
        let text = scenario_text(seed);
        let scenario = parse_str("fault-prop.toml", &text, Path::new("."), &[])
            .unwrap_or_else(|e| panic!("seed {seed}: {e}\n{text}"));
        let (sim, _) = Sim::build(&scenario).unwrap_or_else(|e| panic!("seed {seed}: {e}"));
        let out = sim.run();
        let all = out.summary.jobs_all;
        let ctx = || format!("seed {seed}\n{text}");
        assert!(out.violations.is_empty(), "{:?}\n{}", out.violations, ctx());
        assert_eq!(all.lost, 0, "lost jobs, {}", ctx());
        assert_eq!(
            all.arrived,
            all.results() + all.in_flight_at_end,
            "conservation, {}",
            ctx()
        );
        assert_eq!(
            all.in_flight_at_end,
            0,
            "jobs still in flight after the drain, {}",
            ctx()
        );
        assert!(
            all.arrived > 1000,
            "too few jobs to mean anything, {}",
            ctx()
        );
        for d in &out.summary.faults.detections {
            // ttl (3 s) + one sweep (1 s)
            assert!(
                d.detected_after_ns <= 4_000_000_000,
                "slow detection {d:?}, {}",
                ctx()
            );
        }
        requeues += out.summary.faults.requeues;
        late += out.summary.faults.late_results_discarded;
        let b = out.summary.balancing;
        moved += b.moved_within_division + b.moved_across_divisions;
    }
    // The faults must actually bite: requeues and discarded late results happen.
    assert!(
        requeues > 100,
        "only {requeues} requeues over {SEEDS} seeds"
    );
    assert!(late > 10, "only {late} late results over {SEEDS} seeds");
    assert!(
        moved > 100,
        "only {moved} balancing moves over {SEEDS} seeds"
    );
}
