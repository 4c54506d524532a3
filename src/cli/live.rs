//! `esa-sim live SCENARIO --redis URL [--speed K]`: the scenario run by the
//! same core against a real Redis (see [`crate::live`]), reported exactly
//! as `run` reports a simulation — the same files, latencies in scaled
//! time, the same SLO verdicts — plus `live.json`: where it ran, how fast,
//! and what Redis held at the end.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::time::Instant;

use clap::Args;
use serde::Serialize;

use super::{
    load, prepare_out_dir, report_run, CliError, Completed, Format, ProgressView, RunFlags, Shown,
};
use crate::live::{self, store::Audit, LiveError};

pub const LIVE_EXAMPLES: &str = "\
Examples:
  redis-server --port 6390 --save '' --daemonize yes
  esa-sim live scenarios/mmc-live.toml --redis redis://127.0.0.1:6390 --speed 100
  esa-sim run scenarios/mmc-live.toml -q --out /tmp/sim && \\
    esa-sim live scenarios/mmc-live.toml --redis redis://127.0.0.1:6390 -q --out /tmp/live && \\
    esa-sim compare /tmp/sim /tmp/live --scenario scenarios/mmc-live.toml

The run takes (duration + drain) ÷ speed of real time at most; it stops once
load has ended and every job has its result. It clears the protocol's keys
(tasks:*, results:*, agents:*) in that Redis first and leaves other keys alone.
Exit codes: 0 SLOs pass · 1 an SLO breached · 2 bad input or Redis unreachable ·
3 invariant violated (a job lost in Redis, or a bug)";

#[derive(Args, Debug)]
#[command(after_help = LIVE_EXAMPLES)]
pub struct LiveArgs {
    /// The scenario file (TOML, format v1).
    pub scenario: PathBuf,
    /// The Redis to run against, e.g. redis://127.0.0.1:6379.
    #[arg(long, value_name = "URL")]
    pub redis: String,
    /// Simulated seconds per real second: workers sleep service time ÷ K.
    #[arg(long, value_name = "K", default_value_t = 100.0, value_parser = positive)]
    pub speed: f64,
    #[command(flatten)]
    pub shown: RunFlags,
}

fn positive(s: &str) -> Result<f64, String> {
    match s.parse::<f64>() {
        Ok(k) if k.is_finite() && k > 0.0 => Ok(k),
        _ => Err(format!("`{s}` is not a positive number (e.g. 100)")),
    }
}

/// tokio's timers tick every millisecond: a delay shorter than that in
/// real time is rounded up to it, which inflates live latencies.
const TIMER_TICK_NS: f64 = 1e6;

/// A warning when `speed` turns the scenario's message delays into less
/// than a timer tick of real time.
fn too_fast(scenario: &crate::scenario::Scenario, speed: f64) -> Option<String> {
    let org = &scenario.org;
    let delays = [
        ("hop_latency", org.hop_latency),
        ("plan_time", org.plan_time),
        ("dispatch_time", org.dispatch_time),
    ];
    let (key, d) = (delays.into_iter())
        .filter(|(_, d)| d.as_nanos() > 0)
        .min_by_key(|(_, d)| d.as_nanos())?;
    let real_ns = d.as_nanos() as f64 / speed;
    (real_ns < TIMER_TICK_NS).then(|| {
        let most = (d.as_nanos() as f64 / TIMER_TICK_NS).max(1.0).floor();
        format!(
            "at --speed {speed}, org.{key} = {d} lasts {:.0} µs of real time, under the 1 ms timer tick: every such delay takes a whole tick, and live latencies come out longer than simulated ones; --speed {most} or less keeps it at a tick or more",
            real_ns / 1e3
        )
    })
}

/// `live.json`: where and how fast the run went, and Redis at its end.
#[derive(Serialize)]
struct LiveReport<'a> {
    redis: &'a str,
    speed: f64,
    real_s: f64,
    jobs: u64,
    /// Jobs through Redis per real second.
    jobs_per_real_s: f64,
    audit: &'a Audit,
}

pub fn live(
    args: &LiveArgs,
    out: &mut dyn Write,
    err: &mut dyn Write,
    bar: super::Bar,
) -> Result<i32, CliError> {
    let flags = &args.shown;
    let (scenario, _org) = load(&args.scenario, &flags.overrides())?;
    let out_dir = (flags.out.clone())
        .unwrap_or_else(|| Path::new("reports").join(format!("{}-live", scenario.name)));
    prepare_out_dir(&out_dir)?;
    if let Some(warning) = too_fast(&scenario, args.speed) {
        let _ = writeln!(err, "warning: {warning}");
    }
    let mut view = ProgressView::new(bar == super::Bar::Terminal && !flags.quiet);
    let started = Instant::now();
    let finished = live::run(&scenario, &args.redis, args.speed, &mut |p| view.update(p));
    view.finish();
    let finished = finished.map_err(|e| match e {
        LiveError::Scenario(e) => CliError::Scenario(e),
        other => CliError::Input(other.to_string()),
    })?;
    let wall_s = started.elapsed().as_secs_f64();
    let report = LiveReport {
        redis: &args.redis,
        speed: args.speed,
        real_s: finished.real.as_secs_f64(),
        jobs: finished.output.summary.jobs_all.arrived,
        jobs_per_real_s: finished.output.summary.jobs_all.arrived as f64
            / finished.real.as_secs_f64().max(1e-9),
        audit: &finished.audit,
    };
    write_live_json(&out_dir, &report)?;
    if !flags.quiet && flags.format == Format::Text {
        let _ = writeln!(out, "{}", banner(&report));
    }
    let done = Completed::judge(scenario, finished.output, wall_s);
    let shown = Shown {
        format: flags.format,
        quiet: flags.quiet,
        html: flags.html,
        trace: None,
    };
    report_run(&done, &out_dir, shown, out, err)
}

/// The line that says the run was live, before the SLO table.
fn banner(r: &LiveReport) -> String {
    let statuses: Vec<String> = (r.audit.results.iter())
        .map(|(status, n)| format!("{status} {n}"))
        .collect();
    format!(
        "LIVE run against {} at speed ×{}: {} jobs through Redis in {:.2} s real ({:.0} jobs/s) · Redis at the end: {} task message(s) in lists, {} result hashes ({})",
        r.redis,
        r.speed,
        r.jobs,
        r.real_s,
        r.jobs_per_real_s,
        r.audit.messages_left(),
        r.audit.result_hashes(),
        statuses.join(", ")
    )
}

fn write_live_json(dir: &Path, report: &LiveReport) -> Result<(), CliError> {
    let path = dir.join("live.json");
    let text = serde_json::to_string_pretty(report).expect("live report serializes") + "\n";
    std::fs::write(&path, text).map_err(|source| CliError::Write { path, source })
}
