//! The terminal summary: what happened, per-domain lines, and the SLO table
//! with PASS/FAIL. Deterministic like the files (wall-clock figures are
//! printed separately by the CLI).

use std::io::{self, Write};

use super::{fmt_in_unit, fmt_ns, Reporter, RunReport};
use crate::core::Stranded;
use crate::metrics::summary::{SloVerdict, Summary};

/// The human-readable summary.
pub struct TextSummary;

impl Reporter for TextSummary {
    fn file_name(&self) -> &'static str {
        "summary.txt"
    }
    fn write(&self, report: &RunReport, out: &mut dyn Write) -> io::Result<()> {
        let s = report.summary;
        header(s, out)?;
        jobs(s, out)?;
        busiest(s, out)?;
        faults(s, out)?;
        balancing(s, out)?;
        realtime(s, out)?;
        domains(s, out)?;
        priorities(s, out)?;
        slo_table(&s.slo, out)?;
        verdict(s, out)
    }
}

fn header(s: &Summary, out: &mut dyn Write) -> io::Result<()> {
    let hash = s.scenario.hash.get(..19).unwrap_or(&s.scenario.hash);
    writeln!(
        out,
        "esa-sim {} · scenario {} · seed {} · {hash}…",
        s.esa_sim_version, s.scenario.name, s.scenario.seed
    )?;
    for o in &s.scenario.overrides {
        writeln!(out, "  --set {o}")?;
    }
    writeln!(
        out,
        "measured window {} – {} · run ended at {}",
        fmt_ns(s.window_ns.start as f64),
        fmt_ns(s.window_ns.end as f64),
        fmt_ns(s.sim_end_ns as f64)
    )
}

fn jobs(s: &Summary, out: &mut dyn Write) -> io::Result<()> {
    let j = &s.jobs;
    writeln!(out)?;
    writeln!(
        out,
        "jobs        {} arrived · {} completed · {} with warnings · {} partial · {} failed · {} in flight · {} lost",
        j.arrived, j.completed, j.completed_with_warnings, j.partial, j.failed, j.in_flight_at_end, j.lost
    )?;
    let l = &s.latency_ns;
    writeln!(
        out,
        "latency     mean {} · p50 {} · p90 {} · p99 {} · p99.9 {} · max {}",
        fmt_ns(l.mean),
        fmt_ns(l.p50 as f64),
        fmt_ns(l.p90 as f64),
        fmt_ns(l.p99 as f64),
        fmt_ns(l.p999 as f64),
        fmt_ns(l.max as f64)
    )?;
    writeln!(
        out,
        "throughput  {:.1}/min · completion {:.3}% · utilisation {:.1}% · queue wait mean {} · {:.2} workers/job",
        s.throughput_per_min,
        s.completion * 100.0,
        s.utilization * 100.0,
        fmt_ns(s.queue_wait_ns.mean),
        s.workers_per_job_mean
    )?;
    let w = &s.work;
    if w.retries + w.rejected + w.failed_attempts > 0 {
        writeln!(
            out,
            "work        {} attempts · {} failed attempts · {} retries · {} rejected (queue full) · {} items given up · {} wasted",
            w.attempts,
            w.failed_attempts,
            w.retries,
            w.rejected,
            w.failed_items,
            fmt_ns(w.wasted_ns as f64)
        )?;
    }
    Ok(())
}

fn faults(s: &Summary, out: &mut dyn Write) -> io::Result<()> {
    let f = &s.faults;
    if f.window_ns.is_none() {
        return Ok(());
    }
    writeln!(
        out,
        "faults      {} requeues · {} late results discarded · {} attempts lost · {} outage rejections · recovery {}",
        f.requeues,
        f.late_results_discarded,
        f.attempts_lost,
        f.outage_rejections,
        s.recovery_time_ns.map_or_else(|| "never".to_string(), |ns| fmt_ns(ns as f64))
    )?;
    for d in &f.detections {
        writeln!(
            out,
            "            {} declared dead at {} ({} after its fault)",
            d.agent,
            fmt_ns(d.at_ns as f64),
            fmt_ns(d.detected_after_ns as f64)
        )?;
    }
    stranded(&f.stranded_at_end, out)?;
    let after = match (f.throughput_after_per_min, f.window_ns.and_then(|w| w.end)) {
        (Some(per_min), _) => format!("{per_min:.1}/min"),
        (None, None) => "none (a fault never ends)".to_string(),
        (None, Some(_)) => "none (the faults end after the load)".to_string(),
    };
    writeln!(
        out,
        "            throughput during faults {:.1}/min · after {after}",
        f.throughput_during_per_min
    )
}

/// Why the org did not recover, when it did not.
fn stranded(w: &Stranded, out: &mut dyn Write) -> io::Result<()> {
    if w.is_empty() {
        return Ok(());
    }
    writeln!(
        out,
        "            not recovered at the end: {} orphaned work items never re-dispatched · {} held by a down agent · {} queued on a pool with no live member · {} parked by a queue outage",
        w.orphans_waiting, w.held_by_down_agents, w.queued_without_live_member, w.parked_by_outage
    )
}

/// The three busiest worker agents over the measured window.
fn busiest(s: &Summary, out: &mut dyn Write) -> io::Result<()> {
    let mut agents: Vec<_> = s.agents.0.iter().filter(|(_, a)| a.attempts > 0).collect();
    agents.sort_by(|a, b| {
        b.1.utilization
            .total_cmp(&a.1.utilization)
            .then(a.0.cmp(&b.0))
    });
    if agents.is_empty() {
        return Ok(());
    }
    let top: Vec<String> = agents
        .iter()
        .take(3)
        .map(|(id, a)| {
            format!(
                "{id} {:.1}% (max queue {})",
                a.utilization * 100.0,
                a.max_queue_depth
            )
        })
        .collect();
    writeln!(out, "busiest     {}", top.join(" · "))
}

/// D4: connections, deliveries and gateway crashes, in a run with
/// `[[connections]]`.
fn realtime(s: &Summary, out: &mut dyn Write) -> io::Result<()> {
    let Some(r) = &s.realtime else {
        return Ok(());
    };
    let uptime = r
        .uptime
        .map_or_else(|| "n/a".to_string(), |u| format!("{:.4}%", u * 100.0));
    writeln!(
        out,
        "connections peak {} · {} at end · {} opened · {} dropped · {} refused · uptime {uptime} · reconnect p99 {}",
        r.connections_peak,
        r.connections_at_end,
        r.connections_opened,
        r.connections_dropped,
        r.connections_refused,
        fmt_ns(r.reconnect_time_ns.p99 as f64)
    )?;
    let (m, d) = (&r.messages, &r.delivery_latency_ns);
    writeln!(
        out,
        "messages    {} sent · {} copies · {} delivered ({} on reconnect) · {} dropped · {} pending · delivery mean {} · p50 {} · p99 {} · max {}",
        m.sent,
        m.copies,
        m.delivered,
        m.delivered_on_reconnect,
        r.messages_dropped,
        m.pending_at_end + m.in_router_at_end,
        fmt_ns(d.mean),
        fmt_ns(d.p50 as f64),
        fmt_ns(d.p99 as f64),
        fmt_ns(d.max as f64)
    )?;
    for c in &r.crashes {
        let back = c.recovery_ns.map_or_else(
            || "not back by the end".to_string(),
            |ns| format!("99% back after {}", fmt_ns(ns as f64)),
        );
        writeln!(
            out,
            "            gateway {} crashed at {}: {} connections dropped, {back}",
            c.gateway,
            fmt_ns(c.at_ns as f64),
            c.dropped
        )?;
    }
    Ok(())
}

fn balancing(s: &Summary, out: &mut dyn Write) -> io::Result<()> {
    let b = &s.balancing;
    if b.escalations.iter().all(|n| *n == 0) {
        return Ok(());
    }
    let [l1, l2, l3, l4] = b.escalations;
    writeln!(
        out,
        "balancing   escalations L1 {l1} · L2 {l2} · L3 {l3} · L4 {l4} · moved {} within / {} across divisions · {} shed · {} slots added",
        b.moved_within_division, b.moved_across_divisions, b.shed, b.slots_added
    )
}

fn domains(s: &Summary, out: &mut dyn Write) -> io::Result<()> {
    let active: Vec<_> = s.domains.0.iter().filter(|(_, d)| d.arrived > 0).collect();
    if active.is_empty() {
        return Ok(());
    }
    writeln!(out)?;
    writeln!(
        out,
        "{:<6} {:<24} {:>9} {:>8} {:>7} {:>7} {:>7} {:>10} {:>10}",
        "domain",
        "name",
        "subtasks",
        "done %",
        "partial",
        "failed",
        "util %",
        "mean lat",
        "p99 lat"
    )?;
    for (id, d) in active {
        writeln!(
            out,
            "{:<6} {:<24} {:>9} {:>8.2} {:>7} {:>7} {:>7.1} {:>10} {:>10}",
            id,
            truncate(&d.name, 24),
            d.arrived,
            d.completion * 100.0,
            d.partial,
            d.failed,
            d.utilization * 100.0,
            fmt_ns(d.latency_ns.mean),
            fmt_ns(d.latency_ns.p99 as f64)
        )?;
    }
    Ok(())
}

/// One line per priority, when the scenario's tasks use more than one.
fn priorities(s: &Summary, out: &mut dyn Write) -> io::Result<()> {
    if s.priorities.0.len() < 2 {
        return Ok(());
    }
    writeln!(out)?;
    writeln!(
        out,
        "{:<9} {:>9} {:>8} {:>7} {:>7} {:>12} {:>10} {:>10} {:>10}",
        "priority",
        "arrived",
        "done %",
        "partial",
        "failed",
        "throughput",
        "mean lat",
        "p99 lat",
        "mean wait"
    )?;
    for (name, c) in &s.priorities.0 {
        writeln!(
            out,
            "{:<9} {:>9} {:>8.2} {:>7} {:>7} {:>12} {:>10} {:>10} {:>10}",
            name,
            c.arrived,
            c.completion * 100.0,
            c.partial,
            c.failed,
            format!("{:.1}/min", c.throughput_per_min),
            fmt_ns(c.latency_ns.mean),
            fmt_ns(c.latency_ns.p99 as f64),
            fmt_ns(c.queue_wait_ns.mean)
        )?;
    }
    Ok(())
}

fn truncate(s: &str, n: usize) -> String {
    if s.chars().count() <= n {
        s.to_string()
    } else {
        s.chars().take(n - 1).chain(std::iter::once('…')).collect()
    }
}

/// A measured value in its unit's natural form; a missing one is "never"
/// for a recovery time (the run did not recover) and "no data" otherwise
/// (nothing was measured: no job finished, no work item started).
pub fn fmt_measured(v: &SloVerdict) -> String {
    let Some(m) = v.measured else {
        let never = v.metric.ends_with("recovery_time");
        return if never { "never" } else { "no data" }.to_string();
    };
    fmt_in_unit(m, &v.unit).unwrap_or_else(|| format!("{m}"))
}

fn slo_table(slos: &[SloVerdict], out: &mut dyn Write) -> io::Result<()> {
    if slos.is_empty() {
        return Ok(());
    }
    writeln!(out)?;
    writeln!(
        out,
        "{:<32} {:<14} {:>14}  result",
        "SLO", "target", "measured"
    )?;
    for v in slos {
        let result = if v.pass { "PASS" } else { "FAIL" };
        writeln!(
            out,
            "{:<32} {:<14} {:>14}  {result}",
            v.metric,
            v.target,
            fmt_measured(v)
        )?;
    }
    Ok(())
}

fn verdict(s: &Summary, out: &mut dyn Write) -> io::Result<()> {
    let failed = s.slo.iter().filter(|v| !v.pass).count();
    writeln!(out)?;
    if s.slo.is_empty() {
        writeln!(out, "no SLOs defined → exit 0")
    } else if failed == 0 {
        writeln!(out, "all {} SLOs met → exit 0", s.slo.len())
    } else {
        writeln!(out, "{failed} of {} SLOs breached → exit 1", s.slo.len())
    }
}
