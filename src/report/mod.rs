//! Reports: every output format behind one [`Reporter`] trait, each a pure
//! function of the run's data (DESIGN.md §2 rule 7): `summary.json`,
//! `timeseries.csv`, `latency.hgrm`, and the terminal summary. Wall-clock
//! figures live apart, in [`perf::Perf`] (`perf.json`).

pub mod files;
pub mod html;
pub mod perf;
pub mod text;

use std::io::{self, Write};
use std::path::Path;

use crate::metrics::summary::Summary;
use crate::metrics::Recorder;

/// Everything a reporter may read.
pub struct RunReport<'a> {
    pub summary: &'a Summary,
    pub recorder: &'a Recorder,
}

/// One output format.
pub trait Reporter {
    /// The file it is written to inside the output directory.
    fn file_name(&self) -> &'static str;
    fn write(&self, report: &RunReport, out: &mut dyn Write) -> io::Result<()>;
}

/// The deterministic report files, in the order they are written.
pub fn file_reporters() -> Vec<Box<dyn Reporter>> {
    vec![
        Box::new(files::SummaryJson),
        Box::new(files::TimeseriesCsv),
        Box::new(files::LatencyHgrm),
        Box::new(files::LatencyHlog),
    ]
}

/// Writes every deterministic report file into `dir` (created if missing).
pub fn write_files(dir: &Path, report: &RunReport) -> io::Result<()> {
    std::fs::create_dir_all(dir)?;
    for r in file_reporters() {
        let path = dir.join(r.file_name());
        let mut out = io::BufWriter::new(std::fs::File::create(&path)?);
        r.write(report, &mut out)?;
        out.flush()?;
    }
    Ok(())
}

/// A metric value in the natural form of its unit (the `unit` strings of
/// summary.json and sweep.json): `1.205s`, `480.0/min`, `99.500%`; `None`
/// for a count, which each table writes in its own precision.
pub fn fmt_in_unit(v: f64, unit: &str) -> Option<String> {
    match unit {
        "ns" => Some(fmt_ns(v)),
        "per_min" => Some(format!("{v:.1}/min")),
        "fraction" => Some(format!("{:.3}%", v * 100.0)),
        _ => None,
    }
}

/// Human form of a duration in ns: `"1.205s"`, `"250ms"`, `"12.0us"`.
pub fn fmt_ns(ns: f64) -> String {
    if !ns.is_finite() {
        return "n/a".into();
    }
    let abs = ns.abs();
    if abs >= 3_600e9 {
        format!("{:.2}h", ns / 3_600e9)
    } else if abs >= 60e9 {
        format!("{:.2}m", ns / 60e9)
    } else if abs >= 1e9 {
        format!("{:.3}s", ns / 1e9)
    } else if abs >= 1e6 {
        format!("{:.2}ms", ns / 1e6)
    } else if abs >= 1e3 {
        format!("{:.1}us", ns / 1e3)
    } else {
        format!("{ns:.0}ns")
    }
}
