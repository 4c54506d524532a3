//! Scenario files: reading, `--set` overrides, strict deserialization and
//! validation into the [`model`] types the rest of esa-sim runs on.
//!
//! The pipeline is: TOML text → `toml::Table` → `--set` overrides →
//! `raw` serde shapes (unknown keys denied) → `validate` → [`Scenario`].
//! Every failure is one [`ScenarioError`] that names the file, line and
//! column, the key path, and the fix. This module owns the scenario format
//! (DESIGN.md §3) and user org files, and embeds the built-in org's file
//! ([`ESA_105`], read as text by [`Preset::source`]); it does not build
//! orgs — ids that refer to a preset org are checked by whoever builds it,
//! using [`ScenarioError::invalid`] (only `--set` looks a preset's ids up,
//! to address its members by id).

pub mod document;
pub mod model;

mod error;
mod faults;
mod loads;
mod overrides;
mod raw;
mod realtime;
mod slo;
mod span;
mod validate;

pub(crate) use error::quoted_list;
pub use error::{suggest, InputKind, Location, Locator, ScenarioError};
pub use faults::is_orchestrator;
pub use model::*;
pub(crate) use overrides::key_segments;
pub use slo::target_threshold;

use crate::time::SimDuration;
use error::Ctx;
use sha2::{Digest, Sha256};
use span::SpanIndex;
use std::path::Path;
use std::sync::Arc;

/// Largest scenario, org or trace file read, in bytes.
const MAX_FILE_BYTES: u64 = 64 * 1024 * 1024;

/// The longest simulated time a scenario may describe: 100 years
/// (36525d). Every duration in a scenario, `duration + drain`, a fault's
/// `at + duration` and every trace time must fit in it. Time is `u64`
/// nanoseconds (about 584 years), so any sum of two values inside the
/// horizon, and every time-series boundary up to it, stays exact instead of
/// saturating or wrapping.
pub const MAX_HORIZON: SimDuration = SimDuration::from_secs(36_525 * 86_400);

/// A user org file (`preset = "my-org.toml"`): top-level `name`,
/// `description`, `[[domain]]` and `[[agent]]` with the same fields as
/// `[[org.domain]]` / `[[org.agent]]` in a scenario.
#[derive(Clone, Debug)]
pub struct OrgFile {
    pub name: String,
    pub description: String,
    pub domains: Vec<DomainSpec>,
    pub agents: Vec<AgentSpec>,
    /// The file as given (path or `esa-105 (built-in)`), for messages.
    pub origin: String,
    /// Its text, so errors found while resolving the org can be located
    /// (`Locator::org_file`).
    pub text: Arc<str>,
}

/// Reads, overrides and validates the scenario at `path`. Relative paths in
/// it (trace files, org files) resolve against the file's directory.
pub fn load(path: &Path, overrides: &[String]) -> Result<Scenario, ScenarioError> {
    let text = read_text(path)?;
    parse_str(
        &path.display().to_string(),
        &text,
        base_dir(path),
        overrides,
    )
}

/// The directory relative paths in the scenario at `path` resolve against.
fn base_dir(path: &Path) -> &Path {
    match path.parent() {
        Some(dir) if !dir.as_os_str().is_empty() => dir,
        _ => Path::new("."),
    }
}

/// Parses scenario `text`; `origin` names it in messages and in
/// [`SourceInfo::path`], `base_dir` resolves trace and org file paths.
pub fn parse_str(
    origin: &str,
    text: &str,
    base_dir: &Path,
    overrides: &[String],
) -> Result<Scenario, ScenarioError> {
    let index = SpanIndex::build(text);
    let mut doc = parse_toml(origin, text, &index, InputKind::Scenario)?;
    let applied = overrides::apply(&mut doc, overrides, base_dir)?;
    let ctx = Ctx {
        origin,
        index: &index,
        overrides: &applied.paths,
        preset: applied.preset.as_ref(),
    };
    let raw: raw::RawScenario = raw::deserialize(doc, &ctx)?;
    let source = SourceInfo {
        path: origin.to_string(),
        hash: String::new(),
        inputs: Vec::new(),
        overrides: overrides.to_vec(),
        override_paths: applied.paths.clone(),
        text: Arc::from(text),
    };
    let mut scenario = validate::scenario(raw, &ctx, base_dir, source)?;
    if let Preset::File { path, text } = &scenario.org.preset {
        let org = org_input(base_dir, path, text);
        scenario.source.inputs.insert(0, org);
    }
    scenario.source.hash = combined_hash(text, &scenario.source.inputs);
    Ok(scenario)
}

/// The org file named by `preset`, hashed (the same text the org is built
/// from: the file is read once, at validation).
fn org_input(base_dir: &Path, full: &str, text: &str) -> InputFile {
    let written = Path::new(full)
        .strip_prefix(base_dir)
        .map_or_else(|_| full.to_string(), |p| p.to_string_lossy().into_owned());
    InputFile {
        key: "org.preset".into(),
        path: written,
        hash: sha256_tag(text.as_bytes()),
    }
}

/// `sha256:` of the scenario text alone when it reads no other file (so
/// such scenarios keep their hash), else of the text followed by one
/// `\n<key>=<hash>` line per input.
fn combined_hash(text: &str, inputs: &[InputFile]) -> String {
    let mut hasher = Sha256::new();
    hasher.update(text.as_bytes());
    for input in inputs {
        hasher.update(format!("\n{}={}", input.key, input.hash).as_bytes());
    }
    sha256_tag_of(hasher)
}

/// Parses a user org file with the same strictness as a scenario.
pub fn parse_org_file(origin: &str, text: &str) -> Result<OrgFile, ScenarioError> {
    let index = SpanIndex::build(text);
    let doc = parse_toml(origin, text, &index, InputKind::Org)?;
    let ctx = Ctx {
        origin,
        index: &index,
        overrides: &[],
        preset: None,
    };
    let raw: raw::RawOrgFile = raw::deserialize(doc, &ctx)?;
    validate::org_file(&ctx, raw, Arc::from(text))
}

/// Reads a UTF-8 text file of bounded size; the error names the path.
fn read_text(path: &Path) -> Result<String, ScenarioError> {
    read_utf8(path).map_err(|reason| ScenarioError::Read {
        path: path.display().to_string(),
        reason,
    })
}

/// The text of a UTF-8 file of at most [`MAX_FILE_BYTES`], or why not.
pub(crate) fn read_utf8(path: &Path) -> Result<String, String> {
    let bytes = read_bounded(path)?;
    String::from_utf8(bytes).map_err(|e| format!("it is not UTF-8 text ({e})"))
}

/// The bytes of a regular file of at most [`MAX_FILE_BYTES`], or why not.
fn read_bounded(path: &Path) -> Result<Vec<u8>, String> {
    let meta = std::fs::metadata(path).map_err(|e| e.to_string())?;
    if meta.is_dir() {
        return Err("it is a directory, not a file".into());
    }
    if meta.len() > MAX_FILE_BYTES {
        return Err(format!(
            "it is {} bytes; the limit is {MAX_FILE_BYTES}",
            meta.len()
        ));
    }
    std::fs::read(path).map_err(|e| e.to_string())
}

/// TOML text → table; syntax errors carry line:col; an empty document is
/// its own error.
fn parse_toml(
    origin: &str,
    text: &str,
    index: &SpanIndex,
    what: InputKind,
) -> Result<toml::Table, ScenarioError> {
    let doc = text
        .parse::<toml::Table>()
        .map_err(|e| ScenarioError::Syntax {
            at: Location {
                file: origin.to_string(),
                line_col: e.span().map(|s| index.offset_line_col(s.start)),
                set_arg: None,
            },
            message: syntax_message(e.message()),
        })?;
    if doc.is_empty() {
        return Err(ScenarioError::Empty {
            file: origin.to_string(),
            what,
        });
    }
    Ok(doc)
}

fn syntax_message(message: &str) -> String {
    if message.contains(" as i128") || message.contains(" as u128") {
        if let Some(number) = message.split('`').nth(1) {
            return format!(
                "integer {number} does not fit in 64 bits (TOML integers range from -9223372036854775808 to 9223372036854775807)"
            );
        }
    }
    message.trim_end().to_string()
}

/// `"sha256:<hex>"` of `bytes`.
fn sha256_tag(bytes: &[u8]) -> String {
    let mut hasher = Sha256::new();
    hasher.update(bytes);
    sha256_tag_of(hasher)
}

/// `"sha256:<hex>"` of what `hasher` has seen.
pub(crate) fn sha256_tag_of(hasher: Sha256) -> String {
    let digest = hasher.finalize();
    let mut out = String::with_capacity(7 + 64);
    out.push_str("sha256:");
    for b in digest.iter() {
        out.push_str(&format!("{b:02x}"));
    }
    out
}

#[cfg(test)]
mod tests;
