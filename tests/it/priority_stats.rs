//! Statistics by priority and by load stream: the `priorities.<p>` and
//! `loads.<name>` blocks of summary.json, their SLOs
//! (`priority.<p>.<metric>`, `load.<name>.<metric>`) and the terminal's
//! per-priority table.

use std::path::Path;

use serde_json::Value;

use super::{assert_contains, read_summary, run, run_scenario, stderr, stdout, u, write_file};

/// One pool of 10 slots (exp 1 s service) at ρ = 0.95, fed by a low-priority
/// bulk stream (written first) and a critical one. The priority queue
/// serves critical work first, so critical jobs barely wait while bulk
/// jobs queue: the critical p99 is near the service time's (4.6 s) and
/// the global p99 is about 13 s.
const TWO_CLASSES: &str = r#"[scenario]
name = "two-classes"
seed = 7
duration = "1h"
warmup = "5m"
drain = "10m"
interval = "10m"

[org]
preset = "none"
hop_latency = "0s"
plan_time = "0s"
fallback_domain = "Q"

[[org.domain]]
id = "Q"
keywords = []

[[org.agent]]
id = "server"
domain = "Q"
keywords = []
slots = 10
service = { dist = "exp", mean = "1s" }

[[load]]
name = "bulk"
arrival = { process = "poisson", rate = "8.5/s" }
tasks = [{ text = "reindex", priority = "low" }]

[[load]]
name = "urgent"
arrival = { process = "poisson", rate = "1/s" }
tasks = [{ text = "page the on-call", priority = "critical" }]

[slo]
latency_p99 = "< 6s"
priority.critical.latency_p99 = "< 6s"
load.urgent.queue_wait_mean = "< 500ms"
load.bulk.completion = "> 99%"
"#;

/// Asserts that `block` of the summary in `out_dir` has exactly `expected`
/// keys in that order (read from the file: the parsed map is sorted).
fn assert_keys(out_dir: &Path, block: &str, expected: &[&str]) {
    let v = read_summary(out_dir);
    let mut got: Vec<&str> = v[block]
        .as_object()
        .unwrap_or_else(|| panic!("no `{block}` object"))
        .keys()
        .map(String::as_str)
        .collect();
    let mut want = expected.to_vec();
    got.sort_unstable();
    want.sort_unstable();
    assert_eq!(got, want, "{block}");
    let text = std::fs::read_to_string(out_dir.join("summary.json")).unwrap();
    let start = text.find(&format!("\n  \"{block}\": {{")).expect("block");
    let at: Vec<usize> = expected
        .iter()
        .map(|k| start + text[start..].find(&format!("\"{k}\": {{")).unwrap())
        .collect();
    assert!(
        at.windows(2).all(|w| w[0] < w[1]),
        "{block} order: {expected:?}"
    );
}

fn verdict<'a>(s: &'a Value, metric: &str) -> &'a Value {
    s["slo"]
        .as_array()
        .unwrap()
        .iter()
        .find(|v| v["metric"] == metric)
        .unwrap_or_else(|| panic!("no verdict for {metric}"))
}

fn f(v: &Value, path: &str) -> f64 {
    v.pointer(path)
        .and_then(Value::as_f64)
        .unwrap_or_else(|| panic!("no number at {path}"))
}

#[test]
fn the_critical_class_meets_its_target_while_the_global_one_fails() {
    let r = run_scenario(TWO_CLASSES, &[], 1);
    let s = r.summary();
    assert_keys(&r.out_dir(), "priorities", &["critical", "low"]);
    assert_keys(&r.out_dir(), "loads", &["bulk", "urgent"]);

    assert_eq!(verdict(&s, "latency_p99")["pass"], false);
    assert_eq!(verdict(&s, "priority.critical.latency_p99")["pass"], true);
    assert_eq!(verdict(&s, "load.urgent.queue_wait_mean")["pass"], true);
    assert_eq!(verdict(&s, "load.bulk.completion")["pass"], true);
    assert_eq!(
        f(&s, "/slo/1/measured"),
        f(&s, "/priorities/critical/latency_ns/p99"),
        "the verdict measures the class, not the run"
    );

    let crit = f(&s, "/priorities/critical/latency_ns/mean");
    let low = f(&s, "/priorities/low/latency_ns/mean");
    assert!(crit * 2.0 < low, "critical {crit} ns vs low {low} ns");
    let crit_wait = f(&s, "/priorities/critical/queue_wait_ns/mean");
    let low_wait = f(&s, "/priorities/low/queue_wait_ns/mean");
    assert!(crit_wait * 10.0 < low_wait, "{crit_wait} vs {low_wait}");
    // One load per priority here: the two views are the same jobs.
    assert_eq!(s["priorities"]["critical"], s["loads"]["urgent"]);
    assert_eq!(s["priorities"]["low"], s["loads"]["bulk"]);
    // About 1/s and 8.5/s over the 55-minute window.
    let rate = f(&s, "/loads/urgent/throughput_per_min");
    assert!((50.0..70.0).contains(&rate), "{rate}/min");

    let text = stdout(&r.out);
    assert_contains(
        &text,
        &[
            "priority    arrived   done %",
            "\ncritical ",
            "\nlow ",
            "priority.critical.latency_p99",
        ],
    );
}

/// Sums over classes equal the global figures exactly: every measured job
/// is in one priority and one load.
fn assert_classes_add_up(s: &Value) {
    for block in ["priorities", "loads"] {
        let classes = s[block].as_object().unwrap();
        let sum = |path: &str| -> u64 { classes.values().map(|c| u(c, path)).sum() };
        for field in [
            "arrived",
            "completed",
            "completed_with_warnings",
            "partial",
            "failed",
            "in_flight_at_end",
        ] {
            assert_eq!(
                sum(&format!("/{field}")),
                u(s, &format!("/jobs/{field}")),
                "{block} {field}"
            );
        }
        assert_eq!(
            sum("/latency_ns/count"),
            u(s, "/latency_ns/count"),
            "{block}"
        );
        assert_eq!(
            sum("/queue_wait_ns/count"),
            u(s, "/queue_wait_ns/count"),
            "{block}"
        );
        let max = classes
            .values()
            .map(|c| u(c, "/latency_ns/max"))
            .max()
            .unwrap();
        assert_eq!(max, u(s, "/latency_ns/max"), "{block}");
    }
}

#[test]
fn per_class_counts_sum_to_the_global_ones() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("baseline");
    run(
        &[
            "run",
            "scenarios/baseline.toml",
            "-q",
            "--out",
            out.to_str().unwrap(),
        ],
        0,
    );
    let s = read_summary(&out);
    // Baseline's tasks use all four priorities; each load mixes several.
    assert_keys(&out, "priorities", &["critical", "high", "normal", "low"]);
    assert_keys(&out, "loads", &["background", "product"]);
    assert_classes_add_up(&s);

    // Jobs still in flight at the end count in their class too.
    let r = run_scenario(
        &TWO_CLASSES.replace("drain = \"10m\"", "drain = \"0s\""),
        &[],
        1,
    );
    let s = r.summary();
    assert!(u(&s, "/jobs/in_flight_at_end") > 0, "the run ends busy");
    assert_classes_add_up(&s);
}

#[test]
fn only_the_priorities_in_use_and_one_class_needs_no_table() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("mmc");
    let o = run(
        &[
            "run",
            "scenarios/mmc.toml",
            "--set",
            "scenario.duration=20m",
            "--out",
            out.to_str().unwrap(),
        ],
        0,
    );
    let s = read_summary(&out);
    assert_keys(&out, "priorities", &["normal"]);
    assert_keys(&out, "loads", &["poisson"]);
    assert_eq!(s["priorities"]["normal"]["latency_ns"], s["latency_ns"]);
    assert_eq!(
        s["priorities"]["normal"]["queue_wait_ns"],
        s["queue_wait_ns"]
    );
    assert!(!stdout(&o).contains("priority "), "{}", stdout(&o));
}

/// `TWO_CLASSES` with its `[slo]` replaced by `slo`.
fn with_slo(slo: &str) -> String {
    let head = TWO_CLASSES.split("[slo]").next().unwrap();
    format!("{head}[slo]\n{slo}\n")
}

fn check_fails(text: &str, needles: &[&str]) {
    let dir = tempfile::tempdir().unwrap();
    let file = write_file(dir.path(), "s.toml", text);
    let o = run(&["check", &file], 2);
    assert_contains(&stderr(&o), needles);
}

#[test]
fn unknown_priorities_and_loads_are_located_with_a_suggestion() {
    check_fails(
        &with_slo("priority.critcal.latency_p99 = \"< 5s\""),
        &[
            "slo.priority.critcal",
            "s.toml:",
            "did you mean `critical`?",
        ],
    );
    check_fails(
        &with_slo("load.urgnt.latency_p99 = \"< 5s\""),
        &[
            "slo.load.urgnt.latency_p99",
            "s.toml:",
            "not a [[load]] of the scenario",
            "did you mean `urgent`?",
        ],
    );
    check_fails(
        &with_slo("[slo.priority.high]\nlatency_p99 = \"< 5s\""),
        &[
            "priority `high`, which no task of any [[load]] has",
            "priorities in use: `critical`, `low`",
        ],
    );
    check_fails(
        &with_slo("priority.critical.latncy_p99 = \"< 5s\""),
        &[
            "`latncy_p99` in [slo.priority.critical]",
            "s.toml:",
            "did you mean `latency_p99`?",
        ],
    );
    check_fails(
        &with_slo("priority = \"< 5s\""),
        &["slo.priority", "must be a table of priorities"],
    );
}

#[test]
fn whole_run_metrics_have_no_per_class_form() {
    for (key, why) in [
        (
            "priority.critical.lost_jobs = \"== 0\"",
            "no per-priority form",
        ),
        ("load.bulk.recovery_time = \"< 2m\"", "no per-load form"),
        ("load.urgent.utilization = \"< 80%\"", "no per-load form"),
    ] {
        check_fails(&with_slo(key), &[why, "at the top of [slo]", "s.toml:"]);
    }
    // `medium` is `normal`, as in a task's priority.
    check_fails(
        &with_slo("priority.medium.latency_p99 = \"< 5s\""),
        &["priority `normal`, which no task of any [[load]] has"],
    );
}

/// Each (priority, load) pair keeps its own histograms, so the number of
/// `[[load]]` streams is bounded.
#[test]
fn more_than_256_loads_are_rejected() {
    let mut text = crate::OnePool {
        name: "many-loads",
        seed: 1,
        duration: "1h",
        warmup: "0s",
        drain: "0s",
        interval: "1h",
        org_extra: "",
        slots: 1,
        service: "{ dist = \"exp\", mean = \"1s\" }",
        load: "first",
        process: "poisson",
        rate: "1/h",
    }
    .text();
    for i in 0..256 {
        text.push_str(&format!(
            "\n[[load]]\nname = \"extra{i}\"\narrival = {{ process = \"poisson\", rate = \"1/h\" }}\ntasks = [{{ text = \"job\" }}]\n"
        ));
    }
    let run = crate::run_scenario(&text, &["-q"], 2);
    crate::assert_contains(
        &crate::stderr(&run.out),
        &["load[256]", "257 [[load]] streams; at most 256"],
    );
}
