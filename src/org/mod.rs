//! The organisation as data: agents with typed kinds, domains, worker pools,
//! reporting lines, routing keywords and ordering rules.
//!
//! An org comes from a preset (the built-in `esa-105`, kept as a readable
//! TOML file in `scenarios/orgs/` and embedded at compile time, or a user's
//! org file with the same schema) with the scenario's `[[org.domain]]` and
//! `[[org.agent]]` entries applied on top. This module resolves ids to
//! indices and checks references; it builds the core's static config but
//! holds no run-time state.

pub mod show;

use crate::core::routing::{Router, MAX_DOMAINS, MAX_POOLS};
use crate::core::{
    AgentCfg, AgentIdx, BalanceCfg, CoreConfig, DomainCfg, DomainIdx, PoolCfg, PoolIdx, TaskCfg,
};
use crate::scenario::{
    parse_org_file, AgentSpec, Dist, DomainSpec, OrgFile, Preset, Scenario, ScenarioError,
};

/// The built-in 105-agent org.
pub const ESA_105: &str = include_str!("../../scenarios/orgs/esa-105.toml");

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

/// What kind of member an agent is. Numeric ids repeat across kinds (#10 is
/// an expert and a layer), so an agent is always named by kind and id.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum AgentKind {
    Ceo,
    Chief,
    Domain,
    Layer,
    Expert,
    Operational,
    LifeCeo,
    /// A worker defined by a scenario (`preset = "none"`).
    Worker,
}

impl AgentKind {
    pub const ALL: [AgentKind; 8] = [
        AgentKind::Ceo,
        AgentKind::Chief,
        AgentKind::Domain,
        AgentKind::Layer,
        AgentKind::Expert,
        AgentKind::Operational,
        AgentKind::LifeCeo,
        AgentKind::Worker,
    ];

    pub fn name(self) -> &'static str {
        match self {
            AgentKind::Ceo => "ceo",
            AgentKind::Chief => "chief",
            AgentKind::Domain => "domain",
            AgentKind::Layer => "layer",
            AgentKind::Expert => "expert",
            AgentKind::Operational => "operational",
            AgentKind::LifeCeo => "life-ceo",
            AgentKind::Worker => "worker",
        }
    }

    pub fn parse(s: &str) -> Option<AgentKind> {
        AgentKind::ALL.iter().copied().find(|k| k.name() == s)
    }
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

/// A resolved org.
#[derive(Clone, Debug)]
pub struct Org {
    pub name: String,
    pub description: String,
    pub agents: Vec<OrgAgent>,
    pub domains: Vec<OrgDomain>,
    pub pools: Vec<OrgPool>,
    pub fallback: DomainIdx,
}

impl Org {
    /// Loads the scenario's preset and applies its overrides.
    pub fn build(scenario: &Scenario) -> Result<Org, ScenarioError> {
        let base = load_preset(scenario)?;
        let mut domains = base.domains;
        let mut agents = base.agents;
        for d in &scenario.org.domains {
            merge_domain(&mut domains, d);
        }
        for a in &scenario.org.agents {
            merge_agent(&mut agents, a);
        }
        Resolver { scenario }.resolve(base.name, base.description, domains, agents)
    }

    /// Number of agents, counting each domain coordinator as one.
    pub fn agent_count(&self) -> usize {
        self.agents.len() + self.domains.len()
    }

    pub fn domain_index(&self, id: &str) -> Option<DomainIdx> {
        self.domains
            .iter()
            .position(|d| d.id == id)
            .map(|i| DomainIdx(i as u8))
    }

    pub fn agent_index(&self, id: &str) -> Option<AgentIdx> {
        self.agents
            .iter()
            .position(|a| a.id == id)
            .map(|i| AgentIdx(i as u16))
    }

    /// The core's static configuration for this org and scenario.
    pub fn core_config(&self, scenario: &Scenario) -> CoreConfig {
        let org = &scenario.org;
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
        CoreConfig {
            hop_latency: org.hop_latency,
            heartbeat_interval: org.heartbeat_interval,
            heartbeat_ttl: org.heartbeat_ttl,
            sweep_interval: org.heartbeat_interval,
            visibility_timeout: org.visibility_timeout,
            plan_time: org.plan_time,
            max_retries: org.max_retries,
            retry_backoff: org.retry_backoff,
            queue_capacity: org.queue_capacity.map_or(usize::MAX, |c| c as usize),
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
            tasks: scenario
                .loads
                .iter()
                .flat_map(|l| l.tasks.iter())
                .map(|t| TaskCfg {
                    text: t.text.clone(),
                    priority: t.priority,
                })
                .collect(),
            router: Router::new(&domain_words, &pool_words),
            skill_router: Router::new(&[], &self.skill_words()),
            balancing: org.balancing.enabled.then_some(BalanceCfg {
                interval: org.balancing.interval,
                delays: org.balancing.delays,
                moves: org.balancing.moves,
                level4: org.balancing.level4,
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
        let mut names: Vec<String> = Vec::new();
        self.pools
            .iter()
            .map(|p| {
                let name = self.division_name(p);
                let i = names.iter().position(|n| *n == name).unwrap_or_else(|| {
                    names.push(name);
                    names.len() - 1
                });
                i as u16
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

fn load_preset(scenario: &Scenario) -> Result<OrgFile, ScenarioError> {
    match &scenario.org.preset {
        Preset::None => Ok(OrgFile {
            name: "custom".into(),
            description: String::new(),
            domains: Vec::new(),
            agents: Vec::new(),
        }),
        Preset::Builtin(name) if name == "esa-105" => parse_org_file("esa-105 (built-in)", ESA_105),
        Preset::Builtin(name) => Err(ScenarioError::invalid(
            &scenario.source,
            "org.preset",
            format!("unknown preset `{name}`; use \"esa-105\", \"none\", or a path to an org file ending in .toml"),
        )),
        Preset::File(path) => {
            let text = std::fs::read_to_string(path).map_err(|e| {
                ScenarioError::invalid(
                    &scenario.source,
                    "org.preset",
                    format!("cannot read org file `{path}`: {e}; the path is relative to the scenario file"),
                )
            })?;
            parse_org_file(path, &text)
        }
    }
}

/// Copies every field that `over` sets onto `base`.
macro_rules! take_some {
    ($base:ident, $over:ident; $($f:ident),* $(,)?) => {
        $( if $over.$f.is_some() { $base.$f = $over.$f.clone(); } )*
    };
}

fn merge_domain(domains: &mut Vec<DomainSpec>, over: &DomainSpec) {
    let Some(base) = domains.iter_mut().find(|d| d.id == over.id) else {
        domains.push(over.clone());
        return;
    };
    take_some!(base, over; name, keywords, reports_to);
}

fn merge_agent(agents: &mut Vec<AgentSpec>, over: &AgentSpec) {
    let Some(base) = agents.iter_mut().find(|a| a.id == over.id) else {
        agents.push(over.clone());
        return;
    };
    take_some!(base, over; kind, name, domain, reports_to, keywords, slots, service,
        error_rate, after, requires, pool, critical, skills);
}

/// Turns merged specs into an [`Org`], reporting bad references against the
/// scenario file.
struct Resolver<'a> {
    scenario: &'a Scenario,
}

impl Resolver<'_> {
    fn err(&self, key: &str, msg: String) -> ScenarioError {
        ScenarioError::invalid(&self.scenario.source, key, msg)
    }

    fn resolve(
        &self,
        name: String,
        description: String,
        domain_specs: Vec<DomainSpec>,
        agent_specs: Vec<AgentSpec>,
    ) -> Result<Org, ScenarioError> {
        if domain_specs.len() > MAX_DOMAINS {
            return Err(self.err(
                "org.domain",
                format!(
                    "{} domains; at most {MAX_DOMAINS} are supported",
                    domain_specs.len()
                ),
            ));
        }
        let mut domains: Vec<OrgDomain> = domain_specs
            .into_iter()
            .map(|d| OrgDomain {
                name: d.name.unwrap_or_else(|| d.id.clone()),
                id: d.id,
                keywords: d.keywords.unwrap_or_default(),
                reports_to: d.reports_to.unwrap_or_default(),
                pools: Vec::new(),
            })
            .collect();
        let mut agents = Vec::with_capacity(agent_specs.len());
        for spec in agent_specs {
            agents.push(self.agent(spec, &domains)?);
        }
        if agents.len() > u16::MAX as usize {
            return Err(self.err("org.agent", "more than 65535 agents".into()));
        }
        let pools = self.pools(&mut agents, &mut domains)?;
        let org = Org {
            name,
            description,
            fallback: self.fallback(&domains)?,
            agents,
            domains,
            pools,
        };
        self.check_references(&org)?;
        Ok(org)
    }

    fn agent(&self, spec: AgentSpec, domains: &[OrgDomain]) -> Result<OrgAgent, ScenarioError> {
        let defaults = &self.scenario.org.defaults;
        let kind_name = spec.kind.clone().unwrap_or_else(|| "worker".into());
        let kind = AgentKind::parse(&kind_name).ok_or_else(|| {
            self.err(
                "org.agent",
                format!("agent `{}` has unknown kind `{kind_name}`", spec.id),
            )
        })?;
        let domain = match &spec.domain {
            None => None,
            Some(d) => Some(
                domains
                    .iter()
                    .position(|x| &x.id == d)
                    .map(|i| DomainIdx(i as u8))
                    .ok_or_else(|| {
                        self.err(
                            "org.agent",
                            format!(
                                "agent `{}` names domain `{d}`, which does not exist{}",
                                spec.id,
                                suggest(d, domains.iter().map(|x| x.id.as_str()))
                            ),
                        )
                    })?,
            ),
        };
        let pool_name = spec.pool.clone().unwrap_or_else(|| spec.id.clone());
        Ok(OrgAgent {
            name: spec.name.unwrap_or_else(|| spec.id.clone()),
            id: spec.id,
            kind,
            reports_to: spec.reports_to.unwrap_or_default(),
            domain,
            pool: None,
            pool_name,
            keywords: spec.keywords.unwrap_or_default(),
            slots: spec.slots.unwrap_or(defaults.slots),
            service: spec.service.unwrap_or(defaults.service),
            error_rate: spec.error_rate.unwrap_or(defaults.error_rate),
            critical: spec.critical.unwrap_or(false),
            after: spec.after.unwrap_or_default(),
            requires: spec.requires.unwrap_or_default(),
            skills: spec.skills.unwrap_or_default(),
        })
    }

    /// Groups workers into pools (by `pool`, default own id) in order of
    /// first appearance; every member of a pool must share its domain.
    fn pools(
        &self,
        agents: &mut [OrgAgent],
        domains: &mut [OrgDomain],
    ) -> Result<Vec<OrgPool>, ScenarioError> {
        let mut pools: Vec<OrgPool> = Vec::new();
        for (i, agent) in agents.iter_mut().enumerate() {
            let Some(domain) = agent.domain else {
                continue;
            };
            let pname = agent.pool_name.clone();
            let idx = match pools.iter().position(|p| p.name == pname) {
                Some(p) => p,
                None => {
                    pools.push(OrgPool {
                        name: pname.clone(),
                        domain,
                        members: Vec::new(),
                    });
                    domains[domain.0 as usize]
                        .pools
                        .push(PoolIdx((pools.len() - 1) as u16));
                    pools.len() - 1
                }
            };
            if pools[idx].domain != domain {
                return Err(self.err(
                    "org.agent",
                    format!("agent `{}` is in pool `{pname}` but in another domain than the pool's other members; replicas must share a domain", agent.id),
                ));
            }
            pools[idx].members.push(AgentIdx(i as u16));
            agent.pool = Some(PoolIdx(idx as u16));
        }
        if pools.len() > MAX_POOLS {
            return Err(self.err(
                "org.agent",
                format!(
                    "{} worker pools; at most {MAX_POOLS} are supported",
                    pools.len()
                ),
            ));
        }
        for d in domains.iter() {
            if d.pools.len() > 64 {
                return Err(self.err(
                    "org.agent",
                    format!(
                        "domain `{}` has {} worker pools; at most 64 are supported",
                        d.id,
                        d.pools.len()
                    ),
                ));
            }
        }
        Ok(pools)
    }

    fn fallback(&self, domains: &[OrgDomain]) -> Result<DomainIdx, ScenarioError> {
        let id = &self.scenario.org.fallback_domain;
        domains
            .iter()
            .position(|d| &d.id == id)
            .map(|i| DomainIdx(i as u8))
            .ok_or_else(|| {
                self.err(
                    "org.fallback_domain",
                    format!(
                        "fallback_domain `{id}` is not a domain of the org{}",
                        suggest(id, domains.iter().map(|d| d.id.as_str()))
                    ),
                )
            })
    }

    /// `after` / `requires` must name workers of the same domain.
    fn check_references(&self, org: &Org) -> Result<(), ScenarioError> {
        for a in &org.agents {
            for (field, ids) in [("after", &a.after), ("requires", &a.requires)] {
                for id in ids {
                    let other = org.agent_index(id).map(|i| &org.agents[i.0 as usize]);
                    let ok = matches!(other, Some(o) if o.domain.is_some() && o.domain == a.domain);
                    if !ok || a.domain.is_none() {
                        return Err(self.err(
                            "org.agent",
                            format!("agent `{}`: `{field}` names `{id}`, which is not a worker in the same domain{}", a.id, suggest(id, org.agents.iter().map(|x| x.id.as_str()))),
                        ));
                    }
                }
            }
        }
        Ok(())
    }
}

/// `" — did you mean `X`?"` when a known id is close to `wrong`.
pub fn suggest<'a>(wrong: &str, known: impl Iterator<Item = &'a str>) -> String {
    known
        .map(|k| (strsim::jaro_winkler(wrong, k), k))
        .filter(|(score, _)| *score > 0.8)
        .max_by(|a, b| a.0.total_cmp(&b.0))
        .map(|(_, k)| format!(" — did you mean `{k}`?"))
        .unwrap_or_default()
}
