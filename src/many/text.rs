//! The terminal summary of a sweep: one row per point (values, replications,
//! mean latency with its interval, p99, throughput, completion, verdict),
//! then the knee.

use std::io::{self, Write};

use super::output::{MetricStats, SweepFile, Verdict};
use crate::report::fmt_ns;

/// Writes the table and the knee lines.
pub fn write(file: &SweepFile, out: &mut dyn Write) -> io::Result<()> {
    let keys: Vec<&str> = file.vary.iter().map(|a| a.key.as_str()).collect();
    writeln!(
        out,
        "sweep of `{}` (seed {}): {} point(s), {:.0} % intervals",
        file.scenario.name,
        file.scenario.seed,
        file.points.len(),
        file.confidence * 100.0
    )?;
    let values_width = file
        .points
        .iter()
        .map(|p| values_of(p.values.0.iter().map(|(_, v)| v.as_str())).len())
        .chain([keys.join(" ").len(), 5])
        .max()
        .unwrap_or(5);
    writeln!(
        out,
        "{:>4}  {:<values_width$}  {:>4}  {:>24}  {:>10}  {:>12}  {:>9}  verdict",
        "#",
        if keys.is_empty() {
            "point".to_string()
        } else {
            keys.join(" ")
        },
        "reps",
        "latency mean [CI]",
        "p99",
        "throughput",
        "complete"
    )?;
    for p in &file.points {
        let m = |name: &str| p.metrics.get(name);
        writeln!(
            out,
            "{:>4}  {:<values_width$}  {:>4}  {:>24}  {:>10}  {:>12}  {:>9}  {}",
            p.index,
            values_of(p.values.0.iter().map(|(_, v)| v.as_str())),
            p.replications,
            interval(m("latency_mean")),
            m("latency_p99")
                .and_then(|s| s.mean)
                .map_or("n/a".into(), fmt_ns),
            m("throughput")
                .and_then(|s| s.mean)
                .map_or("n/a".into(), |v| format!("{v:.1}/min")),
            m("completion")
                .and_then(|s| s.mean)
                .map_or("n/a".into(), |v| format!("{:.2}%", v * 100.0)),
            verdict_word(p.verdict),
        )?;
    }
    for k in &file.knee {
        let at = values_of(k.at.0.iter().map(|(_, v)| v.as_str()));
        let at = if at.is_empty() {
            String::new()
        } else {
            format!(" at {at}")
        };
        writeln!(
            out,
            "knee{at}: every SLO passes up to {} = {}; latency bends most at {}",
            k.key,
            k.last_passing
                .as_ref()
                .map_or("(no value)", |p| p.value.as_str()),
            k.kneedle.as_ref().map_or("(no bend)", |p| p.value.as_str()),
        )?;
    }
    Ok(())
}

fn values_of<'a>(values: impl Iterator<Item = &'a str>) -> String {
    values.collect::<Vec<_>>().join(" ")
}

/// `1.205s [1.198s, 1.212s]`, or the mean alone with one replication.
fn interval(s: Option<&MetricStats>) -> String {
    let Some(s) = s else { return "n/a".into() };
    match (s.mean, s.ci_low, s.ci_high) {
        (Some(m), Some(lo), Some(hi)) => format!("{} [{}, {}]", fmt_ns(m), fmt_ns(lo), fmt_ns(hi)),
        (Some(m), _, _) => fmt_ns(m),
        (None, _, _) => "n/a".into(),
    }
}

pub fn verdict_word(v: Verdict) -> &'static str {
    match v {
        Verdict::Pass => "PASS",
        Verdict::Uncertain => "UNCERTAIN",
        Verdict::Fail => "FAIL",
    }
}
