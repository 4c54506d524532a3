//! Issue 8, the org slice, through the CLI: org references checked once
//! after the preset and the scenario are merged, errors that point at the
//! entry (scenario or org file), `after` cycles, empty org files, large
//! orgs, bounded routing keywords, the coordinator's `dispatch_time`, and
//! the built-in org's sources.

use crate::{assert_contains, run, run_in, stderr, stdout, write_file};
use std::path::Path;

/// A closed org (`preset = "none"`) with domain Q and the given agents.
fn closed(agents: &str) -> String {
    format!(
        r#"[scenario]
name = "org-test"
duration = "1m"
drain = "1m"

[org]
preset = "none"
fallback_domain = "Q"

[[org.domain]]
id = "Q"

{agents}
[[load]]
arrival = {{ process = "constant", rate = "1/s" }}
tasks = [{{ text = "alpha beta gamma" }}]
"#
    )
}

/// A scenario over the built-in org with the given `[[org.agent]]` entries.
fn on_esa105(agents: &str) -> String {
    format!(
        r#"[scenario]
name = "org-test"
duration = "1m"

[org]
preset = "esa-105"

{agents}
[[load]]
arrival = {{ process = "constant", rate = "1/s" }}
tasks = [{{ text = "etl job" }}]
"#
    )
}

/// `check` of `text` written as `<dir>/s.toml`: exit 2, and stderr.
fn rejected(dir: &Path, text: &str) -> (String, String) {
    let path = write_file(dir, "s.toml", text);
    let out = run(&["check", &path], 2);
    assert!(stdout(&out).is_empty(), "{}", stdout(&out));
    (path, stderr(&out))
}

/// 1-based line of the first line of `text` that contains `needle`.
fn line_of(text: &str, needle: &str) -> usize {
    text.lines().position(|l| l.contains(needle)).unwrap() + 1
}

#[test]
fn after_cycle_between_two_workers_is_rejected() {
    let dir = tempfile::tempdir().unwrap();
    let text = closed(
        r#"[[org.agent]]
id = "L1"
domain = "Q"
keywords = ["alpha"]
after = ["L2"]

[[org.agent]]
id = "L2"
domain = "Q"
keywords = ["beta"]
after = ["L1"]
"#,
    );
    let (path, err) = rejected(dir.path(), &text);
    let at = format!("{path}:{}:", line_of(&text, "after = [\"L2\"]"));
    assert_contains(
        &err,
        &[
            "org.agent[0].after[0]",
            &at,
            "cycle in domain `Q`",
            "`L1` after `L2`, `L2` after `L1`",
        ],
    );
}

#[test]
fn longer_after_cycle_through_pools_is_rejected() {
    let dir = tempfile::tempdir().unwrap();
    // Pools: P = {a1, a2}, B, C. a1 waits for B, B for C, C for a2 (in P).
    let text = closed(
        r#"[[org.agent]]
id = "a1"
domain = "Q"
pool = "P"
keywords = ["alpha"]
after = ["b"]

[[org.agent]]
id = "a2"
domain = "Q"
pool = "P"

[[org.agent]]
id = "b"
domain = "Q"
keywords = ["beta"]
after = ["c"]

[[org.agent]]
id = "c"
domain = "Q"
keywords = ["gamma"]
after = ["a2"]
"#,
    );
    let (_, err) = rejected(dir.path(), &text);
    assert_contains(
        &err,
        &[
            "org.agent[0].after[0]",
            "`a1` after `b`, `b` after `c`, `c` after `a2`",
        ],
    );
    // An `after` chain without a cycle is fine.
    let ok = text.replace("after = [\"a2\"]\n", "");
    let path = write_file(dir.path(), "ok.toml", &ok);
    run(&["check", &path], 0);
}

#[test]
fn scenario_override_errors_name_the_entry_and_line() {
    let dir = tempfile::tempdir().unwrap();
    let text = on_esa105(
        r#"[[org.agent]]
id = "L12"
slots = 8

[[org.agent]]
id = "L13"
after = ["L12", "L1"]
"#,
    );
    let (path, err) = rejected(dir.path(), &text);
    let at = format!("{path}:{}:", line_of(&text, "after = "));
    // L1 is a D1 worker, L13 a D3 one.
    assert_contains(
        &err,
        &["org.agent[1].after[1]", &at, "not a worker of domain `D3`"],
    );
    assert!(!err.contains("`org.agent`"), "{err}");

    let text = on_esa105("[[org.agent]]\nid = \"L12\"\ndomain = \"D33\"\n");
    let (path, err) = rejected(dir.path(), &text);
    let at = format!("{path}:{}:", line_of(&text, "D33"));
    assert_contains(&err, &["org.agent[0].domain", &at, "did you mean `D3`?"]);
}

#[test]
fn org_file_errors_point_into_the_org_file() {
    let dir = tempfile::tempdir().unwrap();
    let org = r#"name = "tiny"

[[domain]]
id = "A"

[[domain]]
id = "B"

[[agent]]
id = "a1"
domain = "A"

[[agent]]
id = "b1"
domain = "B"
after = ["a1"]
"#;
    let org_path = write_file(dir.path(), "my-org.toml", org);
    let text = closed("").replace("preset = \"none\"", "preset = \"my-org.toml\"");
    let text = text.replace("fallback_domain = \"Q\"", "fallback_domain = \"A\"");
    let text = text.replace("[[org.domain]]\nid = \"Q\"\n", "");
    let (_, err) = rejected(dir.path(), &text);
    let at = format!("{org_path}:{}:", line_of(org, "after"));
    assert_contains(
        &err,
        &["agent[1].after[0]", &at, "not a worker of domain `B`"],
    );
    assert!(!err.contains("org.agent"), "{err}");

    // The same value set by the scenario is reported in the scenario.
    let fixed = org.replace("after = [\"a1\"]\n", "");
    write_file(dir.path(), "my-org.toml", &fixed);
    let over = format!("{text}\n[[org.agent]]\nid = \"b1\"\nafter = [\"a1\"]\n");
    let (path, err) = rejected(dir.path(), &over);
    let at = format!("{path}:{}:", line_of(&over, "after = "));
    assert_contains(&err, &["org.agent[0].after[0]", &at]);

    // A bad domain in the org file: the org file's place and entry.
    let broken = org
        .replace("after = [\"a1\"]\n", "")
        .replace("domain = \"B\"", "domain = \"Bx\"");
    write_file(dir.path(), "my-org.toml", &broken);
    let (_, err) = rejected(dir.path(), &text);
    let at = format!("{org_path}:{}:", line_of(&broken, "Bx"));
    assert_contains(&err, &["agent[1].domain", &at, "did you mean `B`?"]);
}

#[test]
fn ids_share_one_namespace_across_preset_and_scenario() {
    let dir = tempfile::tempdir().unwrap();
    let text = on_esa105("[[org.agent]]\nid = \"D3\"\ndomain = \"D3\"\n");
    let (path, err) = rejected(dir.path(), &text);
    let at = format!("{path}:{}:", line_of(&text, "id = \"D3\""));
    assert_contains(&err, &["org.agent[0].id", &at, "already used by a domain"]);
}

#[test]
fn empty_org_file_is_named_an_org_file() {
    let dir = tempfile::tempdir().unwrap();
    write_file(dir.path(), "empty-org.toml", "# nothing yet\n");
    let text = on_esa105("").replace("\"esa-105\"", "\"empty-org.toml\"");
    let (_, err) = rejected(dir.path(), &text);
    assert_contains(
        &err,
        &[
            "empty-org.toml is empty",
            "org file",
            "[[domain]]",
            "[[agent]]",
        ],
    );
    assert!(!err.contains("a scenario needs"), "{err}");
    assert!(!err.contains("DESIGN.md"), "{err}");
}

#[test]
fn empty_scenario_points_at_the_readme() {
    let dir = tempfile::tempdir().unwrap();
    let (_, err) = rejected(dir.path(), "");
    assert_contains(
        &err,
        &["is empty", "[scenario]", "README", "Scenario format v1"],
    );
    assert!(!err.contains("DESIGN.md"), "{err}");
}

/// 8,000 workers, one pool each: rejected by the pool limit, at the entry
/// that makes pool 257 (validation used to be quadratic in agent count).
#[test]
fn eight_thousand_agents_hit_the_pool_limit() {
    let dir = tempfile::tempdir().unwrap();
    let agents: String = (0..8_000)
        .map(|i| format!("[[org.agent]]\nid = \"a{i}\"\ndomain = \"Q\"\n"))
        .collect();
    let text = closed(&agents);
    let path = write_file(dir.path(), "s.toml", &text);
    let err = stderr(&run_in(dir.path(), &["check", &path], 2));
    let at = format!("{path}:{}:", line_of(&text, "id = \"a256\"") - 1);
    assert_contains(
        &err,
        &["org.agent[256]", &at, "257 worker pools", "at most 256"],
    );
}

#[test]
fn overlong_routing_keyword_is_rejected() {
    let dir = tempfile::tempdir().unwrap();
    // "a", "aa", … and one keyword of 1,000,000 characters.
    let mut words: Vec<String> = (1..=200)
        .map(|n| format!("\"{}\"", "a".repeat(n)))
        .collect();
    words.push(format!("\"{}\"", "b".repeat(1_000_000)));
    let text = closed(&format!(
        "[[org.agent]]\nid = \"w\"\ndomain = \"Q\"\nkeywords = [{}]\n",
        words.join(", ")
    ));
    let (path, err) = rejected(dir.path(), &text);
    assert_contains(
        &err,
        &[
            "org.agent[0].keywords[64]",
            &format!("{path}:"),
            "65 bytes",
            "at most 64 bytes",
        ],
    );
}

#[test]
fn too_many_routing_keywords_are_rejected() {
    let dir = tempfile::tempdir().unwrap();
    let words: Vec<String> = (0..2_001).map(|n| format!("\"k{n}\"")).collect();
    let text = closed(&format!(
        "[[org.agent]]\nid = \"w\"\ndomain = \"Q\"\n\n[[org.agent]]\nid = \"v\"\ndomain = \"Q\"\nskills = [{}]\n",
        words.join(", ")
    ));
    let (path, err) = rejected(dir.path(), &text);
    let at = format!("{path}:{}:", line_of(&text, "skills"));
    assert_contains(
        &err,
        &[
            "org.agent[1].skills",
            &at,
            "2001 routing keywords",
            "at most 2000",
        ],
    );
    // At the limits (2,000 words, one of 64 bytes) the org is fine.
    let at_limit = text
        .replace(", \"k2000\"", "")
        .replace("\"k0\"", &format!("\"{}\"", "c".repeat(64)));
    let path = write_file(dir.path(), "ok.toml", &at_limit);
    run(&["check", &path], 0);
}

/// Two workers in one domain, `second` after `first`; const 1 s service,
/// no hop latency, one job every 10 s (no queueing).
fn two_stage(dispatch: Option<&str>) -> String {
    let dispatch = dispatch.map_or(String::new(), |d| format!("dispatch_time = \"{d}\"\n"));
    format!(
        r#"[scenario]
name = "stages"
duration = "2m"
drain = "1m"

[org]
preset = "none"
hop_latency = "0s"
plan_time = "7ms"
{dispatch}fallback_domain = "Q"

[[org.domain]]
id = "Q"

[[org.agent]]
id = "first"
domain = "Q"
keywords = ["alpha"]
service = {{ dist = "const", value = "1s" }}

[[org.agent]]
id = "second"
domain = "Q"
keywords = ["beta"]
after = ["first"]
service = {{ dist = "const", value = "1s" }}

[[load]]
arrival = {{ process = "constant", rate = "6/min" }}
tasks = [{{ text = "alpha beta" }}]
"#
    )
}

/// Every job's latency (the mean of identical latencies, exact).
fn job_latency_ns(dir: &Path, text: &str) -> f64 {
    let path = write_file(dir, "stages.toml", text);
    let out_dir = dir.join("out");
    let out = run(
        &[
            "run",
            &path,
            "--out",
            out_dir.to_str().unwrap(),
            "--format",
            "json",
        ],
        0,
    );
    let summary: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let lat = &summary["latency_ns"];
    assert!(lat["count"].as_u64().unwrap() >= 10, "{lat}");
    assert_eq!(lat["p50"], lat["max"], "jobs differ: {lat}");
    lat["mean"].as_f64().unwrap()
}

#[test]
fn dispatch_time_is_charged_once_per_dispatch_stage() {
    let dir = tempfile::tempdir().unwrap();
    let ms = 1e6;
    let service = 1_000.0 * ms;
    // plan_time once + dispatch_time per stage (2) + service per stage.
    let got = job_latency_ns(dir.path(), &two_stage(Some("3ms")));
    assert_eq!(got, 7.0 * ms + 2.0 * 3.0 * ms + 2.0 * service);
    let got = job_latency_ns(dir.path(), &two_stage(Some("0s")));
    assert_eq!(got, 7.0 * ms + 2.0 * service);
    // Unset, it defaults to plan_time (the behaviour before the key).
    let got = job_latency_ns(dir.path(), &two_stage(None));
    assert_eq!(got, 7.0 * ms + 2.0 * 7.0 * ms + 2.0 * service);
}

#[test]
fn builtin_org_cites_its_sources_by_name_not_path() {
    let text = std::fs::read_to_string(
        Path::new(env!("CARGO_MANIFEST_DIR")).join("scenarios/orgs/esa-105.toml"),
    )
    .unwrap();
    for line in text.lines().filter(|l| l.starts_with('#')) {
        assert!(!line.contains("/work/"), "path outside the repo: {line}");
        assert!(!line.contains("shared/"), "path outside the repo: {line}");
    }
    assert_contains(
        &text,
        &[
            "Backend Domain Orchestrator",
            "Background Processor",
            "Real-time",
        ],
    );
    // And the org still loads.
    let out = run(&["org", "show"], 0);
    assert_contains(&stdout(&out), &["105 agents"]);
}

/// Found by the fuzzer: a domain with keywords but no worker panicked the
/// run (index out of bounds in `select_pools`) as soon as a task matched it.
#[test]
fn domain_without_workers_is_rejected() {
    let dir = tempfile::tempdir().unwrap();
    let path = crate::write_file(
        dir.path(),
        "dx.toml",
        r#"[scenario]
name = "dx"
duration = "1m"
[org]
preset = "esa-105"
[[org.domain]]
id = "DX"
keywords = ["zzz"]
[[load]]
arrival = { process = "poisson", rate = "1/s" }
tasks = [{ text = "zzz" }]
"#,
    );
    let out = crate::run(&["check", &path], 2);
    crate::assert_contains(
        &crate::stderr(&out),
        &[
            "org.domain[0]",
            "dx.toml:6:1",
            "domain `DX` has no worker agent",
        ],
    );
}
