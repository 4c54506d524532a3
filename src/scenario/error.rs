//! The scenario boundary's one error type, and how its locations are found.
//!
//! Every message says what is wrong, where (`file:line:col` plus the key
//! path) and how to fix it. Locations come from [`SpanIndex`] over the
//! original file text; values that came from a `--set` override are reported
//! as such, since they have no place in the file.

use super::model::SourceInfo;
use super::overrides::LoadedPreset;
use super::span::{parent_path, SpanIndex};
use std::fmt;

/// Where in the input a problem is.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Location {
    /// The scenario (or org) file, as given.
    pub file: String,
    /// 1-based line and column of the key, when it is in the file.
    pub line_col: Option<(usize, usize)>,
    /// The `--set key=value` argument the value came from, if any.
    pub set_arg: Option<String>,
}

impl fmt::Display for Location {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if let Some(arg) = &self.set_arg {
            return write!(f, "`--set {arg}` (applied to {})", self.file);
        }
        match self.line_col {
            Some((line, col)) => write!(f, "{}:{line}:{col}", self.file),
            None => f.write_str(&self.file),
        }
    }
}

/// Which kind of input file a message is about.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum InputKind {
    Scenario,
    /// A user org file (`preset = "my-org.toml"`) or the built-in org.
    Org,
}

impl InputKind {
    /// What a file of this kind needs at least, and where it is described.
    fn empty_help(self) -> &'static str {
        match self {
            InputKind::Scenario => "a scenario needs at least [scenario] (name, duration), [org] (preset) and one [[load]] (arrival, tasks); see the README's \"Scenario format v1\" section for a complete example",
            InputKind::Org => "it is an org file (named by `preset` in a scenario's [org]), which needs name = \"my-org\", at least one [[domain]] (id, keywords) and one [[agent]] (id, domain); [[domain]] and [[agent]] take the same keys as [[org.domain]] and [[org.agent]] in the README's \"Scenario format v1\" section",
        }
    }
}

/// Everything that can be wrong with a scenario or org file.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum ScenarioError {
    /// The file could not be read.
    #[error("cannot read scenario file `{path}`: {reason} — check that the path exists and is a readable UTF-8 TOML file")]
    Read { path: String, reason: String },
    /// The file has no content (or only comments).
    #[error("{file} is empty — {}", .what.empty_help())]
    Empty { file: String, what: InputKind },
    /// The text is not valid TOML.
    #[error("invalid TOML at {at}: {message} — fix the syntax at that position")]
    Syntax { at: Location, message: String },
    /// A whole required table is absent.
    #[error("missing [{table}] in {file} — {help}")]
    MissingTable {
        table: String,
        file: String,
        help: String,
    },
    /// A key that the format does not know.
    #[error(
        "unknown key `{}` in {} at {at} — {hint}",
        last_key(key_path),
        table_of(key_path)
    )]
    UnknownKey {
        key_path: String,
        at: Location,
        hint: String,
    },
    /// A required key is absent.
    #[error("missing required key `{key_path}` in {at} — {help}")]
    MissingKey {
        key_path: String,
        at: Location,
        help: String,
    },
    /// A value of the wrong type, out of range, or inconsistent with others.
    #[error("invalid `{key_path}` at {at}: {message}")]
    Invalid {
        key_path: String,
        at: Location,
        message: String,
    },
    /// A malformed `--set` argument, or one naming a path that does not exist.
    #[error("bad `--set {arg}`: {message}")]
    Override { arg: String, message: String },
}

impl ScenarioError {
    /// An error about `key_path` (`"org.fallback_domain"`, `"fault[2].target"`)
    /// found after parsing, e.g. while building the org. The location is the
    /// key's place in the scenario text, or its nearest enclosing table when
    /// the key was defaulted, or the `--set` argument it came from.
    pub fn invalid(source: &SourceInfo, key_path: &str, message: impl Into<String>) -> Self {
        Locator::scenario(source).invalid(key_path, message)
    }

    /// The location this error points at, if it has one.
    pub fn location(&self) -> Option<&Location> {
        match self {
            ScenarioError::Syntax { at, .. }
            | ScenarioError::UnknownKey { at, .. }
            | ScenarioError::MissingKey { at, .. }
            | ScenarioError::Invalid { at, .. } => Some(at),
            _ => None,
        }
    }
}

/// An owned [`Ctx`]: locates key paths of one scenario or org file after
/// parsing (the org is resolved after the scenario's own validation).
/// Built only when an error is reported, since indexing re-parses the text.
pub struct Locator {
    origin: String,
    index: SpanIndex,
    overrides: Vec<(String, String)>,
}

impl Locator {
    /// Key paths of the scenario file, with its `--set` overrides.
    pub fn scenario(source: &SourceInfo) -> Locator {
        Locator {
            origin: source.path.clone(),
            index: SpanIndex::build(&source.text),
            overrides: source.override_paths.clone(),
        }
    }

    /// Key paths of an org file (no overrides reach it).
    pub fn org_file(origin: &str, text: &str) -> Locator {
        Locator {
            origin: origin.to_string(),
            index: SpanIndex::build(text),
            overrides: Vec::new(),
        }
    }

    fn ctx(&self) -> Ctx<'_> {
        Ctx {
            origin: &self.origin,
            index: &self.index,
            overrides: &self.overrides,
            preset: None,
        }
    }

    pub fn invalid(&self, key_path: &str, message: impl Into<String>) -> ScenarioError {
        self.ctx().invalid(key_path, message)
    }

    pub fn missing(&self, key_path: &str, help: impl Into<String>) -> ScenarioError {
        self.ctx().missing(key_path, help)
    }
}

/// `" — did you mean `X`?"` when a known id is close to `word`, else
/// `" — <what>: …"` listing them; empty when nothing is known. The one
/// did-you-mean engine ([`did_you_mean`]) for callers outside this module.
pub fn suggest<'a>(word: &str, known: impl IntoIterator<Item = &'a str>, what: &str) -> String {
    let known: Vec<&str> = known.into_iter().collect();
    if known.is_empty() {
        return String::new();
    }
    format!(" — {}", suggestion_hint(word, &known, what))
}

/// What error construction needs: the file name, where keys are, and which
/// paths were overridden on the command line.
pub(crate) struct Ctx<'a> {
    pub origin: &'a str,
    pub index: &'a SpanIndex,
    /// (canonical key path, `key=value` argument), in application order.
    pub overrides: &'a [(String, String)],
    /// The preset `--set` already read to resolve ids, so it is read once.
    pub preset: Option<&'a LoadedPreset>,
}

impl Ctx<'_> {
    /// The location of `key_path`, falling back to its enclosing tables.
    pub fn locate(&self, key_path: &str) -> Location {
        let set_arg = self
            .overrides
            .iter()
            .rev()
            .find(|(p, _)| is_same_or_ancestor(p, key_path))
            .map(|(_, arg)| arg.clone());
        let mut path = Some(key_path.to_string());
        let mut line_col = None;
        while let Some(p) = path {
            if let Some(pos) = self.index.line_col(&p) {
                line_col = Some(pos);
                break;
            }
            path = parent_path(&p);
        }
        Location {
            file: self.origin.to_string(),
            line_col,
            set_arg,
        }
    }

    pub fn invalid(&self, key_path: &str, message: impl Into<String>) -> ScenarioError {
        ScenarioError::Invalid {
            key_path: key_path.to_string(),
            at: self.locate(key_path),
            message: message.into(),
        }
    }

    pub fn missing(&self, key_path: &str, help: impl Into<String>) -> ScenarioError {
        ScenarioError::MissingKey {
            key_path: key_path.to_string(),
            at: self.locate(key_path),
            help: help.into(),
        }
    }

    /// An unknown key at `key_path`, with a suggestion from `known`.
    pub fn unknown_key(&self, key_path: &str, known: &[&str]) -> ScenarioError {
        ScenarioError::UnknownKey {
            key_path: key_path.to_string(),
            at: self.locate(key_path),
            hint: suggestion_hint(last_key(key_path), known, "allowed keys here"),
        }
    }
}

/// `latncy_mean` of `slo.latncy_mean`.
fn last_key(key_path: &str) -> &str {
    key_path.rsplit_once('.').map_or(key_path, |(_, k)| k)
}

/// `[slo]` for `slo.latncy_mean`; "the top level" for `scenaro`.
fn table_of(key_path: &str) -> String {
    match key_path.rsplit_once('.') {
        Some((table, _)) => format!("[{table}]"),
        None => "the top level".to_string(),
    }
}

/// `"did you mean `x`?"` when a candidate is close, else the list of choices.
pub(crate) fn suggestion_hint(word: &str, known: &[&str], what: &str) -> String {
    match did_you_mean(word, known) {
        Some(best) => format!("did you mean `{best}`?"),
        None if known.is_empty() => "this table takes no keys; remove it".to_string(),
        None => format!("{what}: {}", quoted_list(known)),
    }
}

/// The known word closest to `word`, if it is close enough to be a typo.
pub(crate) fn did_you_mean<'k>(word: &str, known: &[&'k str]) -> Option<&'k str> {
    let lower = word.to_ascii_lowercase();
    // Allow fewer edits for short words, so a one-letter id is not "close"
    // to every other one-letter id.
    let max_edits = (lower.chars().count() / 3).clamp(0, 2);
    known
        .iter()
        .map(|k| {
            let k_lower = k.to_ascii_lowercase();
            (
                strsim::jaro_winkler(&lower, &k_lower),
                strsim::levenshtein(&lower, &k_lower),
                *k,
            )
        })
        .filter(|&(jw, lev, _)| (jw >= 0.85 && lev <= 2.max(max_edits)) || lev <= max_edits)
        .max_by(|a, b| a.0.total_cmp(&b.0).then(b.1.cmp(&a.1)))
        .map(|(_, _, k)| k)
}

/// Most items [`quoted_list`] spells out (an org may have thousands of ids).
const MAX_LISTED: usize = 30;

/// `` `a`, `b`, `c` ``, cut after [`MAX_LISTED`] items with a count of the rest.
pub(crate) fn quoted_list(items: &[&str]) -> String {
    let mut out = items
        .iter()
        .take(MAX_LISTED)
        .map(|s| format!("`{s}`"))
        .collect::<Vec<_>>()
        .join(", ");
    if items.len() > MAX_LISTED {
        out.push_str(&format!(" and {} more", items.len() - MAX_LISTED));
    }
    out
}

/// True when `path` equals `ancestor` or lies inside it.
fn is_same_or_ancestor(ancestor: &str, path: &str) -> bool {
    path == ancestor
        || path
            .strip_prefix(ancestor)
            .is_some_and(|rest| rest.starts_with('.') || rest.starts_with('['))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn suggestions_catch_typos_only() {
        let known = ["latency_mean", "latency_p99", "throughput"];
        assert_eq!(did_you_mean("latncy_mean", &known), Some("latency_mean"));
        assert_eq!(did_you_mean("throughpt", &known), Some("throughput"));
        assert_eq!(did_you_mean("zebra", &known), None);
    }

    #[test]
    fn ancestors() {
        assert!(is_same_or_ancestor("load[0]", "load[0].arrival"));
        assert!(is_same_or_ancestor("load", "load[0]"));
        assert!(!is_same_or_ancestor("load[1]", "load[10]"));
        assert!(!is_same_or_ancestor("slo.a", "slo.ab"));
    }
}
