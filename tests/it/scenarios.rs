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
