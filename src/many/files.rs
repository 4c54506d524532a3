//! The files a sweep writes into its directory (DESIGN.md §7):
//! `sweep.json`, `sweep.csv` (tidy: one row per point × metric), and per
//! point `points/<i>/latency.hgrm` (merged over replications) and
//! `points/<i>/latency.hlog` (one tagged histogram per replication). All
//! deterministic; `report.html` is written from `sweep.json` by the report
//! module.

use std::io::{self, Write};
use std::path::Path;

use super::output::SweepFile;
use super::reduce::{PointLatency, Reduced};
use crate::metrics::hlog::IntervalLog;
use crate::report::files::write_hgrm;

/// Writes every deterministic file of the sweep into `dir`.
pub fn write_all(dir: &Path, reduced: &Reduced, windows: &[(u64, u64)]) -> io::Result<()> {
    std::fs::create_dir_all(dir)?;
    write_file(&dir.join("sweep.json"), |out| {
        serde_json::to_writer_pretty(&mut *out, &reduced.file)?;
        out.write_all(b"\n")
    })?;
    write_file(&dir.join("sweep.csv"), |out| write_csv(&reduced.file, out))?;
    for (i, (lat, window)) in reduced.latency.iter().zip(windows).enumerate() {
        let pdir = dir.join("points").join(i.to_string());
        std::fs::create_dir_all(&pdir)?;
        write_file(&pdir.join("latency.hgrm"), |out| {
            write_hgrm(&lat.merged, out)
        })?;
        write_file(&pdir.join("latency.hlog"), |out| {
            write_hlog(lat, *window, out)
        })?;
    }
    Ok(())
}

/// Creates `path` and writes it through a buffer.
pub fn write_file(
    path: &Path,
    body: impl FnOnce(&mut dyn Write) -> io::Result<()>,
) -> io::Result<()> {
    let mut out = io::BufWriter::new(std::fs::File::create(path)?);
    body(&mut out)?;
    out.flush()
}

/// `sweep.csv`: the varied values, then metric, unit, mean, stddev,
/// ci_low, ci_high, n; an empty cell where there is no value.
fn write_csv(file: &SweepFile, out: &mut dyn Write) -> io::Result<()> {
    let mut w = csv::Writer::from_writer(out);
    let mut header: Vec<&str> = file.vary.iter().map(|a| a.key.as_str()).collect();
    header.extend(["metric", "unit", "mean", "stddev", "ci_low", "ci_high", "n"]);
    w.write_record(&header)?;
    let cell = |v: Option<f64>| v.map_or_else(String::new, |v| v.to_string());
    for p in &file.points {
        for (name, m) in &p.metrics.0 {
            let mut row: Vec<String> = p.values.0.iter().map(|(_, v)| v.clone()).collect();
            row.extend([
                name.clone(),
                m.unit.clone(),
                cell(m.mean),
                cell(m.stddev),
                cell(m.ci_low),
                cell(m.ci_high),
                m.n.to_string(),
            ]);
            w.write_record(&row)?;
        }
    }
    w.flush()
}

/// A point's `latency.hlog`: each replication's histogram of the measured
/// window, tagged `rep<r>`.
fn write_hlog(lat: &PointLatency, (start, end): (u64, u64), out: &mut dyn Write) -> io::Result<()> {
    let mut log = IntervalLog::default();
    for (rep, h) in &lat.replications {
        log.push_tagged(Some(format!("rep{rep}")), start, end, h);
    }
    log.write_described(
        "job latency of each replication of one sweep point (tag rep<r>) over the measured window; timestamps are simulated seconds, values ns",
        out,
    )
}
