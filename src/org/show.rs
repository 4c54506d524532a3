//! `esa-sim org show`: the org as a tree (text), as JSON, or as a Graphviz
//! digraph of its reporting lines (dot).

use std::io::{self, Write};

use serde::Serialize;

use super::{AgentKind, Org};
use crate::core::{select_pools, CoreConfig, DomainIdx};

/// Agents per kind, domain coordinators included, in [`AgentKind::ALL`] order.
pub fn counts(org: &Org) -> Vec<(AgentKind, usize)> {
    AgentKind::ALL
        .iter()
        .map(|k| {
            let n = if *k == AgentKind::Domain {
                org.domains.len()
            } else {
                org.agents.iter().filter(|a| a.kind == *k).count()
            };
            (*k, n)
        })
        .filter(|(_, n)| *n > 0)
        .collect()
}

/// The reporting lines: (member, reports to), domains included, in org order.
pub fn reporting_lines(org: &Org) -> Vec<(String, String)> {
    let mut lines = Vec::new();
    for d in &org.domains {
        lines.extend(d.reports_to.iter().map(|to| (d.id.clone(), to.clone())));
    }
    for a in &org.agents {
        lines.extend(a.reports_to.iter().map(|to| (a.id.clone(), to.clone())));
    }
    lines
}

pub fn text(org: &Org, out: &mut dyn Write) -> io::Result<()> {
    writeln!(out, "org {} — {} agents", org.name, org.agent_count())?;
    let per_kind: Vec<String> = counts(org)
        .iter()
        .map(|(k, n)| format!("{n} {}", k.name()))
        .collect();
    writeln!(out, "  {}", per_kind.join(" · "))?;
    let lines = reporting_lines(org);
    let roots: Vec<&str> = org
        .agents
        .iter()
        .filter(|a| a.reports_to.is_empty())
        .map(|a| a.id.as_str())
        .collect();
    writeln!(out)?;
    for root in roots {
        tree(org, &lines, root, 0, out)?;
    }
    writeln!(out)?;
    writeln!(
        out,
        "routing (domain ← worker: keywords); fallback {}",
        org.domains[org.fallback.0 as usize].id
    )?;
    for d in &org.domains {
        writeln!(out, "  {} {}: {}", d.id, d.name, d.keywords.join(", "))?;
        for p in &d.pools {
            for m in &org.pools[p.0 as usize].members {
                let a = &org.agents[m.0 as usize];
                writeln!(
                    out,
                    "    {:<14} {} slots · {}",
                    a.id,
                    a.slots,
                    a.keywords.join(", ")
                )?;
            }
        }
    }
    Ok(())
}

/// Prints `id` and, indented, everyone whose first reporting line is `id`.
fn tree(
    org: &Org,
    lines: &[(String, String)],
    id: &str,
    depth: usize,
    out: &mut dyn Write,
) -> io::Result<()> {
    if depth > 16 {
        return Ok(());
    }
    let name = org
        .agents
        .iter()
        .find(|a| a.id == id)
        .map(|a| (a.kind.name(), a.name.as_str()))
        .or_else(|| {
            org.domains
                .iter()
                .find(|d| d.id == id)
                .map(|d| ("domain", d.name.as_str()))
        })
        .unwrap_or(("?", "?"));
    let also: Vec<&str> = lines
        .iter()
        .filter(|(from, _)| from == id)
        .skip(1)
        .map(|(_, to)| to.as_str())
        .collect();
    let also = if also.is_empty() {
        String::new()
    } else {
        format!("  (also → {})", also.join(", "))
    };
    writeln!(
        out,
        "{}{id} [{}] {}{also}",
        "  ".repeat(depth),
        name.0,
        name.1
    )?;
    let mut seen = std::collections::BTreeSet::new();
    for (from, _) in lines
        .iter()
        .filter(|(from, to)| to == id && first_line(lines, from) == Some(id))
    {
        if seen.insert(from.as_str()) {
            tree(org, lines, from, depth + 1, out)?;
        }
    }
    Ok(())
}

fn first_line<'a>(lines: &'a [(String, String)], id: &str) -> Option<&'a str> {
    lines
        .iter()
        .find(|(from, _)| from == id)
        .map(|(_, to)| to.as_str())
}

#[derive(Serialize)]
struct JsonOrg<'a> {
    name: &'a str,
    agents_total: usize,
    counts: Vec<(&'static str, usize)>,
    fallback_domain: &'a str,
    domains: Vec<JsonMember<'a>>,
    agents: Vec<JsonMember<'a>>,
}

#[derive(Serialize)]
struct JsonMember<'a> {
    id: &'a str,
    kind: &'static str,
    name: &'a str,
    reports_to: &'a [String],
    domain: Option<&'a str>,
    keywords: &'a [String],
    slots: Option<u32>,
}

pub fn json(org: &Org, out: &mut dyn Write) -> io::Result<()> {
    let doc = JsonOrg {
        name: &org.name,
        agents_total: org.agent_count(),
        counts: counts(org).iter().map(|(k, n)| (k.name(), *n)).collect(),
        fallback_domain: &org.domains[org.fallback.0 as usize].id,
        domains: org
            .domains
            .iter()
            .map(|d| JsonMember {
                id: &d.id,
                kind: "domain",
                name: &d.name,
                reports_to: &d.reports_to,
                domain: None,
                keywords: &d.keywords,
                slots: None,
            })
            .collect(),
        agents: org
            .agents
            .iter()
            .map(|a| JsonMember {
                id: &a.id,
                kind: a.kind.name(),
                name: &a.name,
                reports_to: &a.reports_to,
                domain: a.domain.map(|d| org.domains[d.0 as usize].id.as_str()),
                keywords: &a.keywords,
                slots: a.domain.map(|_| a.slots),
            })
            .collect(),
    };
    serde_json::to_writer_pretty(&mut *out, &doc)?;
    writeln!(out)
}

pub fn dot(org: &Org, out: &mut dyn Write) -> io::Result<()> {
    writeln!(out, "digraph \"{}\" {{", org.name)?;
    writeln!(out, "  rankdir=LR;\n  node [shape=box, fontsize=10];")?;
    for d in &org.domains {
        writeln!(
            out,
            "  \"{}\" [label=\"{}\\n{}\", style=filled, fillcolor=lightblue];",
            d.id, d.id, d.name
        )?;
    }
    for a in &org.agents {
        writeln!(
            out,
            "  \"{}\" [label=\"{}\\n{}\"];",
            a.id,
            a.id,
            a.name.replace('"', "'")
        )?;
    }
    for (from, to) in reporting_lines(org) {
        writeln!(out, "  \"{from}\" -> \"{to}\";")?;
    }
    writeln!(out, "}}")
}

/// `org route TEXT`: the domains a text goes to and, per domain, the
/// workers selected and the order they run in.
pub fn route(org: &Org, cfg: &CoreConfig, text: &str, out: &mut dyn Write) -> io::Result<()> {
    let route = cfg.router.route(text);
    let domains = if route.domains == 0 {
        1u64 << cfg.fallback.0
    } else {
        route.domains
    };
    writeln!(out, "\"{text}\"")?;
    if route.domains == 0 {
        writeln!(
            out,
            "  no keyword matched → fallback domain {}",
            org.domains[cfg.fallback.0 as usize].id
        )?;
    }
    for d in (0..64).filter(|d| domains & (1 << d) != 0) {
        let domain = &org.domains[d];
        let selected = select_pools(cfg, DomainIdx(d as u8), &route);
        writeln!(out, "  → {} {}", domain.id, domain.name)?;
        for (local, p) in domain
            .pools
            .iter()
            .enumerate()
            .filter(|(l, _)| selected & (1 << l) != 0)
        {
            let pool = &cfg.pools[p.0 as usize];
            let after: Vec<&str> = domain
                .pools
                .iter()
                .enumerate()
                .filter(|(l, _)| pool.after & selected & (1 << l) != 0)
                .map(|(_, q)| org.pools[q.0 as usize].name.as_str())
                .collect();
            let how = if route.pools.contains(*p) {
                "keyword"
            } else if local == 0 && selected == 1 {
                "default worker"
            } else {
                "required"
            };
            let order = if after.is_empty() {
                "starts at once".to_string()
            } else {
                format!("after {}", after.join(", "))
            };
            writeln!(
                out,
                "      {:<12} ({how}; {order})",
                org.pools[p.0 as usize].name
            )?;
        }
    }
    Ok(())
}
