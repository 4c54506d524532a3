//! `[realtime]`, `[[connections]]` and `[[messages]]` validation: the D4
//! model's client populations, reconnect backoff and message streams
//! (DESIGN.md §11). The pool names in `[realtime]` are checked against the
//! org when the simulation is built, as fault targets are.

use std::collections::BTreeSet;
use std::path::Path;

use super::error::{suggestion_hint, Ctx, ScenarioError};
use super::model::{
    Backoff, Clients, ConnectionsSpec, Dist, Fanout, InputFile, MessagesSpec, RealtimeSpec,
};
use super::raw::{RawBackoff, RawConnections, RawMessages, RawRealtime};
use super::validate::{at_most, dist, dur_or, int_in, non_empty, positive};
use crate::time::SimDuration;

type Result<T> = std::result::Result<T, ScenarioError>;

/// Most clients all count-based populations may hold together; each costs
/// a few dozen bytes of state.
const MAX_CLIENTS: i64 = 10_000_000;
/// Most populations or message streams a scenario may have.
const MAX_STREAMS: usize = 256;
/// Largest message group.
const MAX_GROUP: i64 = 100_000;
const KINDS: [&str; 3] = ["direct", "group", "broadcast"];

/// Everything a file says of the D4 model; `None` when it has no
/// `[[connections]]` (then `[realtime]` and `[[messages]]` are errors).
pub(crate) fn realtime(
    ctx: &Ctx<'_>,
    raw: Option<RawRealtime>,
    connections: &[RawConnections],
    messages: &[RawMessages],
    (base_dir, inputs): (&Path, &mut Vec<InputFile>),
) -> Result<Option<RealtimeSpec>> {
    if connections.is_empty() {
        return no_connections(ctx, raw.is_some(), messages.is_empty());
    }
    let raw = raw.unwrap_or(RawRealtime {
        gateways: None,
        router: None,
        router_slots: None,
        router_service: None,
        max_connections: None,
        max_pending: None,
    });
    let pool = |key: &str, v: Option<String>, default: &str| match v {
        Some(v) => non_empty(ctx, &format!("realtime.{key}"), &v),
        None => Ok(default.to_string()),
    };
    let router_service = match &raw.router_service {
        Some(d) => dist(ctx, "realtime.router_service", d)?,
        None => Dist::Exp {
            mean: SimDuration::from_millis(2),
        },
    };
    Ok(Some(RealtimeSpec {
        gateways: pool("gateways", raw.gateways, "L11")?,
        router: pool("router", raw.router, "L25")?,
        router_slots: int_in(
            ctx,
            "realtime.router_slots",
            raw.router_slots.unwrap_or(16),
            1,
            1_000_000,
        )? as u32,
        router_service,
        max_connections: int_in(
            ctx,
            "realtime.max_connections",
            raw.max_connections.unwrap_or(10_000),
            1,
            MAX_CLIENTS,
        )? as u32,
        max_pending: int_in(
            ctx,
            "realtime.max_pending",
            raw.max_pending.unwrap_or(1_000),
            0,
            1_000_000,
        )? as u32,
        populations: populations(ctx, connections, base_dir, inputs)?,
        streams: streams(ctx, messages, base_dir, inputs)?,
    }))
}

/// `[realtime]` or `[[messages]]` without a population to serve.
fn no_connections(
    ctx: &Ctx<'_>,
    has_realtime: bool,
    no_messages: bool,
) -> Result<Option<RealtimeSpec>> {
    let add = "add a population, e.g. [[connections]] with count = 10000";
    if !no_messages {
        return Err(ctx.invalid(
            "messages[0]",
            format!("messages are delivered to connected clients, but the scenario has no [[connections]]; {add}"),
        ));
    }
    if has_realtime {
        return Err(ctx.invalid(
            "realtime",
            format!("[realtime] sets up D4's gateways and router for client connections, but the scenario has no [[connections]]; {add}, or remove [realtime]"),
        ));
    }
    Ok(None)
}

fn populations(
    ctx: &Ctx<'_>,
    raw: &[RawConnections],
    base_dir: &Path,
    inputs: &mut Vec<InputFile>,
) -> Result<Vec<ConnectionsSpec>> {
    at_most(ctx, "connections", raw.len(), MAX_STREAMS)?;
    let mut names = Names::default();
    let mut total: i64 = 0;
    let mut out = Vec::with_capacity(raw.len());
    for (i, c) in raw.iter().enumerate() {
        let path = format!("connections[{i}]");
        let name = names.take(ctx, &path, c.name.as_deref(), "connections")?;
        let clients = clients(ctx, &path, c, base_dir, inputs)?;
        if let Clients::Count { count, .. } = clients {
            total += i64::from(count);
            if total > MAX_CLIENTS {
                return Err(ctx.invalid(
                    &format!("{path}.count"),
                    format!("the populations hold {total} clients together; at most {MAX_CLIENTS} are supported"),
                ));
            }
        }
        let session = match &c.session {
            Some(d) => Some(dist(ctx, &format!("{path}.session"), d)?),
            None => None,
        };
        if matches!(clients, Clients::Arrival(_)) && session.is_none() {
            return Err(ctx.missing(
                &format!("{path}.session"),
                "clients that arrive must also leave: add session = { dist = \"exp\", mean = \"10m\" } (how long one client stays)",
            ));
        }
        out.push(ConnectionsSpec {
            name,
            clients,
            session,
            reconnect: backoff(ctx, &format!("{path}.reconnect"), c.reconnect.as_ref())?,
        });
    }
    Ok(out)
}

/// `count` (with an optional `ramp`) or `arrival`, never both.
fn clients(
    ctx: &Ctx<'_>,
    path: &str,
    c: &RawConnections,
    base_dir: &Path,
    inputs: &mut Vec<InputFile>,
) -> Result<Clients> {
    match (c.count, &c.arrival) {
        (Some(_), Some(_)) => Err(ctx.invalid(
            &format!("{path}.arrival"),
            "`count` (a steady population) and `arrival` (clients that come and go) are two ways to make clients; keep one of them",
        )),
        (None, None) => Err(ctx.missing(
            &format!("{path}.count"),
            "add count = 10000 (clients connected all the time) or arrival = { process = \"poisson\", rate = \"5/s\" } with a session length",
        )),
        (Some(count), None) => Ok(Clients::Count {
            count: int_in(ctx, &format!("{path}.count"), count, 1, MAX_CLIENTS)? as u32,
            ramp: dur_or(c.ramp, SimDuration::ZERO),
        }),
        (None, Some(a)) => {
            if c.ramp.is_some() {
                return Err(ctx.invalid(
                    &format!("{path}.ramp"),
                    "`ramp` spreads the first connections of a `count` population; with `arrival` the process sets when clients come, so remove `ramp`",
                ));
            }
            let arrival = super::loads::arrival(ctx, &format!("{path}.arrival"), a, base_dir, inputs)?;
            Ok(Clients::Arrival(arrival))
        }
    }
}

/// A `reconnect` table; every key has a default (500ms, 10s, ×2, 50 %).
fn backoff(ctx: &Ctx<'_>, path: &str, raw: Option<&RawBackoff>) -> Result<Backoff> {
    let initial = raw.and_then(|b| b.initial);
    let initial = positive(
        ctx,
        &format!("{path}.initial"),
        dur_or(initial, SimDuration::from_millis(500)),
    )?;
    let max = dur_or(
        raw.and_then(|b| b.max),
        SimDuration::from_secs(10).max(initial),
    );
    if max < initial {
        return Err(ctx.invalid(
            &format!("{path}.max"),
            format!("max ({max}) is shorter than initial ({initial}); the backoff grows from initial up to max, so raise max"),
        ));
    }
    let multiplier = raw.and_then(|b| b.multiplier).unwrap_or(2.0);
    if !(multiplier.is_finite() && (1.0..=100.0).contains(&multiplier)) {
        return Err(ctx.invalid(
            &format!("{path}.multiplier"),
            format!("must be a number from 1 (a fixed delay) to 100, found {multiplier}"),
        ));
    }
    Ok(Backoff {
        initial,
        max,
        multiplier,
        jitter: raw.and_then(|b| b.jitter).map_or(0.5, |j| j.0),
    })
}

fn streams(
    ctx: &Ctx<'_>,
    raw: &[RawMessages],
    base_dir: &Path,
    inputs: &mut Vec<InputFile>,
) -> Result<Vec<MessagesSpec>> {
    at_most(ctx, "messages", raw.len(), MAX_STREAMS)?;
    let mut names = Names::default();
    let mut out = Vec::with_capacity(raw.len());
    for (i, m) in raw.iter().enumerate() {
        let path = format!("messages[{i}]");
        let name = names.take(ctx, &path, m.name.as_deref(), "messages")?;
        let fanout = fanout(ctx, &path, m)?;
        let arrival = super::loads::arrival(
            ctx,
            &format!("{path}.arrival"),
            &m.arrival,
            base_dir,
            inputs,
        )?;
        let ttl = dur_or(m.ttl, SimDuration::from_secs(30));
        out.push(MessagesSpec {
            name,
            arrival,
            fanout,
            ttl: positive(ctx, &format!("{path}.ttl"), ttl)?,
        });
    }
    Ok(out)
}

/// `kind`, and `group_size` for (and only for) a group stream.
fn fanout(ctx: &Ctx<'_>, path: &str, m: &RawMessages) -> Result<Fanout> {
    let key = format!("{path}.group_size");
    let fanout = match m.kind.as_str() {
        "direct" => Fanout::Direct,
        "broadcast" => Fanout::Broadcast,
        "group" => {
            let g = m.group_size.as_ref().ok_or_else(|| {
                ctx.missing(&key, "kind = \"group\" needs group_size = { min = 3, max = 20 } (recipients per message, drawn uniformly)")
            })?;
            let min = int_in(ctx, &format!("{key}.min"), g.min, 1, MAX_GROUP)? as u32;
            let max = int_in(ctx, &format!("{key}.max"), g.max, 1, MAX_GROUP)? as u32;
            if min > max {
                return Err(ctx.invalid(
                    &format!("{key}.min"),
                    format!("min ({min}) is greater than max ({max}); swap them"),
                ));
            }
            return Ok(Fanout::Group { min, max });
        }
        other => {
            let hint = suggestion_hint(other, &KINDS, "kinds");
            return Err(ctx.invalid(
                &format!("{path}.kind"),
                format!("unknown message kind \"{other}\" — {hint} (direct: one recipient; group: group_size recipients; broadcast: every client)"),
            ));
        }
    };
    if m.group_size.is_some() {
        return Err(ctx.invalid(
            &key,
            format!("`group_size` applies to kind = \"group\" only, not to kind = \"{}\"; remove it or change the kind", m.kind),
        ));
    }
    Ok(fanout)
}

/// Entry names, unique within their list (`<table><i>` when unnamed).
#[derive(Default)]
struct Names(BTreeSet<String>);

impl Names {
    fn take(
        &mut self,
        ctx: &Ctx<'_>,
        path: &str,
        given: Option<&str>,
        table: &str,
    ) -> Result<String> {
        let name = match given {
            Some(n) => non_empty(ctx, &format!("{path}.name"), n)?,
            None => format!("{table}{}", self.0.len()),
        };
        if !self.0.insert(name.clone()) {
            return Err(ctx.invalid(
                &format!("{path}.name"),
                format!("duplicate name \"{name}\"; give each [[{table}]] its own name"),
            ));
        }
        Ok(name)
    }
}
