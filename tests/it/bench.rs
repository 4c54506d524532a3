//! `esa-sim bench` through the CLI, and two bench files compared through
//! the library (`esa_sim::bench::compare`, which `esa-sim compare FILE
//! FILE` routes to): the same build is no regression, twice the work under
//! the same scenario name is one.
//!
//! The runs take real wall-clock time, so the two sides are taken in
//! alternation — one `bench --repeat 1` process of each per round — and
//! any change in the machine's load during the test hits both alike; the
//! timed tests of this module hold one lock, so they never compete with
//! each other. The slowed side does 2× the work (double duration), a
//! +100 % effect on `wall_s` against a 5 % tolerance.

use std::path::Path;
use std::sync::{Mutex, MutexGuard};

use esa_sim::bench::{self, BenchFile, Verdict};

use crate::{assert_contains, run, stdout};

const SCENARIO: &str = "scenarios/baseline.toml";
/// About 60 ms a run in release builds.
const SHORT: &str = "scenario.duration=15m";
const DOUBLE: &str = "scenario.duration=30m";

/// `esa-sim bench scenarios/baseline.toml --set scenario.drain=0s --set
/// <duration> --repeat N --out <file> -q`, parsed.
fn bench_file(file: &Path, duration: &str, repeat: &str) -> BenchFile {
    let out = file.to_str().unwrap();
    let args = [
        "bench",
        SCENARIO,
        "--set",
        "scenario.drain=0s",
        "--set",
        duration,
        "--repeat",
        repeat,
        "--out",
        out,
        "-q",
    ];
    let o = run(&args, 0);
    assert!(o.stdout.is_empty(), "-q prints nothing: {}", stdout(&o));
    let text = std::fs::read_to_string(file).expect("bench file written");
    BenchFile::parse(out, &text).expect("a valid bench file")
}

/// Held by every test here that times runs.
static TIMING: Mutex<()> = Mutex::new(());

fn timing() -> MutexGuard<'static, ()> {
    TIMING
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner())
}

/// `rounds` alternating single-sample benches of `a` and `b`, each side's
/// samples gathered into one file.
fn alternating(a: &str, b: &str, rounds: usize) -> (BenchFile, BenchFile) {
    let _alone = timing();
    let tmp = tempfile::tempdir().unwrap();
    let (mut fa, mut fb): (Option<BenchFile>, Option<BenchFile>) = (None, None);
    for i in 0..rounds {
        for (dur, acc, side) in [(a, &mut fa, "a"), (b, &mut fb, "b")] {
            let f = bench_file(&tmp.path().join(format!("{side}{i}.json")), dur, "1");
            match acc {
                Some(all) => all.scenarios[0]
                    .samples
                    .extend(f.scenarios[0].samples.clone()),
                None => *acc = Some(f),
            }
        }
    }
    (fa.unwrap(), fb.unwrap())
}

#[test]
fn bench_writes_repeat_samples_and_the_machine() {
    let _alone = timing();
    let tmp = tempfile::tempdir().unwrap();
    let f = bench_file(&tmp.path().join("sub/b.json"), SHORT, "4");
    assert_eq!(f.esa_sim_version, env!("CARGO_PKG_VERSION"));
    assert_eq!(f.scenarios.len(), 1);
    let s = &f.scenarios[0];
    assert_eq!(s.name, "baseline");
    assert!(s.hash.starts_with("sha256:"));
    assert_eq!(s.overrides, ["scenario.drain=0s", SHORT]);
    assert_eq!(s.samples.len(), 4);
    assert!(s.events > 0 && s.jobs > 0);
    for x in &s.samples {
        assert!(x.wall_s > 0.0 && x.events_per_s > 0.0 && x.jobs_per_s > 0.0);
        let implied = s.events as f64 / x.wall_s;
        assert!((x.events_per_s - implied).abs() <= 1e-6 * implied);
    }
    assert!(f.machine.cores >= 1);
    let profile = if cfg!(debug_assertions) {
        "debug"
    } else {
        "release"
    };
    assert_eq!(f.machine.profile, profile);
}

#[test]
fn bench_prints_medians_and_ranges() {
    let _alone = timing();
    let tmp = tempfile::tempdir().unwrap();
    let file = tmp.path().join("b.json");
    let o = run(
        &[
            "bench",
            SCENARIO,
            "--set",
            SHORT,
            "--repeat",
            "2",
            "--warmup",
            "0",
            "--out",
            file.to_str().unwrap(),
        ],
        0,
    );
    let text = stdout(&o);
    assert_contains(
        &text,
        &[
            "events/s median (min – max)",
            "jobs/s median",
            "baseline",
            "machine: ",
        ],
    );
    assert!(text.contains(file.to_str().unwrap()), "{text}");
}

#[test]
fn same_build_is_no_regression() {
    let (a, b) = alternating(SHORT, SHORT, 10);
    assert_eq!(a.scenarios[0].samples.len(), 10);
    let diffs = bench::compare(&a, &b, bench::compare::DEFAULT_TOLERANCE);
    assert_eq!(diffs.len(), 3, "events_per_s, jobs_per_s, wall_s");
    assert!(!bench::has_regression(&diffs), "{diffs:#?}");
    assert!(
        bench::notes(&a, &b).is_empty(),
        "{:?}",
        bench::notes(&a, &b)
    );
}

#[test]
fn twice_the_work_under_the_same_name_is_a_regression() {
    let (base, slow) = alternating(SHORT, DOUBLE, 10);
    let diffs = bench::compare(&base, &slow, bench::compare::DEFAULT_TOLERANCE);
    assert!(bench::has_regression(&diffs), "{diffs:#?}");
    let rows = bench::rows(&diffs);
    let wall = rows.iter().find(|r| r.measure == Some("wall_s")).unwrap();
    assert_eq!(wall.verdict, Verdict::Regression, "{wall:?}");
    // Twice the simulated work; the fixed cost of building the org and
    // other tests sharing the cores make the measured change smaller.
    assert!(wall.change_pct.unwrap() > 5.0, "{wall:?}");
    assert!(wall.p_value.unwrap() < 0.01, "{wall:?}");
    let notes = bench::notes(&base, &slow).join("\n");
    assert_contains(
        &notes,
        &[
            "`baseline` overrides changed",
            "`baseline` events per run changed",
        ],
    );
}

#[test]
fn bench_bad_input_exits_2_before_running() {
    let tmp = tempfile::tempdir().unwrap();
    let file = tmp.path().join("b.json");
    let f = file.to_str().unwrap();
    let o = run(&["bench", SCENARIO, SCENARIO, "--out", f], 2);
    assert_contains(
        &crate::stderr(&o),
        &["both scenario `baseline`", "each scenario name once"],
    );
    let o = run(&["bench", "no-such.toml", "--out", f], 2);
    assert_contains(&crate::stderr(&o), &["no-such.toml"]);
    run(&["bench", SCENARIO, "--repeat", "0", "--out", f], 2);
    assert!(!file.exists(), "nothing written on bad input");
}

#[test]
fn a_malformed_bench_file_is_an_error_not_a_panic() {
    for text in [
        "",
        "{}",
        r#"{"esa_sim_version": "0.1.0", "machine": 1, "scenarios": []}"#,
    ] {
        let e = BenchFile::parse("x.json", text).unwrap_err().to_string();
        assert!(e.starts_with("x.json: "), "{e}");
    }
}
