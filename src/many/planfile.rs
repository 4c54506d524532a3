//! What `esa-sim plan` writes and prints (DESIGN.md §7): `plan.json` as
//! typed data, `plan.toml` (the `[[org.agent]]` overrides to paste) and
//! the terminal table. Pure functions of the search ([`super::plan`]) and
//! each evaluation's reduced point, so the files are byte-identical for
//! any thread count.

use std::io::{self, Write};

use serde::Serialize;

use super::output::{Point, SloStats, SweepScenario, Verdict};
use super::plan::{distribute, Mode, Plan, PoolStart, Step};
use super::text::verdict_word;
use crate::metrics::summary::OrderedMap;
use crate::report::fmt_in_unit;

/// `plan.json`.
#[derive(Clone, Debug, Serialize)]
pub struct PlanFile {
    pub esa_sim_version: String,
    pub scenario: SweepScenario,
    pub mode: Mode,
    /// Replications per evaluation.
    pub replications: u32,
    pub confidence: f64,
    /// `--max-slots`: the most slots phase 1 could add.
    pub max_slots: u32,
    /// Whether a configuration within `max_slots` passed every SLO.
    pub found: bool,
    /// The pools the plan is about, in the org's order.
    pub pools: Vec<PlanPool>,
    /// The verdict over every SLO at the plan (`null` without a plan).
    pub verdict: Option<Verdict>,
    /// Each SLO at the plan.
    pub slo: Vec<SloStats>,
    /// Every configuration evaluated, in order.
    pub evaluations: Vec<EvaluationRow>,
}

#[derive(Clone, Debug, Serialize)]
pub struct PlanPool {
    pub pool: String,
    pub agents: Vec<PlanAgent>,
    pub slots_now: u32,
    /// `null` without a plan.
    pub slots_needed: Option<u32>,
    /// The pool's utilisation at the plan, 0..1 (slot-weighted mean of
    /// its agents, over the replications).
    pub utilization: Option<f64>,
}

#[derive(Clone, Debug, Serialize)]
pub struct PlanAgent {
    pub id: String,
    pub slots_now: u32,
    pub slots_needed: Option<u32>,
}

#[derive(Clone, Debug, Serialize)]
pub struct EvaluationRow {
    pub step: Step,
    /// Total slots of each pool the plan is about.
    pub slots: OrderedMap<u32>,
    pub verdict: Verdict,
}

/// Assembles `plan.json` from the search and the point each trial gave
/// (`points[i]` for `plan.trials[i]`).
pub fn build(
    head: (SweepScenario, Mode, u32, f64, u32),
    pools: &[PoolStart],
    plan: &Plan,
    points: &[Point],
) -> PlanFile {
    let (scenario, mode, replications, confidence, max_slots) = head;
    let at = plan.plan.map(|i| (&plan.trials[i], &points[i]));
    let pools_out = plan
        .pools
        .iter()
        .map(|&p| {
            let start = &pools[p];
            let needed = at.map(|(t, _)| distribute(&start.slots, t.totals[p]));
            PlanPool {
                pool: start.name.clone(),
                agents: start
                    .agents
                    .iter()
                    .enumerate()
                    .map(|(i, id)| PlanAgent {
                        id: id.clone(),
                        slots_now: start.slots[i],
                        slots_needed: needed.as_ref().map(|n| n[i]),
                    })
                    .collect(),
                slots_now: start.total(),
                slots_needed: at.map(|(t, _)| t.totals[p]),
                utilization: at.and_then(|(t, _)| t.evaluation.utilization[p]),
            }
        })
        .collect();
    let evaluations = plan
        .trials
        .iter()
        .map(|t| EvaluationRow {
            step: t.step,
            slots: OrderedMap(
                plan.pools
                    .iter()
                    .map(|&p| (pools[p].name.clone(), t.totals[p]))
                    .collect(),
            ),
            verdict: t.evaluation.verdict,
        })
        .collect();
    PlanFile {
        esa_sim_version: env!("CARGO_PKG_VERSION").to_string(),
        scenario,
        mode,
        replications,
        confidence,
        max_slots,
        found: at.is_some(),
        pools: pools_out,
        verdict: at.map(|(_, point)| point.verdict),
        slo: at.map_or_else(Vec::new, |(_, point)| point.slo.clone()),
        evaluations,
    }
}

/// Agents whose slots the plan changes: (id, slots needed).
pub fn overrides(file: &PlanFile) -> Vec<(&str, u32)> {
    file.pools
        .iter()
        .flat_map(|p| &p.agents)
        .filter_map(|a| match a.slots_needed {
            Some(n) if n != a.slots_now => Some((a.id.as_str(), n)),
            _ => None,
        })
        .collect()
}

/// `plan.toml`: a comment header, then one `[[org.agent]]` per changed
/// agent (none when the scenario as written is the plan).
pub fn toml(file: &PlanFile) -> String {
    let s = &file.scenario;
    let changes = overrides(file);
    let mut out = format!(
        "# esa-sim plan of scenario `{}` (seed {}, {}).\n\
         # Every SLO passes with these slots ({} replications per evaluation,\n\
         # {:.0} % confidence intervals).\n\
         # Paste into the scenario (for an agent it already lists, change that\n\
         # entry's `slots`), or run with\n#  {}\n",
        s.name,
        s.seed,
        s.hash,
        file.replications,
        file.confidence * 100.0,
        set_args(&changes),
    );
    if changes.is_empty() {
        out.push_str("# No change: the scenario as written is the plan.\n");
    }
    for (id, slots) in changes {
        out.push_str(&format!(
            "\n[[org.agent]]\nid = {}\nslots = {slots}\n",
            toml_string(id)
        ));
    }
    out
}

fn set_args(changes: &[(&str, u32)]) -> String {
    changes
        .iter()
        .map(|(id, n)| format!(" --set org.agent.{id}.slots={n}"))
        .collect()
}

/// A TOML basic string.
fn toml_string(s: &str) -> String {
    let mut out = String::from("\"");
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            c if c.is_control() => out.push_str(&format!("\\u{:04X}", c as u32)),
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

/// The terminal table: pools, SLOs at the plan, the overrides.
/// `at` is the plan's evaluated point (for the SLO metrics' units).
pub fn write_text(file: &PlanFile, at: Option<&Point>, out: &mut dyn Write) -> io::Result<()> {
    writeln!(
        out,
        "plan of `{}` (seed {}): {} evaluation(s) × {} replication(s), {:.0} % intervals",
        file.scenario.name,
        file.scenario.seed,
        file.evaluations.len(),
        file.replications,
        file.confidence * 100.0
    )?;
    let width = file
        .pools
        .iter()
        .map(|p| p.pool.len())
        .chain([4])
        .max()
        .unwrap_or(4);
    writeln!(
        out,
        "{:<width$}  {:>6}  {:>9}  {:>12}  {:>11}",
        "pool", "agents", "slots now", "slots needed", "utilization"
    )?;
    for p in &file.pools {
        writeln!(
            out,
            "{:<width$}  {:>6}  {:>9}  {:>12}  {:>11}",
            p.pool,
            p.agents.len(),
            p.slots_now,
            p.slots_needed.map_or("-".into(), |n| n.to_string()),
            p.utilization
                .map_or("n/a".into(), |u| format!("{:.1}%", u * 100.0)),
        )?;
    }
    let Some(point) = at else {
        return Ok(());
    };
    for s in &file.slo {
        let unit = point.metrics.get(&s.metric).map_or("", |m| m.unit.as_str());
        writeln!(
            out,
            "slo         {} {}: {} [{}, {}] {}",
            s.metric,
            s.target,
            value(s.mean, unit),
            value(s.ci_low, unit),
            value(s.ci_high, unit),
            verdict_word(s.verdict)
        )?;
    }
    Ok(())
}

/// The overrides block of the terminal output.
pub fn write_overrides(file: &PlanFile, out: &mut dyn Write) -> io::Result<()> {
    let changes = overrides(file);
    if changes.is_empty() {
        return writeln!(out, "no change: the scenario as written is the plan");
    }
    writeln!(out, "overrides to paste into the scenario:")?;
    for (id, slots) in &changes {
        writeln!(
            out,
            "[[org.agent]]\nid = {}\nslots = {slots}",
            toml_string(id)
        )?;
    }
    writeln!(out, "or run with{}", set_args(&changes))
}

fn value(v: Option<f64>, unit: &str) -> String {
    let Some(v) = v else { return "n/a".into() };
    fmt_in_unit(v, unit).unwrap_or_else(|| format!("{v}"))
}
