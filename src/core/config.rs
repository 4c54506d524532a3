//! The static description of the org a core runs: domains, worker pools,
//! agents, routers and the protocol's parameters.

use super::*;

/// Static description of the org the core runs: its shape (from
/// [`crate::org::Org`]) plus the protocol's parameters. How long messages
/// and planning take is not here: that is the driver's business.
pub struct CoreConfig {
    pub protocol: Protocol,
    pub fallback: DomainIdx,
    pub domains: Vec<DomainCfg>,
    pub pools: Vec<PoolCfg>,
    pub agents: Vec<AgentCfg>,
    pub router: Router,
    /// Which pools can take over which work: keywords plus skills.
    pub skill_router: Router,
}

/// The org protocol's parameters (esa-org.md §3–§5): registry, requeue,
/// retries, queue bounds and workload balancing.
#[derive(Clone, Copy, Debug)]
pub struct Protocol {
    /// A registry entry expires this long after the last heartbeat.
    pub heartbeat_ttl: SimDuration,
    /// D9 Master Control's registry sweep period.
    pub sweep_interval: SimDuration,
    /// An active work item not finished by then is requeued.
    pub visibility_timeout: SimDuration,
    pub max_retries: u32,
    pub retry_backoff: SimDuration,
    pub queue_capacity: usize,
    /// `None`: balancing switched off.
    pub balancing: Option<BalanceCfg>,
}

impl CoreConfig {
    /// The domain whose coordinator dispatches work to `agent`, if it is a worker.
    pub fn agent_domain(&self, agent: AgentIdx) -> Option<DomainIdx> {
        let pool = self.agents[agent.0 as usize].pool?;
        Some(self.pools[pool.0 as usize].domain)
    }
}

/// A domain coordinator's worker pools; the first is its default worker.
pub struct DomainCfg {
    pub pools: Vec<PoolIdx>,
    /// Local mask of the pools whose failure fails the domain result.
    pub critical: u64,
}

/// A worker role inside one domain.
pub struct PoolCfg {
    pub domain: DomainIdx,
    /// Position in its domain's `pools` (bit index of the domain-local masks).
    pub local: u8,
    pub members: Vec<AgentIdx>,
    /// Local pools that must succeed first when selected for the same subtask.
    pub after: u64,
    /// Local pools always selected together with this one.
    pub requires: u64,
    pub critical: bool,
    /// The division (Chief) it belongs to, for level-2 redistribution.
    pub division: u16,
}

/// The workload-balancing protocol's parameters (seed 001).
#[derive(Clone, Copy, Debug)]
pub struct BalanceCfg {
    /// How often load is checked.
    pub interval: SimDuration,
    /// Reaction delay of levels 1–4.
    pub delays: [SimDuration; 4],
    /// Queued work items one redistribution moves.
    pub moves: u32,
    pub level4: Level4Action,
}

/// A worker agent's capacity.
pub struct AgentCfg {
    pub slots: u32,
    pub pool: Option<PoolIdx>,
}
