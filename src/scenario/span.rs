//! Where each key of a TOML document is, by key path.
//!
//! Key paths are written `scenario.duration`, `load[0].arrival.rate`,
//! `slo.domain.D3.latency_mean`; lookups also accept the `--set` spelling
//! `load.0.arrival.rate`. Positions are 1-based line and column (in
//! characters) of the key, or of the `[[table]]` header / `{` for array
//! elements. Only error paths use this, so it favours simplicity over speed.

use super::model::SourceInfo;
use std::collections::BTreeMap;
use toml::de::{DeTable, DeValue};

/// Byte offset of every key path's key in one document.
#[derive(Clone, Debug, Default)]
pub(crate) struct SpanIndex {
    text_lines: Vec<usize>,
    text: String,
    keys: BTreeMap<String, usize>,
}

impl SpanIndex {
    /// Indexes `text`; a text that is not valid TOML gives an empty index.
    pub fn build(text: &str) -> SpanIndex {
        let mut index = SpanIndex {
            text_lines: line_starts(text),
            text: text.to_string(),
            keys: BTreeMap::new(),
        };
        if let Ok(doc) = DeTable::parse(text) {
            index.add_table("", doc.get_ref(), 0);
        }
        index
    }

    fn add_table(&mut self, prefix: &str, table: &DeTable<'_>, depth: usize) {
        if depth > 64 {
            return;
        }
        for (key, value) in table.iter() {
            let path = join_key(prefix, key.get_ref());
            self.keys.entry(path.clone()).or_insert(key.span().start);
            self.add_value(&path, value.get_ref(), depth + 1);
        }
    }

    fn add_value(&mut self, path: &str, value: &DeValue<'_>, depth: usize) {
        match value {
            DeValue::Table(t) => self.add_table(path, t, depth),
            DeValue::Array(items) => {
                for (i, item) in items.iter().enumerate() {
                    let item_path = format!("{path}[{i}]");
                    self.keys.insert(item_path.clone(), item.span().start);
                    self.add_value(&item_path, item.get_ref(), depth + 1);
                }
            }
            _ => {}
        }
    }

    /// Byte offset of the key at `key_path`, if the document has it.
    pub fn offset(&self, key_path: &str) -> Option<usize> {
        if let Some(&pos) = self.keys.get(key_path) {
            return Some(pos);
        }
        self.keys.get(&canonical_path(key_path)).copied()
    }

    /// 1-based (line, column) of the key at `key_path`.
    pub fn line_col(&self, key_path: &str) -> Option<(usize, usize)> {
        self.offset(key_path).map(|off| self.offset_line_col(off))
    }

    /// 1-based (line, column) of a byte offset; column counts characters.
    pub fn offset_line_col(&self, offset: usize) -> (usize, usize) {
        let offset = offset.min(self.text.len());
        let line = self.text_lines.partition_point(|&start| start <= offset);
        let start = self
            .text_lines
            .get(line.saturating_sub(1))
            .copied()
            .unwrap_or(0);
        let col = self
            .text
            .get(start..offset)
            .map_or(offset - start, |s| s.chars().count());
        (line.max(1), col + 1)
    }
}

fn line_starts(text: &str) -> Vec<usize> {
    std::iter::once(0)
        .chain(text.match_indices('\n').map(|(i, _)| i + 1))
        .collect()
}

/// `prefix.key`, or `key` at the top level.
pub(crate) fn join_key(prefix: &str, key: &str) -> String {
    if prefix.is_empty() {
        key.to_string()
    } else {
        format!("{prefix}.{key}")
    }
}

/// Rewrites `load.0.arrival` as `load[0].arrival`.
pub(crate) fn canonical_path(path: &str) -> String {
    let mut out = String::with_capacity(path.len());
    for seg in path.split('.') {
        if !out.is_empty() && !seg.is_empty() && seg.bytes().all(|b| b.is_ascii_digit()) {
            out.push('[');
            out.push_str(seg);
            out.push(']');
        } else {
            if !out.is_empty() {
                out.push('.');
            }
            out.push_str(seg);
        }
    }
    out
}

/// The enclosing path: `load[0].arrival` → `load[0]` → `load` → `None`.
pub(crate) fn parent_path(path: &str) -> Option<String> {
    let path = canonical_path(path);
    if let Some(stripped) = path.strip_suffix(']') {
        if let Some(open) = stripped.rfind('[') {
            let parent = &path[..open];
            return (!parent.is_empty()).then(|| parent.to_string());
        }
    }
    path.rfind('.').map(|dot| path[..dot].to_string())
}

impl SourceInfo {
    /// 1-based (line, column) of `key_path`'s key in the scenario text
    /// (`"slo.latency_mean"`, `"load[0].arrival.rate"` or `"load.0.arrival.rate"`);
    /// `None` when the key is not written in the file (defaulted, or added by
    /// `--set`).
    pub fn locate(&self, key_path: &str) -> Option<(usize, usize)> {
        SpanIndex::build(&self.text).line_col(key_path)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const TEXT: &str = "[scenario]\nname = \"x\"\n\n[slo]\n  latency_mean = \"< 5s\"\ndomain.D3.completion = \"> 99%\"\n\n[[load]]\narrival = { process = \"poisson\", rate = \"1/s\" }\n";

    #[test]
    fn finds_keys_tables_and_array_elements() {
        let idx = SpanIndex::build(TEXT);
        assert_eq!(idx.line_col("scenario.name"), Some((2, 1)));
        assert_eq!(idx.line_col("slo.latency_mean"), Some((5, 3)));
        assert_eq!(idx.line_col("slo.domain.D3.completion"), Some((6, 11)));
        assert_eq!(idx.line_col("load[0]"), Some((8, 1)));
        assert_eq!(idx.line_col("load.0.arrival.rate"), Some((9, 34)));
        assert_eq!(idx.line_col("slo.nope"), None);
    }

    #[test]
    fn paths_normalise_and_walk_up() {
        assert_eq!(
            canonical_path("load.0.arrival.rate"),
            "load[0].arrival.rate"
        );
        assert_eq!(parent_path("load[0].arrival").as_deref(), Some("load[0]"));
        assert_eq!(parent_path("load[0]").as_deref(), Some("load"));
        assert_eq!(parent_path("load"), None);
    }

    #[test]
    fn source_info_locates() {
        let src = SourceInfo {
            text: TEXT.into(),
            ..SourceInfo::default()
        };
        assert_eq!(src.locate("slo.latency_mean"), Some((5, 3)));
    }
}
