//! The organisation as data: agents with typed kinds, domains, worker pools,
//! reporting lines, routing keywords and ordering rules.
//!
//! An org comes from a preset (the built-in `esa-105`, kept as a readable
//! TOML file in `scenarios/orgs/` and embedded at compile time, or a user's
//! org file with the same schema) with the scenario's `[[org.domain]]` and
//! `[[org.agent]]` entries applied on top (`resolve`, where every
//! reference is checked, once). It builds the core's static config but
//! holds no run-time state.

mod resolve;
pub mod show;

use std::collections::BTreeMap;
use std::path::Path;

use crate::core::routing::{Router, RouterError};
use crate::core::{
    AgentCfg, AgentIdx, BalanceCfg, CoreConfig, DomainCfg, DomainIdx, PoolCfg, PoolIdx, Protocol,
};
use crate::memo::Memo;
pub use crate::scenario::AgentKind;
use crate::scenario::{Dist, OrgSpec, Scenario, ScenarioError};

/// Keyword routers, by (domain keywords, pool keywords): an org's two
/// routers, remembered for the next run of the same org.
type RouterKey = (Vec<Vec<String>>, Vec<(DomainIdx, Vec<String>)>);
static ROUTERS: Memo<RouterKey, Router> = Memo::new(4);

/// The built-in 105-agent org.
pub use crate::scenario::ESA_105;

/// A minimal scenario that only names the built-in org (for `org`
/// commands and tests that need the org without a load).
const BUILTIN_ONLY: &str = r#"
[scenario]
name = "org"
duration = "1s"
[org]
preset = "esa-105"
[[load]]
arrival = { process = "poisson", rate = "1/s" }
tasks = [{ text = "org" }]
"#;

/// The built-in esa-105 org, with the scenario it was resolved under.
pub fn builtin() -> Result<(Scenario, Org), ScenarioError> {
    let s = crate::scenario::parse_str(
        "esa-105 (built-in)",
        BUILTIN_ONLY,
        std::path::Path::new("."),
        &[],
    )?;
    let org = Org::build(&s)?;
    Ok((s, org))
}

/// One agent (domain coordinators are [`OrgDomain`]s, counted as agents).
#[derive(Clone, Debug)]
pub struct OrgAgent {
    pub id: String,
    pub kind: AgentKind,
    pub name: String,
    pub reports_to: Vec<String>,
    /// The coordinator that dispatches work to it; `None` for non-workers.
    pub domain: Option<DomainIdx>,
    pub pool: Option<PoolIdx>,
    /// The worker pool it shares a queue with (the `pool` key; default: own id).
    pub pool_name: String,
    pub keywords: Vec<String>,
    pub slots: u32,
    pub service: Dist,
    pub error_rate: f64,
    pub critical: bool,
    pub after: Vec<String>,
    pub requires: Vec<String>,
    /// Work it can take over when balancing moves it (not routing words).
    pub skills: Vec<String>,
}

#[derive(Clone, Debug)]
pub struct OrgDomain {
    pub id: String,
    pub name: String,
    pub keywords: Vec<String>,
    pub reports_to: Vec<String>,
    /// Worker pools in declaration order; the first is the default worker.
    pub pools: Vec<PoolIdx>,
}

/// A worker role: one agent, or replicas sharing one queue.
#[derive(Clone, Debug)]
pub struct OrgPool {
    pub name: String,
    pub domain: DomainIdx,
    pub members: Vec<AgentIdx>,
}

/// A member id's meaning: agent and domain ids share one namespace.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Member {
    Agent(AgentIdx),
    Domain(DomainIdx),
}

/// A resolved org.
#[derive(Clone, Debug)]
pub struct Org {
    pub name: String,
    pub description: String,
    pub agents: Vec<OrgAgent>,
    pub domains: Vec<OrgDomain>,
    pub pools: Vec<OrgPool>,
    pub fallback: DomainIdx,
    /// Every agent and domain id, built once.
    index: BTreeMap<String, Member>,
}

impl Org {
    /// Loads the scenario's preset, applies the scenario's `[[org.domain]]`
    /// and `[[org.agent]]` entries and checks every reference; errors point
    /// at the entry (scenario or org file) the offending value came from.
    pub fn build(scenario: &Scenario) -> Result<Org, ScenarioError> {
        resolve::build(scenario)
    }

    /// Loads the scenario at `path` with `overrides` and makes every check
    /// a run makes before it starts: the scenario, its org, its SLO scopes.
    pub fn load(path: &Path, overrides: &[String]) -> Result<(Scenario, Org), ScenarioError> {
        let scenario = crate::scenario::load(path, overrides)?;
        let org = Org::build(&scenario)?;
        crate::slo::check_scopes(&scenario, &org)?;
        Ok((scenario, org))
    }

    /// Number of agents, counting each domain coordinator as one.
    pub fn agent_count(&self) -> usize {
        self.agents.len() + self.domains.len()
    }

    pub fn domain_index(&self, id: &str) -> Option<DomainIdx> {
        match self.index.get(id)? {
            Member::Domain(d) => Some(*d),
            Member::Agent(_) => None,
        }
    }

    pub fn agent_index(&self, id: &str) -> Option<AgentIdx> {
        match self.index.get(id)? {
            Member::Agent(a) => Some(*a),
            Member::Domain(_) => None,
        }
    }

    /// The core's static configuration: this org's shape plus the
    /// protocol's parameters. Fails only if the keyword automaton cannot be
    /// built (keywords are bounded at validation, so this is a last line of
    /// defence).
    pub fn core_config(&self, protocol: Protocol) -> Result<CoreConfig, RouterError> {
        let domain_words: Vec<Vec<String>> =
            self.domains.iter().map(|d| d.keywords.clone()).collect();
        let pool_words: Vec<(DomainIdx, Vec<String>)> = self
            .pools
            .iter()
            .map(|p| {
                let words = p
                    .members
                    .iter()
                    .flat_map(|m| self.agents[m.0 as usize].keywords.clone());
                (p.domain, words.collect())
            })
            .collect();
        Ok(CoreConfig {
            protocol,
            fallback: self.fallback,
            domains: self.domains.iter().map(|d| self.domain_cfg(d)).collect(),
            pools: (0..self.pools.len())
                .zip(self.divisions())
                .map(|(p, division)| self.pool_cfg(PoolIdx(p as u16), division))
                .collect(),
            agents: self
                .agents
                .iter()
                .map(|a| AgentCfg {
                    slots: a.slots,
                    pool: a.pool,
                })
                .collect(),
            router: ROUTERS.get_or_try((domain_words, pool_words), |(d, p)| Router::new(d, p))?,
            skill_router: ROUTERS
                .get_or_try((Vec::new(), self.skill_words()), |(d, p)| Router::new(d, p))?,
        })
    }

    /// The protocol's parameters as a scenario's `[org]` sets them.
    pub fn protocol(spec: &OrgSpec) -> Protocol {
        Protocol {
            heartbeat_ttl: spec.heartbeat_ttl,
            sweep_interval: spec.heartbeat_interval,
            visibility_timeout: spec.visibility_timeout,
            max_retries: spec.max_retries,
            retry_backoff: spec.retry_backoff,
            queue_capacity: spec.queue_capacity.map_or(usize::MAX, |c| c as usize),
            balancing: spec.balancing.enabled.then_some(BalanceCfg {
                interval: spec.balancing.interval,
                delays: spec.balancing.delays,
                moves: spec.balancing.moves,
                level4: spec.balancing.level4,
            }),
        }
    }

    /// Per pool: its routing keywords plus its members' skills — what it can
    /// take over when balancing moves work.
    fn skill_words(&self) -> Vec<(DomainIdx, Vec<String>)> {
        self.pools
            .iter()
            .map(|p| {
                let words = p.members.iter().flat_map(|m| {
                    let a = &self.agents[m.0 as usize];
                    a.keywords.iter().chain(&a.skills).cloned()
                });
                (p.domain, words.collect())
            })
            .collect()
    }

    /// The division (Chief) a pool belongs to: the first chief its first
    /// member reports to, else its domain's chief, else the domain itself.
    fn division_name(&self, pool: &OrgPool) -> String {
        let is_chief = |id: &String| {
            self.agent_index(id)
                .is_some_and(|a| self.agents[a.0 as usize].kind == AgentKind::Chief)
        };
        let first = &self.agents[pool.members[0].0 as usize];
        let domain = &self.domains[pool.domain.0 as usize];
        first
            .reports_to
            .iter()
            .chain(&domain.reports_to)
            .find(|id| is_chief(id))
            .cloned()
            .unwrap_or_else(|| domain.id.clone())
    }

    /// Division index of every pool, numbered in order of first appearance.
    fn divisions(&self) -> Vec<u16> {
        let mut names: BTreeMap<String, u16> = BTreeMap::new();
        self.pools
            .iter()
            .map(|p| {
                let next = names.len() as u16;
                *names.entry(self.division_name(p)).or_insert(next)
            })
            .collect()
    }

    fn domain_cfg(&self, domain: &OrgDomain) -> DomainCfg {
        let critical = domain
            .pools
            .iter()
            .enumerate()
            .fold(0u64, |mask, (local, p)| {
                let critical = self.pools[p.0 as usize]
                    .members
                    .iter()
                    .any(|m| self.agents[m.0 as usize].critical);
                mask | (critical as u64) << local
            });
        DomainCfg {
            pools: domain.pools.clone(),
            critical,
        }
    }

    fn pool_cfg(&self, idx: PoolIdx, division: u16) -> PoolCfg {
        let pool = &self.pools[idx.0 as usize];
        let domain = &self.domains[pool.domain.0 as usize];
        let local_of = |id: &String| -> u64 {
            let agent = self.agent_index(id).expect("resolved id");
            let p = self.agents[agent.0 as usize].pool.expect("resolved worker");
            let local = domain
                .pools
                .iter()
                .position(|q| *q == p)
                .expect("same domain");
            1 << local
        };
        let members = pool.members.iter().map(|m| &self.agents[m.0 as usize]);
        let mut after = 0;
        let mut requires = 0;
        let mut critical = false;
        for a in members {
            after |= a.after.iter().map(local_of).fold(0, |m, b| m | b);
            requires |= a.requires.iter().map(local_of).fold(0, |m, b| m | b);
            critical |= a.critical;
        }
        let this = domain
            .pools
            .iter()
            .position(|q| *q == idx)
            .expect("pool listed in its domain");
        PoolCfg {
            domain: pool.domain,
            local: this as u8,
            members: pool.members.clone(),
            after: after & !(1 << this),
            requires: requires & !(1 << this),
            critical,
            division,
        }
    }
}
