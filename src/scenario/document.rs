//! A scenario as an editable TOML document, for the commands that write
//! new scenario files derived from one: `explore` (the scenario with the
//! fault schedule a seed drew) and `shrink` (a smaller scenario that still
//! fails). The document is the file's TOML with the `--set` overrides
//! applied; edits go through the same key resolution as `--set`, and
//! [`Document::scenario`] validates the result exactly as `run` would, so
//! a derived file is always one `esa-sim run` accepts.
//!
//! Relative paths in the file (an org file in `[org] preset`, a trace in
//! `arrival.file`) are written absolute, so the derived file can live in
//! any directory.

use std::path::{Path, PathBuf};

use toml::{Table, Value};

use super::error::InputKind;
use super::model::{FaultKind, FaultSpec, Scenario};
use super::overrides::{self, key_segments, Presets};
use super::span::SpanIndex;
use super::ScenarioError;

/// Top-level keys in the order DESIGN.md §3 writes them.
const SECTIONS: [&str; 9] = [
    "scenario",
    "org",
    "load",
    "fault",
    "realtime",
    "connections",
    "messages",
    "slo",
    "compare",
];

/// A scenario's TOML with its overrides applied.
#[derive(Clone, Debug)]
pub struct Document {
    /// The file it came from, for messages.
    origin: String,
    base_dir: PathBuf,
    table: Table,
}

impl Document {
    /// Reads the scenario at `path` and applies `overrides`; the result is
    /// not validated until [`Document::scenario`].
    pub fn load(path: &Path, overrides: &[String]) -> Result<Document, ScenarioError> {
        let text = super::read_text(path)?;
        let origin = path.display().to_string();
        let base_dir = super::base_dir(path).to_path_buf();
        let index = SpanIndex::build(&text);
        let mut table = super::parse_toml(&origin, &text, &index, InputKind::Scenario)?;
        overrides::apply(&mut table, overrides, &base_dir)?;
        Ok(Document {
            origin,
            base_dir,
            table,
        })
    }

    /// Sets `key` (a `--set` key path, e.g. `scenario.seed`) to `value`.
    pub fn set(&mut self, key: &str, value: Value) -> Result<(), String> {
        let segments = key_segments(key)?;
        let mut presets = Presets::new(&self.base_dir);
        overrides::set_key(&mut self.table, &segments, value, &mut presets).map(|_| ())
    }

    /// Replaces the `[[fault]]` list (none: the key is removed).
    pub fn set_faults(&mut self, faults: &[FaultSpec]) {
        if faults.is_empty() {
            self.table.remove("fault");
            return;
        }
        let list = faults
            .iter()
            .map(|f| Value::Table(fault_table(f)))
            .collect();
        self.table.insert("fault".into(), Value::Array(list));
    }

    /// The document as TOML text, `header` first (each line commented),
    /// with relative input paths made absolute.
    pub fn text(&self, header: &str) -> String {
        let mut table = self.table.clone();
        self.absolute_inputs(&mut table);
        let mut out: String = header.lines().map(|l| format!("# {l}\n")).collect();
        if !out.is_empty() {
            out.push('\n');
        }
        // Sections in the order the format documents them, not the
        // table's alphabetical one.
        let mut keys: Vec<&String> = table.keys().collect();
        keys.sort_by_key(|k| {
            SECTIONS
                .iter()
                .position(|s| s == k)
                .unwrap_or(SECTIONS.len())
        });
        for key in keys {
            let mut one = Table::new();
            one.insert(key.clone(), table[key.as_str()].clone());
            out.push_str(&toml::to_string(&one).expect("a TOML table serializes"));
            out.push('\n');
        }
        out
    }

    /// Validates the document as `run` would a file with this text;
    /// messages name `origin`.
    pub fn scenario(&self, origin: &str) -> Result<Scenario, ScenarioError> {
        super::parse_str(origin, &self.text(""), &self.base_dir, &[])
    }

    /// The file the document was read from.
    pub fn origin(&self) -> &str {
        &self.origin
    }

    /// `org.preset` when it names an org file, and every `arrival.file`,
    /// joined to the scenario's directory.
    fn absolute_inputs(&self, table: &mut Table) {
        let absolute = |v: &mut Value| {
            if let Some(p) = v.as_str() {
                let full = std::path::absolute(self.base_dir.join(p))
                    .unwrap_or_else(|_| self.base_dir.join(p));
                *v = Value::String(full.to_string_lossy().into_owned());
            }
        };
        if let Some(preset) = (table.get_mut("org").and_then(Value::as_table_mut))
            .and_then(|org| org.get_mut("preset"))
            .filter(|p| p.as_str().is_some_and(|s| s.trim().ends_with(".toml")))
        {
            absolute(preset);
        }
        let loads = table.get_mut("load").and_then(Value::as_array_mut);
        for load in loads.into_iter().flatten() {
            let file = (load.get_mut("arrival").and_then(Value::as_table_mut))
                .and_then(|a| a.get_mut("file"));
            if let Some(file) = file {
                absolute(file);
            }
        }
    }
}

/// One `[[fault]]` entry as the scenario format writes it.
pub fn fault_table(f: &FaultSpec) -> Table {
    let mut t = Table::new();
    let s = |v: String| Value::String(v);
    t.insert("at".into(), s(f.at.to_string()));
    match &f.kind {
        FaultKind::Slow { factor } => {
            t.insert("factor".into(), Value::Float(*factor));
        }
        FaultKind::Error { rate } => {
            t.insert("rate".into(), Value::Float(*rate));
        }
        FaultKind::Partition { between } => {
            let sides = between.iter().map(|b| s(b.clone())).collect();
            t.insert("between".into(), Value::Array(sides));
        }
        FaultKind::Crash | FaultKind::QueueOutage | FaultKind::HeartbeatLoss => {}
    }
    t.insert("kind".into(), s(f.kind.name().into()));
    if !matches!(f.kind, FaultKind::Partition { .. }) {
        t.insert("target".into(), s(f.target.to_string()));
    }
    if let Some(d) = f.duration {
        t.insert("duration".into(), s(d.to_string()));
    }
    t
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::scenario::FaultTarget;
    use crate::time::SimDuration;

    fn doc(text: &str) -> (tempfile::TempDir, Document) {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("s.toml");
        std::fs::write(&path, text).unwrap();
        let doc = Document::load(&path, &["scenario.seed=9".into()]).unwrap();
        (dir, doc)
    }

    const MMC: &str = include_str!("../../scenarios/mmc.toml");

    #[test]
    fn round_trips_with_overrides_and_new_faults() {
        let (_dir, mut d) = doc(MMC);
        let faults = vec![
            FaultSpec {
                at: SimDuration::from_secs(60),
                kind: FaultKind::Slow { factor: 2.5 },
                target: FaultTarget::Id("server".into()),
                duration: Some(SimDuration::from_millis(1500)),
            },
            FaultSpec {
                at: SimDuration::from_secs(90),
                kind: FaultKind::Error { rate: 0.07 },
                target: FaultTarget::Random(1),
                duration: None,
            },
        ];
        d.set_faults(&faults);
        let s = d.scenario("derived.toml").unwrap();
        assert_eq!(s.seed, 9);
        assert_eq!(s.faults, faults);
        d.set("scenario.duration", Value::String("1h".into()))
            .unwrap();
        d.set_faults(&[]);
        let s = d.scenario("derived.toml").unwrap();
        assert_eq!(s.duration, SimDuration::from_secs(3600));
        assert!(s.faults.is_empty());
    }

    #[test]
    fn relative_inputs_become_absolute() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("t.csv"), "time\n1s\n2s\n").unwrap();
        let text = MMC.replace(
            r#"arrival = { process = "poisson", rate = "8/s" }"#,
            r#"arrival = { process = "trace", file = "t.csv" }"#,
        );
        assert_ne!(text, MMC, "the fixture has the poisson arrival line");
        let path = dir.path().join("s.toml");
        std::fs::write(&path, text).unwrap();
        let d = Document::load(&path, &[]).unwrap();
        let written = d.text("derived");
        assert!(written.starts_with("# derived\n"), "{written}");
        let elsewhere = tempfile::tempdir().unwrap();
        let copy = elsewhere.path().join("copy.toml");
        std::fs::write(&copy, &written).unwrap();
        crate::scenario::load(&copy, &[]).unwrap();
    }
}
