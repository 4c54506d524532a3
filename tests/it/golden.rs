//! The built-in scenarios' reports, byte for byte, against the SHA-256
//! sums in `tests/golden/reports.sha256`, saved before the core was
//! refactored for two drivers (issue 12): a refactor of the core or the
//! sim driver must not move a single byte of any report.
//!
//! A change that is meant to alter results (a model change) rewrites the
//! sums on purpose: `ESA_SIM_BLESS=1 cargo test --release --test it golden`
//! and commit the new file with the reason in the message.

use std::collections::BTreeMap;
use std::path::Path;

use sha2::{Digest, Sha256};

use super::run;

const SUMS: &str = "tests/golden/reports.sha256";
const SCENARIOS: [&str; 8] = [
    "baseline",
    "capacity",
    "mmc",
    "overload",
    "partial-success",
    "realtime",
    "realtime-failover",
    "worker-failure",
];
const FILES: [&str; 5] = [
    "latency.hgrm",
    "latency.hlog",
    "report.html",
    "summary.json",
    "timeseries.csv",
];

fn sha256(path: &Path) -> String {
    let bytes = std::fs::read(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    Sha256::digest(bytes)
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

/// `scenario/file` → sum, as `sha256sum` writes it.
fn parse(text: &str) -> BTreeMap<String, String> {
    (text.lines())
        .filter_map(|l| l.split_once("  "))
        .map(|(sum, name)| (name.to_string(), sum.to_string()))
        .collect()
}

fn render(sums: &BTreeMap<String, String>) -> String {
    (sums.iter())
        .map(|(name, sum)| format!("{sum}  {name}\n"))
        .collect()
}

#[test]
fn every_built_in_scenario_reports_the_saved_bytes() {
    let dir = tempfile::tempdir().unwrap();
    let mut now = BTreeMap::new();
    for s in SCENARIOS {
        let out = dir.path().join(s);
        let file = format!("scenarios/{s}.toml");
        let args = ["run", &file, "-q", "--html", "--out", out.to_str().unwrap()];
        // overload and partial-success breach SLOs by design (exit 1).
        let code = if matches!(s, "overload" | "partial-success") {
            1
        } else {
            0
        };
        run(&args, code);
        for f in FILES {
            now.insert(format!("{s}/{f}"), sha256(&out.join(f)));
        }
    }
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join(SUMS);
    if std::env::var_os("ESA_SIM_BLESS").is_some() {
        std::fs::write(&path, render(&now)).unwrap();
        return;
    }
    let saved = parse(&std::fs::read_to_string(&path).unwrap());
    let changed: Vec<&String> = (now.iter())
        .filter(|(name, sum)| saved.get(*name) != Some(sum))
        .map(|(name, _)| name)
        .collect();
    assert_eq!(saved.len(), now.len(), "{SUMS} lists other files");
    assert!(
        changed.is_empty(),
        "reports differ from {SUMS}: {changed:?}\n\
         diff them against a run of the commit that wrote the sums"
    );
}
