//! `--set key=value` overrides, applied to the TOML document before it is
//! deserialized, so overridden values go through exactly the same checks as
//! written ones.
//!
//! The key is a dotted path; numeric segments index arrays
//! (`load.0.arrival.rate=2400/min`). The value is read as a TOML value when
//! it is one (`7`, `0.5`, `true`, `"quoted"`, `[..]`), else taken as a plain
//! string (`2400/min`, `< 3s`). Only existing keys can be changed, and new
//! keys can only be added to an existing table.
//!
//! Org members are also addressed by id: `org.agent.L12.slots=8`,
//! `org.domain.D3.keywords=["etl"]`. The key is set in the scenario's
//! `[[org.agent]]` / `[[org.domain]]` entry with that id; when there is
//! none but the preset (the built-in org or an org file) has the id, a new
//! override entry `{ id = "L12", … }` is appended, which the org merge
//! applies on top of the preset's. A nested key (`service.mean`) of an
//! entry that does not write its parent starts from the preset's value of
//! the parent, so `service.mean` keeps the preset's `dist` and `cv`.
//! [`set_key`] is the one path resolution, for `--set` and `--vary` alike.

use super::error::{suggestion_hint, ScenarioError};
use super::model::Preset;
use super::validate::resolve_preset;
use std::path::Path;
use toml::{Table, Value};

/// Most segments a `--set` key path may have.
const MAX_SEGMENTS: usize = 32;

/// What [`apply`] did: the canonical key path each override changed (with
/// its argument), and the preset read to resolve ids, if one was.
#[derive(Debug, Default)]
pub(crate) struct Applied {
    pub paths: Vec<(String, String)>,
    pub preset: Option<LoadedPreset>,
}

/// A preset read while resolving ids, with the `[org] preset` value it was
/// read for (validation reuses it when the value is unchanged).
#[derive(Debug)]
pub(crate) struct LoadedPreset {
    pub name: String,
    pub preset: Preset,
    /// The org file as TOML (`None` for `preset = "none"`).
    doc: Option<Table>,
}

impl LoadedPreset {
    /// The preset's `[[agent]]` / `[[domain]]` tables.
    fn entries(&self, list: List) -> impl Iterator<Item = &Table> {
        self.doc
            .iter()
            .filter_map(move |d| d.get(list.key()).and_then(Value::as_array))
            .flatten()
            .filter_map(Value::as_table)
    }

    fn entry(&self, list: List, id: &str) -> Option<&Table> {
        self.entries(list).find(|t| id_of(t) == Some(id))
    }
}

/// The presets [`set_key`] may need, read at most once per `preset` value.
pub(crate) struct Presets<'a> {
    base_dir: &'a Path,
    loaded: Option<LoadedPreset>,
}

impl<'a> Presets<'a> {
    /// Org files named by `preset` resolve against `base_dir` (the
    /// scenario file's directory).
    pub(crate) fn new(base_dir: &'a Path) -> Self {
        Presets {
            base_dir,
            loaded: None,
        }
    }

    /// The preset named `name`, read (and checked) on first use.
    fn get(&mut self, name: &str) -> Result<&LoadedPreset, String> {
        if self.loaded.as_ref().map(|l| l.name.as_str()) != Some(name) {
            self.loaded = Some(load_preset(name, self.base_dir)?);
        }
        self.loaded
            .as_ref()
            .ok_or_else(|| "internal: preset not loaded".to_string())
    }
}

fn load_preset(name: &str, base_dir: &Path) -> Result<LoadedPreset, String> {
    let preset = resolve_preset(name, base_dir)
        .map_err(|m| format!("ids are looked up in [org] preset, which is wrong: {m}"))?;
    let doc = match preset.source() {
        None => None,
        Some((origin, text)) => {
            super::parse_org_file(origin, text)
                .map_err(|e| format!("ids are looked up in the preset, which is invalid: {e}"))?;
            Some(text.parse::<Table>().map_err(|e| e.to_string())?)
        }
    };
    Ok(LoadedPreset {
        name: name.to_string(),
        preset,
        doc,
    })
}

/// Applies `overrides` in order; org files named by `preset` resolve
/// against `base_dir`.
pub(crate) fn apply(
    doc: &mut Table,
    overrides: &[String],
    base_dir: &Path,
) -> Result<Applied, ScenarioError> {
    let mut presets = Presets::new(base_dir);
    let mut paths = Vec::with_capacity(overrides.len());
    for arg in overrides {
        let (segments, raw_value) = split_arg(arg)?;
        let path =
            set_key(doc, &segments, parse_value(raw_value), &mut presets).map_err(|message| {
                ScenarioError::Override {
                    arg: arg.to_string(),
                    message,
                }
            })?;
        paths.push((path, arg.clone()));
    }
    Ok(Applied {
        paths,
        preset: presets.loaded,
    })
}

fn split_arg(arg: &str) -> Result<(Vec<&str>, &str), ScenarioError> {
    let bad = |message: String| ScenarioError::Override {
        arg: arg.to_string(),
        message,
    };
    let (key, value) = arg.split_once('=').ok_or_else(|| {
        bad("expected `key=value`, e.g. `--set scenario.seed=7` or `--set load.0.arrival.rate=2400/min`".into())
    })?;
    let segments = key_segments(key).map_err(bad)?;
    Ok((segments, value.trim()))
}

/// The segments of a dotted key path (`org.agent.L12.slots`), for
/// [`set_key`]; the error says what is wrong with the path.
pub(crate) fn key_segments(key: &str) -> Result<Vec<&str>, String> {
    let key = key.trim();
    let segments: Vec<&str> = key.split('.').map(str::trim).collect();
    if key.is_empty() || segments.iter().any(|s| s.is_empty()) {
        return Err(format!(
            "the key path `{key}` has an empty segment; write dotted keys like `slo.latency_mean`"
        ));
    }
    if segments.len() > MAX_SEGMENTS {
        return Err(format!(
            "the key path has more than {MAX_SEGMENTS} segments"
        ));
    }
    Ok(segments)
}

/// The value as TOML if it parses as a single TOML value, else a plain string.
pub(crate) fn parse_value(raw: &str) -> Value {
    if let Ok(mut table) = format!("v = {raw}").parse::<Table>() {
        if table.len() == 1 {
            match table.remove("v") {
                Some(Value::Datetime(_)) | None => {}
                Some(value) => return value,
            }
        }
    }
    Value::String(raw.to_string())
}

/// Sets the key at `segments` in `doc` to `value` and returns its canonical
/// path (`org.agent.L12.slots` → `org.agent[3].slots`, or `org.agent[5]`
/// for an entry it appended). Resolves org member ids (see the module
/// docs); the document is left unchanged on error.
pub(crate) fn set_key(
    doc: &mut Table,
    segments: &[&str],
    value: Value,
    presets: &mut Presets<'_>,
) -> Result<String, String> {
    match member_target(segments) {
        Some((list, id, rest)) => set_member(doc, list, id, rest, value, presets),
        None => set_plain(doc, segments, value),
    }
}

fn set_plain(doc: &mut Table, segments: &[&str], value: Value) -> Result<String, String> {
    let mut root = Value::Table(std::mem::take(doc));
    let mut path = String::new();
    let result = walk_and_put(&mut root, segments, value, &mut path);
    if let Value::Table(t) = root {
        *doc = t;
    }
    result.map(|()| path)
}

/// A list of org members addressable by id.
#[derive(Clone, Copy, Debug)]
enum List {
    Agent,
    Domain,
}

impl List {
    /// Its key in `[org]` and in an org file.
    fn key(self) -> &'static str {
        match self {
            List::Agent => "agent",
            List::Domain => "domain",
        }
    }

    /// An example `--set` for messages.
    fn example(self, id: &str) -> String {
        match self {
            List::Agent => format!("org.agent.{id}.slots=8"),
            List::Domain => format!("org.domain.{id}.keywords=[\"etl\"]"),
        }
    }
}

/// `org.<agent|domain>.<id>.<rest…>` with a non-numeric id (numeric
/// segments keep indexing the scenario's own list).
fn member_target<'s>(segments: &'s [&'s str]) -> Option<(List, &'s str, &'s [&'s str])> {
    let [org, list, id, rest @ ..] = segments else {
        return None;
    };
    let list = match *list {
        "agent" => List::Agent,
        "domain" => List::Domain,
        _ => return None,
    };
    let numeric = id.bytes().all(|b| b.is_ascii_digit());
    (*org == "org" && !numeric).then_some((list, *id, rest))
}

fn id_of(entry: &Table) -> Option<&str> {
    entry.get("id").and_then(Value::as_str)
}

/// Sets `rest` in the member `id` of `list`: in the scenario's entry with
/// that id, or in a new override entry when only the preset has it.
fn set_member(
    doc: &mut Table,
    list: List,
    id: &str,
    rest: &[&str],
    value: Value,
    presets: &mut Presets<'_>,
) -> Result<String, String> {
    let key = list.key();
    let Some(first) = rest.first() else {
        return Err(format!(
            "`org.{key}.{id}` names a whole entry; set one of its keys, e.g. `{}`",
            list.example(id)
        ));
    };
    let org = match doc.get_mut("org") {
        Some(Value::Table(org)) => org,
        Some(_) | None => {
            return Err(format!("the scenario has no [org] table, so there is no {key} `{id}`; add [org] with preset = \"esa-105\" (or your org file)"))
        }
    };
    let preset_name = org
        .get("preset")
        .and_then(Value::as_str)
        .unwrap_or("none")
        .to_string();
    let items: &[Value] = match org.get(key) {
        None => &[],
        Some(Value::Array(items)) => items,
        Some(other) => {
            return Err(format!(
                "`org.{key}` is a {}, not a list of [[org.{key}]] entries",
                other.type_str()
            ))
        }
    };
    let found = items
        .iter()
        .position(|v| v.as_table().and_then(id_of) == Some(id));
    let mut entry = found
        .and_then(|i| items[i].as_table().cloned())
        .unwrap_or_default();
    let nested = rest.len() > 1 && !entry.contains_key(*first);
    if found.is_none() || nested {
        let preset = presets.get(&preset_name)?;
        let base = preset.entry(list, id);
        if found.is_none() {
            if base.is_none() {
                return Err(unknown_id(list, id, items, preset));
            }
            entry.insert("id".into(), Value::String(id.to_string()));
        }
        if nested {
            let Some(parent) = base.and_then(|b| b.get(*first)) else {
                return Err(no_parent(list, id, first));
            };
            entry.insert(first.to_string(), parent.clone());
        }
    }
    let index = found.unwrap_or(items.len());
    let mut path = format!("org.{key}[{index}]");
    let mut root = Value::Table(entry);
    walk_and_put(&mut root, rest, value, &mut path)?;
    match org.entry(key).or_insert_with(|| Value::Array(Vec::new())) {
        Value::Array(items) if index < items.len() => items[index] = root,
        Value::Array(items) => items.push(root),
        _ => return Err(format!("internal: `org.{key}` is not a list")),
    }
    // What this override wrote as a whole: the new entry, or the parent
    // table it copied from the preset, or just the key.
    Ok(match (found, nested) {
        (None, _) => format!("org.{key}[{index}]"),
        (Some(_), true) => format!("org.{key}[{index}].{first}"),
        (Some(_), false) => path,
    })
}

/// Did-you-mean over the preset's ids and the scenario's.
fn unknown_id(list: List, id: &str, items: &[Value], preset: &LoadedPreset) -> String {
    let key = list.key();
    let mut known: Vec<&str> = preset.entries(list).filter_map(id_of).collect();
    for own in items.iter().filter_map(Value::as_table).filter_map(id_of) {
        if !known.contains(&own) {
            known.push(own);
        }
    }
    let of_preset = match preset.preset.source() {
        Some((origin, _)) => format!(" or of the preset `{origin}`"),
        None => String::new(),
    };
    format!(
        "`{id}` is not the id of a [[org.{key}]] entry of the scenario{of_preset} — {}; address the {key} by its id, or by its index in the scenario's own [[org.{key}]] list (`org.{key}.0`)",
        suggestion_hint(id, &known, &format!("{key} ids"))
    )
}

/// Neither the scenario's entry nor the preset's writes `first`, so a key
/// inside it has nothing to start from.
fn no_parent(list: List, id: &str, first: &str) -> String {
    let key = list.key();
    let example = match first {
        "service" => format!(
            "'org.{key}.{id}.service={{ dist = \"lognormal\", mean = \"800ms\", cv = 0.5 }}'"
        ),
        other => format!("org.{key}.{id}.{other}=<whole value>"),
    };
    format!("{key} `{id}` has no `{first}` of its own in the scenario or the preset (it uses the default), so there is nothing to change inside it; set the whole value, e.g. --set {example}")
}

fn walk_and_put(
    root: &mut Value,
    segments: &[&str],
    value: Value,
    path: &mut String,
) -> Result<(), String> {
    let (last, parents) = segments
        .split_last()
        .ok_or_else(|| "empty key".to_string())?;
    let mut here = root;
    for seg in parents {
        here = step(here, seg, path)?;
    }
    put(here, last, value, path)
}

/// Moves one segment down; the segment must exist.
fn step<'v>(here: &'v mut Value, seg: &str, path: &mut String) -> Result<&'v mut Value, String> {
    match here {
        Value::Table(table) => {
            let shown = shown_path(path);
            if !table.contains_key(seg) {
                let keys: Vec<&str> = table.keys().map(String::as_str).collect();
                let hint = suggestion_hint(seg, &keys, "keys there");
                return Err(format!(
                    "`{}` does not exist in the scenario ({shown} has no `{seg}`) — {hint}; --set can change existing keys and add keys to existing tables only",
                    join(path, seg)
                ));
            }
            push_key(path, seg);
            table
                .get_mut(seg)
                .ok_or_else(|| "internal: key vanished".to_string())
        }
        Value::Array(items) => {
            let len = items.len();
            let index = array_index(seg, len, path)?;
            path.push_str(&format!("[{index}]"));
            items
                .get_mut(index)
                .ok_or_else(|| "internal: index vanished".to_string())
        }
        other => Err(format!(
            "`{path}` is a {}, not a table, so it has no `{seg}`",
            other.type_str()
        )),
    }
}

/// Sets the last segment: replaces an existing value or adds a key to a table.
fn put(here: &mut Value, seg: &str, value: Value, path: &mut String) -> Result<(), String> {
    match here {
        Value::Table(table) => {
            push_key(path, seg);
            table.insert(seg.to_string(), value);
            Ok(())
        }
        Value::Array(items) => {
            let index = array_index(seg, items.len(), path)?;
            path.push_str(&format!("[{index}]"));
            items[index] = value;
            Ok(())
        }
        other => Err(format!(
            "`{path}` is a {}, not a table, so it has no `{seg}`",
            other.type_str()
        )),
    }
}

fn array_index(seg: &str, len: usize, path: &str) -> Result<usize, String> {
    let index: usize = seg.parse().map_err(|_| {
        format!(
            "`{path}` is a list; index it with a number from 0 to {}, e.g. `{path}.0`",
            len.saturating_sub(1)
        )
    })?;
    if index >= len {
        return Err(format!(
            "`{path}` has {len} entr{}; index {index} is out of range (use 0..{})",
            if len == 1 { "y" } else { "ies" },
            len.saturating_sub(1)
        ));
    }
    Ok(index)
}

fn push_key(path: &mut String, seg: &str) {
    if !path.is_empty() {
        path.push('.');
    }
    path.push_str(seg);
}

fn join(path: &str, seg: &str) -> String {
    let mut p = path.to_string();
    push_key(&mut p, seg);
    p
}

fn shown_path(path: &str) -> String {
    if path.is_empty() {
        "the top level".to_string()
    } else {
        format!("[{path}]")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn doc() -> Table {
        "[scenario]\nseed = 1\n[slo]\nlatency_mean = \"< 5s\"\n[[load]]\narrival = { process = \"poisson\", rate = \"1/s\" }\n"
            .parse()
            .unwrap()
    }

    fn set(args: &[&str]) -> Result<(Table, Vec<(String, String)>), ScenarioError> {
        let mut d = doc();
        let args: Vec<String> = args.iter().map(|s| s.to_string()).collect();
        let paths = apply(&mut d, &args, Path::new("."))?.paths;
        Ok((d, paths))
    }

    #[test]
    fn values_are_toml_or_plain_strings() {
        let (d, paths) = set(&[
            "scenario.seed=7",
            "load.0.arrival.rate=2400/min",
            "slo.latency_p99=< 3s",
        ])
        .unwrap();
        assert_eq!(d["scenario"]["seed"].as_integer(), Some(7));
        assert_eq!(d["load"][0]["arrival"]["rate"].as_str(), Some("2400/min"));
        assert_eq!(d["slo"]["latency_p99"].as_str(), Some("< 3s"));
        assert_eq!(paths[1].0, "load[0].arrival.rate");
        assert_eq!(parse_value("\"a b\""), Value::String("a b".into()));
        assert_eq!(parse_value("true"), Value::Boolean(true));
        assert_eq!(parse_value("0s"), Value::String("0s".into()));
        assert_eq!(parse_value("1\nx = 2"), Value::String("1\nx = 2".into()));
    }

    #[test]
    fn bad_paths_are_errors_and_keep_the_document() {
        let mut d = doc();
        let err = apply(&mut d, &["org.hop_latency=0s".to_string()], Path::new(".")).unwrap_err();
        assert!(err.to_string().contains("`org` does not exist"), "{err}");
        assert!(d.contains_key("scenario"), "document lost on error");
        for bad in [
            "scenario.seed",
            "load.3.arrival.rate=1/s",
            "load.x=1",
            "scenario..seed=1",
            "scenario.seed.x=1",
        ] {
            assert!(set(&[bad]).is_err(), "{bad} accepted");
        }
        let err = set(&["scenario.seed"]).unwrap_err().to_string();
        assert!(err.contains("expected `key=value`"), "{err}");
    }

    const WITH_PRESET: &str =
        "[org]\npreset = \"esa-105\"\n[[org.agent]]\nid = \"mine\"\ndomain = \"D3\"\n";

    fn set_in(text: &str, args: &[&str]) -> Result<(Table, Applied), ScenarioError> {
        let mut d: Table = text.parse().unwrap();
        let args: Vec<String> = args.iter().map(|s| s.to_string()).collect();
        let applied = apply(&mut d, &args, Path::new("."))?;
        Ok((d, applied))
    }

    #[test]
    fn ids_resolve_to_own_entries_or_append_override_entries() {
        let (d, applied) = set_in(
            WITH_PRESET,
            &[
                "org.agent.mine.slots=2",
                "org.agent.L12.slots=9",
                "org.agent.L12.service.mean=800ms",
                "org.domain.D3.keywords=[\"etl\"]",
            ],
        )
        .unwrap();
        let agents = d["org"]["agent"].as_array().unwrap();
        assert_eq!(agents.len(), 2, "one entry appended for L12: {agents:?}");
        assert_eq!(agents[0]["slots"].as_integer(), Some(2));
        let l12 = &agents[1];
        assert_eq!(l12["id"].as_str(), Some("L12"));
        assert_eq!(l12["slots"].as_integer(), Some(9));
        // The preset's service table, with only `mean` changed.
        assert_eq!(l12["service"]["dist"].as_str(), Some("lognormal"));
        assert_eq!(l12["service"]["cv"].as_float(), Some(0.5));
        assert_eq!(l12["service"]["mean"].as_str(), Some("800ms"));
        let paths: Vec<&str> = applied.paths.iter().map(|(p, _)| p.as_str()).collect();
        assert_eq!(
            paths,
            [
                "org.agent[0].slots",
                "org.agent[1]",
                // `service` came from the preset, as a whole, with this `--set`.
                "org.agent[1].service",
                "org.domain[0]"
            ]
        );
        assert_eq!(d["org"]["domain"][0]["keywords"][0].as_str(), Some("etl"));
        assert_eq!(applied.preset.map(|p| p.preset), Some(Preset::Esa105));
    }

    #[test]
    fn unknown_ids_are_errors_and_keep_the_document() {
        let mut d: Table = WITH_PRESET.parse().unwrap();
        let before = d.clone();
        for (arg, expect) in [
            ("org.agent.L121.slots=2", "did you mean `L12`?"),
            ("org.agent.mien.slots=2", "did you mean `mine`?"),
            ("org.agent.L12=2", "names a whole entry"),
            ("org.agent.L12.service.mean.x=2", "is a string, not a table"),
            (
                "org.agent.CEO.service.mean=1s",
                "has no `service` of its own",
            ),
        ] {
            let err = apply(&mut d, &[arg.to_string()], Path::new("."))
                .unwrap_err()
                .to_string();
            assert!(err.contains(expect) && err.contains(arg), "{arg}: {err}");
            assert_eq!(d, before, "{arg} changed the document");
        }
        let err = set_in("[scenario]\n", &["org.agent.L12.slots=2"]).unwrap_err();
        assert!(err.to_string().contains("no [org] table"), "{err}");
    }
}
