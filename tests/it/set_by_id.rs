//! `--set` addresses org agents and domains by id, preset ones included:
//! the value reaches the run (summary.json), numeric indexes keep working,
//! an unknown id is a did-you-mean error naming the argument.

use crate::{assert_contains, run_scenario, stderr, u};
use serde_json::Value;

/// The built-in org under a small load: "zebra" matches no keyword (→ the
/// fallback D9), "nightly etl batch" goes to D3 (L12, L20).
fn preset_scenario(own_agents: &str) -> String {
    format!(
        r#"[scenario]
name = "set-by-id"
seed = 3
duration = "2m"
interval = "1m"

[org]
preset = "esa-105"
{own_agents}
[[load]]
name = "etl"
arrival = {{ process = "poisson", rate = "120/min" }}
tasks = [{{ text = "nightly etl batch", weight = 3 }}, {{ text = "zebra", weight = 1 }}]
"#
    )
}

fn agent<'v>(s: &'v Value, id: &str) -> &'v Value {
    &s["agents"][id]
}

#[test]
fn a_preset_agents_slots_change_by_id() {
    let plain = run_scenario(&preset_scenario(""), &[], 0).summary();
    assert_eq!(
        u(&plain, "/agents/L12/slots"),
        8,
        "the preset's L12 has 8 slots"
    );
    let set = run_scenario(&preset_scenario(""), &["--set", "org.agent.L12.slots=3"], 0);
    let s = set.summary();
    assert_eq!(u(&s, "/agents/L12/slots"), 3);
    assert_eq!(u(&s, "/agents/L20/slots"), 8, "only L12 changed");
    assert_eq!(
        s["scenario"]["overrides"],
        serde_json::json!(["org.agent.L12.slots=3"])
    );
}

#[test]
fn a_scenarios_own_entry_is_changed_in_place() {
    // The scenario already overrides L12; `--set` changes that entry, so
    // its other keys (slots = 5) stay.
    let own = "[[org.agent]]\nid = \"L12\"\nslots = 5\nerror_rate = 0.0\n";
    let s = run_scenario(
        &preset_scenario(own),
        &["--set", "org.agent.L12.service.mean=3s"],
        0,
    )
    .summary();
    assert_eq!(u(&s, "/agents/L12/slots"), 5);
    let plain = run_scenario(&preset_scenario(own), &[], 0).summary();
    let util = |s: &Value| agent(s, "L12")["utilization"].as_f64().unwrap();
    assert!(
        util(&s) > 2.0 * util(&plain),
        "{} vs {}",
        util(&s),
        util(&plain)
    );
}

#[test]
fn service_mean_by_id_keeps_the_presets_distribution() {
    let util = |args: &[&str]| {
        let s = run_scenario(&preset_scenario(""), args, 0).summary();
        agent(&s, "L12")["utilization"].as_f64().unwrap()
    };
    let base = util(&[]);
    let slow = util(&["--set", "org.agent.L12.service.mean=3s"]);
    // The preset's L12 serves in 1 s: 3 s triples its busy time.
    assert!(
        (slow / base - 3.0).abs() < 0.6,
        "utilisation {base} → {slow}, expected about 3×"
    );
    // `dist` and `cv` came from the preset: setting only `mean` on a
    // lognormal keeps `cv`, which `exp` does not take — the error names
    // the argument.
    let bad = run_scenario(
        &preset_scenario(""),
        &["--set", "org.agent.L12.service.dist=exp"],
        2,
    );
    assert_contains(
        &stderr(&bad.out),
        &[
            "`--set org.agent.L12.service.dist=exp`",
            "`cv` does not apply",
        ],
    );
}

#[test]
fn a_domains_keywords_by_id_change_routing() {
    let arrived = |s: &Value, d: &str| u(s, &format!("/domains/{d}/arrived"));
    let plain = run_scenario(&preset_scenario(""), &[], 0).summary();
    assert!(arrived(&plain, "D9") > 0, "zebra falls back to D9");
    let set = run_scenario(
        &preset_scenario(""),
        &["--set", r#"org.domain.D3.keywords=["zebra"]"#],
        0,
    )
    .summary();
    assert_eq!(arrived(&set, "D9"), 0, "zebra now routes to D3");
    assert_eq!(
        arrived(&set, "D3"),
        arrived(&plain, "D3") + arrived(&plain, "D9")
    );
}

#[test]
fn numeric_indexes_still_work() {
    let own = "[[org.agent]]\nid = \"L12\"\nslots = 5\n";
    let s = run_scenario(&preset_scenario(own), &["--set", "org.agent.0.slots=2"], 0).summary();
    assert_eq!(u(&s, "/agents/L12/slots"), 2);
}

#[test]
fn unknown_ids_get_did_you_mean() {
    let bad = run_scenario(
        &preset_scenario(""),
        &["--set", "org.agent.L121.slots=2"],
        2,
    );
    assert_contains(
        &stderr(&bad.out),
        &[
            "`--set org.agent.L121.slots=2`",
            "`L121` is not the id",
            "did you mean `L12`?",
        ],
    );
    let own = "[[org.agent]]\nid = \"extra\"\ndomain = \"D3\"\n";
    let bad = run_scenario(
        &preset_scenario(own),
        &["--set", "org.agent.extr.slots=2"],
        2,
    );
    assert_contains(&stderr(&bad.out), &["did you mean `extra`?"]);
    let bad = run_scenario(
        &preset_scenario(""),
        &["--set", "org.domain.D33.keywords=[]"],
        2,
    );
    assert_contains(&stderr(&bad.out), &["did you mean `D3`?"]);
}

#[test]
fn errors_in_an_appended_entry_name_the_argument() {
    let bad = run_scenario(
        &preset_scenario(""),
        &["--set", "org.agent.L13.domain=D99"],
        2,
    );
    assert_contains(
        &stderr(&bad.out),
        &["`--set org.agent.L13.domain=D99`", "did you mean `D9`?"],
    );
    let bad = run_scenario(&preset_scenario(""), &["--set", "org.agent.L12=3"], 2);
    assert_contains(&stderr(&bad.out), &["names a whole entry"]);
}

#[test]
fn ids_of_a_user_org_file() {
    let org = "name = \"tiny\"\n[[domain]]\nid = \"Q\"\nkeywords = [\"job\"]\n[[agent]]\nid = \"w\"\ndomain = \"Q\"\nslots = 2\nservice = { dist = \"const\", value = \"100ms\" }\n";
    let text = preset_scenario("").replace(
        "preset = \"esa-105\"",
        "preset = \"tiny.toml\"\nfallback_domain = \"Q\"",
    );
    let run = crate::run_scenario_with(
        &text,
        &[("tiny.toml", org)],
        &["--set", "org.agent.w.slots=7"],
        0,
    );
    assert_eq!(u(&run.summary(), "/agents/w/slots"), 7);
    let bad = crate::run_scenario_with(
        &text,
        &[("tiny.toml", org)],
        &["--set", "org.agent.x.slots=7"],
        2,
    );
    assert_contains(
        &stderr(&bad.out),
        &["preset `", "tiny.toml`", "agent ids: `w`"],
    );
}
