//! The run page: built from a run directory's `summary.json`,
//! `timeseries.csv` and (when present) `latency.hgrm` — the header, the
//! time series with the fault window shaded and agent detections marked,
//! the latency percentile curve and the SLO table. Reads the files as
//! written (summary as JSON values, the CSV by column name), so it works
//! for any directory `run` wrote and touches nothing else.

use std::path::Path;

use serde_json::Value;

use super::plot::{Axis, Chart, Marker, Series, Span, Unit};
use super::{fmt_value, read, write_page, Cell, Page, ReportError};
use crate::report::fmt_ns;
use crate::scenario::target_threshold;

/// Builds `dir/report.html` from the run files in `dir`.
pub fn write_run_report(dir: &Path) -> Result<(), ReportError> {
    let summary = read_summary(&dir.join("summary.json"))?;
    let series = TimeTable::read(&dir.join("timeseries.csv"))?;
    let hgrm = dir.join("latency.hgrm");
    let percentiles = match hgrm.exists() {
        true => read_hgrm(&hgrm)?,
        false => summary_percentiles(&summary),
    };
    write_page(dir, run_page(&summary, &series, &percentiles))
}

fn read_summary(path: &Path) -> Result<Value, ReportError> {
    let v: Value =
        serde_json::from_str(&super::read(path)?).map_err(|source| ReportError::Json {
            path: path.to_path_buf(),
            key: String::new(),
            source,
        })?;
    for key in ["scenario", "window_ns", "latency_ns", "slo"] {
        if v.get(key).is_none() {
            return Err(ReportError::Garbled {
                path: path.to_path_buf(),
                what: format!("has no `{key}`"),
            });
        }
    }
    Ok(v)
}

/// A number at a `/`-separated JSON pointer, e.g. `"/latency_ns/p99"`.
fn num(v: &Value, pointer: &str) -> Option<f64> {
    v.pointer(pointer).and_then(Value::as_f64)
}

fn text(v: &Value, pointer: &str) -> String {
    match v.pointer(pointer) {
        Some(Value::String(s)) => s.clone(),
        Some(other) => other.to_string(),
        None => "?".into(),
    }
}

/// `timeseries.csv`: column names and every row as numbers.
pub struct TimeTable {
    names: Vec<String>,
    rows: Vec<Vec<f64>>,
}

impl TimeTable {
    fn read(path: &Path) -> Result<TimeTable, ReportError> {
        let garbled = |what: String| ReportError::Garbled {
            path: path.to_path_buf(),
            what,
        };
        let text = read(path)?;
        let mut rdr = csv::Reader::from_reader(text.as_bytes());
        let names: Vec<String> = rdr
            .headers()
            .map_err(|e| garbled(e.to_string()))?
            .iter()
            .map(str::to_string)
            .collect();
        let mut rows = Vec::new();
        for (i, record) in rdr.records().enumerate() {
            let record = record.map_err(|e| garbled(e.to_string()))?;
            let row = record.iter().zip(&names).map(|(field, name)| {
                field.parse::<f64>().map_err(|_| {
                    garbled(format!(
                        "line {}: `{name}` is `{field}`, not a number",
                        i + 2
                    ))
                })
            });
            rows.push(row.collect::<Result<Vec<f64>, _>>()?);
        }
        let table = TimeTable { names, rows };
        for col in ["start_ns", "end_ns", "arrivals", "completed", "in_flight"] {
            if table.column(col).is_none() {
                return Err(garbled(format!("has no `{col}` column")));
            }
        }
        Ok(table)
    }

    fn column(&self, name: &str) -> Option<Vec<f64>> {
        let j = self.names.iter().position(|n| n == name)?;
        Some(
            self.rows
                .iter()
                .map(|r| r.get(j).copied().unwrap_or(f64::NAN))
                .collect(),
        )
    }

    /// Each interval's midpoint, ns: the x of every time-series point.
    fn mids(&self) -> Vec<f64> {
        let starts = self.column("start_ns").unwrap_or_default();
        let ends = self.column("end_ns").unwrap_or_default();
        starts
            .iter()
            .zip(&ends)
            .map(|(s, e)| (s + e) / 2.0)
            .collect()
    }

    /// A column as a line over time, scaled by `per_row(row)`.
    fn series(&self, name: &str, label: &str, per_min: bool) -> Option<Series> {
        let ys = self.column(name)?;
        let starts = self.column("start_ns")?;
        let ends = self.column("end_ns")?;
        let points = self
            .mids()
            .into_iter()
            .enumerate()
            .map(|(i, x)| {
                let scale = match per_min {
                    true => 60e9 / (ends[i] - starts[i]).max(1.0),
                    false => 1.0,
                };
                (x, ys[i] * scale)
            })
            .collect();
        Some(Series::new(label, points))
    }

    /// The `<domain><suffix>` columns that are ever non-zero, as lines.
    fn per_domain(&self, suffix: &str) -> Vec<Series> {
        self.names
            .iter()
            .filter_map(|n| n.strip_suffix(suffix).map(|d| (n, d)))
            .filter_map(|(n, d)| self.series(n, d, false))
            .filter(|s| s.points.iter().any(|p| p.1 != 0.0))
            .collect()
    }
}

/// Latency percentiles `(log10(1/(1-p)), ns)` from `latency.hgrm`.
fn read_hgrm(path: &Path) -> Result<Vec<(f64, f64)>, ReportError> {
    let text = read(path)?;
    let mut points = Vec::new();
    for line in text.lines().filter(|l| !l.trim().is_empty()) {
        let mut cols = line.split_whitespace();
        let (Some(v), Some(p)) = (cols.next(), cols.next()) else {
            continue;
        };
        let (Ok(ms), Ok(p)) = (v.parse::<f64>(), p.parse::<f64>()) else {
            continue;
        };
        if p < 1.0 {
            points.push((nines(p), ms * 1e6));
        }
    }
    Ok(points)
}

fn nines(p: f64) -> f64 {
    -(1.0 - p).log10()
}

fn summary_percentiles(s: &Value) -> Vec<(f64, f64)> {
    [
        ("p50", 0.5),
        ("p90", 0.9),
        ("p95", 0.95),
        ("p99", 0.99),
        ("p999", 0.999),
    ]
    .iter()
    .filter_map(|(k, p)| num(s, &format!("/latency_ns/{k}")).map(|v| (nines(*p), v)))
    .collect()
}

/// The page.
fn run_page(s: &Value, t: &TimeTable, percentiles: &[(f64, f64)]) -> std::io::Result<String> {
    let mut page = Page::new(&format!("esa-sim run · {}", text(s, "/scenario/name")));
    header(&mut page, s);
    page.heading("Time series");
    for chart in time_charts(s, t) {
        page.chart(&chart)?;
    }
    if t.column("esc_l1").is_none() {
        page.meta(&balancing_totals(s));
    }
    page.heading("Latency distribution");
    let mut pct = Chart::new(
        "Job latency by percentile (measured window)",
        Axis::new("percentile", Unit::Nines),
        Axis::new("latency", Unit::Nanos),
    );
    pct.series
        .push(Series::new("latency", percentiles.to_vec()));
    pct.targets = latency_targets(
        s,
        &[
            "latency_p50",
            "latency_p90",
            "latency_p95",
            "latency_p99",
            "latency_p999",
        ],
    );
    page.chart(&pct)?;
    page.heading("SLOs");
    page.table(&["metric", "target", "measured", "result"], &slo_rows(s));
    Ok(page.finish())
}

fn header(page: &mut Page, s: &Value) {
    page.meta(&format!(
        "esa-sim {} · scenario {} · seed {} · {}",
        text(s, "/esa_sim_version"),
        text(s, "/scenario/name"),
        text(s, "/scenario/seed"),
        text(s, "/scenario/hash")
    ));
    let ns = |p: &str| num(s, p).map_or("?".into(), fmt_ns);
    page.meta(&format!(
        "measured window {} – {} · run ended at {}",
        ns("/window_ns/start"),
        ns("/window_ns/end"),
        ns("/sim_end_ns")
    ));
    page.meta(&format!(
        "jobs {} arrived · {} completed · latency mean {} · p99 {} · throughput {} · completion {}",
        text(s, "/jobs/arrived"),
        text(s, "/jobs/completed"),
        ns("/latency_ns/mean"),
        ns("/latency_ns/p99"),
        fmt_value(num(s, "/throughput_per_min"), "per_min"),
        fmt_value(num(s, "/completion"), "fraction")
    ));
    let slos = s.get("slo").and_then(Value::as_array).map_or(0, Vec::len);
    let failed = slo_rows(s).iter().filter(|r| r[3].text == "FAIL").count();
    page.meta(&match failed {
        0 => format!("all {slos} SLOs met"),
        n => format!("{n} of {slos} SLOs breached"),
    });
}

/// Every time-series chart, fault window shaded and detections marked.
fn time_charts(s: &Value, t: &TimeTable) -> Vec<Chart> {
    let time = || Axis::new("simulated time", Unit::Nanos);
    let chart = |title: &str, y: Axis, series: Vec<Series>| {
        let mut c = Chart::new(title, time(), y);
        c.series = series;
        c.spans = fault_spans(s);
        c.markers = detections(s);
        c
    };
    let mut flow = vec![
        t.series("arrivals", "arrivals", true),
        t.series("completed", "completed", true),
    ];
    for extra in ["partial", "failed"] {
        let s = t.series(extra, extra, true);
        flow.push(s.filter(|s| s.points.iter().any(|p| p.1 != 0.0)));
    }
    let mut lat = chart(
        "Latency of the jobs finishing in each interval",
        Axis::new("latency", Unit::Nanos),
        [
            t.series("p50_ns", "p50", false),
            t.series("p99_ns", "p99", false),
        ]
        .into_iter()
        .flatten()
        .collect(),
    );
    lat.targets = latency_targets(s, &["latency_p50", "latency_p99"]);
    let mut charts = vec![
        chart(
            "Arrivals and completions",
            Axis::new("jobs", Unit::PerMin),
            flow.into_iter().flatten().collect(),
        ),
        chart(
            "Jobs in flight (end of interval)",
            Axis::new("jobs", Unit::Count),
            t.series("in_flight", "in flight", false)
                .into_iter()
                .collect(),
        ),
        chart(
            "Queue depth per domain (end of interval; domains that queued)",
            Axis::new("work items", Unit::Count),
            t.per_domain("_queue"),
        ),
        chart(
            "Utilisation per domain (busy share of the domain's slots)",
            Axis::new("utilisation", Unit::Fraction),
            t.per_domain("_util"),
        ),
        lat,
    ];
    let balancing: Vec<Series> = [
        ("esc_l1", "level 1"),
        ("esc_l2", "level 2"),
        ("esc_l3", "level 3"),
        ("esc_l4", "level 4"),
        ("moved", "items moved"),
        ("shed", "items shed"),
    ]
    .iter()
    .filter_map(|(col, label)| t.series(col, label, false))
    .collect();
    if !balancing.is_empty() {
        charts.push(chart(
            "Escalations and balancing actions per interval",
            Axis::new("count", Unit::Count),
            balancing,
        ));
    }
    charts.extend(realtime_charts(s, t, &chart));
    charts
}

/// D4's charts, for a run whose time series has the real-time columns:
/// connections, message traffic and delivery latency per interval.
fn realtime_charts(
    s: &Value,
    t: &TimeTable,
    chart: &dyn Fn(&str, Axis, Vec<Series>) -> Chart,
) -> Vec<Chart> {
    if t.column("connections").is_none() {
        return Vec::new();
    }
    let lines = |cols: &[(&str, &str, bool)]| -> Vec<Series> {
        (cols.iter())
            .filter_map(|(col, label, per_min)| t.series(col, label, *per_min))
            .collect()
    };
    let mut delivery = chart(
        "D4 delivery latency of the messages delivered in each interval",
        Axis::new("latency", Unit::Nanos),
        lines(&[("delivery_p99_ns", "delivery p99", false)]),
    );
    delivery.targets = latency_targets(s, &["delivery_latency_p99", "delivery_latency_mean"]);
    vec![
        chart(
            "D4 connections (end of interval)",
            Axis::new("clients", Unit::Count),
            lines(&[
                ("connections", "connected", false),
                ("clients_offline", "wanting, not connected", false),
            ]),
        ),
        chart(
            "D4 messages",
            Axis::new("per minute", Unit::PerMin),
            lines(&[
                ("messages_sent", "sent", true),
                ("deliveries", "deliveries", true),
                ("deliveries_dropped", "dropped", true),
            ]),
        ),
        delivery,
    ]
}

/// The run's balancing totals from summary.json, for a CSV without the
/// per-interval escalation columns.
fn balancing_totals(s: &Value) -> String {
    let levels = s
        .pointer("/balancing/escalations")
        .and_then(Value::as_array);
    let levels: Vec<String> = levels
        .into_iter()
        .flatten()
        .enumerate()
        .map(|(i, n)| format!("level {}: {n}", i + 1))
        .collect();
    format!(
        "balancing over the run: escalations {} · moved within a division {} · across divisions {} · shed {}",
        if levels.is_empty() { "none".into() } else { levels.join(", ") },
        text(s, "/balancing/moved_within_division"),
        text(s, "/balancing/moved_across_divisions"),
        text(s, "/balancing/shed")
    )
}

/// The fault window, `end` null (permanent) drawn to the end of the run.
fn fault_spans(s: &Value) -> Vec<Span> {
    let Some(start) = num(s, "/faults/window_ns/start") else {
        return Vec::new();
    };
    let (end, label) = match num(s, "/faults/window_ns/end") {
        Some(end) => (end, "fault window"),
        None => (num(s, "/sim_end_ns").unwrap_or(start), "faults (permanent)"),
    };
    vec![Span {
        from: start,
        to: end,
        label: label.into(),
    }]
}

/// One marker per instant some agent went silent, naming the agents.
fn detections(s: &Value) -> Vec<Marker> {
    let list = s.pointer("/faults/detections").and_then(Value::as_array);
    let mut markers: Vec<Marker> = Vec::new();
    for d in list.into_iter().flatten() {
        let (Some(at), agent) = (num(d, "/at_ns"), text(d, "/agent")) else {
            continue;
        };
        match markers.iter_mut().find(|m| m.at == at) {
            Some(m) => m.label = m.label.replace(" silent", &format!(", {agent} silent")),
            None => markers.push(Marker {
                at,
                label: format!("{agent} silent"),
            }),
        }
    }
    markers
}

/// Target lines of the run-wide SLOs on these latency metrics.
fn latency_targets(s: &Value, metrics: &[&str]) -> Vec<Marker> {
    let slos = s.get("slo").and_then(Value::as_array);
    slos.into_iter()
        .flatten()
        .filter_map(|v| {
            let metric = text(v, "/metric");
            let target = text(v, "/target");
            metrics.contains(&metric.as_str()).then_some(())?;
            let at = target_threshold(&metric, &target)?;
            Some(Marker {
                at,
                label: format!("SLO {metric} {target}"),
            })
        })
        .collect()
}

fn slo_rows(s: &Value) -> Vec<Vec<Cell>> {
    let slos = s.get("slo").and_then(Value::as_array);
    slos.into_iter()
        .flatten()
        .map(|v| {
            let pass = v.get("pass").and_then(Value::as_bool) == Some(true);
            vec![
                Cell::plain(text(v, "/metric")),
                Cell::plain(text(v, "/target")),
                Cell::plain(fmt_value(num(v, "/measured"), &text(v, "/unit"))),
                match pass {
                    true => Cell::classed("PASS", "pass"),
                    false => Cell::classed("FAIL", "fail"),
                },
            ]
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn detections_at_one_instant_share_a_marker() {
        let s: Value = serde_json::from_str(
            r#"{"faults":{"detections":[{"agent":"L12","at_ns":5},{"agent":"L20","at_ns":5},{"agent":"L13","at_ns":9}]}}"#,
        )
        .unwrap();
        let m = detections(&s);
        assert_eq!(m.len(), 2);
        assert_eq!(m[0].label, "L12, L20 silent");
    }
}
