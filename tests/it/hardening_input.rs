//! Issue 8, scenario-level input checks: each test drives the binary as a
//! process with an input that made the unfixed esa-sim panic, hang, write
//! wrong numbers or files outside `reports/`, or accept nonsense, and checks
//! that it now ends with exit 2 and a located message (or, for the hash, a
//! hash that covers every input file).

use crate::{
    assert_contains, read_summary, run_in, run_scenario, run_scenario_with, stderr, write_file,
};
use std::path::Path;
use std::process::Output;

/// A one-pool org with a light Poisson load: runs in milliseconds.
const BASE: &str = r#"[scenario]
name = "hardening"
seed = 3
duration = "2m"
drain = "1m"
interval = "1m"

[org]
preset = "none"
hop_latency = "1ms"
plan_time = "1ms"
fallback_domain = "Q"

[[org.domain]]
id = "Q"
keywords = []

[[org.domain]]
id = "R"
keywords = ["other"]

[[org.agent]]
id = "server"
domain = "Q"
keywords = []
slots = 4
service = { dist = "exp", mean = "100ms" }

[[org.agent]]
id = "other"
domain = "R"
keywords = []
slots = 2

[[load]]
name = "jobs"
arrival = { process = "poisson", rate = "2/s" }
tasks = [{ text = "job" }, { text = "other job" }]
"#;

/// `esa-sim run <BASE with edits> --out <dir>/out -q`, expecting `code`.
fn run_base(edit: impl Fn(&str) -> String, extra: &[&str], code: i32) -> Output {
    let mut args = vec!["-q"];
    args.extend_from_slice(extra);
    run_scenario(&edit(BASE), &args, code).out
}

/// Before: 5,000 tasks of weight 1,000,000 overflowed rand's
/// `WeightedIndex<u32>` and the `expect` in the load generator exited 101.
#[test]
fn task_weights_that_overflow_are_a_located_error() {
    let tasks: Vec<String> = (0..5_000)
        .map(|i| format!("  {{ text = \"job {i}\", weight = 1000000 }}"))
        .collect();
    let tasks = format!("tasks = [\n{}\n]", tasks.join(",\n"));
    let out = run_base(
        |b| {
            b.replace(
                r#"tasks = [{ text = "job" }, { text = "other job" }]"#,
                &tasks,
            )
        },
        &[],
        2,
    );
    assert_contains(
        &stderr(&out),
        &[
            "load[0].tasks",
            "s.toml:38:1",
            "add up to 5000000000",
            "at most 4294967295",
            "scale them down",
        ],
    );
    // Just under the limit still runs.
    let tasks = tasks.replace("weight = 1000000", "weight = 858993");
    run_base(
        |b| {
            b.replace(
                r#"tasks = [{ text = "job" }, { text = "other job" }]"#,
                &tasks,
            )
        },
        &["--set", "scenario.duration=10s"],
        0,
    );
}

/// Before: `[org.balancing] interval = "1ns"` never finished (killed by
/// the hang guard). A 1ms time-series interval over 3 minutes (180,000
/// rows, under the old 1,000,000 limit) ran; the limit is now 100,000.
#[test]
fn repeating_timers_have_a_floor() {
    let out = run_base(
        |b| {
            b.replace(
                "[[org.domain]]\nid = \"Q\"",
                "[org.balancing]\nenabled = true\ninterval = \"1ns\"\n\n[[org.domain]]\nid = \"Q\"",
            )
        },
        &[],
        2,
    );
    assert_contains(
        &stderr(&out),
        &[
            "org.balancing.interval",
            "s.toml:16:1",
            "1ns is shorter than the minimum 1s",
            "at least \"1s\"",
        ],
    );
    let out = run_base(|b| b.to_string(), &["--set", "scenario.interval=1ms"], 2);
    assert_contains(
        &stderr(&out),
        &[
            "--set scenario.interval=1ms",
            "180000 time-series buckets",
            "the limit is 100000",
        ],
    );
    // The floor itself is accepted.
    run_base(
        |b| {
            b.replace(
                "[[org.domain]]\nid = \"Q\"",
                "[org.balancing]\nenabled = true\ninterval = \"1s\"\n\n[[org.domain]]\nid = \"Q\"",
            )
        },
        &["--set", "scenario.duration=1m"],
        0,
    );
}

/// Before: the issue's command ran, wrote time-series rows at
/// 18446659200000000000 ns (u64 wrapped) and exited 1.
#[test]
fn times_past_the_horizon_are_rejected() {
    let mmc = crate::data("../../scenarios/mmc.toml");
    let mmc = mmc.to_str().unwrap();
    let dir = tempfile::tempdir().unwrap();
    let out_dir = dir.path().join("out");
    let out = run_in(
        dir.path(),
        &[
            "run",
            mmc,
            "-q",
            "--out",
            out_dir.to_str().unwrap(),
            "--set",
            "scenario.duration=213503d",
            "--set",
            "scenario.drain=213503d",
            "--set",
            "scenario.interval=1d",
            "--set",
            "load.0.arrival.rate=1/d",
        ],
        2,
    );
    assert_contains(
        &stderr(&out),
        &[
            "`--set scenario.d",
            "213503d",
            "longer than 36525d (100 years)",
        ],
    );
    assert!(!out_dir.exists(), "reports written for a rejected scenario");
    // Each alone fits; together they do not.
    let out = run_base(
        |b| b.to_string(),
        &[
            "--set",
            "scenario.duration=20000d",
            "--set",
            "scenario.drain=20000d",
            "--set",
            "scenario.interval=1d",
        ],
        2,
    );
    assert_contains(
        &stderr(&out),
        &[
            "scenario.drain",
            "duration (480000h) + drain (480000h)",
            "36525d (100 years)",
        ],
    );
    // A fault that ends past the horizon.
    let fault = |b: &str| {
        format!("{b}\n[[fault]]\nat = \"36000d\"\nkind = \"crash\"\ntarget = \"server\"\nduration = \"1000d\"\n")
    };
    let out = run_base(fault, &[], 2);
    assert_contains(
        &stderr(&out),
        &["fault[0].duration", "s.toml:44:1", "36525d (100 years)"],
    );
}

fn with_trace(b: &str) -> String {
    b.replace(
        r#"{ process = "poisson", rate = "2/s" }"#,
        r#"{ process = "trace", file = "t.csv" }"#,
    )
}

/// Runs the trace scenario with `csv` as its trace file.
fn run_trace(csv: &str, code: i32) -> Output {
    run_scenario_with(&with_trace(BASE), &[("t.csv", csv)], &["-q"], code).out
}

/// Before: a first row of `-1` (or `inf`) was silently taken as a header
/// and the run went on with the remaining rows (exit 0).
#[test]
fn a_negative_first_trace_row_is_not_a_header() {
    let out = run_trace("-1\n2\n3\n", 2);
    assert_contains(
        &stderr(&out),
        &[
            "load[0].arrival.file",
            "s.toml:37:32",
            "t.csv",
            "line 1",
            "`-1` is negative",
        ],
    );
    let out = run_trace("inf\n2\n", 2);
    assert_contains(&stderr(&out), &["line 1", "`inf` is not a finite number"]);
    let out = run_trace("1\n-2s\n", 2);
    assert_contains(&stderr(&out), &["line 2", "`-2s` is negative"]);
    let out = run_trace("1\n40000d\n", 2);
    assert_contains(&stderr(&out), &["line 2", "36525d (100 years)"]);
    // A word is still a header.
    run_trace("arrival_s\n1\n2.5s\n", 0);
}

/// Before: `name = "../../x"` with no `--out` wrote the reports two levels
/// above `reports/`, outside the working directory, and an absolute name
/// wrote them at that path (`"/"`: into the root directory). The run cases
/// keep every such path inside the temp dir, so even an unfixed binary
/// writes nothing outside it; `"/"` itself is only `check`ed.
#[test]
fn scenario_names_must_be_one_safe_path_component() {
    let root = tempfile::tempdir().unwrap();
    let cwd = root.path().join("work");
    std::fs::create_dir_all(&cwd).unwrap();
    let inside = root.path().join("abs").to_string_lossy().into_owned();
    let long = "n".repeat(101);
    let cases = [
        ("../../x", "it starts with '.'"),
        (inside.as_str(), "it contains '/'"),
        ("a/b", "it contains '/'"),
        ("..", "it starts with '.'"),
        (".hidden", "it starts with '.'"),
        ("x y", "it contains ' '"),
        ("tab\tname", "it contains '\\t'"),
        ("caf\u{e9}", "it contains '\u{e9}'"),
        ("back\\slash", "it contains '\\\\'"),
        ("", "it is empty"),
        (long.as_str(), "it is 101 bytes long"),
    ];
    for (bad, why) in cases {
        let text = BASE.replace("name = \"hardening\"", &format!("name = {bad:?}"));
        let file = write_file(root.path(), "s.toml", &text);
        let out = run_in(&cwd, &["run", &file, "-q"], 2);
        assert_contains(
            &stderr(&out),
            &[
                "scenario.name",
                "s.toml:2:1",
                "one safe path component",
                "ASCII letters, digits, '-', '_' or '.'",
                why,
            ],
        );
    }
    let text = BASE.replace("name = \"hardening\"", "name = \"/\"");
    let file = write_file(root.path(), "s.toml", &text);
    let out = run_in(&cwd, &["check", &file], 2);
    assert_contains(&stderr(&out), &["scenario.name", "it contains '/'"]);
    // Nothing was written anywhere: only the scenario file and `work/`.
    let mut found: Vec<String> = walk(root.path());
    found.sort();
    assert_eq!(found, ["s.toml", "work"], "files created by rejected runs");
    // A safe name writes to reports/<name>/ under the working directory.
    let file = write_file(
        root.path(),
        "s.toml",
        &BASE.replace("hardening", "ok-name_1.2"),
    );
    run_in(&cwd, &["run", &file, "-q"], 0);
    assert!(cwd.join("reports/ok-name_1.2/summary.json").is_file());
}

/// Every path below `dir`, relative to it.
fn walk(dir: &Path) -> Vec<String> {
    let mut out = Vec::new();
    let mut todo = vec![dir.to_path_buf()];
    while let Some(d) = todo.pop() {
        for e in std::fs::read_dir(&d).unwrap() {
            let p = e.unwrap().path();
            out.push(p.strip_prefix(dir).unwrap().to_string_lossy().into_owned());
            if p.is_dir() {
                todo.push(p);
            }
        }
    }
    out
}

/// Before: `cv = 1e308` passed validation and failed when the sim was
/// built, pointing at `org.agent` with a Debug dump
/// (`LogNormal { mean: SimDuration(100000000), cv: 1e308 }`).
#[test]
fn distribution_parameters_are_checked_at_their_key() {
    let lognormal = r#"service = { dist = "lognormal", mean = "100ms", cv = 1e308 }"#;
    let exp = r#"service = { dist = "exp", mean = "100ms" }"#;
    let out = run_base(|b| b.replace(exp, lognormal), &[], 2);
    let err = stderr(&out);
    assert_contains(
        &err,
        &[
            "org.agent[0].service.cv",
            "s.toml:27:49",
            "cv = 1e308 is above 100",
        ],
    );
    assert!(!err.contains("SimDuration("), "Debug dump in: {err}");
    // The same in [org.defaults], for an agent without its own service.
    let defaults = format!("[org.defaults]\n{lognormal}\n\n[[org.domain]]\nid = \"Q\"");
    let out = run_base(
        |b| b.replacen("[[org.domain]]\nid = \"Q\"", &defaults, 1),
        &[],
        2,
    );
    let err = stderr(&out);
    assert_contains(
        &err,
        &[
            "org.defaults.service.cv",
            "s.toml:15:",
            "cv = 1e308 is above 100",
        ],
    );
    assert!(!err.contains("SimDuration("), "Debug dump in: {err}");
    // Means past the horizon are rejected where they are written.
    let out = run_base(
        |b| b.replace("mean = \"100ms\"", "mean = \"40000d\""),
        &[],
        2,
    );
    assert_contains(
        &stderr(&out),
        &["org.agent[0].service.mean", "36525d (100 years)"],
    );
    // The bound itself is accepted.
    run_base(
        |b| b.replace(exp, &lognormal.replace("1e308", "100.0")),
        &["--set", "scenario.duration=10s"],
        0,
    );
}

fn sha256(bytes: &[u8]) -> String {
    use sha2::{Digest, Sha256};
    let hex: String = Sha256::digest(bytes)
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect();
    format!("sha256:{hex}")
}

/// Before: a trace file and an org file changed the run but not
/// `scenario.hash`, and summary.json named neither.
#[test]
fn the_scenario_hash_covers_trace_and_org_files() {
    let dir = tempfile::tempdir().unwrap();
    let org_file = "name = \"mine\"\n\n[[domain]]\nid = \"Q\"\nkeywords = []\n\n[[agent]]\nid = \"server\"\ndomain = \"Q\"\nkeywords = []\nslots = 4\n";
    let text = with_trace(BASE)
        .replace("preset = \"none\"", "preset = \"orgs/mine.toml\"")
        .replace(
            &BASE[BASE.find("[[org.domain]]").unwrap()..BASE.find("[[load]]").unwrap()],
            "",
        );
    let file = write_file(dir.path(), "s.toml", &text);
    std::fs::create_dir_all(dir.path().join("orgs")).unwrap();
    let run_with = |trace: &str, org: &str, name: &str| {
        write_file(dir.path(), "t.csv", trace);
        write_file(&dir.path().join("orgs"), "mine.toml", org);
        let out_dir = dir.path().join(name);
        run_in(
            dir.path(),
            &["run", &file, "-q", "--out", out_dir.to_str().unwrap()],
            0,
        );
        read_summary(&out_dir)["scenario"].clone()
    };
    let a = run_with("1\n2\n", org_file, "a");
    let inputs = &a["inputs"];
    assert_eq!(inputs[0]["key"], "org.preset");
    assert_eq!(inputs[0]["path"], "orgs/mine.toml");
    assert_eq!(inputs[0]["hash"], sha256(org_file.as_bytes()));
    assert_eq!(inputs[1]["key"], "load[0].arrival.file");
    assert_eq!(inputs[1]["path"], "t.csv");
    assert_eq!(inputs[1]["hash"], sha256(b"1\n2\n"));
    assert_ne!(
        a["hash"],
        sha256(text.as_bytes()),
        "hash ignores the inputs"
    );
    // A changed trace changes its hash and the scenario's; the org's stays.
    let b = run_with("1\n3\n", org_file, "b");
    assert_ne!(b["hash"], a["hash"]);
    assert_ne!(b["inputs"][1]["hash"], a["inputs"][1]["hash"]);
    assert_eq!(b["inputs"][0]["hash"], a["inputs"][0]["hash"]);
    // A changed org file likewise.
    let c = run_with("1\n2\n", &org_file.replace("slots = 4", "slots = 5"), "c");
    assert_ne!(c["hash"], a["hash"]);
    assert_ne!(c["inputs"][0]["hash"], a["inputs"][0]["hash"]);
    assert_eq!(c["inputs"][1]["hash"], a["inputs"][1]["hash"]);
    // The same inputs give the same hash.
    let again = run_with("1\n2\n", org_file, "again");
    assert_eq!(again, a);
    // With no input files, the hash is the file's alone and `inputs` is absent.
    let p = run_scenario(BASE, &["-q"], 0).summary()["scenario"].clone();
    assert_eq!(p["hash"], sha256(BASE.as_bytes()));
    assert!(p.get("inputs").is_none(), "{p}");
}

/// `esa-sim check` on BASE plus one partition fault with `between`.
fn check_partition(between: &str, extra: &str, code: i32) -> Output {
    let dir = tempfile::tempdir().unwrap();
    let text = format!(
        "{BASE}\n[[fault]]\nat = \"30s\"\nkind = \"partition\"\nduration = \"10s\"\nbetween = {between}\n{extra}"
    );
    let file = write_file(dir.path(), "s.toml", &text);
    run_in(dir.path(), &["check", &file], code)
}

/// Before (all accepted by `check`, exit 0): `["orchestrator", "CEO"]` and
/// `["ORCHESTRATOR", "orchestrator"]` (one place twice), and a partition
/// whose `target` names nothing. `"ceo"` was rejected while `"CEO"` and
/// `"Orchestrator"` were accepted.
#[test]
fn partitions_need_two_different_existing_places() {
    for same in [
        r#"["orchestrator", "CEO"]"#,
        r#"["ORCHESTRATOR", "orchestrator"]"#,
        r#"["ceo", "Orchestrator"]"#,
    ] {
        let out = check_partition(same, "", 2);
        assert_contains(
            &stderr(&out),
            &[
                "fault[0].between",
                "s.toml:44:1",
                "same place (`orchestrator`)",
            ],
        );
    }
    let out = check_partition(r#"["Q", "Q"]"#, "", 2);
    assert_contains(&stderr(&out), &["fault[0].between", "same place (`Q`)"]);
    let out = check_partition(r#"["Q", "nowhere"]"#, "", 2);
    assert_contains(
        &stderr(&out),
        &[
            "fault[0].between",
            "partition side `nowhere` must be a domain id",
        ],
    );
    let out = check_partition(r#"["Q", "server"]"#, "", 2);
    assert_contains(&stderr(&out), &["fault[0].between", "`server`"]);
    let out = check_partition(r#"["Q", "R"]"#, "target = \"nowhere\"\n", 2);
    assert_contains(&stderr(&out), &["fault[0].target", "`nowhere`"]);
    // Valid: two domains, a domain and the orchestrator in any spelling,
    // a target naming a side.
    check_partition(r#"["Q", "R"]"#, "", 0);
    check_partition(r#"["ceo", "Q"]"#, "target = \"CEO\"\n", 0);
    check_partition(r#"["Q", "Orchestrator"]"#, "target = \"Q\"\n", 0);
}
