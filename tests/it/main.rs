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
mod org;
mod props;
mod queueing;
mod scenarios;

use std::path::{Path, PathBuf};

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
