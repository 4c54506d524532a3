//! Swarm fault schedules (`explore --faults swarm`): each seed draws its own
//! `[[fault]]` list — which kinds are switched on at all, how many faults,
//! their targets, windows and strengths — so a thousand seeds cover
//! combinations no hand-written scenario would (swarm testing, after
//! Groce et al. and FoundationDB's simulation). Pure: a function of the
//! seed, the org's ids and the load duration.
//!
//! Every window ends before load stops, except permanent crashes, so the
//! drain is a quiet period in which the liveness check applies; no two
//! drawn faults conflict ([`FaultSpec::conflicts_with`]), so the schedule
//! is always a valid scenario.

use rand::seq::IndexedRandom;
use rand::Rng;

use crate::org::Org;
use crate::scenario::{FaultKind, FaultSpec, FaultTarget};
use crate::sim::rng::{stream, Stream};
use crate::time::SimDuration;

/// Most faults one seed draws.
pub const MAX_FAULTS: usize = 8;
/// The chance a drawn crash is permanent.
const PERMANENT: f64 = 0.3;
/// The shortest fault window.
const MIN_WINDOW: SimDuration = SimDuration::from_secs(1);

/// What faults can hit: the org's worker agents and its domains.
#[derive(Clone, Debug)]
pub struct Targets {
    pub workers: Vec<String>,
    pub domains: Vec<String>,
}

impl Targets {
    pub fn of(org: &Org) -> Targets {
        Targets {
            workers: (org.agents.iter())
                .filter(|a| a.domain.is_some())
                .map(|a| a.id.clone())
                .collect(),
            domains: org.domains.iter().map(|d| d.id.clone()).collect(),
        }
    }
}

/// The kinds a swarm draws from.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Kind {
    Crash,
    Slow,
    Error,
    Partition,
    QueueOutage,
    HeartbeatLoss,
}

const KINDS: [Kind; 6] = [
    Kind::Crash,
    Kind::Slow,
    Kind::Error,
    Kind::Partition,
    Kind::QueueOutage,
    Kind::HeartbeatLoss,
];

/// Seed `seed`'s fault schedule over a load of `duration`, in start order.
pub fn draw(seed: u64, targets: &Targets, duration: SimDuration) -> Vec<FaultSpec> {
    let mut rng = stream(seed, "explore/swarm");
    if targets.workers.is_empty() || duration <= MIN_WINDOW {
        return Vec::new();
    }
    let enabled = enabled_kinds(&mut rng);
    let wanted = rng.random_range(1..=MAX_FAULTS);
    let mut out: Vec<FaultSpec> = Vec::with_capacity(wanted);
    for _ in 0..wanted * 4 {
        if out.len() == wanted {
            break;
        }
        let kind = *enabled.choose(&mut rng).expect("at least one kind");
        let fault = fault(&mut rng, kind, targets, duration);
        if !out.iter().any(|f| f.conflicts_with(&fault)) {
            out.push(fault);
        }
    }
    out.sort_by_key(|f| f.at);
    out
}

/// Each kind is on with probability ½ (at least one is).
fn enabled_kinds(rng: &mut Stream) -> Vec<Kind> {
    let on: Vec<Kind> = KINDS.into_iter().filter(|_| rng.random_bool(0.5)).collect();
    if on.is_empty() {
        vec![*KINDS.choose(rng).expect("kinds")]
    } else {
        on
    }
}

fn fault(rng: &mut Stream, kind: Kind, targets: &Targets, duration: SimDuration) -> FaultSpec {
    let (at, window) = window(rng, duration);
    let target = target(rng, targets);
    let (kind, duration) = match kind {
        Kind::Crash if rng.random_bool(PERMANENT) => (FaultKind::Crash, None),
        Kind::Crash => (FaultKind::Crash, Some(window)),
        Kind::Slow => (
            FaultKind::Slow {
                factor: round_to(rng.random_range(1.5..20.0), 10.0),
            },
            Some(window),
        ),
        Kind::Error => (
            FaultKind::Error {
                rate: round_to(rng.random_range(0.01..=1.0), 100.0),
            },
            Some(window),
        ),
        Kind::Partition => (
            FaultKind::Partition {
                between: sides(rng, &targets.domains),
            },
            Some(window),
        ),
        Kind::QueueOutage => (FaultKind::QueueOutage, Some(window)),
        Kind::HeartbeatLoss => (FaultKind::HeartbeatLoss, Some(window)),
    };
    let target = match &kind {
        // As the scenario format reads a partition without a target.
        FaultKind::Partition { between } => FaultTarget::Id(between[0].clone()),
        _ => target,
    };
    FaultSpec {
        at,
        kind,
        target,
        duration,
    }
}

/// A start in the first 90 % of the load and a log-uniform length from
/// 1 s to half the load, cut to end before load stops; whole milliseconds.
fn window(rng: &mut Stream, duration: SimDuration) -> (SimDuration, SimDuration) {
    let ms = |d: SimDuration| d.as_nanos() / 1_000_000;
    let total = ms(duration);
    let at = rng.random_range(0..total * 9 / 10);
    let (lo, hi) = (
        ms(MIN_WINDOW) as f64,
        (total / 2).max(ms(MIN_WINDOW) + 1) as f64,
    );
    let len = (lo.ln() + rng.random::<f64>() * (hi.ln() - lo.ln())).exp() as u64;
    let len = len.clamp(ms(MIN_WINDOW), total - at);
    (SimDuration::from_millis(at), SimDuration::from_millis(len))
}

/// A worker (60 %), a whole domain (25 %) or `random:1..3` (15 %).
fn target(rng: &mut Stream, targets: &Targets) -> FaultTarget {
    let roll: f64 = rng.random();
    let pick = |rng: &mut Stream, ids: &[String]| ids.choose(rng).cloned();
    let id = if roll < 0.6 {
        pick(rng, &targets.workers)
    } else if roll < 0.85 {
        pick(rng, &targets.domains)
    } else {
        None
    };
    match id {
        Some(id) => FaultTarget::Id(id),
        None => FaultTarget::Random(rng.random_range(1..=3.min(targets.workers.len() as u32))),
    }
}

/// Two different places: domains or the orchestrator.
fn sides(rng: &mut Stream, domains: &[String]) -> [String; 2] {
    let mut places: Vec<String> = domains.to_vec();
    places.push("orchestrator".into());
    let picked: Vec<&String> = places.choose_multiple(rng, 2).collect();
    match picked.as_slice() {
        [a, b] => [(*a).clone(), (*b).clone()],
        _ => ["orchestrator".into(), places[0].clone()],
    }
}

fn round_to(x: f64, per_unit: f64) -> f64 {
    (x * per_unit).round() / per_unit
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::scenario::document::Document;

    fn targets() -> Targets {
        let (_, org) = crate::org::builtin().unwrap();
        Targets::of(&org)
    }

    #[test]
    fn schedules_are_valid_scenarios_and_heal_before_load_stops() {
        let targets = targets();
        let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("scenarios/baseline.toml");
        let mut doc = Document::load(&path, &["scenario.duration=10m".into()]).unwrap();
        let load = SimDuration::from_secs(600);
        let mut kinds = std::collections::BTreeSet::new();
        let mut permanent = 0;
        for seed in 0..200 {
            let faults = draw(seed, &targets, load);
            assert!((1..=MAX_FAULTS).contains(&faults.len()), "seed {seed}");
            for f in &faults {
                kinds.insert(f.kind.name());
                match f.end() {
                    Some(end) => assert!(end <= load, "seed {seed}: {}", f.describe()),
                    None => {
                        assert_eq!(f.kind, FaultKind::Crash);
                        permanent += 1;
                    }
                }
            }
            doc.set_faults(&faults);
            let s = doc
                .scenario("swarm.toml")
                .unwrap_or_else(|e| panic!("seed {seed}: {e}"));
            assert_eq!(s.faults, faults);
            crate::sim::Sim::build(&s).unwrap_or_else(|e| panic!("seed {seed}: {e}"));
        }
        assert_eq!(kinds.len(), 6, "{kinds:?}");
        assert!(permanent > 0);
    }

    #[test]
    fn a_seed_draws_the_same_schedule() {
        let targets = targets();
        let d = SimDuration::from_secs(600);
        assert_eq!(draw(7, &targets, d), draw(7, &targets, d));
        assert_ne!(draw(7, &targets, d), draw(8, &targets, d));
    }
}
