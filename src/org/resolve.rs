//! Org resolution: the preset (the built-in org or a user org file) and the
//! scenario's `[[org.domain]]` / `[[org.agent]]` entries merged by id, then
//! every reference checked, once, and turned into indices.
//!
//! The scenario's validation (`scenario::validate`) owns the shape of each
//! entry (non-empty, unique ids, kinds, numbers, keyword length); this file
//! owns everything that relates members to each other: an agent's domain,
//! `fallback_domain`, `reports_to`, `after` / `requires` (same domain, no
//! cycles), pools, the shared id namespace and the org's size limits. Each
//! merged member remembers which entries it came from, so an error points
//! at the scenario's `org.agent[3].after[0]` or at the org file's
//! `agent[7].domain` — wherever the offending value was written.
//!
//! Everything here is O(n log n) in the number of members: ids are looked up
//! in `BTreeMap`s built once, never by scanning a list inside a loop.

use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;

use super::{Member, Org, OrgAgent, OrgDomain, OrgPool};
use crate::core::routing::{MAX_DOMAINS, MAX_KEYWORDS, MAX_POOLS};
use crate::core::{AgentIdx, DomainIdx, PoolIdx};
use crate::memo::Memo;
use crate::scenario::{
    parse_org_file, quoted_list, suggest, AgentKind, AgentSpec, DomainSpec, Locator, OrgFile,
    OrgSpec, Scenario, ScenarioError,
};

type Result<T> = std::result::Result<T, ScenarioError>;

/// Most worker pools one domain may have (a subtask's pools are a `u64`).
const MAX_DOMAIN_POOLS: usize = 64;
/// Most agents an org may have (`AgentIdx` is a `u16`).
const MAX_AGENTS: usize = u16::MAX as usize;

/// Resolved orgs, by the scenario's `[org]` (which holds the preset's
/// text): every run of a sweep, a replication set or a bench resolves the
/// same org, and resolving the 105-agent one was a few percent of a short
/// run. Only successes are remembered, so errors still point into each
/// scenario's own file.
static ORGS: Memo<OrgSpec, Org> = Memo::new(4);

/// Resolves the scenario's org; see the module docs.
pub(super) fn build(scenario: &Scenario) -> Result<Org> {
    ORGS.get_or_try(scenario.org.clone(), |_| resolve(scenario))
}

fn resolve(scenario: &Scenario) -> Result<Org> {
    let preset = load_preset(scenario)?;
    let r = Resolver {
        scenario,
        domains: merge(
            &preset.domains,
            &scenario.org.domains,
            |d| &d.id,
            merge_domain,
        ),
        agents: merge(&preset.agents, &scenario.org.agents, |a| &a.id, merge_agent),
        preset: &preset,
    };
    r.check_sizes()?;
    r.check_keyword_count()?;
    let index = r.index()?;
    let mut domains = r.domains();
    let mut agents = r.agents(&index)?;
    let pools = r.pools(&mut agents, &mut domains)?;
    r.check_staffed(&domains)?;
    r.check_reports_to(&index)?;
    r.check_order(&index, &agents)?;
    r.check_cycles(&agents, &domains, &pools)?;
    let fallback = r.fallback(&index)?;
    Ok(Org {
        name: preset.name.clone(),
        description: preset.description.clone(),
        agents,
        domains,
        pools,
        fallback,
        index,
    })
}

/// Parsed org files, by (origin, text): every run of a sweep parses the
/// same one.
static ORG_FILES: Memo<(String, Arc<str>), Arc<OrgFile>> = Memo::new(4);

fn load_preset(scenario: &Scenario) -> Result<Arc<OrgFile>> {
    match scenario.org.preset.source() {
        None => Ok(Arc::new(OrgFile {
            name: "custom".into(),
            description: String::new(),
            domains: Vec::new(),
            agents: Vec::new(),
            origin: String::new(),
            text: "".into(),
        })),
        Some((origin, text)) => ORG_FILES.get_or_try((origin.into(), text.into()), |(o, t)| {
            parse_org_file(o, t).map(Arc::new)
        }),
    }
}

/// Which entries a merged member came from: its index in the preset's list
/// and/or in the scenario's list (ids are unique within each list).
#[derive(Clone, Copy, Debug, Default)]
struct Origin {
    preset: Option<usize>,
    scenario: Option<usize>,
}

/// A merged member and where it came from.
struct Entry<T> {
    spec: T,
    origin: Origin,
}

/// The preset's entries with the scenario's applied by id; new ids are
/// appended in scenario order.
fn merge<T: Clone>(
    base: &[T],
    over: &[T],
    id: fn(&T) -> &String,
    apply: fn(&mut T, &T),
) -> Vec<Entry<T>> {
    let mut out: Vec<Entry<T>> = Vec::with_capacity(base.len() + over.len());
    let mut by_id: BTreeMap<&str, usize> = BTreeMap::new();
    for (i, spec) in base.iter().enumerate() {
        by_id.insert(id(spec).as_str(), out.len());
        out.push(Entry {
            spec: spec.clone(),
            origin: Origin {
                preset: Some(i),
                scenario: None,
            },
        });
    }
    for (j, spec) in over.iter().enumerate() {
        match by_id.get(id(spec).as_str()) {
            Some(&i) => {
                apply(&mut out[i].spec, spec);
                out[i].origin.scenario = Some(j);
            }
            None => {
                by_id.insert(id(spec).as_str(), out.len());
                out.push(Entry {
                    spec: spec.clone(),
                    origin: Origin {
                        preset: None,
                        scenario: Some(j),
                    },
                });
            }
        }
    }
    out
}

/// Copies every field that `over` sets onto `base`.
macro_rules! take_some {
    ($base:ident, $over:ident; $($f:ident),* $(,)?) => {
        $( if $over.$f.is_some() { $base.$f = $over.$f.clone(); } )*
    };
}

fn merge_domain(base: &mut DomainSpec, over: &DomainSpec) {
    take_some!(base, over; name, keywords, reports_to);
}

fn merge_agent(base: &mut AgentSpec, over: &AgentSpec) {
    take_some!(base, over; kind, name, domain, reports_to, keywords, slots, service,
        error_rate, after, requires, pool, critical, skills);
}

/// A key of an agent entry that an error can point at.
#[derive(Clone, Copy, Debug)]
enum AgentKey {
    /// The `[[org.agent]]` / `[[agent]]` entry itself.
    Entry,
    Id,
    Domain,
    ReportsTo,
    After,
    Requires,
    Pool,
    Keywords,
    Skills,
}

impl AgentKey {
    fn suffix(self) -> &'static str {
        match self {
            AgentKey::Entry => "",
            AgentKey::Id => ".id",
            AgentKey::Domain => ".domain",
            AgentKey::ReportsTo => ".reports_to",
            AgentKey::After => ".after",
            AgentKey::Requires => ".requires",
            AgentKey::Pool => ".pool",
            AgentKey::Keywords => ".keywords",
            AgentKey::Skills => ".skills",
        }
    }

    /// Whether `spec` (one file's entry) writes this key.
    fn written_in(self, spec: &AgentSpec) -> bool {
        match self {
            AgentKey::Entry | AgentKey::Id => true,
            AgentKey::Domain => spec.domain.is_some(),
            AgentKey::ReportsTo => spec.reports_to.is_some(),
            AgentKey::After => spec.after.is_some(),
            AgentKey::Requires => spec.requires.is_some(),
            AgentKey::Pool => spec.pool.is_some(),
            AgentKey::Keywords => spec.keywords.is_some(),
            AgentKey::Skills => spec.skills.is_some(),
        }
    }
}

/// A key of a domain entry that an error can point at.
#[derive(Clone, Copy, Debug)]
enum DomainKey {
    Entry,
    ReportsTo,
    Keywords,
}

impl DomainKey {
    fn suffix(self) -> &'static str {
        match self {
            DomainKey::Entry => "",
            DomainKey::ReportsTo => ".reports_to",
            DomainKey::Keywords => ".keywords",
        }
    }

    fn written_in(self, spec: &DomainSpec) -> bool {
        match self {
            DomainKey::Entry => true,
            DomainKey::ReportsTo => spec.reports_to.is_some(),
            DomainKey::Keywords => spec.keywords.is_some(),
        }
    }
}

/// Where an error points: a key path in the scenario or in the org file.
enum Place {
    Scenario(String),
    OrgFile(String),
}

/// The merged org, before and while it is turned into indices.
struct Resolver<'a> {
    scenario: &'a Scenario,
    preset: &'a OrgFile,
    domains: Vec<Entry<DomainSpec>>,
    agents: Vec<Entry<AgentSpec>>,
}

impl Resolver<'_> {
    // ---- locating errors ----

    /// The entry whose value of `key` the merged member uses: the
    /// scenario's if it writes the key, else the preset's.
    fn place(
        &self,
        origin: Origin,
        written_in_scenario: impl Fn(usize) -> bool,
        list: &str,
        suffix: &str,
        item: Option<usize>,
    ) -> Place {
        let item = item.map_or(String::new(), |k| format!("[{k}]"));
        match (origin.scenario, origin.preset) {
            (Some(j), Some(_)) if written_in_scenario(j) => {
                Place::Scenario(format!("org.{list}[{j}]{suffix}{item}"))
            }
            (_, Some(i)) => Place::OrgFile(format!("{list}[{i}]{suffix}{item}")),
            (Some(j), None) => Place::Scenario(format!("org.{list}[{j}]{suffix}{item}")),
            (None, None) => Place::Scenario(format!("org.{list}")),
        }
    }

    fn agent_place(&self, a: usize, key: AgentKey, item: Option<usize>) -> Place {
        let over = &self.scenario.org.agents;
        let written = |j: usize| key.written_in(&over[j]);
        self.place(self.agents[a].origin, written, "agent", key.suffix(), item)
    }

    fn domain_place(&self, d: usize, key: DomainKey, item: Option<usize>) -> Place {
        let over = &self.scenario.org.domains;
        let written = |j: usize| key.written_in(&over[j]);
        self.place(
            self.domains[d].origin,
            written,
            "domain",
            key.suffix(),
            item,
        )
    }

    fn err(&self, place: Place, message: String) -> ScenarioError {
        match place {
            Place::Scenario(path) => ScenarioError::invalid(&self.scenario.source, &path, message),
            Place::OrgFile(path) => {
                Locator::org_file(&self.preset.origin, &self.preset.text).invalid(&path, message)
            }
        }
    }

    fn agent_err(
        &self,
        a: usize,
        key: AgentKey,
        item: Option<usize>,
        msg: String,
    ) -> ScenarioError {
        self.err(self.agent_place(a, key, item), msg)
    }

    fn domain_ids(&self) -> impl Iterator<Item = &str> {
        self.domains.iter().map(|d| d.spec.id.as_str())
    }

    fn agent_ids(&self) -> impl Iterator<Item = &str> {
        self.agents.iter().map(|a| a.spec.id.as_str())
    }

    // ---- limits, checked before anything is built ----

    /// Domain, pool and agent counts, pools first: they are the tightest
    /// limit, and an org far beyond it is rejected without further work.
    fn check_sizes(&self) -> Result<()> {
        let mut pools = BTreeSet::new();
        for (i, a) in self.agents.iter().enumerate() {
            if a.spec.domain.is_none() {
                continue;
            }
            let name = a.spec.pool.as_deref().unwrap_or(&a.spec.id);
            if pools.insert(name) && pools.len() > MAX_POOLS {
                let key = match a.spec.pool {
                    Some(_) => AgentKey::Pool,
                    None => AgentKey::Entry,
                };
                return Err(self.agent_err(i, key, None, format!(
                    "agent `{}` makes {} worker pools; at most {MAX_POOLS} are supported — give replicas one shared `pool` name (they share one queue) or use fewer workers",
                    a.spec.id, pools.len()
                )));
            }
        }
        if self.domains.len() > MAX_DOMAINS {
            return Err(self.err(
                self.domain_place(MAX_DOMAINS, DomainKey::Entry, None),
                format!(
                    "{} domains; at most {MAX_DOMAINS} are supported",
                    self.domains.len()
                ),
            ));
        }
        if self.agents.len() > MAX_AGENTS {
            return Err(self.agent_err(
                MAX_AGENTS,
                AgentKey::Entry,
                None,
                format!(
                    "{} agents; at most {MAX_AGENTS} are supported",
                    self.agents.len()
                ),
            ));
        }
        Ok(())
    }

    /// Routing words per org (domain and worker keywords, and skills, which
    /// feed the balancing router): at most [`MAX_KEYWORDS`].
    fn check_keyword_count(&self) -> Result<()> {
        let msg = |n: usize| {
            format!("this entry brings the org to {n} routing keywords and skills; at most {MAX_KEYWORDS} are supported — use fewer, more general keywords")
        };
        let mut n = 0;
        for (i, d) in self.domains.iter().enumerate() {
            n += d.spec.keywords.as_ref().map_or(0, Vec::len);
            if n > MAX_KEYWORDS {
                return Err(self.err(self.domain_place(i, DomainKey::Keywords, None), msg(n)));
            }
        }
        for (i, a) in self.agents.iter().enumerate() {
            for (key, words) in [
                (AgentKey::Keywords, &a.spec.keywords),
                (AgentKey::Skills, &a.spec.skills),
            ] {
                n += words.as_ref().map_or(0, Vec::len);
                if n > MAX_KEYWORDS {
                    return Err(self.agent_err(i, key, None, msg(n)));
                }
            }
        }
        Ok(())
    }

    // ---- ids and members ----

    /// Every id once: domains, then agents; an agent may not reuse a
    /// domain's id (fault targets and `reports_to` name either).
    fn index(&self) -> Result<BTreeMap<String, Member>> {
        let mut index = BTreeMap::new();
        for (i, d) in self.domains.iter().enumerate() {
            index.insert(d.spec.id.clone(), Member::Domain(DomainIdx(i as u8)));
        }
        for (i, a) in self.agents.iter().enumerate() {
            if index.contains_key(&a.spec.id) {
                return Err(self.agent_err(i, AgentKey::Id, None, format!(
                    "id \"{}\" is already used by a domain; agent and domain ids share one namespace (fault targets, reports_to), so rename one",
                    a.spec.id
                )));
            }
            index.insert(a.spec.id.clone(), Member::Agent(AgentIdx(i as u16)));
        }
        Ok(index)
    }

    fn domains(&self) -> Vec<OrgDomain> {
        self.domains
            .iter()
            .map(|d| OrgDomain {
                id: d.spec.id.clone(),
                name: d.spec.name.clone().unwrap_or_else(|| d.spec.id.clone()),
                keywords: d.spec.keywords.clone().unwrap_or_default(),
                reports_to: d.spec.reports_to.clone().unwrap_or_default(),
                pools: Vec::new(),
            })
            .collect()
    }

    fn agents(&self, index: &BTreeMap<String, Member>) -> Result<Vec<OrgAgent>> {
        (0..self.agents.len())
            .map(|i| self.agent(i, index))
            .collect()
    }

    fn agent(&self, i: usize, index: &BTreeMap<String, Member>) -> Result<OrgAgent> {
        let spec = &self.agents[i].spec;
        let defaults = &self.scenario.org.defaults;
        let kind = spec.kind.unwrap_or(AgentKind::Worker);
        Ok(OrgAgent {
            id: spec.id.clone(),
            kind,
            name: spec.name.clone().unwrap_or_else(|| spec.id.clone()),
            reports_to: spec.reports_to.clone().unwrap_or_default(),
            domain: self.agent_domain(i, kind, index)?,
            pool: None,
            pool_name: spec.pool.clone().unwrap_or_else(|| spec.id.clone()),
            keywords: spec.keywords.clone().unwrap_or_default(),
            slots: spec.slots.unwrap_or(defaults.slots),
            service: spec.service.unwrap_or(defaults.service),
            error_rate: spec.error_rate.unwrap_or(defaults.error_rate),
            critical: spec.critical.unwrap_or(false),
            after: spec.after.clone().unwrap_or_default(),
            requires: spec.requires.clone().unwrap_or_default(),
            skills: spec.skills.clone().unwrap_or_default(),
        })
    }

    /// The domain that dispatches to agent `i`; a worker must have one.
    fn agent_domain(
        &self,
        i: usize,
        kind: AgentKind,
        index: &BTreeMap<String, Member>,
    ) -> Result<Option<DomainIdx>> {
        let spec = &self.agents[i].spec;
        let Some(d) = &spec.domain else {
            return match kind {
                AgentKind::Worker => Err(self.missing_domain(i)),
                AgentKind::Ceo
                | AgentKind::Chief
                | AgentKind::Domain
                | AgentKind::Layer
                | AgentKind::Expert
                | AgentKind::Operational
                | AgentKind::LifeCeo => Ok(None),
            };
        };
        match index.get(d) {
            Some(Member::Domain(idx)) => Ok(Some(*idx)),
            Some(Member::Agent(_)) | None => Err(self.agent_err(
                i,
                AgentKey::Domain,
                None,
                format!(
                    "domain \"{d}\" is not a defined domain id{}",
                    suggest(d, self.domain_ids(), "defined domains")
                ),
            )),
        }
    }

    fn missing_domain(&self, i: usize) -> ScenarioError {
        let ids: Vec<&str> = self.domain_ids().collect();
        let help = format!(
            "every worker agent needs domain = one of {} (the coordinator that dispatches its work); agents of another `kind`, e.g. \"chief\", may omit it",
            quoted_list(&ids)
        );
        match self.agent_place(i, AgentKey::Domain, None) {
            Place::Scenario(path) => Locator::scenario(&self.scenario.source).missing(&path, help),
            Place::OrgFile(path) => {
                Locator::org_file(&self.preset.origin, &self.preset.text).missing(&path, help)
            }
        }
    }

    /// Groups workers into pools (by `pool`, default own id) in order of
    /// first appearance; every member of a pool shares its domain.
    fn pools(&self, agents: &mut [OrgAgent], domains: &mut [OrgDomain]) -> Result<Vec<OrgPool>> {
        let mut pools: Vec<OrgPool> = Vec::new();
        let mut by_name: BTreeMap<String, usize> = BTreeMap::new();
        for (i, agent) in agents.iter_mut().enumerate() {
            let Some(domain) = agent.domain else {
                continue;
            };
            let idx = match by_name.get(&agent.pool_name) {
                Some(&p) => p,
                None => {
                    let dom = &mut domains[domain.0 as usize];
                    if dom.pools.len() == MAX_DOMAIN_POOLS {
                        return Err(self.agent_err(i, AgentKey::Domain, None, format!(
                            "domain `{}` would get more than {MAX_DOMAIN_POOLS} worker pools; give replicas one shared `pool` name or move workers to another domain",
                            dom.id
                        )));
                    }
                    dom.pools.push(PoolIdx(pools.len() as u16));
                    by_name.insert(agent.pool_name.clone(), pools.len());
                    pools.push(OrgPool {
                        name: agent.pool_name.clone(),
                        domain,
                        members: Vec::new(),
                    });
                    pools.len() - 1
                }
            };
            if pools[idx].domain != domain {
                let pool_domain = &domains[pools[idx].domain.0 as usize].id;
                return Err(self.agent_err(i, AgentKey::Domain, None, format!(
                    "agent `{}` is in pool `{}`, whose other members are in domain `{pool_domain}`; replicas share one queue and must share a domain — set domain = \"{pool_domain}\" or another `pool` name",
                    agent.id, agent.pool_name
                )));
            }
            pools[idx].members.push(AgentIdx(i as u16));
            agent.pool = Some(PoolIdx(idx as u16));
        }
        Ok(pools)
    }

    /// Every domain has a worker: routing or the fallback can send it a
    /// subtask, and its coordinator needs a default worker to hand it to.
    fn check_staffed(&self, domains: &[OrgDomain]) -> Result<()> {
        match domains.iter().position(|d| d.pools.is_empty()) {
            None => Ok(()),
            Some(d) => Err(self.err(
                self.domain_place(d, DomainKey::Entry, None),
                format!(
                    "domain `{0}` has no worker agent, so work routed to it could never run; add an [[org.agent]] with domain = \"{0}\" (its first worker is the default) or remove the domain",
                    domains[d].id
                ),
            )),
        }
    }

    // ---- references ----

    /// `reports_to` of domains and agents names an id of the org.
    fn check_reports_to(&self, index: &BTreeMap<String, Member>) -> Result<()> {
        let all = || self.domain_ids().chain(self.agent_ids());
        let unknown = |r: &str| {
            format!(
                "\"{r}\" is not an id defined in this org{}",
                suggest(r, all(), "defined ids")
            )
        };
        for (i, d) in self.domains.iter().enumerate() {
            for (k, r) in d.spec.reports_to.iter().flatten().enumerate() {
                if !index.contains_key(r) {
                    let place = self.domain_place(i, DomainKey::ReportsTo, Some(k));
                    return Err(self.err(place, unknown(r)));
                }
            }
        }
        for (i, a) in self.agents.iter().enumerate() {
            for (k, r) in a.spec.reports_to.iter().flatten().enumerate() {
                if !index.contains_key(r) {
                    return Err(self.agent_err(i, AgentKey::ReportsTo, Some(k), unknown(r)));
                }
            }
        }
        Ok(())
    }

    /// `after` / `requires` name workers of the agent's own domain.
    fn check_order(&self, index: &BTreeMap<String, Member>, agents: &[OrgAgent]) -> Result<()> {
        for (i, a) in agents.iter().enumerate() {
            for (key, field, ids) in [
                (AgentKey::After, "after", &a.after),
                (AgentKey::Requires, "requires", &a.requires),
            ] {
                for (k, id) in ids.iter().enumerate() {
                    if let Some(msg) = self.order_problem(index, agents, a, field, id) {
                        return Err(self.agent_err(i, key, Some(k), msg));
                    }
                }
            }
        }
        Ok(())
    }

    /// Why `a.<field>` may not name `id`, if it may not.
    fn order_problem(
        &self,
        index: &BTreeMap<String, Member>,
        agents: &[OrgAgent],
        a: &OrgAgent,
        field: &str,
        id: &str,
    ) -> Option<String> {
        let Some(Member::Agent(other)) = index.get(id) else {
            return Some(format!(
                "\"{id}\" is not an agent defined in this org{}",
                suggest(id, self.agent_ids(), "defined agents")
            ));
        };
        let other = &agents[other.0 as usize];
        let Some(domain) = a.domain else {
            return Some(format!("agent `{}` has no `domain`, so it takes no work and `{field}` cannot apply; give it a domain or remove `{field}`", a.id));
        };
        if other.domain == Some(domain) {
            return None;
        }
        let here = &self.domains[domain.0 as usize].spec.id;
        Some(format!("`{id}` is not a worker of domain `{here}` (agent `{}`'s domain); `{field}` orders and co-selects workers inside one domain", a.id))
    }

    /// An `after` cycle between pools of one domain would make every job
    /// that selects them wait forever: reject it, naming the cycle.
    fn check_cycles(
        &self,
        agents: &[OrgAgent],
        domains: &[OrgDomain],
        pools: &[OrgPool],
    ) -> Result<()> {
        for d in domains {
            let graph = AfterGraph::of(d, agents, pools);
            if let Some(cycle) = graph.cycle() {
                let edges: Vec<(usize, usize)> = cycle
                    .iter()
                    .zip(cycle.iter().cycle().skip(1))
                    .map(|(&p, &q)| graph.witness[&(p, q)])
                    .collect();
                let steps: Vec<String> = edges
                    .iter()
                    .map(|&(a, k)| format!("`{}` after `{}`", agents[a].id, agents[a].after[k]))
                    .collect();
                let (a, k) = edges[0];
                return Err(self.agent_err(a, AgentKey::After, Some(k), format!(
                    "`after` makes a cycle in domain `{}`: {} — a job that selects these workers would wait forever; remove one of these `after` entries",
                    d.id,
                    steps.join(", ")
                )));
            }
        }
        Ok(())
    }

    fn fallback(&self, index: &BTreeMap<String, Member>) -> Result<DomainIdx> {
        let id = &self.scenario.org.fallback_domain;
        match index.get(id) {
            Some(Member::Domain(d)) => Ok(*d),
            Some(Member::Agent(_)) | None => {
                let of_preset = match self.preset.origin.is_empty() {
                    true => String::new(),
                    false => format!(" nor a domain of the preset `{}`", self.preset.name),
                };
                Err(self.err(
                    Place::Scenario("org.fallback_domain".into()),
                    format!(
                        "fallback_domain \"{id}\" is not a defined [[org.domain]] id{of_preset}{}",
                        suggest(id, self.domain_ids(), "defined domains")
                    ),
                ))
            }
        }
    }
}

/// One domain's `after` edges between its pools (local indices): pool `p`
/// waits for pool `q`. Edges inside one pool are ignored, as the core does.
struct AfterGraph {
    waits_for: Vec<u64>,
    /// Per edge, the first `after` entry that made it: (agent, index in its
    /// `after`).
    witness: BTreeMap<(usize, usize), (usize, usize)>,
}

impl AfterGraph {
    fn of(domain: &OrgDomain, agents: &[OrgAgent], pools: &[OrgPool]) -> AfterGraph {
        let local: BTreeMap<PoolIdx, usize> = domain
            .pools
            .iter()
            .enumerate()
            .map(|(l, p)| (*p, l))
            .collect();
        let by_id: BTreeMap<&str, usize> = domain
            .pools
            .iter()
            .flat_map(|p| pools[p.0 as usize].members.iter())
            .map(|m| (agents[m.0 as usize].id.as_str(), m.0 as usize))
            .collect();
        let mut graph = AfterGraph {
            waits_for: vec![0; domain.pools.len()],
            witness: BTreeMap::new(),
        };
        for (p, pool) in domain.pools.iter().enumerate() {
            for &m in &pools[pool.0 as usize].members {
                let a = m.0 as usize;
                for (k, id) in agents[a].after.iter().enumerate() {
                    let Some(q) = by_id
                        .get(id.as_str())
                        .and_then(|o| agents[*o].pool)
                        .and_then(|qp| local.get(&qp).copied())
                    else {
                        continue;
                    };
                    if q != p {
                        graph.waits_for[p] |= 1 << q;
                        graph.witness.entry((p, q)).or_insert((a, k));
                    }
                }
            }
        }
        graph
    }

    /// A cycle `p0 → p1 → … → p0` (each waits for the next), if any.
    fn cycle(&self) -> Option<Vec<usize>> {
        let n = self.waits_for.len();
        // 0 = unvisited, 1 = on the current path, 2 = done.
        let mut state = vec![0u8; n];
        let mut path = Vec::new();
        (0..n).find_map(|start| self.visit(start, &mut state, &mut path))
    }

    fn visit(&self, p: usize, state: &mut [u8], path: &mut Vec<usize>) -> Option<Vec<usize>> {
        match state[p] {
            2 => return None,
            1 => {
                let from = path.iter().position(|&x| x == p).unwrap_or(0);
                return Some(path[from..].to_vec());
            }
            _ => {}
        }
        state[p] = 1;
        path.push(p);
        let mut bits = self.waits_for[p];
        while bits != 0 {
            let q = bits.trailing_zeros() as usize;
            bits &= bits - 1;
            if let Some(c) = self.visit(q, state, path) {
                return Some(c);
            }
        }
        path.pop();
        state[p] = 2;
        None
    }
}
