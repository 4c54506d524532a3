//! Issue 8, metrics and SLO measurement: each test failed with the unfixed
//! binary (what it did is noted on the test) and pins the fix through the
//! CLI. Scenarios are tiny (a handful of events) so the file runs fast.

use crate::{
    assert_contains, read_summary, run, run_scenario, stderr, stdout, write_file, OnePool,
};
use serde_json::Value;

const DAY_NS: f64 = 86_400e9;

/// One pool `Q` of one agent under one arrival every `1/rate`; the
/// `[slo]` body is filled in (append `[[fault]]`s after it).
fn one_pool(
    name: &str,
    duration: &str,
    drain: &str,
    rate: &str,
    service: &str,
    slo: &str,
) -> String {
    let pool = OnePool {
        name,
        seed: 1,
        duration,
        warmup: "0s",
        drain,
        interval: "10d",
        org_extra: "visibility_timeout = \"100d\"\n",
        slots: 1,
        service,
        load: "one",
        process: "constant",
        rate,
    };
    format!("{}\n[slo]\n{slo}\n", pool.text())
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
fn run_text(scenario: &str, code: i32) -> (String, Value) {
    let r = run_scenario(scenario, &[], code);
    (stdout(&r.out), r.summary())
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
        "2/d",
        r#"{ dist = "const", value = "60d" }"#,
        r#"latency_max = "< 31d""#,
    );
    let (text, s) = run_text(&scenario, 1);
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

// ---- 2. recovery_time when nothing recovers ----------------------------------

/// Arrivals every minute, 30 s of work each, on one agent.
fn minute_jobs(name: &str, slo: &str) -> String {
    one_pool(
        name,
        "10m",
        "1m",
        "1/m",
        r#"{ dist = "const", value = "30s" }"#,
        slo,
    )
}

const CRASH_FOR_GOOD_AT_75S: &str = r#"
[[fault]]
at = "75s"
kind = "crash"
target = "server"
"#;

/// Unfixed: `recovery 0ns`, `recovery_time < 2m` PASS, exit 0, although
/// the pool's only agent crashed for good mid-job and nothing ran again.
#[test]
fn permanent_crash_of_a_pools_only_agent_never_recovers() {
    let scenario = minute_jobs("no-recovery", r#"recovery_time = "< 2m""#) + CRASH_FOR_GOOD_AT_75S;
    let (text, s) = run_text(&scenario, 1);
    assert_contains(
        &text,
        &[
            "recovery never",
            "not recovered at the end: 1 orphaned work items never re-dispatched",
            "after none (a fault never ends)",
        ],
    );
    let row = text
        .lines()
        .find(|l| l.starts_with("recovery_time"))
        .unwrap();
    assert!(row.contains("never") && row.ends_with("FAIL"), "{row}");
    assert_eq!(s["recovered"], false);
    assert!(s["recovery_time_ns"].is_null(), "{}", s["recovery_time_ns"]);
    let stranded = &s["faults"]["stranded_at_end"];
    assert_eq!(stranded["orphans_waiting"], 1, "{stranded}");
    assert!(stranded["queued_without_live_member"].as_u64().unwrap() >= 8);
    let v = verdict(&s, "recovery_time");
    assert!(v["measured"].is_null() && v["pass"] == false, "{v}");
}

/// Unfixed: `recovery_time > 1s` PASSED with the measured 0 ns: no
/// operator may turn "never recovered" into a pass.
#[test]
fn a_run_that_never_recovers_fails_every_recovery_time_slo() {
    let scenario =
        minute_jobs("no-recovery-gt", r#"recovery_time = ">= 0s""#) + CRASH_FOR_GOOD_AT_75S;
    let (_, s) = run_text(&scenario, 1);
    assert_eq!(verdict(&s, "recovery_time")["pass"], false);
}

/// Unfixed: recovery 0 ns and PASS while the crashed agent (never
/// noticed: heartbeat TTL 1 d) still held its job at the end.
#[test]
fn work_held_by_an_unnoticed_crashed_agent_is_not_recovered() {
    let scenario = minute_jobs("unnoticed", r#"recovery_time = "< 2m""#).replace(
        "visibility_timeout = \"100d\"",
        "visibility_timeout = \"100d\"\nheartbeat_ttl = \"1d\"",
    ) + CRASH_FOR_GOOD_AT_75S;
    let (text, s) = run_text(&scenario, 1);
    assert_contains(&text, &["recovery never", "1 held by a down agent"]);
    assert_eq!(s["faults"]["stranded_at_end"]["held_by_down_agents"], 1);
    assert_eq!(s["recovered"], false);
}

/// Unfixed: recovery 0 ns and PASS while every job after the crash sat in
/// the queue of a pool with no live member (the agent was idle when it
/// crashed, so nothing was orphaned).
#[test]
fn work_queued_on_a_pool_with_no_live_member_is_not_recovered() {
    let scenario = minute_jobs("dead-pool", r#"recovery_time = "< 2m""#)
        + &CRASH_FOR_GOOD_AT_75S.replace("75s", "100s");
    let (text, s) = run_text(&scenario, 1);
    assert_contains(&text, &["recovery never", "0 orphaned work items"]);
    let stranded = &s["faults"]["stranded_at_end"];
    assert_eq!(stranded["orphans_waiting"], 0, "{stranded}");
    assert!(stranded["queued_without_live_member"].as_u64().unwrap() >= 8);
    assert_eq!(s["recovered"], false);
}

/// Unfixed: recovery 0 ns and PASS while every push after a permanent
/// queue outage began was refused (the unfixed core re-sent them forever;
/// the fixed core parks them) and no job finished again.
#[test]
fn work_parked_by_a_permanent_queue_outage_is_not_recovered() {
    let outage = "\n[[fault]]\nat = \"90s\"\nkind = \"queue-outage\"\ntarget = \"Q\"\n";
    let scenario = minute_jobs("outage", r#"recovery_time = "< 2m""#) + outage;
    let (text, s) = run_text(&scenario, 1);
    assert_contains(&text, &["recovery never", "parked by a queue outage"]);
    let parked = &s["faults"]["stranded_at_end"]["parked_by_outage"];
    assert!(parked.as_u64().unwrap() >= 8, "{parked}");
    assert_eq!(s["recovered"], false);
}

/// A crash with a restart recovers: the recovery time is measured as
/// before (not null), and a run without faults reports 0 and recovered.
#[test]
fn recovered_runs_keep_their_recovery_time() {
    let restart = CRASH_FOR_GOOD_AT_75S.to_string() + "duration = \"2m\"\n";
    let scenario = minute_jobs("restart", r#"recovery_time = "<= 2m""#) + &restart;
    let (text, s) = run_text(&scenario, 0);
    assert_eq!(s["recovered"], true);
    // The orphan runs again when the agent restarts, 2 m after the crash.
    assert_eq!(s["recovery_time_ns"], 120_000_000_000u64);
    assert!(!text.contains("recovery never"), "{text}");

    let (_, s) = run_text(&minute_jobs("no-faults", r#"recovery_time = "< 1s""#), 0);
    assert_eq!(
        (&s["recovery_time_ns"], &s["recovered"]),
        (&Value::from(0), &Value::from(true))
    );
}

// ---- 3. permanent fault windows ------------------------------------------------

/// Unfixed: worker-failure.toml (L12 crashes for good) reported
/// `window_ns.end: 18446744073709551615` and `throughput_after_per_min:
/// 0.0`. Its recovery numbers must not move.
#[test]
fn worker_failure_permanent_window_has_no_end_and_no_after_throughput() {
    let dir = tempfile::tempdir().unwrap();
    let out = run(
        &[
            "run",
            "scenarios/worker-failure.toml",
            "--out",
            dir.path().to_str().unwrap(),
        ],
        0,
    );
    let text = stdout(&out);
    assert_contains(
        &text,
        &["recovery 30.537s", "after none (a fault never ends)"],
    );
    let s = read_summary(dir.path());
    let f = &s["faults"];
    assert_eq!(f["window_ns"]["start"], 1_200_000_000_000u64);
    assert!(f["window_ns"]["end"].is_null(), "{}", f["window_ns"]);
    assert!(f["throughput_after_per_min"].is_null(), "{f}");
    assert!(f["throughput_during_per_min"].as_f64().unwrap() > 700.0);
    assert_eq!(s["recovery_time_ns"], 30_537_045_911u64);
    assert_eq!(s["recovered"], true);
    assert_eq!(verdict(&s, "recovery_time")["pass"], true);
}

/// Unfixed: a fault window that outlasts the load reported an
/// after-throughput of 0.0/min over an empty period.
#[test]
fn fault_window_ending_after_the_load_has_no_after_throughput() {
    let late = CRASH_FOR_GOOD_AT_75S.replace("75s", "9m") + "duration = \"5m\"\n";
    let (text, s) = run_text(&(minute_jobs("late-end", "") + &late), 0);
    assert_contains(&text, &["after none (the faults end after the load)"]);
    assert_eq!(s["faults"]["window_ns"]["end"], 840_000_000_000u64);
    assert!(s["faults"]["throughput_after_per_min"].is_null());
}

// ---- 4. SLO scopes that make no sense ------------------------------------------

/// Unfixed: `check` said ok and `run` silently measured the global value
/// for `domain.Q.lost_jobs` and `domain.Q.recovery_time`.
#[test]
fn domain_scoped_lost_jobs_and_recovery_time_are_rejected_where_written() {
    let cases = [
        (
            "[slo.domain.Q]\nlost_jobs = \"== 0\"",
            "slo.domain.Q.lost_jobs",
            "write `lost_jobs = \"== 0\"` at the top of [slo]",
        ),
        (
            "domain.Q.recovery_time = \"< 2m\"",
            "slo.domain.Q.recovery_time",
            "write `recovery_time = \"< 2m\"` at the top of [slo]",
        ),
    ];
    for (slo, key, fix) in cases {
        let dir = tempfile::tempdir().unwrap();
        let scenario = minute_jobs("scoped", &format!("completion = \"> 50%\"\n{slo}"));
        let line = scenario.lines().count() as usize;
        let path = write_file(dir.path(), "s.toml", &scenario);
        for args in [vec!["check", &path], vec!["run", &path, "-q"]] {
            let err = stderr(&run(&args, 2));
            assert_contains(
                &err,
                &[
                    key,
                    &format!("s.toml:{line}:"),
                    "has no per-domain form",
                    fix,
                ],
            );
        }
    }
}

// ---- 5. SLO error messages ------------------------------------------------------

/// Unfixed: `"> 101%" needs a percentage like "> 101%"` — the bad value
/// was the example, and nothing said what was wrong with it.
#[test]
fn slo_errors_say_what_is_wrong_and_never_echo_the_bad_value() {
    let cases = [
        ("slo.completion=> 101%", "`101%` is above 100%", "\"> 99%\""),
        ("slo.utilization=< 1.5", "`1.5` is above 1", "\"< 1.5%\""),
        ("slo.lost_jobs=== -1", "`-1` is negative", "\"== 0\""),
        ("slo.latency_mean=< -5s", "`-5s` is negative", "\"< 5s\""),
        (
            "slo.throughput=> -5/min",
            "`-5/min` is negative",
            "\"> 1000/min\"",
        ),
    ];
    for (set, why, example) in cases {
        let err = stderr(&run(&["check", "scenarios/mmc.toml", "--set", set], 2));
        let target = set.split_once('=').unwrap().1;
        assert_contains(
            &err,
            &[&format!("--set {set}"), "out of range", why, example],
        );
        assert!(
            !err.contains(&format!("like \"{target}\"")),
            "echoes `{target}` as the example:\n{err}"
        );
    }
}

/// A latency target used to pass on no evidence: with no job finished the
/// histogram reports 0, so `latency_max < 1s` passed. Now a latency or
/// queue-wait SLO with nothing measured fails, and says "no data".
#[test]
fn latency_slos_fail_when_no_job_finished() {
    let dir = tempfile::tempdir().unwrap();
    let path = crate::write_file(
        dir.path(),
        "stuck.toml",
        r#"[scenario]
name = "stuck"
duration = "1m"
drain = "0s"
[org]
preset = "none"
fallback_domain = "Q"
hop_latency = "0s"
plan_time = "0s"
[[org.domain]]
id = "Q"
[[org.agent]]
id = "server"
domain = "Q"
slots = 1
service = { dist = "const", value = "1h" }
[[load]]
arrival = { process = "constant", rate = "1/s" }
tasks = [{ text = "job" }]
[slo]
latency_max = "< 1s"
domain.Q.latency_mean = "< 1s"
lost_jobs = "== 0"
"#,
    );
    let out_dir = dir.path().join("out");
    let out = crate::run(&["run", &path, "--out", out_dir.to_str().unwrap()], 1);
    let text = crate::stdout(&out);
    crate::assert_contains(&text, &["no data", "FAIL"]);
    let summary: serde_json::Value =
        serde_json::from_slice(&std::fs::read(out_dir.join("summary.json")).unwrap()).unwrap();
    let slo = summary["slo"].as_array().unwrap();
    assert_eq!(slo[0]["metric"], "latency_max");
    assert!(slo[0]["measured"].is_null(), "{}", slo[0]);
    assert_eq!(slo[0]["pass"], false);
    assert_eq!(slo[1]["pass"], false);
    assert_eq!(slo[2]["pass"], true);
}
