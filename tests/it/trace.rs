//! `run --trace FILE.jsonl` and `--trace-filter` (issue 11 item 2), through
//! the CLI: the trace is the same bytes on every run, does not change the
//! run, lets one job be followed from arrival to result, shows a crash's
//! story, and refuses bad filters and paths with exit 2.
//!
//! The scenario: every job is split between domain `X` (pool `P`: `W1` and
//! `W2`, 10 % errors, up to 2 retries) and domain `Y` (`V1`); `W1` crashes
//! from 1m to 1m30s. Three simulated minutes, a few hundred jobs.

use std::collections::BTreeMap;
use std::path::Path;

use serde_json::Value;

use crate::{assert_contains, read_summary, run_in, run_scenario, stderr, write_file};

const SCENARIO: &str = r#"
[scenario]
name = "trace"
seed = 3
duration = "3m"
warmup = "0s"
drain = "1m"
interval = "1m"

[org]
preset = "none"
hop_latency = "1ms"
plan_time = "2ms"
heartbeat_interval = "1s"
heartbeat_ttl = "3s"
max_retries = 2
fallback_domain = "X"

[[org.domain]]
id = "X"
keywords = ["alpha"]

[[org.domain]]
id = "Y"
keywords = ["beta"]

[[org.agent]]
id = "W1"
domain = "X"
pool = "P"
keywords = []
slots = 4
error_rate = 0.1
service = { dist = "exp", mean = "1s" }

[[org.agent]]
id = "W2"
domain = "X"
pool = "P"
slots = 4
error_rate = 0.1
service = { dist = "exp", mean = "1s" }

[[org.agent]]
id = "V1"
domain = "Y"
keywords = []
slots = 8
service = { dist = "exp", mean = "500ms" }

[[load]]
arrival = { process = "poisson", rate = "2/s" }
tasks = [{ text = "alpha beta job" }]

[[fault]]
at = "1m"
kind = "crash"
target = "W1"
duration = "30s"
"#;

/// Runs the scenario in `dir` with `--trace <dir>/<name>` plus `args`;
/// returns the trace's bytes.
fn trace_in(dir: &Path, name: &str, args: &[&str], code: i32) -> Vec<u8> {
    let scenario = write_file(dir, "s.toml", SCENARIO);
    let trace = dir.join(name);
    let out = dir.join(format!("out-{name}"));
    let mut all = vec![
        "run",
        &scenario,
        "-q",
        "--out",
        out.to_str().unwrap(),
        "--trace",
        trace.to_str().unwrap(),
    ];
    all.extend_from_slice(args);
    run_in(dir, &all, code);
    std::fs::read(&trace).expect("trace written")
}

fn lines(bytes: &[u8]) -> Vec<Value> {
    (String::from_utf8(bytes.to_vec()).expect("UTF-8").lines())
        .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("not JSON: {l}: {e}")))
        .collect()
}

fn event(v: &Value) -> &str {
    v["event"].as_str().expect("every line has an event")
}

fn count(trace: &[Value], name: &str) -> usize {
    trace.iter().filter(|v| event(v) == name).count()
}

#[test]
fn trace_is_the_same_bytes_on_every_run() {
    let dir = tempfile::tempdir().unwrap();
    let a = trace_in(dir.path(), "a.jsonl", &[], 0);
    let b = trace_in(dir.path(), "b.jsonl", &[], 0);
    assert!(a.len() > 10_000, "a trace of a few hundred jobs");
    assert!(
        a == b,
        "two runs of one scenario and seed wrote different traces"
    );
    let text = String::from_utf8(a.clone()).unwrap();
    for line in text.lines() {
        assert!(line.starts_with(r#"{"time_ns":"#), "field order: {line}");
        assert!(line.contains(r#","event":""#), "{line}");
        assert!(!line.contains("null"), "absent fields are left out: {line}");
    }
    let trace = lines(&a);
    let times: Vec<u64> = trace
        .iter()
        .map(|v| v["time_ns"].as_u64().unwrap())
        .collect();
    assert!(times.windows(2).all(|w| w[0] <= w[1]), "time goes back");
    let jobs = count(&trace, "arrival");
    assert!(jobs > 200, "{jobs} arrivals");
    assert_eq!(count(&trace, "job-result"), jobs, "every job has a result");
    assert_eq!(count(&trace, "subtask"), 2 * jobs, "one subtask per domain");
}

#[test]
fn trace_does_not_change_the_run() {
    let plain = run_scenario(SCENARIO, &["-q"], 0);
    let dir = tempfile::tempdir().unwrap();
    trace_in(dir.path(), "t.jsonl", &[], 0);
    let traced = read_summary(&dir.path().join("out-t.jsonl"));
    assert_eq!(plain.summary(), traced);
}

/// A job with a retry, followed with `--trace-filter job=N`: every line is
/// that job's, the story runs from arrival to job-result, and every start
/// has its done (or its loss) on the same agent and attempt.
#[test]
fn one_job_can_be_followed_from_arrival_to_result() {
    let dir = tempfile::tempdir().unwrap();
    let all = lines(&trace_in(dir.path(), "all.jsonl", &[], 0));
    let job = all
        .iter()
        .find(|v| event(v) == "retry")
        .and_then(|v| v["job"].as_u64())
        .expect("some job retried");
    let filter = format!("job={job}");
    let one = lines(&trace_in(
        dir.path(),
        "one.jsonl",
        &["--trace-filter", &filter],
        0,
    ));
    let expected: Vec<&Value> = (all.iter())
        .filter(|v| v["job"].as_u64() == Some(job))
        .collect();
    assert_eq!(one.iter().collect::<Vec<_>>(), expected);
    assert!(one.iter().all(|v| v["job"].as_u64() == Some(job)));
    assert_eq!(event(&one[0]), "arrival");
    assert_eq!(event(one.last().unwrap()), "job-result");
    let times: Vec<u64> = one.iter().map(|v| v["time_ns"].as_u64().unwrap()).collect();
    assert!(times.windows(2).all(|w| w[0] <= w[1]), "{one:#?}");
    assert_eq!(count(&one, "subtask"), 2);
    assert_eq!(count(&one, "domain-result"), 2);
    assert!(
        count(&one, "done") >= 3,
        "two tries in X, one in Y: {one:#?}"
    );
    let mut open: BTreeMap<(String, u64, String), i64> = BTreeMap::new();
    for v in &one {
        let key = || {
            (
                v["agent"].as_str().unwrap().to_string(),
                v["attempt"].as_u64().unwrap(),
                v["subtask"].as_str().unwrap().to_string(),
            )
        };
        match event(v) {
            "start" => *open.entry(key()).or_default() += 1,
            "done" | "lost" => *open.entry(key()).or_default() -= 1,
            _ => {}
        }
    }
    assert!(open.values().all(|n| *n == 0), "unpaired starts: {open:?}");
}

#[test]
fn a_crash_shows_down_dead_requeued_lost_and_up() {
    let dir = tempfile::tempdir().unwrap();
    let trace = lines(&trace_in(
        dir.path(),
        "t.jsonl",
        &["--trace-filter", "agent=W1"],
        0,
    ));
    assert!(trace.iter().all(|v| v["agent"] == "W1"));
    let story: Vec<&str> = (trace.iter())
        .map(event)
        .filter(|e| !matches!(*e, "start" | "done"))
        .collect();
    assert_eq!(story[0], "agent-down", "{story:?}");
    assert_eq!(story.last(), Some(&"agent-up"), "{story:?}");
    for e in ["agent-dead", "requeued", "lost"] {
        assert!(story.contains(&e), "no {e} in {story:?}");
    }
    let requeued = trace.iter().find(|v| event(v) == "requeued").unwrap();
    assert_eq!(requeued["reason"], "agent-dead");
    assert!(requeued["job"].is_u64(), "{requeued}");
    let faults = lines(&trace_in(
        dir.path(),
        "f.jsonl",
        &["--trace-filter", "event=fault-start"],
        0,
    ));
    assert_eq!(faults.len(), 1);
    assert_eq!(faults[0]["fault"], 0);
    assert_eq!(faults[0]["time_ns"], 60_000_000_000u64);
}

#[test]
fn filters_and() {
    let dir = tempfile::tempdir().unwrap();
    let args = [
        "--trace-filter",
        "event=start",
        "--trace-filter",
        "agent=W2",
    ];
    let trace = lines(&trace_in(dir.path(), "t.jsonl", &args, 0));
    assert!(!trace.is_empty());
    assert!(trace
        .iter()
        .all(|v| event(v) == "start" && v["agent"] == "W2"));
}

#[test]
fn bad_filters_and_paths_exit_2_with_the_fix() {
    let dir = tempfile::tempdir().unwrap();
    let scenario = write_file(dir.path(), "s.toml", SCENARIO);
    let trace = dir.path().join("t.jsonl");
    let trace = trace.to_str().unwrap();
    let cases = [
        ("job", "write KEY=VALUE"),
        ("job=first", "write job=N"),
        ("agent=W3", "no agent `W3`"),
        ("event=strat", "did you mean `start`?"),
        ("jobs=3", "filter by job=N, agent=ID or event=NAME"),
    ];
    for (filter, fix) in cases {
        let args = [
            "run",
            &scenario,
            "-q",
            "--trace",
            trace,
            "--trace-filter",
            filter,
        ];
        let err = stderr(&run_in(dir.path(), &args, 2));
        assert_contains(&err, &[filter, fix]);
    }
    let err = stderr(&run_in(
        dir.path(),
        &["run", &scenario, "--trace-filter", "job=1"],
        2,
    ));
    assert_contains(&err, &["--trace <FILE>"]);
    let out = dir.path().join("out");
    let missing = dir.path().join("no/such/dir/t.jsonl");
    let args = [
        "run",
        &scenario,
        "--out",
        out.to_str().unwrap(),
        "--trace",
        missing.to_str().unwrap(),
    ];
    let err = stderr(&run_in(dir.path(), &args, 2));
    assert_contains(&err, &["--trace", "cannot create the file"]);
    assert!(!out.join("summary.json").exists(), "it simulated anyway");
}
