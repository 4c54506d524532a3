//! esa-sim's integration tests, one binary (`cargo test --release --test it`):
//!
//! - `queueing`: the simulator against queueing theory computed here
//!   (Erlang C for M/M/c, Pollaczek–Khinchine for M/D/1, Little's law
//!   exactly on the simulated data), with tolerances justified by
//!   batch-means standard errors measured in the test;
//! - `determinism`: the same scenario and seed give byte-identical reports,
//!   as a process and in-process; another seed gives different ones;
//! - `cli`: the binary as a process — exit codes, error messages, files;
//! - `props`: property tests of duration/rate parsing and the event queue.
//!
//! Fixtures live in `tests/data/`.

mod cli;
mod determinism;
mod faults;
mod fuzz;
mod hardening_cli;
mod hardening_faults;
mod hardening_input;
mod hardening_metrics;
mod hardening_org;
mod org;
mod props;
mod queueing;
mod scenarios;

use std::path::{Path, PathBuf};
use std::process::Output;

/// `tests/data/<name>`, absolute.
pub fn data(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/data")
        .join(name)
}

/// The `esa-sim` binary built for this test run.
pub fn esa_sim() -> assert_cmd::Command {
    let mut cmd = assert_cmd::Command::new(env!("CARGO_BIN_EXE_esa-sim"));
    cmd.current_dir(env!("CARGO_MANIFEST_DIR"));
    cmd
}

pub fn stdout(o: &Output) -> String {
    String::from_utf8_lossy(&o.stdout).into_owned()
}

pub fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

/// Runs `esa-sim args...`, asserts the exit code and that nothing panicked.
pub fn run(args: &[&str], code: i32) -> Output {
    let out = esa_sim().args(args).output().expect("esa-sim starts");
    let err = stderr(&out);
    assert!(
        !err.contains("panicked"),
        "esa-sim {args:?} panicked:\n{err}"
    );
    assert_eq!(
        out.status.code(),
        Some(code),
        "esa-sim {args:?}: expected exit {code}\n--- stdout\n{}\n--- stderr\n{err}",
        stdout(&out)
    );
    out
}

pub fn assert_contains(haystack: &str, needles: &[&str]) {
    for n in needles {
        assert!(haystack.contains(n), "expected `{n}` in:\n{haystack}");
    }
}

/// Writes `text` as `<dir>/<name>` and returns the path as a string.
pub fn write_file(dir: &Path, name: &str, text: &str) -> String {
    let path = dir.join(name);
    std::fs::write(&path, text).unwrap();
    path.to_str().unwrap().to_string()
}
