//! `esa-sim live`: the same core as the simulation, driven by tokio
//! against a real Redis speaking the org's protocol (DESIGN.md §10,
//! esa-org.md §5), in scaled wall-clock time (`--speed K`: K simulated
//! seconds per real second).
//!
//! The orchestrator, D9's registry and the domain coordinators' logic is
//! [`crate::core::Core`], owned by the driver task ([`driver`]); subtasks
//! travel through `tasks:pending:{domain}` lists to coordinator tasks, work
//! items through per-agent lists to worker tasks ([`crew`]) that serve by
//! sleeping; heartbeats are keys with a TTL that D9 reads back. Every
//! seeded stream (arrivals, service times, outcomes, fault targets) is the
//! simulation's, so a live run and a simulated run of one scenario see the
//! same load and can be compared side by side.

pub mod clock;
pub mod crew;
pub mod driver;
pub mod store;

use sha2::{Digest, Sha256};

use crate::scenario::{Scenario, ScenarioError};
use crate::sim::{close, quiet_from, Liveness, Parts, Progress, RunOutput};
use crate::time::SimInstant;
pub use driver::Finished;
use store::{Audit, StoreError};

/// What stops a live run before it reports.
#[derive(Debug, thiserror::Error)]
pub enum LiveError {
    #[error(transparent)]
    Scenario(Box<ScenarioError>),
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error("{0}")]
    Unsupported(String),
    #[error("cannot start the tokio runtime: {0}")]
    Runtime(std::io::Error),
}

impl From<ScenarioError> for LiveError {
    fn from(e: ScenarioError) -> LiveError {
        LiveError::Scenario(Box::new(e))
    }
}

/// Runs `scenario` live against the Redis at `url`, `speed` simulated
/// seconds per real second.
pub fn run(
    scenario: &Scenario,
    url: &str,
    speed: f64,
    progress: &mut dyn FnMut(Progress),
) -> Result<Finished, LiveError> {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(LiveError::Runtime)?;
    runtime.block_on(async {
        let driver = driver::Driver::start(scenario, url, speed).await?;
        driver.run(progress).await
    })
}

/// A job's id in Redis: a version-4 UUID derived from the seed and the
/// job's number, so the same scenario and seed name the same jobs.
pub fn job_uuid(seed: u64, job: u64) -> uuid::Uuid {
    let digest = Sha256::new()
        .chain_update(b"esa-sim/job/")
        .chain_update(seed.to_le_bytes())
        .chain_update(job.to_le_bytes())
        .finalize();
    let mut bytes = [0u8; 16];
    bytes.copy_from_slice(&digest[..16]);
    uuid::Builder::from_random_bytes(bytes).into_uuid()
}

/// Closes a live run's measurements, adding what the Redis audit must
/// show: no message left in a list once every job has its result, and
/// exactly one result hash per job, final unless the job is in flight.
fn close_live(parts: Parts, end: SimInstant, audit: &Audit, inputs: u64) -> RunOutput {
    let quiet = quiet_from(&parts.faults, parts.load_end);
    let liveness = Liveness::judge(&parts.core.unfinished(), 0, quiet, end);
    let violations = audit_violations(
        audit,
        parts.core.jobs_arrived(),
        parts.core.jobs_in_flight(),
    );
    let run = (parts.core, parts.recorder, parts.scenario_ref);
    close(run, end, inputs, violations, liveness)
}

fn audit_violations(audit: &Audit, arrived: u64, in_flight: u64) -> Vec<String> {
    let mut out = Vec::new();
    if audit.result_hashes() != arrived {
        out.push(format!(
            "Redis holds {} result hashes for {arrived} jobs",
            audit.result_hashes()
        ));
    }
    let pending = audit.results.get("pending").copied().unwrap_or(0);
    if pending != in_flight {
        out.push(format!(
            "Redis shows {pending} jobs pending but {in_flight} are in flight"
        ));
    }
    if in_flight == 0 && audit.messages_left() > 0 {
        out.push(format!(
            "Redis lists still hold {} task message(s) after every job's result: {:?}",
            audit.messages_left(),
            audit.lists
        ));
    }
    out
}
