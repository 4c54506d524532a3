//! `--set key=value` overrides, applied to the TOML document before it is
//! deserialized, so overridden values go through exactly the same checks as
//! written ones.
//!
//! The key is a dotted path; numeric segments index arrays
//! (`load.0.arrival.rate=2400/min`). The value is read as a TOML value when
//! it is one (`7`, `0.5`, `true`, `"quoted"`, `[..]`), else taken as a plain
//! string (`2400/min`, `< 3s`). Only existing keys can be changed, and new
//! keys can only be added to an existing table.

use super::error::{suggestion_hint, ScenarioError};
use super::span::canonical_path;
use toml::{Table, Value};

/// Most segments a `--set` key path may have.
const MAX_SEGMENTS: usize = 32;

/// Applies `overrides` in order; returns (canonical key path, argument) pairs.
pub(crate) fn apply(
    doc: &mut Table,
    overrides: &[String],
) -> Result<Vec<(String, String)>, ScenarioError> {
    overrides
        .iter()
        .map(|arg| {
            let (segments, raw_value) = split_arg(arg)?;
            let path = set_path(doc, &segments, parse_value(raw_value), arg)?;
            Ok((path, arg.clone()))
        })
        .collect()
}

/// Canonical key paths of already-applied overrides (no document needed);
/// malformed arguments are skipped.
pub(crate) fn override_paths(overrides: &[String]) -> Vec<(String, String)> {
    overrides
        .iter()
        .filter_map(|arg| {
            let (key, _) = arg.split_once('=')?;
            Some((canonical_path(key.trim()), arg.clone()))
        })
        .collect()
}

fn split_arg(arg: &str) -> Result<(Vec<&str>, &str), ScenarioError> {
    let bad = |message: String| ScenarioError::Override {
        arg: arg.to_string(),
        message,
    };
    let (key, value) = arg.split_once('=').ok_or_else(|| {
        bad("expected `key=value`, e.g. `--set scenario.seed=7` or `--set load.0.arrival.rate=2400/min`".into())
    })?;
    let key = key.trim();
    let segments: Vec<&str> = key.split('.').map(str::trim).collect();
    if key.is_empty() || segments.iter().any(|s| s.is_empty()) {
        return Err(bad(format!(
            "the key path `{key}` has an empty segment; write dotted keys like `slo.latency_mean`"
        )));
    }
    if segments.len() > MAX_SEGMENTS {
        return Err(bad(format!(
            "the key path has more than {MAX_SEGMENTS} segments"
        )));
    }
    Ok((segments, value.trim()))
}

/// The value as TOML if it parses as a single TOML value, else a plain string.
fn parse_value(raw: &str) -> Value {
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

/// Walks `segments` into `doc` and sets the last one; returns the canonical path.
/// The document is left unchanged on error.
fn set_path(
    doc: &mut Table,
    segments: &[&str],
    value: Value,
    arg: &str,
) -> Result<String, ScenarioError> {
    let mut root = Value::Table(std::mem::take(doc));
    let mut path = String::new();
    let result = walk_and_put(&mut root, segments, value, &mut path);
    if let Value::Table(t) = root {
        *doc = t;
    }
    result
        .map(|()| path)
        .map_err(|message| ScenarioError::Override {
            arg: arg.to_string(),
            message,
        })
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
        let paths = apply(&mut d, &args)?;
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
        let err = apply(&mut d, &["org.hop_latency=0s".to_string()]).unwrap_err();
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
}
