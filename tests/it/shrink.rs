//! `esa-sim shrink`: a scenario with several faults of which one (a
//! permanent crash of every D3 worker) breaks `completion` shrinks to that
//! one fault; the output is deterministic; conditions it does not meet
//! and bad conditions are exit 2.

use std::path::Path;

use super::{assert_contains, run_in, stdout, write_file};

/// baseline.toml with five faults; only the permanent crash of domain D3
/// (every one of its workers) costs completion.
fn several_faults() -> String {
    let baseline = std::fs::read_to_string(
        Path::new(env!("CARGO_MANIFEST_DIR")).join("scenarios/baseline.toml"),
    )
    .unwrap();
    baseline
        + r#"
[[fault]]
at = "1m"
kind = "slow"
target = "L12"
factor = 2.0
duration = "2m"

[[fault]]
at = "2m"
kind = "error"
target = "L20"
rate = "5%"
duration = "1m"

[[fault]]
at = "3m"
kind = "heartbeat-loss"
target = "L13"
duration = "30s"

[[fault]]
at = "4m"
kind = "crash"
target = "D3"

[[fault]]
at = "5m"
kind = "queue-outage"
target = "D7"
duration = "1m"
"#
}

fn shrink_into(dir: &Path, name: &str, until: &str, code: i32) -> (String, String) {
    let file = write_file(dir, "s.toml", &several_faults());
    let out = dir.join(name);
    let args = [
        "shrink",
        &file,
        "--until",
        until,
        "--set",
        "scenario.duration=10m",
        "--out",
        out.to_str().unwrap(),
    ];
    let o = run_in(dir, &args, code);
    let written = std::fs::read_to_string(&out).unwrap_or_default();
    (stdout(&o), written)
}

#[test]
fn the_one_fault_that_breaks_completion_is_all_that_is_left() {
    let dir = tempfile::tempdir().unwrap();
    let (text, written) = shrink_into(dir.path(), "min.toml", "slo:completion", 0);
    assert_contains(
        &text,
        &[
            "faults    5 → 1",
            "kept      crash on `D3` from 4m, permanent",
            "removed   slow on `L12`",
        ],
    );
    let min = dir.path().join("min.toml");
    let scenario = esa_sim::scenario::load(&min, &[]).expect("the written scenario is valid");
    assert_eq!(scenario.faults.len(), 1, "{written}");
    let fault = &scenario.faults[0];
    assert_eq!(fault.kind, esa_sim::scenario::FaultKind::Crash);
    assert_eq!(
        fault.target,
        esa_sim::scenario::FaultTarget::Id("D3".into())
    );
    assert_eq!(fault.duration, None, "still permanent");
    // It still breaks completion when run.
    run_in(
        dir.path(),
        &["run", min.to_str().unwrap(), "-q", "--out", "r"],
        1,
    );
    let summary = super::read_summary(&dir.path().join("r"));
    let completion = (summary["slo"].as_array().unwrap().iter())
        .find(|v| v["metric"] == "completion")
        .unwrap();
    assert_eq!(completion["pass"], false, "{completion}");
}

#[test]
fn shrinking_is_deterministic() {
    let dir = tempfile::tempdir().unwrap();
    let (a, file_a) = shrink_into(dir.path(), "a.toml", "slo:completion", 0);
    let (b, file_b) = shrink_into(dir.path(), "b.toml", "slo:completion", 0);
    assert_eq!(
        file_a.replace("a.toml", "X"),
        file_b.replace("b.toml", "X"),
        "two shrinks wrote different scenarios"
    );
    assert_eq!(a.replace("a.toml", "X"), b.replace("b.toml", "X"));
}

#[test]
fn a_condition_the_scenario_does_not_meet_or_cannot_have_is_exit_2() {
    let dir = tempfile::tempdir().unwrap();
    let file = write_file(dir.path(), "s.toml", &several_faults());
    for (until, says) in [
        ("exit=3", "does not meet --until exit=3"),
        ("slo:latency_mea", "did you mean `latency_mean`"),
        ("exit=7", "write exit=3"),
    ] {
        let o = run_in(
            dir.path(),
            &[
                "shrink",
                &file,
                "--until",
                until,
                "--set",
                "scenario.duration=10m",
            ],
            2,
        );
        assert_contains(&super::stderr(&o), &[says]);
    }
}
