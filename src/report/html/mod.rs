//! `report.html` (DESIGN.md §7): one self-contained page per run or sweep
//! directory — inline `<style>`, inline SVG charts ([`plot`]), no script and
//! nothing fetched — built only from the files the directory already holds,
//! so `esa-sim report DIR` rewrites exactly the bytes `run --html` or
//! `sweep` wrote. This module owns the page shell (header, tables, HTML
//! escaping) and the error type; [`run`] and [`sweep`] own what each page
//! shows.

pub mod plot;
pub mod run;
pub mod sweep;

use std::io;
use std::path::{Path, PathBuf};

pub use run::write_run_report;
pub use sweep::write_sweep_report;

use crate::many::output::SweepFile;
use crate::report::fmt_in_unit;

/// The page's file name inside a report directory.
pub const FILE_NAME: &str = "report.html";

/// Why a report page could not be built or written.
#[derive(Debug, thiserror::Error)]
pub enum ReportError {
    #[error(
        "{} has neither sweep.json nor summary.json; pass the --out directory of `esa-sim run` or `esa-sim sweep`",
        dir.display()
    )]
    NotAReportDir { dir: PathBuf },
    #[error("cannot read {}: {source}; pass the --out directory of `esa-sim run` or `esa-sim sweep`", path.display())]
    Read { path: PathBuf, source: io::Error },
    #[error("{}:{}:{}: {}{}; the file is not one esa-sim wrote — run `esa-sim run` (or `sweep`) again into this directory", path.display(), source.line(), source.column(), key_prefix(key), without_position(source))]
    Json {
        path: PathBuf,
        /// The key path of the bad value (`points[0].metrics`), if known.
        key: String,
        source: serde_json::Error,
    },
    #[error("{}: {what}; the file is not one esa-sim wrote — run `esa-sim run` again into this directory", path.display())]
    Garbled { path: PathBuf, what: String },
    #[error("cannot write {}: {source}; check that the directory is writable", path.display())]
    Write { path: PathBuf, source: io::Error },
}

fn key_prefix(key: &str) -> String {
    match key {
        "" | "." => String::new(),
        k => format!("at `{k}`: "),
    }
}

/// serde_json's message without its trailing ` at line L column C` (the
/// error already starts with `path:line:col`).
fn without_position(e: &serde_json::Error) -> String {
    let msg = e.to_string();
    match msg.rfind(" at line ") {
        Some(i) => msg[..i].to_string(),
        None => msg,
    }
}

/// Reads a file of a report directory.
fn read(path: &Path) -> Result<String, ReportError> {
    std::fs::read_to_string(path).map_err(|source| ReportError::Read {
        path: path.to_path_buf(),
        source,
    })
}

/// `esa-sim report DIR`: the sweep page when DIR has `sweep.json`, else
/// the run page from `summary.json` and `timeseries.csv`.
pub fn write_report(dir: &Path) -> Result<(), ReportError> {
    let sweep = dir.join("sweep.json");
    if sweep.is_file() {
        let file = read_sweep(&sweep)?;
        return write_page(dir, sweep::sweep_page(&file));
    }
    if dir.join("summary.json").is_file() {
        return write_run_report(dir);
    }
    Err(ReportError::NotAReportDir {
        dir: dir.to_path_buf(),
    })
}

/// Reads and parses a `sweep.json`; errors name the key path.
pub fn read_sweep(path: &Path) -> Result<SweepFile, ReportError> {
    let text = read(path)?;
    let mut de = serde_json::Deserializer::from_str(&text);
    serde_path_to_error::deserialize(&mut de).map_err(|e| ReportError::Json {
        path: path.to_path_buf(),
        key: e.path().to_string(),
        source: e.into_inner(),
    })
}

/// Writes `dir/report.html` from a page that may have failed to draw.
fn write_page(dir: &Path, html: io::Result<String>) -> Result<(), ReportError> {
    let path = dir.join(FILE_NAME);
    html.and_then(|h| std::fs::write(&path, h))
        .map_err(|source| ReportError::Write { path, source })
}

/// HTML-escapes text for element content and attribute values.
pub fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '&' => out.push_str("&amp;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

/// A metric value in its unit (the `unit` strings of summary.json and
/// sweep.json: `ns`, `per_min`, `fraction`, `count`).
pub fn fmt_value(value: Option<f64>, unit: &str) -> String {
    let Some(v) = value.filter(|v| v.is_finite()) else {
        return "no data".into();
    };
    fmt_in_unit(v, unit).unwrap_or_else(|| plot::number(v))
}

/// A table cell; `class` colours it (`pass`, `fail`, `uncertain`).
pub struct Cell {
    pub text: String,
    pub class: Option<&'static str>,
}

impl Cell {
    pub fn plain(text: impl Into<String>) -> Cell {
        Cell {
            text: text.into(),
            class: None,
        }
    }

    pub fn classed(text: impl Into<String>, class: &'static str) -> Cell {
        Cell {
            text: text.into(),
            class: Some(class),
        }
    }
}

const STYLE: &str = "\
body{font-family:sans-serif;margin:24px auto;max-width:1000px;color:#222}
h1{font-size:22px;margin-bottom:4px}h2{font-size:17px;margin-top:28px;border-bottom:1px solid #ddd}
p.meta{color:#555;margin:2px 0;font-size:14px}
svg{display:block;margin:8px 0;border:1px solid #eee}
table{border-collapse:collapse;font-size:13px;margin:8px 0}
th,td{border:1px solid #ccc;padding:3px 8px;text-align:right}
th{background:#f2f2f2}td:first-child,th:first-child{text-align:left}
td.pass{background:#dff3df;color:#1b5e20}td.fail{background:#fbdada;color:#8b1010}
td.uncertain{background:#fff1c2;color:#7a5a00}
";

/// A page under construction: the body is appended to in order.
pub struct Page {
    title: String,
    body: String,
}

impl Page {
    pub fn new(title: &str) -> Page {
        Page {
            title: title.to_string(),
            body: format!("<h1>{}</h1>\n", escape(title)),
        }
    }

    /// A grey line of facts under the title.
    pub fn meta(&mut self, text: &str) {
        self.body
            .push_str(&format!("<p class=\"meta\">{}</p>\n", escape(text)));
    }

    pub fn heading(&mut self, text: &str) {
        self.body.push_str(&format!("<h2>{}</h2>\n", escape(text)));
    }

    pub fn chart(&mut self, chart: &plot::Chart) -> io::Result<()> {
        self.body.push_str(&chart.svg()?);
        self.body.push('\n');
        Ok(())
    }

    pub fn table(&mut self, header: &[&str], rows: &[Vec<Cell>]) {
        let mut t = String::from("<table>\n<tr>");
        for h in header {
            t.push_str(&format!("<th>{}</th>", escape(h)));
        }
        t.push_str("</tr>\n");
        for row in rows {
            t.push_str("<tr>");
            for c in row {
                match c.class {
                    Some(class) => {
                        t.push_str(&format!("<td class=\"{class}\">{}</td>", escape(&c.text)))
                    }
                    None => t.push_str(&format!("<td>{}</td>", escape(&c.text))),
                }
            }
            t.push_str("</tr>\n");
        }
        t.push_str("</table>\n");
        self.body.push_str(&t);
    }

    /// The whole document.
    pub fn finish(self) -> String {
        format!(
            "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n<title>{}</title>\n<style>\n{STYLE}</style>\n</head>\n<body>\n{}</body>\n</html>\n",
            escape(&self.title),
            self.body
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escapes_targets_and_markup() {
        assert_eq!(escape("< 5s & \"x\""), "&lt; 5s &amp; &quot;x&quot;");
        let mut p = Page::new("a<b");
        p.table(&["target"], &[vec![Cell::plain("< 1.25s")]]);
        let html = p.finish();
        assert!(html.contains("<title>a&lt;b</title>"));
        assert!(html.contains("<td>&lt; 1.25s</td>"));
    }

    #[test]
    fn values_in_their_units() {
        assert_eq!(fmt_value(Some(1.5e9), "ns"), "1.500s");
        assert_eq!(fmt_value(Some(0.995), "fraction"), "99.500%");
        assert_eq!(fmt_value(Some(12.0), "count"), "12");
        assert_eq!(fmt_value(None, "ns"), "no data");
    }
}
