//! `esa-sim explore`: many seeds, swarm faults, liveness with a replay
//! command, byte-identical explore.json for any `--jobs`.

use std::path::Path;

use super::{assert_contains, run_in, stdout, write_file, OnePool};

/// Four slots at 2/s of 1 s service (utilisation 0.5): nothing queues for
/// long, so every job has a result well within the drain unless a fault
/// keeps it from one.
fn queue(seed: u64) -> String {
    OnePool {
        name: "explore",
        seed,
        duration: "10m",
        warmup: "1m",
        drain: "5m",
        interval: "1m",
        org_extra: "heartbeat_interval = \"5s\"\nheartbeat_ttl = \"15s\"\n",
        slots: 4,
        service: r#"{ dist = "exp", mean = "1s" }"#,
        load: "poisson",
        process: "poisson",
        rate: "2/s",
    }
    .text()
}

fn json(path: &Path) -> serde_json::Value {
    serde_json::from_slice(&std::fs::read(path).expect("written")).expect("JSON")
}

#[test]
fn a_crash_healing_one_second_before_the_end_leaves_jobs_stuck_and_liveness_fails() {
    let dir = tempfile::tempdir().unwrap();
    // Down from 2m until 1 s before the end of the drain (15m): the
    // backlog of 13 minutes cannot drain in one second.
    let text = queue(5)
        + r#"
[[fault]]
at = "2m"
kind = "crash"
target = "server"
duration = "779s"
"#;
    let file = write_file(dir.path(), "stuck.toml", &text);
    let out = dir.path().join("out");
    let o = run_in(
        dir.path(),
        &[
            "explore",
            &file,
            "--seeds",
            "3",
            "--out",
            out.to_str().unwrap(),
        ],
        1,
    );
    let text = stdout(&o);
    assert_contains(
        &text,
        &[
            "liveness failed (exit 1)",
            "without a result 1s after load stopped and the last fault healed",
            "replay: esa-sim explore",
        ],
    );
    let report = json(&out.join("explore.json"));
    assert_eq!(report["tally"]["liveness"], 3, "{report:#}");
    let failure = &report["failures"][0];
    assert_eq!(failure["kind"], "liveness");
    // The replay command names a scenario file that fails the same way.
    let replay = failure["replay"].as_str().unwrap();
    let args: Vec<&str> = replay.split_whitespace().skip(1).collect();
    let again = run_in(dir.path(), &args, 1);
    assert_contains(&stdout(&again), &[failure["messages"][0].as_str().unwrap()]);
}

#[test]
fn a_permanent_crash_excuses_the_jobs_it_holds() {
    let dir = tempfile::tempdir().unwrap();
    let text = queue(6) + "\n[[fault]]\nat = \"5m\"\nkind = \"crash\"\ntarget = \"server\"\n";
    let file = write_file(dir.path(), "gone.toml", &text);
    let out = dir.path().join("out");
    run_in(
        dir.path(),
        &[
            "explore",
            &file,
            "--seeds",
            "2",
            "--out",
            out.to_str().unwrap(),
        ],
        0,
    );
    let report = json(&out.join("explore.json"));
    assert_eq!(report["tally"]["ok"], 2);
    assert!(
        report["tally"]["jobs_excused"].as_u64().unwrap() > 500,
        "{report:#}"
    );
}

#[test]
fn swarm_exploration_is_identical_for_any_thread_count_and_finds_no_failure() {
    let dir = tempfile::tempdir().unwrap();
    let file = write_file(dir.path(), "q.toml", &queue(7));
    let explore = |jobs: &str| {
        let out = dir.path().join(format!("out-{jobs}"));
        let args = [
            "explore",
            &file,
            "--seeds",
            "24",
            "--faults",
            "swarm",
            "--jobs",
            jobs,
            "-q",
            "--out",
            out.to_str().unwrap(),
        ];
        run_in(dir.path(), &args, 0);
        std::fs::read(out.join("explore.json")).unwrap()
    };
    let one = explore("1");
    assert_eq!(
        one,
        explore("2"),
        "explore.json differs between --jobs 1 and 2"
    );
    let report: serde_json::Value = serde_json::from_slice(&one).unwrap();
    assert_eq!(report["tally"]["seeds"], 24);
    assert!(
        report["tally"]["faults"].as_u64().unwrap() >= 24,
        "{report:#}"
    );
    assert_eq!(report["faults"], "swarm");
}

#[test]
fn bad_explore_arguments_exit_2() {
    let dir = tempfile::tempdir().unwrap();
    let file = write_file(dir.path(), "q.toml", &queue(1));
    for args in [
        vec!["explore", file.as_str(), "--seeds", "0"],
        vec!["explore", file.as_str(), "--faults", "chaos"],
        vec!["explore", "missing.toml"],
    ] {
        run_in(dir.path(), &args, 2);
    }
}
