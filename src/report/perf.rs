//! `perf.json`: wall-clock figures of a run. Not deterministic, so kept
//! apart from the other reports (DESIGN.md §2 rule 5).

use serde::Serialize;

/// How fast a run went on this machine.
#[derive(Clone, Debug, Serialize)]
pub struct Perf {
    pub wall_s: f64,
    pub events: u64,
    pub events_per_s: f64,
    pub jobs: u64,
    pub jobs_per_s: f64,
    pub sim_time_s: f64,
    pub sim_to_wall_ratio: f64,
    pub peak_rss_bytes: u64,
    pub threads: usize,
}

impl Perf {
    pub fn new(wall_s: f64, events: u64, jobs: u64, sim_time_s: f64) -> Perf {
        let per_s = |n: f64| if wall_s > 0.0 { n / wall_s } else { 0.0 };
        Perf {
            wall_s,
            events,
            events_per_s: per_s(events as f64),
            jobs,
            jobs_per_s: per_s(jobs as f64),
            sim_time_s,
            sim_to_wall_ratio: per_s(sim_time_s),
            peak_rss_bytes: peak_rss_bytes(),
            threads: 1,
        }
    }
}

/// Peak resident set size of this process (Linux `VmHWM`); 0 where unknown.
pub fn peak_rss_bytes() -> u64 {
    let Ok(status) = std::fs::read_to_string("/proc/self/status") else {
        return 0;
    };
    status
        .lines()
        .find_map(|l| l.strip_prefix("VmHWM:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse::<u64>().ok())
        .map_or(0, |kb| kb * 1024)
}
