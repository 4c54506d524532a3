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
//! - `bench`: `esa-sim bench` and bench files compared through the library;
//! - `workflow`: the GitHub Actions workflow parses and its scripts pass `bash -n`.
//!
//! Fixtures live in `tests/data/`; the helpers below (running the binary,
//! running a scenario text into a temp dir, the one-pool queue [`OnePool`])
//! are shared by every module.

mod bench;
mod cli;
mod compare;
mod determinism;
mod explore;
mod faults;
mod fuzz;
mod golden;
mod hardening_cli;
mod hardening_faults;
mod hardening_input;
mod hardening_metrics;
mod hardening_org;
mod hlog;
mod live;
mod org;
mod plan;
mod priority_stats;
mod props;
mod queueing;
mod realtime;
mod report_html;
mod scenarios;
mod set_by_id;
mod shrink;
mod sweep;
mod trace;
mod workflow;

use std::path::{Path, PathBuf};
use std::process::Output;
use std::time::Duration;

use serde_json::Value;
use tempfile::TempDir;

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
    finish(esa_sim(), args, code)
}

/// Runs `esa-sim args...` in `dir` with a 60-second hang guard; asserts the
/// exit code (a kill means it hung) and that nothing panicked.
pub fn run_in(dir: &Path, args: &[&str], code: i32) -> Output {
    let mut cmd = esa_sim();
    cmd.current_dir(dir).timeout(Duration::from_secs(60));
    finish(cmd, args, code)
}

fn finish(mut cmd: assert_cmd::Command, args: &[&str], code: i32) -> Output {
    let out = cmd.args(args).output().expect("esa-sim starts");
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

/// A finished `esa-sim run` of a scenario text: its temp dir (the scenario
/// is `s.toml` in it, the reports go to `out/`) and the process output.
pub struct Run {
    pub dir: TempDir,
    pub out: Output,
}

impl Run {
    /// Where the reports were written.
    pub fn out_dir(&self) -> PathBuf {
        self.dir.path().join("out")
    }

    /// The run's summary.json.
    pub fn summary(&self) -> Value {
        read_summary(&self.out_dir())
    }
}

/// Writes `text` as `s.toml` (and each `(name, text)` of `inputs` beside it)
/// into a fresh temp dir and runs `esa-sim run s.toml --out <dir>/out
/// args...` there with [`run_in`], expecting exit `code`.
pub fn run_scenario_with(text: &str, inputs: &[(&str, &str)], args: &[&str], code: i32) -> Run {
    let dir = tempfile::tempdir().unwrap();
    let file = write_file(dir.path(), "s.toml", text);
    for (name, text) in inputs {
        write_file(dir.path(), name, text);
    }
    let out_dir = dir.path().join("out");
    let mut all = vec!["run", &file, "--out", out_dir.to_str().unwrap()];
    all.extend_from_slice(args);
    let out = run_in(dir.path(), &all, code);
    Run { dir, out }
}

/// [`run_scenario_with`] without input files.
pub fn run_scenario(text: &str, args: &[&str], code: i32) -> Run {
    run_scenario_with(text, &[], args, code)
}

/// `<out_dir>/summary.json`, parsed.
pub fn read_summary(out_dir: &Path) -> Value {
    let bytes = std::fs::read(out_dir.join("summary.json")).expect("summary.json written");
    serde_json::from_slice(&bytes).expect("summary.json is JSON")
}

/// The integer at JSON pointer `path` of `v`.
pub fn u(v: &Value, path: &str) -> u64 {
    v.pointer(path)
        .and_then(Value::as_u64)
        .unwrap_or_else(|| panic!("no integer at {path} in {v:#}"))
}

/// A single-pool queue (M/M/c and kin): every job goes to domain `Q`, whose
/// one agent `server` has `slots` slots and serves with `service`; no hop
/// latency or plan time. `org_extra` lines end `[org]`.
#[derive(Clone, Copy)]
pub struct OnePool<'a> {
    pub name: &'a str,
    pub seed: u64,
    pub duration: &'a str,
    pub warmup: &'a str,
    pub drain: &'a str,
    pub interval: &'a str,
    pub org_extra: &'a str,
    pub slots: u32,
    pub service: &'a str,
    pub load: &'a str,
    pub process: &'a str,
    pub rate: &'a str,
}

impl OnePool<'_> {
    /// The scenario text.
    pub fn text(&self) -> String {
        let Self {
            name,
            seed,
            duration,
            warmup,
            drain,
            interval,
            org_extra,
            slots,
            service,
            load,
            process,
            rate,
        } = *self;
        format!(
            r#"[scenario]
name = "{name}"
seed = {seed}
duration = "{duration}"
warmup = "{warmup}"
drain = "{drain}"
interval = "{interval}"

[org]
preset = "none"
hop_latency = "0s"
plan_time = "0s"
fallback_domain = "Q"
{org_extra}
[[org.domain]]
id = "Q"
keywords = []

[[org.agent]]
id = "server"
domain = "Q"
keywords = []
slots = {slots}
service = {service}

[[load]]
name = "{load}"
arrival = {{ process = "{process}", rate = "{rate}" }}
tasks = [{{ text = "job" }}]
"#
        )
    }
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
