//! Wall-clock benchmarks of whole scenarios (DESIGN.md §8): the bench file
//! that `esa-sim bench` writes, and the statistical comparison of two of
//! them ([`compare()`]). Sans-IO: this module parses and compares text and
//! values; running scenarios, reading `/proc` and writing files is the
//! CLI's (`cli/bench.rs`).
//!
//! # The bench file (JSON)
//!
//! ```json
//! {
//!   "esa_sim_version": "0.1.0",
//!   "machine": { "cpu": "AMD EPYC 7B13", "cores": 2, "os": "linux",
//!                "arch": "x86_64", "profile": "release",
//!                "rustc": "rustc 1.87.0 (17067e9ac 2025-05-09)" },
//!   "scenarios": [
//!     { "name": "baseline", "hash": "sha256:…", "seed": 42,
//!       "overrides": ["scenario.duration=10m"],
//!       "events": 123456, "jobs": 2400,
//!       "samples": [ { "wall_s": 0.051, "events_per_s": 2420705.9,
//!                      "jobs_per_s": 47058.8, "sim_to_wall": 11764.7 } ] }
//!   ]
//! }
//! ```
//!
//! One sample per run, in run order. `events` and `jobs` are the same in
//! every run of a scenario (runs are deterministic); `cpu` and `rustc` are
//! `null` where unknown; `hash` is the scenario's source hash (before
//! `--set` overrides, which are listed apart).

pub mod compare;
pub mod stats;

use serde::{Deserialize, Serialize};

pub use compare::{compare, has_regression, notes, rows, BenchDiff, Measure, Row, Verdict};

/// A bench file: every scenario's samples and the machine they ran on.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct BenchFile {
    pub esa_sim_version: String,
    pub machine: Machine,
    pub scenarios: Vec<BenchScenario>,
}

/// Where the samples were taken.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Machine {
    /// The CPU model (`/proc/cpuinfo` "model name"), if known.
    pub cpu: Option<String>,
    /// Threads available to the process.
    pub cores: usize,
    pub os: String,
    pub arch: String,
    /// `release` or `debug` (debug assertions on).
    pub profile: String,
    /// `rustc --version` of the compiler that built esa-sim, if known.
    pub rustc: Option<String>,
}

/// One scenario's runs.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct BenchScenario {
    /// `[scenario] name`: what the comparison matches on.
    pub name: String,
    /// The scenario's source hash (before overrides).
    pub hash: String,
    pub seed: u64,
    /// The `--set` overrides applied, as given.
    #[serde(default)]
    pub overrides: Vec<String>,
    /// Events processed per run.
    #[serde(default)]
    pub events: u64,
    /// Jobs that arrived per run.
    #[serde(default)]
    pub jobs: u64,
    pub samples: Vec<Sample>,
}

/// The wall-clock figures of one run.
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Sample {
    pub wall_s: f64,
    pub events_per_s: f64,
    pub jobs_per_s: f64,
    /// Simulated seconds per wall-clock second.
    pub sim_to_wall: f64,
}

impl Sample {
    /// The sample of a run of `events` events and `jobs` jobs over
    /// `sim_s` simulated seconds that took `wall_s`.
    pub fn new(wall_s: f64, events: u64, jobs: u64, sim_s: f64) -> Sample {
        let per_s = |n: f64| if wall_s > 0.0 { n / wall_s } else { 0.0 };
        Sample {
            wall_s,
            events_per_s: per_s(events as f64),
            jobs_per_s: per_s(jobs as f64),
            sim_to_wall: per_s(sim_s),
        }
    }
}

/// Why a bench file cannot be used.
#[derive(Debug, thiserror::Error)]
pub enum BenchError {
    #[error("{origin}: not an esa-sim bench file: {source} (at `{path}`); write one with `esa-sim bench SCENARIO... --out FILE`")]
    Parse {
        origin: String,
        path: String,
        source: serde_json::Error,
    },
    #[error("{origin}: {what}; write the file again with `esa-sim bench`")]
    Invalid { origin: String, what: String },
}

impl BenchFile {
    /// Parses and validates the text of a bench file; `origin` (its path)
    /// names it in errors.
    pub fn parse(origin: &str, text: &str) -> Result<BenchFile, BenchError> {
        let de = &mut serde_json::Deserializer::from_str(text);
        let file: BenchFile =
            serde_path_to_error::deserialize(de).map_err(|e| BenchError::Parse {
                origin: origin.to_string(),
                path: e.path().to_string(),
                source: e.into_inner(),
            })?;
        file.validate().map_err(|what| BenchError::Invalid {
            origin: origin.to_string(),
            what,
        })?;
        Ok(file)
    }

    /// Each scenario once, with at least one sample, every figure finite
    /// and not negative.
    fn validate(&self) -> Result<(), String> {
        for (i, s) in self.scenarios.iter().enumerate() {
            if self.scenarios[..i].iter().any(|t| t.name == s.name) {
                return Err(format!("scenario `{}` appears twice", s.name));
            }
            if s.samples.is_empty() {
                return Err(format!("scenarios[{i}] (`{}`) has no samples", s.name));
            }
            for (j, x) in s.samples.iter().enumerate() {
                let all = [x.wall_s, x.events_per_s, x.jobs_per_s, x.sim_to_wall];
                if all.iter().any(|v| !v.is_finite() || *v < 0.0) {
                    return Err(format!(
                        "scenarios[{i}].samples[{j}] has a negative or non-finite figure"
                    ));
                }
            }
        }
        Ok(())
    }

    /// The scenario named `name`, if present.
    pub fn scenario(&self, name: &str) -> Option<&BenchScenario> {
        self.scenarios.iter().find(|s| s.name == name)
    }
}

/// The CPU model from the text of `/proc/cpuinfo` (the first "model name",
/// or "Hardware" / "cpu model" on some ARM and MIPS kernels).
pub fn cpu_model(cpuinfo: &str) -> Option<String> {
    cpuinfo.lines().find_map(|line| {
        let (key, value) = line.split_once(':')?;
        let key = key.trim();
        let named = key == "model name" || key == "Hardware" || key == "cpu model";
        let value = value.trim();
        (named && !value.is_empty()).then(|| value.to_string())
    })
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;

    pub(crate) fn file(scenarios: Vec<BenchScenario>) -> BenchFile {
        BenchFile {
            esa_sim_version: "0.1.0".into(),
            machine: Machine {
                cpu: None,
                cores: 2,
                os: "linux".into(),
                arch: "x86_64".into(),
                profile: "release".into(),
                rustc: None,
            },
            scenarios,
        }
    }

    pub(crate) fn scenario(name: &str, walls: &[f64]) -> BenchScenario {
        BenchScenario {
            name: name.into(),
            hash: "sha256:00".into(),
            seed: 1,
            overrides: vec![],
            events: 1000,
            jobs: 10,
            samples: walls
                .iter()
                .map(|&w| Sample::new(w, 1000, 10, 60.0))
                .collect(),
        }
    }

    #[test]
    fn round_trips_and_validates() {
        let f = file(vec![scenario("a", &[0.5, 0.25])]);
        let text = serde_json::to_string_pretty(&f).unwrap();
        assert_eq!(BenchFile::parse("b.json", &text).unwrap(), f);
        assert_eq!(f.scenarios[0].samples[1].events_per_s, 4000.0);

        let twice = file(vec![scenario("a", &[1.0]), scenario("a", &[1.0])]);
        let text = serde_json::to_string(&twice).unwrap();
        let e = BenchFile::parse("b.json", &text).unwrap_err().to_string();
        assert!(e.contains("b.json") && e.contains("twice"), "{e}");

        let empty = file(vec![scenario("a", &[])]);
        let text = serde_json::to_string(&empty).unwrap();
        assert!(BenchFile::parse("b.json", &text).is_err());
    }

    #[test]
    fn parse_errors_name_the_file_and_key() {
        let e = BenchFile::parse("x.json", r#"{"esa_sim_version": 3}"#)
            .unwrap_err()
            .to_string();
        assert!(
            e.starts_with("x.json: ") && e.contains("esa_sim_version"),
            "{e}"
        );
        assert!(BenchFile::parse("x.json", "").is_err());
        assert!(BenchFile::parse("x.json", "[1, 2]").is_err());
    }

    #[test]
    fn cpu_model_from_cpuinfo() {
        let text = "processor\t: 0\nvendor_id\t: AuthenticAMD\nmodel name\t: AMD EPYC 7B13\n";
        assert_eq!(cpu_model(text).as_deref(), Some("AMD EPYC 7B13"));
        assert_eq!(cpu_model("processor : 0\n"), None);
    }
}
