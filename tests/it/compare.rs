//! `esa-sim compare` and `run --baseline` through the CLI: identical runs,
//! a slower org flagged with its figures, tolerances (wide ones, globs,
//! the scenario's `[compare]` table, failed jobs appearing), markdown and
//! Bencher Metric Format output, sweeps judged by their intervals, the
//! committed baselines, and inputs that cannot be compared.

use std::path::{Path, PathBuf};

use serde_json::Value;
use tempfile::TempDir;

use crate::{assert_contains, run, stderr, stdout, write_file};

/// The slowdown the tests use: L12 (D3's data-processing layer, 8 slots)
/// serves in 1.2 s instead of its preset mean. (`org.defaults.service`
/// does not reach the preset's agents, which carry their own.)
const SLOWER: &str = "org.agent.L12.service.mean=1.2s";

/// `esa-sim run scenarios/baseline.toml -q --out <tmp>/<name> --set ...`.
fn baseline_run(tmp: &TempDir, name: &str, sets: &[&str], code: i32) -> PathBuf {
    let dir = tmp.path().join(name);
    let mut args = vec!["run", "scenarios/baseline.toml", "-q", "--out"];
    args.push(dir.to_str().unwrap());
    for s in sets {
        args.extend(["--set", s]);
    }
    run(&args, code);
    dir
}

fn compare(a: &Path, b: &Path, extra: &[&str], code: i32) -> std::process::Output {
    let mut args = vec!["compare", a.to_str().unwrap(), b.to_str().unwrap()];
    args.extend_from_slice(extra);
    run(&args, code)
}

/// The text table's row for `metric`, split on whitespace.
fn row(out: &str, metric: &str) -> Option<Vec<String>> {
    out.lines()
        .find(|l| l.split_whitespace().next() == Some(metric))
        .map(|l| l.split_whitespace().map(String::from).collect())
}

#[test]
fn two_runs_of_baseline_print_no_change() {
    let tmp = TempDir::new().unwrap();
    let a = baseline_run(&tmp, "a", &[], 0);
    let b = baseline_run(&tmp, "b", &[], 0);
    let out = stdout(&compare(&a, &b, &[], 0));
    assert_contains(&out, &["no change: all"]);
    assert!(!out.contains("note:"), "{out}");
}

#[test]
fn a_slower_org_is_a_regression_naming_its_figures() {
    let tmp = TempDir::new().unwrap();
    let a = baseline_run(&tmp, "a", &[], 0);
    let b = baseline_run(&tmp, "b", &[SLOWER], 0);
    let out = stdout(&compare(&a, &b, &[], 4));
    // metric, baseline, current, change, verdict
    let mean = row(&out, "latency_mean").expect("latency_mean row");
    assert_eq!(mean[1], "1.350s", "{out}");
    assert!(mean[3].starts_with('+') && mean[3].ends_with('%'), "{out}");
    assert_eq!(mean[4], "REGRESSION", "{out}");
    for worse in ["latency_p50", "queue_wait_mean", "domain.D3.latency_mean"] {
        assert_eq!(row(&out, worse).expect(worse)[4], "REGRESSION", "{out}");
    }
    assert_contains(
        &out,
        &["--set overrides differ: none → org.agent.L12.service.mean=1.2s"],
    );
    assert_contains(&out, &["→ exit 4"]);
    // A tolerance wide enough turns the 4 into a 0; the rows stay listed.
    let out = stdout(&compare(&a, &b, &["--tolerance", "*=200%"], 0));
    assert_eq!(row(&out, "latency_mean").unwrap()[4], "changed", "{out}");
    assert_contains(&out, &["0 regressions"]);
    // A narrower glob or a name leaves the rest at the default 2 %.
    let out = stdout(&compare(&a, &b, &["--tolerance", "latency_*=50%"], 4));
    assert_eq!(row(&out, "latency_mean").unwrap()[4], "changed", "{out}");
    assert_eq!(row(&out, "queue_wait_mean").unwrap()[4], "REGRESSION");
    assert_eq!(
        row(&out, "domain.D3.latency_mean").unwrap()[4],
        "REGRESSION"
    );
    let out = stdout(&compare(
        &a,
        &b,
        &["--tolerance", "domain.*.latency_mean=50%"],
        4,
    ));
    assert_eq!(row(&out, "domain.D3.latency_mean").unwrap()[4], "changed");
}

#[test]
fn failed_jobs_appearing_regress_at_any_tolerance_unless_named() {
    let tmp = TempDir::new().unwrap();
    let a = baseline_run(&tmp, "a", &[], 0);
    let b = baseline_run(&tmp, "b", &["org.agent.L12.error_rate=40%"], 1);
    let wide = ["--tolerance", "*=100000%"];
    let out = stdout(&compare(&a, &b, &wide, 4));
    let failed = row(&out, "failed_jobs").expect("failed_jobs row");
    assert_eq!(
        failed[1..],
        ["0", "683", "from", "0", "REGRESSION"],
        "{out}"
    );
    assert_eq!(row(&out, "latency_mean").unwrap()[4], "changed", "{out}");
    // Named explicitly (with a tolerance above 0), the appearance is accepted.
    let named = [
        "--tolerance=*=100000%",
        "--tolerance=failed_jobs=1%",
        "--tolerance=*.*.failed_jobs=1%",
        "--tolerance=partial_jobs=1%",
        "--tolerance=*.*.partial_jobs=1%",
    ];
    let out = stdout(&compare(&a, &b, &named, 0));
    assert_eq!(row(&out, "failed_jobs").unwrap()[5], "changed", "{out}");
    // 0 % named explicitly is still no failed job allowed.
    let zero = ["--tolerance=*=100000%", "--tolerance=failed_jobs=0%"];
    compare(&a, &b, &zero, 4);
}

#[test]
fn markdown_is_a_github_table() {
    let tmp = TempDir::new().unwrap();
    let a = baseline_run(&tmp, "a", &[], 0);
    let b = baseline_run(&tmp, "b", &[SLOWER], 0);
    let out = stdout(&compare(&a, &b, &["--format", "markdown"], 4));
    let table: Vec<&str> = out.lines().filter(|l| l.starts_with('|')).collect();
    assert!(table.len() > 3, "{out}");
    assert_eq!(
        table[0],
        "| metric | baseline | current | change | verdict |"
    );
    assert_eq!(table[1], "|---|---:|---:|---:|---|");
    for line in &table {
        assert!(line.ends_with(" |") || line.ends_with('|'), "{line}");
        let cells = line.replace("\\|", "").matches('|').count();
        assert_eq!(cells, 6, "every row has five cells: {line}");
    }
    // The table is a block: a blank line before it, none inside.
    let start = out.find("| metric").unwrap();
    assert!(out[..start].ends_with("\n\n"), "{out}");
    assert!(table
        .iter()
        .any(|l| l.starts_with("| `latency_mean` | 1.350s |") && l.contains("**REGRESSION**")));
    assert_contains(&out, &["**"]);
}

#[test]
fn bmf_is_bencher_metric_format() {
    let tmp = TempDir::new().unwrap();
    let a = baseline_run(&tmp, "a", &[], 0);
    let b = baseline_run(&tmp, "b", &[SLOWER], 0);
    let out = stdout(&compare(&a, &b, &["--format", "bmf"], 4));
    let doc: Value = serde_json::from_str(&out).expect("bmf is JSON");
    let benchmarks = doc.as_object().expect("an object of benchmarks");
    assert_eq!(benchmarks.keys().collect::<Vec<_>>(), ["baseline"]);
    for measures in benchmarks.values() {
        for (name, m) in measures.as_object().expect("an object of measures") {
            let m = m.as_object().expect("a measure object");
            assert!(m["value"].is_number(), "{name}: {m:?}");
            assert!(
                m.keys()
                    .all(|k| ["value", "lower_value", "upper_value"].contains(&k.as_str())),
                "{name}: {m:?}"
            );
        }
    }
    let current = crate::read_summary(&b);
    assert_eq!(
        doc["baseline"]["latency_mean"]["value"],
        current["latency_ns"]["mean"]
    );
    // json: the rows with their verdicts, and the exit code.
    let out = stdout(&compare(&a, &b, &["--format", "json"], 4));
    let doc: Value = serde_json::from_str(&out).expect("json");
    assert_eq!(doc["exit"], 4);
    let mean = doc["rows"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["metric"] == "latency_mean")
        .unwrap();
    assert_eq!(mean["verdict"], "regression");
    assert_eq!(mean["direction"], "lower_is_better");
}

#[test]
fn run_with_baseline_compares_in_the_same_command() {
    let tmp = TempDir::new().unwrap();
    let out = tmp.path().join("run");
    let o = out.to_str().unwrap();
    let same = run(
        &[
            "run",
            "scenarios/baseline.toml",
            "--out",
            o,
            "--baseline",
            "baselines/baseline",
        ],
        0,
    );
    let text = stdout(&same);
    let (summary, table) = text.split_at(text.find("compare scenario").expect("a table"));
    assert_contains(summary, &["SLO"]);
    assert_contains(table, &["no change"]);
    let slower = ["run", "scenarios/baseline.toml", "-q", "--out", o];
    let mut args = slower.to_vec();
    args.extend(["--baseline", "baselines/baseline", "--set", SLOWER]);
    let text = stdout(&run(&args, 4));
    assert_eq!(
        row(&text, "latency_mean").unwrap()[4],
        "REGRESSION",
        "{text}"
    );
    // A scenario that breaches its SLOs on purpose keeps its exit 1.
    let args = [
        "run",
        "scenarios/overload.toml",
        "-q",
        "--out",
        o,
        "--baseline",
        "baselines/overload",
    ];
    assert!(
        stdout(&run(&args, 1)).is_empty(),
        "-q and no change print nothing"
    );
    // A wrong --baseline fails before the run.
    let e = stderr(&run(
        &["run", "scenarios/mmc.toml", "--baseline", "/nonexistent"],
        2,
    ));
    assert_contains(&e, &["--baseline: /nonexistent does not exist"]);
}

#[test]
fn scenario_compare_table_sets_tolerances() {
    let tmp = TempDir::new().unwrap();
    let a = baseline_run(&tmp, "a", &[], 0);
    let b = baseline_run(&tmp, "b", &[SLOWER], 0);
    let base = std::fs::read_to_string("scenarios/baseline.toml").unwrap();
    let wide = format!("{base}\n[compare]\ntolerance = {{ \"*\" = \"200%\" }}\n");
    let path = write_file(tmp.path(), "wide.toml", &wide);
    compare(&a, &b, &["--scenario", &path], 0);
    // The command line wins over the scenario.
    compare(
        &a,
        &b,
        &["--scenario", &path, "--tolerance", "latency_mean=1%"],
        4,
    );
    // Dotted keys nest and are read back as the pattern.
    let dotted =
        format!("{base}\n[compare.tolerance]\n\"*\" = \"200%\"\ndomain.D3.latency_mean = \"1%\"\n");
    let path = write_file(tmp.path(), "dotted.toml", &dotted);
    let out = stdout(&compare(&a, &b, &["--scenario", &path], 4));
    assert_eq!(
        row(&out, "domain.D3.latency_mean").unwrap()[4],
        "REGRESSION"
    );
    // Validation: a typo, a missing % and an unknown key are errors.
    for (table, why) in [
        (
            "tolerance = { latncy_mean = \"5%\" }",
            "did you mean `latency_mean`",
        ),
        ("tolerance = { latency_mean = \"5\" }", "with a % sign"),
        (
            "tolerance = { latency_mean = 5 }",
            "must be a percentage string",
        ),
        ("tolerances = {}", "tolerances"),
    ] {
        let text = format!("{base}\n[compare]\n{table}\n");
        let path = write_file(tmp.path(), "bad.toml", &text);
        let e = stderr(&run(&["check", &path], 2));
        assert_contains(&e, &[why]);
        assert_contains(&e, &["compare"]);
    }
}

#[test]
fn sweeps_regress_only_when_the_whole_interval_is_beyond() {
    let tmp = TempDir::new().unwrap();
    let sweep = |name: &str, sets: &[&str]| {
        let dir = tmp.path().join(name);
        let mut args = vec![
            "sweep",
            "scenarios/mmc.toml",
            "--vary",
            "load.0.arrival.rate=4/s,6/s",
            "--replications",
            "3",
            "--set",
            "scenario.duration=30m",
            "-q",
            "--out",
            dir.to_str().unwrap(),
        ];
        for s in sets {
            args.extend(["--set", s]);
        }
        run(&args, 0);
        dir
    };
    let a = sweep("a", &[]);
    let b = sweep("b", &["org.agent.server.service.mean=1.1s"]);
    compare(&a, &a, &[], 0);
    let out = stdout(&compare(&a, &b, &[], 4));
    let line = |m: &str| {
        out.lines()
            .find(|l| l.starts_with(&format!("mmc [load.0.arrival.rate=4/s] · {m} ")))
            .unwrap_or_else(|| panic!("no {m} row:\n{out}"))
            .to_string()
    };
    // The interval is printed; the mean is 10 % worse and its whole
    // interval beyond 2 %, while p99's interval straddles it.
    assert!(line("latency_mean").ends_with("REGRESSION"), "{out}");
    assert_contains(&line("latency_mean"), &[" – "]);
    assert!(line("latency_p99").ends_with("changed"), "{out}");
    let bmf: Value =
        serde_json::from_str(&stdout(&compare(&a, &b, &["--format", "bmf"], 4))).unwrap();
    let m = &bmf["mmc [load.0.arrival.rate=6/s]"]["latency_mean"];
    assert!(m["lower_value"].as_f64().unwrap() < m["value"].as_f64().unwrap());
    assert!(m["upper_value"].as_f64().unwrap() > m["value"].as_f64().unwrap());
}

#[test]
fn inputs_that_cannot_be_compared_exit_2_with_the_reason() {
    let tmp = TempDir::new().unwrap();
    let p = |name: &str| tmp.path().join(name);
    let s = |path: &Path| path.to_str().unwrap().to_string();
    std::fs::create_dir_all(p("empty")).unwrap();
    std::fs::create_dir_all(p("garbled")).unwrap();
    std::fs::write(p("garbled/summary.json"), "{\"esa_sim_version\": ").unwrap();
    std::fs::create_dir_all(p("wrong")).unwrap();
    std::fs::write(p("wrong/summary.json"), "[1, 2]").unwrap();
    std::fs::write(p("bench.json"), "{}").unwrap();
    let base = "baselines/baseline".to_string();
    let cases = [
        ("baselines/mmc".to_string(), "is scenario `mmc`"),
        (s(&p("missing")), "does not exist"),
        (s(&p("empty")), "has neither summary.json nor sweep.json"),
        (
            s(&p("garbled")),
            "is not a summary.json this esa-sim can read",
        ),
        (
            s(&p("wrong")),
            "is not a summary.json this esa-sim can read",
        ),
        (s(&p("bench.json")), "not an esa-sim bench file"),
        (
            "tests/data/sweep".to_string(),
            "pass two run directories, two sweep directories or two bench files",
        ),
    ];
    for (current, why) in cases {
        let e = stderr(&run(&["compare", &base, &current], 2));
        assert_contains(&e, &[why]);
    }
    for bad in ["latency_mean", "latency_mean=5", "latncy_mean=5%"] {
        run(&["compare", &base, &base, "--tolerance", bad], 2);
    }
}

/// Two bench files go through the same formats: the verdicts are the
/// bench module's (three samples can never be significant at 1 %).
#[test]
fn bench_files_compare_through_the_same_formats() {
    let tmp = TempDir::new().unwrap();
    let bench = |name: &str| {
        let file = tmp.path().join(name);
        let f = file.to_str().unwrap();
        let args = [
            "bench",
            "scenarios/mmc.toml",
            "--set",
            "scenario.duration=20m",
        ];
        let mut args = args.to_vec();
        args.extend(["--repeat", "3", "-q", "--out", f]);
        run(&args, 0);
        file
    };
    let (a, b) = (bench("a.json"), bench("b.json"));
    let out = stdout(&compare(&a, &b, &[], 0));
    assert_contains(&out, &["events_per_s", "wall_s", "no significant change"]);
    let md = stdout(&compare(&a, &b, &["--format", "markdown"], 0));
    assert_contains(&md, &["| `wall_s` |"]);
    let bmf: Value =
        serde_json::from_str(&stdout(&compare(&a, &b, &["--format", "bmf"], 0))).unwrap();
    assert!(bmf["mmc"]["events_per_s"]["value"].as_f64().unwrap() > 0.0);
    compare(&a, &b, &["--tolerance", "wall_s=10%"], 0);
    let e = stderr(&compare(&a, Path::new("baselines/mmc"), &[], 2));
    assert_contains(&e, &["(a bench file) with baselines/mmc"]);
}

/// Every built-in scenario has a committed baseline that reads back.
#[test]
fn every_scenario_has_a_baseline() {
    for entry in std::fs::read_dir("scenarios").unwrap() {
        let path = entry.unwrap().path();
        if path.extension().and_then(|e| e.to_str()) != Some("toml") {
            continue;
        }
        let name = path.file_stem().unwrap().to_str().unwrap();
        let dir = format!("baselines/{name}");
        assert!(
            Path::new(&dir).join("summary.json").is_file(),
            "{dir}/summary.json is missing: run .ci/refresh-baselines {name}"
        );
        let out = stdout(&run(&["compare", &dir, &dir], 0));
        assert_contains(&out, &["no change"]);
    }
}
