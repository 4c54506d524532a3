//! The serde-facing shapes of a scenario and an org file.
//!
//! Every struct denies unknown fields. Durations, rates and percentages are
//! read by newtypes whose serde "expected" text is the fix ("a duration
//! string like \"5s\""); integers are read as `i64` and range-checked in
//! `validate`, so negative, zero and huge values get one clear message.
//! Kind-specific keys (a dist's `cv`, a fault's `factor`) are all optional
//! here and checked against the chosen kind in `validate`. Deserialization
//! goes through `serde_path_to_error`, and [`to_error`] turns serde's message
//! into a [`ScenarioError`] with the key path and its line:col.

use super::error::{Ctx, ScenarioError};
use super::MAX_HORIZON;
use crate::time::{Rate, SimDuration};
use serde::de::{self, DeserializeOwned, Visitor};
use serde::{Deserialize, Deserializer};
use std::fmt;

/// A whole scenario file.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawScenario {
    pub scenario: Option<RawMeta>,
    pub org: Option<RawOrg>,
    pub load: Option<Vec<RawLoad>>,
    #[serde(default)]
    pub fault: Vec<RawFault>,
    pub realtime: Option<RawRealtime>,
    #[serde(default)]
    pub connections: Vec<RawConnections>,
    #[serde(default)]
    pub messages: Vec<RawMessages>,
    /// Kept as a table: keys are metric names or `domain.<ID>.<metric>`.
    pub slo: Option<toml::Table>,
    pub compare: Option<RawCompare>,
}

/// `[compare]`: settings for `esa-sim compare` and `run --baseline`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawCompare {
    /// Metric pattern → `"P%"`; kept as a table so dotted keys
    /// (`domain.D3.latency_p99 = "5%"`) nest and are flattened back.
    pub tolerance: Option<toml::Table>,
}

/// `[scenario]`
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawMeta {
    pub name: String,
    pub description: Option<String>,
    pub seed: Option<i64>,
    pub duration: RawDuration,
    pub warmup: Option<RawDuration>,
    pub drain: Option<RawDuration>,
    pub interval: Option<RawDuration>,
}

/// `[org]`
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawOrg {
    pub preset: String,
    pub hop_latency: Option<RawDuration>,
    pub plan_time: Option<RawDuration>,
    pub dispatch_time: Option<RawDuration>,
    pub heartbeat_interval: Option<RawDuration>,
    pub heartbeat_ttl: Option<RawDuration>,
    pub visibility_timeout: Option<RawDuration>,
    pub max_retries: Option<i64>,
    pub retry_backoff: Option<RawDuration>,
    pub fallback_domain: Option<String>,
    pub queue_capacity: Option<i64>,
    pub balancing: Option<RawBalancing>,
    pub defaults: Option<RawDefaults>,
    #[serde(default)]
    pub domain: Vec<RawDomain>,
    #[serde(default)]
    pub agent: Vec<RawAgent>,
}

/// `[org.balancing]`
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawBalancing {
    pub enabled: Option<bool>,
    pub interval: Option<RawDuration>,
    pub level4: Option<String>,
    pub level1_delay: Option<RawDuration>,
    pub level2_delay: Option<RawDuration>,
    pub level3_delay: Option<RawDuration>,
    pub level4_delay: Option<RawDuration>,
    pub moves: Option<i64>,
}

/// `[org.defaults]`
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawDefaults {
    pub slots: Option<i64>,
    pub service: Option<RawDist>,
    pub error_rate: Option<RawFraction>,
}

/// `[[org.domain]]` / `[[domain]]`
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawDomain {
    pub id: String,
    pub name: Option<String>,
    pub keywords: Option<Vec<String>>,
    pub reports_to: Option<Vec<String>>,
}

/// `[[org.agent]]` / `[[agent]]`
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawAgent {
    pub id: String,
    pub kind: Option<String>,
    pub name: Option<String>,
    pub domain: Option<String>,
    pub reports_to: Option<Vec<String>>,
    pub keywords: Option<Vec<String>>,
    pub slots: Option<i64>,
    pub service: Option<RawDist>,
    pub error_rate: Option<RawFraction>,
    pub after: Option<Vec<String>>,
    pub requires: Option<Vec<String>>,
    pub pool: Option<String>,
    pub critical: Option<bool>,
    pub skills: Option<Vec<String>>,
}

/// A service distribution; which keys apply depends on `dist`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawDist {
    pub dist: String,
    pub mean: Option<RawDuration>,
    pub value: Option<RawDuration>,
    pub cv: Option<f64>,
    pub min: Option<RawDuration>,
    pub max: Option<RawDuration>,
    pub k: Option<i64>,
}

/// `[[load]]`
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawLoad {
    pub name: Option<String>,
    pub arrival: RawArrival,
    pub tasks: Vec<RawTask>,
}

/// An arrival process; which keys apply depends on `process`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawArrival {
    pub process: String,
    pub rate: Option<RawRate>,
    pub from: Option<RawRate>,
    pub to: Option<RawRate>,
    pub over: Option<RawDuration>,
    pub base: Option<RawRate>,
    pub peak: Option<RawRate>,
    pub every: Option<RawDuration>,
    #[serde(rename = "for")]
    pub for_: Option<RawDuration>,
    pub file: Option<String>,
}

/// One entry of a load's `tasks`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawTask {
    pub text: String,
    pub weight: Option<i64>,
    pub priority: Option<String>,
}

/// `[[fault]]`; which keys apply depends on `kind`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawFault {
    pub at: RawDuration,
    pub kind: String,
    pub target: Option<String>,
    pub duration: Option<RawDuration>,
    pub factor: Option<f64>,
    pub rate: Option<RawFraction>,
    pub between: Option<Vec<String>>,
}

/// `[realtime]`: where D4's connections and messages go.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawRealtime {
    pub gateways: Option<String>,
    pub router: Option<String>,
    pub router_slots: Option<i64>,
    pub router_service: Option<RawDist>,
    pub max_connections: Option<i64>,
    pub max_pending: Option<i64>,
}

/// `[[connections]]`: `count` or `arrival`, plus session and reconnect.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawConnections {
    pub name: Option<String>,
    pub count: Option<i64>,
    pub ramp: Option<RawDuration>,
    pub arrival: Option<RawArrival>,
    pub session: Option<RawDist>,
    pub reconnect: Option<RawBackoff>,
}

/// A population's `reconnect` table.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawBackoff {
    pub initial: Option<RawDuration>,
    pub max: Option<RawDuration>,
    pub multiplier: Option<f64>,
    pub jitter: Option<RawFraction>,
}

/// `[[messages]]`: a stream of direct, group or broadcast messages.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawMessages {
    pub name: Option<String>,
    pub kind: String,
    pub arrival: RawArrival,
    pub group_size: Option<RawGroupSize>,
    pub ttl: Option<RawDuration>,
}

/// A group stream's `group_size = { min, max }`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawGroupSize {
    pub min: i64,
    pub max: i64,
}

/// A user org file: `name`, `description`, `[[domain]]`, `[[agent]]`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawOrgFile {
    pub name: String,
    pub description: Option<String>,
    #[serde(default)]
    pub domain: Vec<RawDomain>,
    #[serde(default)]
    pub agent: Vec<RawAgent>,
}

/// A duration string such as `"250ms"`.
#[derive(Clone, Copy, Debug, PartialEq)]
pub(crate) struct RawDuration(pub SimDuration);

/// A rate string such as `"1200/min"`.
#[derive(Clone, Copy, Debug, PartialEq)]
pub(crate) struct RawRate(pub Rate);

/// A percentage string (`"5%"`) or a fraction (`0.05`), checked to be in [0, 1].
#[derive(Clone, Copy, Debug, PartialEq)]
pub(crate) struct RawFraction(pub f64);

impl<'de> Deserialize<'de> for RawDuration {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl Visitor<'_> for V {
            type Value = RawDuration;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a duration string like \"5s\" (units ns, us, ms, s, m, h, d)")
            }
            fn visit_str<E: de::Error>(self, s: &str) -> Result<RawDuration, E> {
                let d: SimDuration = s.parse().map_err(E::custom)?;
                within_horizon(d, s).map(RawDuration).map_err(E::custom)
            }
        }
        d.deserialize_any(V)
    }
}

impl<'de> Deserialize<'de> for RawRate {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl Visitor<'_> for V {
            type Value = RawRate;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a rate string like \"1200/min\", \"20/s\" or \"30/h\"")
            }
            fn visit_str<E: de::Error>(self, s: &str) -> Result<RawRate, E> {
                s.parse().map(RawRate).map_err(E::custom)
            }
        }
        d.deserialize_any(V)
    }
}

impl<'de> Deserialize<'de> for RawFraction {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl Visitor<'_> for V {
            type Value = RawFraction;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a percentage like \"5%\" or a fraction like 0.05")
            }
            fn visit_str<E: de::Error>(self, s: &str) -> Result<RawFraction, E> {
                parse_fraction(s).map(RawFraction).map_err(E::custom)
            }
            fn visit_f64<E: de::Error>(self, v: f64) -> Result<RawFraction, E> {
                check_fraction(v, &v.to_string())
                    .map(RawFraction)
                    .map_err(E::custom)
            }
            fn visit_i64<E: de::Error>(self, v: i64) -> Result<RawFraction, E> {
                check_fraction(v as f64, &v.to_string())
                    .map(RawFraction)
                    .map_err(E::custom)
            }
            fn visit_u64<E: de::Error>(self, v: u64) -> Result<RawFraction, E> {
                check_fraction(v as f64, &v.to_string())
                    .map(RawFraction)
                    .map_err(E::custom)
            }
        }
        d.deserialize_any(V)
    }
}

/// Every scenario duration fits in [`MAX_HORIZON`], so sums of two of
/// them (a fault's end, the run's end) cannot saturate.
pub(crate) fn within_horizon(d: SimDuration, shown: &str) -> Result<SimDuration, String> {
    if d <= MAX_HORIZON {
        Ok(d)
    } else {
        Err(format!(
            "`{shown}` is longer than 36525d (100 years), the longest simulated time esa-sim supports; write a shorter duration"
        ))
    }
}

/// Reads `"99.9%"` (→ 0.999) or a plain fraction `"0.999"`; must be in [0, 1].
pub(crate) fn parse_fraction(s: &str) -> Result<f64, String> {
    let t = s.trim();
    let (num, scale) = match t.strip_suffix('%') {
        Some(n) => (n.trim(), 100.0),
        None => (t, 1.0),
    };
    let v: f64 = num
        .parse()
        .ok()
        .filter(|v: &f64| v.is_finite())
        .ok_or_else(|| format!("`{s}` is not a percentage like \"5%\" or a fraction like 0.05"))?;
    check_fraction(v / scale, s)
}

fn check_fraction(v: f64, shown: &str) -> Result<f64, String> {
    if v.is_finite() && (0.0..=1.0).contains(&v) {
        Ok(v)
    } else {
        Err(format!(
            "`{shown}` is out of range: write a percentage from \"0%\" to \"100%\" or a fraction from 0 to 1"
        ))
    }
}

/// Deserializes `T` from an (overridden) document, mapping serde's errors to
/// located [`ScenarioError`]s.
pub(crate) fn deserialize<T: DeserializeOwned>(
    doc: toml::Table,
    ctx: &Ctx<'_>,
) -> Result<T, ScenarioError> {
    serde_path_to_error::deserialize(toml::Value::Table(doc)).map_err(|e| {
        let path = path_string(e.path());
        to_error(&path, e.inner().message(), ctx)
    })
}

/// `load[0].arrival.rate` from serde_path_to_error's segments.
fn path_string(path: &serde_path_to_error::Path) -> String {
    use serde_path_to_error::Segment;
    let mut out = String::new();
    for seg in path.iter() {
        match seg {
            Segment::Seq { index } => out.push_str(&format!("[{index}]")),
            Segment::Map { key } => push_segment(&mut out, key),
            Segment::Enum { variant } => push_segment(&mut out, variant),
            Segment::Unknown => push_segment(&mut out, "?"),
        }
    }
    out
}

fn push_segment(out: &mut String, key: &str) {
    if !out.is_empty() {
        out.push('.');
    }
    out.push_str(key);
}

/// Classifies serde's message: unknown key, missing key, or a bad value.
fn to_error(path: &str, message: &str, ctx: &Ctx<'_>) -> ScenarioError {
    if let Some(rest) = message.strip_prefix("unknown field ") {
        let names = backticked(rest);
        let known: Vec<&str> = names.iter().skip(1).map(String::as_str).collect();
        return ctx.unknown_key(path, &known);
    }
    if let Some(rest) = message.strip_prefix("missing field ") {
        let key = backticked(rest).into_iter().next().unwrap_or_default();
        let key_path = super::span::join_key(path, &key);
        return ctx.missing(&key_path, missing_help(path, &key));
    }
    ctx.invalid(path, humanize(path, message))
}

/// The `` `quoted` `` words of a serde message, in order.
fn backticked(s: &str) -> Vec<String> {
    s.split('`')
        .skip(1)
        .step_by(2)
        .map(str::to_string)
        .collect()
}

/// How to add a missing required key.
fn missing_help(table: &str, key: &str) -> String {
    let example = match key {
        "name" => "name = \"my-scenario\"",
        "duration" => "duration = \"1h\"",
        "preset" => "preset = \"esa-105\" (or \"none\", or \"my-org.toml\")",
        "id" => "id = \"D1\"",
        "arrival" => "arrival = { process = \"poisson\", rate = \"60/min\" }",
        "tasks" => "tasks = [{ text = \"Run the nightly ETL batch pipeline\" }]",
        "text" => "text = \"Run the nightly ETL batch pipeline\"",
        "dist" => "dist = \"exp\" (or const, lognormal, uniform, erlang)",
        "process" => "process = \"poisson\" (or constant, ramp, burst, trace)",
        "at" => "at = \"10m\"",
        "kind" if table.starts_with("messages") => "kind = \"direct\" (or group, broadcast)",
        "kind" => "kind = \"crash\" (or slow, error, partition, queue-outage, heartbeat-loss)",
        _ => "",
    };
    let table = if table.is_empty() {
        "the top level".to_string()
    } else {
        format!("[{table}]")
    };
    if example.is_empty() {
        format!("add `{key}` to {table}")
    } else {
        format!("add {example} to {table}")
    }
}

/// Rewrites serde's type names into the words a scenario author uses.
fn humanize(path: &str, message: &str) -> String {
    let mut m = message
        .replace("invalid type: ", "wrong type: found ")
        .replace("invalid value: ", "out of range: ")
        .replace("expected i64", "expected a whole number")
        .replace("expected f64", "expected a number")
        .replace("expected a sequence", "expected a list")
        .replace("expected a map", "expected a table");
    if let Some(i) = m.find("expected struct ") {
        m.replace_range(i.., "expected a table");
    }
    if message.contains("map, expected a sequence") {
        let key = path.rsplit('.').next().unwrap_or(path);
        m.push_str(&format!(
            " — write [[{path}]] (an array of tables) or `{key} = [ ... ]`"
        ));
    } else if message.contains("expected a string") {
        m.push_str(" — put the value in double quotes");
    }
    m
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fractions() {
        assert_eq!(parse_fraction("5%"), Ok(0.05));
        assert_eq!(parse_fraction("0.25"), Ok(0.25));
        assert!(parse_fraction("150%").is_err());
        assert!(parse_fraction("-1%").is_err());
        assert!(parse_fraction("NaN").is_err());
        assert!(parse_fraction("lots").is_err());
    }

    #[test]
    fn serde_words_become_scenario_words() {
        let m = humanize(
            "scenario.seed",
            "invalid type: floating point `1.5`, expected i64",
        );
        assert_eq!(
            m,
            "wrong type: found floating point `1.5`, expected a whole number"
        );
        assert_eq!(
            backticked("`x`, expected one of `a`, `b`"),
            vec!["x", "a", "b"]
        );
    }
}
