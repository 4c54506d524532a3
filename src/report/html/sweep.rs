//! The sweep page, built from a [`SweepFile`] alone: every chart plots
//! against the first `--vary` axis (its numeric values, or its indices when
//! a value is not a number), one line per combination of the other axes'
//! values, with confidence bands, SLO target lines and the knees marked;
//! then the verdict table (point × SLO). A sweep with no axis shows the
//! table only.

use std::io;
use std::path::Path;

use super::plot::{Axis as PlotAxis, Chart, Marker, Series, Unit};
use super::{fmt_value, Cell, Page};
use crate::many::output::{Point, Replications, SweepFile, Verdict};
use crate::scenario::target_threshold;

/// Lines per chart at most; further combinations of the other axes are
/// left out (the page says how many).
const MAX_GROUPS: usize = 8;

/// Writes `dir/report.html` for a sweep.
pub fn write_sweep_report(dir: &Path, sweep: &SweepFile) -> io::Result<()> {
    std::fs::write(dir.join(super::FILE_NAME), sweep_page(sweep)?)
}

/// The points of one combination of the other axes' values.
struct Group<'a> {
    /// `key=value, …` of the other axes; empty for a one-axis sweep.
    name: String,
    points: Vec<&'a Point>,
}

/// The page.
pub fn sweep_page(sweep: &SweepFile) -> io::Result<String> {
    let mut page = Page::new(&format!("esa-sim sweep · {}", sweep.scenario.name));
    header(&mut page, sweep);
    if let Some(first) = sweep.vary.first() {
        let groups = groups(sweep);
        if groups.len() > MAX_GROUPS {
            page.meta(&format!(
                "charts show the first {MAX_GROUPS} of {} combinations of the other axes; the table has every point",
                groups.len()
            ));
        }
        let groups = &groups[..groups.len().min(MAX_GROUPS)];
        let x = XAxis::of(sweep);
        page.heading(&format!("Against {}", first.key));
        for chart in charts(sweep, &x, groups) {
            page.chart(&chart)?;
        }
    }
    page.heading("SLO verdicts per point");
    let (head, rows) = verdict_table(sweep);
    let head: Vec<&str> = head.iter().map(String::as_str).collect();
    page.table(&head, &rows);
    Ok(page.finish())
}

fn header(page: &mut Page, sweep: &SweepFile) {
    let s = &sweep.scenario;
    page.meta(&format!(
        "esa-sim {} · scenario {} · root seed {} · {}",
        sweep.esa_sim_version, s.name, s.seed, s.hash
    ));
    if !s.overrides.is_empty() {
        page.meta(&format!("--set {}", s.overrides.join(" · ")));
    }
    for a in &sweep.vary {
        page.meta(&format!("--vary {} = {}", a.key, a.values.join(", ")));
    }
    let reps = match &sweep.replications {
        Replications::Fixed { n } => format!("{n} replications per point"),
        Replications::Precision {
            precision,
            min,
            max,
        } => format!(
            "replications until every SLO half-width ≤ {}% of its mean ({min} to {max})",
            super::plot::number(precision * 100.0)
        ),
    };
    page.meta(&format!(
        "{} points · {reps} · {}% confidence intervals (Student t)",
        sweep.points.len(),
        super::plot::number(sweep.confidence * 100.0)
    ));
    for k in &sweep.knee {
        let at = group_name(k.at.0.iter().map(|(k, v)| (k.as_str(), v.as_str())));
        let value = |p: &Option<crate::many::output::KneePoint>| {
            p.as_ref().map_or("none".to_string(), |p| p.value.clone())
        };
        page.meta(&format!(
            "knee along {}{}: last value where every SLO passes {} · Kneedle point of mean latency {}",
            k.key,
            if at.is_empty() { String::new() } else { format!(" at {at}") },
            value(&k.last_passing),
            value(&k.kneedle)
        ));
    }
}

fn group_name<'a>(values: impl Iterator<Item = (&'a str, &'a str)>) -> String {
    values
        .map(|(k, v)| format!("{k}={v}"))
        .collect::<Vec<_>>()
        .join(", ")
}

/// The points grouped by the other axes' values, in order of appearance.
fn groups(sweep: &SweepFile) -> Vec<Group<'_>> {
    let mut groups: Vec<Group> = Vec::new();
    for p in &sweep.points {
        let name = group_name(
            p.values
                .0
                .iter()
                .skip(1)
                .map(|(k, v)| (k.as_str(), v.as_str())),
        );
        match groups.iter_mut().find(|g| g.name == name) {
            Some(g) => g.points.push(p),
            None => groups.push(Group {
                name,
                points: vec![p],
            }),
        }
    }
    groups
}

/// Where each point sits on the first axis.
struct XAxis {
    key: String,
    unit: Unit,
    /// The first axis's values as written, and as plotted.
    values: Vec<String>,
    xs: Vec<f64>,
}

impl XAxis {
    fn of(sweep: &SweepFile) -> XAxis {
        let a = &sweep.vary[0];
        let numeric: Option<Vec<f64>> = a.numeric.iter().copied().collect();
        let (unit, xs) = match numeric {
            Some(xs) if xs.len() == a.values.len() => (
                match a.unit.as_str() {
                    "ns" => Unit::Nanos,
                    "per_min" => Unit::PerMin,
                    _ => Unit::Count,
                },
                xs,
            ),
            _ => (
                Unit::Labels(a.values.clone()),
                (0..a.values.len()).map(|i| i as f64).collect(),
            ),
        };
        XAxis {
            key: a.key.clone(),
            unit,
            values: a.values.clone(),
            xs,
        }
    }

    fn axis(&self) -> PlotAxis {
        PlotAxis::new(self.key.clone(), self.unit.clone())
    }

    /// The x of a point: its first axis value's position.
    fn x(&self, p: &Point) -> Option<f64> {
        let v = p.values.get(&self.key)?;
        let i = self.values.iter().position(|w| w == v)?;
        self.xs.get(i).copied()
    }
}

/// One metric of a group's points as a line with its band.
fn metric_series(
    name: &str,
    group: &Group,
    metric: &str,
    x: &dyn Fn(&Point) -> Option<f64>,
) -> Series {
    let mut s = Series::new(name, Vec::new());
    for p in &group.points {
        let (Some(x), Some(m)) = (x(p), p.metrics.get(metric)) else {
            continue;
        };
        if let Some(mean) = m.mean {
            s.points.push((x, mean));
        }
        if let (Some(lo), Some(hi)) = (m.ci_low, m.ci_high) {
            s.band.push((x, lo, hi));
        }
    }
    s
}

/// A line per group; the group's name, or `fallback` for a one-axis sweep.
fn per_group(
    groups: &[Group],
    metric: &str,
    fallback: &str,
    x: &dyn Fn(&Point) -> Option<f64>,
) -> Vec<Series> {
    groups
        .iter()
        .map(|g| {
            let name = if g.name.is_empty() { fallback } else { &g.name };
            metric_series(name, g, metric, x)
        })
        .collect()
}

/// Target lines of the run-wide SLOs on `metric` (targets are the same at
/// every point; the first point's are used).
fn targets(sweep: &SweepFile, metric: &str) -> Vec<Marker> {
    let slos = sweep
        .points
        .first()
        .map(|p| p.slo.as_slice())
        .unwrap_or(&[]);
    slos.iter()
        .filter(|s| s.metric == metric)
        .filter_map(|s| {
            Some(Marker {
                at: target_threshold(&s.metric, &s.target)?,
                label: format!("SLO {} {}", s.metric, s.target),
            })
        })
        .collect()
}

/// Vertical markers at every knee.
fn knees(sweep: &SweepFile, x: &XAxis) -> Vec<Marker> {
    let mut out = Vec::new();
    for k in &sweep.knee {
        let at = group_name(k.at.0.iter().map(|(k, v)| (k.as_str(), v.as_str())));
        let suffix = if at.is_empty() {
            String::new()
        } else {
            format!(" ({at})")
        };
        for (kp, what) in [
            (&k.last_passing, "last passing"),
            (&k.kneedle, "Kneedle knee"),
        ] {
            let Some(kp) = kp else { continue };
            let Some(p) = sweep.points.get(kp.index) else {
                continue;
            };
            if let Some(at) = x.x(p) {
                out.push(Marker {
                    at,
                    label: format!("{what} {}{suffix}", kp.value),
                });
            }
        }
    }
    out
}

fn charts(sweep: &SweepFile, x: &XAxis, groups: &[Group]) -> Vec<Chart> {
    let on_x = |p: &Point| x.x(p);
    let knees = knees(sweep, x);
    let against_x = |title: &str, y: PlotAxis, metric: &str, name: &str| {
        let mut c = Chart::new(title, x.axis(), y);
        c.series = per_group(groups, metric, name, &on_x);
        c.targets = targets(sweep, metric);
        c.markers = knees.clone();
        c
    };
    let latency = |m| PlotAxis::new(m, Unit::Nanos);
    let mut charts = vec![
        against_x(
            "Mean job latency",
            latency("mean latency"),
            "latency_mean",
            "mean",
        ),
        against_x(
            "p99 job latency (mean over replications)",
            latency("p99 latency"),
            "latency_p99",
            "p99",
        ),
    ];
    let offered = |p: &Point| Some(p.offered_per_min);
    let mut tp = Chart::new(
        "Throughput against offered load",
        PlotAxis::new("offered load", Unit::PerMin),
        PlotAxis::new("throughput", Unit::PerMin),
    );
    tp.series = per_group(groups, "throughput", "throughput", &offered);
    tp.diagonal = Some("throughput = offered".into());
    tp.targets = targets(sweep, "throughput");
    charts.push(tp);
    let mut util = against_x(
        "Utilisation per domain",
        PlotAxis::new("utilisation", Unit::Fraction),
        "utilization",
        "org",
    );
    util.series = utilisation_series(sweep, groups, &on_x);
    charts.push(util);
    let mut completion = against_x(
        "Completion",
        PlotAxis::new("completion", Unit::Fraction),
        "completion",
        "completion",
    );
    completion.from_zero = false;
    charts.push(completion);
    charts
}

/// `domain.<D>.utilization` per domain and group; the org's
/// `utilization` when no domain metric is there.
fn utilisation_series(
    sweep: &SweepFile,
    groups: &[Group],
    x: &dyn Fn(&Point) -> Option<f64>,
) -> Vec<Series> {
    let domains: Vec<&str> = sweep
        .points
        .first()
        .map(|p| {
            p.metrics
                .0
                .iter()
                .filter_map(|(k, _)| k.strip_prefix("domain.")?.strip_suffix(".utilization"))
                .collect()
        })
        .unwrap_or_default();
    if domains.is_empty() {
        return per_group(groups, "utilization", "org", x);
    }
    let mut out = Vec::new();
    for d in domains {
        for g in groups {
            let name = match g.name.is_empty() {
                true => d.to_string(),
                false => format!("{d} · {}", g.name),
            };
            let mut s = metric_series(&name, g, &format!("domain.{d}.utilization"), x);
            s.band.clear();
            out.push(s);
        }
    }
    out.truncate(MAX_GROUPS);
    out
}

fn verdict_word(v: Verdict) -> (&'static str, &'static str) {
    match v {
        Verdict::Pass => ("pass", "pass"),
        Verdict::Uncertain => ("uncertain", "uncertain"),
        Verdict::Fail => ("FAIL", "fail"),
    }
}

/// Header and rows: the point's values, replications, one cell per SLO
/// (`mean [ci_low, ci_high]` and its verdict), the point's verdict.
fn verdict_table(sweep: &SweepFile) -> (Vec<String>, Vec<Vec<Cell>>) {
    let mut head: Vec<String> = vec!["point".into()];
    head.extend(sweep.vary.iter().map(|a| a.key.clone()));
    head.push("reps".into());
    let slos = sweep
        .points
        .first()
        .map(|p| p.slo.as_slice())
        .unwrap_or(&[]);
    head.extend(slos.iter().map(|s| format!("{} {}", s.metric, s.target)));
    head.push("verdict".into());
    let rows = sweep.points.iter().map(|p| {
        let mut row = vec![Cell::plain(p.index.to_string())];
        row.extend(p.values.0.iter().map(|(_, v)| Cell::plain(v.clone())));
        row.push(Cell::plain(p.replications.to_string()));
        for s in &p.slo {
            let unit = p.metrics.get(&s.metric).map_or("", |m| m.unit.as_str());
            let ci = match (s.ci_low, s.ci_high) {
                (Some(lo), Some(hi)) => format!(
                    " [{}, {}]",
                    fmt_value(Some(lo), unit),
                    fmt_value(Some(hi), unit)
                ),
                _ => String::new(),
            };
            let (word, class) = verdict_word(s.verdict);
            row.push(Cell::classed(
                format!("{}{ci} {word}", fmt_value(s.mean, unit)),
                class,
            ));
        }
        let (word, class) = verdict_word(p.verdict);
        row.push(Cell::classed(word, class));
        row
    });
    (head, rows.collect())
}
