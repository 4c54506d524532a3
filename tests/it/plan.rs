//! `esa-sim plan` through the CLI: on a plain M/M/c pool the plan must be
//! the smallest c that Erlang C (computed here) gives for the same target,
//! from below and from above; bad `--pool` input; the files are
//! deterministic; `plan.toml` is TOML whose slots make `run` pass.

use std::path::Path;

use serde_json::Value;

use super::{assert_contains, run_in, stderr, stdout, write_file, OnePool};

/// Erlang C mean wait in queue of M/M/c with arrival rate `lambda` and
/// service rate `mu` (per second): Wq = C(c, a) / (cμ − λ), a = λ/μ,
/// with C from the Erlang B recursion B(k) = a·B(k−1) / (k + a·B(k−1)),
/// C = c·B / (c − a·(1 − B)). Infinite when a ≥ c.
fn erlang_c_wq(lambda: f64, mu: f64, c: u32) -> f64 {
    let a = lambda / mu;
    if a >= f64::from(c) {
        return f64::INFINITY;
    }
    let mut b = 1.0;
    for k in 1..=c {
        b = a * b / (f64::from(k) + a * b);
    }
    let c_f = f64::from(c);
    let wait_prob = c_f * b / (c_f - a * (1.0 - b));
    wait_prob / (c_f * mu - lambda)
}

/// The smallest c whose Erlang C figure (mean sojourn W = Wq + 1/μ, or Wq)
/// is below `target` seconds.
fn erlang_min_c(lambda: f64, mu: f64, target: f64, sojourn: bool) -> u32 {
    (1..1000)
        .find(|&c| {
            let wq = erlang_c_wq(lambda, mu, c);
            let figure = if sojourn { wq + 1.0 / mu } else { wq };
            figure < target
        })
        .expect("some c meets the target")
}

/// An M/M/c scenario (exp service, mean 1 s; no hop or plan time) with
/// `slots` servers, arrival rate `rate` per second and one SLO line.
fn mmc(rate: f64, slots: u32, slo: &str) -> String {
    let rate = format!("{rate}/s");
    let text = OnePool {
        name: "mmc-plan",
        seed: 9,
        duration: "2h",
        warmup: "10m",
        drain: "10m",
        interval: "1h",
        org_extra: "",
        slots,
        service: r#"{ dist = "exp", mean = "1s" }"#,
        load: "poisson",
        process: "poisson",
        rate: &rate,
    }
    .text();
    format!("{text}\n[slo]\n{slo}\n")
}

/// Runs `esa-sim plan s.toml --out out args...` in `dir`.
fn plan_in(dir: &Path, text: &str, args: &[&str], code: i32) -> std::process::Output {
    let file = write_file(dir, "s.toml", text);
    let out = dir.join("out");
    let mut all = vec!["plan", &file, "--out", out.to_str().unwrap(), "-q"];
    all.extend_from_slice(args);
    run_in(dir, &all, code)
}

fn plan_json(dir: &Path) -> Value {
    let bytes = std::fs::read(dir.join("out/plan.json")).expect("plan.json written");
    serde_json::from_slice(&bytes).expect("plan.json is JSON")
}

fn slots_needed(plan: &Value) -> u64 {
    plan["pools"][0]["slots_needed"]
        .as_u64()
        .unwrap_or_else(|| panic!("no slots_needed in {plan:#}"))
}

/// One (λ, target) case: the plan from `start` slots equals Erlang C's c.
fn check_against_erlang(lambda: f64, metric: &str, target_s: f64, start: u32) {
    let sojourn = metric == "latency_mean";
    let want = erlang_min_c(lambda, 1.0, target_s, sojourn);
    // The target sits well between the figures of want − 1 and want.
    let figure = |c| erlang_c_wq(lambda, 1.0, c) + if sojourn { 1.0 } else { 0.0 };
    assert!(figure(want) < target_s * 0.9 && figure(want - 1) > target_s * 1.1);
    let dir = tempfile::tempdir().unwrap();
    let slo = format!("{metric} = \"< {}ms\"", (target_s * 1000.0).round());
    plan_in(dir.path(), &mmc(lambda, start, &slo), &[], 0);
    let plan = plan_json(dir.path());
    assert_eq!(
        slots_needed(&plan),
        u64::from(want),
        "λ = {lambda}/s, {slo}, start {start}: Erlang C says c = {want}; plan.json:\n{plan:#}"
    );
    assert_eq!(plan["verdict"], "pass");
    assert_eq!(plan["pools"][0]["slots_now"], start);
}

#[test]
fn equals_erlang_c_from_below_lambda_8() {
    check_against_erlang(8.0, "latency_mean", 1.4, 1);
}

#[test]
fn equals_erlang_c_from_above_lambda_4() {
    check_against_erlang(4.0, "latency_mean", 1.3, 30);
}

#[test]
fn equals_erlang_c_from_below_lambda_2() {
    check_against_erlang(2.0, "latency_mean", 1.25, 1);
}

#[test]
fn equals_erlang_c_on_queue_wait_from_above_lambda_12() {
    check_against_erlang(12.0, "queue_wait_mean", 0.16, 45);
}

#[test]
fn files_are_identical_for_one_and_two_threads_and_the_toml_slots_pass() {
    let text = mmc(2.0, 1, "latency_mean = \"< 1250ms\"");
    let one = tempfile::tempdir().unwrap();
    let two = tempfile::tempdir().unwrap();
    plan_in(one.path(), &text, &["--jobs", "1"], 0);
    plan_in(two.path(), &text, &["--jobs", "2"], 0);
    for file in ["plan.json", "plan.toml"] {
        let a = std::fs::read(one.path().join("out").join(file)).unwrap();
        let b = std::fs::read(two.path().join("out").join(file)).unwrap();
        assert!(a == b, "{file} differs between --jobs 1 and --jobs 2");
    }
    let toml_text = std::fs::read_to_string(one.path().join("out/plan.toml")).unwrap();
    let parsed: toml::Value = toml::from_str(&toml_text).expect("plan.toml is TOML");
    let agent = &parsed["org"]["agent"][0];
    assert_eq!(agent["id"].as_str(), Some("server"));
    let slots = agent["slots"].as_integer().expect("slots is an integer");
    assert_eq!(slots as u64, slots_needed(&plan_json(one.path())));
    // The planned slots pass a plain run; one fewer was judged not to.
    let set = format!("org.agent.server.slots={slots}");
    run_in(
        one.path(),
        &["run", "s.toml", "-q", "--out", "run", "--set", &set],
        0,
    );
    let evaluations = plan_json(one.path())["evaluations"].clone();
    let fewer = evaluations
        .as_array()
        .unwrap()
        .iter()
        .find(|e| e["slots"]["server"] == slots - 1)
        .expect("one slot fewer was evaluated");
    assert_ne!(fewer["verdict"], "pass");
}

#[test]
fn no_plan_within_max_slots_is_exit_1() {
    let dir = tempfile::tempdir().unwrap();
    let text = mmc(8.0, 1, "latency_mean = \"< 1400ms\"");
    let out = plan_in(
        dir.path(),
        &text,
        &["--max-slots", "4", "--replications", "2"],
        1,
    );
    assert_contains(&stderr(&out), &["no plan", "4 more slot(s)", "--max-slots"]);
    let plan = plan_json(dir.path());
    assert_eq!(plan["found"], false);
    assert!(!dir.path().join("out/plan.toml").exists());
}

#[test]
fn bad_pools_exit_2_naming_the_argument_and_the_fix() {
    let dir = tempfile::tempdir().unwrap();
    let text = mmc(2.0, 1, "latency_mean = \"< 1250ms\"");
    let out = plan_in(dir.path(), &text, &["--pool", "sever"], 2);
    assert_contains(&stderr(&out), &["--pool sever", "did you mean `server`?"]);
    let out = plan_in(dir.path(), &text, &["--pool", "Q"], 2);
    assert_contains(&stderr(&out), &["--pool Q", "domain coordinator", "server"]);
    let out_dir = dir.path().join("ceo");
    let out = super::run(
        &[
            "plan",
            "scenarios/overload.toml",
            "--pool",
            "CEO",
            "--out",
            out_dir.to_str().unwrap(),
        ],
        2,
    );
    assert_contains(
        &stderr(&out),
        &["--pool CEO", "is a ceo agent, not a worker"],
    );
    let none = mmc(2.0, 1, "").replace("[slo]\n", "");
    let out = plan_in(dir.path(), &none, &[], 2);
    assert_contains(&stderr(&out), &["no [slo]"]);
    assert!(stdout(&out).is_empty());
}

#[test]
fn named_pool_prints_the_table_and_overrides() {
    let dir = tempfile::tempdir().unwrap();
    let file = write_file(
        dir.path(),
        "s.toml",
        &mmc(2.0, 8, "latency_mean = \"< 1250ms\""),
    );
    let out = dir.path().join("out");
    let o = run_in(
        dir.path(),
        &[
            "plan",
            &file,
            "--pool",
            "server",
            "--out",
            out.to_str().unwrap(),
        ],
        0,
    );
    let text = stdout(&o);
    assert_contains(
        &text,
        &[
            "slots needed",
            "server",
            "latency_mean < 1250ms",
            "PASS",
            "[[org.agent]]\nid = \"server\"\nslots = 4",
            "--set org.agent.server.slots=4",
        ],
    );
    assert_eq!(plan_json(dir.path())["mode"], "named");
}
