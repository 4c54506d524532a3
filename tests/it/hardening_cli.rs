//! Regression tests for the CLI defects of the hardening issue: a closed
//! pipe, `check` of several files, an unwritable `--out`, and runs too big
//! to finish (refused up front, or stopped by the event budget).

use std::path::Path;
use std::process::Stdio;

use crate::{assert_contains, data, run, run_in, stderr, stdout};

/// `esa-sim check a.toml b.toml | head -1` used to exit 101: `println!`
/// panics when the reader has gone. The pipe here is closed before esa-sim
/// writes, so every write fails with EPIPE.
#[test]
fn check_into_a_closed_pipe_does_not_panic() {
    let (reader, writer) = std::io::pipe().unwrap();
    drop(reader);
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_esa-sim"))
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .args([
            "check",
            "scenarios/mmc.toml",
            "scenarios/baseline.toml",
            "scenarios/overload.toml",
        ])
        .stdout(Stdio::from(writer))
        .stderr(Stdio::piped())
        .output()
        .unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(!err.contains("panicked"), "{err}");
    assert_eq!(out.status.code(), Some(0), "{err}");
}

/// `org show` into a closed pipe, likewise.
#[test]
fn org_show_into_a_closed_pipe_does_not_panic() {
    let (reader, writer) = std::io::pipe().unwrap();
    drop(reader);
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_esa-sim"))
        .args(["org", "show"])
        .stdout(Stdio::from(writer))
        .stderr(Stdio::piped())
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0));
    assert!(out.stderr.is_empty());
}

/// `check` used to stop at the first bad file; it now checks every file,
/// reports each, and exits 2 if any was bad.
#[test]
fn check_reports_every_bad_file() {
    let typo = data("bad_typo_key.toml");
    let slots = data("bad_zero_slots.toml");
    let out = run(
        &[
            "check",
            typo.to_str().unwrap(),
            "scenarios/mmc.toml",
            slots.to_str().unwrap(),
        ],
        2,
    );
    assert_contains(&stdout(&out), &["ok: scenarios/mmc.toml"]);
    assert_contains(
        &stderr(&out),
        &[
            "bad_typo_key.toml:",
            "did you mean `latency_mean`?",
            "bad_zero_slots.toml:",
            "org.agent[0].slots",
            "2 of 3 scenario files are invalid",
        ],
    );
}

/// An unwritable `--out` used to be reported only after the whole
/// simulation. With an event budget of 1 the run would fail at once with a
/// budget error if it started; the write error must come first.
#[test]
fn unwritable_out_is_reported_before_the_run() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("a-file");
    std::fs::write(&file, "not a directory").unwrap();
    let out_dir = file.join("reports");
    let out = run(
        &[
            "run",
            "scenarios/mmc.toml",
            "--out",
            out_dir.to_str().unwrap(),
            "--max-events",
            "1",
        ],
        2,
    );
    let err = stderr(&out);
    assert_contains(&err, &["cannot write", "a-file"]);
    assert!(!err.contains("events"), "the run started first:\n{err}");
}

/// `rate = "1000000/s"` for an hour used to run for hours with no end in
/// sight; it is refused up front with the size and how to proceed.
#[test]
fn a_run_far_too_big_is_refused_up_front() {
    let dir = tempfile::tempdir().unwrap();
    let out = run_in(
        Path::new(env!("CARGO_MANIFEST_DIR")),
        &[
            "run",
            "scenarios/mmc.toml",
            "--set",
            "load.0.arrival.rate=1000000/s",
            "--set",
            "scenario.duration=1h",
            "--out",
            dir.path().to_str().unwrap(),
        ],
        2,
    );
    assert_contains(
        &stderr(&out),
        &["expects about 3.600e9 jobs", "--max-jobs", "duration 1h"],
    );
    assert!(!dir.path().join("summary.json").exists());
}

/// A run that makes far more events than its load explains stops at its
/// event budget with exit 2 and says why, instead of running on.
#[test]
fn a_run_beyond_its_event_budget_stops_with_a_message() {
    let dir = tempfile::tempdir().unwrap();
    let out = run(
        &[
            "run",
            "scenarios/mmc.toml",
            "--max-events",
            "5000",
            "--out",
            dir.path().to_str().unwrap(),
        ],
        2,
    );
    assert_contains(
        &stderr(&out),
        &["stopped after 5000 events", "--max-events", "No reports"],
    );
    assert!(!dir.path().join("summary.json").exists());
}

/// The budget is generous for real runs: the default lets `check`'s size
/// estimate and a normal run agree, and the raised --max-jobs lets a big run
/// through.
#[test]
fn max_jobs_raises_the_up_front_limit() {
    let dir = tempfile::tempdir().unwrap();
    run(
        &[
            "run",
            "scenarios/mmc.toml",
            "--set",
            "scenario.duration=1h",
            "--max-jobs",
            "100000",
            "-q",
            "--out",
            dir.path().to_str().unwrap(),
        ],
        0,
    );
    let out = run(
        &[
            "run",
            "scenarios/mmc.toml",
            "--set",
            "scenario.duration=1h",
            "--max-jobs",
            "1000",
            "--out",
            dir.path().to_str().unwrap(),
        ],
        2,
    );
    assert_contains(&stderr(&out), &["expects about 2.880e4 jobs"]);
}
