//! Renders a [`Comparison`]: a terminal table, a GitHub markdown table (for
//! a pull-request comment or `$GITHUB_STEP_SUMMARY`), JSON, or Bencher
//! Metric Format (`{"<benchmark>": {"<measure>": {"value": x}}}`, with
//! `lower_value` / `upper_value` from a sweep's confidence interval).
//! Pure: the same comparison gives the same bytes.

use std::collections::BTreeMap;
use std::io::{self, Write};

use serde::Serialize;

use super::{Comparison, MetricUnit, Row, Unit, Verdict};
use crate::report::{fmt_in_unit, fmt_ns};
use crate::slo::unit_name;

/// `--format`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
pub enum Format {
    Text,
    Markdown,
    Json,
    Bmf,
}

/// Writes `c` in `format`.
pub fn write(c: &Comparison, format: Format, out: &mut dyn Write) -> io::Result<()> {
    match format {
        Format::Text => text(c, out),
        Format::Markdown => markdown(c, out),
        Format::Json => json(c, out),
        Format::Bmf => bmf(c, out),
    }
}

/// A value in its unit, with the interval when there is one.
fn value(unit: Unit, v: Option<f64>, ci: Option<(f64, f64)>) -> String {
    let Some(v) = v else {
        return "—".to_string();
    };
    let one = |v: f64| match unit {
        Unit::Metric(MetricUnit::Count) if v.fract() == 0.0 => format!("{v:.0}"),
        Unit::Metric(MetricUnit::Count) => format!("{v:.2}"),
        Unit::Metric(m) => fmt_in_unit(v, unit_name(m)).unwrap_or_else(|| format!("{v}")),
        Unit::PerSecond => format!("{v:.0}/s"),
        Unit::Seconds => fmt_ns(v * 1e9),
    };
    match ci {
        Some((lo, hi)) => format!("{} [{} – {}]", one(v), one(lo), one(hi)),
        None => one(v),
    }
}

fn change(r: &Row) -> String {
    match (r.change, r.baseline, r.current) {
        (Some(c), _, _) => format!("{:+.2}%", c * 100.0),
        (None, Some(_), Some(_)) => "from 0".to_string(),
        (None, _, _) => "—".to_string(),
    }
}

/// The last line: counts and the exit code, or "no change".
fn verdict_line(c: &Comparison) -> String {
    if c.rows.is_empty() {
        return format!("no change: all {} figures identical", c.figures);
    }
    let n = c.regressions();
    let quiet = match c.count(Verdict::NotSignificant) {
        0 => String::new(),
        k => format!(" · {k} not significant"),
    };
    format!(
        "{n} regression{} · {} improved · {} changed{quiet}, of {} figures{}",
        if n == 1 { "" } else { "s" },
        c.count(Verdict::Improved),
        c.count(Verdict::Changed),
        c.figures,
        if n > 0 { " → exit 4" } else { "" }
    )
}

/// Whether rows need their benchmark named (a sweep: one per point).
fn many_benchmarks(c: &Comparison) -> bool {
    c.current_groups.len() > 1 || c.rows.iter().any(|r| r.benchmark != c.scenario)
}

fn cells(c: &Comparison, r: &Row) -> [String; 5] {
    let metric = match many_benchmarks(c) {
        true => format!("{} · {}", r.benchmark, r.metric),
        false => r.metric.clone(),
    };
    [
        metric,
        value(r.unit, r.baseline, None),
        value(r.unit, r.current, r.current_ci),
        change(r),
        r.verdict.label().to_string(),
    ]
}

fn text(c: &Comparison, out: &mut dyn Write) -> io::Result<()> {
    writeln!(out, "compare scenario `{}`", c.scenario)?;
    for note in &c.notes {
        writeln!(out, "note: {note}")?;
    }
    if !c.rows.is_empty() {
        let rows: Vec<[String; 5]> = c.rows.iter().map(|r| cells(c, r)).collect();
        let head = ["metric", "baseline", "current", "change", "verdict"].map(String::from);
        let width = |i: usize| {
            rows.iter()
                .chain([&head])
                .map(|r| r[i].chars().count())
                .max()
                .unwrap_or(0)
        };
        let w = [width(0), width(1), width(2), width(3)];
        for r in [&head].into_iter().chain(&rows) {
            writeln!(
                out,
                "{:<w0$}  {:>w1$}  {:>w2$}  {:>w3$}  {}",
                r[0],
                r[1],
                r[2],
                r[3],
                r[4],
                w0 = w[0],
                w1 = w[1],
                w2 = w[2],
                w3 = w[3]
            )?;
        }
    }
    writeln!(out, "{}", verdict_line(c))
}

/// A markdown table cell: `|` escaped, no line breaks.
fn md(cell: &str) -> String {
    cell.replace('|', "\\|").replace('\n', " ")
}

fn markdown(c: &Comparison, out: &mut dyn Write) -> io::Result<()> {
    let n = c.regressions();
    let headline = match n {
        0 => "no regression".to_string(),
        _ => format!("**{n} regression{}**", if n == 1 { "" } else { "s" }),
    };
    writeln!(
        out,
        "### esa-sim compare · scenario `{}` · {headline}\n",
        md(&c.scenario)
    )?;
    for note in &c.notes {
        writeln!(out, "- {}", md(note))?;
    }
    if !c.notes.is_empty() {
        writeln!(out)?;
    }
    if !c.rows.is_empty() {
        writeln!(out, "| metric | baseline | current | change | verdict |")?;
        writeln!(out, "|---|---:|---:|---:|---|")?;
        for r in &c.rows {
            let [m, b, cur, ch, v] = cells(c, r).map(|s| md(&s));
            let v = match r.verdict {
                Verdict::Regression => format!("**{v}**"),
                Verdict::Improved | Verdict::Changed | Verdict::NotSignificant => v,
            };
            writeln!(out, "| `{m}` | {b} | {cur} | {ch} | {v} |")?;
        }
        writeln!(out)?;
    }
    writeln!(out, "{}", verdict_line(c))
}

#[derive(Serialize)]
struct JsonOut<'a> {
    #[serde(flatten)]
    comparison: &'a Comparison,
    regressions: usize,
    exit: i32,
}

fn json(c: &Comparison, out: &mut dyn Write) -> io::Result<()> {
    let doc = JsonOut {
        comparison: c,
        regressions: c.regressions(),
        exit: if c.regressions() > 0 { 4 } else { 0 },
    };
    serde_json::to_writer_pretty(&mut *out, &doc).map_err(io::Error::from)?;
    writeln!(out)
}

/// One Bencher measure.
#[derive(Serialize)]
struct Measure {
    value: f64,
    #[serde(skip_serializing_if = "Option::is_none")]
    lower_value: Option<f64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    upper_value: Option<f64>,
}

/// Bencher Metric Format of the current side: every figure with a value.
fn bmf(c: &Comparison, out: &mut dyn Write) -> io::Result<()> {
    let doc: BTreeMap<&str, BTreeMap<&str, Measure>> = c
        .current_groups
        .iter()
        .map(|g| {
            let measures = g
                .figures
                .iter()
                .filter_map(|f| {
                    let value = f.value?;
                    Some((
                        f.name.as_str(),
                        Measure {
                            value,
                            lower_value: f.ci.map(|(lo, _)| lo),
                            upper_value: f.ci.map(|(_, hi)| hi),
                        },
                    ))
                })
                .collect();
            (g.benchmark.as_str(), measures)
        })
        .collect();
    serde_json::to_writer_pretty(&mut *out, &doc).map_err(io::Error::from)?;
    writeln!(out)
}
