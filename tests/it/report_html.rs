//! `report.html` through the CLI: `run --html` and `esa-sim report DIR`
//! write the same bytes, twice the same; the page is self-contained (no
//! script, no URL but SVG's namespace), escapes SLO targets, has every
//! chart; a sweep directory gets the sweep page; a directory that is
//! neither, or garbled files, exit 2 naming the file and the fix.

use std::path::Path;

use serde_json::Value;

use crate::{assert_contains, data, run, stderr, write_file};

const SVG_NS: &str = "http://www.w3.org/2000/svg";

fn page(dir: &Path) -> String {
    std::fs::read_to_string(dir.join("report.html")).expect("report.html written")
}

fn report(dir: &Path, code: i32) -> std::process::Output {
    run(&["report", dir.to_str().unwrap()], code)
}

/// Self-contained: no script, no fetch, every URL is SVG's namespace.
fn assert_self_contained(html: &str) {
    assert!(html.starts_with("<!DOCTYPE html>"), "not an HTML page");
    assert!(
        !html.to_lowercase().contains("<script"),
        "page has a script"
    );
    let urls = html.matches("http://").count() + html.matches("https://").count();
    assert_eq!(
        urls,
        html.matches(SVG_NS).count(),
        "a URL other than {SVG_NS}"
    );
    assert!(!html.contains(" href=") && !html.contains(" src="));
}

fn charts(html: &str) -> usize {
    html.matches("<svg").count()
}

#[test]
fn run_html_is_the_report_of_the_directory_and_deterministic() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("out");
    let args = [
        "run",
        "scenarios/mmc.toml",
        "--set",
        "scenario.duration=20m",
        "--set",
        "scenario.interval=1m",
        "-q",
        "--html",
        "--out",
        out.to_str().unwrap(),
    ];
    run(&args, 0);
    let written = page(&out);
    report(&out, 0);
    assert_eq!(
        written,
        page(&out),
        "`report DIR` differs from `run --html`"
    );
    report(&out, 0);
    assert_eq!(written, page(&out), "`report DIR` twice differs");
    assert_self_contained(&written);
    // mmc.toml's targets: `< 1.25s`, `< 225ms`, `> 99.9%`, `== 0`
    assert_contains(
        &written,
        &[
            "<td>&lt; 1.25s</td>",
            "<td>&gt; 99.9%</td>",
            "PASS",
            "scenario mmc · seed 42",
        ],
    );
    assert!(!written.contains("< 1.25s"), "an unescaped target");
    // 6 time series + the percentile curve
    assert_eq!(charts(&written), 7);
    for title in [
        "Arrivals and completions",
        "Jobs in flight",
        "Queue depth per domain",
        "Utilisation per domain",
        "Latency of the jobs finishing in each interval",
        "Escalations and balancing actions",
        "Job latency by percentile",
    ] {
        assert!(written.contains(title), "no chart `{title}`");
    }
}

#[test]
fn run_page_shades_the_fault_window_and_marks_detections() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("wf");
    let args = [
        "run",
        "scenarios/worker-failure.toml",
        "--set",
        "scenario.duration=25m",
        "-q",
        "--out",
        out.to_str().unwrap(),
    ];
    run(&args, 0);
    assert!(!out.join("report.html").exists(), "written without --html");
    report(&out, 0);
    let html = page(&out);
    assert_self_contained(&html);
    assert_contains(
        &html,
        &["faults (permanent)", "L12, L20 silent", "L13 silent"],
    );
}

fn sweep_dir(edit: impl FnOnce(&mut Value)) -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    let text = std::fs::read_to_string(data("sweep/sweep.json")).unwrap();
    let mut sweep: Value = serde_json::from_str(&text).unwrap();
    edit(&mut sweep);
    write_file(dir.path(), "sweep.json", &sweep.to_string());
    dir
}

#[test]
fn sweep_page_has_every_chart_the_knee_and_the_verdicts() {
    let dir = sweep_dir(|_| {});
    report(dir.path(), 0);
    let html = page(dir.path());
    report(dir.path(), 0);
    assert_eq!(html, page(dir.path()), "`report DIR` twice differs");
    assert_self_contained(&html);
    assert_eq!(charts(&html), 5);
    assert_contains(
        &html,
        &[
            "Mean job latency",
            "p99 job latency",
            "Throughput against offered load",
            "throughput = offered",
            "Utilisation per domain",
            "Completion",
            "SLO latency_mean &lt; 1.25s",
            "last passing 8/s",
            "Kneedle knee 8/s",
            "<td class=\"fail\">",
            "<td class=\"pass\">pass</td>",
        ],
    );
}

#[test]
fn sweep_with_a_second_axis_draws_a_line_per_value() {
    let dir = sweep_dir(|s| {
        s["vary"].as_array_mut().unwrap().push(serde_json::json!({
            "key": "org.agent.server.slots", "values": ["10"], "numeric": [10.0], "unit": ""
        }));
        for p in s["points"].as_array_mut().unwrap() {
            p["values"]["org.agent.server.slots"] = "10".into();
        }
    });
    report(dir.path(), 0);
    let html = page(dir.path());
    assert_eq!(charts(&html), 5);
    assert!(
        html.contains("org.agent.server.slots=10"),
        "no line named by the other axis"
    );
}

#[test]
fn sweep_without_an_axis_is_the_table_only() {
    let dir = sweep_dir(|s| {
        s["vary"] = serde_json::json!([]);
        s["knee"] = serde_json::json!([]);
        let first = s["points"][0].clone();
        s["points"] = serde_json::json!([first]);
    });
    report(dir.path(), 0);
    let html = page(dir.path());
    assert_eq!(charts(&html), 0);
    assert!(html.contains("SLO verdicts per point"));
}

#[test]
fn a_directory_without_report_files_exits_2_with_the_fix() {
    let dir = tempfile::tempdir().unwrap();
    let err = stderr(&report(dir.path(), 2));
    assert_contains(
        &err,
        &[
            "has neither sweep.json nor summary.json",
            "--out directory of `esa-sim run` or `esa-sim sweep`",
        ],
    );
    let err = stderr(&report(&dir.path().join("missing"), 2));
    assert!(
        err.contains("has neither sweep.json nor summary.json"),
        "{err}"
    );
}

#[test]
fn garbled_files_exit_2_naming_the_file() {
    let dir = tempfile::tempdir().unwrap();
    write_file(dir.path(), "summary.json", "{\n  \"scenario\": ");
    let err = stderr(&report(dir.path(), 2));
    assert_contains(&err, &["summary.json:2:", "run `esa-sim run`"]);

    write_file(
        dir.path(),
        "summary.json",
        r#"{"scenario":{},"window_ns":{},"latency_ns":{},"slo":[]}"#,
    );
    let err = stderr(&report(dir.path(), 2));
    assert_contains(&err, &["timeseries.csv", "cannot read"]);

    write_file(
        dir.path(),
        "timeseries.csv",
        "start_ns,end_ns,arrivals,completed,in_flight\n0,1,x,0,0\n",
    );
    let err = stderr(&report(dir.path(), 2));
    assert_contains(
        &err,
        &["timeseries.csv", "line 2: `arrivals` is `x`, not a number"],
    );

    write_file(dir.path(), "sweep.json", "{\"points\": 3}");
    let err = stderr(&report(dir.path(), 2));
    assert_contains(&err, &["sweep.json:1:", "at `points`: invalid type"]);
    assert!(!dir.path().join("report.html").exists());
}

#[test]
fn a_csv_without_escalation_columns_gets_the_summary_totals() {
    let dir = tempfile::tempdir().unwrap();
    let summary = r#"{"scenario":{"name":"x<y","seed":1,"hash":"h"},"window_ns":{"start":0,"end":120000000000},
        "latency_ns":{"p50":1000000,"p99":5000000},"balancing":{"escalations":[3,2,1,0],
        "moved_within_division":4,"moved_across_divisions":5,"shed":0},
        "slo":[{"metric":"latency_p99","target":"< 10ms","measured":5000000.0,"unit":"ns","pass":true}]}"#;
    write_file(dir.path(), "summary.json", summary);
    let csv = "start_ns,end_ns,arrivals,completed,in_flight\n0,60000000000,10,9,1\n60000000000,120000000000,12,13,0\n";
    write_file(dir.path(), "timeseries.csv", csv);
    report(dir.path(), 0);
    let html = page(dir.path());
    assert_self_contained(&html);
    assert_contains(
        &html,
        &[
            "balancing over the run: escalations level 1: 3, level 2: 2, level 3: 1, level 4: 0",
            "esa-sim run · x&lt;y",
            "SLO latency_p99 &lt; 10ms",
        ],
    );
    // no balancing chart: 5 time series + the percentile curve
    assert_eq!(charts(&html), 6);
}
