//! The built-in esa-105 org against esa-org.md §1 (counts per kind,
//! reporting lines) and seed 002's routing examples.

use esa_sim::core::{select_pools, DomainIdx};
use esa_sim::org::show::{counts, reporting_lines};
use esa_sim::org::{AgentKind, Org};
use esa_sim::scenario::Scenario;

fn esa105() -> (Scenario, Org) {
    esa_sim::org::builtin().unwrap()
}

#[test]
fn counts_per_kind_match_the_fact_sheet() {
    let (_, org) = esa105();
    let expected = [
        (AgentKind::Ceo, 1),
        (AgentKind::Chief, 6),
        (AgentKind::Domain, 9),
        (AgentKind::Layer, 61),
        (AgentKind::Expert, 7),
        (AgentKind::Operational, 5),
        (AgentKind::LifeCeo, 16),
    ];
    assert_eq!(counts(&org), expected.to_vec());
    assert_eq!(org.agent_count(), 105);
}

#[test]
fn reporting_lines_match_the_fact_sheet() {
    let (_, org) = esa105();
    let lines = reporting_lines(&org);
    let reports = |from: &str, to: &str| lines.iter().any(|(f, t)| f == from && t == to);
    for (chief, domains) in [
        ("C1", &["D1", "D2"][..]),
        ("C2", &["D3", "D4"]),
        ("C3", &["D5", "D6"]),
        ("C4", &["D7"]),
        ("C5", &["D8"]),
        ("C6", &["D9"]),
    ] {
        assert!(reports(chief, "CEO"), "{chief} → CEO");
        for d in domains {
            assert!(reports(d, chief), "{d} → {chief}");
        }
    }
    assert!(reports("D9", "CEO"), "D9 also reports to #0");
    let domain_layers: [(&str, &[u32]); 9] = [
        ("D1", &[1, 2, 3, 14]),
        ("D2", &[7, 8, 9, 10]),
        ("D3", &[12, 20]),
        ("D4", &[11, 25]),
        ("D5", &[21, 22, 23, 24, 27, 28, 29, 30]),
        ("D6", &[15, 18, 26]),
        ("D7", &(31..=46).collect::<Vec<_>>()),
        ("D8", &(47..=56).collect::<Vec<_>>()),
        ("D9", &[57, 58, 59, 60, 61]),
    ];
    for (d, layers) in domain_layers {
        for l in layers {
            assert!(reports(&format!("L{l}"), d), "L{l} → {d}");
        }
    }
    for l in [4, 5, 6, 13, 16, 17, 19] {
        let to: Vec<_> = lines
            .iter()
            .filter(|(f, _)| *f == format!("L{l}"))
            .map(|(_, t)| t.as_str())
            .collect();
        assert!(
            to.iter().all(|t| t.starts_with('C')),
            "chief-only L{l} reports to {to:?}"
        );
    }
    for l in 1..=61u32 {
        let chief = match l {
            1..=10 => "C1",
            11..=20 => "C2",
            21..=30 => "C3",
            31..=46 => "C4",
            47..=56 => "C5",
            _ => "C6",
        };
        assert!(reports(&format!("L{l}"), chief), "L{l} → {chief}");
    }
}

/// Worker ids selected for `text`, per domain id.
fn plan(text: &str) -> Vec<(String, Vec<String>)> {
    let (s, org) = esa105();
    let cfg = esa_sim::sim::core_config(&s, &org).unwrap();
    let route = cfg.router.route(text);
    let domains = if route.domains == 0 {
        1 << cfg.fallback.0
    } else {
        route.domains
    };
    (0..org.domains.len())
        .filter(|d| domains & (1 << d) != 0)
        .map(|d| {
            let selected = select_pools(&cfg, DomainIdx(d as u8), &route);
            let workers = org.domains[d]
                .pools
                .iter()
                .enumerate()
                .filter(|(l, _)| selected & (1 << l) != 0)
                .map(|(_, p)| org.pools[p.0 as usize].name.clone())
                .collect();
            (org.domains[d].id.clone(), workers)
        })
        .collect()
}

#[test]
fn seed_002_examples_route_to_auth_db_and_api() {
    let backend = vec![(
        "D1".to_string(),
        vec!["L1".to_string(), "L2".to_string(), "L4".to_string()],
    )];
    assert_eq!(plan("Create user registration endpoint"), backend);
    assert_eq!(plan("Add role-based access to admin routes"), backend);
}

#[test]
fn routing_is_case_insensitive_whole_word_and_falls_back() {
    assert_eq!(plan("RUN THE NIGHTLY ETL BATCH")[0].0, "D3");
    assert_eq!(
        plan("Build a websocket chat with read receipts"),
        vec![("D4".to_string(), vec!["L11".to_string(), "L25".to_string()])]
    );
    // "etl" inside another word is no match: the fallback domain takes it
    assert_eq!(plan("petlbatching nothing here")[0].0, "D9");
    let multi = plan("Schedule a workflow to send email notifications");
    assert_eq!(
        multi.iter().map(|(d, _)| d.as_str()).collect::<Vec<_>>(),
        vec!["D3", "D4"]
    );
}
