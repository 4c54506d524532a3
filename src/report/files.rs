//! The deterministic report files: `summary.json`, `timeseries.csv` and
//! `latency.hgrm`. Byte-identical for the same scenario, seed and version.

use std::io::{self, Write};

use hdrhistogram::Histogram;

use super::{Reporter, RunReport};

/// `summary.json`: the run's results and SLO verdicts, pretty-printed.
pub struct SummaryJson;

impl Reporter for SummaryJson {
    fn file_name(&self) -> &'static str {
        "summary.json"
    }
    fn write(&self, report: &RunReport, out: &mut dyn Write) -> io::Result<()> {
        serde_json::to_writer_pretty(&mut *out, report.summary)?;
        out.write_all(b"\n")
    }
}

/// `timeseries.csv`: one row per interval, with per-domain queue depth and
/// utilisation columns.
pub struct TimeseriesCsv;

impl Reporter for TimeseriesCsv {
    fn file_name(&self) -> &'static str {
        "timeseries.csv"
    }
    fn write(&self, report: &RunReport, out: &mut dyn Write) -> io::Result<()> {
        let mut w = csv::Writer::from_writer(out);
        let domains = &report.recorder.layout().domains;
        let mut header: Vec<String> = [
            "start_ns",
            "end_ns",
            "arrivals",
            "completed",
            "partial",
            "failed",
            "in_flight",
            "p50_ns",
            "p99_ns",
        ]
        .iter()
        .map(|s| s.to_string())
        .collect();
        header.extend(domains.iter().map(|(id, _)| format!("{id}_queue")));
        header.extend(domains.iter().map(|(id, _)| format!("{id}_util")));
        header.extend(["esc_l1", "esc_l2", "esc_l3", "esc_l4", "moved", "shed"].map(String::from));
        let realtime = report.recorder.realtime_series();
        if realtime.is_some() {
            header.extend(REALTIME_COLUMNS.map(String::from));
        }
        w.write_record(&header)?;
        let mut i = 0;
        report.recorder.series().try_for_each(|r| {
            let mut rec = vec![
                r.start_ns.to_string(),
                r.end_ns.to_string(),
                r.arrivals.to_string(),
                r.completed.to_string(),
                r.partial.to_string(),
                r.failed.to_string(),
                r.in_flight.to_string(),
                r.p50_ns.to_string(),
                r.p99_ns.to_string(),
            ];
            rec.extend(r.domain_queue.iter().map(|q| q.to_string()));
            rec.extend(r.domain_util.iter().map(|u| format!("{u:.4}")));
            rec.extend(r.escalations.iter().map(|e| e.to_string()));
            rec.push(r.moved.to_string());
            rec.push(r.shed.to_string());
            if let Some(rows) = realtime {
                let span_s = (r.end_ns - r.start_ns).max(1) as f64 / 1e9;
                rec.extend(realtime_cells(rows.get(i), span_s));
            }
            i += 1;
            Ok(w.write_record(&rec)?)
        })?;
        w.flush()
    }
}

/// The D4 model's columns, after the job columns, in a run with
/// `[[connections]]`.
const REALTIME_COLUMNS: [&str; 7] = [
    "connections",
    "clients_offline",
    "messages_sent",
    "messages_per_s",
    "deliveries",
    "deliveries_dropped",
    "delivery_p99_ns",
];

fn realtime_cells(row: Option<&crate::realtime::RtRow>, span_s: f64) -> Vec<String> {
    let row = row.cloned().unwrap_or_default();
    vec![
        row.connections.to_string(),
        row.offline.to_string(),
        row.sent.to_string(),
        format!("{:.3}", row.sent as f64 / span_s),
        row.delivered.to_string(),
        row.dropped.to_string(),
        row.delivery_p99_ns.to_string(),
    ]
}

/// `latency.hgrm`: HdrHistogram's percentile-distribution text, values in
/// milliseconds, as HdrHistogram's plotter reads it.
pub struct LatencyHgrm;

impl Reporter for LatencyHgrm {
    fn file_name(&self) -> &'static str {
        "latency.hgrm"
    }
    fn write(&self, report: &RunReport, out: &mut dyn Write) -> io::Result<()> {
        write_hgrm(report.recorder.latency_histogram(), out)
    }
}

/// Writes `h` (values in ns) as HdrHistogram's percentile distribution,
/// values in milliseconds: `latency.hgrm` of a run or of a sweep point.
pub fn write_hgrm(h: &Histogram<u64>, out: &mut dyn Write) -> io::Result<()> {
    const SCALE: f64 = 1e6; // ns → ms
    writeln!(
        out,
        "{:>12} {:>14} {:>10} {:>14}\n",
        "Value", "Percentile", "TotalCount", "1/(1-Percentile)"
    )?;
    let mut total = 0u64;
    for v in h.iter_quantiles(5) {
        total += v.count_since_last_iteration();
        let q = v.quantile_iterated_to();
        let value = h.highest_equivalent(v.value_iterated_to()) as f64 / SCALE;
        if q < 1.0 {
            writeln!(
                out,
                "{value:>12.3} {q:>14.12} {total:>10} {:>14.2}",
                1.0 / (1.0 - q)
            )?;
        } else {
            writeln!(out, "{value:>12.3} {q:>14.12} {total:>10}")?;
        }
    }
    let mean = if h.is_empty() { 0.0 } else { h.mean() / SCALE };
    let sd = if h.is_empty() { 0.0 } else { h.stdev() / SCALE };
    let max = if h.is_empty() {
        0.0
    } else {
        h.highest_equivalent(h.max()) as f64 / SCALE
    };
    writeln!(
        out,
        "#[Mean    = {mean:>12.3}, StdDeviation   = {sd:>12.3}]"
    )?;
    writeln!(
        out,
        "#[Max     = {max:>12.3}, Total count    = {:>12}]",
        h.len()
    )?;
    writeln!(
        out,
        "#[Buckets = {:>12}, SubBuckets     = {:>12}]",
        h.buckets(),
        h.distinct_values()
    )
}

/// `latency.hlog`: the latency histogram of every interval in
/// HdrHistogram's interval-log format (see [`crate::metrics::hlog`]).
pub struct LatencyHlog;

impl Reporter for LatencyHlog {
    fn file_name(&self) -> &'static str {
        "latency.hlog"
    }
    fn write(&self, report: &RunReport, out: &mut dyn Write) -> io::Result<()> {
        report.recorder.interval_log().write(out)
    }
}
