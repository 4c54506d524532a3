//! The GitHub Actions workflow `.github/workflows/esa-sim.yml`, checked as
//! far as this machine can without actionlint or a YAML parser: it has
//! the `on: pull_request` trigger and a `jobs:` map, no tab indentation,
//! every `uses:` pins a version, and the script of every `run: |` step
//! parses with `bash -n` (and passes `shellcheck` when that is installed;
//! skipped, with a note on stderr, when not). It does not check the YAML
//! grammar in full, the action inputs, or `${{ }}` expressions.

use std::path::Path;
use std::process::{Command, Stdio};

fn workflow() -> String {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join(".github/workflows/esa-sim.yml");
    std::fs::read_to_string(path).expect("the workflow file exists")
}

/// The dedented body of every `run: |` block scalar.
fn run_scripts(text: &str) -> Vec<String> {
    let lines: Vec<&str> = text.lines().collect();
    let indent = |l: &str| l.len() - l.trim_start().len();
    let mut scripts = Vec::new();
    let mut i = 0;
    while i < lines.len() {
        let head = lines[i].trim_start().trim_start_matches("- ");
        i += 1;
        if head.trim_end() != "run: |" {
            continue;
        }
        let key_indent = indent(lines[i - 1]);
        let mut body = Vec::new();
        while i < lines.len() && (lines[i].trim().is_empty() || indent(lines[i]) > key_indent) {
            body.push(lines[i]);
            i += 1;
        }
        let cut = body
            .iter()
            .filter(|l| !l.trim().is_empty())
            .map(|l| indent(l))
            .min();
        let cut = cut.unwrap_or(0);
        let script: Vec<&str> = body.iter().map(|l| l.get(cut..).unwrap_or("")).collect();
        scripts.push(script.join("\n") + "\n");
    }
    scripts
}

/// Runs `program args... <script>` on a temp copy of the script; `None`
/// when the program is not installed.
fn check_with(program: &str, args: &[&str], script: &str) -> Option<(bool, String)> {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("step.sh");
    std::fs::write(&file, script).unwrap();
    let out = Command::new(program)
        .args(args)
        .arg(&file)
        .stdin(Stdio::null())
        .output()
        .ok()?;
    let msg =
        String::from_utf8_lossy(&out.stdout).into_owned() + &String::from_utf8_lossy(&out.stderr);
    Some((out.status.success(), msg))
}

#[test]
fn workflow_has_trigger_and_jobs() {
    let text = workflow();
    let top: Vec<&str> = text
        .lines()
        .filter(|l| !l.starts_with([' ', '#']))
        .collect();
    assert!(top.contains(&"on:"), "a top-level `on:`");
    assert!(top.contains(&"jobs:"), "a top-level `jobs:`");
    assert!(
        text.contains("\n  pull_request:"),
        "triggered by pull_request"
    );
    assert!(!text.contains('\t'), "YAML indentation must not use tabs");
    for line in text
        .lines()
        .filter(|l| l.trim_start().trim_start_matches("- ").starts_with("uses:"))
    {
        assert!(line.contains('@'), "pin a version: {line}");
    }
    assert!(text.contains("--format markdown >> \"$GITHUB_STEP_SUMMARY\""));
}

#[test]
fn workflow_scripts_parse_with_bash_and_pass_shellcheck() {
    let scripts = run_scripts(&workflow());
    assert_eq!(scripts.len(), 2, "the build step and the compare step");
    for script in &scripts {
        let (ok, msg) = check_with("bash", &["-n"], script).expect("bash is installed");
        assert!(ok, "bash -n fails:\n{msg}\n--- script\n{script}");
        match check_with("shellcheck", &["-s", "bash"], script) {
            Some((ok, msg)) => assert!(ok, "shellcheck:\n{msg}\n--- script\n{script}"),
            None => eprintln!("shellcheck not installed: only `bash -n` checked"),
        }
    }
    assert!(scripts[1].contains("esa-sim compare") && scripts[1].contains("4)"));
}
