//! `[[fault]]` validation: kinds, kind-specific keys, targets, and the rule
//! that two faults of one kind on one target must not overlap in time.
//! Whether a target id exists is checked when the org is built.

use super::error::{suggestion_hint, Ctx, ScenarioError};
use super::model::{FaultKind, FaultSpec, FaultTarget};
use super::raw::RawFault;
use super::validate::{non_empty, only_keys, positive, positive_f64};
use super::MAX_HORIZON;
use crate::time::SimDuration;

type Result<T> = std::result::Result<T, ScenarioError>;

const KINDS: [&str; 6] = [
    "crash",
    "slow",
    "error",
    "partition",
    "queue-outage",
    "heartbeat-loss",
];
/// Most faults one scenario may schedule.
const MAX_FAULTS: usize = 10_000;

/// All `[[fault]]` entries, in file order.
pub(crate) fn faults(ctx: &Ctx<'_>, raw: &[RawFault]) -> Result<Vec<FaultSpec>> {
    if raw.len() > MAX_FAULTS {
        return Err(ctx.invalid(
            "fault",
            format!("{} faults; at most {MAX_FAULTS} are supported", raw.len()),
        ));
    }
    let specs = raw
        .iter()
        .enumerate()
        .map(|(i, f)| fault(ctx, &format!("fault[{i}]"), f))
        .collect::<Result<Vec<_>>>()?;
    check_overlaps(ctx, &specs)?;
    Ok(specs)
}

fn fault(ctx: &Ctx<'_>, path: &str, f: &RawFault) -> Result<FaultSpec> {
    let kind = kind(ctx, path, f)?;
    let key = format!("{path}.target");
    let target = match (&f.target, &kind) {
        (Some(t), _) => target(ctx, &key, t)?,
        (None, FaultKind::Partition { between }) => FaultTarget::Id(between[0].clone()),
        (None, _) => {
            return Err(ctx.missing(
                &key,
                "add target = \"L12\" (an agent or domain id) or target = \"random:2\"",
            ));
        }
    };
    let duration = match f.duration {
        Some(d) => Some(positive(ctx, &format!("{path}.duration"), d.0)?),
        None => None,
    };
    within_horizon(ctx, path, f.at.0, duration)?;
    Ok(FaultSpec {
        at: f.at.0,
        kind,
        target,
        duration,
    })
}

/// The fault kind with its kind-specific parameters; keys of other kinds are errors.
fn kind(ctx: &Ctx<'_>, path: &str, f: &RawFault) -> Result<FaultKind> {
    let allowed: &[&str] = match f.kind.as_str() {
        "slow" => &["factor"],
        "error" => &["rate"],
        "partition" => &["between"],
        k if KINDS.contains(&k) => &[],
        other => {
            let hint = suggestion_hint(other, &KINDS, "kinds");
            return Err(ctx.invalid(
                &format!("{path}.kind"),
                format!("unknown fault kind \"{other}\" — {hint}"),
            ));
        }
    };
    let present = [
        ("factor", f.factor.is_some()),
        ("rate", f.rate.is_some()),
        ("between", f.between.is_some()),
    ];
    only_keys(
        ctx,
        path,
        &present,
        allowed,
        &format!("kind = \"{}\"", f.kind),
    )?;
    let key = |k: &str| format!("{path}.{k}");
    Ok(match f.kind.as_str() {
        "crash" => FaultKind::Crash,
        "slow" => FaultKind::Slow {
            factor: positive_f64(
                ctx,
                &key("factor"),
                f.factor,
                "kind = \"slow\" needs factor (service-time multiplier, e.g. factor = 5.0)",
            )?,
        },
        "error" => FaultKind::Error {
            rate: f
                .rate
                .ok_or_else(|| {
                    ctx.missing(
                        &key("rate"),
                        "kind = \"error\" needs rate (failure probability, e.g. rate = \"20%\")",
                    )
                })?
                .0,
        },
        "partition" => FaultKind::Partition {
            between: between(ctx, &key("between"), f.between.as_deref())?,
        },
        "queue-outage" => FaultKind::QueueOutage,
        _ => FaultKind::HeartbeatLoss,
    })
}

/// A fault's window must end inside [`MAX_HORIZON`]; checked, so a late
/// `at` plus a long `duration` cannot saturate to "never".
fn within_horizon(
    ctx: &Ctx<'_>,
    path: &str,
    at: SimDuration,
    duration: Option<SimDuration>,
) -> Result<()> {
    let end = at
        .as_nanos()
        .checked_add(duration.map_or(0, |d| d.as_nanos()));
    match end {
        Some(end) if end <= MAX_HORIZON.as_nanos() => Ok(()),
        _ => Err(ctx.invalid(
            &format!("{path}.duration"),
            format!("the fault ends after 36525d (100 years), the longest simulated time esa-sim supports: at ({at}) + duration must fit in it; shorten at or duration"),
        )),
    }
}

/// The two sides of a partition: different places, each a domain id or the
/// orchestrator (written `"orchestrator"` or `"CEO"`, any case, and stored
/// as `"orchestrator"`). Whether a domain id exists is checked when the
/// org is built.
fn between(ctx: &Ctx<'_>, path: &str, ids: Option<&[String]>) -> Result<[String; 2]> {
    let help =
        "kind = \"partition\" needs between = two different ids, each a domain id or \"orchestrator\" (also written \"CEO\"), e.g. between = [\"D3\", \"orchestrator\"]";
    let ids = ids.ok_or_else(|| ctx.missing(path, help))?;
    let [a, b] = ids else {
        return Err(ctx.invalid(path, format!("{} entries; {help}", ids.len())));
    };
    if a.trim().is_empty() || b.trim().is_empty() {
        return Err(ctx.invalid(path, format!("an empty side; {help}")));
    }
    let (a, b) = (place(a), place(b));
    if a == b {
        return Err(ctx.invalid(
            path,
            format!("both sides are the same place (`{a}`): a partition cuts messages between two places; {help}"),
        ));
    }
    Ok([a, b])
}

/// The canonical name of a partition side.
fn place(id: &str) -> String {
    if is_orchestrator(id) {
        ORCHESTRATOR.to_string()
    } else {
        id.to_string()
    }
}

/// The orchestrator's partition-side name.
const ORCHESTRATOR: &str = "orchestrator";

/// `"orchestrator"` and `"CEO"` (any case) both name the orchestrator.
pub fn is_orchestrator(id: &str) -> bool {
    id.eq_ignore_ascii_case(ORCHESTRATOR) || id.eq_ignore_ascii_case("CEO")
}

/// `"L12"` → `Id`, `"random:3"` → `Random(3)`.
fn target(ctx: &Ctx<'_>, path: &str, t: &str) -> Result<FaultTarget> {
    let t = non_empty(ctx, path, t)?;
    let Some(n) = t.strip_prefix("random:") else {
        return Ok(FaultTarget::Id(t));
    };
    match n.trim().parse::<u32>() {
        Ok(n) if n >= 1 => Ok(FaultTarget::Random(n)),
        _ => Err(ctx.invalid(
            path,
            format!(
                "\"{t}\": write random:N with N a whole number from 1 to {}, e.g. \"random:2\"",
                u32::MAX
            ),
        )),
    }
}

/// Same kind on the same id target with intersecting windows is an error
/// (see [`FaultSpec::conflicts_with`]).
fn check_overlaps(ctx: &Ctx<'_>, specs: &[FaultSpec]) -> Result<()> {
    for (j, b) in specs.iter().enumerate() {
        for (i, a) in specs[..j].iter().enumerate() {
            if a.conflicts_with(b) {
                return Err(ctx.invalid(
                    &format!("fault[{j}].at"),
                    format!(
                        "overlapping faults: fault[{j}] ({}) overlaps fault[{i}] ({}) on the same target; make their windows disjoint or merge them into one fault",
                        b.describe(),
                        a.describe()
                    ),
                ));
            }
        }
    }
    Ok(())
}
