//! The one mapping from what the core reports ([`Observation`]) to what
//! is measured, shared by every driver: the simulation and the live driver
//! feed the same [`Recorder`] the same way. What only a driver knows (an
//! arrival, an attempt's service time, a crash, when a fault silenced an
//! agent) it reports through the recorder's own `on_*` methods.

use super::Recorder;
use crate::core::{AgentIdx, Observation};
use crate::time::SimInstant;

impl Recorder {
    /// Records one observation the core made at `t`.
    #[inline]
    pub fn observe(&mut self, t: SimInstant, observation: &Observation) {
        match *observation {
            Observation::Routed { domain, .. } => self.on_subtask(t, domain),
            Observation::Started {
                agent,
                domain,
                queued_at,
                task,
                orphan_of,
                ..
            } => {
                self.on_start(t, agent, domain, queued_at, task);
                if let Some(since) = orphan_of.and_then(|a| self.silent_since(a)) {
                    self.on_redispatch(t.saturating_since(since).as_nanos());
                }
            }
            Observation::OutageRejected { .. } => self.on_outage_rejected(),
            Observation::AgentDead { agent } => {
                let since = self.silent_since(agent).unwrap_or(t);
                self.on_detection(agent, t, t.saturating_since(since).as_nanos());
            }
            Observation::Requeued { .. } => self.on_requeue(),
            Observation::LateResult { .. } => self.on_late_result(),
            Observation::Escalated { level, .. } => self.on_escalation(level),
            Observation::Moved { across, .. } => self.on_moved(across),
            Observation::Shed { .. } => self.on_shed(),
            Observation::SlotsAdded { slots, .. } => self.on_slots_added(slots),
            Observation::Retry { domain, .. } => self.on_retry(domain),
            Observation::Rejected { domain, .. } => self.on_rejected(domain),
            Observation::WorkFailed { .. } => self.on_work_failed(),
            Observation::DomainResult {
                domain,
                scheduled,
                status,
                ..
            } => self.on_domain_result(t, domain, scheduled, status),
            Observation::JobResult {
                task,
                scheduled,
                status,
                workers,
                ..
            } => self.on_job_result(t, task, scheduled, status, workers),
        }
    }

    /// A fault silenced `agent` at `t` (its process crashed or its
    /// heartbeats stopped getting through) while it was beating.
    pub fn on_silenced(&mut self, t: SimInstant, agent: AgentIdx) {
        self.agents[agent.0 as usize].silent_since = Some(t);
    }

    /// When a fault last silenced `agent`; `None` if none ever did.
    pub fn silent_since(&self, agent: AgentIdx) -> Option<SimInstant> {
        self.agents[agent.0 as usize].silent_since
    }
}
