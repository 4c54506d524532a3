//! Validation and conversion of the raw shapes into [`model`](super::model)
//! types: `[scenario]`, `[org]` (with its domains, agents and service
//! distributions) and org files. Loads, faults and SLOs live in their own
//! files. Every check names the key path, so the error points at the line.

use super::error::{did_you_mean, quoted_list, suggestion_hint, Ctx, ScenarioError};
use super::model::*;
use super::raw::{RawAgent, RawDist, RawDomain, RawDuration, RawOrg, RawOrgFile, RawScenario};
use super::{faults, loads, realtime, slo, OrgFile, MAX_HORIZON};
use crate::compare::{self, Tolerance};
use crate::core::routing::MAX_KEYWORD_BYTES;
use crate::time::SimDuration;
use std::collections::BTreeSet;
use std::path::Path;
use std::sync::Arc;

type Result<T> = std::result::Result<T, ScenarioError>;

/// Most time-series buckets a run may have (`(duration + drain) / interval`).
/// Each bucket costs a row whatever the load: on the 105-agent org a
/// million rows took 29 s of wall time and 127 MB of CSV; 100,000 (a day
/// at 1 s, a year at 6 min) stay within a few seconds and ~13 MB.
const MAX_BUCKETS: u64 = 100_000;
/// Longest scenario name: it names the report directory.
const MAX_NAME_LEN: usize = 100;
/// Shortest balancing period: the load check runs every interval whatever
/// the load, so the run costs (duration + drain) / interval checks; at 1ns
/// an hour is 3.6e12 checks (a hang). At 1 s a day is 86,400 checks; the
/// protocol's own period is 15 min.
const MIN_BALANCING_INTERVAL: SimDuration = SimDuration::from_secs(1);
/// Largest lognormal coefficient of variation. Beyond it the mean is
/// carried by draws too rare for any run to see (σ² = ln(1 + cv²) > 9.2),
/// and `cv²` overflows f64 above about 1.3e154.
const MAX_CV: f64 = 100.0;
/// Most slots one agent may have.
const MAX_SLOTS: i64 = 1_000_000;
/// Most domains or agents one org may define.
const MAX_MEMBERS: usize = 100_000;
/// Most phases of an Erlang distribution.
const MAX_ERLANG_K: i64 = 10_000;

const DISTS: [&str; 5] = ["exp", "const", "lognormal", "uniform", "erlang"];
const PRESETS: [&str; 2] = ["none", "esa-105"];

/// The whole conversion: raw document → validated [`Scenario`].
pub(crate) fn scenario(
    raw: RawScenario,
    ctx: &Ctx<'_>,
    base_dir: &Path,
    mut source: SourceInfo,
) -> Result<Scenario> {
    let meta = raw.scenario.ok_or_else(|| ScenarioError::MissingTable {
        table: "scenario".into(),
        file: ctx.origin.into(),
        help: "add a [scenario] table with name = \"my-scenario\" and duration = \"1h\"".into(),
    })?;
    let org_raw = raw.org.ok_or_else(|| ScenarioError::MissingTable {
        table: "org".into(),
        file: ctx.origin.into(),
        help: "add an [org] table with preset = \"esa-105\" (the built-in org), or preset = \"none\" plus [[org.domain]] and [[org.agent]] entries".into(),
    })?;
    let name = report_name(ctx, "scenario.name", &meta.name)?;
    let seed = int_in(ctx, "scenario.seed", meta.seed.unwrap_or(1), 0, i64::MAX)? as u64;
    let duration = positive(ctx, "scenario.duration", meta.duration.0)?;
    let warmup = dur_or(meta.warmup, SimDuration::ZERO);
    if warmup >= duration {
        return Err(ctx.invalid(
            "scenario.warmup",
            format!("warmup ({warmup}) must be shorter than duration ({duration}); shorten warmup or lengthen duration"),
        ));
    }
    let drain = dur_or(meta.drain, SimDuration::from_secs(300));
    let interval = positive(
        ctx,
        "scenario.interval",
        dur_or(meta.interval, SimDuration::from_secs(60)),
    )?;
    let run_end = horizon(ctx, duration, drain)?;
    let buckets = run_end.as_nanos() / interval.as_nanos();
    if buckets > MAX_BUCKETS {
        return Err(ctx.invalid(
            "scenario.interval",
            format!("interval {interval} gives {buckets} time-series buckets over duration + drain; the limit is {MAX_BUCKETS}, so use a longer interval"),
        ));
    }
    let org = org(ctx, org_raw, base_dir)?;
    let loads = loads::loads(ctx, raw.load, base_dir, &mut source.inputs)?;
    let faults = faults::faults(ctx, &raw.fault)?;
    let realtime = realtime::realtime(
        ctx,
        raw.realtime,
        &raw.connections,
        &raw.messages,
        (base_dir, &mut source.inputs),
    )?;
    let slos = slo::slos(ctx, raw.slo.as_ref())?;
    if realtime.is_none() {
        if let Some(s) = slos.iter().find(|s| s.metric.is_realtime()) {
            return Err(ctx.invalid(
                &format!("slo.{}", s.key),
                format!("`{}` measures D4's client connections and messages, but the scenario has no [[connections]]; add a population (e.g. [[connections]] with count = 10000) or remove the SLO", s.key),
            ));
        }
    }
    let tolerances = tolerances(ctx, raw.compare.and_then(|c| c.tolerance).as_ref())?;
    Ok(Scenario {
        name,
        description: meta.description.unwrap_or_default(),
        seed,
        duration,
        warmup,
        drain,
        interval,
        org,
        loads,
        faults,
        realtime,
        slos,
        tolerances,
        source,
    })
}

/// `[compare] tolerance`: `"<pattern>" = "P%"` entries in file order;
/// dotted keys (`domain.D3.latency_p99 = "5%"`) make nested tables, which
/// are read back as the dotted pattern.
fn tolerances(ctx: &Ctx<'_>, table: Option<&toml::Table>) -> Result<Vec<Tolerance>> {
    let mut out = Vec::new();
    if let Some(table) = table {
        flatten_tolerances(ctx, "", table, &mut out)?;
    }
    Ok(out)
}

fn flatten_tolerances(
    ctx: &Ctx<'_>,
    prefix: &str,
    table: &toml::Table,
    out: &mut Vec<Tolerance>,
) -> Result<()> {
    for (key, value) in table {
        let pattern = format!("{prefix}{key}");
        let path = format!("compare.tolerance.{pattern}");
        let fraction = match value {
            toml::Value::Table(t) => {
                flatten_tolerances(ctx, &format!("{pattern}."), t, out)?;
                continue;
            }
            toml::Value::String(v) => compare::tolerance::parse_percent(v),
            other => Err(format!(
                "must be a percentage string such as \"5%\"; found a {}",
                other.type_str()
            )),
        };
        let fraction = fraction.map_err(|e| ctx.invalid(&path, e))?;
        compare::tolerance::check_pattern(&pattern).map_err(|e| ctx.invalid(&path, e))?;
        out.push(Tolerance { pattern, fraction });
    }
    Ok(())
}

/// `duration + drain`, checked to fit in [`MAX_HORIZON`] so no time in the
/// run (time-series boundaries, fault ends) saturates or wraps.
fn horizon(ctx: &Ctx<'_>, duration: SimDuration, drain: SimDuration) -> Result<SimDuration> {
    match duration.as_nanos().checked_add(drain.as_nanos()) {
        Some(end) if end <= MAX_HORIZON.as_nanos() => Ok(SimDuration(end)),
        _ => Err(ctx.invalid(
            "scenario.drain",
            format!("duration ({duration}) + drain ({drain}) is longer than 36525d (100 years), the longest simulated time esa-sim supports; shorten duration or drain"),
        )),
    }
}

/// The scenario name is the default report directory (`reports/<name>/`),
/// so it must be one safe path component: no separators, no `..`, nothing
/// a shell or file system treats specially.
fn report_name(ctx: &Ctx<'_>, path: &str, name: &str) -> Result<String> {
    let allowed = "1 to 100 ASCII letters, digits, '-', '_' or '.', not starting with '.', e.g. name = \"my-scenario\"";
    let problem = if name.is_empty() {
        Some("it is empty".to_string())
    } else if name.len() > MAX_NAME_LEN {
        Some(format!("it is {} bytes long", name.len()))
    } else if name.starts_with('.') {
        Some("it starts with '.'".to_string())
    } else {
        name.chars()
            .find(|c| !(c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.')))
            .map(|c| format!("it contains {c:?}"))
    };
    match problem {
        None => Ok(name.to_string()),
        Some(p) => Err(ctx.invalid(
            path,
            format!("scenario name {name:?} names the report directory (reports/<name>/), so it must be one safe path component: {allowed}; {p}"),
        )),
    }
}

/// `[org]` → [`OrgSpec`].
fn org(ctx: &Ctx<'_>, raw: RawOrg, base_dir: &Path) -> Result<OrgSpec> {
    let preset = preset(ctx, &raw.preset, base_dir)?;
    let heartbeat_interval = positive(
        ctx,
        "org.heartbeat_interval",
        dur_or(raw.heartbeat_interval, SimDuration::from_secs(10)),
    )?;
    let heartbeat_ttl = dur_or(raw.heartbeat_ttl, SimDuration::from_secs(30));
    if heartbeat_ttl <= heartbeat_interval {
        return Err(ctx.invalid(
            "org.heartbeat_ttl",
            format!("heartbeat_ttl ({heartbeat_ttl}) must be longer than heartbeat_interval ({heartbeat_interval}), or every agent would look dead between beats"),
        ));
    }
    let visibility_timeout = positive(
        ctx,
        "org.visibility_timeout",
        dur_or(raw.visibility_timeout, SimDuration::from_secs(300)),
    )?;
    let max_retries = int_in(ctx, "org.max_retries", raw.max_retries.unwrap_or(2), 0, 100)? as u32;
    let queue_capacity = int_in(
        ctx,
        "org.queue_capacity",
        raw.queue_capacity.unwrap_or(100_000),
        1,
        i64::from(u32::MAX),
    )? as u32;
    let domains = domains(ctx, "org.domain", &raw.domain)?;
    let agents = agents(ctx, "org.agent", &raw.agent)?;
    let closed = preset == Preset::None;
    check_members(ctx, "org.domain", "org.agent", &domains, &agents, closed)?;
    let fallback_domain = fallback_domain(ctx, raw.fallback_domain, &domains, closed)?;
    let plan_time = dur_or(raw.plan_time, SimDuration::from_millis(5));
    Ok(OrgSpec {
        preset,
        hop_latency: dur_or(raw.hop_latency, SimDuration::from_millis(1)),
        plan_time,
        dispatch_time: dur_or(raw.dispatch_time, plan_time),
        heartbeat_interval,
        heartbeat_ttl,
        visibility_timeout,
        max_retries,
        retry_backoff: dur_or(raw.retry_backoff, SimDuration::from_secs(1)),
        fallback_domain,
        queue_capacity: Some(queue_capacity),
        balancing: balancing(ctx, raw.balancing, !closed)?,
        defaults: defaults(ctx, raw.defaults)?,
        domains,
        agents,
    })
}

fn preset(ctx: &Ctx<'_>, name: &str, base_dir: &Path) -> Result<Preset> {
    if let Some(loaded) = ctx.preset.filter(|p| p.name == name) {
        return Ok(loaded.preset.clone());
    }
    resolve_preset(name, base_dir).map_err(|message| ctx.invalid("org.preset", message))
}

/// `[org] preset` → [`Preset`], reading an org file (relative to
/// `base_dir`); the error is the message, without its location.
pub(crate) fn resolve_preset(name: &str, base_dir: &Path) -> std::result::Result<Preset, String> {
    match name.trim() {
        "none" => Ok(Preset::None),
        "esa-105" => Ok(Preset::Esa105),
        p if p.ends_with(".toml") && p.len() > ".toml".len() => {
            let path = base_dir.join(p).to_string_lossy().into_owned();
            let text = super::read_utf8(Path::new(&path)).map_err(|reason| {
                format!("cannot read org file `{path}`: {reason}; the path is relative to the scenario file")
            })?;
            Ok(Preset::File {
                path,
                text: text.into(),
            })
        }
        p => {
            let hint = match did_you_mean(p, &PRESETS) {
                Some(best) => format!("did you mean \"{best}\"? "),
                None => String::new(),
            };
            Err(format!("unknown preset \"{p}\" — {hint}use \"esa-105\" (the built-in org), \"none\" (only the [[org.domain]] / [[org.agent]] entries defined here) or a path to an org file ending in .toml, relative to the scenario"))
        }
    }
}

/// The presence rule only: with `preset = "none"` nothing supplies a
/// default. Whether the id names a domain is checked once the org is
/// resolved (`org::resolve`), against the preset and these entries merged.
fn fallback_domain(
    ctx: &Ctx<'_>,
    given: Option<String>,
    domains: &[DomainSpec],
    closed: bool,
) -> Result<String> {
    match given {
        Some(id) => Ok(id),
        None if closed => {
            let first = domains.first().map_or("Q", |d| d.id.as_str());
            Err(ctx.missing(
                "org.fallback_domain",
                format!("with preset = \"none\" add fallback_domain = \"{first}\" to [org]: the domain that gets a task no keyword matches"),
            ))
        }
        None => Ok("D9".to_string()),
    }
}

/// `[org.balancing]`. Balancing is the org's protocol, so it is on by
/// default with a preset and off for a bare `preset = "none"` pool (where
/// it would turn an M/M/c queue into something else).
fn balancing(
    ctx: &Ctx<'_>,
    raw: Option<super::raw::RawBalancing>,
    on_by_default: bool,
) -> Result<BalancingSpec> {
    let raw = raw.unwrap_or(super::raw::RawBalancing {
        enabled: None,
        interval: None,
        level4: None,
        level1_delay: None,
        level2_delay: None,
        level3_delay: None,
        level4_delay: None,
        moves: None,
    });
    // Reaction delays default to the start of each level's range in the
    // workload-balancing protocol: self-management 0–30 min, Chief 30–60
    // min, #63 1–4 h; the CEO's emergency session is taken as 2 h.
    let min = |m: u64| SimDuration::from_secs(m * 60);
    let delays = [
        dur_or(raw.level1_delay, min(0)),
        dur_or(raw.level2_delay, min(30)),
        dur_or(raw.level3_delay, min(60)),
        dur_or(raw.level4_delay, min(120)),
    ];
    let moves = int_in(ctx, "org.balancing.moves", raw.moves.unwrap_or(3), 1, 1_000)? as u32;
    let interval = at_least(
        ctx,
        "org.balancing.interval",
        dur_or(raw.interval, SimDuration::from_secs(15 * 60)),
        MIN_BALANCING_INTERVAL,
        "the load check runs every interval whatever the load, so a shorter one makes the run's event count explode (the protocol checks every 15m)",
    )?;
    let level4 = match raw.level4.as_deref().unwrap_or("add-slots") {
        "add-slots" => Level4Action::AddSlots,
        "shed-low" => Level4Action::ShedLow,
        other => {
            let hint = suggestion_hint(other, &["add-slots", "shed-low"], "choices");
            return Err(ctx.invalid(
                "org.balancing.level4",
                format!(
                    "unknown level4 action \"{other}\" — {hint} (\"add-slots\" or \"shed-low\")"
                ),
            ));
        }
    };
    Ok(BalancingSpec {
        enabled: raw.enabled.unwrap_or(on_by_default),
        interval,
        level4,
        delays,
        moves,
    })
}

fn defaults(ctx: &Ctx<'_>, raw: Option<super::raw::RawDefaults>) -> Result<AgentDefaults> {
    let (slots, service, error_rate) = match raw {
        Some(d) => (d.slots, d.service, d.error_rate),
        None => (None, None, None),
    };
    let slots = int_in(ctx, "org.defaults.slots", slots.unwrap_or(4), 1, MAX_SLOTS)? as u32;
    let service = match service {
        Some(d) => dist(ctx, "org.defaults.service", &d)?,
        None => Dist::LogNormal {
            mean: SimDuration::from_millis(1_500),
            cv: 0.6,
        },
    };
    Ok(AgentDefaults {
        slots,
        service,
        error_rate: error_rate.map_or(0.0, |f| f.0),
    })
}

/// `[[org.domain]]` entries.
fn domains(ctx: &Ctx<'_>, prefix: &str, raw: &[RawDomain]) -> Result<Vec<DomainSpec>> {
    bounded(ctx, prefix, raw.len())?;
    raw.iter()
        .enumerate()
        .map(|(i, d)| {
            let path = format!("{prefix}[{i}]");
            Ok(DomainSpec {
                id: non_empty(ctx, &format!("{path}.id"), &d.id)?,
                name: d.name.clone(),
                keywords: words(ctx, &format!("{path}.keywords"), &d.keywords)?,
                reports_to: d.reports_to.clone(),
            })
        })
        .collect()
}

/// Routing words (`keywords`, `skills`): each at most [`MAX_KEYWORD_BYTES`],
/// so the router's automaton stays small (the count is bounded per org,
/// once the org is resolved).
fn words(ctx: &Ctx<'_>, path: &str, list: &Option<Vec<String>>) -> Result<Option<Vec<String>>> {
    for (j, w) in list.iter().flatten().enumerate() {
        if w.len() > MAX_KEYWORD_BYTES {
            let start: String = w.chars().take(20).collect();
            return Err(ctx.invalid(
                &format!("{path}[{j}]"),
                format!("keyword \"{start}…\" is {} bytes long; a routing keyword is a word or short phrase of at most {MAX_KEYWORD_BYTES} bytes, so shorten it", w.len()),
            ));
        }
    }
    Ok(list.clone())
}

/// `[[org.agent]]` entries.
fn agents(ctx: &Ctx<'_>, prefix: &str, raw: &[RawAgent]) -> Result<Vec<AgentSpec>> {
    bounded(ctx, prefix, raw.len())?;
    raw.iter()
        .enumerate()
        .map(|(i, a)| agent(ctx, &format!("{prefix}[{i}]"), a))
        .collect()
}

/// The agent kind, parsed once into [`AgentKind`].
fn kind(ctx: &Ctx<'_>, path: &str, kind: Option<&str>) -> Result<Option<AgentKind>> {
    let Some(kind) = kind else {
        return Ok(None);
    };
    AgentKind::parse(kind).map(Some).ok_or_else(|| {
        let kinds: Vec<&str> = AgentKind::ALL.iter().map(|k| k.name()).collect();
        let hint = suggestion_hint(kind, &kinds, "kinds");
        ctx.invalid(
            &format!("{path}.kind"),
            format!("unknown agent kind \"{kind}\" — {hint}"),
        )
    })
}

fn agent(ctx: &Ctx<'_>, path: &str, a: &RawAgent) -> Result<AgentSpec> {
    let kind = kind(ctx, path, a.kind.as_deref())?;
    let slots = match a.slots {
        Some(s) => Some(int_in(ctx, &format!("{path}.slots"), s, 1, MAX_SLOTS)? as u32),
        None => None,
    };
    let service = match &a.service {
        Some(d) => Some(dist(ctx, &format!("{path}.service"), d)?),
        None => None,
    };
    Ok(AgentSpec {
        id: non_empty(ctx, &format!("{path}.id"), &a.id)?,
        kind,
        name: a.name.clone(),
        domain: a.domain.clone(),
        reports_to: a.reports_to.clone(),
        keywords: words(ctx, &format!("{path}.keywords"), &a.keywords)?,
        slots,
        service,
        error_rate: a.error_rate.map(|f| f.0),
        after: a.after.clone(),
        requires: a.requires.clone(),
        pool: a.pool.clone(),
        critical: a.critical,
        skills: words(ctx, &format!("{path}.skills"), &a.skills)?,
    })
}

/// Shape checks of one file's members: ids unique within each list, and a
/// closed org (preset "none", or an org file) defines at least one domain
/// and one agent. References between members (domains, `after`,
/// `reports_to`, …) are checked once, after the preset and the scenario's
/// entries are merged (`org::resolve`).
fn check_members(
    ctx: &Ctx<'_>,
    dom_prefix: &str,
    agent_prefix: &str,
    domains: &[DomainSpec],
    agents: &[AgentSpec],
    closed: bool,
) -> Result<()> {
    unique_ids(ctx, dom_prefix, domains.iter().map(|d| d.id.as_str()))?;
    unique_ids(ctx, agent_prefix, agents.iter().map(|a| a.id.as_str()))?;
    if closed && (domains.is_empty() || agents.is_empty()) {
        let what = if domains.is_empty() {
            dom_prefix
        } else {
            agent_prefix
        };
        return Err(ctx.missing(
            what,
            format!("an org without a preset needs at least one [[{dom_prefix}]] (id, keywords) and one [[{agent_prefix}]] (id, domain)"),
        ));
    }
    Ok(())
}

/// Ids must be unique within their list.
fn unique_ids<'a>(ctx: &Ctx<'_>, prefix: &str, ids: impl Iterator<Item = &'a str>) -> Result<()> {
    let mut seen = BTreeSet::new();
    for (i, id) in ids.enumerate() {
        if !seen.insert(id) {
            return Err(ctx.invalid(
                &format!("{prefix}[{i}].id"),
                format!("duplicate id \"{id}\" in [[{prefix}]]; each entry needs its own id (merge the two entries or rename one)"),
            ));
        }
    }
    Ok(())
}

/// A service distribution table → [`Dist`].
pub(crate) fn dist(ctx: &Ctx<'_>, path: &str, d: &RawDist) -> Result<Dist> {
    let allowed: &[&str] = match d.dist.as_str() {
        "exp" => &["mean"],
        "const" => &["value"],
        "lognormal" => &["mean", "cv"],
        "uniform" => &["min", "max"],
        "erlang" => &["mean", "k"],
        other => {
            let hint = suggestion_hint(other, &DISTS, "choices");
            return Err(ctx.invalid(
                &format!("{path}.dist"),
                format!("unknown distribution \"{other}\" — {hint} (exp: mean; const: value; lognormal: mean, cv; uniform: min, max; erlang: mean, k)"),
            ));
        }
    };
    let present = [
        ("mean", d.mean.is_some()),
        ("value", d.value.is_some()),
        ("cv", d.cv.is_some()),
        ("min", d.min.is_some()),
        ("max", d.max.is_some()),
        ("k", d.k.is_some()),
    ];
    only_keys(
        ctx,
        path,
        &present,
        allowed,
        &format!("dist = \"{}\"", d.dist),
    )?;
    let need = |key: &str, v: Option<RawDuration>| -> Result<SimDuration> {
        let v = v.ok_or_else(|| {
            ctx.missing(
                &format!("{path}.{key}"),
                format!("dist = \"{}\" needs {}", d.dist, quoted_list(allowed)),
            )
        })?;
        positive(ctx, &format!("{path}.{key}"), v.0)
    };
    Ok(match d.dist.as_str() {
        "exp" => Dist::Exp {
            mean: need("mean", d.mean)?,
        },
        "const" => Dist::Const {
            value: need("value", d.value)?,
        },
        "lognormal" => Dist::LogNormal {
            mean: need("mean", d.mean)?,
            cv: cv(ctx, &format!("{path}.cv"), d.cv)?,
        },
        "uniform" => uniform(ctx, path, d)?,
        _ => {
            let k = d.k.ok_or_else(|| {
                ctx.missing(
                    &format!("{path}.k"),
                    "dist = \"erlang\" needs k (phases, e.g. k = 3)",
                )
            })?;
            Dist::Erlang {
                mean: need("mean", d.mean)?,
                k: int_in(ctx, &format!("{path}.k"), k, 1, MAX_ERLANG_K)? as u32,
            }
        }
    })
}

/// A lognormal's coefficient of variation: finite, in (0, [`MAX_CV`]].
fn cv(ctx: &Ctx<'_>, path: &str, v: Option<f64>) -> Result<f64> {
    let v = positive_f64(
        ctx,
        path,
        v,
        "dist = \"lognormal\" needs cv (e.g. cv = 0.6)",
    )?;
    if v > MAX_CV {
        return Err(ctx.invalid(
            path,
            format!("cv = {v:?} is above {MAX_CV}: such a distribution's mean rests on draws too rare for a run to see; use a cv from just above 0 to {MAX_CV} (0.6 is a typical service time)"),
        ));
    }
    Ok(v)
}

fn uniform(ctx: &Ctx<'_>, path: &str, d: &RawDist) -> Result<Dist> {
    let help = "dist = \"uniform\" needs min and max, e.g. { dist = \"uniform\", min = \"1s\", max = \"2s\" }";
    let min = d
        .min
        .ok_or_else(|| ctx.missing(&format!("{path}.min"), help))?
        .0;
    let max = d
        .max
        .ok_or_else(|| ctx.missing(&format!("{path}.max"), help))?
        .0;
    if min > max {
        return Err(ctx.invalid(
            &format!("{path}.min"),
            format!("min ({min}) is greater than max ({max}); swap them"),
        ));
    }
    positive(ctx, &format!("{path}.max"), max)?;
    Ok(Dist::Uniform { min, max })
}

/// Errors on any present key not in `allowed` (keys of another kind).
pub(crate) fn only_keys(
    ctx: &Ctx<'_>,
    path: &str,
    present: &[(&str, bool)],
    allowed: &[&str],
    chosen: &str,
) -> Result<()> {
    match present.iter().find(|(k, p)| *p && !allowed.contains(k)) {
        Some((key, _)) => {
            let takes = if allowed.is_empty() {
                "no kind-specific keys".to_string()
            } else {
                quoted_list(allowed)
            };
            Err(ctx.invalid(
                &format!("{path}.{key}"),
                format!("`{key}` does not apply to {chosen}, which takes {takes}; remove `{key}` or change the kind"),
            ))
        }
        None => Ok(()),
    }
}

/// A user org file → [`OrgFile`].
pub(crate) fn org_file(ctx: &Ctx<'_>, raw: RawOrgFile, text: Arc<str>) -> Result<OrgFile> {
    let name = non_empty(ctx, "name", &raw.name)?;
    let domains = domains(ctx, "domain", &raw.domain)?;
    let agents = agents(ctx, "agent", &raw.agent)?;
    check_members(ctx, "domain", "agent", &domains, &agents, true)?;
    Ok(OrgFile {
        name,
        description: raw.description.unwrap_or_default(),
        domains,
        agents,
        origin: ctx.origin.to_string(),
        text,
    })
}

// ---- small checks shared by the other validation files ----

pub(crate) fn dur_or(v: Option<RawDuration>, default: SimDuration) -> SimDuration {
    v.map_or(default, |d| d.0)
}

pub(crate) fn positive(ctx: &Ctx<'_>, path: &str, d: SimDuration) -> Result<SimDuration> {
    if d.is_zero() {
        return Err(ctx.invalid(path, "must be greater than zero, e.g. \"1s\""));
    }
    Ok(d)
}

/// `d`, if it is at least `min`; `why` says what the lower bound protects.
fn at_least(
    ctx: &Ctx<'_>,
    path: &str,
    d: SimDuration,
    min: SimDuration,
    why: &str,
) -> Result<SimDuration> {
    if d < min {
        return Err(ctx.invalid(
            path,
            format!("{d} is shorter than the minimum {min}: {why}; use at least \"{min}\""),
        ));
    }
    Ok(d)
}

pub(crate) fn positive_f64(ctx: &Ctx<'_>, path: &str, v: Option<f64>, help: &str) -> Result<f64> {
    let v = v.ok_or_else(|| ctx.missing(path, help))?;
    if !(v.is_finite() && v > 0.0) {
        return Err(ctx.invalid(
            path,
            format!("must be a finite number greater than zero, found {v}"),
        ));
    }
    Ok(v)
}

pub(crate) fn int_in(ctx: &Ctx<'_>, path: &str, v: i64, lo: i64, hi: i64) -> Result<i64> {
    if v < lo || v > hi {
        return Err(ctx.invalid(
            path,
            format!("must be a whole number from {lo} to {hi}, found {v}"),
        ));
    }
    Ok(v)
}

pub(crate) fn non_empty(ctx: &Ctx<'_>, path: &str, s: &str) -> Result<String> {
    if s.trim().is_empty() {
        return Err(ctx.invalid(path, "must not be empty; write a non-empty string"));
    }
    Ok(s.to_string())
}

/// At most [`MAX_MEMBERS`] entries; the error points at the first one over.
fn bounded(ctx: &Ctx<'_>, path: &str, n: usize) -> Result<()> {
    at_most(ctx, path, n, MAX_MEMBERS)
}

/// At most `max` entries in the list `[[path]]`; the error points at the
/// first one over.
pub(crate) fn at_most(ctx: &Ctx<'_>, path: &str, n: usize, max: usize) -> Result<()> {
    if n > max {
        return Err(ctx.invalid(
            &format!("{path}[{max}]"),
            format!("[[{path}]] has {n} entries; at most {max} are supported"),
        ));
    }
    Ok(())
}
