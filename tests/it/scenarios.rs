//! Every built-in scenario states its expected exit code in its header
//! ("Expected exit code: N"); running it must give exactly that code, and
//! nothing may be lost.

use std::path::Path;

use assert_cmd::Command;

fn expected_exit(path: &Path) -> i32 {
    let text = std::fs::read_to_string(path).unwrap();
    let line = text
        .lines()
        .find_map(|l| l.split("Expected exit code:").nth(1))
        .unwrap_or_else(|| panic!("{} has no `Expected exit code:` line", path.display()));
    line.trim()
        .trim_end_matches(|c: char| !c.is_ascii_digit())
        .split(|c: char| !c.is_ascii_digit())
        .next()
        .unwrap()
        .parse()
        .unwrap()
}

#[test]
fn built_in_scenarios_exit_as_their_headers_say() {
    let mut seen = 0;
    for entry in std::fs::read_dir("scenarios").unwrap() {
        let path = entry.unwrap().path();
        if path.extension().is_none_or(|e| e != "toml") {
            continue;
        }
        let out_dir = tempfile::tempdir().unwrap();
        let output = Command::cargo_bin("esa-sim")
            .unwrap()
            .args(["run", path.to_str().unwrap(), "-q", "--out"])
            .arg(out_dir.path())
            .output()
            .unwrap();
        let code = output.status.code().unwrap();
        assert_eq!(
            code,
            expected_exit(&path),
            "{}: stderr {}",
            path.display(),
            String::from_utf8_lossy(&output.stderr)
        );
        let summary: serde_json::Value =
            serde_json::from_slice(&std::fs::read(out_dir.path().join("summary.json")).unwrap())
                .unwrap();
        assert_eq!(summary["jobs"]["lost"], 0, "{}", path.display());
        seen += 1;
    }
    assert!(seen >= 4, "only {seen} scenarios found");
}

/// Mean latency of `overload.toml` with the extra `--set` arguments.
fn overload_latency_mean(sets: &[&str]) -> (f64, serde_json::Value) {
    let out_dir = tempfile::tempdir().unwrap();
    let mut cmd = Command::cargo_bin("esa-sim").unwrap();
    cmd.args(["run", "scenarios/overload.toml", "-q", "--out"])
        .arg(out_dir.path());
    for s in sets {
        cmd.args(["--set", s]);
    }
    let output = cmd.output().unwrap();
    assert_eq!(
        output.status.code(),
        Some(1),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let summary: serde_json::Value =
        serde_json::from_slice(&std::fs::read(out_dir.path().join("summary.json")).unwrap())
            .unwrap();
    (summary["latency_ns"]["mean"].as_f64().unwrap(), summary)
}

#[test]
fn balancing_improves_overload_latency() {
    let (on, summary) = overload_latency_mean(&[]);
    let (off, off_summary) = overload_latency_mean(&["org.balancing.enabled=false"]);
    let b = &summary["balancing"];
    for level in 0..3 {
        assert!(
            b["escalations"][level].as_u64().unwrap() > 0,
            "no level-{} escalation: {b}",
            level + 1
        );
    }
    assert!(b["moved_within_division"].as_u64().unwrap() > 0, "{b}");
    assert!(b["moved_across_divisions"].as_u64().unwrap() > 0, "{b}");
    assert_eq!(
        off_summary["balancing"]["escalations"],
        serde_json::json!([0, 0, 0, 0])
    );
    // Deterministic runs, so any gap is real; ask for a clear one.
    assert!(off > on * 1.05, "balancing off: {off} ns, on: {on} ns");
    assert_eq!(summary["jobs"]["lost"], 0);
    assert_eq!(off_summary["jobs"]["lost"], 0);
}
