//! Issue 8, metrics and SLO measurement: each test failed with the unfixed
//! binary (what it did is noted on the test) and pins the fix through the
//! CLI. Scenarios are tiny (a handful of events) so the file runs fast.

use crate::{assert_contains, run, stderr, stdout, write_file};
use serde_json::Value;
use std::path::Path;

const DAY_NS: f64 = 86_400e9;

/// One pool `Q` of one agent; `service` and the `[slo]` body are filled in.
fn one_pool(name: &str, duration: &str, drain: &str, service: &str, slo: &str) -> String {
    format!(
        r#"[scenario]
name = "{name}"
seed = 1
duration = "{duration}"
warmup = "0s"
drain = "{drain}"
interval = "10d"

[org]
preset = "none"
hop_latency = "0s"
plan_time = "0s"
fallback_domain = "Q"
visibility_timeout = "100d"

[[org.domain]]
id = "Q"
keywords = []

[[org.agent]]
id = "server"
domain = "Q"
keywords = []
slots = 1
service = {service}

[[load]]
name = "one"
arrival = {{ process = "constant", rate = "2/d" }}
tasks = [{{ text = "job" }}]

[slo]
{slo}
"#
    )
}

fn summary(dir: &Path) -> Value {
    let bytes = std::fs::read(dir.join("summary.json")).expect("summary.json written");
    serde_json::from_slice(&bytes).expect("summary.json is JSON")
}

fn verdict<'a>(summary: &'a Value, metric: &str) -> &'a Value {
    summary["slo"]
        .as_array()
        .expect("slo array")
        .iter()
        .find(|v| v["metric"] == metric)
        .unwrap_or_else(|| panic!("no `{metric}` verdict in {}", summary["slo"]))
}

/// Runs `scenario` (written to a temp dir) and returns (stdout, summary).
fn run_scenario(scenario: &str, code: i32) -> (String, Value) {
    let dir = tempfile::tempdir().unwrap();
    let path = write_file(dir.path(), "s.toml", scenario);
    let out_dir = dir.path().join("out");
    let out = run(&["run", &path, "--out", out_dir.to_str().unwrap()], code);
    (stdout(&out), summary(&out_dir))
}

// ---- 1. histograms sized from the scenario -----------------------------------

/// Unfixed: the 60-day latency was clamped to the histogram's 30-day
/// ceiling, `latency_max` measured 720.18h, `< 31d` passed, exit 0.
#[test]
fn latency_above_30_days_is_not_clamped_and_breaches_latency_max() {
    let scenario = one_pool(
        "long-latency",
        "1d",
        "70d",
        r#"{ dist = "const", value = "60d" }"#,
        r#"latency_max = "< 31d""#,
    );
    let (text, s) = run_scenario(&scenario, 1);
    assert_contains(&text, &["latency_max", "FAIL"]);
    let max = s["latency_ns"]["max"].as_f64().unwrap();
    assert!(max >= 60.0 * DAY_NS, "latency max {max} ns is below 60 d");
    assert!(
        max < 60.1 * DAY_NS,
        "latency max {max} ns is far above 60 d"
    );
    let v = verdict(&s, "latency_max");
    assert_eq!(v["pass"], false, "{v}");
    assert_eq!(v["measured"].as_f64(), Some(max), "{v}");
    let p99 = s["domains"]["Q"]["latency_ns"]["p99"].as_f64().unwrap();
    assert!(p99 >= 60.0 * DAY_NS, "domain p99 {p99} ns clamped");
}
